"""Pictures: a device's coupling graph coloured by calibration, and result histograms.

matplotlib is optional (``pip install 'iqm-bridge[plot]'``) and imported only when a picture
is drawn. Square-lattice machines are drawn on their grid, which is recovered from the coupling
graph alone (every coupler becomes one unit step); machines with a computational resonator are
drawn as a star with the resonator in the centre.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from iqm_bridge.core.device import Device
from iqm_bridge.core.errors import ConfigurationError, MissingDependencyError
from iqm_bridge.core.optional import install_hint

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["METRICS", "device_layout", "plot_device", "plot_histogram"]

METRICS: Mapping[str, tuple[str, str]] = {
    "cz_fidelity": ("edge", "CZ fidelity"),
    "prx_fidelity": ("node", "PRX fidelity"),
    "readout_fidelity": ("node", "readout fidelity"),
    "t1": ("node", "T1 (µs)"),
    "t2": ("node", "T2 (µs)"),
}
"""Calibration metrics :func:`plot_device` can colour by: name -> (what is coloured, label)."""

_UNIT_STEPS = ((1, 0), (0, 1), (-1, 0), (0, -1))
_SEARCH_BUDGET = 20_000


def _pyplot() -> Any:
    """Import matplotlib's pyplot, or say which extra installs it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingDependencyError(
            "matplotlib is not installed, and iqm_bridge.visualization needs it: "
            f"{install_hint('plot')}"
        ) from exc
    return plt


def _adjacency(device: Device) -> dict[str, set[str]]:
    adj: dict[str, set[str]] = {c: set() for c in (*device.qubits, *device.resonators)}
    for a, b in device.coupling_edges:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    return adj


def _grid_embedding(adj: Mapping[str, set[str]]) -> dict[str, tuple[int, int]] | None:
    """Integer grid positions with every edge one unit step long, or ``None`` if none found.

    A depth-first search that always places the node with the most placed neighbours next,
    so the squares of a lattice close at once and a wrong turn fails early.
    """
    nodes = [n for n in adj if adj[n]]
    if not nodes:
        return None
    start = max(nodes, key=lambda n: (len(adj[n]), -nodes.index(n)))
    pos: dict[str, tuple[int, int]] = {start: (0, 0)}
    taken: dict[tuple[int, int], str] = {(0, 0): start}
    budget = [_SEARCH_BUDGET]

    def candidates(node: str) -> list[tuple[int, int]]:
        placed = [pos[m] for m in adj[node] if m in pos]
        x0, y0 = placed[0]
        options = []
        for dx, dy in _UNIT_STEPS:
            p = (x0 + dx, y0 + dy)
            if p in taken or any(abs(p[0] - q[0]) + abs(p[1] - q[1]) != 1 for q in placed):
                continue
            # prefer positions that make no unit step to a placed non-neighbour
            stray = sum(
                1
                for sx, sy in _UNIT_STEPS
                if (p[0] + sx, p[1] + sy) in taken
                and taken[(p[0] + sx, p[1] + sy)] not in adj[node]
            )
            options.append((stray, p))
        return [p for _, p in sorted(options)]

    def search() -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        frontier = [n for n in nodes if n not in pos and any(m in pos for m in adj[n])]
        if not frontier:
            return len(pos) == len(nodes)
        node = max(frontier, key=lambda n: sum(m in pos for m in adj[n]))
        for p in candidates(node):
            pos[node] = p
            taken[p] = node
            if search():
                return True
            del pos[node], taken[p]
        return False

    return pos if search() else None


def _orient(pos: dict[str, tuple[int, int]], order: list[str]) -> dict[str, tuple[float, float]]:
    """Of the grid's eight symmetries, pick the one that reads in the qubits' own order."""
    names = [n for n in order if n in pos]
    best: tuple[int, dict[str, tuple[float, float]]] | None = None
    for sx in (1, -1):
        for sy in (1, -1):
            for swap in (False, True):
                cand: dict[str, tuple[float, float]] = {}
                for n, (x, y) in pos.items():
                    a, b = (y, x) if swap else (x, y)
                    cand[n] = (float(sx * a), float(sy * b))
                # reading order: top row first (largest y), then left to right
                keys = [(-cand[n][1], cand[n][0]) for n in names]
                inversions = sum(
                    1
                    for i in range(len(keys))
                    for j in range(i + 1, len(keys))
                    if keys[i] > keys[j]
                )
                if best is None or inversions < best[0]:
                    best = (inversions, cand)
    assert best is not None  # eight candidates were scored
    out = best[1]
    x_min = min(x for x, _ in out.values())
    y_min = min(y for _, y in out.values())
    return {n: (x - x_min, y - y_min) for n, (x, y) in out.items()}


def _circle(
    names: list[str], radius: float, phase: float = math.pi / 2
) -> dict[str, tuple[float, float]]:
    k = len(names)
    return {
        n: (
            radius * math.cos(phase - 2 * math.pi * i / k),
            radius * math.sin(phase - 2 * math.pi * i / k),
        )
        for i, n in enumerate(names)
    }


def device_layout(device: Device) -> dict[str, tuple[float, float]]:
    """Drawing positions of a device's qubits and resonators.

    Machines with computational resonators become a star: the resonators in the centre, the
    qubits on a circle around them. Square lattices are drawn on their grid, recovered from the
    couplers (each coupler one unit step), turned so the qubits read in their own order from the
    top-left. Any other coupling graph is laid out in rings by distance from its best-connected
    qubit.

    Args:
        device: the device to draw.

    Returns:
        Component name -> ``(x, y)``.
    """
    adj = _adjacency(device)
    if device.resonators:
        pos = _circle(list(device.qubits), 1.0)
        k = len(device.resonators)
        for i, r in enumerate(device.resonators):
            pos[r] = (0.0, 0.0) if k == 1 else (0.35 * (i - (k - 1) / 2), 0.0)
        return pos
    grid = _grid_embedding(adj)
    if grid is not None:
        placed = _orient(grid, list(device.qubits))
        isolated = [q for q in device.qubits if q not in placed]
        if isolated:
            y0 = min((y for _, y in placed.values()), default=0.0) - 1.0
            placed.update({q: (float(i), y0) for i, q in enumerate(isolated)})
        return placed
    return _ring_layout(adj, list(device.qubits))


def _ring_layout(adj: Mapping[str, set[str]], order: list[str]) -> dict[str, tuple[float, float]]:
    """Rings by breadth-first distance from the best-connected qubit (a fallback)."""
    pos: dict[str, tuple[float, float]] = {}
    remaining = [n for n in order]
    ring_base = 0
    while remaining:
        root = max(remaining, key=lambda n: len(adj.get(n, ())))
        levels = [[root]]
        seen = {root}
        while True:
            nxt = sorted(
                {m for n in levels[-1] for m in adj.get(n, ()) if m not in seen},
                key=order.index,
            )
            if not nxt:
                break
            seen.update(nxt)
            levels.append(nxt)
        for depth, level in enumerate(levels):
            if depth == 0 and ring_base == 0:
                pos[level[0]] = (0.0, 0.0)
            else:
                pos.update(_circle(level, float(ring_base + depth)))
        ring_base += len(levels)
        remaining = [n for n in remaining if n not in seen]
    return pos


def _metric_values(device: Device, metric: str | None) -> tuple[str, str, dict[Any, float]]:
    if metric is None:
        return "none", "", {}
    if metric not in METRICS:
        raise ConfigurationError(
            f"unknown calibration metric {metric!r}; choose one of {', '.join(METRICS)} or None"
        )
    kind, label = METRICS[metric]
    cal = device.calibration
    if cal is None:
        return kind, label, {}
    raw: Mapping[Any, float] = getattr(cal, metric)
    scale = 1e6 if metric in {"t1", "t2"} else 1.0
    return kind, label, {k: float(v) * scale for k, v in raw.items()}


def plot_device(
    device: Device,
    metric: str | None = "cz_fidelity",
    ax: Axes | None = None,
    *,
    title: str | None = None,
    cmap: str = "viridis",
) -> Axes:
    """Draw a device's coupling graph, coloured by one calibration metric.

    Couplers (CZ, and MOVE to a resonator) are the lines; qubits are the circles, resonators
    the squares. ``cz_fidelity`` colours the lines; the per-qubit metrics colour the circles.
    Components without a figure (or a device without calibration) are drawn grey.

    Args:
        device: the device, e.g. ``Connection().device`` or one of the emulator's machines.
        metric: ``"cz_fidelity"``, ``"prx_fidelity"``, ``"readout_fidelity"``, ``"t1"``,
            ``"t2"`` (T1/T2 shown in µs), or ``None`` for no colouring.
        ax: matplotlib axes to draw into; a new figure is made when ``None``.
        title: the title (default: the device's name and the metric).
        cmap: matplotlib colour map name.

    Returns:
        The matplotlib axes drawn into.

    Raises:
        ConfigurationError: ``metric`` is not one of the names above.
        MissingDependencyError: matplotlib is not installed.
    """
    kind, label, values = _metric_values(device, metric)
    plt = _pyplot()
    from matplotlib import colors as mcolors
    from matplotlib.cm import ScalarMappable

    pos = device_layout(device)
    if ax is None:
        span_x = max(x for x, _ in pos.values()) - min(x for x, _ in pos.values())
        span_y = max(y for _, y in pos.values()) - min(y for _, y in pos.values())
        scale = 0.9 if max(span_x, span_y) > 3 else 2.2
        width = max(4.5, min(14.0, 1.6 + span_x * scale))
        height = max(3.8, min(12.0, 1.0 + span_y * scale))
        _, ax = plt.subplots(figsize=(width + (1.2 if kind != "none" else 0), height))
    assert ax is not None

    colour_map = plt.get_cmap(cmap)
    norm = None
    if values:
        lo, hi = min(values.values()), max(values.values())
        if math.isclose(lo, hi):
            lo, hi = lo - 0.5 * abs(lo or 1) * 1e-3, hi + 0.5 * abs(hi or 1) * 1e-3
        norm = mcolors.Normalize(vmin=lo, vmax=hi)
    missing = "#c8c8c8"

    def colour(value: float | None) -> Any:
        if value is None or norm is None:
            return missing
        return colour_map(norm(value))

    for a, b in device.coupling_edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        value = values.get(tuple(sorted((a, b)))) if kind == "edge" else None
        edge_colour = colour(value) if kind == "edge" else "#7a7a7a"
        ax.plot([xa, xb], [ya, yb], color=edge_colour, linewidth=5 if kind == "edge" else 2.5,
                solid_capstyle="round", zorder=1)  # fmt: skip

    n = len(pos)
    size = 900 if n <= 8 else 620 if n <= 24 else 380
    font = 8 if n <= 24 else 6
    qx = [pos[q][0] for q in device.qubits]
    qy = [pos[q][1] for q in device.qubits]
    node_colours = [colour(values.get(q)) if kind == "node" else "#f4f4f4" for q in device.qubits]
    ax.scatter(qx, qy, s=size, c=node_colours, edgecolors="#333333", linewidths=1.2, zorder=2)
    for q in device.qubits:
        text_colour = "#111111"
        if kind == "node" and q in values and norm is not None:
            r, g, b_, _ = colour_map(norm(values[q]))
            text_colour = "white" if 0.299 * r + 0.587 * g + 0.114 * b_ < 0.5 else "#111111"
        ax.annotate(q, pos[q], ha="center", va="center", fontsize=font, color=text_colour,
                    zorder=3)  # fmt: skip
    if device.resonators:
        rx = [pos[r][0] for r in device.resonators]
        ry = [pos[r][1] for r in device.resonators]
        ax.scatter(rx, ry, s=size * 2.2, marker="s", c="#f2c14e", edgecolors="#333333",
                   linewidths=1.2, zorder=2)  # fmt: skip
        for r in device.resonators:
            ax.annotate(r, pos[r], ha="center", va="center", fontsize=font + 1, zorder=3)

    if norm is not None:
        mappable = ScalarMappable(norm=norm, cmap=colour_map)
        mappable.set_array([])
        ax.figure.colorbar(mappable, ax=ax, label=label, shrink=0.8)
    ax.set_aspect("equal")
    ax.margins(0.12)
    ax.axis("off")
    if title is None:
        title = device.name
        if metric is not None:
            title += f": {label}" + ("" if values else " (no calibration data)")
    ax.set_title(title)
    return ax


def plot_histogram(
    counts: Mapping[Any, int],
    ax: Axes | None = None,
    top: int | None = None,
    *,
    title: str | None = None,
) -> Axes:
    """Draw a histogram of measurement counts (bitstring -> count).

    Args:
        counts: outcome -> count, e.g. qiskit's ``get_counts()``, cirq's ``histogram`` or
            :func:`iqm_bridge.core.keys.counts_from_bits`. Outcomes are shown as text.
        ax: matplotlib axes to draw into; a new figure is made when ``None``.
        top: show only the ``top`` most frequent outcomes (the rest summed as "other").
        title: the title (default: the number of shots).

    Returns:
        The matplotlib axes drawn into.

    Raises:
        ConfigurationError: ``top`` is not positive.
        MissingDependencyError: matplotlib is not installed.
    """
    if top is not None and top < 1:
        raise ConfigurationError(f"top={top} must be a positive number of outcomes")
    items = sorted(((str(k), int(v)) for k, v in counts.items()), key=lambda kv: kv[0])
    total = sum(v for _, v in items)
    if top is not None and len(items) > top:
        kept = sorted(items, key=lambda kv: (-kv[1], kv[0]))[:top]
        rest = total - sum(v for _, v in kept)
        items = sorted(kept, key=lambda kv: kv[0]) + [("other", rest)]
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, min(14.0, 1.0 + 0.45 * len(items))), 3.6))
    assert ax is not None
    labels = [k for k, _ in items]
    heights = [v for _, v in items]
    bars = ax.bar(range(len(items)), heights, color="#3b75af", edgecolor="#24496d")
    ax.set_xticks(range(len(items)), labels, rotation=90 if len(items) > 8 else 0,
                  fontfamily="monospace")  # fmt: skip
    ax.set_ylabel("counts")
    if len(items) <= 16:
        ax.bar_label(bars, fontsize=8)
    ax.set_title(title if title is not None else f"{total} shots")
    ax.spines[["top", "right"]].set_visible(False)
    return ax

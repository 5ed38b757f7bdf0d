"""Placement: which physical qubit each logical qubit starts on.

The physical side is a :class:`CouplingMap` (qubits joined by a calibrated ``cz``, the all-pairs
distances and, when the device serves calibration data, an error cost per qubit and per
coupler). Placement prefers, in order:

1. a *perfect* layout, where every interacting pair of logical qubits sits on a coupler
   (found by subgraph isomorphism with rustworkx's VF2), choosing among the candidates the one
   with the lowest calibration cost;
2. otherwise the best of a few SABRE layout trials (see :mod:`iqm_bridge.core.routing`),
   seeded by a calibration-aware greedy layout and random ones.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

import attrs
import rustworkx as rx

from iqm_bridge.core.device import Device
from iqm_bridge.core.errors import CircuitValidationError

__all__ = [
    "CouplingMap",
    "coupling_map",
    "greedy_layout",
    "layout_cost",
    "perfect_layout",
    "trivial_layout",
]

_DEFAULT_CZ_ERROR = 0.01
_DEFAULT_1Q_ERROR = 0.001
_DEFAULT_READOUT_ERROR = 0.02


@attrs.frozen(slots=True, eq=False)
class CouplingMap:
    """The qubits of a square-lattice device as the router sees them.

    Attributes:
        qubits: physical qubit names; index ``i`` in the other fields refers to ``qubits[i]``.
        neighbors: for each qubit, the qubits it shares a ``cz`` with.
        dist: all-pairs shortest-path distances (``len(qubits)`` when disconnected).
        edge_cost: ``(i, j)`` (both orders) -> ``-log`` of the CZ fidelity.
        qubit_cost: per qubit, ``-log`` of its single-qubit and readout fidelities.
        graph: the undirected rustworkx graph (node index = qubit index).
    """

    qubits: tuple[str, ...]
    neighbors: tuple[tuple[int, ...], ...]
    dist: tuple[tuple[int, ...], ...]
    edge_cost: Mapping[tuple[int, int], float]
    qubit_cost: tuple[float, ...]
    graph: rx.PyGraph

    @property
    def index(self) -> dict[str, int]:
        """Qubit name -> index."""
        return {q: i for i, q in enumerate(self.qubits)}


def _neglog(fid: float | None, default_err: float) -> float:
    if fid is None or not 0.0 < fid <= 1.0:
        return -math.log1p(-default_err)
    return -math.log(max(fid, 1e-9))


def _device_key(device: Device) -> tuple[object, ...]:
    return (device.name, device.qubits, device.coupling_edges, id(device.calibration))


_CACHE: dict[tuple[object, ...], CouplingMap] = {}


def coupling_map(device: Device) -> CouplingMap:
    """The coupling map of a device's qubits (cached per device layout and calibration).

    Only qubits with a calibrated ``prx`` (when the device lists ``prx`` at all) are used;
    resonators are left out (MOVE routing handles them).
    """
    key = _device_key(device)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    prx = device.loci("prx")
    qubits = tuple(q for q in device.qubits if not prx or (q,) in prx)
    index = {q: i for i, q in enumerate(qubits)}
    graph = rx.PyGraph()
    graph.add_nodes_from(range(len(qubits)))
    neighbors: list[set[int]] = [set() for _ in qubits]
    cal = device.calibration
    edge_cost: dict[tuple[int, int], float] = {}
    for locus in device.loci("cz"):
        if len(locus) != 2 or locus[0] not in index or locus[1] not in index:
            continue
        a, b = index[locus[0]], index[locus[1]]
        if b in neighbors[a]:
            continue
        neighbors[a].add(b)
        neighbors[b].add(a)
        graph.add_edge(a, b, None)
        fid = None
        if cal is not None:
            fid = cal.cz_fidelity.get(
                (locus[0], locus[1]), cal.cz_fidelity.get((locus[1], locus[0]))
            )
        cost = _neglog(fid, _DEFAULT_CZ_ERROR)
        edge_cost[(a, b)] = edge_cost[(b, a)] = cost
    qubit_cost = []
    for q in qubits:
        prx_f = cal.prx_fidelity.get(q) if cal is not None else None
        ro_f = cal.readout_fidelity.get(q) if cal is not None else None
        qubit_cost.append(_neglog(prx_f, _DEFAULT_1Q_ERROR) + _neglog(ro_f, _DEFAULT_READOUT_ERROR))
    n = len(qubits)
    dist: tuple[tuple[int, ...], ...] = ()
    if n:
        raw = rx.distance_matrix(graph, null_value=float(n))
        dist = tuple(tuple(int(x) for x in row) for row in raw.tolist())
    cmap = CouplingMap(
        qubits=qubits,
        neighbors=tuple(tuple(sorted(s)) for s in neighbors),
        dist=dist,
        edge_cost=edge_cost,
        qubit_cost=tuple(qubit_cost),
        graph=graph,
    )
    if len(_CACHE) > 32:
        _CACHE.clear()
    _CACHE[key] = cmap
    return cmap


def trivial_layout(num_logical: int, cmap: CouplingMap) -> list[int]:
    """Logical qubit ``i`` on physical qubit ``i`` (device order)."""
    if num_logical > len(cmap.qubits):
        raise CircuitValidationError(
            f"the circuit has {num_logical} qubits but the device has only "
            f"{len(cmap.qubits)} usable qubits; use a smaller circuit or a larger device"
        )
    return list(range(num_logical))


def _interaction_counts(pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
    counts: dict[tuple[int, int], int] = {}
    for a, b in pairs:
        key = (a, b) if a < b else (b, a)
        counts[key] = counts.get(key, 0) + 1
    return counts


def layout_cost(
    layout: Sequence[int],
    pairs: Sequence[tuple[int, int]],
    one_qubit_load: Sequence[int],
    cmap: CouplingMap,
) -> float:
    """Estimated ``-log`` success probability of a layout that needs no SWAP.

    Args:
        layout: logical index -> physical index.
        pairs: the logical qubit pairs of the two-qubit gates.
        one_qubit_load: per logical qubit, how many single-qubit ops and measurements it has.
        cmap: the coupling map.
    """
    return _cost(layout, _interaction_counts(pairs), one_qubit_load, cmap)


def _cost(
    layout: Sequence[int],
    counts: Mapping[tuple[int, int], int],
    one_qubit_load: Sequence[int],
    cmap: CouplingMap,
) -> float:
    edge_cost = cmap.edge_cost
    qubit_cost = cmap.qubit_cost
    cost = 0.0
    for (a, b), count in counts.items():
        cost += count * edge_cost.get((layout[a], layout[b]), 10.0)
    for q, load in enumerate(one_qubit_load):
        cost += (1 + 0.1 * load) * qubit_cost[layout[q]]
    return cost


def perfect_layout(
    num_logical: int,
    pairs: Sequence[tuple[int, int]],
    one_qubit_load: Sequence[int],
    cmap: CouplingMap,
    *,
    max_candidates: int = 256,
    call_limit: int = 200_000,
) -> list[int] | None:
    """A layout that puts every interacting pair on a coupler, or ``None`` if none was found.

    Among up to ``max_candidates`` subgraph isomorphisms, the one with the lowest
    :func:`layout_cost` wins. Idle logical qubits go to the best remaining qubits.
    """
    if num_logical > len(cmap.qubits):
        return None
    counts = _interaction_counts(pairs)
    if not counts:
        return None
    active = sorted({q for pair in counts for q in pair})
    local = {q: i for i, q in enumerate(active)}
    pattern = rx.PyGraph()
    pattern.add_nodes_from(range(len(active)))
    for a, b in counts:
        pattern.add_edge(local[a], local[b], None)
    if pattern.num_edges() > cmap.graph.num_edges() or not _colours_fit(pattern, cmap.graph):
        return None
    mappings = rx.vf2_mapping(
        cmap.graph, pattern, subgraph=True, induced=False, id_order=False, call_limit=call_limit
    )
    best: list[int] | None = None
    best_cost = math.inf
    try:
        for k, mapping in enumerate(mappings):
            if k >= max_candidates:
                break
            layout = [-1] * num_logical
            for phys, pat in mapping.items():
                layout[active[pat]] = phys
            _fill_idle(layout, cmap)
            cost = _cost(layout, counts, one_qubit_load, cmap)
            if cost < best_cost:
                best, best_cost = layout, cost
    except StopIteration:  # pragma: no cover - rustworkx ends iteration normally
        pass
    return best


def _colours_fit(pattern: rx.PyGraph, graph: rx.PyGraph) -> bool:
    """Whether a bipartite device could host the pattern, judged by two-colourings alone.

    On a bipartite device (a square lattice) every embedded edge joins the two colour
    classes, so a pattern with an odd cycle never fits and a connected pattern must fit its
    two classes into the device's. This settles, at once, cases where VF2 would search long
    and fail (a 20-qubit chain on a 9 + 11 lattice).
    """
    device_colours = rx.two_color(graph)
    if device_colours is None:
        return True
    pattern_colours = rx.two_color(pattern)
    if pattern_colours is None:
        return False
    if not rx.is_connected(pattern) or not rx.is_connected(graph):
        return True
    d1 = sum(device_colours.values())
    d0 = len(device_colours) - d1
    p1 = sum(pattern_colours.values())
    p0 = len(pattern_colours) - p1
    return (p0 <= d0 and p1 <= d1) or (p0 <= d1 and p1 <= d0)


def _fill_idle(layout: list[int], cmap: CouplingMap) -> None:
    used = {p for p in layout if p >= 0}
    free = sorted(
        (p for p in range(len(cmap.qubits)) if p not in used), key=lambda p: cmap.qubit_cost[p]
    )
    it = iter(free)
    for i, p in enumerate(layout):
        if p < 0:
            layout[i] = next(it)


def greedy_layout(
    num_logical: int,
    pairs: Sequence[tuple[int, int]],
    cmap: CouplingMap,
    rng: random.Random | None = None,
) -> list[int]:
    """A calibration-aware greedy layout: busy logical qubits on good, central physical ones.

    Logical qubits are taken in breadth-first order of the interaction graph from the busiest
    one; each goes to the free physical qubit that minimises the weighted distance to its
    already placed partners plus its error cost.
    """
    trivial_layout(num_logical, cmap)
    counts = _interaction_counts(pairs)
    weight: list[dict[int, int]] = [{} for _ in range(num_logical)]
    for (a, b), c in counts.items():
        weight[a][b] = c
        weight[b][a] = c
    degree = [sum(w.values()) for w in weight]
    order: list[int] = []
    seen: set[int] = set()
    for start in sorted(range(num_logical), key=lambda q: -degree[q]):
        if start in seen:
            continue
        seen.add(start)
        queue = [start]
        while queue:
            q = queue.pop(0)
            order.append(q)
            for nb in sorted(weight[q], key=lambda x: -weight[q][x]):
                if nb not in seen:
                    seen.add(nb)
                    queue.append(nb)
    n = len(cmap.qubits)
    dist = cmap.dist
    # physical "centrality": qubits with many neighbours and low error are good anchors
    anchor_score = [
        cmap.qubit_cost[p]
        + sum(cmap.edge_cost.get((p, nb), 1.0) for nb in cmap.neighbors[p])
        / max(len(cmap.neighbors[p]), 1)
        - 0.05 * len(cmap.neighbors[p])
        for p in range(n)
    ]
    layout = [-1] * num_logical
    free = set(range(n))
    for q in order:
        placed = [(layout[nb], w) for nb, w in weight[q].items() if layout[nb] >= 0]
        if not placed:
            candidates = sorted(free, key=lambda p: anchor_score[p])
            pick = candidates[0]
            if rng is not None and len(candidates) > 1 and rng.random() < 0.5:
                pick = candidates[rng.randrange(min(3, len(candidates)))]
        else:

            def score(p: int, placed: list[tuple[int, int]] = placed) -> float:
                s = 0.0
                for pp, w in placed:
                    d = dist[p][pp]
                    s += w * (d - 1) * 3.0 + (w * cmap.edge_cost.get((p, pp), 0.0))
                return s + cmap.qubit_cost[p]

            pick = min(free, key=score)
        layout[q] = pick
        free.discard(pick)
    return layout

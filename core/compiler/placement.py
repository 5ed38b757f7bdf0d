"""Placement: which physical qubit each logical qubit starts on.

The physical side is a :class:`CouplingMap` (qubits joined by a calibrated ``cz``, the all-pairs
distances and, when the device serves calibration data, an error cost per qubit and per
coupler). Placement prefers, in order:

1. a *perfect* layout, where every interacting pair of logical qubits sits on a coupler
   (found by subgraph isomorphism with rustworkx's VF2), choosing among the candidates the one
   with the lowest calibration cost;
2. otherwise the routing with the highest estimated success among those from *prefix*
   layouts (the longest opening of the circuit on couplers, :func:`prefix_layouts`) and from
   a few SABRE layout trials (see :mod:`iqm_bridge.core.compiler.routing`), seeded by a
   calibration-aware greedy layout and random ones.

Once the circuit is routed and optimised, :func:`remap_for_success` moves it, unchanged, onto
the embedding of its couplers with the highest estimated success probability.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

import attrs
import numpy as np
import rustworkx as rx

from iqm_bridge.core.compiler.coupling import CouplingMap
from iqm_bridge.core.compiler.dag import build_dag
from iqm_bridge.core.compiler.routing import SabreTrial, sabre_trial
from iqm_bridge.core.compiler.success import idle_cost, idle_times, qubit_errors
from iqm_bridge.core.device import Device
from iqm_bridge.core.errors import CircuitValidationError, QubitNotOnDeviceError
from iqm_bridge.core.ir import Barrier, Circuit, Conditional, Gate, Measure

__all__ = [
    "LATTICE_POLICY",
    "LatticePolicy",
    "given_layout",
    "greedy_layout",
    "layout_cost",
    "one_qubit_load",
    "perfect_layout",
    "place_lattice",
    "prefix_layouts",
    "remap_for_success",
    "star_layout",
    "trial_error",
    "trivial_layout",
]


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


def prefix_layouts(
    num_logical: int,
    pairs: Sequence[tuple[int, int]],
    one_qubit_load: Sequence[int],
    cmap: CouplingMap,
    *,
    keep: int = 3,
    max_candidates: int = 256,
    call_limit: int = 10_000,
) -> list[list[int]]:
    """Layouts that put the longest possible *opening* of the circuit on couplers.

    The distinct interacting pairs are taken in the order they first appear; a binary search
    finds the longest prefix of them that embeds in the coupling graph (by VF2), and the
    ``keep`` embeddings of it that leave the other pairs closest (then by
    :func:`layout_cost`) are returned. Routing from such a layout starts with nothing to do,
    which suits circuits that almost fit (a chain one qubit too long for a colour class, a
    ring on an odd cycle).
    """
    if num_logical > len(cmap.qubits) or not pairs:
        return []
    order: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    for a, b in pairs:
        key = (a, b) if a < b else (b, a)
        if key not in seen:
            seen.add(key)
            order.append(key)
    counts = _interaction_counts(pairs)

    def embeddings(k: int, limit: int) -> list[dict[int, int]]:
        edges = order[:k]
        active = sorted({q for e in edges for q in e})
        local = {q: i for i, q in enumerate(active)}
        pattern = rx.PyGraph()
        pattern.add_nodes_from(range(len(active)))
        for a, b in edges:
            pattern.add_edge(local[a], local[b], None)
        if not _colours_fit(pattern, cmap.graph):
            return []
        found = []
        mappings = rx.vf2_mapping(
            cmap.graph, pattern, subgraph=True, induced=False, id_order=False,
            call_limit=call_limit,
        )  # fmt: skip
        for mapping in mappings:
            found.append({active[pat]: phys for phys, pat in mapping.items()})
            if len(found) >= limit:
                break
        return found

    # the search only asks whether a prefix fits; the candidates come from the longest one
    lo, hi = 0, len(order)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if embeddings(mid, 1):
            lo = mid
        else:
            hi = mid - 1
    if lo == 0 or lo == len(order):
        return []  # nothing fits, or everything does (the perfect layout's case)
    best = embeddings(lo, max_candidates)
    scored = []
    for mapping in best:
        layout = [mapping.get(q, -1) for q in range(num_logical)]
        _fill_near(layout, counts, cmap)
        excess = sum(c * (cmap.dist[layout[a]][layout[b]] - 1) for (a, b), c in counts.items())
        scored.append(((excess, _cost(layout, counts, one_qubit_load, cmap)), layout))
    scored.sort(key=lambda item: item[0])
    return [layout for _, layout in scored[:keep]]


def _fill_near(layout: list[int], counts: Mapping[tuple[int, int], int], cmap: CouplingMap) -> None:
    """Place unplaced logical qubits next to their placed partners (else on good qubits)."""
    used = {p for p in layout if p >= 0}
    partners: dict[int, list[int]] = {}
    for a, b in counts:
        partners.setdefault(a, []).append(b)
        partners.setdefault(b, []).append(a)
    for q, p in enumerate(layout):
        if p >= 0:
            continue
        free = [x for x in range(len(cmap.qubits)) if x not in used]
        near = [layout[o] for o in partners.get(q, ()) if layout[o] >= 0]
        pick = min(
            free,
            key=lambda x: (sum(cmap.dist[x][o] for o in near), cmap.qubit_cost[x]),
        )
        layout[q] = pick
        used.add(pick)


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


# ---------------------------------------------------------------------------------------------
# the placement policy of each optimisation level


@attrs.frozen(slots=True)
class LatticePolicy:
    """How hard placement tries on a square lattice at one optimisation level.

    Attributes:
        search: look for a perfect layout and run layout trials (else: trivial layout).
        trials: SABRE layout trials.
        iterations: forward-backward refinements per trial.
        budget_gates: per trial, gates the SABRE passes may visit; small circuits get more
            trials (up to ``max_trials``) within ``trials * budget_gates``. 0: no extra trials.
        max_trials: the cap on trials that the budget may grant.
        routing_trials: extra routings of the chosen layout with other tie-breaks.
    """

    search: bool
    trials: int = 0
    iterations: int = 0
    budget_gates: int = 0
    max_trials: int = 30
    routing_trials: int = 0


LATTICE_POLICY: dict[int, LatticePolicy] = {
    0: LatticePolicy(search=False),
    1: LatticePolicy(search=False),
    2: LatticePolicy(search=True, trials=4, iterations=1),
    3: LatticePolicy(search=True, trials=6, iterations=1, budget_gates=600, routing_trials=4),
}
"""Placement effort per optimisation level (see :func:`place_lattice`)."""


def given_layout(
    circuit: Circuit, layout: Mapping[str, str] | Sequence[str], device: Device
) -> dict[str, str]:
    """A user's initial layout, checked: every circuit qubit on its own device qubit.

    Args:
        circuit: the circuit being placed.
        layout: logical -> physical, or physical names in ``circuit.qubits`` order.
        device: the target device.

    Raises:
        CircuitValidationError: a qubit left out, or two on one physical qubit.
        QubitNotOnDeviceError: a physical name the device does not have.
    """
    if isinstance(layout, Mapping):
        given = dict(layout)
    else:
        if len(layout) != len(circuit.qubits):
            raise CircuitValidationError(
                f"initial_layout lists {len(layout)} physical qubits for a circuit of "
                f"{len(circuit.qubits)}; give one per circuit qubit, in circuit order"
            )
        given = dict(zip(circuit.qubits, layout, strict=True))
    missing = [q for q in circuit.qubits if q not in given]
    if missing:
        raise CircuitValidationError(
            f"initial_layout does not place circuit qubit(s) {missing}; map every qubit"
        )
    for q, p in given.items():
        if p not in device.qubits:
            raise QubitNotOnDeviceError(
                f"initial_layout puts {q!r} on {p!r}, which is not a qubit of {device.name}"
            )
    if len(set(given.values())) != len(given):
        raise CircuitValidationError("initial_layout maps two circuit qubits to one physical qubit")
    return given


def star_layout(circuit: Circuit, device: Device, level: int) -> dict[str, str]:
    """Logical -> physical on a resonator star: the busiest qubits on the best-calibrated.

    Below level 2 the qubits take the resonator-coupled qubits in device order.

    Raises:
        CircuitValidationError: more circuit qubits than qubits coupled to a resonator.
    """
    capable = [
        q
        for q in device.qubits
        if any(
            (q, cr) in device.loci("cz") or (q, cr) in device.loci("move")
            for cr in device.resonators
        )
    ]
    if len(circuit.qubits) > len(capable):
        raise CircuitValidationError(
            f"the circuit has {len(circuit.qubits)} qubits but {device.name} has only "
            f"{len(capable)} qubits coupled to a resonator"
        )
    if level < 2:
        return dict(zip(circuit.qubits, capable, strict=False))
    cal = device.calibration
    move_ok = {q for q in capable for cr in device.resonators if (q, cr) in device.loci("move")}

    def quality(p: str) -> tuple[int, float]:
        err = 0.0
        if cal is not None:
            err += 1.0 - cal.prx_fidelity.get(p, 0.999)
            err += 1.0 - cal.readout_fidelity.get(p, 0.98)
            for cr in device.resonators:
                err += 1.0 - cal.cz_fidelity.get((p, cr), cal.cz_fidelity.get((cr, p), 0.99))
        return (0 if p in move_ok else 1, err)

    busy: dict[str, int] = dict.fromkeys(circuit.qubits, 0)
    for op in circuit.operations:
        if isinstance(op, Gate) and len(op.qubits) == 2:
            for q in op.qubits:
                busy[q] += 1
    logical = sorted(circuit.qubits, key=lambda q: -busy[q])
    physical = sorted(capable, key=quality)
    return dict(zip(logical, physical, strict=False))


def one_qubit_load(circuit: Circuit) -> list[int]:
    """Per circuit qubit, how many single-qubit operations (and measurements) act on it."""
    index = {q: i for i, q in enumerate(circuit.qubits)}
    load = [0] * len(circuit.qubits)
    for op in circuit.operations:
        if len(op.qubits) == 1:
            load[index[op.qubits[0]]] += 1
    return load


def trial_error(trial: SabreTrial, num_logical: int, cmap: CouplingMap) -> float:
    """``-log`` of a routing trial's estimated success: its CZ gates on their couplers, and
    each circuit qubit's single-qubit and readout error where it ends (it is measured there).
    """
    end = trial.end_layout
    return trial.error + sum(cmap.qubit_cost[end[q]] for q in range(num_logical))


def place_lattice(
    lowered: Circuit, cmap: CouplingMap, level: int, seed: int | None
) -> tuple[SabreTrial, str]:
    """The chosen routing (initial layout and recorded schedule) and the strategy's name.

    With a search policy (level 2 and up): a perfect layout when one exists; else routings
    from the layouts that fit the circuit's opening (:func:`prefix_layouts`) and from SABRE
    layout trials, and re-routings of the best layouts with other tie-breaks. The routing
    with the highest estimated success probability wins (:func:`trial_error`: every CZ on
    its coupler, readout where each qubit ends), so a layout on good couplers beats one with
    a CZ fewer on bad ones.
    """
    policy = LATTICE_POLICY[min(level, 3)]
    qindex = {q: i for i, q in enumerate(lowered.qubits)}
    dag = build_dag(lowered.operations, qindex)
    n = len(lowered.qubits)
    rng = random.Random(seed)
    if not policy.search:
        return sabre_trial(dag, trivial_layout(n, cmap), cmap, rng, iterations=0), "trivial"
    load = one_qubit_load(lowered)
    perfect = perfect_layout(n, dag.pairs, load, cmap)
    if perfect is not None:
        return sabre_trial(dag, perfect, cmap, rng, iterations=0), "perfect"
    num_gates = len(dag.pairs)
    # small circuits get more trials: the budget counts the gates that the SABRE passes
    # visit, which is what their time is proportional to
    trials = policy.trials
    budget = trials * policy.budget_gates
    per_trial = max(1, num_gates * (2 * policy.iterations + 1))
    trials = max(trials, min(policy.max_trials, budget // per_trial))
    scored: list[tuple[float, int, SabreTrial]] = []

    def consider(trial: SabreTrial) -> None:
        if any(trial.layout == other.layout for _, _, other in scored):
            return
        scored.append((trial_error(trial, n, cmap), len(scored), trial))

    for init in prefix_layouts(n, dag.pairs, load, cmap):
        consider(sabre_trial(dag, init, cmap, rng, iterations=0))
    for t in range(trials):
        if t == 0:
            init = greedy_layout(n, dag.pairs, cmap)
        elif t % 2 == 1:
            init = greedy_layout(n, dag.pairs, cmap, rng)
        else:
            perm = list(range(len(cmap.qubits)))
            rng.shuffle(perm)
            init = perm[:n]
        consider(sabre_trial(dag, init, cmap, rng, iterations=policy.iterations))
    scored.sort(key=lambda item: item[:2])
    best_error, _, best = scored[0]
    # re-route the best layouts with other tie-breaks (a routing depends on them as much as
    # on the layout)
    leaders = [trial for _, _, trial in scored[: max(1, min(2, policy.routing_trials))]]
    for k in range(policy.routing_trials):
        other = sabre_trial(dag, leaders[k % len(leaders)].layout, cmap, rng, iterations=0)
        err = trial_error(other, n, cmap)
        if err < best_error:
            best, best_error = other, err
    return best, "sabre"


def remap_for_success(
    circuit: Circuit,
    device: Device,
    cmap: CouplingMap,
    *,
    max_candidates: int = 400,
    call_limit: int = 10_000,
) -> dict[str, str] | None:
    """A relabelling of a routed circuit's physical qubits with a higher success estimate.

    The CZ couplers the circuit uses form a pattern; every embedding of that pattern in the
    coupling graph (rustworkx's VF2, up to ``max_candidates``) runs the same circuit on other
    qubits. Each is scored by the exact ``-log`` success estimate of
    :func:`~iqm_bridge.core.compiler.success.log_success` (CZ per coupler, single-qubit gates
    and readout per qubit, idling per qubit's T1/T2: the schedule does not change under a
    relabelling); qubits without CZ then take the best free qubits. Returns ``None`` when no
    embedding beats the circuit as it is.
    """
    cz_pairs: dict[tuple[str, str], int] = {}
    one: dict[str, int] = {}
    reads: dict[str, int] = {}
    needs: dict[str, set[str]] = {}
    for op in circuit.operations:
        gate = op.gate if isinstance(op, Conditional) else op
        if isinstance(gate, Gate) and len(op.qubits) == 2:
            if gate.name != "cz":
                return None
            a, b = op.qubits
            key = (a, b) if a < b else (b, a)
            cz_pairs[key] = cz_pairs.get(key, 0) + 1
        elif isinstance(gate, Gate):
            q = op.qubits[0]
            one[q] = one.get(q, 0) + 1
            needs.setdefault(q, set()).add("cc_prx" if isinstance(op, Conditional) else "prx")
        elif isinstance(op, Measure):
            for q in op.qubits:
                reads[q] = reads.get(q, 0) + 1
                needs.setdefault(q, set()).add("measure")
        elif not isinstance(op, Barrier):
            return None  # resets and delays stay where the user's circuit put them
    if not cz_pairs:
        return None
    index = cmap.index
    every = set(circuit.qubits) | {q for op in circuit.operations for q in op.qubits}
    if any(q not in index for q in every):
        return None
    used = sorted(every, key=lambda q: index[q])
    idle = idle_times(circuit, device)
    nphys = len(cmap.qubits)
    errors = [qubit_errors(device, p) for p in cmap.qubits]
    supported = [
        {name for name in ("prx", "cc_prx", "measure") if (p,) in device.loci(name)}
        for p in cmap.qubits
    ]

    def node_cost(q: str, p: int) -> float:
        if not needs.get(q, set()) <= supported[p]:
            return math.inf
        prx_err, ro_err = errors[p]
        cost = one.get(q, 0) * prx_err + reads.get(q, 0) * ro_err
        seconds = idle.get(q, 0.0)
        if seconds:
            cost += idle_cost(device, cmap.qubits[p], seconds)
        return cost

    table = {q: [node_cost(q, p) for p in range(nphys)] for q in used}
    active = sorted({q for pair in cz_pairs for q in pair}, key=lambda q: index[q])
    loose = [q for q in used if q not in set(active)]
    local = {q: i for i, q in enumerate(active)}
    pattern = rx.PyGraph()
    pattern.add_nodes_from(range(len(active)))
    for a, b in cz_pairs:
        pattern.add_edge(local[a], local[b], None)
    # the scores of many embeddings at once: a dense coupler-cost matrix and a node-cost
    # matrix, indexed by the candidate assignments
    coupler = np.full((nphys, nphys), np.inf)
    for (i, j), c in cmap.edge_cost.items():
        coupler[i, j] = c
    node = np.array([table[q] for q in active])
    ei = np.array([local[a] for a, _ in cz_pairs], dtype=np.intp)
    ej = np.array([local[b] for _, b in cz_pairs], dtype=np.intp)
    counts = np.array(list(cz_pairs.values()), dtype=np.float64)
    rows = np.arange(len(active))

    def loose_cost(assign: Sequence[int]) -> tuple[float, list[int]]:
        taken = set(assign)
        extra: list[int] = []
        cost = 0.0
        for q in loose:
            row = table[q]
            p = min((p for p in range(nphys) if p not in taken), key=row.__getitem__)
            taken.add(p)
            extra.append(p)
            cost += row[p]
        return cost, extra

    current = [index[q] for q in active]
    candidates = [current]
    mappings = rx.vf2_mapping(
        cmap.graph, pattern, subgraph=True, induced=False, id_order=False, call_limit=call_limit
    )
    for k, mapping in enumerate(mappings):
        if k >= max_candidates:
            break
        assign = [0] * len(active)
        for phys, pat in mapping.items():
            assign[pat] = phys
        candidates.append(assign)
    grid = np.array(candidates, dtype=np.intp)
    scores = (coupler[grid[:, ei], grid[:, ej]] @ counts) + node[rows, grid].sum(axis=1)
    here = float(scores[0]) + loose_cost(current)[0]
    best_cost, best, best_extra = here, current, []
    # qubits without CZ take the best free qubits: settle them for the leading few only
    for k in np.argsort(scores, kind="stable")[:4]:
        assign = [int(x) for x in grid[k]]
        extra_cost, extra = loose_cost(assign)
        cost = float(scores[k]) + extra_cost
        if cost < best_cost - 1e-12:
            best_cost, best, best_extra = cost, assign, extra
    if best_cost >= here - 1e-12:
        return None
    out = {q: cmap.qubits[p] for q, p in zip(active, best, strict=True)}
    out.update({q: cmap.qubits[p] for q, p in zip(loose, best_extra, strict=True)})
    return out

"""Routing: make every two-qubit gate act on coupled physical components.

Two strategies, chosen by the device:

* **SWAP routing** for square lattices (:func:`route_swaps`): a SABRE-style heuristic. The
  router keeps the *front layer* of two-qubit gates whose predecessors are done, executes the
  ones on coupled qubits, and otherwise inserts the SWAP that most reduces the distance of the
  front layer plus a discounted look-ahead set, with a decay that spreads SWAPs over qubits.
  A SWAP that costs fewer than 3 CZ gets a bonus per CZ it saves: right after a gate on its
  own pair it merges into that gate (1 CZ), with one qubit still in ``|0>`` it only moves
  the other's state (2 CZ), and between two qubits in ``|0>`` it is a relabelling (0 CZ).
  :func:`sabre_trial` improves an initial layout by routing forwards, backwards and forwards
  again (the final layout of one pass seeds the next) and records the last pass, so
  :func:`route_swaps` can emit exactly the routing a trial was ranked by.
* **MOVE routing** for resonator (star) devices (:func:`route_moves`): ``cz(a, b)`` becomes
  ``move(b, CR) cz(a, CR) move(b, CR)``; a state stays in the resonator while the following
  two-qubit gates keep using it, so consecutive gates sharing a qubit need one MOVE pair.

Both return the routed circuit on physical names, the initial and final layouts, and counts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import attrs

from iqm_bridge.core.compiler.coupling import CouplingMap
from iqm_bridge.core.compiler.dag import CircuitDag, build_dag
from iqm_bridge.core.compiler.lowering import lower_gate
from iqm_bridge.core.device import Device
from iqm_bridge.core.errors import LocusNotSupportedError, UnsupportedOperationError
from iqm_bridge.core.ir import (
    Circuit,
    Gate,
    Operation,
    relabel,
)

__all__ = [
    "RoutingResult",
    "SabreTrial",
    "route_moves",
    "route_swaps",
    "sabre_layout",
    "sabre_pass",
    "sabre_trial",
]

_EXTENDED_SIZE = 20
_EXTENDED_WEIGHT = 0.5
_DECAY_STEP = 0.001
_DECAY_RESET = 5
_CHEAP_BONUS = 0.05


@attrs.frozen(slots=True)
class RoutingResult:
    """What a routing pass produced.

    Attributes:
        circuit: the routed circuit on physical component names.
        initial_layout: logical qubit -> physical qubit at the start.
        final_layout: logical qubit -> physical qubit at the end.
        swaps: number of SWAPs inserted.
        moves: number of MOVE gates inserted.
    """

    circuit: Circuit
    initial_layout: dict[str, str]
    final_layout: dict[str, str]
    swaps: int = 0
    moves: int = 0


# ---------------------------------------------------------------------------------------------
# SABRE on the two-qubit DAG


def sabre_pass(
    pairs: Sequence[tuple[int, int]],
    preds: Sequence[Sequence[int]],
    succs: Sequence[Sequence[int]],
    layout: Sequence[int],
    cmap: CouplingMap,
    rng: random.Random,
    *,
    record: bool = False,
) -> tuple[list[int], int, list[tuple[int, int, int]]]:
    """Route the two-qubit gates ``pairs`` (logical indices) from ``layout`` by SWAP insertion.

    Args:
        pairs: logical qubit pairs of the two-qubit gates.
        preds: per gate, the gates it waits for.
        succs: per gate, the gates waiting for it.
        layout: logical -> physical at the start.
        cmap: the coupling map.
        rng: breaks ties between equally good SWAPs.
        record: also return the schedule of events.

    Returns:
        ``(final layout, number of swaps, events)`` where an event is ``(0, gate, 0)`` for an
        executed gate and ``(1, p, q)`` for a SWAP of physical qubits ``p`` and ``q``.
    """
    l2p, swaps, _, _, events = _sabre_pass(pairs, preds, succs, layout, cmap, rng, record)
    return l2p, swaps, events


def _sabre_pass(
    pairs: Sequence[tuple[int, int]],
    preds: Sequence[Sequence[int]],
    succs: Sequence[Sequence[int]],
    layout: Sequence[int],
    cmap: CouplingMap,
    rng: random.Random,
    record: bool,
    reverse: bool = False,
) -> tuple[list[int], int, int, float, list[tuple[int, int, int]]]:
    """:func:`sabre_pass`, also returning the CZ the SWAPs cost once emitted.

    A SWAP costs 3 CZ, but less in three cases the router steers towards (see
    :func:`route_swaps`, which emits them): 0 when both qubits still hold ``|0>`` (nothing
    has acted on either state yet: the SWAP is a relabelling), 2 when one of them does (the
    state moves with two CZ), 1 when it directly follows a gate on its pair (it merges into
    it). Idle physical qubits hold ``|0>`` until a state moves in. A ``reverse`` pass (over
    the reversed dependencies, for layout refinement) ignores the ``|0>`` discounts, which
    only hold forwards.

    Returns:
        ``(final layout, swaps, CZ of the swaps, error, events)``, where ``error`` sums the
        ``-log`` fidelity of every CZ the routing implies (gates and SWAPs) on its coupler.
    """
    dist = cmap.dist
    neighbors = cmap.neighbors
    edge_cost = cmap.edge_cost
    nphys = len(cmap.qubits)
    l2p = list(layout)
    p2l = [-1] * nphys
    for lq, p in enumerate(l2p):
        p2l[p] = lq
    error = 0.0
    # per logical qubit: its state is still |0> (no two-qubit gate has acted on it)
    fresh = [not reverse] * max(len(l2p), nphys)
    indeg = [len(p) for p in preds]
    front = [g for g, d in enumerate(indeg) if d == 0]
    decay = [1.0] * nphys
    events: list[tuple[int, int, int]] = []
    swaps = 0
    swap_cz = 0
    # per physical qubit: the gate it last executed, while no SWAP has touched it since
    last_gate = [-1] * nphys
    swaps_since_exec = 0
    max_stall = 3 * nphys + 10
    f_by_q: dict[int, list[int]] | None = None
    e_by_q: dict[int, list[int]] = {}
    f_pairs: list[tuple[int, int]] = []
    e_pairs: list[tuple[int, int]] = []
    f_weight = e_weight = 0.0
    # mark[g] == stamp: gate g is already in the current front or extended set
    mark = [0] * len(pairs)
    stamp = 0
    while front:
        # execute everything that is adjacent now
        progressed = True
        while progressed:
            progressed = False
            still: list[int] = []
            for g in front:
                a, b = pairs[g]
                pa, pb = l2p[a], l2p[b]
                if dist[pa][pb] == 1:
                    progressed = True
                    last_gate[pa] = last_gate[pb] = g
                    fresh[a] = fresh[b] = False
                    error += edge_cost[(pa, pb)]
                    if record:
                        events.append((0, g, 0))
                    for s in succs[g]:
                        indeg[s] -= 1
                        if indeg[s] == 0:
                            still.append(s)
                else:
                    still.append(g)
            if progressed:
                front = still
                f_by_q = None
                decay = [1.0] * nphys
                swaps_since_exec = 0
        if not front:
            break
        if swaps_since_exec > max_stall:
            # release valve: walk the closest gate's qubits together along a shortest path
            g = min(front, key=lambda x: dist[l2p[pairs[x][0]]][l2p[pairs[x][1]]])
            a, b = pairs[g]
            while dist[l2p[a]][l2p[b]] > 1:
                pa, pb = l2p[a], l2p[b]
                row = [dist[nb][pb] for nb in neighbors[pa]]
                step = neighbors[pa][row.index(min(row))]
                cost = _swap_cost(pa, step, p2l, fresh, last_gate)
                swap_cz += cost
                error += cost * edge_cost[(pa, step)]
                _apply_swap(pa, step, l2p, p2l)
                last_gate[pa] = last_gate[step] = -1
                swaps += 1
                if record:
                    events.append((1, pa, step))
            swaps_since_exec = 0
            continue
        if f_by_q is None:
            # the front and extended sets change only when gates execute, so their structure
            # is built once per front; only the positions change between SWAPs
            stamp += 1
            extended = _extended_set(front, succs, mark, stamp)
            f_pairs = [pairs[g] for g in front]
            e_pairs = [pairs[g] for g in extended]
            f_by_q = _partners(f_pairs)
            e_by_q = _partners(e_pairs)
            f_weight = 1.0 / len(f_pairs)
            e_weight = _EXTENDED_WEIGHT / len(e_pairs) if e_pairs else 0.0
        f_base = 0
        for a, b in f_pairs:
            f_base += dist[l2p[a]][l2p[b]]
        e_base = 0
        for a, b in e_pairs:
            e_base += dist[l2p[a]][l2p[b]]
        current = f_base * f_weight + e_base * e_weight
        candidates: set[tuple[int, int]] = set()
        for lq in f_by_q:
            p = l2p[lq]
            for n in neighbors[p]:
                candidates.add((p, n) if p < n else (n, p))
        # score SWAPs by how they change the summed distances; only gates on the two
        # swapped logical qubits change, so each candidate costs a few look-ups
        best: list[tuple[int, int]] = []
        best_score = float("inf")
        for p, n in sorted(candidates):
            lp, ln = p2l[p], p2l[n]
            row_p, row_n = dist[p], dist[n]
            df = f_base
            de = e_base
            if lp >= 0:
                for other in f_by_q.get(lp, ()):
                    if other != ln:
                        po = l2p[other]
                        df += row_n[po] - row_p[po]
                for other in e_by_q.get(lp, ()):
                    if other != ln:
                        po = l2p[other]
                        de += row_n[po] - row_p[po]
            if ln >= 0:
                for other in f_by_q.get(ln, ()):
                    if other != lp:
                        po = l2p[other]
                        df += row_p[po] - row_n[po]
                for other in e_by_q.get(ln, ()):
                    if other != lp:
                        po = l2p[other]
                        de += row_p[po] - row_n[po]
            h = df * f_weight + de * e_weight
            dp, dn = decay[p], decay[n]
            score = h * (dp if dp > dn else dn)
            if h < current - 1e-12:
                # a useful SWAP that costs fewer than 3 CZ gets a bonus per CZ it saves
                fp = lp < 0 or fresh[lp]
                fn = ln < 0 or fresh[ln]
                if fp and fn:
                    score -= 3 * _CHEAP_BONUS
                elif fp or fn:
                    score -= _CHEAP_BONUS
                elif last_gate[p] >= 0 and last_gate[p] == last_gate[n]:
                    score -= 2 * _CHEAP_BONUS
            if score < best_score - 1e-12:
                best_score = score
                best = [(p, n)]
            elif score <= best_score + 1e-12:
                best.append((p, n))
        p, n = best[0] if len(best) == 1 else best[rng.randrange(len(best))]
        cost = _swap_cost(p, n, p2l, fresh, last_gate)
        swap_cz += cost
        error += cost * edge_cost[(p, n)]
        _apply_swap(p, n, l2p, p2l)
        last_gate[p] = last_gate[n] = -1
        swaps += 1
        swaps_since_exec += 1
        if record:
            events.append((1, p, n))
        decay[p] += _DECAY_STEP
        decay[n] += _DECAY_STEP
        if swaps % _DECAY_RESET == 0:
            decay = [1.0] * nphys
    return l2p, swaps, swap_cz, error, events


def _swap_cost(p: int, n: int, p2l: list[int], fresh: list[bool], last_gate: list[int]) -> int:
    """CZ that a SWAP of physical ``p`` and ``n`` costs when emitted (see :func:`_sabre_pass`)."""
    lp, ln = p2l[p], p2l[n]
    fp = lp < 0 or fresh[lp]
    fn = ln < 0 or fresh[ln]
    if fp and fn:
        return 0
    if fp or fn:
        return 2
    if last_gate[p] >= 0 and last_gate[p] == last_gate[n]:
        return 1
    return 3


def _extended_set(
    front: list[int], succs: Sequence[Sequence[int]], mark: list[int], stamp: int
) -> list[int]:
    """The look-ahead: up to ``_EXTENDED_SIZE`` gates after the front layer, nearest first."""
    for g in front:
        mark[g] = stamp
    extended: list[int] = []
    frontier = front
    while frontier:
        nxt: list[int] = []
        for g in frontier:
            for s in succs[g]:
                if mark[s] != stamp:
                    mark[s] = stamp
                    extended.append(s)
                    if len(extended) >= _EXTENDED_SIZE:
                        return extended
                    nxt.append(s)
        frontier = nxt
    return extended


def _partners(pairs: list[tuple[int, int]]) -> dict[int, list[int]]:
    by_q: dict[int, list[int]] = {}
    for a, b in pairs:
        la = by_q.get(a)
        if la is None:
            by_q[a] = [b]
        else:
            la.append(b)
        lb = by_q.get(b)
        if lb is None:
            by_q[b] = [a]
        else:
            lb.append(a)
    return by_q


def _apply_swap(p: int, n: int, l2p: list[int], p2l: list[int]) -> None:
    lp, ln = p2l[p], p2l[n]
    p2l[p], p2l[n] = ln, lp
    if lp >= 0:
        l2p[lp] = n
    if ln >= 0:
        l2p[ln] = p


def _extend_layout(layout: Sequence[int], nphys: int) -> list[int]:
    """Give every free physical qubit a virtual logical qubit so SWAPs can move through it."""
    used = set(layout)
    return list(layout) + [p for p in range(nphys) if p not in used]


@attrs.frozen(slots=True)
class SabreTrial:
    """One layout trial: the refined layout and its final forward routing.

    Attributes:
        layout: logical -> physical at the start, covering every physical qubit (the extra
            entries are virtual idle qubits).
        swaps: SWAPs of the final forward pass.
        swap_cz: the CZ those SWAPs cost once emitted (fewer than 3 each where a qubit still
            holds ``|0>`` or the SWAP merges into the gate before it).
        events: the final forward pass's schedule (see :func:`sabre_pass`), for
            :func:`route_swaps`.
        end_layout: logical -> physical after the final forward pass.
        error: ``-log`` of the estimated fidelity of the routed CZ gates (each gate's and
            SWAP's CZ on the coupler it runs on).
    """

    layout: list[int]
    swaps: int
    swap_cz: int
    events: list[tuple[int, int, int]]
    end_layout: list[int]
    error: float = 0.0

    def cz_estimate(self, num_gates: int) -> int:
        """The CZ count after routing ``num_gates`` two-qubit gates this way."""
        return num_gates + self.swap_cz


def sabre_trial(
    dag: CircuitDag,
    initial: Sequence[int],
    cmap: CouplingMap,
    rng: random.Random,
    *,
    iterations: int = 1,
) -> SabreTrial:
    """Improve ``initial`` by routing forwards and backwards ``iterations`` times, then route.

    The final forward pass is recorded, so the caller can emit this very routing.
    """
    layout = _extend_layout(initial, len(cmap.qubits))
    for _ in range(iterations):
        fwd, _, _, _, _ = _sabre_pass(dag.pairs, dag.preds2, dag.succs2, layout, cmap, rng, False)
        back, _, _, _, _ = _sabre_pass(
            dag.pairs, dag.succs2, dag.preds2, fwd, cmap, rng, False, reverse=True
        )
        layout = back
    end, swaps, swap_cz, error, events = _sabre_pass(
        dag.pairs, dag.preds2, dag.succs2, layout, cmap, rng, True
    )
    return SabreTrial(layout, swaps, swap_cz, events, end, error)


def sabre_layout(
    dag: CircuitDag,
    initial: Sequence[int],
    cmap: CouplingMap,
    rng: random.Random,
    *,
    iterations: int = 1,
) -> tuple[list[int], int]:
    """Improve ``initial`` by routing forwards and backwards ``iterations`` times.

    Returns:
        ``(layout, swaps)``: the refined initial layout (covering every physical qubit, so
        extra entries are virtual idle qubits) and the SWAP count of a final forward pass.
    """
    trial = sabre_trial(dag, initial, cmap, rng, iterations=iterations)
    return trial.layout, trial.swaps


# ---------------------------------------------------------------------------------------------
# emission


def _swap_natives(a: str, b: str) -> list[Gate]:
    return lower_gate(Gate("swap", (a, b)))


def _move_natives(full: str, empty: str) -> list[Gate]:
    """Natives that move ``full``'s state into ``empty`` (which holds ``|0>``), leaving
    ``full`` in ``|0>``: ``CX(full, empty) CX(empty, full)``, 2 CZ instead of a SWAP's 3."""
    return [*lower_gate(Gate("cx", (full, empty))), *lower_gate(Gate("cx", (empty, full)))]


def _merged_swap_natives(a: str, b: str) -> list[Gate]:
    """Natives of ``SWAP . CZ`` on ``(a, b)``: an iSWAP followed by ``sdg`` on both."""
    return [
        *lower_gate(Gate("iswap", (a, b))),
        *lower_gate(Gate("sdg", (a,))),
        *lower_gate(Gate("sdg", (b,))),
    ]


def route_swaps(
    circuit: Circuit,
    cmap: CouplingMap,
    layout: Sequence[int],
    *,
    seed: int | None = None,
    dag: CircuitDag | None = None,
    events: Sequence[tuple[int, int, int]] | None = None,
) -> RoutingResult:
    """Route a lowered circuit on a square lattice by SWAP insertion.

    Args:
        circuit: a circuit of natives (``prx``, ``cz``) and non-gate operations on logical
            qubits.
        cmap: the device's coupling map.
        layout: logical qubit index (in ``circuit.qubits`` order) -> physical index; may be
            longer than the circuit (virtual idle qubits) as :func:`sabre_layout` returns.
        seed: seeds the tie-breaking (``None`` means 0: routing is deterministic).
        dag: the circuit's dependency structure, if already built.
        events: a recorded schedule from ``layout`` (:attr:`SabreTrial.events`); routing
            then emits it instead of searching again.

    Returns:
        The routed circuit (SWAPs as ``prx``/``cz`` natives), layouts and SWAP count.
    """
    names = circuit.qubits
    qindex = {q: i for i, q in enumerate(names)}
    ops = circuit.operations
    if dag is None:
        dag = build_dag(ops, qindex)
    full = _extend_layout(layout, len(cmap.qubits))
    if events is None:
        rng = random.Random(0 if seed is None else seed)
        _, _, events = sabre_pass(dag.pairs, dag.preds2, dag.succs2, full, cmap, rng, record=True)
    swaps = sum(1 for kind, _, _ in events if kind == 1)
    phys = cmap.qubits
    l2p = list(full)
    p2l = [-1] * len(phys)
    for lq, p in enumerate(l2p):
        p2l[p] = lq
    nlog = len(names)
    out: list[Operation | None] = []
    # per physical qubit: index in `out` of its last cz, and the prx gates emitted after it
    # (None once anything else touched the qubit)
    last_cz: dict[str, int] = {}
    tail: dict[str, list[int] | None] = {}
    # physical qubits that still hold |0>: nothing was emitted on them, or a state moved out
    zero = set(phys)
    done = [False] * len(ops)
    preds = dag.preds

    def append(op: Operation) -> None:
        k = len(out)
        out.append(op)
        zero.difference_update(op.qubits)
        if isinstance(op, Gate) and op.name == "cz":
            for q in op.qubits:
                last_cz[q] = k
                tail[q] = []
        elif isinstance(op, Gate) and op.name == "prx":
            t = tail.get(op.qubits[0])
            if t is not None:
                t.append(k)
        else:
            for q in op.qubits:
                tail[q] = None

    def emit_swap(a: str, b: str) -> None:
        if a in zero and b in zero:
            return  # both hold |0>: exchanging them is only a relabelling
        if a in zero or b in zero:
            # move the state into the empty qubit: CX(full -> empty) CX(empty -> full)
            full, empty = (b, a) if a in zero else (a, b)
            for g in _move_natives(full, empty):
                append(g)
            zero.add(full)
            return
        k = last_cz.get(a)
        ta, tb = tail.get(a), tail.get(b)
        if k is None or k != last_cz.get(b) or ta is None or tb is None:
            for g in _swap_natives(a, b):
                append(g)
            return
        # SWAP . (Ua x Ub) . CZ = (Ub x Ua) . SWAP . CZ and SWAP . CZ = (Sdg x Sdg) . iSWAP:
        # the SWAP costs 1 extra CZ instead of 3
        moved: list[Gate] = []
        for idx in sorted(ta + tb):
            prx = out[idx]
            if not isinstance(prx, Gate):  # pragma: no cover - tails hold prx gates only
                raise UnsupportedOperationError(f"internal: expected a prx, got {prx!r}")
            moved.append(Gate(prx.name, (b if prx.qubits[0] == a else a,), prx.params))
            out[idx] = None
        out[k] = None
        for g in _merged_swap_natives(a, b):
            append(g)
        for g in moved:
            append(g)

    def current() -> dict[str, str]:
        return {names[i]: phys[l2p[i]] for i in range(nlog)}

    mapping = current()

    def emit(i: int) -> None:
        stack = [i]
        while stack:
            j = stack[-1]
            if done[j]:
                stack.pop()
                continue
            pending = [p for p in preds[j] if not done[p]]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            done[j] = True
            append(relabel(ops[j], mapping))

    two_qubit = dag.two_qubit
    for kind, x, y in events:
        if kind == 0:
            emit(two_qubit[x])
        else:
            emit_swap(phys[x], phys[y])
            _apply_swap(x, y, l2p, p2l)
            mapping = current()
    for i in range(len(ops)):
        if not done[i]:
            emit(i)
    final_ops = [op for op in out if op is not None]
    used = {q for op in final_ops for q in op.qubits}
    initial_map = {names[i]: phys[full[i]] for i in range(nlog)}
    used.update(initial_map.values())
    used.update(mapping.values())
    routed = Circuit(
        tuple(q for q in phys if q in used), tuple(final_ops), circuit.name, circuit.metadata
    )
    return RoutingResult(routed, initial_map, dict(mapping), swaps=swaps)


# ---------------------------------------------------------------------------------------------
# MOVE routing for resonator devices


def route_moves(circuit: Circuit, device: Device, layout: dict[str, str]) -> RoutingResult:
    """Route a lowered circuit on a star device through its computational resonator.

    ``cz(a, b)`` becomes ``move(b, CR) cz(a, CR) move(b, CR)``. The moved-in state stays in
    the resonator while the next two-qubit gates keep using it and nothing else touches it;
    it is moved back out before any other operation on its qubit, before another state moves
    in, and at the end, so every MOVE pair closes on its own qubit.

    Args:
        circuit: natives and non-gate operations on logical qubits.
        device: a device with a computational resonator and ``move``.
        layout: logical qubit -> physical qubit (fixed: MOVE routing never permutes).

    Raises:
        LocusNotSupportedError: two qubits cannot interact through any resonator.
    """
    if not device.resonators:
        raise UnsupportedOperationError(
            f"{device.name} has no computational resonator; use SWAP routing"
        )
    cz_loci = device.loci("cz")
    move_loci = device.loci("move")
    ops = circuit.operations
    # next_on[i][q]: index of the next operation on qubit q after op i (-1 if none)
    next_on: list[dict[str, int]] = [{} for _ in ops]
    upcoming: dict[str, int] = {}
    for i in range(len(ops) - 1, -1, -1):
        next_on[i] = {q: upcoming.get(q, -1) for q in ops[i].qubits}
        for q in ops[i].qubits:
            upcoming[q] = i

    out: list[Operation] = []
    moves = 0
    # resident: (logical qubit, resonator) whose state sits in the resonator
    resident: tuple[str, str] | None = None

    def move_out() -> None:
        nonlocal resident, moves
        if resident is not None:
            lq, cr = resident
            out.append(Gate("move", (layout[lq], cr)))
            moves += 1
            resident = None

    for i, op in enumerate(ops):
        if isinstance(op, Gate) and len(op.qubits) == 2:
            if op.name != "cz":
                raise UnsupportedOperationError(
                    f"gate {op.name!r} on {op.qubits}: only cz can be routed through a "
                    "resonator; lower the circuit first"
                )
            a, b = op.qubits
            pa, pb = layout[a], layout[b]
            if resident is not None and resident[0] in (a, b):
                lq, cr = resident
                other = b if lq == a else a
                if (layout[other], cr) in cz_loci:
                    out.append(Gate("cz", (layout[other], cr)))
                    continue
                move_out()
            move_out()
            options = []
            for stay, mover in ((a, b), (b, a)):
                for cr in device.resonators:
                    if (layout[mover], cr) in move_loci and (layout[stay], cr) in cz_loci:
                        options.append((stay, mover, cr))
            if not options:
                raise LocusNotSupportedError(
                    f"cz between {pa} and {pb} (logical {a}, {b}): {device.name} offers no "
                    "move to a resonator for one of them together with a cz to it for the "
                    "other; place these qubits elsewhere"
                )

            def keep_score(opt: tuple[str, str, str], i: int = i) -> int:
                # prefer moving in the qubit whose next operation is again a two-qubit gate
                _, mover, _ = opt
                j = next_on[i][mover]
                if j >= 0 and isinstance(ops[j], Gate) and len(ops[j].qubits) == 2:
                    return 0
                return 1

            stay, mover, cr = min(options, key=keep_score)
            out.append(Gate("move", (layout[mover], cr)))
            moves += 1
            out.append(Gate("cz", (layout[stay], cr)))
            resident = (mover, cr)
        else:
            if resident is not None and resident[0] in op.qubits:
                move_out()
            out.append(relabel(op, layout))
    move_out()
    used = {q for o in out for q in o.qubits} | set(layout.values())
    order = device.qubits + device.resonators
    routed = Circuit(
        tuple(q for q in order if q in used), tuple(out), circuit.name, circuit.metadata
    )
    return RoutingResult(routed, dict(layout), dict(layout), moves=moves)

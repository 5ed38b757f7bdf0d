"""The compiler entry point: lower, place, route, optimise, validate.

``compile(circuit, device)`` turns any vocabulary circuit on logical qubits into a native
circuit on the device's physical components, and says where every logical qubit started and
ended (measurements keep their keys and land on the physical qubit that holds the measured
logical qubit at that moment).

Levels:

* 0: lower to natives, trivial placement, route (SWAP or MOVE).
* 1: as 0, plus single-qubit fusion, virtual-Z tracking and pair cancellation.
* 2: as 1, plus calibration-aware placement (a perfect layout when one exists, else the best
  of a few bidirectional SABRE trials), and re-synthesis of two-qubit runs with the fewest
  CZ (before routing on logical pairs, after routing on couplers; numeric gates only).
* 3: as 2 with more layout trials (small circuits get up to 30, within a budget of SABRE
  work) and a few extra routings of the chosen layout with other tie-breaks.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence

import attrs

from iqm_bridge.core._dag import build_dag
from iqm_bridge.core._synthesis import resynthesize
from iqm_bridge.core.device import Device
from iqm_bridge.core.errors import CircuitValidationError, QubitNotOnDeviceError
from iqm_bridge.core.ir import Barrier, Circuit, Gate
from iqm_bridge.core.lowering import lower
from iqm_bridge.core.optimize import cancel_and_fuse, elide_swaps
from iqm_bridge.core.parameters import Expression, ParamValue
from iqm_bridge.core.placement import (
    CouplingMap,
    coupling_map,
    greedy_layout,
    layout_cost,
    perfect_layout,
    trivial_layout,
)
from iqm_bridge.core.routing import SabreTrial, route_moves, route_swaps, sabre_trial
from iqm_bridge.core.validation import validate, validate_native

__all__ = ["CompileReport", "CompileResult", "PassReport", "compile", "circuit_depth"]

_TRIALS = {0: 0, 1: 0, 2: 4, 3: 6}
_ITERATIONS = {0: 0, 1: 0, 2: 1, 3: 1}
_TRIAL_BUDGET_GATES = {0: 0, 1: 0, 2: 0, 3: 600}
_MAX_TRIALS = 30
_SWAP_TRIALS = {0: 0, 1: 0, 2: 0, 3: 4}


@attrs.frozen(slots=True)
class PassReport:
    """What one compiler pass did.

    Attributes:
        name: the pass.
        seconds: wall time.
        ops_before: number of operations going in.
        ops_after: number of operations coming out.
        note: pass-specific detail (layout strategy, SWAP count...).
    """

    name: str
    seconds: float
    ops_before: int
    ops_after: int
    note: str = ""


@attrs.frozen(slots=True)
class CompileReport:
    """Figures about one compilation.

    Attributes:
        level: the optimisation level used.
        cz_count: two-qubit natives (``cz``) in the result.
        move_count: ``move`` natives in the result.
        depth: circuit depth of the result (barriers excluded).
        layout_strategy: ``"given"``, ``"trivial"``, ``"perfect"``, ``"sabre"`` or ``"star"``.
        swaps: SWAPs inserted by routing.
        moves: MOVEs inserted by routing.
        passes: per-pass reports in order.
        dropped_frames: physical qubit -> final Z rotation that was dropped (it changes no
            measured outcome; re-apply ``RZ(angle)`` to compare statevectors).
    """

    level: int
    cz_count: int
    move_count: int
    depth: int
    layout_strategy: str
    swaps: int
    moves: int
    passes: tuple[PassReport, ...]
    dropped_frames: Mapping[str, ParamValue]

    @property
    def seconds(self) -> float:
        """Total wall time of all passes."""
        return sum(p.seconds for p in self.passes)


@attrs.frozen(slots=True)
class CompileResult:
    """A compiled circuit and how to read it.

    Attributes:
        circuit: the native circuit on physical component names.
        initial_layout: logical qubit -> physical qubit at the start.
        final_layout: logical qubit -> physical qubit at the end (SWAPs permute qubits).
        report: what each pass did.
    """

    circuit: Circuit
    initial_layout: dict[str, str]
    final_layout: dict[str, str]
    report: CompileReport


def circuit_depth(circuit: Circuit) -> int:
    """Depth of a circuit: the longest chain of operations sharing components (no barriers)."""
    level: dict[str, int] = {}
    depth = 0
    for op in circuit.operations:
        if isinstance(op, Barrier):
            top = max((level.get(q, 0) for q in op.qubits), default=0)
            for q in op.qubits:
                level[q] = top
            continue
        d = 1 + max((level.get(q, 0) for q in op.qubits), default=0)
        for q in op.qubits:
            level[q] = d
        depth = max(depth, d)
    return depth


def _add_frames(into: dict[str, ParamValue], frames: Mapping[str, ParamValue]) -> None:
    for q, f in frames.items():
        into[q] = into.get(q, 0.0) + f


def _is_star(device: Device) -> bool:
    return bool(device.resonators) and "move" in device.gates


def _is_symbolic(circuit: Circuit) -> bool:
    return bool(circuit.parameters)


def _one_qubit_load(circuit: Circuit) -> list[int]:
    index = {q: i for i, q in enumerate(circuit.qubits)}
    load = [0] * len(circuit.qubits)
    for op in circuit.operations:
        if len(op.qubits) == 1:
            load[index[op.qubits[0]]] += 1
    return load


def _given_layout(
    circuit: Circuit, layout: Mapping[str, str] | Sequence[str], device: Device
) -> dict[str, str]:
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


def _star_layout(circuit: Circuit, device: Device, level: int) -> dict[str, str]:
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

    # busiest logical qubits on the best physical qubits
    busy: dict[str, int] = dict.fromkeys(circuit.qubits, 0)
    for op in circuit.operations:
        if isinstance(op, Gate) and len(op.qubits) == 2:
            for q in op.qubits:
                busy[q] += 1
    logical = sorted(circuit.qubits, key=lambda q: -busy[q])
    physical = sorted(capable, key=quality)
    return dict(zip(logical, physical, strict=False))


def _place_lattice(
    lowered: Circuit, cmap: CouplingMap, level: int, seed: int | None
) -> tuple[SabreTrial, str]:
    """The chosen routing (initial layout and recorded schedule) and the strategy's name.

    Level 2 and up: a perfect layout when one exists; else SABRE layout trials, ranked by the
    CZ count their routing implies (a SWAP right after a gate on its pair merges into it).
    """
    qindex = {q: i for i, q in enumerate(lowered.qubits)}
    dag = build_dag(lowered.operations, qindex)
    n = len(lowered.qubits)
    rng = random.Random(seed)
    if level < 2:
        return sabre_trial(dag, trivial_layout(n, cmap), cmap, rng, iterations=0), "trivial"
    load = _one_qubit_load(lowered)
    perfect = perfect_layout(n, dag.pairs, load, cmap)
    if perfect is not None:
        return sabre_trial(dag, perfect, cmap, rng, iterations=0), "perfect"
    num_gates = len(dag.pairs)
    # at level 3 small circuits get more trials: the budget counts the gates that the SABRE
    # passes visit, which is what their time is proportional to
    iterations = _ITERATIONS[min(level, 3)]
    trials = _TRIALS[min(level, 3)]
    budget = trials * _TRIAL_BUDGET_GATES[min(level, 3)]
    trials = max(trials, min(_MAX_TRIALS, budget // max(1, num_gates * (2 * iterations + 1))))
    scored: list[tuple[tuple[int, int, float], SabreTrial]] = []
    for t in range(trials):
        if t == 0:
            init = greedy_layout(n, dag.pairs, cmap)
        elif t % 2 == 1:
            init = greedy_layout(n, dag.pairs, cmap, rng)
        else:
            perm = list(range(len(cmap.qubits)))
            rng.shuffle(perm)
            init = perm[:n]
        trial = sabre_trial(dag, init, cmap, rng, iterations=iterations)
        if any(trial.layout == other.layout for _, other in scored):
            continue
        cost = layout_cost(trial.layout[:n], dag.pairs, load, cmap)
        scored.append(((trial.cz_estimate(num_gates), trial.swaps, cost), trial))
        if trial.swaps == 0:
            break  # no trial can route with fewer CZ
    best = min(scored, key=lambda item: item[0])[1]
    # routing trials: the same layout, other tie-breaks
    for _ in range(_SWAP_TRIALS[min(level, 3)]):
        other = sabre_trial(dag, best.layout, cmap, rng, iterations=0)
        if other.cz_estimate(num_gates) < best.cz_estimate(num_gates):
            best = other
    return best, "sabre"


def compile(  # noqa: A001 - the natural name; shadowing the builtin is harmless here
    circuit: Circuit,
    device: Device,
    *,
    seed: int | None = None,
    level: int = 2,
    initial_layout: Mapping[str, str] | Sequence[str] | None = None,
) -> CompileResult:
    """Compile a circuit for a device: lower, place, route, optimise and validate.

    Args:
        circuit: a circuit over the gate vocabulary on logical qubits; parameters may be
            symbolic (then the result is a template; see :mod:`iqm_bridge.core.templates`).
        device: the target device.
        seed: seeds the layout search and the routing tie-breaks (default: fixed seed 0, so
            compilation is deterministic).
        level: 0 to 3, see the module docstring.
        initial_layout: logical qubit -> physical qubit (a mapping, or physical names in
            ``circuit.qubits`` order); skips placement.

    Returns:
        The native circuit with its initial and final layouts and a report.

    Raises:
        CircuitValidationError: the circuit is malformed, too large, or cannot be routed.
    """
    if level not in (0, 1, 2, 3):
        raise CircuitValidationError(f"level must be 0, 1, 2 or 3, got {level!r}")
    seed = 0 if seed is None else seed
    passes: list[PassReport] = []

    def timed(name: str, before: int, t0: float, after: int, note: str = "") -> None:
        passes.append(PassReport(name, time.perf_counter() - t0, before, after, note))

    t0 = time.perf_counter()
    validate(circuit)
    if any(isinstance(op, Gate) and op.name == "move" for op in circuit.operations):
        raise CircuitValidationError(
            "the circuit already contains 'move' gates; give a circuit without MOVEs (the "
            "compiler inserts them) or submit it as a native circuit"
        )
    where = {q: q for q in circuit.qubits}
    if level >= 1:
        circuit_in = circuit
        circuit, where = elide_swaps(circuit)
        timed("elide-swaps", len(circuit_in), t0, len(circuit))
        t0 = time.perf_counter()
    lowered = lower(circuit)
    timed("lower", len(circuit), t0, len(lowered))
    dropped: dict[str, ParamValue] = {}
    work = lowered
    logical_frames: dict[str, ParamValue] = {}
    if level >= 1:
        t0 = time.perf_counter()
        before = len(work)
        work, logical_frames = cancel_and_fuse(work)
        timed("fuse-logical", before, t0, len(work))
    if level >= 2:
        t0 = time.perf_counter()
        before = len(work)
        work, saved = resynthesize(work)
        if saved:
            work, more = cancel_and_fuse(work)
            _add_frames(logical_frames, more)
        timed("resynth-logical", before, t0, len(work), f"cz_saved={saved}")

    t0 = time.perf_counter()
    before = len(work)
    if _is_star(device):
        if initial_layout is not None:
            layout_map = _given_layout(circuit, initial_layout, device)
            strategy = "given"
        else:
            layout_map = _star_layout(work, device, level)
            strategy = "star"
        timed("place", before, t0, before, strategy)
        t0 = time.perf_counter()
        routed = route_moves(work, device, layout_map)
        timed("route-move", before, t0, len(routed.circuit), f"moves={routed.moves}")
    else:
        cmap = coupling_map(device)
        if len(circuit.qubits) > len(cmap.qubits):
            raise CircuitValidationError(
                f"circuit {circuit.name!r} has {len(circuit.qubits)} qubits but {device.name} "
                f"has only {len(cmap.qubits)} usable qubits"
            )
        events: list[tuple[int, int, int]] | None = None
        if initial_layout is not None:
            given = _given_layout(circuit, initial_layout, device)
            pindex = cmap.index
            layout = [pindex[given[q]] for q in work.qubits]
            strategy = "given"
        else:
            trial, strategy = _place_lattice(work, cmap, level, seed)
            layout, events = trial.layout, trial.events
        timed("place", before, t0, before, strategy)
        t0 = time.perf_counter()
        routed = route_swaps(work, cmap, layout, seed=seed, events=events)
        timed("route-swap", before, t0, len(routed.circuit), f"swaps={routed.swaps}")
    for q, f in logical_frames.items():
        dropped[routed.final_layout[q]] = f
    final_layout = {q: routed.final_layout[where[q]] for q in circuit.qubits}
    native = routed.circuit
    if level >= 1:
        t0 = time.perf_counter()
        before = len(native)
        native, frames = cancel_and_fuse(native)
        _add_frames(dropped, frames)
        timed("fuse-physical", before, t0, len(native))
    if level >= 2 and not _is_star(device):
        # (on a star the runs pair a qubit with a resonator, which takes no prx)
        t0 = time.perf_counter()
        before = len(native)
        native, saved = resynthesize(native)
        if saved:
            native, frames = cancel_and_fuse(native)
            _add_frames(dropped, frames)
        timed("resynth-physical", before, t0, len(native), f"cz_saved={saved}")
    t0 = time.perf_counter()
    if not _is_symbolic(native):
        validate_native(native, device)
    timed("validate", len(native), t0, len(native))
    cz = sum(1 for op in native.operations if isinstance(op, Gate) and op.name == "cz")
    mv = sum(1 for op in native.operations if isinstance(op, Gate) and op.name == "move")
    report = CompileReport(
        level=level,
        cz_count=cz,
        move_count=mv,
        depth=circuit_depth(native),
        layout_strategy=strategy,
        swaps=routed.swaps,
        moves=routed.moves,
        passes=tuple(passes),
        dropped_frames={q: f for q, f in dropped.items() if isinstance(f, Expression) or f},
    )
    return CompileResult(native, routed.initial_layout, final_layout, report)

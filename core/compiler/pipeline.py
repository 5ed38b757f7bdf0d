"""The compiler: a level is a list of passes over one shared state.

``compile(circuit, device)`` turns any vocabulary circuit on logical qubits into a native
circuit on the device's physical components, and says where every logical qubit started and
ended (measurements keep their keys and land on the physical qubit that holds the measured
logical qubit at that moment).

Every pass has the same shape: it reads and updates a :class:`CompileState` and returns a
note for the report; :func:`run_passes` times each one and writes the :class:`PassReport` s,
so a level is nothing but the list in :data:`LEVELS`:

* 0: lower to natives, trivial placement, route (SWAP or MOVE).
* 1: as 0, plus SWAP elision, single-qubit fusion, virtual-Z tracking and pair cancellation.
* 2 (the default, :data:`DEFAULT_LEVEL`): as 1, plus calibration-aware placement (a perfect
  layout when one exists, else the routing with the highest estimated success among those
  from the layouts that fit the circuit's opening and a few bidirectional SABRE trials),
  re-synthesis of two-qubit runs with the fewest CZ (before routing on logical pairs, after
  routing on couplers; numeric gates only; runs on qubits still in ``|0>`` only prepare their
  state, runs right before measurements may change by a diagonal), and a last move of the
  whole circuit onto the qubits where it is most likely to succeed.
* 3: as 2 with more layout trials and extra routings of the best layouts (the placement
  policy of each level is :data:`~iqm_bridge.core.compiler.placement.LATTICE_POLICY`).

The report states the result's estimated success probability
(:func:`~iqm_bridge.core.compiler.success.estimated_success`): the product of the served
fidelities of its gates and readouts and of each qubit's chance to idle without error.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence

import attrs

from iqm_bridge.core.compiler.coupling import coupling_map
from iqm_bridge.core.compiler.lowering import lower
from iqm_bridge.core.compiler.optimize import cancel_and_fuse, elide_swaps
from iqm_bridge.core.compiler.placement import (
    given_layout,
    place_lattice,
    remap_for_success,
    star_layout,
)
from iqm_bridge.core.compiler.routing import RoutingResult, route_moves, route_swaps
from iqm_bridge.core.compiler.success import estimated_success
from iqm_bridge.core.compiler.synthesis import resynthesize
from iqm_bridge.core.compiler.validation import validate, validate_native
from iqm_bridge.core.device import Device
from iqm_bridge.core.errors import CircuitValidationError
from iqm_bridge.core.ir import Barrier, Circuit, Gate, relabel
from iqm_bridge.core.parameters import Expression, ParamValue

__all__ = [
    "LEVELS",
    "DEFAULT_LEVEL",
    "CompileReport",
    "CompileResult",
    "CompileState",
    "Pass",
    "PassReport",
    "circuit_depth",
    "compile",
    "decompose",
    "run_passes",
]


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


@attrs.frozen(slots=True, repr=False)
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
        estimated_success: the probability that the result runs without a gate, readout
            or idling error, from the device's calibration (see
            :func:`~iqm_bridge.core.compiler.success.estimated_success`); computed when first
            read, so compilations whose estimate nobody reads do not pay for it.
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
    _success: float | Callable[[], float] = attrs.field(
        default=1.0, alias="estimated_success", repr=False, eq=False
    )

    @property
    def estimated_success(self) -> float:
        """See the class docstring."""
        value = self._success
        if callable(value):
            value = value()
            object.__setattr__(self, "_success", value)  # a cache: the report stays frozen
        return value

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.alias}={getattr(self, f.alias)!r}" for f in attrs.fields(type(self)))
        return f"CompileReport({shown})"

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


@attrs.define
class CompileState:
    """What the passes of one compilation read and write.

    Attributes:
        source: the circuit as given.
        device: the target device.
        level: the optimisation level.
        seed: seed of the layout search and routing tie-breaks.
        layout: the user's initial layout, if any.
        circuit: the working circuit (logical until routing, physical after it).
        where: logical qubit -> the qubit now carrying it (SWAP elision relabels).
        logical_frames: Z frames left on logical qubits by fusion before routing.
        dropped: physical qubit -> final Z frame dropped (for the report).
        placement: the chosen start: logical -> physical name (stars), or physical index
            per logical index (lattices).
        events: the routing schedule placement ranked its layout by, if any.
        routed: the routing result, once routed.
        strategy: the placement strategy's name.
    """

    source: Circuit
    device: Device
    level: int
    seed: int
    layout: Mapping[str, str] | Sequence[str] | None
    circuit: Circuit
    where: dict[str, str]
    logical_frames: dict[str, ParamValue] = attrs.Factory(dict)
    dropped: dict[str, ParamValue] = attrs.Factory(dict)
    placement: dict[str, str] | list[int] = attrs.Factory(list)
    events: list[tuple[int, int, int]] | None = None
    routed: RoutingResult | None = None
    strategy: str = ""


Pass = Callable[[CompileState], str]
"""A compiler pass: updates the state, returns a note for its report (may be empty)."""


def _add_frames(into: dict[str, ParamValue], frames: Mapping[str, ParamValue]) -> None:
    for q, f in frames.items():
        into[q] = into.get(q, 0.0) + f


def _is_star(device: Device) -> bool:
    return bool(device.resonators) and "move" in device.gates


# ------------------------------------------------------------------------------------ passes
def check(state: CompileState) -> str:
    """Validate the input on its own; refuse MOVEs, which the compiler inserts itself."""
    validate(state.circuit)
    if any(isinstance(op, Gate) and op.name == "move" for op in state.circuit.operations):
        raise CircuitValidationError(
            "the circuit already contains 'move' gates; give a circuit without MOVEs (the "
            "compiler inserts them) or submit it as a native circuit"
        )
    return ""


def elide(state: CompileState) -> str:
    """Turn SWAPs into relabellings of the qubits after them (free on any device)."""
    state.circuit, state.where = elide_swaps(state.circuit)
    return ""


def lower_pass(state: CompileState) -> str:
    """Lower every gate to the natives ``prx`` and ``cz``."""
    state.circuit = lower(state.circuit)
    return ""


def fuse_logical(state: CompileState) -> str:
    """Fuse single-qubit runs and cancel pairs on logical qubits."""
    state.circuit, frames = cancel_and_fuse(state.circuit)
    _add_frames(state.logical_frames, frames)
    return ""


def resynth_logical(state: CompileState) -> str:
    """Re-synthesise two-qubit runs on logical pairs with the fewest CZ."""
    state.circuit, saved = resynthesize(state.circuit)
    if saved:
        state.circuit, more = cancel_and_fuse(state.circuit)
        _add_frames(state.logical_frames, more)
    return f"cz_saved={saved}"


def place(state: CompileState) -> str:
    """Choose where each logical qubit starts (the policy is in :mod:`.placement`)."""
    device, work = state.device, state.circuit
    if _is_star(device):
        if state.layout is not None:
            state.placement = given_layout(state.source, state.layout, device)
            state.strategy = "given"
        else:
            state.placement = star_layout(work, device, state.level)
            state.strategy = "star"
        return state.strategy
    cmap = coupling_map(device)
    if len(state.source.qubits) > len(cmap.qubits):
        raise CircuitValidationError(
            f"circuit {state.source.name!r} has {len(state.source.qubits)} qubits but "
            f"{device.name} has only {len(cmap.qubits)} usable qubits"
        )
    if state.layout is not None:
        given = given_layout(state.source, state.layout, device)
        state.placement = [cmap.index[given[q]] for q in work.qubits]
        state.strategy = "given"
    else:
        trial, state.strategy = place_lattice(work, cmap, state.level, state.seed)
        state.placement, state.events = trial.layout, trial.events
    return state.strategy


def route(state: CompileState) -> str:
    """Make every two-qubit gate act on coupled components: MOVEs on stars, SWAPs on
    lattices (replaying the schedule placement ranked its layout by, when it has one)."""
    if isinstance(state.placement, dict):
        state.routed = route_moves(state.circuit, state.device, state.placement)
        note = f"moves={state.routed.moves}"
    else:
        cmap = coupling_map(state.device)
        state.routed = route_swaps(
            state.circuit, cmap, state.placement, seed=state.seed, events=state.events
        )
        note = f"swaps={state.routed.swaps}"
    for q, f in state.logical_frames.items():
        state.dropped[state.routed.final_layout[q]] = f
    state.circuit = state.routed.circuit
    return note


def fuse_physical(state: CompileState) -> str:
    """Fuse single-qubit runs and cancel pairs again after routing."""
    state.circuit, frames = cancel_and_fuse(state.circuit)
    _add_frames(state.dropped, frames)
    return ""


def resynth_physical(state: CompileState) -> str:
    """Re-synthesise two-qubit runs on couplers (not on stars: their runs pair a qubit with a
    resonator, which takes no prx)."""
    if _is_star(state.device):
        return "skipped on a star"
    state.circuit, saved = resynthesize(state.circuit)
    if saved:
        state.circuit, frames = cancel_and_fuse(state.circuit)
        _add_frames(state.dropped, frames)
    return f"cz_saved={saved}"


def post_layout(state: CompileState) -> str:
    """Move the finished circuit onto the qubits where it is most likely to succeed.

    The routed circuit's couplers form a pattern; any other embedding of it on the lattice
    runs the same gates, and the calibration says which one has the highest estimated
    success probability (:func:`~iqm_bridge.core.compiler.placement.remap_for_success`).
    A layout the caller gave is kept.
    """
    if _is_star(state.device) or state.layout is not None or state.routed is None:
        return "kept"
    cmap = coupling_map(state.device)
    mapping = remap_for_success(state.circuit, state.device, cmap)
    if mapping is None:
        return "kept"
    # the mapping covers every qubit of the circuit (its qubits include both layouts)
    ops = tuple(relabel(op, mapping) for op in state.circuit.operations)
    order = {q: i for i, q in enumerate(cmap.qubits)}
    qubits = tuple(sorted((mapping[q] for q in state.circuit.qubits), key=order.__getitem__))
    routed = state.routed
    state.circuit = attrs.evolve(state.circuit, qubits=qubits, operations=ops)
    state.routed = attrs.evolve(
        routed,
        initial_layout={lq: mapping[p] for lq, p in routed.initial_layout.items()},
        final_layout={lq: mapping[p] for lq, p in routed.final_layout.items()},
    )
    state.dropped = {mapping.get(q, q): f for q, f in state.dropped.items()}
    return f"moved {sum(1 for a, b in mapping.items() if a != b)} qubits"


def validate_result(state: CompileState) -> str:
    """Check the native result against the device (symbolic templates: checked once bound)."""
    if state.circuit.parameters:
        return "symbolic: checked when bound"
    validate_native(state.circuit, state.device)
    return ""


_BASE: tuple[tuple[str, Pass], ...] = (
    ("check", check),
    ("lower", lower_pass),
    ("place", place),
    ("route", route),
    ("validate", validate_result),
)
_L1: tuple[tuple[str, Pass], ...] = (
    ("check", check),
    ("elide-swaps", elide),
    ("lower", lower_pass),
    ("fuse-logical", fuse_logical),
    ("place", place),
    ("route", route),
    ("fuse-physical", fuse_physical),
    ("validate", validate_result),
)
_L2: tuple[tuple[str, Pass], ...] = (
    ("check", check),
    ("elide-swaps", elide),
    ("lower", lower_pass),
    ("fuse-logical", fuse_logical),
    ("resynth-logical", resynth_logical),
    ("place", place),
    ("route", route),
    ("fuse-physical", fuse_physical),
    ("resynth-physical", resynth_physical),
    ("post-layout", post_layout),
    ("validate", validate_result),
)

LEVELS: dict[int, tuple[tuple[str, Pass], ...]] = {0: _BASE, 1: _L1, 2: _L2, 3: _L2}

"""The named passes of each optimisation level, in order (level 3 differs from 2 only in its
placement policy)."""

DEFAULT_LEVEL = 2
"""The optimisation level every entry point uses unless the caller chooses one: the door,
:func:`compile`, templates and each adapter's option all default to it."""


def run_passes(passes: Sequence[tuple[str, Pass]], state: CompileState) -> tuple[PassReport, ...]:
    """Run the passes in order on ``state``; time each and report what it did."""
    reports = []
    for name, fn in passes:
        before = len(state.circuit)
        t0 = time.perf_counter()
        note = fn(state)
        reports.append(PassReport(name, time.perf_counter() - t0, before, len(state.circuit), note))
    return tuple(reports)


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


DECOMPOSE: tuple[tuple[str, Pass], ...] = (
    ("check", check),
    ("lower", lower_pass),
    ("fuse-logical", fuse_logical),
)
"""The passes of :func:`decompose`: natives on the same qubits, no placement or routing."""


def decompose(circuit: Circuit) -> Circuit:
    """The circuit in IQM natives on its own qubits: lowered and fused, not placed or routed.

    Measurement keys and symbolic parameters are kept; final Z rotations, which no
    measurement sees, are dropped.

    Raises:
        CircuitValidationError: an unknown or malformed gate.
    """
    state = CompileState(
        source=circuit,
        device=Device("none", (), (), {}),
        level=1,
        seed=0,
        layout=None,
        circuit=circuit,
        where={q: q for q in circuit.qubits},
    )
    run_passes(DECOMPOSE, state)
    return state.circuit


def compile(  # noqa: A001 - the natural name; shadowing the builtin is harmless here
    circuit: Circuit,
    device: Device,
    *,
    seed: int | None = None,
    level: int = DEFAULT_LEVEL,
    initial_layout: Mapping[str, str] | Sequence[str] | None = None,
) -> CompileResult:
    """Compile a circuit for a device: lower, place, route, optimise and validate.

    Args:
        circuit: a circuit over the gate vocabulary on logical qubits; parameters may be
            symbolic (then the result is a template; see :mod:`iqm_bridge.core.compiler.templates`).
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
    if isinstance(level, bool) or level not in LEVELS:
        raise CircuitValidationError(f"level must be 0, 1, 2 or 3, got {level!r}")
    state = CompileState(
        source=circuit,
        device=device,
        level=level,
        seed=0 if seed is None else seed,
        layout=initial_layout,
        circuit=circuit,
        where={q: q for q in circuit.qubits},
    )
    reports = run_passes(LEVELS[level], state)
    routed = state.routed
    assert routed is not None  # every level places and routes
    native = state.circuit
    ops = native.operations
    report = CompileReport(
        level=level,
        cz_count=sum(1 for op in ops if isinstance(op, Gate) and op.name == "cz"),
        move_count=sum(1 for op in ops if isinstance(op, Gate) and op.name == "move"),
        depth=circuit_depth(native),
        layout_strategy=state.strategy,
        swaps=routed.swaps,
        moves=routed.moves,
        passes=reports,
        dropped_frames={q: f for q, f in state.dropped.items() if isinstance(f, Expression) or f},
        estimated_success=functools.partial(estimated_success, native, device),
    )
    final_layout = {q: routed.final_layout[state.where[q]] for q in circuit.qubits}
    return CompileResult(native, routed.initial_layout, final_layout, report)

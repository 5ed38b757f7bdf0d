"""The door: adapters hand over programs, the core decides how they run.

An adapter translates its framework's input into :class:`Program` s (an IR circuit, the key
map that reads its results, the parameter values to bind, where its qubits may go, its shots)
and hands them to an :class:`Executor`. Every run decision is made here, once, for all three
frameworks:

* **measurements**: a circuit without any runs, with a :class:`NoMeasurementWarning` (its
  result has no bits), as the official integrations do;
* **placement and compilation**: a circuit on the device's own qubits that is native and
  valid as it stands is submitted as it is; one on the device's own qubits that is not is
  routed on those qubits (identity layout); any other is compiled with a layout the compiler
  chooses (or the program's explicit one). Symbolic circuits compile once into a cached
  template and are bound per parameter point;
* **shots**: all programs of one call go out as ONE job (split only by ``max_circuits``); when
  their shot counts differ, the job runs the largest and each circuit keeps its own first
  shots;
* **options**: run options are checked by name and value before anything is sent;
* **status, polling and results**: one :class:`Batch` handle, blocking or awaited;
* **readout mitigation** (when asked for): every result carries its per-column readout
  errors, from the served calibration or from two calibration circuits added to the same job
  (see :mod:`iqm_bridge.core.readout`).
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from iqm_bridge.core import collector
from iqm_bridge.core.compiler import DEFAULT_LEVEL, get_template, validate_native
from iqm_bridge.core.device import Device
from iqm_bridge.core.errors import (
    CircuitValidationError,
    ConfigurationError,
    UnboundParameterError,
)
from iqm_bridge.core.ir import Circuit, Conditional, Gate, Measure
from iqm_bridge.core.keys import KeyMap
from iqm_bridge.core.mitigation import ReadoutCalibrationError, ReadoutErrors
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.readout import (
    CALIBRATION_METADATA_KEY,
    Mitigation,
    calibration_circuits,
    column_errors,
    column_qubits,
    measured_union,
    served_errors,
)
from iqm_bridge.core.submit import CircuitResult, Connection, Job, JobStatus
from iqm_bridge.core.submit.jobs import keymap_of
from iqm_bridge.core.wire import REGISTERS_METADATA_KEY, RESULT_METADATA_KEY

__all__ = [
    "AUTO",
    "DEVICE",
    "FREE",
    "Batch",
    "Executor",
    "Mitigation",
    "NoMeasurementWarning",
    "Prepared",
    "ReadoutPlan",
    "Program",
    "check_settings",
    "natives_for",
    "placement_of",
    "prepare",
    "run",
]

FREE = "free"
"""Placement: the circuit's qubits are logical; the compiler chooses where they go."""

DEVICE = "device"
"""Placement: the circuit's qubits are the device's own components and stay where they are."""

AUTO = "auto"
"""Placement: the circuit's qubits are named like the device's components (a framework's
indices); they stay where they are when the circuit is written in IQM natives only (the
framework's transpiler placed it), and are free otherwise."""

_PLACEMENTS = (FREE, DEVICE, AUTO)
_NATIVE_GATES = frozenset({"prx", "cz", "move"})

Binding = Mapping[str, float] | Sequence[float] | np.ndarray[Any, Any]


class NoMeasurementWarning(UserWarning):
    """A circuit without measurements runs, but its result has no bits."""


def _bindings(value: Iterable[Binding] | None) -> tuple[Binding, ...]:
    return () if value is None else tuple(value)


@attrs.frozen(slots=True)
class Program:
    """One circuit as an adapter hands it to the door.

    Attributes:
        circuit: the IR circuit (parameters may be symbolic); its name and metadata travel
            to the server with every circuit made from it.
        keymap: how to read its results (default: rebuilt from its measurement keys).
        bindings: parameter values, one circuit per entry (name -> value, or values in
            sorted-name order); empty for one circuit as it is.
        placement: :data:`FREE`, :data:`DEVICE` or :data:`AUTO`.
        layout: logical qubit -> physical qubit, for an explicit placement.
        shots: shots of this program (``None``: the run options' shots).
        info: JSON data the adapter needs to rebuild its framework's result; it travels with
            the circuits (so a job retrieved by id has it) and comes back as
            :attr:`CircuitResult.info`.
    """

    circuit: Circuit
    keymap: KeyMap | None = None
    bindings: tuple[Binding, ...] = attrs.field(default=(), converter=_bindings)
    placement: str = FREE
    layout: Mapping[str, str] | None = None
    shots: int | None = None
    info: Mapping[str, Any] | None = None

    def __attrs_post_init__(self) -> None:
        if self.placement not in _PLACEMENTS:
            raise ConfigurationError(
                f"placement {self.placement!r} is not one of {', '.join(_PLACEMENTS)}"
            )

    @property
    def size(self) -> int:
        """How many circuits this program makes."""
        return max(1, len(self.bindings))

    def result_keymap(self) -> KeyMap:
        """The key map that reads this program's results."""
        return self.keymap if self.keymap is not None else keymap_of(self.circuit)

    def wire_metadata(self) -> dict[str, Any]:
        """The circuit metadata sent with every circuit of this program: the circuit's own,
        its result registers and the adapter's result info."""
        meta = dict(self.circuit.metadata)
        meta[REGISTERS_METADATA_KEY] = [[r.name, r.size] for r in self.result_keymap().registers]
        if self.info:
            meta[RESULT_METADATA_KEY] = dict(self.info)
        return meta


def _natives_only(circuit: Circuit) -> bool:
    for op in circuit.operations:
        gate = op.gate if isinstance(op, Conditional) else op
        if isinstance(gate, Gate) and gate.name not in _NATIVE_GATES:
            return False
    return True


def _is_native_on(circuit: Circuit, device: Device) -> bool:
    probe = circuit.bind(dict.fromkeys(circuit.parameters, 0.0)) if circuit.parameters else circuit
    try:
        validate_native(probe, device)
    except CircuitValidationError:
        return False
    return True


def _values(binding: Binding, names: Sequence[str]) -> dict[str, float]:
    if isinstance(binding, Mapping):
        missing = [n for n in names if n not in binding]
        if missing:
            raise UnboundParameterError(f"no value for parameter(s) {missing}")
        return {n: float(binding[n]) for n in names}
    values = list(np.asarray(binding, dtype=float).reshape(-1))
    if len(values) != len(names):
        raise UnboundParameterError(
            f"expected {len(names)} values in the order {list(names)}, got {len(values)}"
        )
    return dict(zip(names, values, strict=True))


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigurationError(f"{name}={value!r} must be a whole number")
    number = int(value)
    if number < low or (high is not None and number > high):
        span = f"{low} to {high}" if high is not None else f"at least {low}"
        raise ConfigurationError(f"{name}={number} is out of range; use {span}")
    return number


def placement_of(program: Program) -> tuple[str, Mapping[str, str] | None]:
    """The placement the door uses for ``program``: :data:`DEVICE` or :data:`FREE`, and the
    initial layout handed to the compiler (``None``: its own choice)."""
    if program.layout is not None:
        return FREE, dict(program.layout)
    placement = program.placement
    if placement == AUTO:
        placement = DEVICE if _natives_only(program.circuit) else FREE
    if placement == DEVICE:
        return DEVICE, {q: q for q in program.circuit.qubits}
    return FREE, None


def natives_for(
    program: Program, device: Device, *, level: int = DEFAULT_LEVEL, seed: int | None = None
) -> list[Circuit]:
    """The native circuits that run for ``program`` on ``device``, one per binding.

    A circuit on the device's own qubits that is native and valid as it stands is taken as
    it is (bound per point); any other is compiled once per structure (cached) and bound.

    Raises:
        CircuitValidationError: the circuit cannot run on the device (the message says
            why), or a parameter is left without a value.
    """
    circuit = program.circuit
    placement, layout = placement_of(program)
    names = sorted(circuit.parameters)
    if names and not program.bindings:
        raise UnboundParameterError(
            f"circuit {circuit.name!r} has unbound parameter(s) {names}; bind values first"
        )
    meta = program.wire_metadata()
    if placement == DEVICE and _is_native_on(circuit, device):
        base = attrs.evolve(circuit, metadata=meta)
        if not names:
            return [base] * program.size
        return [base.bind(_values(b, names)) for b in program.bindings]
    template = get_template(circuit, device, seed=seed, level=level, initial_layout=layout)
    if template.parameters:
        made = [template.bind(_values(b, template.parameters)) for b in program.bindings]
    else:
        made = [template.circuit] * program.size
    return [attrs.evolve(c, name=circuit.name, metadata=meta) for c in made]


def check_settings(
    level: Any = DEFAULT_LEVEL, seed: Any = None, max_circuits: Any = None
) -> tuple[int, int | None, int | None]:
    """The door's own settings, checked once for every adapter: the optimisation level
    (0-3), the compiler's seed (a whole number >= 0 or ``None``) and ``max_circuits`` (>= 1
    or ``None``).

    Raises:
        ConfigurationError: a value of the wrong type or out of range (the message names it).
    """
    return (
        _check_int("optimization level", level, 0, 3),
        None if seed is None else _check_int("seed", seed, 0),
        None if max_circuits is None else _check_int("max_circuits", max_circuits, 1),
    )


@attrs.frozen(slots=True)
class ReadoutPlan:
    """How the results of a call are to be mitigated.

    Attributes:
        qubits: every physical qubit the call's circuits measure.
        errors: the served readout errors of those qubits, or ``None`` when the last two
            circuits of the job are calibration circuits to estimate them from.
    """

    qubits: tuple[str, ...]
    errors: ReadoutErrors | None


@attrs.frozen(slots=True)
class Prepared:
    """What the door decided for one call, before anything is sent.

    Attributes:
        circuits: the native circuits, in order (readout calibration circuits last).
        keymaps: how to read each circuit's results.
        keep_shots: per circuit, the shots its result keeps (``None``: all the job runs).
        options: the job's options (its shots are the largest any program asked for).
        sizes: how many circuits each program made.
        readout: the readout-mitigation plan, or ``None`` when not asked for.
    """

    circuits: tuple[Circuit, ...]
    keymaps: tuple[KeyMap, ...]
    keep_shots: tuple[int | None, ...]
    options: RunOptions
    sizes: tuple[int, ...]
    readout: ReadoutPlan | None = None


class Executor:
    """Turns programs into one job on a connection's quantum computer.

    Args:
        connection: the server connection.
        level: the compiler's optimisation level (0-3) for circuits it compiles.
        seed: seed of the compiler's layout search and routing tie-breaks.
        max_circuits: at most this many circuits per server job (``None``: no limit).
        options: the run options every job uses unless a call overrides them.
        mitigation: readout-error mitigation (see :meth:`Mitigation.of`): ``None`` (off),
            ``True``/``"readout"``, ``"calibration"``, ``"circuits"`` or a :class:`Mitigation`.

    Raises:
        ConfigurationError: a level, seed or ``max_circuits`` out of range.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        level: int = DEFAULT_LEVEL,
        seed: int | None = None,
        max_circuits: int | None = None,
        options: RunOptions | None = None,
        mitigation: Any = None,
    ) -> None:
        self.connection = connection
        self.mitigation = Mitigation.of(mitigation)
        self.level, self.seed, self.max_circuits = check_settings(level, seed, max_circuits)
        self.options = options or RunOptions()
        self.options.check()

    def __repr__(self) -> str:
        return f"Executor({self.connection!r}, level={self.level})"

    @property
    def device(self) -> Device:
        """The connection's device."""
        return self.connection.device

    def natives(self, program: Program) -> list[Circuit]:
        """The native circuits that run for ``program``, one per binding (see
        :func:`natives_for`)."""
        return natives_for(program, self.device, level=self.level, seed=self.seed)

    # ----------------------------------------------------------------------------- running
    def prepare(self, programs: Sequence[Program], options: RunOptions | None = None) -> Prepared:
        """Every decision for one call, without sending anything: the native circuits, how to
        read them, and the options of the one job they make.

        Raises:
            CircuitValidationError: no programs (a ``ValueError``), or a circuit that cannot
                run on the device.
            ConfigurationError: a bad option.
        """
        if not programs:
            raise CircuitValidationError("nothing to run: the list of circuits is empty")
        opts = options or self.options
        shots = [opts.shots if p.shots is None else p.shots for p in programs]
        job_shots = max(shots)
        opts = attrs.evolve(opts, shots=job_shots)
        opts.check()
        circuits: list[Circuit] = []
        keymaps: list[KeyMap] = []
        keep: list[int | None] = []
        for program, n in zip(programs, shots, strict=True):
            circuit = program.circuit
            if not any(isinstance(op, Measure) for op in circuit.operations):
                warnings.warn(
                    f"circuit {circuit.name!r} has no measurements: it runs, but its result "
                    "has no bits",
                    NoMeasurementWarning,
                    stacklevel=4,
                )
            with collector.paused():  # binding a sweep makes one circuit per point
                natives = self.natives(program)
            keymap = program.result_keymap()
            circuits.extend(natives)
            keymaps.extend([keymap] * len(natives))
            keep.extend([None if n == job_shots else n] * len(natives))
        sizes = tuple(p.size for p in programs)
        plan = None
        if self.mitigation is not None:
            plan = self._readout_plan(circuits, keymaps)
            if plan.errors is None:
                zeros, ones, keymap = calibration_circuits(plan.qubits)
                circuits += [zeros, ones]
                keymaps += [keymap, keymap]
                keep += [None, None]
        return Prepared(tuple(circuits), tuple(keymaps), tuple(keep), opts, sizes, plan)

    def _readout_plan(self, circuits: Sequence[Circuit], keymaps: Sequence[KeyMap]) -> ReadoutPlan:
        assert self.mitigation is not None
        qubits = measured_union(column_qubits(c, k) for c, k in zip(circuits, keymaps, strict=True))
        if self.mitigation.source == "circuits":
            return ReadoutPlan(qubits, None)
        try:
            return ReadoutPlan(qubits, served_errors(self.device.calibration, qubits))
        except ReadoutCalibrationError:
            if self.mitigation.source == "calibration":
                raise
            return ReadoutPlan(qubits, None)

    def submit(self, programs: Sequence[Program], options: RunOptions | None = None) -> Batch:
        """Compile what needs it and submit every program's circuits as one job.

        Args:
            programs: the programs, in the order results come back.
            options: run options for this call (default: the executor's).

        Returns:
            The handle of the job.

        Raises:
            CircuitValidationError: no programs (a ``ValueError``), or a circuit that cannot
                run on the device.
            ConfigurationError: a bad option.
        """
        p = self.prepare(programs, options)
        job = self.connection.submit(
            p.circuits,
            p.options,
            max_circuits=self.max_circuits,
            keymaps=p.keymaps,
            keep_shots=p.keep_shots,
        )
        return Batch(job, p.sizes, p.readout)

    def job_definition(self, programs: Sequence[Program], options: RunOptions | None = None) -> Any:
        """The job :meth:`submit` would send (one job: ``max_circuits`` is not applied), as
        iqm-client's ``CircuitJobDefinition``, without sending it."""
        p = self.prepare(programs, options)
        return self.connection.job_definition(p.circuits, p.options)

    def run(
        self,
        programs: Sequence[Program],
        options: RunOptions | None = None,
        timeout: float | None = None,
    ) -> list[list[CircuitResult]]:
        """:meth:`submit`, then wait for the results (per program, per binding)."""
        return self.submit(programs, options).result(timeout)

    def retrieve(self, job_id: str) -> Batch:
        """The handle of an earlier job by its id (each circuit its own program).

        A job that ran readout calibration circuits is mitigated from them; otherwise, when
        this executor mitigates, from the calibration the server serves now.
        """
        job = self.connection.retrieve(job_id)
        marks = [m.get(CALIBRATION_METADATA_KEY) for m in job.circuit_metadata]
        calibrated = marks[-2:] == ["zeros", "ones"]
        user = job.num_circuits - (2 if calibrated else 0)
        plan = None
        if calibrated or self.mitigation is not None:
            qubits = measured_union(job.columns)
            errors = None if calibrated else served_errors(self.device.calibration, qubits)
            plan = ReadoutPlan(qubits, errors)
        return Batch(job, (1,) * user, plan)


class Batch:
    """The one handle of the job the door made for a call: status, cancel, wait, results.

    Args:
        job: the submission layer's job.
        sizes: how many circuits each program made, in order.
        readout: the readout-mitigation plan of the call, if it asked for one.
    """

    def __init__(self, job: Job, sizes: Sequence[int], readout: ReadoutPlan | None = None) -> None:
        self.job = job
        self.sizes = tuple(sizes)
        self.readout = readout

    def __repr__(self) -> str:
        return f"Batch(job_id={self.job_id!r})"

    @property
    def job_id(self) -> str:
        """The job's id (comma-joined server ids when ``max_circuits`` split it)."""
        return self.job.job_id

    @property
    def job_ids(self) -> tuple[str, ...]:
        """The server job ids."""
        return self.job.job_ids

    def status(self) -> JobStatus:
        """The job's status."""
        return self.job.status()

    def done(self) -> bool:
        """Whether the job has finished (completed, failed or cancelled)."""
        return self.job.done()

    def cancel(self) -> bool:
        """Ask the server to cancel the job; True if every part is stopped."""
        return self.job.cancel()

    def wait(self, timeout: float | None = None) -> JobStatus:
        """Block until the job finishes (see :meth:`Job.wait`)."""
        return self.job.wait(timeout)

    async def wait_async(
        self,
        timeout: float | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> JobStatus:
        """Await the job's end, pausing with ``sleep`` between polls."""
        return await self.job.wait_async(timeout, sleep)

    def _group(self, flat: Sequence[CircuitResult]) -> list[list[CircuitResult]]:
        plan = self.readout
        if plan is not None:
            errors = plan.errors
            if errors is None:  # the job's last two circuits measured the readout errors
                *flat, zeros, ones = flat
                errors = ReadoutErrors.from_bits(
                    plan.qubits, zeros.bits.memory(), ones.bits.memory()
                )
            flat = [attrs.evolve(r, readout=column_errors(errors, r.columns)) for r in flat]
        out, pos = [], 0
        for size in self.sizes:
            out.append(list(flat[pos : pos + size]))
            pos += size
        return out

    def result(
        self, timeout: float | None = None, *, cancel_after_timeout: bool = False
    ) -> list[list[CircuitResult]]:
        """Wait and return, per program, one result per binding (in order)."""
        flat = self.job.result(timeout, cancel_after_timeout=cancel_after_timeout)
        return self._group(flat)

    async def result_async(
        self,
        timeout: float | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> list[list[CircuitResult]]:
        """Like :meth:`result`, awaiting the job with ``sleep`` between polls."""
        return self._group(await self.job.result_async(timeout, sleep))


def prepare(
    circuits: Sequence[Circuit],
    device: Device,
    *,
    level: int = DEFAULT_LEVEL,
    seed: int | None = None,
    placement: str = AUTO,
) -> list[Circuit]:
    """The native circuits the door would submit for bound ``circuits`` on ``device``."""
    level = _check_int("optimization level", level, 0, 3)
    out: list[Circuit] = []
    for c in circuits:
        out.extend(natives_for(Program(c, placement=placement), device, level=level, seed=seed))
    return out


def run(
    connection: Connection,
    circuits: Sequence[Circuit],
    options: RunOptions | None = None,
    *,
    max_circuits: int | None = None,
    level: int = DEFAULT_LEVEL,
    seed: int | None = None,
    placement: str = AUTO,
) -> Job:
    """Run IR circuits through the door as one job and return the submission layer's job.

    A convenience for programs written directly against the core; adapters use
    :class:`Executor`.
    """
    executor = Executor(connection, level=level, seed=seed, max_circuits=max_circuits)
    programs = [Program(c, placement=placement) for c in circuits]
    return executor.submit(programs, options).job

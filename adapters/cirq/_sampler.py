"""``IQMSampler``: a ``cirq.Sampler`` whose sweeps and batches each go out as one job.

A swept circuit is translated once with its sympy symbols kept as core parameters, compiled
once into a native *template* (cached by the circuit's structure), and bound per sweep point;
no point is re-lowered, re-routed or re-translated.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import cirq
import duet
import sympy

from iqm_bridge.adapters.cirq._convert import (
    Converted,
    NonAffineParameterError,
    check_on_device,
    to_ir,
)
from iqm_bridge.adapters.cirq._device import IQMDevice
from iqm_bridge.adapters.cirq._results import IQMResult, IQMResultMetadata, records_from_bits
from iqm_bridge.core.errors import (
    CircuitValidationError,
    ConfigurationError,
    UnboundParameterError,
)
from iqm_bridge.core.ir import Circuit, Measure
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit import Connection, Job, JobStatus
from iqm_bridge.core.templates import Template, get_template
from iqm_bridge.core.validation import validate_native

__all__ = ["IQMJob", "IQMSampler"]

logger = logging.getLogger(__name__)


@attrs.frozen(slots=True)
class _Entry:
    """One circuit of a job: which program and sweep point, and how to read its result."""

    program: int
    params: cirq.ParamResolver
    converted: Converted


class IQMJob:
    """Handle of a submitted sweep or batch: status, cancel, and results in cirq form.

    One job per distinct ``repetitions`` value of the batch (normally exactly one), each split
    only by the sampler's ``max_circuits``.
    """

    def __init__(
        self, jobs: Sequence[Job], entries: Sequence[Sequence[_Entry]], num_programs: int
    ) -> None:
        self._jobs = tuple(jobs)
        self._entries = tuple(tuple(e) for e in entries)
        self._num_programs = num_programs

    def __repr__(self) -> str:
        return f"IQMJob(job_ids={self.job_ids!r})"

    @property
    def jobs(self) -> tuple[Job, ...]:
        """The core job handles (one per distinct ``repetitions``)."""
        return self._jobs

    @property
    def job_ids(self) -> tuple[str, ...]:
        """The server job ids, in submission order."""
        return tuple(jid for job in self._jobs for jid in job.job_ids)

    def status(self) -> JobStatus:
        """The overall status (failed/cancelled if any part is, completed if all are)."""
        statuses = [job.status() for job in self._jobs]
        for s in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.WAITING, JobStatus.PROCESSING):
            if s in statuses:
                return s
        return JobStatus.COMPLETED

    def done(self) -> bool:
        """Whether every part has finished (completed, failed or cancelled)."""
        return all(job.status().is_terminal for job in self._jobs)

    def cancel(self) -> bool:
        """Ask the server to cancel what has not finished; True if all parts are stopped."""
        return all([job.cancel() for job in self._jobs])

    def results(self, timeout: float | None = None) -> list[list[IQMResult]]:
        """Wait and return, per program, one :class:`IQMResult` per sweep point in sweep order.

        Raises:
            JobFailedError: the server failed or cancelled the job.
            JobTimeoutError: not finished within ``timeout`` seconds.
        """
        out: list[list[IQMResult]] = [[] for _ in range(self._num_programs)]
        for job, entries in zip(self._jobs, self._entries, strict=True):
            job_id = job.job_id
            for index, (entry, res) in enumerate(zip(entries, job.result(timeout), strict=True)):
                conv = entry.converted
                records = records_from_bits(res.bits, conv.registers, conv.invert_masks)
                meta = IQMResultMetadata(job_id, res.job_id, res.calibration_set_id, index)
                out[entry.program].append(
                    IQMResult(params=entry.params, records=records, metadata=meta)
                )
        return out


class IQMSampler(cirq.Sampler):
    """Run cirq circuits on an IQM quantum computer (or the embedded emulator).

    Every sweep point of ``run_sweep`` and every circuit of ``run_batch`` goes out in one job
    (split only by ``max_circuits``). Circuits on logical qubits (``cirq.LineQubit``,
    ``cirq.GridQubit``, ...) are placed and routed by the iqm-bridge compiler; circuits on
    ``cirq.NamedQubit('QB1')``-style device qubits run on exactly those qubits.

    Args:
        url: the IQM server's root URL; ``None``: ``IQM_SERVER_URL``, else the embedded
            emulator (``IQM_BRIDGE_EMULATOR_MACHINE`` picks the machine).
        quantum_computer: the quantum computer's alias if the server has several.
        token: an API token (or set ``IQM_TOKEN``).
        max_circuits: at most this many circuits per server job.
        level: compiler optimisation level, 0 to 3.
        seed: seed for layout and routing (default: deterministic).
        connection: an existing core connection to use instead of ``url``/``token``.
        **options: run options (``calibration_set_id``, ``heralding_mode``, ``timeout``, ...;
            see :class:`iqm_bridge.core.options.RunOptions`); shots come from ``repetitions``.

    Raises:
        UnknownOptionError: an option name that does not exist (the message lists them).
    """

    def __init__(
        self,
        url: str | None = None,
        quantum_computer: str | None = None,
        token: str | None = None,
        *,
        max_circuits: int | None = None,
        level: int = 2,
        seed: int | None = None,
        connection: Connection | None = None,
        **options: Any,
    ) -> None:
        if "shots" in options:
            raise ConfigurationError(
                "IQMSampler takes shots from each call's 'repetitions', not from an option"
            )
        if max_circuits is not None and max_circuits < 1:
            raise ConfigurationError(f"max_circuits={max_circuits} must be at least 1")
        self._options = RunOptions.from_kwargs(None, **options)
        self._conn = connection or Connection(url, quantum_computer, token)
        self.max_circuits = max_circuits
        self.level = level
        self.seed = seed
        self._device: IQMDevice | None = None

    def __repr__(self) -> str:
        return f"IQMSampler({self._conn!r})"

    @property
    def connection(self) -> Connection:
        """The core connection (server URL, device, job submission)."""
        return self._conn

    @property
    def device(self) -> IQMDevice:
        """The quantum computer as a ``cirq.Device``."""
        if self._device is None or self._device.core_device is not self._conn.device:
            self._device = IQMDevice(self._conn.device)
        return self._device

    def close(self) -> None:
        """Release the connection's client."""
        self._conn.close()

    # cirq.Sampler ---------------------------------------------------------------------------
    def run_sweep(
        self, program: cirq.AbstractCircuit, params: cirq.Sweepable, repetitions: int = 1
    ) -> list[IQMResult]:
        """Sample ``program`` at every point of ``params``, all points in one job.

        Args:
            program: the circuit; sympy symbols may appear in gate exponents and angles.
            params: the sweep (``cirq.Linspace``, products, zips, resolvers, dicts, None).
            repetitions: shots per point.

        Returns:
            One :class:`IQMResult` per sweep point, in sweep order, with ``params`` set.

        Raises:
            UnsupportedOperationError: a gate with no translation.
            QubitNotOnDeviceError: a ``NamedQubit('QB..')`` the device lacks.
            DuplicateMeasurementKeyError: a key reused with a different number of qubits.
            JobFailedError: the server failed the job.
        """
        return self.run_batch([program], [params], repetitions)[0]

    def run_batch(
        self,
        programs: Sequence[cirq.AbstractCircuit],
        params_list: Sequence[cirq.Sweepable] | None = None,
        repetitions: int | Sequence[int] = 1,
    ) -> list[list[IQMResult]]:
        """Run several circuits (each with its sweep) as one job.

        Circuits with different ``repetitions`` cannot share a job (shots are per job), so
        there is one job per distinct value.

        Returns:
            Per program, one :class:`IQMResult` per sweep point.
        """
        return self.submit_batch(programs, params_list, repetitions).results()

    async def run_sweep_async(
        self, program: cirq.AbstractCircuit, params: cirq.Sweepable, repetitions: int = 1
    ) -> list[IQMResult]:
        """Like :meth:`run_sweep`, awaiting the job without blocking other tasks."""
        results = await self.run_batch_async([program], [params], repetitions)
        return results[0]

    async def run_batch_async(
        self,
        programs: Sequence[cirq.AbstractCircuit],
        params_list: Sequence[cirq.Sweepable] | None = None,
        repetitions: int | Sequence[int] = 1,
    ) -> list[list[IQMResult]]:
        """Like :meth:`run_batch`, awaiting the job without blocking other tasks."""
        job = self.submit_batch(programs, params_list, repetitions)
        interval = self._conn.poll_interval
        while not job.done():
            await duet.sleep(interval)
            interval = min(interval * 1.5, self._conn.max_poll_interval)
        return job.results()

    # submission -----------------------------------------------------------------------------
    def submit_sweep(
        self, program: cirq.AbstractCircuit, params: cirq.Sweepable = None, repetitions: int = 1
    ) -> IQMJob:
        """Submit a sweep as one job and return its handle without waiting."""
        return self.submit_batch([program], [params], repetitions)

    def submit_batch(
        self,
        programs: Sequence[cirq.AbstractCircuit],
        params_list: Sequence[cirq.Sweepable] | None = None,
        repetitions: int | Sequence[int] = 1,
    ) -> IQMJob:
        """Submit circuits with their sweeps (one job per distinct ``repetitions``).

        Returns:
            The job handle; :meth:`IQMJob.results` gives per-program result lists.
        """
        if not programs:
            raise ConfigurationError("nothing to run: the list of circuits is empty")
        params_list, reps = self._normalize_batch_args(programs, params_list, repetitions)
        groups: dict[int, tuple[list[Circuit], list[_Entry]]] = {}
        for index, (program, sweep, shots) in enumerate(
            zip(programs, params_list, reps, strict=True)
        ):
            natives, entries = groups.setdefault(int(shots), ([], []))
            for entry, native in self._expand(index, program, sweep):
                natives.append(native)
                entries.append(entry)
        jobs, entry_lists = [], []
        for shots, (natives, entries) in groups.items():
            options = attrs.evolve(self._options, shots=shots)
            jobs.append(self._conn.submit(natives, options, max_circuits=self.max_circuits))
            entry_lists.append(entries)
        return IQMJob(jobs, entry_lists, len(programs))

    def _expand(
        self, index: int, program: cirq.AbstractCircuit, sweep: cirq.Sweepable
    ) -> list[tuple[_Entry, Circuit]]:
        """The native circuit of every sweep point of one program."""
        resolvers = list(cirq.to_resolvers(sweep)) or [cirq.ParamResolver()]
        try:
            converted = to_ir(program)
        except NonAffineParameterError:
            # not affine: resolve in cirq and translate each point (slower, still one job)
            out = []
            for resolver in resolvers:
                conv = to_ir(cirq.resolve_parameters(program, resolver))
                out.append((_Entry(index, resolver, conv), self._template(conv).bind({})))
            return out
        template = self._template(converted)
        names = template.parameters
        if not names:
            native = template.bind({})
            return [(_Entry(index, r, converted), native) for r in resolvers]
        symbols = [sympy.Symbol(n) for n in names]
        out = []
        for resolver in resolvers:
            values = []
            given = resolver.param_dict
            for name, symbol in zip(names, symbols, strict=True):
                value = given.get(name)
                if not isinstance(value, int | float):
                    # symbol keys, expressions and references to other symbols: cirq resolves
                    value = resolver.value_of(symbol)
                try:
                    values.append(float(value))
                except TypeError:
                    raise UnboundParameterError(
                        f"symbol {name!r} of the circuit has no value at sweep point "
                        f"{dict(resolver.param_dict)}; add it to the sweep"
                    ) from None
            out.append((_Entry(index, resolver, converted), template.bind(values)))
        return out

    def _template(self, converted: Converted) -> _Bindable:
        """The native circuit (symbolic if ``converted`` is), compiled once and cached."""
        ir = converted.circuit
        if not any(isinstance(op, Measure) for op in ir.operations):
            raise CircuitValidationError(
                "the cirq circuit has no measurement, so it would return no results; add "
                "cirq.measure(...)"
            )
        device = self._conn.device
        bound_to_device = check_on_device(converted, device.components, device.name)
        if bound_to_device:
            # a circuit already native on these device qubits is submitted as it is
            probe = ir.bind(dict.fromkeys(ir.parameters, 0.0)) if ir.parameters else ir
            try:
                validate_native(probe, device)
            except CircuitValidationError:
                pass
            else:
                return _Bindable(ir, None)
        layout = {q: q for q in ir.qubits} if bound_to_device else None
        template = get_template(ir, device, seed=self.seed, level=self.level, initial_layout=layout)
        return _Bindable(None, template)


class _Bindable:
    """A native circuit to bind per sweep point: a compiled template or a ready native one."""

    __slots__ = ("_native", "_template", "parameters")

    def __init__(self, native: Circuit | None, template: Template | None) -> None:
        self._native = native
        self._template = template
        if template is not None:
            self.parameters: tuple[str, ...] = template.parameters
        else:
            assert native is not None
            self.parameters = tuple(sorted(native.parameters))

    def bind(self, values: Mapping[str, float] | Sequence[float]) -> Circuit:
        """The native circuit at these values (by name, or in :attr:`parameters` order)."""
        if self._template is not None:
            return self._template.bind(values)
        assert self._native is not None
        if not self.parameters:
            return self._native
        if not isinstance(values, Mapping):
            values = dict(zip(self.parameters, values, strict=True))
        return self._native.bind(values)

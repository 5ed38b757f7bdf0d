"""``IQMSampler``: a ``cirq.Sampler`` whose sweeps and batches each go out as one job.

The sampler only translates: each cirq circuit becomes one IR circuit with its sympy symbols
kept as core parameters (the door compiles it once and binds it per sweep point), or, for a
parameter the core cannot keep symbolic, one resolved circuit per point. Circuits on
``cirq.NamedQubit('QB1')``-style device qubits stay on those qubits; others are placed by the
compiler (see :mod:`iqm_bridge.core.execute`).
"""

from __future__ import annotations

import functools
import logging
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import cirq
import duet
import numpy as np
import sympy

from iqm_bridge.adapters.cirq._convert import (
    Converted,
    NonAffineParameterError,
    check_on_device,
    to_ir,
)
from iqm_bridge.adapters.cirq._device import IQMDevice, IQMDeviceMetadata
from iqm_bridge.adapters.cirq._results import (
    IQMResult,
    ResultMetadata,
    as_uuid,
    records_from_bits,
)
from iqm_bridge.core import (
    DEFAULT_LEVEL,
    DEVICE,
    FREE,
    Batch,
    ConfigurationError,
    Connection,
    Executor,
    JobStatus,
    PauliTerm,
    Program,
    ReadoutErrors,
    RunOptions,
    UnboundParameterError,
    estimate_sum,
    group_qubit_wise,
    measure_in_basis,
)

__all__ = ["IQMJob", "IQMSampler", "IncompatibleDeviceError"]

logger = logging.getLogger(__name__)


@attrs.frozen(slots=True)
class _Entry:
    """One circuit of a job: which program and sweep point, and how to read its result."""

    program: int
    params: cirq.ParamResolver
    converted: Converted


class IQMJob:
    """Handle of a submitted sweep or batch: status, cancel, and results in cirq form.

    Args:
        batch: the core's handle of the job.
        entries: per circuit of the job, in order, where its result goes.
        num_programs: how many cirq programs were submitted.
        request: builds the call's job definition (for :attr:`ResultMetadata.request`).
    """

    def __init__(
        self,
        batch: Batch,
        entries: Sequence[_Entry],
        num_programs: int,
        request: Callable[[], Any] | None = None,
    ) -> None:
        self._batch = batch
        self._entries = tuple(entries)
        self._num_programs = num_programs
        self._request = request

    def __repr__(self) -> str:
        return f"IQMJob(job_id={self.job_id!r})"

    @property
    def batch(self) -> Batch:
        """The core's handle of the job."""
        return self._batch

    @property
    def job_id(self) -> str:
        """The job's id (comma-joined server ids when ``max_circuits`` split it)."""
        return self._batch.job_id

    @property
    def job_ids(self) -> tuple[str, ...]:
        """The server job ids, in submission order."""
        return self._batch.job_ids

    def status(self) -> JobStatus:
        """The job's status."""
        return self._batch.status()

    def done(self) -> bool:
        """Whether the job has finished (completed, failed or cancelled)."""
        return self._batch.done()

    def cancel(self) -> bool:
        """Ask the server to cancel the job; True if every part is stopped."""
        return self._batch.cancel()

    def _convert(self, flat: Sequence[Any]) -> list[list[IQMResult]]:
        out: list[list[IQMResult]] = [[] for _ in range(self._num_programs)]
        for index, (entry, res) in enumerate(zip(self._entries, flat, strict=True)):
            conv = entry.converted
            records = records_from_bits(res.bits, conv.registers, conv.invert_masks)
            meta = ResultMetadata(
                as_uuid(res.job_id),
                as_uuid(res.calibration_set_id),
                self._request,
                self.job_ids,
                index,
            )
            readout, masks = _per_key(conv, res.readout)
            result = IQMResult(
                params=entry.params, records=records, metadata=meta, readout=readout, masks=masks
            )
            out[entry.program].append(result)
        return out

    def results(self, timeout: float | None = None) -> list[list[IQMResult]]:
        """Wait and return, per program, one :class:`IQMResult` per sweep point in sweep order.

        Raises:
            JobFailedError: the server failed or cancelled the job.
            JobTimeoutError: not finished within ``timeout`` seconds.
        """
        return self._convert([r for group in self._batch.result(timeout) for r in group])

    async def results_async(self, timeout: float | None = None) -> list[list[IQMResult]]:
        """Like :meth:`results`, awaiting the job (in cirq's ``duet`` event loop)."""
        groups = await self._batch.result_async(timeout, sleep=duet.sleep)
        return self._convert([r for group in groups for r in group])


def _per_key(
    conv: Converted, errors: ReadoutErrors | None
) -> tuple[dict[str, ReadoutErrors] | None, dict[str, Any]]:
    """Per cirq key: the readout errors of its columns (if mitigated) and its last mask."""
    masks = {key: m[-1] for (key, _), m in zip(conv.registers, conv.invert_masks, strict=True)}
    if errors is None:
        return None, masks
    out, start = {}, 0
    for key, width in conv.registers:
        out[key] = errors.subset(errors.qubits[start : start + width])
        start += width
    return out, masks


def _values(resolver: cirq.ParamResolver, names: Sequence[str]) -> dict[str, float]:
    """The value of every circuit symbol at one sweep point (cirq resolves expressions)."""
    given = resolver.param_dict
    values = {}
    for name in names:
        value = given.get(name)
        if not isinstance(value, int | float):
            value = resolver.value_of(sympy.Symbol(name))
        try:
            values[name] = float(value)
        except TypeError:
            raise UnboundParameterError(
                f"symbol {name!r} of the circuit has no value at sweep point {dict(given)}; add "
                "it to the sweep"
            ) from None
    return values


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
        device: an :class:`IQMDevice` the circuits were designed for; it must equal the
            server's (a ``ValueError`` otherwise) and is then what :attr:`device` returns.
        run_sweep_timeout: seconds ``run_sweep`` waits for results (the official name of the
            ``timeout`` option).
        mitigation: readout-error mitigation: ``None`` (off), ``"readout"`` (the served
            calibration, else calibration circuits in the same job), ``"calibration"`` or
            ``"circuits"``. Results then give mitigated values (:meth:`IQMResult.expectation`,
            :meth:`IQMResult.quasi_histogram`) and :meth:`sample_expectation_values` is
            mitigated; raw measurements stay raw.
        **options: run options (``calibration_set_id``, ``heralding_mode``, ``timeout``,
            iqm-client's ``compiler_options``...; see :class:`iqm_bridge.core.RunOptions`);
            shots come from ``repetitions``.

    Raises:
        UnknownOptionError: an option name that does not exist (the message lists them).
        IncompatibleDeviceError: ``device`` is not the server's.
    """

    def __init__(
        self,
        url: str | None = None,
        quantum_computer: str | None = None,
        token: str | None = None,
        *,
        max_circuits: int | None = None,
        level: int = DEFAULT_LEVEL,
        seed: int | None = None,
        connection: Connection | None = None,
        device: IQMDevice | None = None,
        run_sweep_timeout: float | None = None,
        mitigation: Any = None,
        **options: Any,
    ) -> None:
        if "shots" in options:
            raise ConfigurationError(
                "IQMSampler takes shots from each call's 'repetitions', not from an option"
            )
        if run_sweep_timeout is not None:
            options.setdefault("timeout", run_sweep_timeout)
        auth = {k: options.pop(k) for k in ("tokens_file",) if k in options}
        self._options = RunOptions.from_kwargs(None, **options)
        self._conn = connection or Connection(url, quantum_computer, token, **auth)
        self._executor = Executor(
            self._conn,
            level=level,
            seed=seed,
            max_circuits=max_circuits,
            options=self._options,
            mitigation=mitigation,
        )
        self._device: IQMDevice | None = None
        self._device_of: Any = None  # the core device self._device was made for
        if device is not None:
            self._device_of = self._conn.device
            server = IQMDeviceMetadata(self._device_of)
            if getattr(device, "metadata", None) != server:
                raise IncompatibleDeviceError(
                    f"device={device!r} is not the architecture of {self._conn.device.name} "
                    f"(calibration set {self._conn.device.calibration_set_id}); leave device "
                    "out to use the server's"
                )
            self._device = device

    def __repr__(self) -> str:
        return f"IQMSampler({self._conn!r})"

    @property
    def connection(self) -> Connection:
        """The core connection (server URL, device, job submission)."""
        return self._conn

    @property
    def max_circuits(self) -> int | None:
        """Most circuits per server job (``None``: no limit)."""
        return self._executor.max_circuits

    @property
    def device(self) -> IQMDevice:
        """The quantum computer as a ``cirq.Device``."""
        core = self._conn.device
        if self._device is None or self._device_of is not core:
            self._device, self._device_of = IQMDevice(core), core
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
        return await self.submit_batch(programs, params_list, repetitions).results_async()

    def sample_expectation_values(
        self,
        program: cirq.AbstractCircuit,
        observables: Any,
        *,
        num_samples: int,
        params: cirq.Sweepable = None,
        permit_terminal_measurements: bool = False,
    ) -> Sequence[Sequence[float]]:
        """``cirq.Sampler.sample_expectation_values``; readout-mitigated when the sampler
        mitigates (Pauli strings measured in qubit-wise-commuting groups, one job in all)."""
        if self._executor.mitigation is None:
            return super().sample_expectation_values(
                program,
                observables,
                num_samples=num_samples,
                params=params,
                permit_terminal_measurements=permit_terminal_measurements,
            )
        if not permit_terminal_measurements and program.are_any_measurements_terminal():
            raise ValueError(
                "the circuit has terminal measurements, which skew expectation values; pass "
                "permit_terminal_measurements=True if that is intended"
            )
        sums = [cirq.PauliSum.wrap(o) for o in (observables if isinstance(observables, list)
                                                else [observables])]  # fmt: skip
        bases, entries = self._programs([program], [params], num_samples)
        name = {q: n for n, q in entries[0].converted.qubits.items()}
        terms = [
            [PauliTerm(float(np.real(s.coefficient)), {name[q]: str(p) for q, p in s.items()})
             for s in psum]
            for psum in sums
        ]  # fmt: skip
        groups = group_qubit_wise([t for ts in terms for t in ts])
        measured = [measure_in_basis(p, g) for p in bases for g in groups]
        runs = self._executor.submit(measured).result()
        out = []
        for k, base in enumerate(bases):
            for b in range(base.size):
                row = []
                for ts in terms:
                    value = sum(t.coefficient for t in ts if not t.paulis)
                    for g, basis in enumerate(groups):
                        res = runs[k * len(groups) + g][b]
                        value += estimate_sum(res, basis, ts, mitigated=True).value
                    row.append(value)
                out.append(row)
        return out

    def run_iqm_batch(
        self, programs: Sequence[cirq.AbstractCircuit], repetitions: int = 1
    ) -> list[IQMResult]:
        """Run circuits without sweeps as one job: one result per circuit (the official
        sampler's batch call)."""
        return [r[0] for r in self.run_batch(programs, None, repetitions)]

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
        """Submit circuits with their sweeps as one job.

        Returns:
            The job handle; :meth:`IQMJob.results` gives per-program result lists.
        """
        core_programs, entries = self._programs(programs, params_list, repetitions)
        batch = self._executor.submit(core_programs)
        request = functools.cache(functools.partial(self._executor.job_definition, core_programs))
        return IQMJob(batch, entries, len(programs), request)

    def create_circuit_job_definition(
        self,
        programs: cirq.AbstractCircuit | Sequence[cirq.AbstractCircuit],
        *,
        params: cirq.Sweepable = None,
        repetitions: int = 1,
    ) -> Any:
        """The job :meth:`run` (one circuit, with ``params``) or :meth:`run_iqm_batch` (a list)
        would send, as iqm-client's ``CircuitJobDefinition``, without sending it."""
        if isinstance(programs, cirq.AbstractCircuit):
            core_programs, _ = self._programs([programs], [params], repetitions)
        else:
            core_programs, _ = self._programs(programs, None, repetitions)
        return self._executor.job_definition(core_programs)

    def _programs(
        self,
        programs: Sequence[cirq.AbstractCircuit],
        params_list: Sequence[cirq.Sweepable] | None,
        repetitions: int | Sequence[int],
    ) -> tuple[list[Program], list[_Entry]]:
        """The core programs of a call, and where each circuit's result goes."""
        params_list, reps = self._normalize_batch_args(
            programs, params_list, _repetitions(repetitions)
        )
        device = self._conn.device
        core_programs: list[Program] = []
        entries: list[_Entry] = []
        for index, (program, sweep, shots) in enumerate(
            zip(programs, params_list, reps, strict=True)
        ):
            resolvers = list(cirq.to_resolvers(sweep)) or [cirq.ParamResolver()]
            try:
                converted = [(to_ir(program), resolvers)]
            except NonAffineParameterError:
                # not affine: cirq resolves each point, each becomes its own circuit
                converted = [(to_ir(cirq.resolve_parameters(program, r)), [r]) for r in resolvers]
            for conv, points in converted:
                on_device = check_on_device(conv, device.components, device.name)
                names = sorted(conv.circuit.parameters)
                core_programs.append(
                    Program(
                        conv.circuit,
                        conv.keymap,
                        bindings=[_values(r, names) for r in points],
                        placement=DEVICE if on_device else FREE,
                        shots=shots,
                    )
                )
                entries.extend(_Entry(index, r, conv) for r in points)
        return core_programs, entries


class IncompatibleDeviceError(ConfigurationError, ValueError):
    """``IQMSampler(device=...)`` names a device that is not the server's architecture."""


def _repetitions(value: Any) -> int | list[int]:
    """``repetitions`` as a whole number or a list of them (numpy integers included).

    Raises:
        ConfigurationError: not a whole number (a string, a float, ``None``...).
    """
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_whole(v) for v in value]
    return _whole(value)


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigurationError(
            f"repetitions={value!r} must be a whole number (or one per program), not "
            f"{type(value).__name__}"
        )
    return int(value)

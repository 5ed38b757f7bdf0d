"""Job handles: status, cancel, wait and results of a submission.

A :class:`Job` is what :meth:`~iqm_bridge.core.submit.Connection.submit` returns and what
:meth:`~iqm_bridge.core.submit.Connection.retrieve` rebuilds from an id. It talks to the
server only through a :class:`~iqm_bridge.core.submit.transport.Transport`. Waiting polls with
an interval that starts short and grows to a cap (blocking, or awaited with any event loop's
sleep), shows a progress bar on a terminal, and turns Ctrl-C into a choice to cancel. Results
come back as one :class:`CircuitResult` per circuit, with the measured bits placed by each
circuit's :class:`~iqm_bridge.core.keys.KeyMap`.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import Any

import attrs

from iqm_bridge.core.errors import (
    IQMBridgeError,
    JobFailedError,
    JobTimeoutError,
    MalformedResponseError,
    ResultFormatError,
)
from iqm_bridge.core.ir import Circuit, Measure
from iqm_bridge.core.keys import KeyMap, MeasurementBits, Register
from iqm_bridge.core.mitigation import ReadoutErrors
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.readout import column_qubits
from iqm_bridge.core.submit.journal import Journal, JournalBusyError
from iqm_bridge.core.submit.transport import Deadline, Transport, twin
from iqm_bridge.core.wire import REGISTERS_METADATA_KEY, RESULT_METADATA_KEY

__all__ = ["CircuitResult", "Job", "JobContext", "JobStatus", "PollPolicy", "keymap_of"]

logger = logging.getLogger(__name__)


class JobStatus(enum.StrEnum):
    """Status of a job, as the server reports it."""

    WAITING = "waiting"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Whether the job will not change any more."""
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)

    @classmethod
    def combine(cls, statuses: Sequence[JobStatus]) -> JobStatus:
        """The status of a job made of parts: failed or cancelled if any part is, completed
        if all are, processing once any part has started, else waiting."""
        for s in (cls.FAILED, cls.CANCELLED):
            if s in statuses:
                return s
        if all(s is cls.COMPLETED for s in statuses):
            return cls.COMPLETED
        if cls.PROCESSING in statuses or cls.COMPLETED in statuses:
            return cls.PROCESSING
        return cls.WAITING


@attrs.frozen(slots=True)
class CircuitResult:
    """The result of one circuit of a job.

    Attributes:
        name: the circuit's name.
        bits: the measured bits per register (see :class:`~iqm_bridge.core.keys.MeasurementBits`).
        shots: number of shots.
        job_id: the server job that ran the circuit.
        calibration_set_id: the calibration set used, if the server said.
        metadata: the circuit's metadata as submitted.
        raw: the server's per-key measurement lists.
        columns: for each column of ``bits.memory()``, the physical qubit whose measurement
            last wrote it (``None``: never measured).
        readout: per column, the readout errors to mitigate with (set when the run asked for
            readout mitigation; ``readout.source`` says where they come from).
    """

    name: str
    bits: MeasurementBits
    shots: int
    job_id: str
    calibration_set_id: str | None
    metadata: Mapping[str, Any]
    raw: Mapping[str, Any] = attrs.field(repr=False)
    columns: tuple[str | None, ...] = ()
    readout: ReadoutErrors | None = None

    @property
    def info(self) -> Mapping[str, Any]:
        """What the adapter stored with the circuit to rebuild its framework's result."""
        info = self.metadata.get(RESULT_METADATA_KEY)
        return info if isinstance(info, Mapping) else {}


@attrs.frozen(slots=True)
class PollPolicy:
    """How often a waiting job is asked for its status.

    Attributes:
        first: the first interval in seconds.
        cap: the longest interval in seconds.
        growth: the factor by which the interval grows after each poll.
    """

    first: float = 0.01
    cap: float = 1.0
    growth: float = 1.5

    def intervals(self) -> Any:
        """The successive pauses between polls."""
        interval = self.first
        while True:
            yield interval
            interval = min(interval * self.growth, self.cap)


@attrs.frozen(slots=True)
class JobContext:
    """What a job needs besides its ids: the transport and the client-side settings.

    Attributes:
        transport: the server's transport.
        journal: where status changes are recorded (``None``: nowhere).
        poll: the polling policy.
        progress: show a progress bar (``None``: only on a terminal).
        cancel_on_interrupt: on Ctrl-C, cancel (True), leave running (False), or ask on a
            terminal (None).
    """

    transport: Transport
    journal: Journal | None = None
    poll: PollPolicy = PollPolicy()
    progress: bool | None = None
    cancel_on_interrupt: bool | None = None


def keymap_of(circuit: Circuit) -> KeyMap:
    """The key map of a circuit from its measurement keys and register metadata.

    Raises:
        ResultFormatError: a key is not in the iqm-bridge format.
    """
    km = KeyMap.from_keys(circuit.measurement_keys)
    regs = circuit.metadata.get(REGISTERS_METADATA_KEY)
    if regs:
        km = km.with_registers([Register(str(n), int(s)) for n, s in regs])
    return km


def _widths(circuit: Circuit) -> dict[str, int]:
    """Bits each measurement key returns per shot (top-level measurements only)."""
    return {op.key: len(op.qubits) for op in circuit.operations if isinstance(op, Measure)}


@attrs.frozen(slots=True)
class Part:
    """One server job of a submission: its circuits' key maps, names, metadata and shots."""

    job_id: str
    keymaps: tuple[KeyMap, ...]
    names: tuple[str, ...]
    metadata: tuple[Mapping[str, Any], ...]
    widths: tuple[Mapping[str, int], ...]
    shots: tuple[int | None, ...]
    columns: tuple[tuple[str | None, ...], ...]

    @classmethod
    def of(
        cls,
        job_id: str,
        circuits: Sequence[Circuit],
        keymaps: Sequence[KeyMap] | None = None,
        shots: Sequence[int | None] | None = None,
    ) -> Part:
        """The part for ``circuits`` (key maps rebuilt from the circuits unless given;
        ``shots``: the shots each circuit keeps, ``None`` for all the job ran)."""
        maps = tuple(keymaps) if keymaps is not None else tuple(keymap_of(c) for c in circuits)
        return cls(
            job_id,
            maps,
            tuple(c.name for c in circuits),
            tuple(c.metadata for c in circuits),
            tuple(_widths(c) for c in circuits),
            tuple(shots) if shots is not None else (None,) * len(circuits),
            tuple(column_qubits(c, km) for c, km in zip(circuits, maps, strict=True)),
        )


class Job:
    """Handle of one submission: status, cancel, wait and results.

    A submission split by ``max_circuits`` is several server jobs behind one handle; its
    :attr:`job_id` joins their ids with commas and :meth:`Connection.retrieve` accepts it.

    Args:
        context: the transport and settings.
        parts: the server jobs.
        options: the run options the job was submitted with.
        known: server job data already in hand (the submission's answers).
    """

    def __init__(
        self,
        context: JobContext,
        parts: tuple[Part, ...],
        options: RunOptions,
        known: Mapping[str, Any] | None = None,
    ) -> None:
        self._ctx = context
        self._parts = parts
        self._options = options
        # a job the server completed while answering the submission needs no status request
        self._data: dict[str, Any] = dict(known or {})
        self._results: list[CircuitResult] | None = None

    def __repr__(self) -> str:
        return f"Job(job_id={self.job_id!r})"

    @property
    def job_id(self) -> str:
        """The job's id (comma-joined server ids for a split submission)."""
        return ",".join(p.job_id for p in self._parts)

    @property
    def job_ids(self) -> tuple[str, ...]:
        """The server job ids."""
        return tuple(p.job_id for p in self._parts)

    @property
    def shots(self) -> int:
        """Shots the server runs per circuit."""
        return self._options.shots

    @property
    def options(self) -> RunOptions:
        """The run options the job was submitted with."""
        return self._options

    @property
    def num_circuits(self) -> int:
        """How many circuits the job runs."""
        return sum(len(p.keymaps) for p in self._parts)

    @property
    def columns(self) -> list[tuple[str | None, ...]]:
        """For every circuit, the physical qubit each result column reads."""
        return [c for p in self._parts for c in p.columns]

    @property
    def circuit_metadata(self) -> list[Mapping[str, Any]]:
        """The metadata of every circuit, in order."""
        return [m for p in self._parts for m in p.metadata]

    # ----------------------------------------------------------------------------- status
    def _update(self, job_id: str, deadline: Deadline | None = None) -> Any:
        data = self._data.get(job_id)
        if data is not None and JobStatus(str(data.status)).is_terminal:
            return data
        data = self._ctx.transport.job(job_id, deadline or Deadline(None))
        self._data[job_id] = data
        return data

    def _status(self, deadline: Deadline | None = None) -> JobStatus:
        return JobStatus.combine(
            [JobStatus(str(self._update(p.job_id, deadline).status)) for p in self._parts]
        )

    def status(self) -> JobStatus:
        """The overall status (see :meth:`JobStatus.combine`)."""
        return self._status()

    def done(self) -> bool:
        """Whether every part has finished (completed, failed or cancelled)."""
        return self._status().is_terminal

    def queue_position(self) -> int | None:
        """Position in the server's queue of the first waiting part, if the server says."""
        for p in self._parts:
            data = self._update(p.job_id)
            if data.queue_position is not None:
                return int(data.queue_position)
        return None

    def error_message(self) -> str | None:
        """The server's error messages for failed parts, or ``None``."""
        messages = []
        for p in self._parts:
            data = self._data.get(p.job_id) or self._update(p.job_id)
            for err in data.errors or ():
                messages.append(f"job {p.job_id}: {getattr(err, 'message', err)}")
            if str(data.status) == JobStatus.CANCELLED:
                messages.append(f"job {p.job_id}: cancelled")
        return "; ".join(messages) or None

    def timeline(self) -> list[Any]:
        """The server's timeline entries of every part (status changes with timestamps)."""
        out: list[Any] = []
        for p in self._parts:
            data = self._data.get(p.job_id) or self._update(p.job_id)
            out.extend(getattr(data, "timeline", None) or ())
        return out

    def cancel(self) -> bool:
        """Ask the server to cancel every part that has not finished.

        Returns:
            True if every part is now cancelled or was already finished.
        """
        ok = True
        for p in self._parts:
            try:
                self._ctx.transport.cancel(p.job_id)
            except IQMBridgeError as exc:
                logger.warning("could not cancel job %s: %s", p.job_id, exc)
                ok = False
            self._data.pop(p.job_id, None)
        return ok

    # ----------------------------------------------------------------------------- waiting
    def _timeout_error(self, limit: float | None, status: JobStatus | None) -> JobTimeoutError:
        state = f" (status: {status})" if status is not None else ""
        return twin(
            JobTimeoutError,
            "OperationTimeoutError",
            f"job {self.job_id} did not finish within {limit} s{state}; it is still on the "
            "server: call result() again later, or retrieve it by id",
        )

    def _limit(self, timeout: float | None) -> float | None:
        return timeout if timeout is not None else self._options.timeout

    def wait(self, timeout: float | None = None) -> JobStatus:
        """Poll until every part is finished.

        Args:
            timeout: give up after this many seconds, retries of unanswered requests included
                (``None``: the run's ``timeout`` option, else wait indefinitely).

        Returns:
            The final status.

        Raises:
            JobTimeoutError: not finished in time (the job keeps running on the server).
        """
        bar = _Progress(self._ctx.progress, len(self._parts))
        polls = self._polls(timeout, bar)
        try:
            while True:
                try:
                    pause = next(polls)
                except StopIteration as done:
                    status: JobStatus = done.value
                    return status
                time.sleep(pause)
        except KeyboardInterrupt:
            bar.close()
            self._on_interrupt()
            raise
        finally:
            bar.close()

    async def wait_async(
        self,
        timeout: float | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> JobStatus:
        """Like :meth:`wait`, but pausing between polls with ``sleep`` so other tasks run.

        Args:
            timeout: as for :meth:`wait`.
            sleep: the event loop's sleep (``asyncio.sleep``; e.g. ``duet.sleep`` for cirq).
        """
        polls = self._polls(timeout)
        while True:
            try:
                pause = next(polls)
            except StopIteration as done:
                status: JobStatus = done.value
                return status
            await sleep(pause)

    def _polls(
        self, timeout: float | None, bar: _Progress | None = None
    ) -> Generator[float, None, JobStatus]:
        """The one polling loop: yields each pause to sleep, returns the final status.

        Raises:
            JobTimeoutError: the deadline passed (retries of unanswered requests included).
        """
        limit = self._limit(timeout)
        deadline = Deadline(limit)
        pauses = self._ctx.poll.intervals()
        status: JobStatus | None = None
        while True:
            try:
                status = self._status(deadline)
            except JobTimeoutError:
                raise self._timeout_error(limit, status) from None
            if bar is not None:
                bar.update(self)
            if status.is_terminal:
                self._journal_status(status)
                return status
            remaining = deadline.remaining
            if remaining is not None and remaining <= 0:
                raise self._timeout_error(limit, status)
            pause = next(pauses)
            yield pause if remaining is None else min(pause, remaining)

    def _journal_status(self, status: JobStatus) -> None:
        journal = self._ctx.journal
        if journal is None:
            return
        try:
            journal.set_status({*self.job_ids, self.job_id}, str(status))
        except (JournalBusyError, OSError, IQMBridgeError) as exc:
            logger.warning("could not update the journal for job %s: %s", self.job_id, exc)

    def _on_interrupt(self) -> None:
        choice = self._ctx.cancel_on_interrupt
        if choice is None and sys.stdin.isatty() and sys.stderr.isatty():
            try:
                answer = input(f"\nCancel job {self.job_id} on the server? [y/N] ")
            except (EOFError, KeyboardInterrupt):
                answer = ""
            choice = answer.strip().lower() in {"y", "yes"}
        if choice:
            self.cancel()
            self._journal_status(JobStatus.CANCELLED)
            logger.warning("job %s cancelled after an interrupt", self.job_id)
        else:
            logger.warning(
                "job %s keeps running on the server; retrieve it later with its id "
                "(iqm-bridge jobs list shows it)",
                self.job_id,
            )

    # ----------------------------------------------------------------------------- results
    def result(
        self, timeout: float | None = None, *, cancel_after_timeout: bool = False
    ) -> list[CircuitResult]:
        """Wait for the job and return one :class:`CircuitResult` per circuit, in order.

        Args:
            timeout: seconds to wait in all, retries included (``None``: the run's ``timeout``
                option, else no limit).
            cancel_after_timeout: cancel the job on the server when the timeout passes.

        Raises:
            JobFailedError: the job failed or was cancelled (the message has the server's).
            JobTimeoutError: not finished within ``timeout``.
            ResultFormatError: the server's results do not fit the circuits.
        """
        if self._results is not None:
            return self._results
        limit = self._limit(timeout)
        started = time.monotonic()
        try:
            status = self.wait(limit)
        except JobTimeoutError:
            if cancel_after_timeout:
                self.cancel()
                self._journal_status(JobStatus.CANCELLED)
            raise
        left = None if limit is None else max(limit - (time.monotonic() - started), 0.1)
        return self._collect(status, Deadline(left))

    async def result_async(
        self,
        timeout: float | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> list[CircuitResult]:
        """Like :meth:`result`, awaiting the job with ``sleep`` between polls."""
        if self._results is not None:
            return self._results
        status = await self.wait_async(timeout, sleep)
        return self._collect(status, Deadline(self._limit(timeout)))

    def _collect(self, status: JobStatus, deadline: Deadline) -> list[CircuitResult]:
        if status is not JobStatus.COMPLETED:
            raise JobFailedError(
                f"job {self.job_id} {status}: {self.error_message() or 'no message from server'}"
            )
        results: list[CircuitResult] = []
        for p in self._parts:
            results.extend(self._part_results(p, deadline))
        self._results = results
        return results

    def _part_results(self, p: Part, deadline: Deadline) -> list[CircuitResult]:
        try:
            measurements = self._ctx.transport.measurements(p.job_id, deadline)
        except MalformedResponseError as exc:
            raise ResultFormatError(
                f"job {p.job_id}: the server's measurement results are malformed ({exc}); the "
                "job itself may be fine: retrieve it again later, or report the server's answer"
            ) from exc
        except JobTimeoutError:
            raise self._timeout_error(deadline.seconds, JobStatus.COMPLETED) from None
        if not isinstance(measurements, list | tuple):
            raise ResultFormatError(
                f"job {p.job_id}: the server's measurement results are a "
                f"{type(measurements).__name__}, not a list with one entry per circuit"
            )
        if len(measurements) != len(p.keymaps):
            raise ResultFormatError(
                f"job {p.job_id} returned results for {len(measurements)} circuits, "
                f"expected {len(p.keymaps)}"
            )
        data = self._data.get(p.job_id)
        cal = None
        if data is not None and data.compilation is not None:
            cal_id = data.compilation.calibration_set_id
            cal = str(cal_id) if cal_id is not None else None
        heralded = self._options.heralding_mode != "none"
        out = []
        for i, (km, meas) in enumerate(zip(p.keymaps, measurements, strict=True)):
            if not isinstance(meas, Mapping):
                raise ResultFormatError(
                    f"job {p.job_id}: the results of circuit {i} are a "
                    f"{type(meas).__name__}, not a mapping of measurement keys to shots"
                )
            try:
                bits = km.bits(meas, None if heralded else self._options.shots, p.widths[i])
            except ResultFormatError as exc:
                raise ResultFormatError(f"job {p.job_id}, circuit {i}: {exc}") from None
            keep = p.shots[i]
            if keep is not None and keep < bits.shots:
                bits = bits.first(keep)
            out.append(
                CircuitResult(
                    name=p.names[i],
                    bits=bits,
                    shots=bits.shots,
                    job_id=p.job_id,
                    calibration_set_id=cal,
                    metadata=p.metadata[i],
                    raw=meas,
                    columns=p.columns[i],
                )
            )
        return out


class _Progress:
    """A tqdm bar on a terminal (queue position, then completed parts); silent otherwise."""

    def __init__(self, enabled: bool | None, total: int) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty() and not os.environ.get("CI")
        self._bar: Any = None
        self._enabled = enabled
        self._total = total

    def update(self, job: Job) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self._total, desc=f"job {job.job_ids[0][:8]}", leave=False)
        done = sum(1 for d in job._data.values() if JobStatus(str(d.status)).is_terminal)
        pos = job.queue_position()
        self._bar.set_postfix_str("" if pos is None else f"queue position {pos}")
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

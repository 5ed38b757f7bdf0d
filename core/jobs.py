"""Job handles: status, cancel, wait and results of a submission.

A :class:`Job` is what :meth:`~iqm_bridge.core.submit.Connection.submit` returns and what
:meth:`~iqm_bridge.core.submit.Connection.retrieve` rebuilds from an id. Waiting polls with an
interval that starts short and grows to a cap, shows a progress bar on a terminal, and turns
Ctrl-C into a choice to cancel. Results come back as one :class:`CircuitResult` per circuit,
with the measured bits placed by each circuit's :class:`~iqm_bridge.core.keys.KeyMap`.
"""

from __future__ import annotations

import enum
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import attrs

from iqm_bridge.core._retry import is_malformed
from iqm_bridge.core.errors import (
    IQMBridgeError,
    JobFailedError,
    JobTimeoutError,
    ResultFormatError,
    ServerError,
)
from iqm_bridge.core.ir import Circuit, Measure
from iqm_bridge.core.keys import KeyMap, MeasurementBits, Register
from iqm_bridge.core.options import RunOptions

if TYPE_CHECKING:
    from iqm_bridge.core.submit import Connection

__all__ = ["REGISTERS_METADATA_KEY", "CircuitResult", "Job", "JobStatus"]

logger = logging.getLogger(__name__)

REGISTERS_METADATA_KEY = "iqm_bridge_registers"
"""Circuit metadata entry listing the result registers ``[[name, size], ...]`` in order, so
registers that are never measured survive a round trip through the server."""

T = TypeVar("T")


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
    """

    name: str
    bits: MeasurementBits
    shots: int
    job_id: str
    calibration_set_id: str | None
    metadata: Mapping[str, Any]
    raw: Mapping[str, Any] = attrs.field(repr=False)


def bind(fn: Callable[[Any], T], arg: Any) -> Callable[[], T]:
    """``fn`` with its one argument fixed (a typed stand-in for a late-binding lambda)."""
    return lambda: fn(arg)


def keymap_of(circuit: Circuit) -> KeyMap:
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
    job_id: str
    keymaps: tuple[KeyMap, ...]
    names: tuple[str, ...]
    metadata: tuple[Mapping[str, Any], ...]
    widths: tuple[Mapping[str, int], ...] = ()

    @classmethod
    def of(
        cls, job_id: str, circuits: Sequence[Circuit], keymaps: Sequence[KeyMap] | None = None
    ) -> Part:
        return cls(
            job_id,
            tuple(keymaps) if keymaps is not None else tuple(keymap_of(c) for c in circuits),
            tuple(c.name for c in circuits),
            tuple(c.metadata for c in circuits),
            tuple(_widths(c) for c in circuits),
        )


class Job:
    """Handle of one submission: status, cancel, wait and results.

    A submission split by ``max_circuits`` is several server jobs behind one handle; its
    :attr:`job_id` joins their ids with commas and :meth:`Connection.retrieve` accepts it.
    """

    def __init__(
        self,
        connection: Connection,
        parts: tuple[Part, ...],
        options: RunOptions,
        known: Mapping[str, Any] | None = None,
    ) -> None:
        self._conn = connection
        self._parts = parts
        self._options = options
        # server job data already in hand (the submission's answer): a job the server
        # completed while answering needs no status request before its results
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
        """Shots per circuit."""
        return self._options.shots

    @property
    def num_circuits(self) -> int:
        """How many circuits the job runs."""
        return sum(len(p.keymaps) for p in self._parts)

    def _update(self, job_id: str) -> Any:
        data = self._data.get(job_id)
        if data is not None and JobStatus(str(data.status)).is_terminal:
            return data
        tracker = self._conn._call(
            lambda: self._conn.client.get_job(UUID(job_id)), f"fetching job {job_id}"
        )
        self._data[job_id] = tracker.job_data
        return tracker.job_data

    def status(self) -> JobStatus:
        """The overall status: failed or cancelled if any part is, completed if all are."""
        statuses = [JobStatus(str(self._update(p.job_id).status)) for p in self._parts]
        for s in (JobStatus.FAILED, JobStatus.CANCELLED):
            if s in statuses:
                return s
        if all(s is JobStatus.COMPLETED for s in statuses):
            return JobStatus.COMPLETED
        if JobStatus.PROCESSING in statuses or JobStatus.COMPLETED in statuses:
            return JobStatus.PROCESSING
        return JobStatus.WAITING

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

    def cancel(self) -> bool:
        """Ask the server to cancel every part that has not finished.

        Returns:
            True if every part is now cancelled or was already finished.
        """
        ok = True
        for p in self._parts:
            try:
                self._conn._call(
                    bind(self._conn.client.cancel_job, UUID(p.job_id)),
                    f"cancelling job {p.job_id}",
                )
            except IQMBridgeError as exc:
                logger.warning("could not cancel job %s: %s", p.job_id, exc)
                ok = False
            self._data.pop(p.job_id, None)
        return ok

    def wait(self, timeout: float | None = None) -> JobStatus:
        """Poll until every part is finished, with an interval growing from short to a cap.

        Args:
            timeout: give up after this many seconds (``None``: the run's ``timeout`` option,
                else wait indefinitely).

        Returns:
            The final status.

        Raises:
            JobTimeoutError: not finished in time (the job keeps running on the server).
        """
        limit = timeout if timeout is not None else self._options.timeout
        deadline = None if limit is None else time.monotonic() + limit
        interval = self._conn.poll_interval
        bar = _Progress(self._conn.progress, len(self._parts))
        try:
            while True:
                status = self.status()
                bar.update(self)
                if status.is_terminal:
                    self._journal_status(status)
                    return status
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    raise JobTimeoutError(
                        f"job {self.job_id} did not finish within {limit} s (status: {status}); "
                        "it is still on the server: call result() again later, or "
                        "retrieve it by id"
                    )
                sleep = interval if deadline is None else min(interval, deadline - now)
                time.sleep(max(sleep, 0.0))
                interval = min(interval * 1.5, self._conn.max_poll_interval)
        except KeyboardInterrupt:
            bar.close()
            self._on_interrupt()
            raise
        finally:
            bar.close()

    def _journal_status(self, status: JobStatus) -> None:
        journal = self._conn.journal
        if journal is None:
            return
        try:
            journal.set_status({*self.job_ids, self.job_id}, str(status))
        except Exception as exc:
            logger.warning("could not update the journal for job %s: %s", self.job_id, exc)

    def _on_interrupt(self) -> None:
        choice = self._conn.cancel_on_interrupt
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

    def result(self, timeout: float | None = None) -> list[CircuitResult]:
        """Wait for the job and return one :class:`CircuitResult` per circuit, in order.

        Raises:
            JobFailedError: the job failed or was cancelled (the message has the server's).
            JobTimeoutError: not finished within ``timeout``.
            ResultFormatError: the server's results do not fit the circuits.
        """
        if self._results is not None:
            return self._results
        status = self.wait(timeout)
        if status is not JobStatus.COMPLETED:
            raise JobFailedError(
                f"job {self.job_id} {status}: {self.error_message() or 'no message from server'}"
            )
        results: list[CircuitResult] = []
        for p in self._parts:
            try:
                measurements = self._conn._call(
                    bind(self._conn._measurements, p.job_id),
                    f"fetching results of job {p.job_id}",
                )
            except ServerError as exc:
                cause = exc.__cause__
                if cause is None or not is_malformed(cause):
                    raise
                first = str(cause).strip().splitlines()
                raise ResultFormatError(
                    f"job {p.job_id}: the server's measurement results are malformed "
                    f"({type(cause).__name__}: {' '.join(first[:3])[:300]}); the job itself "
                    "may be fine: retrieve it again later, or report the server's answer"
                ) from cause
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
            for i, (km, meas) in enumerate(zip(p.keymaps, measurements, strict=True)):
                if not isinstance(meas, Mapping):
                    raise ResultFormatError(
                        f"job {p.job_id}: the results of circuit {i} are a "
                        f"{type(meas).__name__}, not a mapping of measurement keys to shots"
                    )
                try:
                    bits = km.bits(
                        meas,
                        None if self._options.heralding_mode != "none" else self._options.shots,
                        p.widths[i] if p.widths else None,
                    )
                except ResultFormatError as exc:
                    raise ResultFormatError(f"job {p.job_id}, circuit {i}: {exc}") from None
                results.append(
                    CircuitResult(
                        name=p.names[i],
                        bits=bits,
                        shots=bits.shots,
                        job_id=p.job_id,
                        calibration_set_id=cal,
                        metadata=p.metadata[i],
                        raw=meas,
                    )
                )
        self._results = results
        return results


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

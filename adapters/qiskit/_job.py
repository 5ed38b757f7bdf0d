"""The qiskit job handle and the construction of qiskit ``Result`` s from the core's bits."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from qiskit.providers import JobStatus, JobV1
from qiskit.result import Result
from qiskit.result.models import ExperimentResult, ExperimentResultData

from iqm_bridge.adapters.qiskit._convert import QISKIT_METADATA_KEY
from iqm_bridge.core.keys import MeasurementBits
from iqm_bridge.core.submit import CircuitResult, Job
from iqm_bridge.core.submit import JobStatus as CoreStatus

if TYPE_CHECKING:
    from iqm_bridge.adapters.qiskit._backend import IQMBackend

__all__ = ["IQMJob", "experiment_result", "hex_counts_and_memory"]

_STATUS = {
    CoreStatus.WAITING: JobStatus.QUEUED,
    CoreStatus.PROCESSING: JobStatus.RUNNING,
    CoreStatus.COMPLETED: JobStatus.DONE,
    CoreStatus.FAILED: JobStatus.ERROR,
    CoreStatus.CANCELLED: JobStatus.CANCELLED,
}


def hex_counts_and_memory(
    bits: MeasurementBits, columns: Sequence[int] | None, memory: bool
) -> tuple[dict[str, int], list[str] | None]:
    """Qiskit's level-2 counts and memory (hex strings, clbit ``j`` = bit ``j``).

    Vectorised: shots are packed into integers with numpy and only the distinct outcomes are
    formatted; the per-shot memory is an index into those strings.

    Args:
        bits: one circuit's measured bits.
        columns: column of each clbit in ``bits.memory()`` (``None``: clbit ``j`` is column
            ``j``).
        memory: also return the per-shot list.
    """
    table = bits.memory()
    if columns is not None:
        table = table[:, list(columns)]
    shots, width = table.shape
    if width <= 64:
        # clbit j -> bit j of a little-endian uint64 per shot
        packed_bytes = np.packbits(table, axis=1, bitorder="little")
        buf = np.zeros((shots, 8), dtype=np.uint8)
        buf[:, : packed_bytes.shape[1]] = packed_bytes
        packed = buf.view("<u8").reshape(-1)
        uniq, inverse, counts = np.unique(packed, return_inverse=True, return_counts=True)
        labels = [hex(v) for v in uniq.tolist()]
    else:
        rows, inverse, counts = np.unique(table, axis=0, return_inverse=True, return_counts=True)
        labels = [hex(int("".join(map(str, row[::-1].tolist())), 2)) for row in rows]
    hist = dict(zip(labels, counts.tolist(), strict=True))
    if not memory:
        return hist, None
    mem = np.array(labels, dtype=object)[inverse.reshape(-1)].tolist()
    return hist, mem


def experiment_result(result: CircuitResult, memory: bool | None = None) -> ExperimentResult:
    """One circuit's :class:`~iqm_bridge.core.submit.CircuitResult` as a qiskit result entry.

    Args:
        result: the core's result.
        memory: include per-shot memory; ``None`` follows what the run asked (kept in the
            circuit metadata).
    """
    info = result.metadata.get(QISKIT_METADATA_KEY) or {}
    if memory is None:
        memory = bool(info.get("memory", False))
    bits = result.bits
    hist, mem = hex_counts_and_memory(bits, info.get("clbits"), memory)
    data = (
        ExperimentResultData(counts=hist, memory=mem)
        if mem is not None
        else (ExperimentResultData(counts=hist))
    )
    header = {
        "name": result.name,
        "creg_sizes": [[r.name, r.size] for r in bits.registers],
        "memory_slots": sum(r.size for r in bits.registers),
        "metadata": info.get("metadata", {}),
    }
    return ExperimentResult(
        shots=result.shots,
        success=True,
        data=data,
        header=header,
        status="DONE",
        job_id=result.job_id,
        calibration_set_id=result.calibration_set_id,
    )


class IQMJob(JobV1):  # type: ignore[misc]
    """A qiskit job running on an IQM server (or the emulator).

    Made by :meth:`IQMBackend.run` or :meth:`IQMBackend.retrieve_job`. A submission split by
    the backend's ``max_circuits`` is several server jobs behind one handle; its ``job_id()``
    joins their ids with commas and ``retrieve_job`` accepts it.

    Args:
        backend: the backend that ran the job.
        job: the core job handle.
        memory: return per-shot memory; ``None`` follows what was asked at submission.
    """

    def __init__(self, backend: IQMBackend, job: Job, memory: bool | None = None) -> None:
        super().__init__(backend, job.job_id)
        self._job = job
        self._memory = memory
        self._result: Result | None = None

    @property
    def core_job(self) -> Job:
        """The underlying :class:`iqm_bridge.core.submit.Job`."""
        return self._job

    def submit(self) -> None:
        """Not used: :meth:`IQMBackend.run` submits the job.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError("jobs are submitted by IQMBackend.run(...)")

    def status(self) -> JobStatus:
        """The job's status as a qiskit ``JobStatus``."""
        return _STATUS[self._job.status()]

    def cancel(self) -> bool:
        """Ask the server to cancel the job.

        Returns:
            True if every part of the job is cancelled or had already finished.
        """
        return self._job.cancel()

    def queue_position(self) -> int | None:
        """Position in the server's queue, if the server reports one."""
        return self._job.queue_position()

    def error_message(self) -> str | None:
        """The server's error message for a failed or cancelled job, else ``None``."""
        return self._job.error_message()

    def result(self, timeout: float | None = None) -> Result:
        """Wait for the job and return its qiskit ``Result``.

        Counts and memory use qiskit's bit order (little-endian, registers separated by spaces,
        the last register first). ``result.results[i]`` also carries ``job_id`` and
        ``calibration_set_id``.

        Args:
            timeout: seconds to wait (``None``: the run's ``timeout`` option, else no limit).

        Raises:
            JobFailedError: the job failed or was cancelled.
            JobTimeoutError: not finished within ``timeout``.
        """
        if self._result is not None:
            return self._result
        results = self._job.result(timeout)
        backend = self.backend()
        experiments = [experiment_result(r, self._memory) for r in results]
        cal_ids = {r.calibration_set_id for r in results}
        self._result = Result(
            backend_name=backend.name,
            backend_version=backend.backend_version,
            job_id=self.job_id(),
            success=True,
            results=experiments,
            date=datetime.datetime.now().isoformat(),
            status="COMPLETED",
            calibration_set_id=next(iter(cal_ids)) if len(cal_ids) == 1 else None,
            iqm_job_ids=list(self._job.job_ids),
        )
        return self._result

    def __repr__(self) -> str:
        return f"IQMJob(job_id={self.job_id()!r})"

"""The qiskit job handle and qiskit ``Result`` s built from the core's bit arrays.

Per-shot memory is always available, as with the official integration, but costs nothing
until it is read: ``result.get_memory()`` formats only the distinct outcomes and indexes them
with numpy, and the raw ``data.memory`` (qiskit's hexadecimal level-2 format, which qiskit's
primitives read) is made on first access.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from qiskit.exceptions import QiskitError
from qiskit.providers import JobStatus, JobV1
from qiskit.result import Counts, QuasiDistribution, Result
from qiskit.result.models import ExperimentResult, ExperimentResultData

from iqm_bridge.core import (
    Batch,
    CircuitResult,
    JobFailedError,
    MeasurementBits,
    quasi_distribution,
)
from iqm_bridge.core import JobStatus as CoreStatus
from iqm_bridge.core.keys import unique_rows

if TYPE_CHECKING:
    from iqm_bridge.adapters.qiskit._backend import IQMBackend

__all__ = ["IQMJob", "IQMResult"]

_STATUS = {
    CoreStatus.WAITING: JobStatus.QUEUED,
    CoreStatus.PROCESSING: JobStatus.RUNNING,
    CoreStatus.COMPLETED: JobStatus.DONE,
    CoreStatus.FAILED: JobStatus.ERROR,
    CoreStatus.CANCELLED: JobStatus.CANCELLED,
}


def _table(bits: MeasurementBits, columns: Sequence[int] | None) -> np.ndarray[Any, Any]:
    """``shots x clbits`` array, clbit ``j`` in column ``j``."""
    table = bits.memory()
    return table if columns is None else table[:, list(columns)]


def _hex_labels(table: np.ndarray[Any, Any]) -> tuple[list[str], np.ndarray[Any, Any], Any]:
    """Distinct rows as qiskit hex strings (clbit ``j`` = bit ``j``), each shot's row, counts."""
    shots, width = table.shape
    if width <= 64:
        packed_bytes = np.packbits(table, axis=1, bitorder="little")
        buf = np.zeros((shots, 8), dtype=np.uint8)
        buf[:, : packed_bytes.shape[1]] = packed_bytes
        packed = buf.view("<u8").reshape(-1)
        uniq, inverse, counts = np.unique(packed, return_inverse=True, return_counts=True)
        return [hex(v) for v in uniq.tolist()], inverse.reshape(-1), counts
    rows, inverse, counts = np.unique(table, axis=0, return_inverse=True, return_counts=True)
    labels = [hex(int("".join(map(str, row[::-1].tolist())) or "0", 2)) for row in rows]
    return labels, inverse.reshape(-1), counts


class _Data(ExperimentResultData):  # type: ignore[misc]
    """Counts at once; per-shot memory (hex) only when something reads it."""

    def __init__(self, counts: dict[str, int], labels: list[str], inverse: Any) -> None:
        super().__init__(counts=counts)
        self._labels = labels
        self._inverse = inverse
        self._memory: list[str] | None = None
        self._data_attributes.append("memory")

    @property
    def memory(self) -> list[str]:
        if self._memory is None:
            self._memory = np.array(self._labels, dtype=object)[self._inverse].tolist()
        return self._memory

    def to_dict(self) -> dict[str, Any]:
        return {"counts": self.counts, "memory": self.memory}


def _user_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """A circuit's own metadata, without the entries iqm-bridge adds for the wire."""
    return {k: v for k, v in metadata.items() if not k.startswith("iqm_bridge_")}


def experiment_result(result: CircuitResult) -> ExperimentResult:
    """One circuit's core result as a qiskit result entry (memory available on demand)."""
    bits = result.bits
    table = _table(bits, result.info.get("clbits"))
    labels, inverse, counts = _hex_labels(table)
    data = _Data(dict(zip(labels, counts.tolist(), strict=True)), labels, inverse)
    header = {
        "name": result.name,
        "creg_sizes": [[r.name, r.size] for r in bits.registers if r.size],
        "memory_slots": table.shape[1],
        "metadata": _user_metadata(result.metadata),
    }
    entry = ExperimentResult(
        shots=result.shots,
        success=True,
        data=data,
        header=header,
        status="DONE",
        job_id=result.job_id,
        calibration_set_id=result.calibration_set_id,
    )
    entry._iqm_bits = table  # for IQMResult.get_memory
    entry._iqm_groups = [r.size for r in bits.registers if r.size]
    readout = result.readout
    if readout is not None:  # per clbit, in clbit order
        clbits = result.info.get("clbits") or range(len(readout.qubits))
        readout = readout.subset([readout.qubits[c] for c in clbits])
    entry._iqm_readout = readout
    return entry


class IQMResult(Result):  # type: ignore[misc]
    """A qiskit ``Result`` whose ``get_counts`` and ``get_memory`` read the bit arrays directly:
    memory formats only the distinct outcomes (numpy), and counts never build the memory."""

    def get_counts(self, experiment: Any = None) -> Any:
        """Counts per outcome in qiskit's bitstring order (see ``Result.get_counts``)."""
        keys = range(len(self.results)) if experiment is None else [experiment]
        out = []
        for key in keys:
            exp = self._get_experiment(key)
            if getattr(exp, "_iqm_bits", None) is None:
                return super().get_counts(experiment)
            header = exp.header.to_dict() if hasattr(exp.header, "to_dict") else dict(exp.header)
            if not header.get("memory_slots"):  # nothing measured: one empty outcome
                out.append(Counts({"": exp.shots}))
                continue
            extra = {k: header[k] for k in ("creg_sizes", "memory_slots") if k in header}
            out.append(Counts(exp.data.counts, **extra))
        return out[0] if len(out) == 1 else out

    def get_quasi_distribution(self, experiment: Any = None) -> QuasiDistribution:
        """The readout-mitigated quasi-probabilities of an experiment's outcomes (keys: the
        integer of the clbits, clbit 0 the least significant bit), for a job run with the
        ``mitigation`` option. They sum to 1; a few may be slightly negative.

        Raises:
            QiskitError: the job ran without readout mitigation.
        """
        exp = self._get_experiment(experiment)
        readout = getattr(exp, "_iqm_readout", None)
        if readout is None:
            raise QiskitError(
                "no readout mitigation for this result: run with backend.run(..., "
                "mitigation='readout')"
            )
        quasi = quasi_distribution(exp._iqm_bits, readout)
        values = {int(s, 2): float(v) for s, v in quasi.as_dict().items()}
        return QuasiDistribution(
            values, shots=exp.shots, stddev_upper_bound=quasi.gamma / math.sqrt(exp.shots)
        )

    @property
    def quasi_dists(self) -> list[QuasiDistribution]:
        """:meth:`get_quasi_distribution` of every experiment."""
        return [self.get_quasi_distribution(i) for i in range(len(self.results))]

    def get_memory(self, experiment: Any = None) -> Any:
        """Per-shot bitstrings in qiskit's order (clbit 0 last, registers separated by spaces)."""
        exp = self._get_experiment(experiment)
        table = getattr(exp, "_iqm_bits", None)
        if table is None:
            return super().get_memory(experiment)
        groups = getattr(exp, "_iqm_groups", None) or [table.shape[1]]
        strings, _, inverse = unique_rows(table, groups, reverse=True, separator=" ")
        return np.array(strings, dtype=object)[inverse].tolist()


class IQMJob(JobV1):  # type: ignore[misc]
    """A qiskit job running on an IQM server (or the emulator).

    Made by :meth:`IQMBackend.run` or :meth:`IQMBackend.retrieve_job`. A submission split by
    the backend's ``max_circuits`` is several server jobs behind one handle; its ``job_id()``
    joins their ids with commas and ``retrieve_job`` accepts it.

    Args:
        backend: the backend that ran the job.
        batch: the core's handle of the job.
    """

    def __init__(self, backend: IQMBackend, batch: Batch) -> None:
        super().__init__(backend, batch.job_id)
        self._batch = batch
        self._result: Result | None = None

    @property
    def core_job(self) -> Batch:
        """The core's handle of the job."""
        return self._batch

    @property
    def circuit_metadata(self) -> list[Any]:
        """The metadata of the circuits as submitted (the circuits' own, JSON-compatible)."""
        return [_user_metadata(m) for m in self._batch.job.circuit_metadata]

    def submit(self) -> None:
        """Not used: :meth:`IQMBackend.run` submits the job.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError("jobs are submitted by IQMBackend.run(...)")

    def status(self) -> JobStatus:
        """The job's status as a qiskit ``JobStatus``."""
        return _STATUS[self._batch.status()]

    def cancel(self) -> bool:
        """Ask the server to cancel the job; True if every part is cancelled or finished."""
        return self._batch.cancel()

    def queue_position(self, refresh: bool = False) -> int | None:
        """Position in the server's queue, if the server reports one."""
        del refresh
        return self._batch.job.queue_position()

    def error_message(self) -> str | None:
        """The server's error message for a failed or cancelled job, else ``None``."""
        return self._batch.job.error_message()

    def result(self, timeout: float | None = None, *, cancel_after_timeout: bool = False) -> Result:
        """Wait for the job and return its qiskit ``Result``.

        Counts and memory use qiskit's bit order (little-endian, registers separated by spaces,
        the last register first). ``result.results[i]`` also carries ``job_id`` and
        ``calibration_set_id``; ``result.timeline`` lists the server's status changes. A job
        that failed or was cancelled gives, as with qiskit-iqm, a ``Result`` with
        ``success=False`` and no entries (:meth:`error_message` says why).

        Args:
            timeout: seconds to wait in all (``None``: the run's ``timeout`` option, else no
                limit).
            cancel_after_timeout: cancel the job on the server if the timeout passes.

        Raises:
            JobTimeoutError: not finished within ``timeout`` (also iqm-client's
                ``OperationTimeoutError``).
        """
        if self._result is not None:
            return self._result
        backend = self.backend()
        try:
            per_program = self._batch.result(timeout, cancel_after_timeout=cancel_after_timeout)
        except JobFailedError as exc:
            return Result(
                backend_name=backend.name,
                backend_version=backend.backend_version,
                job_id=self.job_id(),
                success=False,
                results=[],
                status=str(exc),
                timeline=self._batch.job.timeline(),
            )
        results = [r for group in per_program for r in group]
        cal_ids = {r.calibration_set_id for r in results}
        self._result = IQMResult(
            backend_name=backend.name,
            backend_version=backend.backend_version,
            job_id=self.job_id(),
            success=True,
            results=[experiment_result(r) for r in results],
            date=datetime.datetime.now().isoformat(),
            status="COMPLETED",
            calibration_set_id=next(iter(cal_ids)) if len(cal_ids) == 1 else None,
            iqm_job_ids=list(self._batch.job_ids),
            timeline=self._batch.job.timeline(),
        )
        return self._result

    def __repr__(self) -> str:
        return f"IQMJob(job_id={self.job_id()!r})"

"""Results: ``cirq.ResultDict`` s keyed by the user's measurement keys, plus job metadata."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import cirq
import numpy as np

from iqm_bridge.core.keys import MeasurementBits

__all__ = ["IQMResult", "IQMResultMetadata", "ResultMetadata", "records_from_bits"]


@attrs.frozen(slots=True)
class ResultMetadata:
    """Where a result came from (the official sampler's ``ResultMetadata`` fields first).

    Attributes:
        job_id: the job's id (comma-joined server ids if ``max_circuits`` split it).
        calibration_set_id: the calibration set the server used, if it said.
        server_job_id: the server job that ran this circuit.
        circuit_index: the position of this circuit within the job.
    """

    job_id: str
    calibration_set_id: str | None
    server_job_id: str | None = None
    circuit_index: int = 0


IQMResultMetadata = ResultMetadata
"""The former name of :class:`ResultMetadata`."""


class IQMResult(cirq.ResultDict):
    """A ``cirq.ResultDict`` that also says which job and calibration set produced it.

    Args:
        params: the sweep point of this result.
        records: cirq key -> ``shots x repetitions x qubits`` uint8 array.
        metadata: job id and calibration set.
    """

    def __init__(
        self,
        *,
        params: cirq.ParamResolver | None = None,
        records: Mapping[str, np.ndarray[Any, Any]] | None = None,
        metadata: ResultMetadata | None = None,
    ) -> None:
        super().__init__(params=params, records=records)
        self.metadata = metadata


def records_from_bits(
    bits: MeasurementBits,
    registers: tuple[tuple[str, int], ...],
    invert_masks: tuple[np.ndarray[Any, np.dtype[np.bool_]], ...],
) -> dict[str, np.ndarray[Any, np.dtype[np.uint8]]]:
    """The cirq records of one circuit, with ``invert_mask`` bits flipped (vectorised).

    Args:
        bits: the circuit's measured bits, one register per cirq key in ``registers`` order.
        registers: ``(cirq key, width)`` per register.
        invert_masks: per register, ``repetitions x width`` bits to flip.
    """
    out: dict[str, np.ndarray[Any, np.dtype[np.uint8]]] = {}
    for i, (key, _) in enumerate(registers):
        rec = bits.records[i]
        mask = invert_masks[i]
        if mask.any():
            rec = rec ^ mask[None, : rec.shape[1], :].astype(np.uint8)
        out[key] = rec
    return out

"""Results: ``cirq.ResultDict`` s keyed by the user's measurement keys, plus job metadata."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import attrs
import cirq
import numpy as np

from iqm_bridge.core.keys import MeasurementBits

__all__ = ["IQMResult", "IQMResultMetadata", "ResultMetadata", "as_uuid", "records_from_bits"]


def as_uuid(value: Any) -> Any:
    """``value`` as a ``uuid.UUID`` when it is one in text form (IQM ids are), else as it is."""
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return value


@attrs.frozen(slots=True)
class ResultMetadata:
    """Where a result came from: the official sampler's fields, then iqm-bridge's.

    Attributes:
        job_id: the server job that ran this circuit (a ``uuid.UUID``).
        calibration_set_id: the calibration set the server used (a ``uuid.UUID``), if it said.
        request: iqm-client's ``CircuitJobDefinition`` of the call (rebuilt on first use, as
            one job: a split by ``max_circuits`` is not shown in it).
        job_ids: every server job of the call, in order (several when ``max_circuits`` split
            it; ``IQMJob.job_id`` joins them with commas).
        circuit_index: the position of this circuit within the call.
    """

    job_id: uuid.UUID | str
    calibration_set_id: uuid.UUID | str | None
    _request: Any = attrs.field(default=None, eq=False, repr=False, alias="request")
    job_ids: tuple[str, ...] = ()
    circuit_index: int = 0

    @property
    def request(self) -> Any:
        """The job definition (see the class attributes)."""
        return self._request() if callable(self._request) else self._request

    def __reduce__(self) -> tuple[Any, ...]:
        # the rebuilding function holds the connection: pickle the definition itself
        fields = (self.job_id, self.calibration_set_id, self.request)
        return (type(self), (*fields, self.job_ids, self.circuit_index))


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

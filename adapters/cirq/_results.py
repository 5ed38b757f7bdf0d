"""Results: ``cirq.ResultDict`` s keyed by the user's measurement keys, plus job metadata."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import cirq
import numpy as np

from iqm_bridge.core import Estimate, QuasiDistribution, ReadoutErrors, quasi_distribution
from iqm_bridge.core.keys import MeasurementBits
from iqm_bridge.core.mitigation import expectation

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
    """A ``cirq.ResultDict`` that also says which job and calibration set produced it, and,
    when the sampler mitigates readout errors, gives mitigated expectation values and
    histograms (:meth:`expectation`, :meth:`quasi_histogram`).

    Args:
        params: the sweep point of this result.
        records: cirq key -> ``shots x repetitions x qubits`` uint8 array.
        metadata: job id and calibration set.
        readout: cirq key -> the readout errors of its qubits (``None``: not mitigated).
        masks: cirq key -> the ``invert_mask`` of its last measurement.
    """

    def __init__(
        self,
        *,
        params: cirq.ParamResolver | None = None,
        records: Mapping[str, np.ndarray[Any, Any]] | None = None,
        metadata: ResultMetadata | None = None,
        readout: Mapping[str, ReadoutErrors] | None = None,
        masks: Mapping[str, np.ndarray[Any, Any]] | None = None,
    ) -> None:
        super().__init__(params=params, records=records)
        self.metadata = metadata
        self.readout = dict(readout) if readout is not None else None
        self._masks = dict(masks or {})

    def _raw(self, key: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """The last repetition's bits of ``key`` as read (``invert_mask`` undone), and the mask."""
        bits = np.asarray(self.records[key][:, -1, :], dtype=np.uint8)
        mask = self._masks.get(key, np.zeros(bits.shape[1], dtype=bool)).astype(np.uint8)
        return bits ^ mask[None, :], mask

    def _errors(self, key: str, mitigated: bool) -> ReadoutErrors | None:
        if not mitigated:
            return None
        if self.readout is None or key not in self.readout:
            raise ValueError(
                f"no readout errors for key {key!r}: run with IQMSampler(mitigation='readout')"
            )
        return self.readout[key]

    def expectation(
        self, key: str, indices: Sequence[int] | None = None, *, mitigated: bool = True
    ) -> Estimate:
        """``<Z...Z>`` over the chosen qubits of measurement ``key`` (all by default), with its
        standard error; readout-mitigated unless ``mitigated=False``.

        Raises:
            ValueError: mitigation asked for but the sampler did not mitigate.
        """
        bits, mask = self._raw(key)
        cols = list(range(bits.shape[1])) if indices is None else list(indices)
        est = expectation(bits, cols, self._errors(key, mitigated))
        sign = -1.0 if int(mask[cols].sum()) % 2 else 1.0
        return Estimate(sign * est.value, est.stderr)

    def quasi_distribution(self, key: str) -> QuasiDistribution:
        """The readout-mitigated quasi-probabilities of ``key``'s outcomes (as read)."""
        bits, _ = self._raw(key)
        errors = self._errors(key, True)
        assert errors is not None
        return quasi_distribution(bits, errors, reverse=False)

    def quasi_histogram(self, key: str) -> dict[int, float]:
        """Like ``histogram(key)`` but mitigated: outcome (big-endian integer, ``invert_mask``
        applied) -> quasi-probability (they sum to 1; a few may be slightly negative)."""
        _, mask = self._raw(key)
        flip = int("".join(str(int(b)) for b in mask), 2) if len(mask) else 0
        quasi = self.quasi_distribution(key).as_dict()
        return {int(s, 2) ^ flip: float(v) for s, v in quasi.items()}


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

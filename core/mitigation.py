"""Readout-error mitigation for measured bitstrings, framework-free.

Readout error is modelled as independent per-qubit confusion: qubit ``q`` in state 0 reads 1
with probability ``p1_given_0[q]`` and in state 1 reads 0 with probability ``p0_given_1[q]``.
Its confusion matrix (rows: what was read, columns: the true state) is::

    A_q = [[1 - p1_given_0, p0_given_1],
           [p1_given_0,     1 - p0_given_1]]

and the whole register's is the tensor product of these, a ``2^n x 2^n`` matrix that this
module never builds. Two methods scale to 20 and more qubits:

* **Tensored estimators** (:func:`expectation`, :func:`expectations`, :func:`weighted_sum`):
  a Z-string's eigenvalue vector ``(+1, -1)`` on each of its qubits becomes, through
  ``A_q^-T``, another per-outcome weight vector. The mitigated estimator of the Z-string is the
  mean over shots of a per-shot product of these weights: unbiased, and its standard error is
  the sample standard deviation over shots divided by ``sqrt(shots)``. A weighted sum of
  Z-strings is the mean of the per-shot weighted sum, so its error bar carries the covariance
  between its terms.
* **Subspace quasi-probabilities** (:func:`quasi_distribution`), in the style of M3: the
  confusion matrix restricted to the observed bitstrings (optionally to pairs within a Hamming
  distance), its columns renormalised, solved directly when small and with preconditioned
  GMRES when large.

Bit conventions follow :mod:`iqm_bridge.core.keys`: data are ``shots x bits`` uint8 arrays,
column ``j`` is measured bit ``j`` and belongs to ``ReadoutErrors.qubits[j]``; bitstrings are
written right to left (bit 0 last) unless ``reverse=False``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs
import numpy as np
import numpy.typing as npt

from iqm_bridge.core.errors import ConfigurationError, IQMBridgeError

__all__ = [
    "Estimate",
    "MitigationError",
    "MitigationInputError",
    "QuasiDistribution",
    "ReadoutCalibrationError",
    "ReadoutErrors",
    "bits_from_counts",
    "expectation",
    "expectations",
    "quasi_distribution",
    "weighted_sum",
]

Bits = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SOURCE_CALIBRATION = "calibration"
SOURCE_CIRCUITS = "calibration circuits"

# Below this determinant a qubit's confusion matrix amplifies shot noise by more than 10^6:
# treat it as singular rather than return numbers that mean nothing.
_MIN_DETERMINANT = 1e-6
# Observed bitstrings up to which the subspace system is solved by dense LU (and per-element
# standard errors come from the explicit inverse); above it GMRES on a sparse matrix is faster.
_DIRECT_THRESHOLD = 1024
# Matrix entries held at once: bounds the memory of the subspace matrix (8 bytes per entry).
_MAX_ENTRIES = 50_000_000
_BLOCK_ENTRIES = 4_000_000
# Above this many rows the tensored estimators first merge repeated bitstrings.
_COMPRESS_ROWS = 4096


class MitigationError(IQMBridgeError):
    """Base class of the readout-mitigation errors (also: an iterative solve that failed)."""


class MitigationInputError(MitigationError, ValueError):
    """Bits, counts, columns or options given to a mitigation function are unusable."""


class ReadoutCalibrationError(MitigationError, ConfigurationError, ValueError):
    """Readout-error data are invalid for a qubit: the message names the qubit."""


@attrs.frozen(slots=True)
class Estimate:
    """An estimated value with its standard error (one sigma).

    Attributes:
        value: the estimate.
        stderr: its standard error.
    """

    value: float
    stderr: float


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


def _float_tuple(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _optional_float_tuple(values: Any) -> tuple[float, ...] | None:
    return None if values is None else _float_tuple(values)


@attrs.frozen(slots=True)
class ReadoutErrors:
    """Per-qubit asymmetric readout error probabilities.

    Attributes:
        qubits: the qubit names; position ``j`` describes measured column ``j``.
        p1_given_0: per qubit, the probability of reading 1 when the qubit is in 0 (IQM's
            quality metric ``metrics.ssro.measure.constant.<QB>.error_0_to_1``).
        p0_given_1: per qubit, the probability of reading 0 when the qubit is in 1
            (``...error_1_to_0``).
        source: where the numbers come from: ``"calibration"`` (served with the calibration
            set) or ``"calibration circuits"`` (estimated from circuits run in the same job).
        p1_given_0_stderr: standard errors of ``p1_given_0`` (``None`` when served without
            uncertainty); estimators propagate them into their error bars.
        p0_given_1_stderr: standard errors of ``p0_given_1``, likewise.

    Raises:
        ReadoutCalibrationError: lengths differ, a qubit repeats, a probability is outside
            ``[0, 0.5)`` or a confusion matrix is (numerically) singular; the message names
            the qubit.
    """

    qubits: tuple[str, ...] = attrs.field(converter=_str_tuple)
    p1_given_0: tuple[float, ...] = attrs.field(converter=_float_tuple)
    p0_given_1: tuple[float, ...] = attrs.field(converter=_float_tuple)
    source: str = SOURCE_CALIBRATION
    p1_given_0_stderr: tuple[float, ...] | None = attrs.field(
        default=None, converter=_optional_float_tuple
    )
    p0_given_1_stderr: tuple[float, ...] | None = attrs.field(
        default=None, converter=_optional_float_tuple
    )

    def __attrs_post_init__(self) -> None:
        n = len(self.qubits)
        named = {
            "p1_given_0": self.p1_given_0,
            "p0_given_1": self.p0_given_1,
            "p1_given_0_stderr": self.p1_given_0_stderr,
            "p0_given_1_stderr": self.p0_given_1_stderr,
        }
        for name, values in named.items():
            if values is not None and len(values) != n:
                raise ReadoutCalibrationError(
                    f"{name} has {len(values)} entries for {n} qubit(s) {list(self.qubits)}; "
                    "give one per qubit"
                )
        seen: set[str] = set()
        for q in self.qubits:
            if q in seen:
                raise ReadoutCalibrationError(
                    f"qubit {q!r} appears twice in the readout errors; give each qubit once"
                )
            seen.add(q)
        for j, q in enumerate(self.qubits):
            for name in ("p1_given_0", "p0_given_1"):
                p = named[name][j]  # type: ignore[index]
                if not (math.isfinite(p) and 0.0 <= p < 0.5):
                    raise ReadoutCalibrationError(
                        f"readout error {name}={p!r} of qubit {q!r} is outside [0, 0.5): a "
                        "readout at or beyond a coin flip cannot be mitigated; check the "
                        "calibration of this qubit or leave it out"
                    )
                err = named[f"{name}_stderr"]
                if err is not None and not (math.isfinite(err[j]) and err[j] >= 0):
                    raise ReadoutCalibrationError(
                        f"{name}_stderr={err[j]!r} of qubit {q!r} is not a finite number >= 0"
                    )
            det = 1.0 - self.p1_given_0[j] - self.p0_given_1[j]
            if det < _MIN_DETERMINANT:
                raise ReadoutCalibrationError(
                    f"the readout confusion matrix of qubit {q!r} is singular (1 - p1_given_0 - "
                    f"p0_given_1 = {det:.3g}): its readout carries no information to invert"
                )

    @property
    def num_qubits(self) -> int:
        """Number of qubits described."""
        return len(self.qubits)

    def subset(self, qubits: Sequence[str]) -> ReadoutErrors:
        """The readout errors of ``qubits``, in that order (e.g. the measured qubits).

        Raises:
            ReadoutCalibrationError: a qubit has no readout-error data.
        """
        index = {q: j for j, q in enumerate(self.qubits)}
        missing = [q for q in qubits if q not in index]
        if missing:
            raise ReadoutCalibrationError(
                f"no readout-error data for qubit(s) {missing}; known: {list(self.qubits)}"
            )
        pick = [index[q] for q in qubits]

        def take(values: tuple[float, ...] | None) -> tuple[float, ...] | None:
            return None if values is None else tuple(values[j] for j in pick)

        return ReadoutErrors(
            tuple(qubits),
            tuple(self.p1_given_0[j] for j in pick),
            tuple(self.p0_given_1[j] for j in pick),
            self.source,
            take(self.p1_given_0_stderr),
            take(self.p0_given_1_stderr),
        )

    def confusion_matrices(self) -> FloatArray:
        """``num_qubits x 2 x 2`` array: ``[q, read, true]`` = P(read | true) for qubit q."""
        a = np.asarray(self.p1_given_0, dtype=np.float64)
        b = np.asarray(self.p0_given_1, dtype=np.float64)
        return np.stack([np.stack([1 - a, b], axis=-1), np.stack([a, 1 - b], axis=-1)], axis=1)

    @classmethod
    def from_fidelity(
        cls, fidelities: Mapping[str, float], source: str = SOURCE_CALIBRATION
    ) -> ReadoutErrors:
        """Symmetric readout errors from per-qubit readout fidelities.

        A server that serves only ``metrics.ssro.measure.<impl>.<QB>.fidelity`` gives the
        mean assignment fidelity ``F = 1 - (p1_given_0 + p0_given_1) / 2``; without more
        information both error probabilities are taken as ``1 - F``.

        Args:
            fidelities: qubit -> readout fidelity.
            source: recorded in :attr:`source`.

        Raises:
            ReadoutCalibrationError: a fidelity is not above 0.5 (names the qubit).
        """
        errors = [1.0 - float(f) for f in fidelities.values()]
        return cls(tuple(fidelities), errors, errors, source)

    @classmethod
    def from_quality_metrics(
        cls,
        observations: Mapping[str, float],
        qubits: Sequence[str],
        implementation: str = "constant",
    ) -> ReadoutErrors:
        """Readout errors of ``qubits`` from a calibration set's quality metrics.

        Reads ``metrics.ssro.measure.<implementation>.<QB>.error_0_to_1`` and
        ``.error_1_to_0`` when both are present, else ``....fidelity`` (symmetric, as in
        :meth:`from_fidelity`).

        Args:
            observations: ``dut_field`` -> value of the calibration set's quality metrics.
            qubits: the qubits to read.
            implementation: the measure implementation whose metrics to read.

        Raises:
            ReadoutCalibrationError: a qubit has neither metric, or a value is invalid.
        """
        p10: list[float] = []
        p01: list[float] = []
        for q in qubits:
            prefix = f"metrics.ssro.measure.{implementation}.{q}."
            e01 = observations.get(prefix + "error_0_to_1")
            e10 = observations.get(prefix + "error_1_to_0")
            if e01 is not None and e10 is not None:
                p10.append(float(e01))
                p01.append(float(e10))
                continue
            fidelity = observations.get(prefix + "fidelity")
            if fidelity is None:
                raise ReadoutCalibrationError(
                    f"the calibration set has no readout metric for qubit {q!r} (looked for "
                    f"{prefix}error_0_to_1/error_1_to_0 and {prefix}fidelity); run calibration "
                    "circuits in the job instead"
                )
            p10.append(1.0 - float(fidelity))
            p01.append(1.0 - float(fidelity))
        return cls(tuple(qubits), p10, p01, SOURCE_CALIBRATION)

    @classmethod
    def from_bits(
        cls,
        qubits: Sequence[str],
        zeros: Bits,
        ones: Bits,
        *,
        zeros_weights: Sequence[int] | npt.NDArray[np.integer[Any]] | None = None,
        ones_weights: Sequence[int] | npt.NDArray[np.integer[Any]] | None = None,
        source: str = SOURCE_CIRCUITS,
    ) -> ReadoutErrors:
        """Estimate readout errors from two calibration circuits' results.

        One circuit prepares every qubit in 0 and measures (``zeros``), the other prepares
        every qubit in 1 and measures (``ones``). The estimators are the observed flip
        fractions, ``p1_given_0[q] = mean(zeros[:, q])`` and ``p0_given_1[q] = mean(1 -
        ones[:, q])``, with binomial standard errors ``sqrt(p (1 - p) / shots)``. When no flip
        (or only flips) was seen the plug-in error would be 0; the error of a single event,
        ``sqrt((1/shots)(1 - 1/shots) / shots)``, is reported instead.

        Args:
            qubits: the qubit of each column.
            zeros: ``shots x len(qubits)`` bits measured after preparing all 0.
            ones: ``shots x len(qubits)`` bits measured after preparing all 1.
            zeros_weights: multiplicity of each row of ``zeros`` (for counts), or ``None``.
            ones_weights: multiplicity of each row of ``ones``, or ``None``.
            source: recorded in :attr:`source`.

        Raises:
            MitigationInputError: the arrays are not 0/1 of the right width.
            ReadoutCalibrationError: an estimated error is 0.5 or more (names the qubit).
        """
        n = len(qubits)
        p10, e10 = _flip_rate(zeros, zeros_weights, 1, n, "zeros")
        p01, e01 = _flip_rate(ones, ones_weights, 0, n, "ones")
        return cls(tuple(qubits), p10, p01, source, e10, e01)

    @classmethod
    def from_counts(
        cls,
        qubits: Sequence[str],
        zeros: Mapping[str, int],
        ones: Mapping[str, int],
        *,
        reverse: bool = True,
        separator: str = " ",
        source: str = SOURCE_CIRCUITS,
    ) -> ReadoutErrors:
        """Like :meth:`from_bits`, from the two calibration circuits' counts dictionaries.

        Args:
            qubits: the qubit of each bit (bit ``j`` is ``qubits[j]``).
            zeros: bitstring -> count after preparing all 0.
            ones: bitstring -> count after preparing all 1.
            reverse: the strings are written bit 0 last (see :func:`bits_from_counts`).
            separator: text between register groups, removed before parsing.
            source: recorded in :attr:`source`.

        Raises:
            MitigationInputError: a bitstring is malformed or of the wrong length.
            ReadoutCalibrationError: an estimated error is 0.5 or more (names the qubit).
        """
        z_rows, z_w = bits_from_counts(zeros, reverse=reverse, separator=separator)
        o_rows, o_w = bits_from_counts(ones, reverse=reverse, separator=separator)
        return cls.from_bits(
            qubits, z_rows, o_rows, zeros_weights=z_w, ones_weights=o_w, source=source
        )

    def _tables(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per-qubit mitigated Z weights and their derivatives.

        Returns ``w, dw_da, dw_db``, each ``num_qubits x 2`` indexed by the bit read, where
        ``w[q] = A_q^-T (1, -1)`` and ``a``, ``b`` are ``p1_given_0``, ``p0_given_1``.
        """
        a = np.asarray(self.p1_given_0, dtype=np.float64)
        b = np.asarray(self.p0_given_1, dtype=np.float64)
        det = 1.0 - a - b
        w = np.stack([(1 + a - b) / det, -(1 - a + b) / det], axis=1)
        d2 = det * det
        dw_da = np.stack([2 * (1 - b) / d2, -2 * b / d2], axis=1)
        dw_db = np.stack([2 * a / d2, -2 * (1 - a) / d2], axis=1)
        return w, dw_da, dw_db


def _flip_rate(
    bits: Bits,
    weights: Sequence[int] | npt.NDArray[np.integer[Any]] | None,
    flipped: int,
    width: int,
    what: str,
) -> tuple[FloatArray, FloatArray]:
    rows = _check_bits(bits, width, what)
    w = _check_weights(weights, rows.shape[0], what)
    shots = float(w.sum())
    hits = w.astype(np.float64) @ (rows == flipped).astype(np.float64)
    p = hits / shots
    floor = (1.0 / shots) * (1.0 - 1.0 / shots)
    var = np.maximum(p * (1 - p), floor) / shots
    return p, np.sqrt(var)


# --------------------------------------------------------------------------- input checks


def _check_bits(bits: Any, width: int | None, what: str = "bits") -> Bits:
    arr = np.asarray(bits)
    if arr.ndim != 2:
        raise MitigationInputError(
            f"{what} should be a shots x bits 0/1 array, got shape {arr.shape}"
        )
    if width is not None and arr.shape[1] != width:
        raise MitigationInputError(
            f"{what} has {arr.shape[1]} column(s) but the readout errors describe {width} "
            "qubit(s); pass errors.subset(<the measured qubits in column order>)"
        )
    if arr.shape[0] == 0:
        raise MitigationInputError(f"{what} holds no shots")
    if arr.dtype != np.uint8:
        if arr.dtype.kind not in "biu":
            raise MitigationInputError(f"{what} should hold 0/1 integers, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() > 1):
            raise MitigationInputError(f"{what} holds values other than 0 and 1")
        arr = arr.astype(np.uint8)
    elif arr.size and arr.max() > 1:
        raise MitigationInputError(f"{what} holds values other than 0 and 1")
    return arr


def _check_weights(weights: Any, rows: int, what: str = "bits") -> IntArray:
    if weights is None:
        return np.ones(rows, dtype=np.int64)
    w = np.asarray(weights)
    if w.shape != (rows,) or w.dtype.kind not in "iu":
        raise MitigationInputError(
            f"weights for {what} should be {rows} integer counts (one per row), got "
            f"shape {w.shape} dtype {w.dtype}"
        )
    if w.size and w.min() < 0:
        raise MitigationInputError(f"weights for {what} hold a negative count")
    if w.sum() == 0:
        raise MitigationInputError(f"{what} holds no shots (all weights are 0)")
    return w.astype(np.int64)


def _check_columns(columns: Sequence[int], width: int) -> npt.NDArray[np.intp]:
    cols = [int(c) for c in columns]
    for c in cols:
        if not 0 <= c < width:
            raise MitigationInputError(
                f"Z-string column {c} is out of range for {width} measured bit(s)"
            )
    if len(set(cols)) != len(cols):
        raise MitigationInputError(
            f"Z-string columns {cols} repeat a column; Z*Z is the identity, leave both out"
        )
    return np.asarray(cols, dtype=np.intp)


def bits_from_counts(
    counts: Mapping[str, int], *, reverse: bool = True, separator: str = " "
) -> tuple[Bits, IntArray]:
    """Parse a counts dictionary into distinct rows and their counts.

    Args:
        counts: bitstring -> count.
        reverse: the strings are written right to left, bit 0 last (qiskit's order, and the
            default of :func:`iqm_bridge.core.keys.counts_from_bits`); ``False`` for bit 0
            first.
        separator: text between register groups; removed before parsing.

    Returns:
        ``rows`` (``len(counts) x bits`` uint8, column ``j`` = bit ``j``) and ``weights``
        (int64 counts, one per row), ready for the ``weights=`` argument of this module.

    Raises:
        MitigationInputError: no strings, strings of different lengths, characters other than
            0 and 1, or negative counts.
    """
    if not counts:
        raise MitigationInputError("the counts dictionary is empty")
    for key, count in counts.items():
        if not isinstance(key, str):
            raise MitigationInputError(f"counts key {key!r} is not a bitstring")
        if isinstance(count, bool) or not isinstance(count, int | np.integer):
            # a float here is usually a probability or quasi-probability, not a count
            raise MitigationInputError(
                f"count {count!r} of bitstring {key!r} is not an integer number of shots"
            )
    keys = [k.replace(separator, "") for k in counts] if separator else list(counts)
    width = len(keys[0])
    for k, raw in zip(keys, counts, strict=True):
        if len(k) != width:
            raise MitigationInputError(
                f"bitstring {raw!r} has {len(k)} bit(s); the first has {width}"
            )
    try:
        flat = "".join(keys).encode("ascii")
    except UnicodeEncodeError:
        raise MitigationInputError("bitstrings hold characters other than 0 and 1") from None
    rows = (np.frombuffer(flat, dtype=np.uint8) - ord("0")).reshape(len(keys), width)
    if rows.size and rows.max() > 1:  # uint8 wrap-around also catches characters below '0'
        bad = int(np.flatnonzero(rows.max(axis=1) > 1)[0])
        raise MitigationInputError(
            f"bitstring {list(counts)[bad]!r} holds characters other than 0 and 1"
        )
    if reverse:
        rows = rows[:, ::-1]
    weights = np.fromiter(counts.values(), dtype=np.int64, count=len(keys))
    if weights.min() < 0:
        raise MitigationInputError("counts hold a negative count")
    return np.ascontiguousarray(rows), weights


# --------------------------------------------------------------------- tensored estimators


def _summary(
    values: FloatArray,
    weights: IntArray,
    shots: int,
    grad: tuple[FloatArray, FloatArray] | None,
    errors: ReadoutErrors | None,
) -> Estimate:
    """Weighted mean of per-row estimator values, its standard error, calibration error."""
    mean = float(weights @ values) / shots
    var_shot = float(weights @ (values - mean) ** 2) / (shots - 1) / shots
    var_cal = 0.0
    if grad is not None and errors is not None:
        if errors.p1_given_0_stderr is not None:
            var_cal += float(grad[0] ** 2 @ np.square(errors.p1_given_0_stderr))
        if errors.p0_given_1_stderr is not None:
            var_cal += float(grad[1] ** 2 @ np.square(errors.p0_given_1_stderr))
    return Estimate(mean, math.sqrt(var_shot + var_cal))


def _prepare(bits: Bits, errors: ReadoutErrors | None, weights: Any) -> tuple[Bits, IntArray, int]:
    rows = _check_bits(bits, None if errors is None else errors.num_qubits)
    w = _check_weights(weights, rows.shape[0])
    shots = int(w.sum())
    if shots < 2:
        raise MitigationInputError("a standard error needs at least 2 shots")
    if rows.shape[0] > _COMPRESS_ROWS:
        # shots repeat few distinct bitstrings: evaluate each once, weighted by its count
        rows, w = _distinct(rows, w)
    return rows, w, shots


def _term_sums(
    rows: Bits,
    weights: IntArray,
    shots: int,
    errors: ReadoutErrors | None,
    terms: Sequence[tuple[float, npt.NDArray[np.intp]]],
) -> tuple[FloatArray, tuple[FloatArray, FloatArray] | None]:
    """Per-row value of ``sum_k c_k prod_{q in S_k} w_q(bit)`` and its calibration gradient."""
    n = rows.shape[1]
    total = np.zeros(rows.shape[0], dtype=np.float64)
    if errors is None:
        # raw: (-1)^(parity of the string's bits), as an integer sum then one float cast
        for coeff, cols in terms:
            parity = rows[:, cols].sum(axis=1, dtype=np.int64) & 1
            total += coeff * (1.0 - 2.0 * parity)
        return total, None
    w, dw_da, dw_db = errors._tables()
    set_bit = rows.astype(bool)
    table = np.where(set_bit, w[:, 1], w[:, 0])
    want_grad = errors.p1_given_0_stderr is not None or errors.p0_given_1_stderr is not None
    grad_a = np.zeros(n)
    grad_b = np.zeros(n)
    if want_grad:
        # d log w / d a and d log w / d b of each row's read bit: the product's derivative is
        # the product times the sum of these over the string's qubits
        log_da = np.where(set_bit, dw_da[:, 1] / w[:, 1], dw_da[:, 0] / w[:, 0])
        log_db = np.where(set_bit, dw_db[:, 1] / w[:, 1], dw_db[:, 0] / w[:, 0])
    wf = weights.astype(np.float64) / shots
    for coeff, cols in terms:
        prod = np.prod(table[:, cols], axis=1) if cols.size else np.ones(rows.shape[0])
        total += coeff * prod
        if want_grad and cols.size:
            pw = wf * prod
            grad_a[cols] += coeff * (pw @ log_da[:, cols])
            grad_b[cols] += coeff * (pw @ log_db[:, cols])
    return total, ((grad_a, grad_b) if want_grad else None)


def expectation(
    bits: Bits,
    columns: Sequence[int],
    errors: ReadoutErrors | None,
    *,
    weights: Sequence[int] | npt.NDArray[np.integer[Any]] | None = None,
) -> Estimate:
    """Expectation value of the product of Z on ``columns``, readout-mitigated or raw.

    Mitigated (``errors`` given): the mean over shots of ``prod_{q in columns} w_q(bit_q)``
    with ``w_q = A_q^-T (+1, -1)``, unbiased under independent per-qubit readout error. The
    standard error is the sample standard deviation of that per-shot product over
    ``sqrt(shots)``; when ``errors`` carries standard errors of its own (estimated from
    calibration circuits), their first-order propagation is added in quadrature. Raw
    (``errors=None``): the mean of ``(-1)^(parity)``, same error formula.

    Args:
        bits: ``shots x bits`` 0/1 array (or distinct rows, with ``weights``).
        columns: the measured columns the Z-string acts on; empty for the identity.
        errors: the readout errors of the columns in order (``errors.subset(measured)``),
            or ``None`` for the raw estimate.
        weights: multiplicity of each row of ``bits`` (see :func:`bits_from_counts`).

    Returns:
        The estimate and its standard error.

    Raises:
        MitigationInputError: bad bits, weights or columns, or fewer than 2 shots.
    """
    return weighted_sum(bits, [(1.0, columns)], errors, weights=weights)


def expectations(
    bits: Bits,
    strings: Sequence[Sequence[int]],
    errors: ReadoutErrors | None,
    *,
    weights: Sequence[int] | npt.NDArray[np.integer[Any]] | None = None,
) -> list[Estimate]:
    """:func:`expectation` of several Z-strings on the same data (one input check)."""
    rows, w, shots = _prepare(bits, errors, weights)
    out = []
    for columns in strings:
        cols = _check_columns(columns, rows.shape[1])
        values, grad = _term_sums(rows, w, shots, errors, [(1.0, cols)])
        out.append(_summary(values, w, shots, grad, errors))
    return out


def weighted_sum(
    bits: Bits,
    terms: Sequence[tuple[float, Sequence[int]]],
    errors: ReadoutErrors | None,
    *,
    constant: float = 0.0,
    weights: Sequence[int] | npt.NDArray[np.integer[Any]] | None = None,
) -> Estimate:
    """Expectation of ``constant + sum_k c_k Z(S_k)``, readout-mitigated or raw.

    This is a diagonal Hamiltonian, or a Pauli sum measured after its basis rotation. The
    estimator is the per-shot weighted sum of the per-shot Z-string estimators of
    :func:`expectation`, so its standard error (the sample standard deviation of that sum over
    ``sqrt(shots)``) carries the covariance between the terms, which summing the terms' error
    bars in quadrature would miss.

    Args:
        bits: ``shots x bits`` 0/1 array (or distinct rows, with ``weights``).
        terms: ``(coefficient, columns)`` pairs.
        errors: the readout errors of the columns, or ``None`` for the raw estimate.
        constant: added to the value (the identity term).
        weights: multiplicity of each row of ``bits``.

    Returns:
        The estimate and its standard error.

    Raises:
        MitigationInputError: bad bits, weights, coefficients or columns.
    """
    rows, w, shots = _prepare(bits, errors, weights)
    checked = []
    for coeff, columns in terms:
        c = float(coeff)
        if not math.isfinite(c):
            raise MitigationInputError(
                f"coefficient {coeff!r} of Z-string {list(columns)} is not finite"
            )
        checked.append((c, _check_columns(columns, rows.shape[1])))
    values, grad = _term_sums(rows, w, shots, errors, checked)
    est = _summary(values, w, shots, grad, errors)
    return Estimate(est.value + float(constant), est.stderr)


# ------------------------------------------------------------------ subspace (M3-style)


def _distinct(rows: Bits, weights: IntArray) -> tuple[Bits, IntArray]:
    """The distinct rows with positive total weight, and those totals.

    Rows are packed 8 bits to a byte and compared as one machine word (up to 64 bits) or as
    opaque byte strings, so sorting costs one comparison per pair, not one per bit.
    """
    packed = np.packbits(rows, axis=1)
    width = packed.shape[1]
    if width <= 8:
        padded = np.zeros((rows.shape[0], 8), dtype=np.uint8)
        padded[:, :width] = packed
        keys: npt.NDArray[Any] = padded.view(np.uint64).reshape(-1)
    else:
        keys = np.ascontiguousarray(packed).view(np.dtype((np.void, width))).reshape(-1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    totals = np.bincount(inverse.reshape(-1), weights=weights, minlength=first.size)
    keep = totals > 0
    return np.ascontiguousarray(rows[first[keep]]), totals[keep].astype(np.int64)


def _format_rows(
    rows: Bits, reverse: bool, groups: Sequence[int] | None, separator: str
) -> tuple[str, ...]:
    """Bitstrings of ``rows`` in the order of :func:`iqm_bridge.core.keys.counts_from_bits`."""
    count, n = rows.shape
    sizes = list(groups) if groups else [n]
    if sum(sizes) != n or any(s < 0 for s in sizes):
        raise MitigationInputError(f"groups {sizes} do not add up to the {n} measured bit(s)")
    chars = rows + np.uint8(ord("0"))
    starts = np.cumsum([0, *sizes])
    parts = [chars[:, starts[g] : starts[g + 1]] for g in range(len(sizes))]
    if reverse:
        parts = [p[:, ::-1] for p in reversed(parts)]
    if len(parts) > 1 and separator:
        sep = np.frombuffer(separator.encode(), dtype=np.uint8)
        glued: list[Bits] = []
        for k, p in enumerate(parts):
            if k:
                glued.append(np.broadcast_to(sep, (count, sep.size)))
            glued.append(p)
        parts = glued
    table = np.ascontiguousarray(np.concatenate(parts, axis=1)) if parts else chars
    width = table.shape[1]
    raw = table.tobytes()  # cut in bytes, then decode: a separator may be several bytes
    return tuple(raw[i * width : (i + 1) * width].decode() for i in range(count))


def _log_confusion_terms(rows: Bits, errors: ReadoutErrors) -> tuple[FloatArray, FloatArray]:
    """``col_const`` and ``M`` with ``log A[s, t] = col_const[t] + s . M[t]`` for 0/1 rows.

    ``A[s, t] = prod_q A_q[s_q, t_q]``: the diagonal factors depend on ``t`` only, and each
    flipped qubit multiplies by ``p / (1 - p)`` of its true bit; ``s xor t = s + t - 2 s t``
    makes the flip part linear in ``s``, so a block of the matrix is one matrix product.
    """
    tiny = np.finfo(np.float64).tiny  # a perfect readout has log(0): clip, exp gives 0 back
    a = np.asarray(errors.p1_given_0, dtype=np.float64)
    b = np.asarray(errors.p0_given_1, dtype=np.float64)
    l0, l1 = np.log1p(-a), np.log1p(-b)
    r0 = np.log(np.maximum(a, tiny)) - l0
    r1 = np.log(np.maximum(b, tiny)) - l1
    t = rows.astype(np.float64)
    flip = np.where(rows.astype(bool), r1, r0)
    base = (1.0 - t) @ l0 + t @ l1
    return base + (t * flip).sum(axis=1), (1.0 - 2.0 * t) * flip


def _packed_words(rows: Bits) -> npt.NDArray[np.uint64]:
    packed = np.packbits(rows, axis=1)
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.pad(packed, ((0, 0), (0, pad)))
    return np.ascontiguousarray(packed).view(np.uint64)


def _subspace_matrix(rows: Bits, errors: ReadoutErrors, distance: int | None) -> Any:
    """The column-normalised confusion matrix on the observed rows (dense or sparse CSR)."""
    from scipy import sparse

    count, n = rows.shape
    col_const, flip = _log_confusion_terms(rows, errors)
    t = rows.astype(np.float64)
    if distance is None or distance >= n:
        if count * count > _MAX_ENTRIES:
            raise MitigationInputError(
                f"{count} distinct bitstrings are too many for a subspace solve without a "
                "Hamming-distance cut-off; pass distance=3 (or smaller)"
            )
        dense = np.exp(t @ flip.T + col_const)
        dense /= dense.sum(axis=0)
        return dense
    words = _packed_words(rows)
    block = max(1, _BLOCK_ENTRIES // (count * words.shape[1]))
    ii: list[npt.NDArray[np.intp]] = []
    jj: list[npt.NDArray[np.intp]] = []
    vals: list[FloatArray] = []
    nnz = 0
    for start in range(0, count, block):
        stop = min(start + block, count)
        dist = np.bitwise_count(words[start:stop, None, :] ^ words[None, :, :]).sum(axis=2)
        r, c = np.nonzero(dist <= distance)
        nnz += r.size
        if nnz > _MAX_ENTRIES:
            raise MitigationInputError(
                f"the subspace matrix of {count} distinct bitstrings at distance {distance} "
                "has too many entries; pass a smaller distance"
            )
        logs = np.einsum("ij,ij->i", t[r + start], flip[c]) + col_const[c]
        ii.append(r + start)
        jj.append(c)
        vals.append(np.exp(logs))
    i_all, j_all, v_all = np.concatenate(ii), np.concatenate(jj), np.concatenate(vals)
    v_all /= np.bincount(j_all, weights=v_all, minlength=count)[j_all]
    return sparse.csr_array((v_all, (i_all, j_all)), shape=(count, count))


@attrs.define(slots=True)
class _Solver:
    """Solves with the subspace matrix ``A`` and its transpose (LU or GMRES)."""

    matrix: Any
    method: str
    tol: float
    max_iter: int
    lu: Any = None

    def solve(self, rhs: FloatArray, transpose: bool = False) -> FloatArray:
        from scipy import linalg
        from scipy.sparse import linalg as splinalg

        if self.lu is not None:
            return np.asarray(linalg.lu_solve(self.lu, rhs, trans=1 if transpose else 0))
        a = self.matrix.T if transpose else self.matrix
        diag = np.asarray(self.matrix.diagonal(), dtype=np.float64)
        jacobi = splinalg.LinearOperator(
            a.shape, matvec=lambda v: v.reshape(-1) / diag, dtype=np.float64
        )
        x, info = splinalg.gmres(
            a, rhs, x0=rhs / diag, rtol=self.tol, atol=0.0, maxiter=self.max_iter, M=jacobi
        )
        if info != 0:
            raise MitigationError(
                f"the iterative subspace solve did not converge in {self.max_iter} restarts "
                f"(tolerance {self.tol:g}); pass a smaller distance, more max_iter, or "
                "method='direct'"
            )
        return np.asarray(x, dtype=np.float64)

    def error_model(
        self, values: FloatArray, counts: IntArray, shots: int
    ) -> tuple[FloatArray, str, float]:
        """Per-element standard errors (or their bound), their kind, and ``||A^-1||_1``."""
        from scipy import linalg

        if self.lu is not None:
            # row i of A^-1 is the per-outcome weight of x_i: its multinomial variance
            inverse = linalg.lu_solve(self.lu, np.eye(values.size), check_finite=False)
            second = np.square(inverse) @ counts.astype(np.float64)
            var = np.maximum(second - shots * values**2, 0.0) / ((shots - 1) * shots)
            return np.sqrt(var), "exact", float(np.abs(inverse).sum(axis=0).max())
        gamma, kind = _inverse_norm(self)
        return np.full(values.size, gamma / math.sqrt(shots)), kind, gamma


def _simplex_projection(values: FloatArray) -> FloatArray:
    """The Euclidean projection of ``values`` on the probability simplex (sort, one pass)."""
    ordered = np.sort(values)[::-1]
    cumulative = np.cumsum(ordered) - 1.0
    ranks = np.arange(1, values.size + 1)
    rho = int(np.nonzero(ordered - cumulative / ranks > 0)[0][-1])
    shift = float(cumulative[rho]) / (rho + 1)
    projected: FloatArray = np.maximum(values - shift, 0.0)
    return projected


@attrs.frozen(slots=True, eq=False)
class QuasiDistribution:
    """Readout-mitigated quasi-probabilities over the observed bitstrings.

    Attributes:
        bitstrings: the observed bitstrings, in the order of :attr:`values`.
        rows: the same as a ``len(bitstrings) x bits`` uint8 array (column ``j`` = bit ``j``).
        values: the quasi-probabilities; they sum to 1 and may be negative.
        stderrs: per bitstring, the standard error (``stderr_kind == "exact"``, for the
            direct method: the multinomial error of the linear solve, from the explicit
            inverse) or a common upper bound ``gamma / sqrt(shots)`` (``"bound"`` for the
            iterative method; ``"estimate"`` when ``gamma`` itself is estimated). Computed on
            first access, like the next two.
        stderr_kind: ``"exact"``, ``"bound"`` or ``"estimate"``, as above.
        gamma: the 1-norm of the inverse subspace matrix (exact, bounded or estimated like
            ``stderrs``); no observable bounded by 1 has a larger error than
            ``gamma / sqrt(shots)``.
        method: ``"direct"`` (dense LU) or ``"iterative"`` (preconditioned GMRES).
        distance: the Hamming-distance cut-off used, ``None`` for none.
        shots: the number of shots.
        source: the readout errors' source (``"calibration"`` or ``"calibration circuits"``).
    """

    bitstrings: tuple[str, ...]
    rows: Bits = attrs.field(repr=False)
    values: FloatArray = attrs.field(repr=False)
    method: str
    distance: int | None
    shots: int
    source: str
    _counts: IntArray = attrs.field(repr=False, alias="_counts")
    _solver: _Solver = attrs.field(repr=False, alias="_solver")
    # the error model costs an inverse or extra solves: computed on first use, then kept
    _errors: list[tuple[FloatArray, str, float]] = attrs.field(factory=list, repr=False, init=False)

    def _error_model(self) -> tuple[FloatArray, str, float]:
        if not self._errors:
            self._errors.append(self._solver.error_model(self.values, self._counts, self.shots))
        return self._errors[0]

    @property
    def stderrs(self) -> FloatArray:
        """Per bitstring, the standard error or its bound (see :attr:`stderr_kind`)."""
        return self._error_model()[0]

    @property
    def stderr_kind(self) -> str:
        """``"exact"``, ``"bound"`` or ``"estimate"``: what :attr:`stderrs` holds."""
        return self._error_model()[1]

    @property
    def gamma(self) -> float:
        """The 1-norm of the inverse subspace matrix (exact, a bound, or an estimate)."""
        return self._error_model()[2]

    def as_dict(self) -> dict[str, float]:
        """Bitstring -> quasi-probability."""
        return dict(zip(self.bitstrings, self.values.tolist(), strict=True))

    def standard_errors(self) -> dict[str, float]:
        """Bitstring -> standard error (or bound, see :attr:`stderr_kind`)."""
        return dict(zip(self.bitstrings, self.stderrs.tolist(), strict=True))

    def nearest_probability_distribution(self) -> dict[str, float]:
        """The probability distribution nearest in Euclidean distance (bitstrings with p > 0).

        The projection on the simplex (the algorithm of Smolin, Gambetta and Smith for a
        diagonal state): subtract one common shift and clip negatives to zero.
        """
        probs = _simplex_projection(self.values)
        keep = np.nonzero(probs > 0)[0]
        return {self.bitstrings[i]: float(probs[i]) for i in keep}

    def expectation(self, columns: Sequence[int]) -> Estimate:
        """Expectation of the product of Z on ``columns``, from the quasi-probabilities.

        The value is ``sum_s x_s z(s)``. Because ``x = A^-1 p`` is linear in the observed
        frequencies ``p``, the value equals ``v . p`` with ``v = A^-T z`` (one transposed
        solve), and its standard error is the multinomial one of that linear form: the
        sample standard deviation of ``v`` over the shots, over ``sqrt(shots)``. Like every
        subspace estimate it is biased when a Z-string's weight spreads onto bitstrings that
        were never observed (high-weight strings, few shots); :func:`expectation` is not.

        Raises:
            MitigationInputError: a column is out of range or repeated.
        """
        return self.weighted_sum([(1.0, columns)])

    def expectations(self, strings: Sequence[Sequence[int]]) -> list[Estimate]:
        """:meth:`expectation` of several Z-strings."""
        return [self.expectation(s) for s in strings]

    def weighted_sum(
        self, terms: Sequence[tuple[float, Sequence[int]]], constant: float = 0.0
    ) -> Estimate:
        """Expectation of ``constant + sum_k c_k Z(S_k)`` with one transposed solve.

        Raises:
            MitigationInputError: a coefficient is not finite, or a column is bad.
        """
        z = np.zeros(self.rows.shape[0])
        for coeff, columns in terms:
            c = float(coeff)
            if not math.isfinite(c):
                raise MitigationInputError(
                    f"coefficient {coeff!r} of Z-string {list(columns)} is not finite"
                )
            cols = _check_columns(columns, self.rows.shape[1])
            parity = self.rows[:, cols].sum(axis=1, dtype=np.int64) & 1
            z += c * (1.0 - 2.0 * parity)
        v = self._solver.solve(z, transpose=True)
        est = _summary(v, self._counts, self.shots, None, None)
        return Estimate(est.value + float(constant), est.stderr)


def quasi_distribution(
    bits: Bits,
    errors: ReadoutErrors,
    *,
    weights: Sequence[int] | npt.NDArray[np.integer[Any]] | None = None,
    distance: int | None = 3,
    method: Literal["auto", "direct", "iterative"] = "auto",
    reverse: bool = True,
    groups: Sequence[int] | None = None,
    separator: str = " ",
    tol: float = 1e-10,
    max_iter: int = 100,
) -> QuasiDistribution:
    """Readout-mitigated quasi-probabilities over the observed bitstrings (M3-style).

    Solves ``A x = p`` where ``p`` are the observed frequencies of the ``N`` distinct observed
    bitstrings and ``A`` is the readout confusion matrix restricted to them (entries between
    bitstrings farther apart than ``distance`` set to 0), each column renormalised to sum to 1
    over the subspace, so the result sums to 1. ``N x N`` is the largest object: no ``2^n``
    matrix. ``method="auto"`` solves directly (dense LU) up to 1024 distinct bitstrings and
    iteratively (GMRES, Jacobi-preconditioned, on a sparse matrix) above.

    Args:
        bits: ``shots x bits`` 0/1 array (or distinct rows, with ``weights``).
        errors: the readout errors of the columns in order.
        weights: multiplicity of each row of ``bits`` (see :func:`bits_from_counts`).
        distance: Hamming-distance cut-off (M3's default 3); ``None`` for none.
        method: ``"auto"``, ``"direct"`` or ``"iterative"``.
        reverse: write bitstrings bit 0 last (as :func:`iqm_bridge.core.keys.counts_from_bits`).
        groups: sizes of consecutive column groups (registers) to separate with ``separator``.
        separator: text between groups.
        tol: relative residual tolerance of the iterative solve.
        max_iter: restarts allowed to the iterative solve.

    Returns:
        The quasi-distribution with per-bitstring standard errors (exact for the direct
        method, a bound for the iterative one) and Z-string expectations with error bars.

    Raises:
        MitigationInputError: bad bits, weights, options, or too many distinct bitstrings.
        MitigationError: the iterative solve did not converge.
    """
    from scipy import linalg

    if method not in ("auto", "direct", "iterative"):
        raise MitigationInputError(f"method={method!r} is not one of 'auto', 'direct', 'iterative'")
    if distance is not None and (
        isinstance(distance, bool) or int(distance) != distance or distance < 0
    ):
        raise MitigationInputError(f"distance={distance!r} should be an integer >= 0 or None")
    rows, w, shots = _prepare(bits, errors, weights)
    distinct, counts = _distinct(rows, w)
    n_distinct = distinct.shape[0]
    if method == "auto":
        method = "direct" if n_distinct <= _DIRECT_THRESHOLD else "iterative"
    matrix = _subspace_matrix(distinct, errors, distance)
    freq = counts / shots
    if method == "direct":
        dense = matrix if isinstance(matrix, np.ndarray) else matrix.toarray()
        lu = linalg.lu_factor(dense, check_finite=False)
        solver = _Solver(dense, "direct", tol, max_iter, lu)
    else:
        solver = _Solver(matrix, "iterative", tol, max_iter)
    values = solver.solve(freq)
    return QuasiDistribution(
        _format_rows(distinct, reverse, groups, separator),
        distinct,
        values,
        method,
        None if distance is None or distance >= distinct.shape[1] else int(distance),
        shots,
        errors.source,
        _counts=counts,
        _solver=solver,
    )


def _inverse_norm(solver: _Solver) -> tuple[float, str]:
    """``||A^-1||_1``: Varah's bound when ``A`` is column diagonally dominant, else estimated.

    The columns of ``A`` sum to 1 and are non-negative, so column ``j`` is dominant when its
    diagonal ``d_j`` exceeds ``1 - d_j``; then ``||A^-1||_1 <= 1 / min_j (2 d_j - 1)``.
    """
    from scipy.sparse import linalg as splinalg

    diag = np.asarray(solver.matrix.diagonal(), dtype=np.float64)
    margin = float((2.0 * diag - 1.0).min())
    if margin > 0:
        return 1.0 / margin, "bound"
    size = diag.size
    inverse = splinalg.LinearOperator(
        (size, size),
        matvec=lambda v: solver.solve(np.asarray(v, dtype=np.float64).reshape(-1)),
        rmatvec=lambda v: solver.solve(np.asarray(v, dtype=np.float64).reshape(-1), True),
        dtype=np.float64,
    )
    return float(splinalg.onenormest(inverse)), "estimate"

"""Bit arrays from the server -> PennyLane results (per measurement, per shot-vector bin).

With readout mitigation, expectation values and variances of Pauli words and sums of
qubit-wise-commuting words come from :func:`iqm_bridge.core.mitigation.weighted_sum`
(``Var O = <O^2> - <O>^2``, ``O^2`` again a sum of Z-strings after the basis rotation),
probabilities are the quasi-probabilities of
:func:`~iqm_bridge.core.mitigation.quasi_distribution`, and other observables (``Hermitian``,
``Projector``) are their eigenvalues weighted by those. Samples, counts and mid-circuit
measurement results stay raw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pennylane.exceptions import DeviceError
from pennylane.measurements import (
    CountsMP,
    ExpectationMP,
    ProbabilityMP,
    SampleMP,
    VarianceMP,
)
from pennylane.tape import QuantumScript
from pennylane.transforms.dynamic_one_shot import gather_mcm

from iqm_bridge.adapters.pennylane._mcm import pauli_letters
from iqm_bridge.adapters.pennylane._translate import MCM_REGISTER, RESULT_REGISTER, Translation
from iqm_bridge.core.errors import ResultFormatError
from iqm_bridge.core.keys import MeasurementBits
from iqm_bridge.core.mitigation import ReadoutErrors, quasi_distribution, weighted_sum

__all__ = ["NotComputed", "tape_results"]


class NotComputed:
    """Stands for a Jacobian that was not computed because no backward pass was recorded."""

    def _fail(self, *_: Any, **__: Any) -> Any:
        raise DeviceError(
            "this Jacobian was not computed: the forward pass ran outside a gradient "
            "computation; differentiate the QNode (qml.grad, loss.backward()) to get it"
        )

    __array__ = _fail
    __getitem__ = _fail
    __len__ = _fail
    __iter__ = _fail
    __mul__ = __rmul__ = __add__ = __radd__ = _fail


def _empty(mp: Any) -> Any:
    """A measurement's result when postselection kept no shot (as PennyLane reports it)."""
    if isinstance(mp, SampleMP):
        return np.empty((0,) if mp.obs is not None or len(mp.wires) == 1 else (0, len(mp.wires)))
    if isinstance(mp, CountsMP):
        return {}
    if isinstance(mp, ProbabilityMP):
        return np.full(2 ** len(mp.wires), np.nan)
    return np.nan


Terms = list[tuple[float, list[int]]]


def _pauli_terms(obs: Any, tr: Translation) -> tuple[Terms, float] | None:
    """``(coefficient, result columns)`` Z-strings and the constant of a commuting Pauli sum
    (measured after its basis rotation), or ``None`` for any other observable."""
    if obs is None or pauli_letters(obs) is None:
        return None
    column = {w: i for i, w in enumerate(tr.measured)}
    terms: Terms = []
    constant = 0.0
    for word, coeff in obs.pauli_rep.items():
        if len(word):
            terms.append((float(np.real(coeff)), [column[w] for w in word]))
        else:
            constant += float(np.real(coeff))
    return terms, constant


def _pauli_values(terms: Terms, constant: float, samples: np.ndarray[Any, Any]) -> Any:
    """Per-shot eigenvalues of a sum of Z-strings, from parities (vectorised)."""
    values = np.full(len(samples), constant)
    for c, cols in terms:
        values += c * (1 - 2 * (samples[:, cols].sum(axis=1) & 1))
    return values


def _square(terms: Terms, constant: float) -> tuple[Terms, float]:
    """``O^2`` of ``O = constant + sum c_k Z(S_k)``: Z-strings multiply to Z of ``S_j ^ S_k``."""
    full = [(constant, frozenset[int]())] + [(c, frozenset(cols)) for c, cols in terms]
    square: dict[frozenset[int], float] = {}
    for c1, s1 in full:
        for c2, s2 in full:
            square[s1 ^ s2] = square.get(s1 ^ s2, 0.0) + c1 * c2
    const = square.pop(frozenset(), 0.0)
    return [(c, sorted(s)) for s, c in square.items()], const


def _mitigated_probs(
    wires: Any, samples: np.ndarray[Any, Any], tr: Translation, errors: ReadoutErrors
) -> np.ndarray[Any, Any]:
    """Readout-mitigated quasi-probabilities of ``wires`` (PennyLane's big-endian order)."""
    cols = [tr.measured.index(w) for w in wires]
    quasi = quasi_distribution(samples[:, cols], errors.subset([errors.qubits[c] for c in cols]))
    index = quasi.rows.astype(np.int64) @ (1 << np.arange(len(cols), dtype=np.int64)[::-1])
    probs = np.zeros(2 ** len(cols))
    probs[index] = quasi.values
    return probs


def _mitigated(
    mp: Any, samples: np.ndarray[Any, Any], tr: Translation, errors: ReadoutErrors
) -> Any:
    """A mitigated expectation value, variance or probability vector."""
    if isinstance(mp, ProbabilityMP):
        return _mitigated_probs(mp.wires if len(mp.wires) else tr.measured, samples, tr, errors)
    pauli = _pauli_terms(mp.obs, tr)
    if pauli is not None:
        mean = weighted_sum(samples, pauli[0], errors, constant=pauli[1]).value
        if isinstance(mp, ExpectationMP):
            return np.float64(mean)
        sq_terms, sq_constant = _square(*pauli)
        square = weighted_sum(samples, sq_terms, errors, constant=sq_constant).value
        return np.float64(square - mean**2)
    # any other diagonalised observable: its eigenvalues over the mitigated probabilities
    eigvals = np.real(np.asarray(mp.eigvals(), dtype=complex))
    probs = _mitigated_probs(mp.wires, samples, tr, errors)
    mean = float(eigvals @ probs)
    return np.float64(mean if isinstance(mp, ExpectationMP) else eigvals**2 @ probs - mean**2)


def _bin_result(
    tape: QuantumScript,
    tr: Translation,
    samples: np.ndarray[Any, Any],
    mcm_bits: np.ndarray[Any, Any] | None,
    valid: np.ndarray[Any, Any] | None,
    postselect_mode: str | None,
    errors: ReadoutErrors | None,
) -> Any:
    out = []
    kept = samples if valid is None else samples[valid]
    for mp in tape.measurements:
        if getattr(mp, "mv", None) is not None:
            assert mcm_bits is not None
            mcm_map = {m: mcm_bits[:, k : k + 1] for k, m in enumerate(tr.mcms)}
            is_valid = np.ones(len(mcm_bits), dtype=bool) if valid is None else valid
            if not is_valid.any():
                out.append(_empty(mp))
                continue
            out.append(gather_mcm(mp, mcm_map, is_valid, postselect_mode=postselect_mode))
        elif len(kept) == 0:
            out.append(_empty(mp))
        elif errors is not None and isinstance(mp, ExpectationMP | VarianceMP | ProbabilityMP):
            out.append(_mitigated(mp, kept, tr, errors))
        elif (
            isinstance(mp, ExpectationMP | VarianceMP)
            and (pauli := _pauli_terms(mp.obs, tr)) is not None
        ):
            values = _pauli_values(*pauli, kept)
            out.append(np.float64(values.mean() if isinstance(mp, ExpectationMP) else values.var()))
        else:
            out.append(mp.process_samples(kept, wire_order=tr.measured))
    return out[0] if len(out) == 1 else tuple(out)


def _result_errors(bits: MeasurementBits, readout: ReadoutErrors | None) -> ReadoutErrors:
    """The readout errors of the result register's columns, from those of every column."""
    if readout is None:
        raise ResultFormatError(
            "readout mitigation was asked for but the result carries no readout errors for "
            "every measured bit; run without mitigation=... to get raw results"
        )
    start = 0
    for reg in bits.registers:
        if reg.name == RESULT_REGISTER:
            return readout.subset(readout.qubits[start : start + reg.size])
        start += reg.size
    raise ResultFormatError(f"the result has no {RESULT_REGISTER!r} register to mitigate")


def tape_results(
    tape: QuantumScript,
    tr: Translation,
    bits: MeasurementBits,
    postselect_mode: str | None,
    readout: ReadoutErrors | None = None,
    mitigate: bool = False,
) -> Any:
    """The tape's result in PennyLane's shape: per bin of a shot vector, per measurement.

    The job ran with the most shots of its batch; a tape asking for fewer uses the first ones.
    With ``mitigate``, ``readout`` (the per-column readout errors the door attached) mitigates
    expectation values, variances and probabilities.
    """
    errors = _result_errors(bits, readout) if mitigate and len(tr.measured) else None
    total = tape.shots.total_shots
    samples = bits.register(RESULT_REGISTER)[:total].astype(np.int64)
    mcm_bits = None
    valid = None
    if tr.mcms:
        mcm_bits = bits.register(MCM_REGISTER)[:total].astype(np.int64)
        for k, m in enumerate(tr.mcms):
            if m.postselect is not None:
                hit = mcm_bits[:, k] == int(m.postselect)
                valid = hit if valid is None else valid & hit
    results = []
    for lower, upper in tape.shots.bins():
        results.append(
            _bin_result(
                tape,
                tr,
                samples[lower:upper],
                None if mcm_bits is None else mcm_bits[lower:upper],
                None if valid is None else valid[lower:upper],
                postselect_mode,
                errors,
            )
        )
    if tape.shots.has_partitioned_shots:
        return tuple(results)
    return results[0]

"""Mid-circuit measurements: run them natively (measure + ``cc_prx``) when IQM hardware can.

A tape runs natively when every ``qml.cond`` depends on one mid-circuit measurement and
conditions only single-qubit gates (after decomposition); the core lowers a condition on 0
(:class:`iqm_bridge.core.Conditional` with ``value=0``). Any other tape falls back to
PennyLane's deferred-measurement transform.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pennylane as qml
from pennylane.measurements import MidMeasureMP
from pennylane.ops import Conditional
from pennylane.tape import QuantumScript, QuantumScriptBatch

from iqm_bridge.adapters.pennylane._translate import GATE_NAMES, IGNORED, branch_values
from iqm_bridge.core.errors import CircuitValidationError, UnsupportedOperationError

__all__ = [
    "check_observables",
    "native_mid_circuit_measurements",
    "pauli_letters",
    "rotate_to_measurement_basis",
    "split_non_commuting_if_needed",
    "decomposer",
    "diagonalize_remaining",
    "stopping_condition",
]

_KNOWN = frozenset(GATE_NAMES) | IGNORED | {"Barrier"}


def _gate_ok(op: Any) -> bool:
    return getattr(op, "name", None) in _KNOWN


def stopping_condition(op: Any) -> bool:
    """Whether the device takes ``op`` as it is (PennyLane decomposes everything else)."""
    if isinstance(op, MidMeasureMP):
        return True
    if isinstance(op, Conditional):
        return _gate_ok(op.base) and len(op.base.wires) <= 1
    return _gate_ok(op)


def decomposer(op: Any) -> Any:
    """An operator's decomposition; a matrix-only operator becomes a ``QubitUnitary`` first."""
    if op.has_decomposition:
        return op.decomposition()
    if op.has_matrix and len(op.wires):
        return [qml.QubitUnitary(op.matrix(), wires=op.wires)]
    return op.decomposition()  # raises PennyLane's own error naming the operator


def _null_postprocessing(results: Sequence[Any]) -> Any:
    return results[0]


def _single_qubit_decomposition(op: Any) -> list[Any] | None:
    (tape,), _ = qml.devices.preprocess.decompose(
        QuantumScript([op]), stopping_condition=_gate_ok, skip_initial_state_prep=False
    )
    ops = [o for o in tape.operations if o.name not in IGNORED]
    if any(len(o.wires) > 1 for o in ops):
        return None
    return ops


def _native_operations(tape: QuantumScript) -> list[Any] | None:
    out: list[Any] = []
    for op in tape.operations:
        if not isinstance(op, Conditional):
            out.append(op)
            continue
        branches = branch_values(op)
        if branches is None:
            return None
        ops = _single_qubit_decomposition(op.base)
        if ops is None:
            return None
        if branches == (True, True):
            out.extend(ops)
        elif branches != (False, False):  # conditioned on one bit value: the core lowers it
            out.extend(Conditional(op.meas_val, g) for g in ops)
    return out


@qml.transform
def native_mid_circuit_measurements(
    tape: QuantumScript,
) -> tuple[QuantumScriptBatch, Callable[..., Any]]:
    """Keep mid-circuit measurements native where IQM hardware can, else defer them."""
    if not any(isinstance(op, MidMeasureMP | Conditional) for op in tape.operations):
        return (tape,), _null_postprocessing
    ops = _native_operations(tape)
    if ops is None:
        return qml.defer_measurements(tape, allow_postselect=False)
    return (tape.copy(operations=ops),), _null_postprocessing


def _basis_keys(term: Any) -> dict[Any, object] | None:
    rep = getattr(term, "pauli_rep", None)
    if rep is not None and len(rep) == 1:
        (word,) = rep.keys()
        return dict(word.items())
    if rep is not None and len(rep) == 0:
        return {}
    key = (term.name, hash(term))
    return dict.fromkeys(term.wires, key)


def _all_qubit_wise_commuting(tape: QuantumScript) -> bool:
    basis: dict[Any, object] = {}

    def claim(wire: Any, key: object) -> bool:
        return basis.setdefault(wire, key) == key

    for mp in tape.measurements:
        if getattr(mp, "mv", None) is not None:
            continue
        obs = mp.obs
        if obs is None:
            wires = mp.wires if len(mp.wires) else tape.wires
            if not all(claim(w, "Z") for w in wires):
                return False
            continue
        try:
            _, terms = obs.terms()
        except Exception:  # noqa: BLE001 - an observable without terms is its own basis
            terms = [obs]
        for term in terms:
            keys = _basis_keys(term)
            if keys is None or not all(claim(w, k) for w, k in keys.items()):
                return False
    return True


def _parts(obs: Any) -> Any:
    """``obs`` and every operator nested in it (the operands of sums, products, scalings)."""
    yield obs
    for sub in getattr(obs, "operands", ()):
        yield from _parts(sub)
    if (base := getattr(obs, "base", None)) is not None:
        yield from _parts(base)


@qml.transform
def check_observables(tape: QuantumScript) -> tuple[QuantumScriptBatch, Callable[..., Any]]:
    """Refuse a ``qml.Hermitian`` whose matrix is not Hermitian (it has no real eigenbasis).

    Raises:
        CircuitValidationError: names the wires and the largest deviation from ``A^dagger``.
    """
    for mp in tape.measurements:
        obs = getattr(mp, "obs", None)
        for op in _parts(obs) if obs is not None else ():
            if isinstance(op, qml.Hermitian):
                a = np.asarray(qml.math.unwrap(op.matrix()))
                gap = float(np.abs(a - a.conj().T).max())
                if gap > 1e-8:
                    raise CircuitValidationError(
                        f"qml.Hermitian on wires {op.wires.tolist()} is not Hermitian: its "
                        f"matrix differs from its conjugate transpose by up to {gap:.3g}; an "
                        "observable needs A == A.conj().T"
                    )
    return (tape,), _null_postprocessing


def _is_variance_of_sum(mp: Any) -> bool:
    if not isinstance(mp, qml.measurements.VarianceMP) or mp.obs is None:
        return False
    try:
        return len(mp.obs.terms()[1]) > 1
    except Exception:  # noqa: BLE001 - no terms: a single observable
        return False


def _square(obs: Any) -> Any:
    """``obs @ obs`` as a Pauli sum (real coefficients: anticommuting cross terms cancel).

    Raises:
        UnsupportedOperationError: ``obs`` is not a sum of Pauli words.
    """
    rep = obs.pauli_rep
    if rep is None:
        raise UnsupportedOperationError(
            f"qml.var({obs}) needs its terms to commute qubit-wise, or to be Pauli words (its "
            "variance is then measured as <O^2> - <O>^2); split the observable or measure "
            "qml.expval of its parts"
        )
    square = rep @ rep
    real = {w: float(np.real(c)) for w, c in square.items() if abs(np.real(c)) > 1e-12}
    return qml.pauli.PauliSentence(real).operation(wire_order=obs.wires)


@qml.transform
def split_non_commuting_if_needed(
    tape: QuantumScript,
) -> tuple[QuantumScriptBatch, Callable[..., Any]]:
    """Split a tape into qubit-wise-commuting groups.

    PennyLane's ``split_non_commuting`` cannot split the terms of a ``qml.var`` of a sum; a
    tape with one is kept whole when everything on it commutes qubit-wise. Otherwise each
    such variance becomes ``<O^2> - <O>^2``: two expectations of Pauli sums, split like any.
    """
    if not any(_is_variance_of_sum(mp) for mp in tape.measurements):
        return qml.transforms.split_non_commuting(tape, grouping_strategy="qwc")
    if _all_qubit_wise_commuting(tape):
        return (tape,), _null_postprocessing
    measurements: list[Any] = []
    slots: list[int | tuple[int, int]] = []
    for mp in tape.measurements:
        if _is_variance_of_sum(mp):
            slots.append((len(measurements), len(measurements) + 1))
            measurements += [qml.expval(_square(mp.obs)), qml.expval(mp.obs)]
        else:
            slots.append(len(measurements))
            measurements.append(mp)
    tapes, split = qml.transforms.split_non_commuting(
        tape.copy(measurements=measurements), grouping_strategy="qwc"
    )
    partitioned = tape.shots.has_partitioned_shots

    def combine(results: Sequence[Any]) -> Any:
        out = split(results)
        bins = []
        for res in out if partitioned else (out,):
            values = [res[s] if isinstance(s, int) else res[s[0]] - res[s[1]] ** 2 for s in slots]
            bins.append(values[0] if len(values) == 1 else tuple(values))
        return tuple(bins) if partitioned else bins[0]

    return tapes, combine


@qml.transform
def diagonalize_remaining(tape: QuantumScript) -> tuple[QuantumScriptBatch, Callable[..., Any]]:
    """Rotate into the eigenbasis of observables left non-diagonal (``Hermitian``, projectors).

    Runs after ``diagonalize_measurements`` (which turns Pauli words into Z words); the
    observables keep their eigenvalues, so results are read from computational samples.
    """
    extra: list[Any] = []
    seen: set[Any] = set()
    for mp in tape.measurements:
        obs = getattr(mp, "obs", None)
        if obs is None or obs in seen:
            continue
        seen.add(obs)
        gates = obs.diagonalizing_gates() if obs.has_diagonalizing_gates else []
        extra.extend(gates)
    if not extra:
        return (tape,), _null_postprocessing
    return (tape.copy(operations=list(tape.operations) + extra),), _null_postprocessing


def pauli_letters(obs: Any) -> dict[Any, str] | None:
    """Wire -> Pauli letter when ``obs`` is a sum of qubit-wise-commuting Pauli words."""
    rep = getattr(obs, "pauli_rep", None)
    if rep is None:
        return None
    letters: dict[Any, str] = {}
    for word in rep:
        for wire, letter in word.items():
            if letters.setdefault(wire, letter) != letter:
                return None
    return letters


def _rotations(tape: QuantumScript) -> list[Any] | None:
    """The basis changes that make every measurement diagonal, or None to let PennyLane do it."""
    basis: dict[Any, str] = {}
    extra: list[Any] = []
    seen: set[Any] = set()

    def claim(wire: Any, letter: str) -> bool:
        return basis.setdefault(wire, letter) == letter

    for mp in tape.measurements:
        obs = getattr(mp, "obs", None)
        if getattr(mp, "mv", None) is not None:
            continue
        if obs is None:
            wires = mp.wires if len(mp.wires) else tape.wires
            if not all(claim(w, "Z") for w in wires):
                return None
            continue
        letters = pauli_letters(obs)
        if letters is not None:
            several = len(obs.pauli_rep) > 1
            if several and not isinstance(
                mp, qml.measurements.ExpectationMP | qml.measurements.VarianceMP
            ):
                return None  # eigenvalue order of a sum: PennyLane's diagonalisation knows it
            if not all(claim(w, p) for w, p in letters.items()):
                return None
            continue
        if any(w in basis for w in obs.wires) or obs in seen:
            if obs in seen:
                continue
            return None
        seen.add(obs)
        for w in obs.wires:
            basis[w] = "other"
        extra.extend(obs.diagonalizing_gates() if obs.has_diagonalizing_gates else [])
    for wire, letter in basis.items():
        if letter == "X":
            extra.extend(qml.X(wire).diagonalizing_gates())
        elif letter == "Y":
            extra.extend(qml.Y(wire).diagonalizing_gates())
    return extra


@qml.transform
def rotate_to_measurement_basis(
    tape: QuantumScript,
) -> tuple[QuantumScriptBatch, Callable[..., Any]]:
    """Append one basis change per qubit so every measurement reads computational samples.

    The observables stay as they are (their eigenvalues give the results); cases this fast
    path does not cover go through PennyLane's ``diagonalize_measurements``.
    """
    extra = _rotations(tape)
    if extra is None:
        (tape,), _ = qml.transforms.diagonalize_measurements(tape, supported_base_obs={qml.Z})
        return diagonalize_remaining(tape)
    if not extra:
        return (tape,), _null_postprocessing
    return (tape.copy(operations=list(tape.operations) + extra),), _null_postprocessing

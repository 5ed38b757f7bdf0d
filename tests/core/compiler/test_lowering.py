"""Every vocabulary gate lowers to natives with the same unitary, symbolic or not.

Unitaries are compared entry by entry up to one global phase, with an absolute tolerance of
``TOL`` = 1e-9 on every entry (double-precision products of a few dozen 2x2/4x4 factors stay
near 1e-14). ``np.allclose``'s default relative tolerance (1e-5) is not used: it would let
entry errors near 1e-5 through. ``test_the_phase_check_fails_at_its_tolerance`` shows the
check rejecting a lowering whose phase is off by 1e-7 or 1e-8 (which ``np.allclose(a, b,
atol=1e-9)`` accepts).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iqm_bridge.core import (
    GATES,
    Circuit,
    Conditional,
    Gate,
    Measure,
    Parameter,
    UnsupportedOperationError,
    gate_unitary,
    lower,
    lower_gate,
)

CANONICAL = sorted({g.name for g in GATES.values()})
angles = st.floats(min_value=-4 * math.pi, max_value=4 * math.pi, allow_nan=False)


def sequence_unitary(gates: list[Gate], qubits: tuple[str, ...]) -> np.ndarray:
    """Big-endian unitary of a gate list on ``qubits`` (first qubit most significant)."""
    n = len(qubits)
    u = np.eye(2**n, dtype=complex)
    for g in gates:
        m = gate_unitary(g.name, [float(p) for p in g.params])
        k = len(g.qubits)
        pos = [qubits.index(q) for q in g.qubits]
        full = np.reshape(np.eye(2**n, dtype=complex), [2] * n + [2**n])
        # apply m on the axes `pos` of every column
        rest = [i for i in range(n) if i not in pos]
        perm = pos + rest
        t = np.transpose(full, perm + [n]).reshape(2**k, -1)
        t = (m @ t).reshape([2] * n + [2**n])
        inv = np.argsort(perm).tolist()
        op = np.transpose(t, inv + [n]).reshape(2**n, 2**n)
        u = op @ u
    return u


TOL = 1e-9


def assert_equal_up_to_phase(a: np.ndarray, b: np.ndarray, tol: float = TOL) -> None:
    """``a == phase * b`` entry by entry within ``tol`` (absolute), for one unit ``phase``."""
    idx = np.unravel_index(np.argmax(np.abs(b)), b.shape)
    phase = a[idx] / b[idx]
    assert abs(abs(phase) - 1) <= tol, f"|phase| = {abs(phase)!r}"
    diff = float(np.max(np.abs(a - phase * b)))
    assert diff <= tol, f"max entry difference {diff:.3g} > {tol:g}"


@pytest.mark.parametrize("name", CANONICAL)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_lowering_matches_unitary(name: str, data: st.DataObject) -> None:
    gd = GATES[name]
    params = [data.draw(angles) for _ in range(gd.num_params)]
    qubits = tuple(f"q{i}" for i in range(gd.num_qubits))
    natives = lower_gate(Gate(name, qubits, params))
    assert {g.name for g in natives} <= {"prx", "cz", "move"}
    expected = gate_unitary(name, params)
    assert_equal_up_to_phase(sequence_unitary(natives, qubits), expected)


@pytest.mark.parametrize("name", [n for n in CANONICAL if GATES[n].num_params])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_symbolic_lowering_then_binding_equals_binding_then_lowering(
    name: str, data: st.DataObject
) -> None:
    gd = GATES[name]
    qubits = tuple(f"q{i}" for i in range(gd.num_qubits))
    symbols = [Parameter(f"a{i}") for i in range(gd.num_params)]
    scales = [data.draw(st.floats(-3, 3, allow_nan=False)) for _ in symbols]
    offsets = [data.draw(st.floats(-3, 3, allow_nan=False)) for _ in symbols]
    exprs = [s * k + c for s, k, c in zip(symbols, scales, offsets, strict=True)]
    values = {s.name: data.draw(angles) for s in symbols}
    symbolic = Circuit(qubits, [Gate(name, qubits, exprs)])
    lowered_then_bound = lower(symbolic).bind(values)
    bound_then_lowered = lower(symbolic.bind(values))
    assert lowered_then_bound.parameters == frozenset()
    a = sequence_unitary(list(lowered_then_bound.operations), qubits)  # type: ignore[arg-type]
    b = sequence_unitary(list(bound_then_lowered.operations), qubits)  # type: ignore[arg-type]
    assert_equal_up_to_phase(a, b)


@pytest.mark.parametrize("error", [1e-7, 1e-8])
def test_the_phase_check_fails_at_its_tolerance(error: float) -> None:
    """A lowering of rx whose native phase is off by ``error`` must be caught.

    The diagonal (the largest entries, which fix the global phase) stays exact, so only the
    entry-wise check can see it; the former ``np.allclose(a, b, atol=tol)`` let it through.
    """
    theta = 0.7
    expected = gate_unitary("rx", [theta])
    (prx,) = lower_gate(Gate("rx", ("q0",), (theta,)))
    assert_equal_up_to_phase(sequence_unitary([prx], ("q0",)), expected)
    off = Gate("prx", ("q0",), (float(prx.params[0]), float(prx.params[1]) + error))
    broken = sequence_unitary([off], ("q0",))
    assert np.allclose(broken, expected, atol=TOL)  # what the former check accepted
    with pytest.raises(AssertionError, match="max entry difference"):
        assert_equal_up_to_phase(broken, expected)


def test_aliases_lower_like_their_gate() -> None:
    assert lower_gate(Gate("cnot", ("a", "b"))) == lower_gate(Gate("cx", ("a", "b")))
    assert lower_gate(Gate("r", ("a",), (0.1, 0.2))) == [Gate("prx", ("a",), (0.1, 0.2))]


def test_unknown_gate_names_the_gate() -> None:
    with pytest.raises(UnsupportedOperationError, match="'foo'"):
        lower_gate(Gate("foo", ("a",)))


def test_wrong_arity_is_explained() -> None:
    with pytest.raises(UnsupportedOperationError, match="'cx' acts on 2 qubit"):
        lower_gate(Gate("cx", ("a",)))
    with pytest.raises(UnsupportedOperationError, match="takes 1 parameter"):
        lower_gate(Gate("rx", ("a",), ()))


def test_conditional_single_qubit_gate_lowers_to_conditional_prx() -> None:
    c = Circuit(("a", "b"), [Measure(("a",), "m"), Conditional(Gate("h", ("b",)), "m")])
    ops = lower(c).operations
    assert all(isinstance(op, Conditional) and op.gate.name == "prx" for op in ops[1:])
    assert len(ops) == 3


def test_a_condition_on_zero_lowers_to_the_gate_and_its_inverse_on_one() -> None:
    """``Conditional(value=0)`` becomes the gate, then its inverse conditioned on 1: the
    state after it is the gate's when the bit read 0, untouched when it read 1 (checked on
    both branches with the gate's unitary). Broken variant caught: dropping the value (the
    gate then applies on 1)."""
    gate = Gate("u", ("b",), (0.7, 0.3, -1.1))
    ops = lower(Circuit(("a", "b"), [Measure(("a",), "m"), Conditional(gate, "m", 0, 0)]))
    natives = ops.operations[1:]
    plain = [op for op in natives if isinstance(op, Gate)]
    undo = [op for op in natives if isinstance(op, Conditional)]
    assert plain and undo and all(op.value == 1 and op.key == "m" for op in undo)
    u = gate_unitary("u", [0.7, 0.3, -1.1])
    applied = sequence_unitary(plain, ("b",))
    assert_equal_up_to_phase(applied, u)  # bit read 0: only the unconditioned part acts
    both = sequence_unitary(plain + [op.gate for op in undo], ("b",))
    assert_equal_up_to_phase(both, np.eye(2))  # bit read 1: the two cancel


def test_a_condition_value_other_than_0_or_1_is_refused() -> None:
    with pytest.raises(ValueError, match="0 or 1"):
        Conditional(Gate("x", ("b",)), "m", 0, 2)


def test_conditional_two_qubit_gate_is_refused() -> None:
    c = Circuit(("a", "b", "c"), [Measure(("a",), "m"), Conditional(Gate("cx", ("b", "c")), "m")])
    with pytest.raises(UnsupportedOperationError, match="only single-qubit gates"):
        lower(c)

"""Clear errors for circuits the IQM path cannot run (type and message text)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

cirq = pytest.importorskip("cirq")

from iqm_bridge.adapters.cirq import IQMSampler, to_ir  # noqa: E402
from iqm_bridge.core.errors import (  # noqa: E402
    CircuitValidationError,
    DuplicateMeasurementKeyError,
    QubitNotOnDeviceError,
    UnsupportedOperationError,
    UnwrittenMeasurementKeyError,
)


class Opaque(cirq.Gate):
    """A two-qubit gate with neither a unitary nor a decomposition."""

    def _num_qubits_(self) -> int:
        return 2

    def __str__(self) -> str:
        return "Opaque"


def test_unsupported_gate_names_gate_and_nearest(sampler: IQMSampler) -> None:
    a, b = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(Opaque().on(a, b), cirq.measure(a, b, key="m"))
    with pytest.raises(UnsupportedOperationError) as info:
        sampler.run(circuit)
    text = str(info.value)
    assert "cirq gate Opaque" in text
    assert "nearest supported: cirq.CZPowGate" in text


def test_noise_channel_is_refused() -> None:
    (a,) = cirq.LineQubit.range(1)
    with pytest.raises(UnsupportedOperationError, match=r"DepolarizingChannel.*drop them"):
        to_ir(cirq.Circuit(cirq.depolarize(0.1).on(a), cirq.measure(a, key="m")))


def test_misspelt_like_gate_suggests_close_name() -> None:
    class PhasedXPowGat(cirq.Gate):  # noqa: N801 - a deliberately close name
        def _num_qubits_(self) -> int:
            return 1

    (a,) = cirq.LineQubit.range(1)
    with pytest.raises(UnsupportedOperationError, match="nearest supported: cirq.PhasedXPowGate"):
        to_ir(cirq.Circuit(PhasedXPowGat().on(a)))


def test_qubit_not_on_device(sampler: IQMSampler) -> None:
    q = cirq.NamedQubit("QB99")
    circuit = cirq.Circuit(cirq.X(q), cirq.measure(q, key="m"))
    with pytest.raises(QubitNotOnDeviceError, match=r"\['QB99'\] are not on garnet"):
        sampler.run(circuit)


def test_device_and_logical_qubits_mixed(sampler: IQMSampler) -> None:
    q, r = cirq.NamedQubit("QB1"), cirq.LineQubit(0)
    circuit = cirq.Circuit(cirq.CNOT(q, r), cirq.measure(q, r, key="m"))
    with pytest.raises(CircuitValidationError, match="mixes device qubits"):
        sampler.run(circuit)


def test_key_reused_with_other_width(sampler: IQMSampler) -> None:
    a, b = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.measure(a, key="m"), cirq.measure(a, b, key="m"))
    with pytest.raises(DuplicateMeasurementKeyError) as info:
        sampler.run(circuit)
    text = str(info.value)
    assert "'m'" in text and "2 qubit(s)" in text and "1 qubit(s) earlier" in text


def test_condition_on_multi_qubit_key() -> None:
    a, b, c = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.measure(a, b, key="m"), cirq.X(c).with_classical_controls("m"))
    with pytest.raises(UnsupportedOperationError, match="single measured bit"):
        to_ir(circuit)


def test_condition_before_measurement() -> None:
    a, b = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.X(b).with_classical_controls("late"), cirq.measure(a, key="late"))
    with pytest.raises(UnwrittenMeasurementKeyError, match="'late'"):
        to_ir(circuit)


def test_condition_on_two_qubit_gate() -> None:
    a, b, c = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.measure(a, key="m"), cirq.CNOT(b, c).with_classical_controls("m"))
    with pytest.raises(UnsupportedOperationError, match="single-qubit gates"):
        to_ir(circuit)


def test_sympy_condition_refused() -> None:
    import sympy

    a, b = cirq.LineQubit.range(2)
    cond = cirq.SympyCondition(sympy.Symbol("m") > 0)
    circuit = cirq.Circuit(cirq.measure(a, key="m"), cirq.X(b).with_classical_controls(cond))
    with pytest.raises(UnsupportedOperationError, match="one measured bit"):
        to_ir(circuit)


def test_qutrit_refused() -> None:
    q = cirq.LineQid(0, dimension=3)
    with pytest.raises(UnsupportedOperationError, match="dimension 3"):
        to_ir(cirq.Circuit(cirq.measure(q, key="m")))


@pytest.mark.parametrize(
    "gate",
    [
        cirq.X**0.37,
        cirq.Y**-0.6,
        cirq.ry(1.1),
        cirq.H**0.3,
        cirq.PhasedXZGate(x_exponent=0.2, z_exponent=-0.4, axis_phase_exponent=0.7),
    ],
    ids=["xpow", "ypow", "ry", "hpow", "phasedxz"],
)
def test_one_qubit_conversion_is_the_unitary_up_to_phase(gate: Any) -> None:
    from iqm_bridge.core.gates import gate_unitary

    (a,) = cirq.LineQubit.range(1)
    ir = to_ir(cirq.Circuit(gate.on(a))).circuit
    u = np.eye(2, dtype=complex)
    for op in ir.operations:
        u = gate_unitary(op.name, op.params) @ u
    cirq.testing.assert_allclose_up_to_global_phase(u, cirq.unitary(gate), atol=1e-9)


@pytest.mark.parametrize(
    "gate",
    [cirq.CZ**0.3, cirq.CNOT**0.6, cirq.ISWAP**0.5, cirq.ISWAP**-1, cirq.ISWAP, cirq.SWAP**0.5],
    ids=["czpow", "cxpow", "iswap_half", "iswap_inv", "iswap", "swap_half"],
)
def test_two_qubit_conversion_is_the_unitary_up_to_phase(gate: Any) -> None:
    from iqm_bridge.core.gates import gate_unitary

    a, b = cirq.LineQubit.range(2)
    conv = to_ir(cirq.Circuit(gate.on(a, b)))
    index = {"q(0)": 0, "q(1)": 1}
    u = np.eye(4, dtype=complex)
    for op in conv.circuit.operations:
        m = gate_unitary(op.name, op.params)
        if len(op.qubits) == 1:
            m = np.kron(m, np.eye(2)) if index[op.qubits[0]] == 0 else np.kron(np.eye(2), m)
        elif op.qubits == ("q(1)", "q(0)"):
            swap = gate_unitary("swap")
            m = swap @ m @ swap
        u = m @ u
    cirq.testing.assert_allclose_up_to_global_phase(u, cirq.unitary(gate), atol=1e-9)


def test_affine_sympy_parameters_stay_symbolic() -> None:
    import sympy

    from iqm_bridge.core.parameters import Expression

    (a,) = cirq.LineQubit.range(1)
    theta = sympy.Symbol("theta")
    ir = to_ir(cirq.Circuit(cirq.X(a) ** (2 * theta + 0.5), cirq.rz(theta).on(a))).circuit
    rx, rz = ir.operations
    assert rx.params[0] == Expression([("theta", 2 * np.pi)], 0.5 * np.pi)
    assert isinstance(rz.params[0], Expression)
    assert rz.params[0].terms[0][0] == "theta"
    assert rz.params[0].terms[0][1] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "gate",
    [
        cirq.X,
        cirq.Y**0.5,
        cirq.rx(0.3),
        cirq.ry(-2.0),
        cirq.PhasedXZGate(x_exponent=0.25, z_exponent=0.0, axis_phase_exponent=0.5),
    ],
    ids=["x", "ypow", "rx", "ry", "phasedxz_no_z"],
)
def test_prx_like_gates_translate_to_one_native_prx(gate: Any) -> None:
    """So a hand-written MOVE circuit using them stays native (the compiler refuses MOVEs)."""
    (a,) = cirq.LineQubit.range(1)
    assert [op.name for op in to_ir(cirq.Circuit(gate.on(a))).circuit.operations] == ["prx"]


def test_repeat_until_and_bad_qasm_are_refused() -> None:
    from iqm_bridge.adapters.cirq import circuit_from_qasm

    (a,) = cirq.LineQubit.range(1)
    body = cirq.FrozenCircuit(cirq.X(a) ** 0.5, cirq.measure(a, key="z"))
    loop = cirq.CircuitOperation(
        body, use_repetition_ids=False, repeat_until=cirq.KeyCondition(cirq.MeasurementKey("z"))
    )
    with pytest.raises(UnsupportedOperationError, match="CircuitOperation"):
        to_ir(cirq.Circuit(loop))
    with pytest.raises(CircuitValidationError, match="OpenQASM"):
        circuit_from_qasm("OPENQASM 2.0;\nqreg q[1];\nfoo q[0];")

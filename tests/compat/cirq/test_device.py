"""``IQMDevice``: qubits, metadata, native operations, decomposition and validation.

Behaviours of ``iqm.cirq_iqm`` 36 (``sampler.device``, an ``IQMDevice(cirq.Device)``):
``qubits`` and ``resonators`` as named qubits ``QB1``... in order; ``metadata`` with
``qubit_set``, ``nx_graph`` (edges of two-component gate loci) and ``gateset``;
``supported_operations``; ``get_qubit(i)`` (1-based) and ``get_qubit_index(q)``;
``is_native_operation``, ``has_valid_operation_targets``, ``check_qubit_connectivity``;
``decompose_operation``/``decompose_circuit`` into natives (PhasedX/X/Y, CZ, measure);
``validate_circuit``/``validate_operation``/``validate_moves`` raising ``ValueError``.
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest
from _compat_helpers import assert_is, cirq_sampler, cz_edges, qb, server_architecture

pytestmark = pytest.mark.compat


def _device(flavour, url):
    return cirq_sampler(flavour, url).device


def _is_native(op) -> bool:
    """IQM's natives in cirq form: PhasedX/X/Y rotations, CZ (exponent 1), measurements."""
    gate = op.gate
    if isinstance(gate, cirq.CZPowGate):
        return gate.exponent == 1
    return isinstance(
        gate, cirq.PhasedXPowGate | cirq.XPowGate | cirq.YPowGate | cirq.MeasurementGate
    )


def _all_native(circuit) -> bool:
    return all(_is_native(op) for op in circuit.all_operations())


def test_device_is_the_flavours_cirq_device(flavour, garnet_url):
    device = _device(flavour, garnet_url)
    assert_is(device, cirq.Device)
    assert_is(device, flavour.cirq.IQMDevice)


def test_qubits_are_named_after_the_architecture_in_order(flavour, garnet_url):
    device = _device(flavour, garnet_url)
    names = [q.name for q in device.qubits]
    assert names == list(server_architecture(garnet_url).qubits)
    assert device.qubits[0] == cirq.NamedQubit("QB1")
    assert tuple(device.resonators) == ()


def test_star_device_lists_its_resonator(flavour, deneb_url):
    device = _device(flavour, deneb_url)
    assert [q.name for q in device.qubits] == [f"QB{i}" for i in range(1, 7)]
    assert [r.name for r in device.resonators] == ["CR1"]


def test_metadata_qubit_set_and_graph(flavour, garnet_url):
    device = _device(flavour, garnet_url)
    assert set(device.metadata.qubit_set) == set(device.qubits)
    edges = {frozenset(q.name for q in edge) for edge in device.metadata.nx_graph.edges}
    assert edges == cz_edges(server_architecture(garnet_url))


def test_metadata_gateset_holds_the_natives(flavour, garnet_url):
    gateset = _device(flavour, garnet_url).metadata.gateset
    assert cirq.PhasedXPowGate(phase_exponent=0.3, exponent=0.4) in gateset
    assert cirq.CZ in gateset
    assert cirq.MeasurementGate(1, key="m") in gateset
    assert cirq.H not in gateset


def test_supported_operations_map_gates_to_loci(flavour, garnet_url):
    device = _device(flavour, garnet_url)
    supported = device.supported_operations
    cz_loci = {frozenset(q.name for q in locus) for locus in supported[cirq.CZPowGate]}
    assert cz_loci == cz_edges(server_architecture(garnet_url))
    assert {locus[0].name for locus in supported[cirq.PhasedXPowGate]} == {
        q.name for q in device.qubits
    }


def test_get_qubit_is_one_based(flavour, garnet_url):
    device = _device(flavour, garnet_url)
    assert device.get_qubit(1) == qb("QB1")
    assert device.get_qubit(20) == qb("QB20")


def test_get_qubit_index(flavour):
    assert flavour.cirq.IQMDevice.get_qubit_index(qb("QB7")) == 7


@pytest.mark.parametrize(
    ("op", "native"),
    [
        (cirq.PhasedXPowGate(phase_exponent=0.25, exponent=0.5), True),
        (cirq.X**0.3, True),
        (cirq.Y, True),
        (cirq.H, False),
        (cirq.Z, False),
    ],
)
def test_is_native_operation_single_qubit(flavour, garnet_url, op, native):
    assert _device(flavour, garnet_url).is_native_operation(op.on(qb("QB1"))) is native


def test_is_native_operation_two_qubit(flavour, garnet_url):
    device = _device(flavour, garnet_url)
    a, b = qb("QB1", "QB2")
    assert device.is_native_operation(cirq.CZ(a, b)) is True
    assert device.is_native_operation((cirq.CZ**0.5)(a, b)) is False
    assert device.is_native_operation(cirq.CNOT(a, b)) is False
    assert device.is_native_operation(cirq.measure(a, b, key="m")) is True


def test_has_valid_operation_targets(flavour, garnet_url):
    device = _device(flavour, garnet_url)
    assert device.has_valid_operation_targets(cirq.CZ(*qb("QB1", "QB2"))) is True
    assert device.has_valid_operation_targets(cirq.CZ(*qb("QB2", "QB1"))) is True
    assert device.has_valid_operation_targets(cirq.CZ(*qb("QB1", "QB3"))) is False


def test_check_qubit_connectivity(flavour, garnet_url):
    device = _device(flavour, garnet_url)
    device.check_qubit_connectivity(cirq.CZ(*qb("QB1", "QB2")))
    with pytest.raises(ValueError):
        device.check_qubit_connectivity(cirq.CZ(*qb("QB1", "QB3")))


@pytest.mark.parametrize("gate", [cirq.H, cirq.Z**0.3, cirq.T, cirq.rx(0.4)])
def test_decompose_operation_single_qubit(flavour, garnet_url, gate):
    device = _device(flavour, garnet_url)
    q = qb("QB1")
    ops = list(cirq.flatten_to_ops(device.decompose_operation(gate.on(q))))
    assert all(_is_native(op) for op in ops)
    cirq.testing.assert_allclose_up_to_global_phase(
        cirq.unitary(cirq.Circuit(ops)), cirq.unitary(gate), atol=1e-8
    )


@pytest.mark.parametrize(
    "gate",
    [cirq.CNOT, cirq.SWAP, cirq.ISWAP, cirq.ZZ**0.3, cirq.CZ**0.5, cirq.XX**0.25],
    ids=["cnot", "swap", "iswap", "zz", "cz_half", "xx"],
)
def test_decompose_circuit_two_qubit_gates(flavour, garnet_url, gate):
    """Natives only, on the same qubits, with the same measurement statistics."""
    device = _device(flavour, garnet_url)
    a, b = qb("QB1", "QB2")
    circuit = cirq.Circuit(cirq.H(a), cirq.rx(0.7)(b), gate(a, b), cirq.measure(a, b, key="m"))
    decomposed = device.decompose_circuit(circuit)
    assert _all_native(decomposed)
    assert decomposed.all_qubits() <= {a, b}
    cirq.testing.assert_circuits_with_terminal_measurements_are_equivalent(
        circuit, decomposed, atol=1e-7
    )


def test_decompose_circuit_keeps_keys_and_symbols(flavour, garnet_url):
    import sympy

    device = _device(flavour, garnet_url)
    a, b = qb("QB1", "QB2")
    t = sympy.Symbol("t")
    circuit = cirq.Circuit(
        cirq.X(a) ** t, cirq.CNOT(a, b), cirq.measure(a, key="first"), cirq.measure(b, key="second")
    )
    decomposed = device.decompose_circuit(circuit)
    assert cirq.measurement_key_names(decomposed) == {"first", "second"}
    assert cirq.parameter_names(decomposed) == {"t"}


def test_decompose_three_qubit_gate(flavour, garnet_url):
    device = _device(flavour, garnet_url)
    a, b, c = qb("QB1", "QB2", "QB5")
    circuit = cirq.Circuit(cirq.H.on_each(a, b), cirq.CCX(a, b, c), cirq.measure(a, b, c, key="m"))
    decomposed = device.decompose_circuit(circuit)
    assert _all_native(decomposed)
    cirq.testing.assert_circuits_with_terminal_measurements_are_equivalent(
        circuit, decomposed, atol=1e-7
    )


def test_validate_circuit_accepts_natives_on_couplings(flavour, garnet_url):
    device = _device(flavour, garnet_url)
    a, b = qb("QB1", "QB2")
    device.validate_circuit(
        cirq.Circuit(cirq.PhasedXPowGate(phase_exponent=0.5)(a), cirq.CZ(a, b), cirq.measure(a, b))
    )


@pytest.mark.parametrize(
    "bad",
    [
        cirq.Circuit(cirq.CZ(*qb("QB1", "QB3"))),
        cirq.Circuit(cirq.H(qb("QB1"))),
        cirq.Circuit(cirq.X(cirq.NamedQubit("Alice"))),
        cirq.Circuit(cirq.measure(qb("QB1"), key="m"), cirq.measure(qb("QB2"), key="m")),
    ],
    ids=["uncoupled", "not_native", "not_on_device", "repeated_key"],
)
def test_validate_circuit_raises_value_error(flavour, garnet_url, bad):
    with pytest.raises(ValueError):
        _device(flavour, garnet_url).validate_circuit(bad)


def test_validate_operation(flavour, garnet_url):
    device = _device(flavour, garnet_url)
    device.validate_operation(cirq.CZ(*qb("QB2", "QB1")))
    with pytest.raises(ValueError):
        device.validate_operation(cirq.CNOT(*qb("QB1", "QB2")))


def test_devices_of_two_samplers_are_equal(flavour, garnet_url):
    assert _device(flavour, garnet_url) == _device(flavour, garnet_url)


def test_move_gate_validation_on_a_star(flavour, deneb_url):
    device = _device(flavour, deneb_url)
    q1, cr1 = qb("QB1", "CR1")
    move = flavour.cirq.IQMMoveGate()
    device.validate_operation(move(q1, cr1))
    with pytest.raises(ValueError):
        device.validate_operation(move(cr1, q1))


def test_state_left_in_the_resonator_is_invalid(flavour, deneb_url):
    device = _device(flavour, deneb_url)
    q1, cr1 = qb("QB1", "CR1")
    move = flavour.cirq.IQMMoveGate()
    device.validate_circuit(cirq.Circuit(move(q1, cr1), move(q1, cr1), cirq.measure(q1)))
    with pytest.raises(ValueError):
        device.validate_circuit(cirq.Circuit(move(q1, cr1), cirq.measure(qb("QB2"))))


def test_validate_moves(flavour, deneb_url):
    device = _device(flavour, deneb_url)
    q1, q2, cr1 = qb("QB1", "QB2", "CR1")
    move = flavour.cirq.IQMMoveGate()
    device.validate_moves(cirq.Circuit(move(q1, cr1), move(q1, cr1)))
    with pytest.raises(ValueError):
        device.validate_moves(cirq.Circuit(move(q1, cr1), move(q2, cr1)))


def test_move_gate_acts_as_swap_on_states_it_moves(flavour):
    """``IQMMoveGate``: a two-qubit gate swapping |01> and |10>."""
    unitary = cirq.unitary(flavour.cirq.IQMMoveGate())
    assert unitary.shape == (4, 4)
    for source, target in ((0, 0), (1, 2), (2, 1)):
        assert abs(unitary[target, source]) == pytest.approx(1.0)
    assert np.allclose(unitary @ unitary.conj().T, np.eye(4))


def test_device_from_the_dynamic_architecture(flavour, garnet_url):
    """``IQMDevice(IQMDeviceMetadata.from_architecture(dqa))``: the sampler's device."""
    dqa = server_architecture(garnet_url)
    device = flavour.cirq.IQMDevice(flavour.cirq.IQMDeviceMetadata.from_architecture(dqa))
    assert [q.name for q in device.qubits] == list(dqa.qubits)
    assert device == _device(flavour, garnet_url)

"""IQMDevice: metadata from the server's architecture, validation, decompose and route."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

cirq = pytest.importorskip("cirq")

from iqm_bridge.adapters.cirq import IQMDevice, IQMMoveGate, IQMSampler  # noqa: E402
from iqm_bridge.core.errors import (  # noqa: E402
    LocusNotSupportedError,
    QubitNotOnDeviceError,
    UnsupportedOperationError,
)


@pytest.fixture(scope="module")
def device(sampler: IQMSampler) -> IQMDevice:
    return sampler.device


def _probabilities(circuit: cirq.Circuit) -> np.ndarray:
    unitary_part = cirq.drop_terminal_measurements(circuit)
    qubits = sorted(circuit.all_qubits())
    state = cirq.final_state_vector(
        unitary_part, qubit_order=qubits, ignore_terminal_measurements=True
    )
    return np.abs(state) ** 2


def test_metadata(device: IQMDevice) -> None:
    core = device.core_device
    assert device.qubits == tuple(cirq.NamedQubit(q) for q in core.qubits)
    assert len(device.qubits) == 20
    graph = device.metadata.nx_graph
    assert graph.number_of_edges() == len(core.coupling_edges)
    a, b = core.coupling_edges[0]
    assert graph.has_edge(cirq.NamedQubit(a), cirq.NamedQubit(b))
    assert set(device.metadata.qubit_set) == set(device.qubits)


def test_validate_operation(device: IQMDevice) -> None:
    core = device.core_device
    a, b = (cirq.NamedQubit(n) for n in core.coupling_edges[0])
    device.validate_operation(cirq.PhasedXPowGate(phase_exponent=0.3, exponent=0.5).on(a))
    device.validate_operation(cirq.CZ(a, b))
    device.validate_operation(cirq.measure(a, b, key="m"))
    with pytest.raises(UnsupportedOperationError, match="decompose_circuit"):
        device.validate_operation(cirq.H(a))
    far = next(
        cirq.NamedQubit(q)
        for q in core.qubits
        if q != a.name and (a.name, q) not in core.loci("cz")
    )
    with pytest.raises(LocusNotSupportedError, match="route_circuit"):
        device.validate_operation(cirq.CZ(a, far))
    with pytest.raises(QubitNotOnDeviceError, match="not a component of garnet"):
        device.validate_operation(cirq.X(cirq.LineQubit(0)))
    with pytest.raises(QubitNotOnDeviceError, match="QB77"):
        device.validate_circuit(cirq.Circuit(cirq.X(cirq.NamedQubit("QB77"))))


def test_decompose_circuit_keeps_qubits_and_distribution(device: IQMDevice) -> None:
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(
        cirq.H(q[0]),
        cirq.CNOT(q[0], q[1]),
        cirq.ISWAP(q[1], q[2]) ** 0.5,
        cirq.T(q[2]),
        cirq.measure(*q, key="m"),
    )
    native = device.decompose_circuit(circuit)
    assert native.all_qubits() == circuit.all_qubits()
    for op in native.all_operations():
        gate = op.gate
        assert isinstance(
            gate,
            cirq.PhasedXPowGate
            | cirq.XPowGate
            | cirq.YPowGate
            | cirq.CZPowGate
            | cirq.MeasurementGate,
        )
    assert [str(k) for k in cirq.measurement_key_names(native)] == ["m"]
    np.testing.assert_allclose(_probabilities(native), _probabilities(circuit), atol=1e-7)


def test_route_circuit_validates_and_runs(
    device: IQMDevice, sampler: IQMSampler, same_distribution: Any, simulate: Any
) -> None:
    q = cirq.LineQubit.range(5)
    circuit = cirq.Circuit(
        cirq.H(q[0]),
        [cirq.CNOT(q[0], q[i]) for i in range(1, 5)],
        cirq.CZ(q[1], q[3]) ** 0.5,
        cirq.measure(*q, key="m"),
    )
    routed, initial, final = device.route_circuit(circuit)
    device.validate_circuit(routed)
    assert set(initial) == set(q) and set(final) == set(initial.values())
    assert all(p in device.qubits for p in initial.values())
    same_distribution(sampler.run(routed, repetitions=2000), simulate(circuit))


def test_route_on_star_uses_move_and_runs(
    deneb: Any, same_distribution: Any, simulate: Any
) -> None:
    sampler = IQMSampler(deneb.url)
    device = sampler.device
    assert [str(r) for r in device.resonators] == ["CR1"]
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(
        cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.CNOT(q[1], q[2]), cirq.measure(*q, key="m")
    )
    routed, _, _ = device.route_circuit(circuit)
    assert any(isinstance(op.gate, IQMMoveGate) for op in routed.all_operations())
    device.validate_circuit(routed)
    same_distribution(sampler.run(routed, repetitions=2000), simulate(circuit))


def test_symbolic_decompose_then_sweep(device: IQMDevice, sampler: IQMSampler) -> None:
    import sympy

    (a,) = cirq.LineQubit.range(1)
    t = sympy.Symbol("t")
    native = device.decompose_circuit(
        cirq.Circuit(cirq.H(a), cirq.Z(a) ** t, cirq.H(a), cirq.measure(a, key="m"))
    )
    assert cirq.parameter_names(native) == {"t"}
    results = sampler.run_sweep(native, cirq.Points("t", [0.0, 1.0]), repetitions=50)
    assert results[0].measurements["m"].sum() == 0
    assert results[1].measurements["m"].all()


# the official device API -------------------------------------------------------------------
def test_natives_loci_and_qubit_numbers(device: IQMDevice) -> None:
    core = device.core_device
    q1, q2 = cirq.NamedQubit("QB1"), cirq.NamedQubit("QB2")
    assert device.get_qubit(1) == q1 and IQMDevice.get_qubit_index(cirq.NamedQubit("QB17")) == 17
    cz = {frozenset(q.name for q in locus) for locus in device.supported_operations[cirq.CZPowGate]}
    assert cz == {frozenset(locus) for locus in core.loci("cz")}
    natives = {
        cirq.X(q1): True,
        cirq.Y(q1) ** 0.2: True,
        cirq.CZ(q1, q2): True,
        cirq.H(q1): False,
        (cirq.CZ**0.5)(q1, q2): False,
        IQMMoveGate()(q1, q2): False,
    }
    assert {op: device.is_native_operation(op) for op in natives} == natives
    assert device.has_valid_operation_targets(cirq.CZ(q2, q1))
    far = cirq.NamedQubit(next(q for q in core.qubits[1:] if (q, "QB1") not in core.loci("cz")))
    assert not device.has_valid_operation_targets(cirq.CZ(q1, far))
    with pytest.raises(LocusNotSupportedError, match="route_circuit"):
        device.check_qubit_connectivity(cirq.CZ(q1, far))


def test_metadata_from_the_architecture_equals_the_samplers(device: IQMDevice, garnet: Any) -> None:
    from iqm.iqm_client import IQMClient

    from iqm_bridge.adapters.cirq import Apollo, IQMDeviceMetadata

    dqa = IQMClient.from_url(garnet.url).get_dynamic_quantum_architecture(None)
    rebuilt = IQMDevice(IQMDeviceMetadata.from_architecture(dqa))
    assert rebuilt == device and hash(rebuilt) == hash(device)
    assert str(device.metadata.architecture.calibration_set_id) == str(dqa.calibration_set_id)
    # the static Apollo has Garnet's lattice; a star is another device
    assert Apollo().metadata == device.metadata and Apollo().metadata.architecture is None
    assert IQMSampler(garnet.url).device == device


def test_static_devices() -> None:
    from iqm_bridge.adapters.cirq import Adonis, Aphrodite

    adonis = Adonis()
    assert [q.name for q in adonis.qubits] == [f"QB{i}" for i in range(1, 6)]
    assert set(adonis.metadata.nx_graph.neighbors(cirq.NamedQubit("QB3"))) == {
        cirq.NamedQubit(f"QB{i}") for i in (1, 2, 4, 5)
    }
    big = Aphrodite().metadata.nx_graph
    assert big.number_of_nodes() == 54 and big.number_of_edges() == 90
    assert max(d for _, d in big.degree) == 4


def test_validate_circuit_moves_and_keys(deneb: Any) -> None:
    from iqm_bridge.core.errors import CircuitValidationError, DuplicateMeasurementKeyError

    device = IQMSampler(deneb.url).device
    q1, q2, cr = (cirq.NamedQubit(n) for n in ("QB1", "QB2", "CR1"))
    move = IQMMoveGate()
    device.validate_circuit(cirq.Circuit(move(q1, cr), cirq.CZ(q2, cr), move(q1, cr)))
    bad = {
        "holds the state of QB1": cirq.Circuit(move(q1, cr), move(q2, cr)),
        "ends with a qubit state in a resonator": cirq.Circuit(move(q1, cr)),
        "no calibrated 'move'": cirq.Circuit(move(cr, q1), move(cr, q1)),
    }
    for message, circuit in bad.items():
        with pytest.raises(CircuitValidationError, match=message):
            device.validate_circuit(circuit)
    with pytest.raises(DuplicateMeasurementKeyError, match="'m'"):
        device.validate_circuit(cirq.Circuit(cirq.measure(q1, key="m"), cirq.measure(q2, key="m")))


def test_decompose_operation_keeps_the_unitary(device: IQMDevice) -> None:
    a, b = cirq.NamedQubit("QB1"), cirq.NamedQubit("QB2")
    for op in (cirq.T(a), cirq.Z(a) ** 0.3, cirq.H(a), cirq.ISWAP(a, b) ** 0.5, cirq.CNOT(b, a)):
        natives = list(cirq.flatten_to_ops(device.decompose_operation(op)))
        assert all(device.is_native_operation(n) for n in natives)
        cirq.testing.assert_allclose_up_to_global_phase(
            cirq.Circuit(natives).unitary(qubit_order=op.qubits),
            cirq.unitary(op),
            atol=1e-8,
        )


def test_final_mapping_is_where_each_state_ends(device: IQMDevice) -> None:
    """final_mapping[initial_mapping[q]] is the qubit whose measurement reads q: checked on
    every key of a circuit that needs SWAPs (it fails if final_mapping is keyed by circuit
    qubits, or is the initial mapping)."""
    q = cirq.LineQubit.range(4)
    ops = [cirq.H(q[0]), *(cirq.CNOT(q[0], x) for x in q[1:])]
    ops += [cirq.CZ(q[i], q[j]) for i in range(4) for j in range(i + 1, 4)]
    circuit = cirq.Circuit(*ops, *(cirq.measure(x, key=f"k{i}") for i, x in enumerate(q)))
    routed, initial, final = device.route_circuit(circuit)
    assert set(final) == set(initial.values()) and len(set(final.values())) == 4
    read = {
        str(op.gate.key): op.qubits[0] for op in routed.all_operations() if cirq.is_measurement(op)
    }
    assert read == {f"k{i}": final[initial[x]] for i, x in enumerate(q)}
    assert any(final[p] != p for p in final), "no SWAP: the check would test nothing"
    # without SWAPs the final mapping is the identity
    _, initial, final = device.route_circuit(cirq.Circuit(cirq.CNOT(*q[:2]), cirq.measure(*q[:2])))
    assert final == {p: p for p in initial.values()}


def test_route_with_a_mapper_and_a_subset(device: IQMDevice, sampler: IQMSampler) -> None:
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(
        cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.CNOT(q[0], q[2]), cirq.measure(*q, key="m")
    )
    subset = [cirq.NamedQubit(n) for n in ("QB1", "QB2", "QB4", "QB5")]
    routed, initial, _ = device.route_circuit(circuit, qubit_subset=subset)
    assert routed.all_qubits() <= set(subset) and set(initial.values()) <= set(subset)
    mapper = cirq.HardCodedInitialMapper(dict(zip(q, subset[1:], strict=True)))
    routed, initial, _ = device.route_circuit(circuit, initial_mapper=mapper)
    assert initial == dict(zip(q, subset[1:], strict=True))
    device.validate_circuit(routed)
    hist = sampler.run(routed, repetitions=200).histogram(key="m")
    assert set(hist) == {0, 7}
    with pytest.raises(QubitNotOnDeviceError, match="QB99"):
        device.route_circuit(circuit, qubit_subset=[cirq.NamedQubit("QB99")])


def test_star_route_then_decompose_again_runs(
    deneb: Any, same_distribution: Any, simulate: Any
) -> None:
    """Our own routed output (with MOVEs) goes through decompose_circuit and validates."""
    sampler = IQMSampler(deneb.url)
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(
        cirq.H(q[0]),
        cirq.CNOT(q[0], q[1]),
        cirq.ry(0.7)(q[2]),
        cirq.CZ(q[1], q[2]),
        cirq.measure(*q, key="m"),
    )
    routed, _, _ = sampler.device.route_circuit(circuit)
    again = sampler.device.decompose_circuit(routed)
    assert sum(isinstance(op.gate, IQMMoveGate) for op in again.all_operations()) == sum(
        isinstance(op.gate, IQMMoveGate) for op in routed.all_operations()
    )
    sampler.device.validate_circuit(again)
    same_distribution(sampler.run(again, repetitions=2000), simulate(circuit))

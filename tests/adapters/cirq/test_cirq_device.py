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

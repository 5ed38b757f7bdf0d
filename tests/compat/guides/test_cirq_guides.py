"""Cirq workflows the official guides and examples teach, as end-to-end scenarios.

Each scenario follows what the Cirq on IQM user guide (iqm-client 36 documentation) or the
examples shipped with ``iqm.cirq_iqm`` (``demo_iqm_execution``, ``demo_common``,
``demo_adonis``) walk a user through, written as our own program, and checks the values the
guide says the user will see.
"""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest
import sympy
from _compat_helpers import (
    assert_count,
    assert_distribution,
    cirq_sampler,
    histogram_of,
    qb,
    server_architecture,
)

pytestmark = pytest.mark.compat

SHOTS = 1000

QASM = """
OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg m[2];
x q[0];
h q[1];
cx q[0], q[1];
measure q -> m;
"""


@pytest.fixture(scope="module")
def adonis_url():
    """A noiseless 5-qubit star emulator (QB3 in the middle), the shape of ``Adonis()``."""
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="adonis", noise=False, seed=11) as url:
        yield url


def _is_native(op) -> bool:
    gate = op.gate
    if isinstance(gate, cirq.CZPowGate):
        return gate.exponent == 1
    return isinstance(
        gate, cirq.PhasedXPowGate | cirq.XPowGate | cirq.YPowGate | cirq.MeasurementGate
    )


def _alice_bob():
    """The guide's "Method 1" circuit: X on Alice, H on Bob, CNOT, measure both as 'm'."""
    alice, bob = cirq.NamedQubit("Alice"), cirq.NamedQubit("Bob")
    circuit = cirq.Circuit(
        cirq.X(alice), cirq.H(bob), cirq.CNOT(alice, bob), cirq.measure(alice, bob, key="m")
    )
    return circuit, alice, bob


def test_decompose_route_and_run(flavour, garnet_url):
    """Running on a real quantum computer: decompose, route, run 10 repetitions."""
    circuit, _, _ = _alice_bob()
    sampler = cirq_sampler(flavour, garnet_url)
    decomposed = sampler.device.decompose_circuit(circuit)
    assert all(_is_native(op) for op in decomposed.all_operations())
    routed, _, _ = sampler.device.route_circuit(decomposed)
    assert routed.all_qubits() <= set(sampler.device.qubits)
    result = sampler.run(routed, repetitions=10)
    assert result.measurements["m"].shape == (10, 2)
    assert result.measurements["m"][:, 0].tolist() == [1] * 10


def test_circuit_from_openqasm(flavour, garnet_url):
    """Constructing a circuit from OpenQASM 2.0: keys m_0 and m_1; q_0 always reads 1."""
    circuit = flavour.cirq.circuit_from_qasm(QASM)
    assert cirq.measurement_key_names(circuit) == {"m_0", "m_1"}
    sampler = cirq_sampler(flavour, garnet_url)
    routed, _, _ = sampler.device.route_circuit(sampler.device.decompose_circuit(circuit))
    result = sampler.run(routed, repetitions=SHOTS)
    assert result.measurements["m_0"].tolist() == [[1]] * SHOTS
    assert_count(int(result.measurements["m_1"].sum()), SHOTS, 0.5, "m_1")


def test_routing_with_a_hard_coded_initial_mapper(flavour, garnet_url):
    """The guide's ``HardCodedInitialMapper``: Alice on the device's second qubit, Bob on its
    first (a coupled pair; cirq's router cannot start from an uncoupled hard-coded pair)."""
    circuit, alice, bob = _alice_bob()
    sampler = cirq_sampler(flavour, garnet_url)
    device = sampler.device
    mapper = cirq.HardCodedInitialMapper({alice: device.qubits[1], bob: device.qubits[0]})
    decomposed = device.decompose_circuit(circuit)
    routed, initial, _ = device.route_circuit(decomposed, initial_mapper=mapper)
    assert initial == {alice: device.qubits[1], bob: device.qubits[0]}
    assert routed.all_qubits() == {device.qubits[0], device.qubits[1]}
    native = device.decompose_circuit(routed)
    device.validate_circuit(native)
    counts = histogram_of(sampler.run(native, repetitions=SHOTS), "m")
    assert_distribution(counts, {"10": 0.5, "11": 0.5})


def test_routing_on_a_qubit_subset(flavour, garnet_url):
    """Restrict routing to chosen qubits (the guide's quantum-volume advice)."""
    qs = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(
        cirq.H(qs[0]), cirq.CNOT(qs[0], qs[1]), cirq.CNOT(qs[0], qs[2]), cirq.measure(*qs, key="m")
    )
    sampler = cirq_sampler(flavour, garnet_url)
    subset = list(qb("QB1", "QB2", "QB4", "QB5"))
    routed, _, _ = sampler.device.route_circuit(circuit, qubit_subset=subset)
    native = sampler.device.decompose_circuit(routed)
    assert native.all_qubits() <= set(subset)
    counts = histogram_of(sampler.run(native, repetitions=SHOTS), "m")
    assert_distribution(counts, {"000": 0.5, "111": 0.5})


def test_simplify_circuit_after_routing(flavour, garnet_url):
    """Optimization: ``simplify_circuit`` of the routed circuit, then run it."""
    circuit, _, _ = _alice_bob()
    sampler = cirq_sampler(flavour, garnet_url)
    routed, _, _ = sampler.device.route_circuit(sampler.device.decompose_circuit(circuit))
    simplified = flavour.cirq.simplify_circuit(routed)
    assert len(list(simplified.all_operations())) <= len(list(routed.all_operations()))
    native = sampler.device.decompose_circuit(simplified)
    counts = histogram_of(sampler.run(native, repetitions=SHOTS), "m")
    assert_distribution(counts, {"10": 0.5, "11": 0.5})


def test_demo_iqm_execution(flavour, garnet_url):
    """The execution demo: route, decompose, simplify, run 1000, fold the histogram."""
    a, b = cirq.NamedQubit("Alice"), cirq.NamedQubit("Bob")
    circuit = cirq.Circuit(cirq.H(a), cirq.CX(a, b), cirq.measure(a, b, key="m"))
    sampler = cirq_sampler(flavour, garnet_url)
    routed, _, _ = sampler.device.route_circuit(circuit)
    decomposed = sampler.device.decompose_circuit(routed)
    final = flavour.cirq.simplify_circuit(decomposed)
    result = sampler.run(final, repetitions=SHOTS)
    histogram = result.histogram(key="m", fold_func=lambda bits: "".join(str(int(b)) for b in bits))
    assert_distribution(histogram, {"00": 0.5, "11": 0.5})
    assert list(result.data.columns) == ["m"]


def test_sampler_options_from_the_guide(flavour, garnet_url):
    """``calibration_set_id`` and ``compiler_options`` (duration check, heralding)."""
    from iqm.iqm_client import CircuitCompilationOptions, HeraldingMode

    cal_id = server_architecture(garnet_url).calibration_set_id
    options = CircuitCompilationOptions(
        max_circuit_duration_over_t2=1.0, heralding_mode=HeraldingMode.ZEROS
    )
    sampler = cirq_sampler(flavour, garnet_url, calibration_set_id=cal_id, compiler_options=options)
    circuit, _, _ = _alice_bob()
    routed, _, _ = sampler.device.route_circuit(sampler.device.decompose_circuit(circuit))
    result = sampler.run(routed, repetitions=SHOTS)
    assert_distribution(histogram_of(result, "m"), {"10": 0.5, "11": 0.5})


def test_batch_execution(flavour, garnet_url):
    """Batch execution: two routed circuits in one ``run_iqm_batch``, a histogram each."""
    circuit, alice, bob = _alice_bob()
    sampler = cirq_sampler(flavour, garnet_url)
    device = sampler.device
    decomposed = device.decompose_circuit(circuit)
    first, _, _ = device.route_circuit(decomposed)
    mapper = cirq.HardCodedInitialMapper({alice: qb("QB2"), bob: qb("QB1")})
    second, _, _ = device.route_circuit(decomposed, initial_mapper=mapper)
    results = sampler.run_iqm_batch([first, second], repetitions=SHOTS)
    assert len(results) == 2
    for result in results:
        histogram = result.histogram(key="m")
        assert set(histogram) <= {2, 3}
        assert_count(histogram[2], SHOTS, 0.5, "'10'")


def test_star_architecture_moves(flavour, deneb_url):
    """Star architecture: ``transpile_insert_moves_into_circuit`` routes the CZ of a circuit
    on device qubits through the resonator with MOVEs."""
    sampler = cirq_sampler(flavour, deneb_url)
    device = sampler.device
    half = cirq.PhasedXPowGate(phase_exponent=0.5, exponent=0.5)
    q1, q2 = qb("QB1", "QB2")
    on_qubits = cirq.Circuit(
        half(q1), half(q2), cirq.CZ(q1, q2), (half**-1)(q2), cirq.measure(q1, q2, key="m")
    )
    with_moves = flavour.cirq.transpile_insert_moves_into_circuit(on_qubits, device)
    gates = {type(op.gate).__name__ for op in with_moves.all_operations()}
    move = flavour.cirq.IQMMoveGate
    assert any(isinstance(op.gate, move) for op in with_moves.all_operations()), (
        f"no IQMMoveGate among {sorted(gates)}"
    )
    device.validate_circuit(with_moves)
    counts = histogram_of(sampler.run(with_moves, repetitions=SHOTS), "m")
    assert_distribution(counts, {"00": 0.5, "11": 0.5})


def test_parameter_sweep_of_a_routed_circuit(flavour, garnet_url):
    """Route a symbolic circuit once, sweep it: P(alice = 1) = sin^2(pi t / 2)."""
    alice, bob = cirq.NamedQubit("Alice"), cirq.NamedQubit("Bob")
    t = sympy.Symbol("t")
    circuit = cirq.Circuit(
        cirq.X(alice) ** t, cirq.CNOT(alice, bob), cirq.measure(alice, bob, key="m")
    )
    sampler = cirq_sampler(flavour, garnet_url)
    routed, _, _ = sampler.device.route_circuit(sampler.device.decompose_circuit(circuit))
    sweep = cirq.Linspace(t, 0.0, 1.0, 3)
    results = sampler.run_sweep(routed, sweep, repetitions=SHOTS)
    for point, result in zip(sweep, results, strict=True):
        p = math.sin(math.pi * point.value_of(t) / 2) ** 2
        assert_distribution(histogram_of(result, "m"), {"00": 1 - p, "11": p})


def test_transformed_circuit_keeps_the_simulated_probabilities(flavour, garnet_url):
    """The transpilation demo: decompose, simplify, route, decompose; the transformed circuit
    has the original's measurement probabilities, in simulation and on the server."""
    qs = [cirq.NamedQubit(f"q_{i}") for i in range(3)]
    circuit = cirq.Circuit(
        cirq.H(qs[0]),
        cirq.H(qs[2]),
        cirq.CNOT(qs[1], qs[0]),
        cirq.CNOT(qs[2], qs[1]),
        cirq.ry(0.3)(qs[0]),
        cirq.CXPowGate(exponent=0.723)(qs[2], qs[0]),
        cirq.measure(*qs, key="m"),
    )
    sampler = cirq_sampler(flavour, garnet_url)
    device = sampler.device
    simplified = flavour.cirq.simplify_circuit(device.decompose_circuit(circuit))
    routed, _, _ = device.route_circuit(simplified)
    final = device.decompose_circuit(routed)
    device.validate_circuit(final)
    stripped = cirq.drop_terminal_measurements(circuit)
    probabilities = np.abs(cirq.final_state_vector(stripped, qubit_order=qs)) ** 2
    expected = {format(i, "03b"): float(p) for i, p in enumerate(probabilities) if p > 1e-12}
    counts = histogram_of(sampler.run(final, repetitions=4000), "m")
    assert_distribution(counts, expected)


def test_design_on_the_static_adonis_device_then_run(flavour, adonis_url):
    """Decompose and route offline on ``Adonis()``, then run on an Adonis-shaped server."""
    circuit, _, _ = _alice_bob()
    adonis = flavour.cirq.Adonis()
    routed, _, _ = adonis.route_circuit(adonis.decompose_circuit(circuit))
    native = adonis.decompose_circuit(routed)
    adonis.validate_circuit(native)
    counts = histogram_of(cirq_sampler(flavour, adonis_url).run(native, repetitions=SHOTS), "m")
    assert_distribution(counts, {"10": 0.5, "11": 0.5})

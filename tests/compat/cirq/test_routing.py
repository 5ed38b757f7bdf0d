"""``IQMDevice.route_circuit``: mapping logical qubits onto the device.

Behaviours of ``iqm.cirq_iqm`` 36: ``route_circuit(circuit, *, initial_mapper=None,
qubit_subset=None) -> (routed, initial_mapping, final_mapping)`` uses ``cirq.RouteCQC`` on the
coupling graph (on star machines, a graph of qubits sharing the resonator, then MOVEs are
inserted). ``initial_mapping`` maps circuit qubits to device qubits; ``final_mapping`` maps
each physical qubit before the inserted SWAPs to the physical qubit holding its state after
them (physical -> physical, as ``RouteCQC`` returns it). Decomposing the routed circuit gives
a circuit that validates on the device.
"""

from __future__ import annotations

import cirq
import pytest
from _compat_helpers import assert_distribution, assert_is, cirq_sampler, histogram_of, qb

pytestmark = pytest.mark.compat

SHOTS = 1000


def _bell(a, b):
    return cirq.Circuit(cirq.H(a), cirq.CNOT(a, b), cirq.measure(a, b, key="m"))


def _all_to_all(n: int = 4):
    """GHZ on ``n`` line qubits plus CZs between every pair: needs SWAPs on a square lattice."""
    qs = cirq.LineQubit.range(n)
    ops = [cirq.H(qs[0]), *(cirq.CNOT(qs[0], q) for q in qs[1:])]
    ops += [cirq.CZ(qs[i], qs[j]) for i in range(n) for j in range(i + 1, n)]
    return cirq.Circuit(*ops, cirq.measure(*qs, key="m")), qs


def _native_on_device(device, routed):
    decomposed = device.decompose_circuit(routed)
    device.validate_circuit(decomposed)
    return decomposed


def test_route_circuit_returns_routed_circuit_and_two_mappings(flavour, garnet_url):
    device = cirq_sampler(flavour, garnet_url).device
    alice, bob = cirq.NamedQubit("Alice"), cirq.NamedQubit("Bob")
    routed, initial, final = device.route_circuit(_bell(alice, bob))
    assert routed.all_qubits() <= set(device.qubits)
    assert set(initial) == {alice, bob}
    assert len(set(initial.values())) == 2
    assert set(initial.values()) <= set(device.qubits)
    assert_is(final, dict)


def test_routed_and_decomposed_circuit_validates_and_runs(flavour, garnet_url):
    sampler = cirq_sampler(flavour, garnet_url)
    circuit, _ = _all_to_all()
    routed, _, _ = sampler.device.route_circuit(circuit)
    native = _native_on_device(sampler.device, routed)
    counts = histogram_of(sampler.run(native, repetitions=SHOTS), "m")
    assert_distribution(counts, {"0000": 0.5, "1111": 0.5})


def test_final_mapping_is_physical_to_physical(flavour, garnet_url):
    device = cirq_sampler(flavour, garnet_url).device
    circuit, _ = _all_to_all()
    routed, initial, final = device.route_circuit(circuit)
    used = set(initial.values())
    assert set(final) == used, f"final_mapping keys {sorted(map(str, final))} are not {used}"
    assert set(final.values()) == used


def test_final_mapping_without_swaps_is_the_identity(flavour, garnet_url):
    device = cirq_sampler(flavour, garnet_url).device
    alice, bob = cirq.NamedQubit("Alice"), cirq.NamedQubit("Bob")
    _, initial, final = device.route_circuit(_bell(alice, bob))
    identity = {p: p for p in initial.values()}
    assert final == identity, f"final_mapping {final} is not the identity {identity}"


def test_initial_mapper_fixes_the_placement(flavour, garnet_url):
    device = cirq_sampler(flavour, garnet_url).device
    alice, bob = cirq.NamedQubit("Alice"), cirq.NamedQubit("Bob")
    q3, q4 = qb("QB3", "QB4")
    mapper = cirq.HardCodedInitialMapper({alice: q3, bob: q4})
    routed, initial, _ = device.route_circuit(_bell(alice, bob), initial_mapper=mapper)
    assert initial == {alice: q3, bob: q4}
    assert routed.all_qubits() == {q3, q4}


def test_qubit_subset_restricts_the_routing(flavour, garnet_url):
    device = cirq_sampler(flavour, garnet_url).device
    subset = list(qb("QB1", "QB2", "QB4", "QB5"))
    circuit, _ = _all_to_all()
    routed, initial, _ = device.route_circuit(circuit, qubit_subset=subset)
    assert routed.all_qubits() <= set(subset)
    assert set(initial.values()) <= set(subset)
    _native_on_device(device, routed)


def test_routing_keeps_measurement_keys(flavour, garnet_url):
    device = cirq_sampler(flavour, garnet_url).device
    a, b, c = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(
        cirq.H(a),
        cirq.CNOT(a, b),
        cirq.CNOT(b, c),
        cirq.measure(a, key="x"),
        cirq.measure(b, c, key="y"),
    )
    routed, _, _ = device.route_circuit(circuit)
    assert cirq.measurement_key_names(routed) == {"x", "y"}


def test_decompose_then_route_as_in_the_user_guide(flavour, garnet_url):
    sampler = cirq_sampler(flavour, garnet_url)
    alice, bob = cirq.NamedQubit("Alice"), cirq.NamedQubit("Bob")
    circuit = cirq.Circuit(
        cirq.X(alice), cirq.H(bob), cirq.CNOT(alice, bob), cirq.measure(alice, bob, key="m")
    )
    decomposed = sampler.device.decompose_circuit(circuit)
    routed, _, _ = sampler.device.route_circuit(decomposed)
    sampler.device.validate_circuit(routed)
    counts = histogram_of(sampler.run(routed, repetitions=SHOTS), "m")
    assert_distribution(counts, {"10": 0.5, "11": 0.5})


def test_star_routing_inserts_moves(flavour, deneb_url):
    sampler = cirq_sampler(flavour, deneb_url)
    device = sampler.device
    qs = cirq.LineQubit.range(4)
    circuit = cirq.Circuit(
        cirq.H(qs[0]), *(cirq.CNOT(qs[0], q) for q in qs[1:]), cirq.measure(*qs, key="m")
    )
    routed, _, _ = device.route_circuit(circuit)
    gates = {type(op.gate).__name__ for op in routed.all_operations()}
    move = flavour.cirq.IQMMoveGate
    assert any(isinstance(op.gate, move) for op in routed.all_operations()), (
        f"no IQMMoveGate among {sorted(gates)}"
    )
    native = _native_on_device(device, routed)
    counts = histogram_of(sampler.run(native, repetitions=SHOTS), "m")
    assert_distribution(counts, {"0000": 0.5, "1111": 0.5})

"""Backend properties: qubits, names, target, coupling map, resonators.

Behaviours of ``iqm.qiskit_iqm`` 36's ``IQMBackendBase``: qubit ``i`` is the architecture's
``i``-th qubit, computational resonators get the indices after the qubits; the target is built
from the dynamic quantum architecture (prx as ``r``, ``cz``, ``measure``, ``id``, ``delay``,
and ``if_else``/``reset`` where ``cc_prx`` is calibrated); on star machines the target offers
"fictional" qubit-qubit CZs, the real one (``get_real_target``, ``target_with_resonators``)
the resonator and MOVE.
"""

from __future__ import annotations

import pytest
from _compat_helpers import cz_edges, qiskit_backend, server_architecture

pytestmark = pytest.mark.compat


def _edges_by_name(backend, edges) -> set[frozenset[str]]:
    return {frozenset(backend.index_to_qubit_name(i) for i in edge) for edge in edges}


def test_qubits_are_the_architectures_in_order(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    dqa = server_architecture(garnet_url)
    assert backend.num_qubits == len(dqa.qubits) == 20
    assert backend.physical_qubits == list(dqa.qubits)


def test_qubit_names_and_indices_round_trip(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    for index, name in enumerate(server_architecture(garnet_url).qubits):
        assert backend.index_to_qubit_name(index) == name
        assert backend.qubit_name_to_index(name) == index


def test_unknown_qubit_name_raises_value_error(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    with pytest.raises(ValueError):
        backend.qubit_name_to_index("QB99")


def test_unknown_qubit_index_raises_value_error(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    with pytest.raises(ValueError):
        backend.index_to_qubit_name(20)


def test_coupling_map_is_the_cz_couplings(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    edges = _edges_by_name(backend, backend.coupling_map.get_edges())
    assert edges == cz_edges(server_architecture(garnet_url))


def test_operation_names_are_the_native_set(flavour, garnet_url):
    """The guide's "Native operations of the backend": r, cz, measure, id (+ delay, feedback)."""
    backend = qiskit_backend(flavour, garnet_url)
    expected = {"r", "cz", "measure", "id", "delay"}
    if "cc_prx" in server_architecture(garnet_url).gates:
        expected |= {"if_else", "reset"}
    assert set(backend.operation_names) == expected


def test_target_loci_of_single_qubit_natives(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    every_qubit = {(i,) for i in range(20)}
    assert set(backend.target["r"]) == every_qubit
    assert set(backend.target["measure"]) == every_qubit


def test_r_gate_in_the_target_takes_two_parameters(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    r_gate = backend.target.operation_from_name("r")
    assert r_gate.num_qubits == 1
    assert len(r_gate.params) == 2


def test_max_circuits_defaults_to_none_and_is_settable(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    assert backend.max_circuits is None
    backend.max_circuits = 17
    assert backend.max_circuits == 17
    backend.max_circuits = None
    assert backend.max_circuits is None


def test_backend_carries_the_dynamic_architecture(flavour, garnet_url):
    """``backend.architecture``: the calibration's ``DynamicQuantumArchitecture``."""
    backend = qiskit_backend(flavour, garnet_url)
    dqa = server_architecture(garnet_url)
    assert list(backend.architecture.qubits) == list(dqa.qubits)
    assert backend.architecture.calibration_set_id == dqa.calibration_set_id


def test_lattice_machine_has_no_resonators(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    assert backend.has_resonators() is False
    with pytest.raises(ValueError):
        _ = backend.target_with_resonators


def test_star_qubits_come_first_then_the_resonator(flavour, deneb_url):
    backend = qiskit_backend(flavour, deneb_url)
    dqa = server_architecture(deneb_url)
    assert backend.num_qubits == len(dqa.qubits) == 6
    assert backend.physical_qubits == [*dqa.qubits, *dqa.computational_resonators]
    assert backend.qubit_name_to_index("CR1") == 6
    assert backend.index_to_qubit_name(6) == "CR1"
    assert backend.has_resonators() is True


def test_star_target_offers_every_qubit_pair_a_cz(flavour, deneb_url):
    """Fictional CZs: any two qubits sharing the resonator can interact."""
    backend = qiskit_backend(flavour, deneb_url)
    edges = _edges_by_name(backend, backend.coupling_map.get_edges())
    qubits = [f"QB{i}" for i in range(1, 7)]
    assert edges == {frozenset((a, b)) for a in qubits for b in qubits if a < b}
    assert "move" not in backend.operation_names


def test_star_target_with_resonators_has_move(flavour, deneb_url):
    backend = qiskit_backend(flavour, deneb_url)
    target = backend.target_with_resonators
    assert target.num_qubits == 7
    assert "move" in target.operation_names
    move_loci = {tuple(backend.index_to_qubit_name(i) for i in locus) for locus in target["move"]}
    assert move_loci == {(f"QB{i}", "CR1") for i in range(1, 7)}


def test_star_real_target_has_only_the_calibrated_czs(flavour, deneb_url):
    backend = qiskit_backend(flavour, deneb_url)
    real = backend.get_real_target()
    cz_loci = {frozenset(backend.index_to_qubit_name(i) for i in locus) for locus in real["cz"]}
    assert cz_loci == cz_edges(server_architecture(deneb_url))
    assert "move" in real.operation_names

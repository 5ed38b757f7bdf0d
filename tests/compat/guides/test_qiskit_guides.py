"""Qiskit workflows the official guides and examples teach, as end-to-end scenarios.

Each scenario follows what the Qiskit on IQM user guide (iqm-client 36 documentation) or the
examples shipped with ``iqm.qiskit_iqm`` (``bell_measure``, ``transpile_example``) walk a user
through, written as our own program, and checks the values the guide says the user will see.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _compat_helpers import (
    assert_distribution,
    assert_ghz_counts,
    ghz,
    transpiled,
)

pytestmark = pytest.mark.compat

SHOTS = 1000


def test_hello_world_bell_measure(flavour, garnet_url):
    """Provider with url/quantum_computer/token, DQA via the client, GHZ on the largest
    connected component (at most 5 qubits), barrier, transpile, run, counts."""
    from qiskit import QuantumCircuit, transpile

    provider = flavour.qiskit.IQMProvider(garnet_url, quantum_computer=None, token=None)
    backend = provider.get_backend()
    dqa = backend.client.get_dynamic_quantum_architecture()
    assert len(dqa.qubits) == 20
    coupling = backend.target.build_coupling_map()
    n = min(max(coupling.connected_components(), key=lambda c: c.size()).size(), 5)
    qc = QuantumCircuit(n)
    qc.h(0)
    for q in range(1, n):
        qc.cx(0, q)
    qc.barrier()
    qc.measure_all()
    counts = backend.run(transpile(qc, backend), shots=SHOTS).result().get_counts()
    assert_ghz_counts(counts, n)


def test_transpile_example(flavour, garnet_url):
    """The ``transpile_example``: GHZ sized by ``backend.coupling_map``, native output."""
    from qiskit import transpile

    backend = flavour.qiskit.IQMProvider(garnet_url).get_backend()
    n = min(max(backend.coupling_map.connected_components(), key=lambda c: c.size()).size(), 5)
    circuit = transpile(ghz(n), backend)
    assert set(circuit.count_ops()) <= {"r", "cz", "measure", "barrier"}
    assert_ghz_counts(backend.run(circuit, shots=SHOTS).result().get_counts(), n)


def test_executing_a_circuit_and_inspecting_the_results(flavour, garnet_url):
    """Executing a circuit, then inspecting the results: counts, memory, timeline."""
    backend = flavour.qiskit.IQMProvider(garnet_url).get_backend()
    job = backend.run(transpiled(ghz(3), backend), shots=SHOTS)
    result = job.result()
    assert_ghz_counts(result.get_counts(), 3)
    assert len(result.get_memory()) == SHOTS
    assert [entry.status for entry in result.timeline][-1] == "completed"


def test_heralding_through_circuit_compilation_options(flavour, garnet_url):
    from iqm.iqm_client import CircuitCompilationOptions, HeraldingMode

    backend = flavour.qiskit.IQMProvider(garnet_url).get_backend()
    options = CircuitCompilationOptions(heralding_mode=HeraldingMode.ZEROS)
    job = backend.run(transpiled(ghz(3), backend), shots=SHOTS, circuit_compilation_options=options)
    assert_ghz_counts(job.result().get_counts(), 3)


def test_backend_properties_and_qubit_names(flavour, garnet_url):
    """Native operations, coupling map, and running on a qubit chosen by its IQM name."""
    from qiskit import QuantumCircuit

    backend = flavour.qiskit.IQMProvider(garnet_url).get_backend()
    assert {"r", "cz", "measure", "id"} <= set(backend.operation_names)
    assert backend.coupling_map.size() == 20
    index = backend.qubit_name_to_index("QB5")
    assert backend.index_to_qubit_name(index) == "QB5"
    qc = QuantumCircuit(1)
    qc.x(0)
    qc.measure_all()
    circuit = transpiled(qc, backend, initial_layout=[index])
    loci = {tuple(i.locus) for i in backend.serialize_circuit(circuit).instructions}
    assert loci == {("QB5",)}
    assert backend.run(circuit, shots=10).result().get_counts() == {"1": 10}


def test_classically_controlled_gates(flavour, garnet_url):
    """The guide's example: about half '00 0', half '11 1'."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

    qr, cr = QuantumRegister(2, "q"), ClassicalRegister(1, "c")
    circuit = QuantumCircuit(qr, cr)
    circuit.h(0)
    circuit.measure(0, cr[0])
    with circuit.if_test((cr[0], 1)):
        circuit.x(1)
    circuit.measure_all()
    backend = flavour.qiskit.IQMProvider(garnet_url).get_backend()
    counts = backend.run(transpiled(circuit, backend), shots=SHOTS).result().get_counts()
    assert_distribution(counts, {"00 0": 0.5, "11 1": 0.5})


def test_resetting_qubits(flavour, garnet_url):
    """h, reset, measure: only zeros."""
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(1, 1)
    circuit.h(0)
    circuit.reset(0)
    circuit.measure(0, 0)
    backend = flavour.qiskit.IQMProvider(garnet_url).get_backend()
    assert backend.run(transpiled(circuit, backend), shots=200).result().get_counts() == {"0": 200}


def test_inspecting_circuits_before_submitting(flavour, garnet_url):
    """Build the job definition, look at it, submit it with the client; same as ``run``."""
    backend = flavour.qiskit.IQMProvider(garnet_url).get_backend()
    circuit = transpiled(ghz(2), backend)
    definition = backend.create_circuit_job_definition(circuit, shots=10)
    assert definition.shots == 10
    assert [i.name for i in definition.circuits[0].instructions].count("measure") == 2
    tracker = backend.client.submit_circuit_job(definition)
    tracker.wait_for_completion()
    counts = backend.retrieve_job(str(tracker.job_id)).result().get_counts()
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 10


def test_computational_resonators_with_transpile_to_iqm(flavour, deneb_url):
    """Computational resonators: GHZ-5 on a star, MOVEs in the transpiled circuit."""
    from qiskit import QuantumCircuit

    circuit = QuantumCircuit(5)
    circuit.h(0)
    for i in range(1, 5):
        circuit.cx(0, i)
    circuit.measure_all()
    backend = flavour.qiskit.IQMProvider(deneb_url).get_backend()
    transpiled_circuit = flavour.qiskit.transpile_to_IQM(circuit, backend)
    assert "move" in transpiled_circuit.count_ops()
    counts = backend.run(transpiled_circuit, shots=SHOTS).result().get_counts()
    assert_ghz_counts(counts, 5)


def test_batch_execution_of_two_bell_states(flavour, garnet_url):
    from qiskit import QuantumCircuit, transpile

    qc_1 = QuantumCircuit(2)
    qc_1.h(0)
    qc_1.cx(0, 1)
    qc_1.measure_all()
    qc_2 = QuantumCircuit(2)
    qc_2.h(0)
    qc_2.x(1)
    qc_2.cx(0, 1)
    qc_2.measure_all()
    backend = flavour.qiskit.IQMProvider(garnet_url).get_backend()
    circuits = transpile([qc_1, qc_2], backend=backend, initial_layout=[0, 2], seed_transpiler=1)
    first, second = backend.run(circuits, shots=SHOTS).result().get_counts()
    assert_distribution(first, {"00": 0.5, "11": 0.5})
    assert_distribution(second, {"01": 0.5, "10": 0.5})


def test_batch_of_a_parametrised_circuit(flavour, garnet_url):
    """Transpile once (sabre, level 3), bind theta in [0, pi/2], run as one batch.

    h, cx, rz(theta) on both, cx, h: P('00') = cos^2(theta), P('01') = sin^2(theta).
    """
    from qiskit import QuantumCircuit, transpile
    from qiskit.circuit import Parameter

    theta = Parameter("theta")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.rz(theta, [0, 1])
    circuit.cx(0, 1)
    circuit.h(0)
    circuit.measure_all()
    backend = flavour.qiskit.IQMProvider(garnet_url).get_backend()
    template = transpile(
        circuit, backend=backend, layout_method="sabre", optimization_level=3, seed_transpiler=1
    )
    values = np.linspace(0, np.pi / 2, 3)
    circuits = [template.assign_parameters({template.parameters[0]: v}) for v in values]
    all_counts = backend.run(circuits, shots=SHOTS).result().get_counts()
    for value, counts in zip(values, all_counts, strict=True):
        p = math.cos(value) ** 2
        assert_distribution(counts, {"00": p, "01": 1 - p})


def test_multiplexed_measurements_between_barriers(flavour, garnet_url):
    """Barriers around a group of measurements keep them together in the submitted circuit."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.barrier()
    qc.measure_all(add_bits=True)
    backend = flavour.qiskit.IQMProvider(garnet_url).get_backend()
    circuit = transpiled(qc, backend)
    names = [i.name for i in backend.serialize_circuit(circuit).instructions]
    first = names.index("measure")
    assert names[first : first + 3] == ["measure"] * 3
    assert_ghz_counts(backend.run(circuit, shots=SHOTS).result().get_counts(), 3)


def test_optimizing_single_qubit_gates(flavour, garnet_url):
    """``optimize_single_qubit_gates`` after transpiling: no more r gates, same counts."""
    backend = flavour.qiskit.IQMProvider(garnet_url).get_backend()
    circuit = transpiled(ghz(3), backend, layout_method="sabre", optimization_level=3)
    optimized = flavour.qiskit.optimize_single_qubit_gates(circuit)
    assert optimized.count_ops().get("r", 0) <= circuit.count_ops().get("r", 0)
    assert_ghz_counts(backend.run(optimized, shots=SHOTS).result().get_counts(), 3)


def test_retrieving_a_job_later(flavour, garnet_url):
    """Keep the job id, come back with a new provider, fetch the results."""
    backend = flavour.qiskit.IQMProvider(garnet_url).get_backend()
    job_id = backend.run(transpiled(ghz(3), backend), shots=SHOTS).job_id()
    later = flavour.qiskit.IQMProvider(garnet_url).get_backend().retrieve_job(job_id)
    assert_ghz_counts(later.result().get_counts(), 3)


def test_estimating_an_expectation_value_with_qiskit_primitives(flavour, garnet_url):
    """<Z> after rx(theta) is cos(theta); the estimator's precision is 1/sqrt(shots)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter
    from qiskit.primitives import BackendEstimatorV2
    from qiskit.quantum_info import SparsePauliOp

    theta = Parameter("theta")
    qc = QuantumCircuit(1)
    qc.rx(theta, 0)
    backend = flavour.qiskit.IQMProvider(garnet_url).get_backend()
    circuit = transpiled(qc, backend)
    observable = SparsePauliOp("Z").apply_layout(circuit.layout)
    values = [[0.0], [math.pi / 3], [math.pi / 2]]
    estimator = BackendEstimatorV2(backend=backend, options={"default_precision": 1 / 50})
    evs = estimator.run([(circuit, observable, values)]).result()[0].data.evs
    for (value,), ev in zip(values, evs, strict=True):
        # 2500 shots: sigma of the mean of +-1 outcomes is sin(theta)/50; allow 5 sigma
        assert abs(ev - math.cos(value)) <= 5 * max(math.sin(value), 1e-9) / 50 + 1e-9

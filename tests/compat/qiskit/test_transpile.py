"""Transpilation for IQM backends: ``qiskit.transpile``, ``transpile_to_IQM``, MOVE gates.

Behaviours of ``iqm.qiskit_iqm`` 36: the backend's target and its translation/scheduling
plugins make ``qiskit.transpile(circuit, backend)`` give circuits of ``r``, ``cz`` and
``measure`` on coupled qubits, with each run of single-qubit gates merged into one ``r`` (at
optimization levels 1-3); on a star machine it also inserts the MOVE gates to and from the
resonator. ``transpile_to_IQM(circuit, backend, ...)`` does the same in one call. ``MoveGate``
is the qubit-resonator MOVE.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _compat_helpers import (
    assert_distribution,
    assert_ghz_counts,
    cz_edges,
    ghz,
    qiskit_backend,
    server_architecture,
    transpiled,
)

pytestmark = pytest.mark.compat

SHOTS = 1000
NATIVE = {"r", "cz", "measure", "barrier"}


def _single_qubit_runs(circuit) -> list[int]:
    """Lengths of the runs of consecutive single-qubit gates on each qubit (no barrier/measure)."""
    runs: list[int] = []
    current: dict[int, int] = {}
    for instruction in circuit.data:
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        if instruction.operation.name == "r":
            current[qubits[0]] = current.get(qubits[0], 0) + 1
            continue
        for q in qubits:
            if current.get(q):
                runs.append(current.pop(q))
    runs.extend(v for v in current.values() if v)
    return runs


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_transpile_gives_native_gates_that_run(flavour, garnet_url, level):
    backend = qiskit_backend(flavour, garnet_url)
    circuit = transpiled(ghz(5), backend, optimization_level=level)
    assert set(circuit.count_ops()) <= NATIVE
    assert_ghz_counts(backend.run(circuit, shots=SHOTS).result().get_counts(), 5)


def test_transpiled_czs_act_on_coupled_qubits(flavour, garnet_url):
    from qiskit.circuit.random import random_circuit

    backend = qiskit_backend(flavour, garnet_url)
    circuit = transpiled(random_circuit(6, 6, max_operands=2, seed=11), backend)
    couplings = cz_edges(server_architecture(garnet_url))
    for instruction in circuit.data:
        if instruction.operation.name == "cz":
            indices = [circuit.find_bit(q).index for q in instruction.qubits]
            assert frozenset(backend.index_to_qubit_name(i) for i in indices) in couplings


@pytest.mark.parametrize("level", [1, 2, 3])
def test_single_qubit_runs_merge_into_one_r(flavour, garnet_url, level):
    """h, s, t, sx on one qubit become a single ``r``."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(1)
    qc.h(0)
    qc.s(0)
    qc.t(0)
    qc.sx(0)
    qc.measure_all()
    backend = qiskit_backend(flavour, garnet_url)
    circuit = transpiled(qc, backend, optimization_level=level)
    assert circuit.count_ops().get("r", 0) == 1


def test_no_two_adjacent_r_gates_on_a_qubit(flavour, garnet_url):
    from qiskit.circuit.random import random_circuit

    qc = random_circuit(5, 8, max_operands=2, measure=True, seed=5)
    backend = qiskit_backend(flavour, garnet_url)
    circuit = transpiled(qc, backend, optimization_level=2)
    assert max(_single_qubit_runs(circuit), default=0) <= 1


@pytest.mark.slow
def test_transpiled_random_circuit_matches_exact_probabilities(flavour, garnet_url):
    """A random 4-qubit circuit: every outcome within 5 sigma of its statevector probability."""
    from qiskit.circuit.random import random_circuit
    from qiskit.quantum_info import Statevector

    qc = random_circuit(4, 4, max_operands=2, seed=21)
    probabilities = Statevector(qc).probabilities_dict()
    qc.measure_all()
    backend = qiskit_backend(flavour, garnet_url)
    counts = backend.run(transpiled(qc, backend, optimization_level=3), shots=4000).result()
    expected = {k: float(p) for k, p in probabilities.items() if p > 1e-12}
    assert_distribution(counts.get_counts(), expected)


def test_transpile_to_iqm_on_a_lattice(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    circuit = flavour.qiskit.transpile_to_IQM(ghz(5), backend)
    assert set(circuit.count_ops()) <= NATIVE
    assert_ghz_counts(backend.run(circuit, shots=SHOTS).result().get_counts(), 5)


def test_transpile_to_iqm_on_a_star_inserts_moves(flavour, deneb_url):
    backend = qiskit_backend(flavour, deneb_url)
    circuit = flavour.qiskit.transpile_to_IQM(ghz(5), backend)
    assert circuit.count_ops().get("move", 0) >= 2
    assert_ghz_counts(backend.run(circuit, shots=SHOTS).result().get_counts(), 5)


def test_qiskit_transpile_on_a_star_runs(flavour, deneb_url):
    backend = qiskit_backend(flavour, deneb_url)
    circuit = transpiled(ghz(6), backend)
    assert_ghz_counts(backend.run(circuit, shots=SHOTS).result().get_counts(), 6)


def test_qiskit_transpile_on_a_star_inserts_moves(flavour, deneb_url):
    """The scheduling plugin of the official backend routes CZs through the resonator."""
    backend = qiskit_backend(flavour, deneb_url)
    circuit = transpiled(ghz(5), backend)
    assert circuit.count_ops().get("move", 0) >= 2
    assert circuit.num_qubits == 7


def test_move_gate_is_a_two_qubit_gate_named_move(flavour):
    gate = flavour.qiskit.MoveGate()
    assert gate.name == "move"
    assert gate.num_qubits == 2
    assert gate.params == []


def test_hand_written_move_sandwich_runs_on_a_star(flavour, deneb_url):
    """x on QB1, MOVE into the resonator and back, measure: always 1."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(7, 2)
    qc.x(0)
    qc.append(flavour.qiskit.MoveGate(), [0, 6])
    qc.append(flavour.qiskit.MoveGate(), [0, 6])
    qc.measure(0, 0)
    qc.measure(1, 1)
    backend = qiskit_backend(flavour, deneb_url)
    assert backend.run(qc, shots=20).result().get_counts() == {"01": 20}


def test_hand_written_cz_through_the_resonator(flavour, deneb_url):
    """A Bell pair of QB1 and QB2 made with MOVE, CZ(QB2, CR1), MOVE (native r gates)."""
    from qiskit import QuantumCircuit

    half = math.pi / 2
    qc = QuantumCircuit(7, 2)
    qc.r(half, half, 0)  # ry(pi/2): |+> on QB1
    qc.r(half, half, 1)
    qc.append(flavour.qiskit.MoveGate(), [0, 6])
    qc.cz(1, 6)
    qc.append(flavour.qiskit.MoveGate(), [0, 6])
    qc.r(-half, half, 1)  # ry(-pi/2): with the CZ, a CNOT from QB1 to QB2
    qc.measure(0, 0)
    qc.measure(1, 1)
    backend = qiskit_backend(flavour, deneb_url)
    counts = backend.run(qc, shots=SHOTS).result().get_counts()
    assert_distribution(counts, {"00": 0.5, "11": 0.5})


def test_parametrised_circuit_transpiled_once_then_bound(flavour, garnet_url):
    """The guide's pattern: transpile with a Parameter, bind each value, run as one batch."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    theta = Parameter("theta")
    qc = QuantumCircuit(1)
    qc.rx(theta, 0)
    qc.measure_all()
    backend = qiskit_backend(flavour, garnet_url)
    template = transpiled(qc, backend)
    values = np.linspace(0, math.pi, 3)
    circuits = [template.assign_parameters({template.parameters[0]: v}) for v in values]
    counts = backend.run(circuits, shots=SHOTS).result().get_counts()
    for value, observed in zip(values, counts, strict=True):
        p1 = math.sin(value / 2) ** 2
        assert_distribution(observed, {"0": 1 - p1, "1": p1})

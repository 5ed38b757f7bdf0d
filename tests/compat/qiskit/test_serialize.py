"""``backend.serialize_circuit``: a transpiled circuit in the IQM data transfer format.

Behaviours of ``iqm.qiskit_iqm`` 36 (``IQMBackend.serialize_circuit(circuit,
qubit_index_to_name=None) -> iqm.iqm_client.Circuit``): r, x, rx, y, ry become ``prx`` (angle
and phase in radians), cz, move, barrier, delay (in seconds), reset, measure (one instruction
per qubit, each with its own key) keep their names, ``id`` is dropped, a gate conditioned on
one measured bit becomes ``cc_prx`` fed by that measurement; anything else is a ``ValueError``.
"""

from __future__ import annotations

import math

import pytest
from _compat_helpers import assert_is, qiskit_backend

pytestmark = pytest.mark.compat


def _one_qubit_circuit(n: int = 3, clbits: int = 3):
    from qiskit import QuantumCircuit

    return QuantumCircuit(n, clbits, name="ser")


def test_serialized_circuit_is_an_iqm_client_circuit(flavour, garnet_url):
    from iqm.iqm_client import Circuit

    qc = _one_qubit_circuit()
    qc.r(0.5, 0.25, 0)
    qc.measure(0, 0)
    serialized = qiskit_backend(flavour, garnet_url).serialize_circuit(qc)
    assert_is(serialized, Circuit)
    assert serialized.name == "ser"
    assert [i.name for i in serialized.instructions] == ["prx", "measure"]


@pytest.mark.parametrize(
    ("gate", "params", "angle", "phase"),
    [
        ("r", (1.25, 0.5), 1.25, 0.5),
        ("x", (), math.pi, 0.0),
        ("rx", (0.7,), 0.7, 0.0),
        ("y", (), math.pi, math.pi / 2),
        ("ry", (-0.3,), -0.3, math.pi / 2),
    ],
)
def test_single_qubit_gates_become_prx(flavour, garnet_url, gate, params, angle, phase):
    qc = _one_qubit_circuit()
    getattr(qc, gate)(*params, 1)
    (instruction,) = qiskit_backend(flavour, garnet_url).serialize_circuit(qc).instructions
    assert instruction.name == "prx"
    assert tuple(instruction.locus) == ("QB2",)
    assert instruction.args["angle"] == pytest.approx(angle)
    assert instruction.args["phase"] == pytest.approx(phase)


def test_cz_keeps_its_locus(flavour, garnet_url):
    qc = _one_qubit_circuit()
    qc.cz(0, 1)
    (instruction,) = qiskit_backend(flavour, garnet_url).serialize_circuit(qc).instructions
    assert (instruction.name, tuple(instruction.locus)) == ("cz", ("QB1", "QB2"))
    assert dict(instruction.args) == {}


def test_each_measured_qubit_gets_its_own_measure_and_key(flavour, garnet_url):
    qc = _one_qubit_circuit()
    qc.measure([0, 1, 2], [0, 1, 2])
    instructions = qiskit_backend(flavour, garnet_url).serialize_circuit(qc).instructions
    assert [i.name for i in instructions] == ["measure"] * 3
    assert [tuple(i.locus) for i in instructions] == [("QB1",), ("QB2",), ("QB3",)]
    assert len({i.args["key"] for i in instructions}) == 3


def test_barrier_keeps_its_qubits(flavour, garnet_url):
    qc = _one_qubit_circuit()
    qc.x(0)
    qc.barrier([0, 1])
    instructions = qiskit_backend(flavour, garnet_url).serialize_circuit(qc).instructions
    assert [i.name for i in instructions] == ["prx", "barrier"]
    assert tuple(instructions[1].locus) == ("QB1", "QB2")


@pytest.mark.parametrize(
    ("duration", "unit", "seconds"), [(3, "dt", 3e-9), (240, "us", 240e-6), (25, "ns", 25e-9)]
)
def test_delay_is_in_seconds(flavour, garnet_url, duration, unit, seconds):
    qc = _one_qubit_circuit()
    qc.delay(duration, 0, unit=unit)
    (instruction,) = qiskit_backend(flavour, garnet_url).serialize_circuit(qc).instructions
    assert (instruction.name, tuple(instruction.locus)) == ("delay", ("QB1",))
    assert instruction.args["duration"] == pytest.approx(seconds)


def test_identity_is_dropped(flavour, garnet_url):
    qc = _one_qubit_circuit()
    qc.x(0)
    qc.id(0)
    instructions = qiskit_backend(flavour, garnet_url).serialize_circuit(qc).instructions
    assert [i.name for i in instructions] == ["prx"]


@pytest.mark.parametrize("gate", ["h", "sx", "cx"])
def test_non_native_gate_raises_value_error(flavour, garnet_url, gate):
    qc = _one_qubit_circuit()
    getattr(qc, gate)(*([0, 1] if gate == "cx" else [0]))
    with pytest.raises(ValueError):
        qiskit_backend(flavour, garnet_url).serialize_circuit(qc)


def test_metadata_travels_with_the_circuit(flavour, garnet_url):
    qc = _one_qubit_circuit()
    qc.metadata = {"experiment": "t1", "delay_ns": 40}
    qc.x(0)
    serialized = qiskit_backend(flavour, garnet_url).serialize_circuit(qc)
    assert serialized.metadata == {"experiment": "t1", "delay_ns": 40}


def test_conditioned_gate_becomes_cc_prx_fed_by_its_measurement(flavour, garnet_url):
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

    q, control, out = QuantumRegister(2, "q"), ClassicalRegister(1, "c"), ClassicalRegister(2, "r")
    qc = QuantumCircuit(q, control, out)
    qc.measure(q[0], control[0])
    with qc.if_test((control[0], 1)):
        qc.x(q[1])
    qc.measure(q, out)
    instructions = qiskit_backend(flavour, garnet_url).serialize_circuit(qc).instructions
    assert [i.name for i in instructions] == ["measure", "cc_prx", "measure", "measure"]
    measure, cc_prx = instructions[0], instructions[1]
    assert tuple(cc_prx.locus) == ("QB2",)
    assert cc_prx.args["feedback_qubit"] == "QB1"
    assert cc_prx.args["feedback_key"] == measure.args["feedback_key"]
    assert cc_prx.args["angle"] == pytest.approx(math.pi)


def test_reset_is_serialized(flavour, garnet_url):
    qc = _one_qubit_circuit()
    qc.x(0)
    qc.reset(0)
    qc.measure(0, 0)
    instructions = qiskit_backend(flavour, garnet_url).serialize_circuit(qc).instructions
    assert [i.name for i in instructions] == ["prx", "reset", "measure"]


def test_explicit_qubit_index_to_name(flavour, garnet_url):
    qc = _one_qubit_circuit(2, 0)
    qc.cz(0, 1)
    backend = qiskit_backend(flavour, garnet_url)
    serialized = backend.serialize_circuit(qc, qubit_index_to_name={0: "QB5", 1: "QB6"})
    assert tuple(serialized.instructions[0].locus) == ("QB5", "QB6")


def test_move_gate_is_serialized_on_a_star(flavour, deneb_url):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(7)
    qc.append(flavour.qiskit.MoveGate(), [0, 6])
    (instruction,) = qiskit_backend(flavour, deneb_url).serialize_circuit(qc).instructions
    assert (instruction.name, tuple(instruction.locus)) == ("move", ("QB1", "CR1"))

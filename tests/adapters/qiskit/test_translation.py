"""The qiskit adapter's translation, target, options and errors (one emulator for the device)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Gate as QiskitGate
from qiskit.circuit import Parameter
from qiskit.circuit.library import RGate

from iqm_bridge.adapters.qiskit import IQMBackend, IQMProvider, MoveGate, to_ir
from iqm_bridge.adapters.qiskit._job import IQMResult, experiment_result
from iqm_bridge.core import CircuitResult
from iqm_bridge.core.errors import (
    ConfigurationError,
    QubitNotOnDeviceError,
    UnboundParameterError,
    UnknownOptionError,
    UnsupportedOperationError,
    UnwrittenMeasurementKeyError,
)
from iqm_bridge.core.ir import Conditional, Delay, Measure
from iqm_bridge.core.keys import KeyMap, Register

NAMES = tuple(f"QB{i + 1}" for i in range(6))


# ---------------------------------------------------------------------------- to_ir
def test_keys_follow_registers_and_repetitions() -> None:
    a, b = ClassicalRegister(2, "a"), ClassicalRegister(1, "b")
    qc = QuantumCircuit(QuantumRegister(2), a, b)
    qc.measure(0, a[1])
    qc.measure(1, b[0])
    qc.measure(1, a[1])
    ir, layout = to_ir(qc, NAMES)
    keys = [op.key for op in ir.operations if isinstance(op, Measure)]
    assert keys == [
        KeyMap.encode(Register("a", 2), 0, 1),
        KeyMap.encode(Register("b", 1), 1, 0),
        KeyMap.encode(Register("a", 2), 0, 1, repetition=1),
    ]
    assert layout.registers == (Register("a", 2), Register("b", 1))
    assert layout.columns is None
    assert layout.keymap.registers == (Register("a", 2), Register("b", 1))


def test_prx_special_cases_become_prx() -> None:
    qc = QuantumCircuit(1)
    qc.x(0)
    qc.y(0)
    qc.rx(0.3, 0)
    qc.ry(0.4, 0)
    qc.r(0.5, 0.6, 0)
    qc.id(0)
    ir, _ = to_ir(qc, NAMES)
    assert [(op.name, op.params) for op in ir.operations] == [
        ("prx", (math.pi, 0.0)),
        ("prx", (math.pi, math.pi / 2)),
        ("prx", (0.3, 0.0)),
        ("prx", (0.4, math.pi / 2)),
        ("prx", (0.5, 0.6)),
    ]


def test_delay_units_become_seconds() -> None:
    """``dt`` is 1 ns, as for qiskit-iqm (a ``dt`` read as 1 s or refused fails here)."""
    qc = QuantumCircuit(1)
    qc.delay(150, 0, unit="ns")
    qc.delay(2, 0, unit="us")
    qc.delay(10, 0, unit="dt")
    ir, _ = to_ir(qc, NAMES)
    assert [op.duration for op in ir.operations if isinstance(op, Delay)] == pytest.approx(
        [150e-9, 2e-6, 10e-9]
    )


def test_if_test_on_zero_and_else_branches_are_conditions_on_zero() -> None:
    qc = QuantumCircuit(2, 1)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 0)) as else_:
        qc.rx(0.7, 1)
    with else_:
        qc.x(1)
    ir, _ = to_ir(qc, NAMES)
    _, on_zero, on_one = ir.operations
    assert isinstance(on_zero, Conditional) and isinstance(on_one, Conditional)
    assert (on_zero.value, on_zero.gate.params) == (0, (0.7, 0.0))
    assert on_zero.key == ir.operations[0].key
    assert (on_one.value, on_one.gate.params) == (1, (math.pi, 0.0))


def test_if_test_errors() -> None:
    qc = QuantumCircuit(2, 1)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.measure(0, 0)
    with pytest.raises(UnwrittenMeasurementKeyError, match=r"clbit c\[0\] before any measurement"):
        to_ir(qc, NAMES)
    qc = QuantumCircuit(2, 1)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.cx(0, 1)
    with pytest.raises(UnsupportedOperationError, match="'cx'.*only single-qubit gates"):
        to_ir(qc, NAMES)


def test_unknown_gate_without_definition_is_named() -> None:
    qc = QuantumCircuit(1, 1)
    qc.append(QiskitGate("hadamardish", 1, []), [0])
    qc.measure(0, 0)
    with pytest.raises(UnsupportedOperationError, match="'hadamardish'.*no qiskit definition"):
        to_ir(qc, NAMES)


def test_unbound_parameter_is_named() -> None:
    qc = QuantumCircuit(1, 1)
    qc.rz(Parameter("alpha"), 0)
    qc.measure(0, 0)
    with pytest.raises(UnboundParameterError, match="alpha.*assign_parameters"):
        to_ir(qc, NAMES)


def test_loose_clbits_are_refused() -> None:
    from qiskit.circuit import Clbit, Qubit

    qc = QuantumCircuit([Qubit()], [Clbit()])
    qc.measure(0, 0)
    with pytest.raises(UnsupportedOperationError, match="belongs to no classical register"):
        to_ir(qc, NAMES)


# ---------------------------------------------------------------------------- results
def test_memory_and_counts_match_a_per_shot_reference() -> None:
    """The qiskit result's raw hex memory, formatted memory and counts, against a plain loop
    over the shots (fails if a register order or the bit order within a register flips)."""
    rng = np.random.default_rng(1)
    for width in (3, 64, 70):
        regs = (Register("a", width - 1), Register("b", 1))
        table = rng.integers(0, 2, size=(300, width)).astype(np.uint8)
        km = KeyMap.from_keys([KeyMap.encode(regs[0], 0, 0), KeyMap.encode(regs[1], 1, 0)])
        km = km.with_registers(regs)
        bits = km.bits(
            {
                KeyMap.encode(regs[0], 0, 0): table[:, : width - 1].tolist(),
                KeyMap.encode(regs[1], 1, 0): table[:, width - 1 :].tolist(),
            }
        )
        core = CircuitResult("c", bits, 300, "job", None, {}, {})
        result = IQMResult(
            backend_name="b", backend_version="1", job_id="job", success=True,
            results=[experiment_result(core)],
        )  # fmt: skip
        rows = table.tolist()
        hexes = [hex(int("".join(map(str, row[::-1])), 2)) for row in rows]
        strings = [f"{row[width - 1]} " + "".join(map(str, row[: width - 1][::-1])) for row in rows]
        assert result.results[0].data.memory == hexes
        assert result.get_memory() == strings
        assert result.get_counts() == dict(Counter(strings))


# ---------------------------------------------------------------------------- backend
def test_target_of_a_lattice(backend: IQMBackend) -> None:
    target = backend.target
    assert backend.num_qubits == 20
    assert {"r", "cz", "measure", "reset", "delay", "id", "if_else"} <= set(target.operation_names)
    assert "move" not in target.operation_names
    pairs = {tuple(backend.index_to_qubit_name(i) for i in qargs) for qargs in target["cz"]}
    assert pairs == set(backend.device.loci("cz"))
    assert isinstance(target.operation_from_name("r"), RGate)


def test_target_of_a_star(star_backend: IQMBackend) -> None:
    assert star_backend.num_qubits == 6  # the resonator is not a qiskit qubit here
    assert len(star_backend.target["cz"]) == 6 * 5  # fictional CZs between all qubit pairs
    full = star_backend.target_with_resonators
    assert full.num_qubits == 7
    assert isinstance(full.operation_from_name("move"), MoveGate)
    assert star_backend.index_to_qubit_name(6) == "CR1"


def test_a_lattice_has_no_resonator_target(backend: IQMBackend) -> None:
    """A ``ValueError`` (as qiskit-iqm) that is also ours, naming the machine."""
    with pytest.raises(QubitNotOnDeviceError, match="garnet has no computational resonator"):
        _ = backend.target_with_resonators
    assert backend.has_resonators() is False


def test_qubit_names_and_indices(backend: IQMBackend) -> None:
    for i, name in enumerate(backend.device.qubits):
        assert backend.qubit_name_to_index(name) == i
        assert backend.index_to_qubit_name(i) == name
    with pytest.raises(QubitNotOnDeviceError, match="'QB99' is not on garnet"):
        backend.qubit_name_to_index("QB99")
    with pytest.raises(ValueError, match="qubit index 20 is not on garnet"):
        backend.index_to_qubit_name(20)


def test_backend_identity_and_options(backend: IQMBackend) -> None:
    assert backend.name == "garnet"
    assert backend.description and backend.backend_version
    assert backend.max_circuits is None
    assert backend.options.shots == 1024
    with pytest.raises(AttributeError):
        backend.set_options(shotz=3)
    with pytest.raises(AttributeError):
        IQMBackend(backend.connection, not_an_option=1)
    with pytest.raises(UnknownOptionError, match="'colour'"):
        backend.run(QuantumCircuit(1, 1), colour="red")


def test_serialize_circuit(backend: IQMBackend) -> None:
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.rx(0.2, 1)
    qc.y(1)
    qc.ry(0.1, 0)
    qc.r(0.3, 0.4, 0)
    qc.cz(0, 1)
    qc.measure([0, 1], [0, 1])
    wire = backend.serialize_circuit(qc)
    assert [i.name for i in wire.instructions] == ["prx"] * 5 + ["cz", "measure", "measure"]
    assert wire.instructions[5].locus == ("QB1", "QB2")
    assert wire.instructions[6].args["key"] == "c_2_0_0"
    bad = QuantumCircuit(2)
    bad.h(0)
    with pytest.raises(ValueError, match="gate 'h'.*transpile the circuit"):
        backend.serialize_circuit(bad)


def test_get_backend_name_mismatch(emulator_url: str) -> None:
    with pytest.raises(ConfigurationError, match="get_backend\\('deneb'\\).*'garnet'"):
        IQMProvider(emulator_url, quantum_computer="garnet").get_backend("deneb")


def test_too_many_qubits(backend: IQMBackend) -> None:
    qc = QuantumCircuit(30)
    qc.measure_all()
    with pytest.raises(ValueError, match="30 qubits but the backend has only"):
        backend.run(qc)


def test_get_backend_by_name(emulator_url: str) -> None:
    assert IQMProvider(emulator_url).get_backend("garnet").name == "garnet"
    with pytest.raises(ConfigurationError, match='"deneb" does not exist.*garnet'):
        IQMProvider(emulator_url).get_backend("deneb")

"""Pauli sums measured in qubit-wise-commuting groups, the same way for every framework."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _devices import lattice_device

from iqm_bridge.core import (
    Circuit,
    ConfigurationError,
    Gate,
    PauliTerm,
    Program,
    estimate_sum,
    group_qubit_wise,
    measure_in_basis,
)
from iqm_bridge.core.execute import natives_for
from iqm_bridge.core.observables import OBSERVABLE_REGISTER


def test_grouping_is_qubit_wise() -> None:
    terms = [
        PauliTerm(1.0, {"a": "Z", "b": "Z"}),
        PauliTerm(0.5, {"a": "X"}),
        PauliTerm(2.0, {"b": "Z"}),
        PauliTerm(3.0, {}),
        PauliTerm(1.0, {"a": "X", "b": "X"}),
    ]
    assert group_qubit_wise(terms) == [{"a": "Z", "b": "Z"}, {"a": "X", "b": "X"}]
    with pytest.raises(ConfigurationError, match="not X, Y or Z"):
        PauliTerm(1.0, {"a": "W"})


def test_the_appended_rotation_turns_each_pauli_into_z() -> None:
    """Each basis rotation maps the Pauli's +1 eigenstate to |0>: checked on the gates'
    unitaries (a wrong sign would map it to |1> and flip every estimate)."""
    from iqm_bridge.core import gate_unitary

    plus = {"X": np.array([1, 1]) / math.sqrt(2), "Y": np.array([1, 1j]) / math.sqrt(2)}
    circuit = Circuit(("a", "b"), [Gate("h", ("a",))], "c")
    for pauli, state in plus.items():
        program = measure_in_basis(Program(circuit), {"b": pauli})
        (rotation,) = [op for op in program.circuit.operations[1:] if isinstance(op, Gate)]
        out = gate_unitary(rotation.name, [float(p) for p in rotation.params]) @ state
        assert abs(abs(out[0]) - 1) < 1e-12
    registers = measure_in_basis(Program(circuit), {"a": "Z"}).keymap.registers
    assert registers[-1].name == OBSERVABLE_REGISTER


def test_estimates_on_a_compiled_program(emulator_url: str) -> None:
    """A Bell pair measured in XX: <XX> = 1 on every shot, <XI> averages to 0 within 4
    sigma of its reported standard error."""
    from iqm_bridge.core import Connection, Executor

    bell = Circuit(("a", "b"), [Gate("h", ("a",)), Gate("cx", ("a", "b"))], "bell")
    basis = {"a": "X", "b": "X"}
    program = measure_in_basis(Program(bell, shots=2000), basis)
    assert natives_for(program, lattice_device())  # compiles for a lattice
    ((result,),) = Executor(Connection(emulator_url, journal=None)).submit([program]).result()
    xx = estimate_sum(result, basis, [PauliTerm(2.0, basis)])
    assert xx.value == pytest.approx(2.0) and xx.stderr == pytest.approx(0.0)
    xi = estimate_sum(result, basis, [PauliTerm(1.0, {"a": "X"})])
    assert abs(xi.value) < 4 * xi.stderr
    assert estimate_sum(result, basis, [PauliTerm(1.0, {"a": "Z"})]).value == 0.0

"""Expectation values of Pauli sums, measured the same way for every framework.

A Pauli sum (``c0 + sum_k c_k P_k``, each ``P_k`` a product of X, Y, Z on named qubits) is
measured in qubit-wise-commuting groups: each group is one circuit, the program's own with each
qubit's Pauli rotated to Z and one measurement of the group's qubits appended
(:func:`measure_in_basis`). Each term's value is then the mean of a Z-string on that
measurement's columns, and a group's terms are estimated together from the same shots
(:func:`estimate_sum`: their covariance is in the error bar), readout-mitigated when the result
carries readout errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import attrs

from iqm_bridge.core.errors import ConfigurationError
from iqm_bridge.core.execute import Program
from iqm_bridge.core.ir import Circuit, Gate, Measure
from iqm_bridge.core.keys import KeyMap, Register
from iqm_bridge.core.mitigation import Estimate, weighted_sum
from iqm_bridge.core.submit import CircuitResult

__all__ = ["PauliTerm", "estimate_sum", "group_qubit_wise", "measure_in_basis"]

OBSERVABLE_REGISTER = "iqm_bridge_obs"
"""The result register of the appended measurement (last, after the program's own)."""

_TO_Z = {
    "X": (Gate("ry", ("q",), (-math.pi / 2,)),),
    "Y": (Gate("rx", ("q",), (math.pi / 2,)),),
    "Z": (),
}


def _factors(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


@attrs.frozen(slots=True)
class PauliTerm:
    """``coefficient * P``, with ``P`` given as qubit -> ``"X"``, ``"Y"`` or ``"Z"``.

    Attributes:
        coefficient: the real coefficient.
        paulis: the non-identity factors (empty: a constant term).
    """

    coefficient: float
    paulis: Mapping[str, str] = attrs.field(converter=_factors)

    def __attrs_post_init__(self) -> None:
        bad = {q: p for q, p in self.paulis.items() if p not in _TO_Z}
        if bad:
            raise ConfigurationError(f"Pauli factors {bad} are not X, Y or Z")


def group_qubit_wise(terms: Sequence[PauliTerm]) -> list[dict[str, str]]:
    """Bases in which every non-constant term is diagonal, greedily: a term joins the first
    group whose qubits it agrees with (same Pauli on every shared qubit)."""
    groups: list[dict[str, str]] = []
    for term in terms:
        if not term.paulis:
            continue
        for basis in groups:
            if all(basis.get(q, p) == p for q, p in term.paulis.items()):
                basis.update(term.paulis)
                break
        else:
            groups.append(dict(term.paulis))
    return groups


def measure_in_basis(program: Program, basis: Mapping[str, str]) -> Program:
    """``program`` with each qubit of ``basis`` rotated from its Pauli to Z and measured, in
    sorted qubit order, into a new last register (:data:`OBSERVABLE_REGISTER`).

    Raises:
        ConfigurationError: a basis qubit the circuit does not have.
    """
    circuit = program.circuit
    missing = sorted(set(basis) - set(circuit.qubits))
    if missing:
        raise ConfigurationError(f"observable acts on qubits {missing} the circuit does not have")
    qubits = tuple(sorted(basis))
    keymap = program.result_keymap()
    register = Register(OBSERVABLE_REGISTER, len(qubits))
    key = KeyMap.encode(register, len(keymap.registers), 0)
    rotations = [Gate(g.name, (q,), g.params) for q in qubits for g in _TO_Z[basis[q]]]
    ops = [*circuit.operations, *rotations, Measure(qubits, key)]
    measured = Circuit(circuit.qubits, ops, circuit.name, circuit.metadata)
    full = KeyMap.from_keys(measured.measurement_keys).with_registers([*keymap.registers, register])
    return attrs.evolve(program, circuit=measured, keymap=full)


def estimate_sum(
    result: CircuitResult,
    basis: Mapping[str, str],
    terms: Sequence[PauliTerm],
    *,
    mitigated: bool = False,
) -> Estimate:
    """The part of ``sum(terms)`` measured by the circuit :func:`measure_in_basis` made for
    ``basis``: the terms diagonal in it (constant terms are left out), from one result.

    Raises:
        MitigationError: ``mitigated`` but the result carries no readout errors.
    """
    qubits = sorted(basis)
    table = result.bits.memory()
    first = table.shape[1] - len(qubits)  # the observable register is the last one
    parts = [
        (t.coefficient, [first + qubits.index(q) for q in t.paulis])
        for t in terms
        if t.paulis and all(basis.get(q) == p for q, p in t.paulis.items())
    ]
    if not parts:
        return Estimate(0.0, 0.0)
    errors = None
    if mitigated:
        from iqm_bridge.core.mitigation import MitigationError

        if result.readout is None:
            raise MitigationError(
                f"circuit {result.name!r}: no readout errors to mitigate with (a classical bit "
                "no measurement writes, or the run was not mitigated)"
            )
        errors = result.readout
    return weighted_sum(table, parts, errors)

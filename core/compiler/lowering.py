"""Lowering: every vocabulary gate becomes the IQM natives ``prx`` and ``cz``.

Each gate's recursive lowering is flattened once into a *recipe* whose angles are affine
expressions of the gate's own parameters; lowering a gate instance then only substitutes its
parameters, so symbolic angles stay symbolic and repeated gates cost one dictionary look-up.
"""

from __future__ import annotations

from functools import cache

from iqm_bridge.core.errors import UnsupportedOperationError
from iqm_bridge.core.gates import checked_gate_def, gate_def
from iqm_bridge.core.ir import Circuit, Conditional, Gate, Operation
from iqm_bridge.core.parameters import Expression, ParamValue

__all__ = ["lower", "lower_conditional", "lower_gate"]

_Recipe = tuple[tuple[str, tuple[int, ...], tuple[ParamValue, ...]], ...]


def _placeholder(i: int) -> Expression:
    return Expression(((f"${i}", 1.0),))


@cache
def _recipe(name: str) -> _Recipe:
    """Native steps of gate ``name`` in terms of placeholders ``$0, $1, ...``."""
    gd = gate_def(name)
    if gd.lowering is None:
        return (
            (
                gd.name,
                tuple(range(gd.num_qubits)),
                tuple(_placeholder(i) for i in range(gd.num_params)),
            ),
        )
    out: list[tuple[str, tuple[int, ...], tuple[ParamValue, ...]]] = []
    for sub_name, positions, params in gd.lowering(
        *[_placeholder(i) for i in range(gd.num_params)]
    ):
        for nat_name, nat_pos, nat_params in _recipe(sub_name):
            mapping = {f"${i}": p for i, p in enumerate(params)}
            out.append(
                (
                    nat_name,
                    tuple(positions[j] for j in nat_pos),
                    tuple(_subst(p, mapping) for p in nat_params),
                )
            )
    return tuple(out)


def _subst(value: ParamValue, mapping: dict[str, ParamValue]) -> ParamValue:
    if isinstance(value, Expression):
        return value.substitute(mapping)
    return value


def lower_gate(gate: Gate) -> list[Gate]:
    """The native gates (``prx``, ``cz``, ``move``) equivalent to ``gate`` up to global phase.

    Raises:
        UnsupportedOperationError: the gate is unknown or has the wrong number of qubits or
            parameters.
    """
    gd = checked_gate_def(gate.name, gate.qubits, len(gate.params))
    if gd.lowering is None:
        return [gate if gate.name == gd.name else Gate(gd.name, gate.qubits, gate.params)]
    mapping = {f"${i}": p for i, p in enumerate(gate.params)}
    return [
        Gate(
            name,
            tuple(gate.qubits[j] for j in positions),
            tuple(_subst(p, mapping) for p in params),
        )
        for name, positions, params in _recipe(gd.name)
    ]


def _inverse_prx(gate: Gate) -> Gate:
    angle, phase = gate.params
    return Gate("prx", gate.qubits, (-angle, phase))


def lower_conditional(op: Conditional) -> list[Operation]:
    """The natives of a classically controlled gate: ``cc_prx`` conditioned on a bit of 1.

    A gate conditioned on 0 becomes the gate itself followed by its inverse conditioned on 1:
    when the bit reads 1 the two cancel, when it reads 0 only the gate acts.

    Raises:
        UnsupportedOperationError: the gate does not lower to single-qubit ``prx`` only.
    """
    natives = lower_gate(op.gate)
    if any(g.name != "prx" for g in natives):
        raise UnsupportedOperationError(
            f"classically controlled gate {op.gate.name!r} on {op.gate.qubits}: IQM "
            "hardware can condition only single-qubit gates (cc_prx); condition each "
            "single-qubit gate separately"
        )
    on_one = Conditional(Gate("prx", op.gate.qubits, (0.0, 0.0)), op.key, op.index, 1)
    if op.value == 1:
        return [on_one.with_gate(g) for g in natives]
    undo = [on_one.with_gate(_inverse_prx(g)) for g in reversed(natives)]
    return [*natives, *undo]


def lower(circuit: Circuit) -> Circuit:
    """Lower every gate of ``circuit`` to natives; other operations pass through.

    A classically controlled gate must lower to single-qubit ``prx`` gates only, since IQM
    hardware conditions nothing else (``cc_prx``).

    Raises:
        UnsupportedOperationError: a gate is unknown, malformed, or conditioned although it is
            not a single-qubit gate.
    """
    ops: list[Operation] = []
    for op in circuit.operations:
        if isinstance(op, Gate):
            ops.extend(lower_gate(op))
        elif isinstance(op, Conditional):
            ops.extend(lower_conditional(op))
        else:
            ops.append(op)
    return circuit.with_operations(ops)

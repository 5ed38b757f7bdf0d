"""The neutral circuit model at the centre of iqm-bridge.

Every framework's circuit becomes a :class:`Circuit`: an immutable sequence of operations on
named qubits. Gates carry a vocabulary name (see :mod:`iqm_bridge.core.gates`) and parameters
that are floats or affine :class:`~iqm_bridge.core.parameters.Expression` s. Passes never
mutate a circuit; they return a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union

import attrs

from iqm_bridge.core.errors import CircuitValidationError
from iqm_bridge.core.parameters import Expression, ParamValue, bind_value

__all__ = [
    "Barrier",
    "Circuit",
    "Conditional",
    "Delay",
    "Gate",
    "Measure",
    "Operation",
    "Reset",
    "relabel",
]


def _qubit_tuple(value: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _param_tuple(value: Iterable[Any]) -> tuple[ParamValue, ...]:
    return tuple(v if isinstance(v, Expression) else float(v) for v in value)


@attrs.frozen(slots=True)
class Gate:
    """A unitary gate from the vocabulary, e.g. ``Gate("rx", ("q0",), (0.5,))``.

    Attributes:
        name: the vocabulary name (``"h"``, ``"cx"``, native ``"prx"``...).
        qubits: the qubits it acts on, in the gate's own order (control first).
        params: angles in radians, floats or symbolic expressions.
    """

    name: str
    qubits: tuple[str, ...] = attrs.field(converter=_qubit_tuple)
    params: tuple[ParamValue, ...] = attrs.field(default=(), converter=_param_tuple)

    def bind(self, values: Mapping[str, float]) -> Gate:
        """This gate with the given parameter values substituted."""
        if not any(isinstance(p, Expression) for p in self.params):
            return self
        return Gate(self.name, self.qubits, tuple(bind_value(p, values) for p in self.params))


@attrs.frozen(slots=True)
class Measure:
    """A Z-basis measurement of one or more qubits, writing one bit per qubit under ``key``."""

    qubits: tuple[str, ...] = attrs.field(converter=_qubit_tuple)
    key: str


@attrs.frozen(slots=True)
class Barrier:
    """An execution barrier: no operation moves across it."""

    qubits: tuple[str, ...] = attrs.field(converter=_qubit_tuple)


@attrs.frozen(slots=True)
class Reset:
    """Reset the qubits to ``|0>``."""

    qubits: tuple[str, ...] = attrs.field(converter=_qubit_tuple)


@attrs.frozen(slots=True)
class Delay:
    """Idle the qubits for ``duration`` seconds."""

    qubits: tuple[str, ...] = attrs.field(converter=_qubit_tuple)
    duration: float = attrs.field(converter=float)


def _bit_value(value: int) -> int:
    if isinstance(value, bool) or value not in (0, 1):
        raise CircuitValidationError(
            f"a condition compares a measured bit with 0 or 1, not {value!r}"
        )
    return int(value)


@attrs.frozen(slots=True)
class Conditional:
    """A gate applied only if bit ``index`` of the measurement ``key`` reads ``value``.

    On IQM hardware only single-qubit gates (lowered to ``cc_prx``) can be conditioned, and
    only on a bit reading 1; lowering turns a condition on 0 into the gate followed by its
    inverse conditioned on 1 (the net effect is the gate exactly when the bit read 0).
    """

    gate: Gate
    key: str
    index: int = 0
    value: int = attrs.field(default=1, converter=_bit_value)

    @property
    def qubits(self) -> tuple[str, ...]:
        """The qubits of the conditioned gate."""
        return self.gate.qubits

    def with_gate(self, gate: Gate) -> Conditional:
        """The same condition on another gate."""
        return Conditional(gate, self.key, self.index, self.value)


Operation = Union[Gate, Measure, Barrier, Reset, Delay, Conditional]  # noqa: UP007


def relabel(op: Operation, mapping: Mapping[str, str]) -> Operation:
    """The same operation on other qubits: each qubit ``q`` becomes ``mapping[q]``."""
    if isinstance(op, Gate):
        return Gate(op.name, tuple(mapping[q] for q in op.qubits), op.params)
    if isinstance(op, Conditional):
        gate = op.gate
        return op.with_gate(Gate(gate.name, tuple(mapping[q] for q in gate.qubits), gate.params))
    if isinstance(op, Measure):
        return Measure(tuple(mapping[q] for q in op.qubits), op.key)
    if isinstance(op, Delay):
        return Delay(tuple(mapping[q] for q in op.qubits), op.duration)
    if isinstance(op, Barrier):
        return Barrier(tuple(mapping[q] for q in op.qubits))
    return Reset(tuple(mapping[q] for q in op.qubits))


def _op_tuple(value: Iterable[Operation]) -> tuple[Operation, ...]:
    return tuple(value)


def _metadata(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(value) if value else {}


@attrs.frozen(slots=True)
class Circuit:
    """An immutable quantum circuit on named qubits.

    Attributes:
        qubits: every qubit of the circuit, in order (idle ones included).
        operations: the operations in execution order.
        name: a name for the circuit, carried to the server.
        metadata: free-form JSON-compatible data, carried to the server; not compared.
    """

    qubits: tuple[str, ...] = attrs.field(converter=_qubit_tuple)
    operations: tuple[Operation, ...] = attrs.field(default=(), converter=_op_tuple)
    name: str = "circuit"
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_metadata, eq=False, hash=False)

    @classmethod
    def from_operations(
        cls,
        operations: Sequence[Operation],
        name: str = "circuit",
        metadata: Mapping[str, Any] | None = None,
    ) -> Circuit:
        """Build a circuit whose qubits are those the operations touch, in first-use order."""
        seen: dict[str, None] = {}
        for op in operations:
            for q in op.qubits:
                seen.setdefault(q, None)
        return cls(tuple(seen), tuple(operations), name, _metadata(metadata))

    @property
    def parameters(self) -> frozenset[str]:
        """Names of the symbolic parameters the circuit depends on."""
        names: set[str] = set()
        for op in self.operations:
            gate = op.gate if isinstance(op, Conditional) else op
            if isinstance(gate, Gate):
                for p in gate.params:
                    if isinstance(p, Expression):
                        names.update(p.parameters)
        return frozenset(names)

    @property
    def measurement_keys(self) -> tuple[str, ...]:
        """Keys of the measurements, in circuit order."""
        return tuple(op.key for op in self.operations if isinstance(op, Measure))

    def bind(self, values: Mapping[str, float]) -> Circuit:
        """A new circuit with the given parameter values substituted.

        Args:
            values: parameter name -> value. Names the circuit does not use are ignored.
        """
        ops: list[Operation] = []
        for op in self.operations:
            if isinstance(op, Gate):
                ops.append(op.bind(values))
            elif isinstance(op, Conditional):
                ops.append(op.with_gate(op.gate.bind(values)))
            else:
                ops.append(op)
        return attrs.evolve(self, operations=tuple(ops))

    def with_operations(self, operations: Iterable[Operation]) -> Circuit:
        """A copy of this circuit with other operations (same qubits, name and metadata)."""
        return attrs.evolve(self, operations=tuple(operations))

    def __len__(self) -> int:
        return len(self.operations)

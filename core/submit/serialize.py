"""Wire serialisation: native IR circuits <-> iqm-client 36's circuit models.

The wire format belongs to iqm-client: ``iqm.pulse.Circuit`` holding ``CircuitOperation`` s
(``name``, ``locus``, ``args``, ``implementation``). iqm-client is imported on first use, not
when the core is imported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from iqm_bridge.core.errors import (
    CircuitValidationError,
    UnboundParameterError,
    UnsupportedOperationError,
)
from iqm_bridge.core.ir import Barrier, Circuit, Conditional, Delay, Gate, Measure, Operation, Reset
from iqm_bridge.core.parameters import Expression
from iqm_bridge.core.wire import QUBITS_METADATA_KEY

if TYPE_CHECKING:
    from iqm.pulse.circuit_operations import Circuit as IQMCircuit

__all__ = ["from_iqm_circuit", "from_wire_dict", "to_iqm_circuit"]


def _angle(gate: Gate, index: int) -> float:
    value = gate.params[index]
    if isinstance(value, Expression):
        raise UnboundParameterError(
            f"gate {gate.name!r} on {gate.qubits} has unbound parameter(s) "
            f"{sorted(value.parameters)}; bind values before serialising"
        )
    return value


def to_iqm_circuit(circuit: Circuit, *, carry_qubits: bool = True) -> IQMCircuit:
    """Serialise a native circuit (prx, cz, move, measure, reset, barrier, delay, conditional
    prx) into iqm-client's ``Circuit`` model.

    Args:
        circuit: the native circuit.
        carry_qubits: add the circuit's qubit order (idle qubits included) to the metadata,
            so the circuit read back from the server has the same qubits.

    Raises:
        UnsupportedOperationError: a non-native gate (lower the circuit first).
        UnboundParameterError: a symbolic parameter is left.
    """
    from iqm.pulse.builder import CircuitOperation
    from iqm.pulse.circuit_operations import Circuit as IQMCircuit

    feedback_keys = {op.key for op in circuit.operations if isinstance(op, Conditional)}
    measured: dict[str, tuple[str, ...]] = {}
    instructions: list[Any] = []
    append = instructions.append
    for op in circuit.operations:
        if isinstance(op, Gate):
            name = op.name
            if name == "prx":
                append(
                    CircuitOperation(
                        "prx", op.qubits, {"angle": _angle(op, 0), "phase": _angle(op, 1)}
                    )
                )
            elif name in ("cz", "move"):
                append(CircuitOperation(name, op.qubits, {}))
            else:
                raise UnsupportedOperationError(
                    f"gate {name!r} on {op.qubits} is not an IQM native; lower the circuit first "
                    "(iqm_bridge.core.lower)"
                )
        elif isinstance(op, Measure):
            args: dict[str, Any] = {"key": op.key}
            if op.key in feedback_keys:
                args["feedback_key"] = op.key
            measured[op.key] = op.qubits
            append(CircuitOperation("measure", op.qubits, args))
        elif isinstance(op, Conditional):
            if op.value != 1:
                raise UnsupportedOperationError(
                    f"gate {op.gate.name!r} on {op.gate.qubits} is conditioned on bit "
                    f"{op.key!r}[{op.index}] reading {op.value}; IQM hardware conditions on 1 "
                    "only: lower the circuit first (iqm_bridge.core.lower)"
                )
            if op.gate.name != "prx":
                raise UnsupportedOperationError(
                    f"classically controlled gate {op.gate.name!r} on {op.gate.qubits}: only "
                    "prx can be conditioned on IQM hardware (cc_prx); lower the circuit first"
                )
            source = measured.get(op.key)
            if source is None or op.index >= len(source):
                raise CircuitValidationError(
                    f"conditional prx on {op.gate.qubits} reads bit {op.index} of measurement "
                    f"key {op.key!r}, which no earlier measurement writes"
                )
            append(
                CircuitOperation(
                    "cc_prx",
                    op.gate.qubits,
                    {
                        "angle": _angle(op.gate, 0),
                        "phase": _angle(op.gate, 1),
                        "feedback_qubit": source[op.index],
                        "feedback_key": op.key,
                    },
                )
            )
        elif isinstance(op, Reset):
            append(CircuitOperation("reset", op.qubits, {}))
        elif isinstance(op, Barrier):
            append(CircuitOperation("barrier", op.qubits, {}))
        elif isinstance(op, Delay):
            append(CircuitOperation("delay", op.qubits, {"duration": op.duration}))
        else:  # pragma: no cover - the Operation union is closed
            raise UnsupportedOperationError(f"cannot serialise {op!r}")
    metadata = dict(circuit.metadata)
    if carry_qubits:
        metadata[QUBITS_METADATA_KEY] = list(circuit.qubits)
    return IQMCircuit(name=circuit.name, instructions=tuple(instructions), metadata=metadata)


def from_iqm_circuit(circuit: Any) -> Circuit:
    """Parse iqm-client's ``Circuit`` model (e.g. a retrieved job's payload) into the IR."""
    return _parse(
        circuit.name,
        [(i.name, tuple(i.locus), dict(i.args)) for i in circuit.instructions],
        circuit.metadata,
    )


def from_wire_dict(data: Mapping[str, Any]) -> Circuit:
    """Parse one circuit of a job payload in its JSON form (``locus`` or legacy ``qubits``)."""
    instructions = [
        (i["name"], tuple(i.get("locus", i.get("qubits", ()))), dict(i.get("args") or {}))
        for i in data["instructions"]
    ]
    return _parse(data.get("name", "circuit"), instructions, data.get("metadata"))


def _parse(
    name: str,
    instructions: Sequence[tuple[str, tuple[str, ...], dict[str, Any]]],
    metadata: Mapping[str, Any] | None,
) -> Circuit:
    ops: list[Operation] = []
    feedback_to_key: dict[str, str] = {}
    measure_locus: dict[str, tuple[str, ...]] = {}
    for op_name, locus, args in instructions:
        if op_name == "prx":
            ops.append(Gate("prx", locus, (float(args["angle"]), float(args["phase"]))))
        elif op_name in ("cz", "move"):
            ops.append(Gate(op_name, locus))
        elif op_name == "measure":
            key = str(args["key"])
            ops.append(Measure(locus, key))
            measure_locus[key] = locus
            if "feedback_key" in args:
                feedback_to_key[str(args["feedback_key"])] = key
        elif op_name == "cc_prx":
            key = feedback_to_key.get(str(args["feedback_key"]), str(args["feedback_key"]))
            source = measure_locus.get(key, ())
            qubit = str(args["feedback_qubit"])
            index = source.index(qubit) if qubit in source else 0
            gate = Gate("prx", locus, (float(args["angle"]), float(args["phase"])))
            ops.append(Conditional(gate, key, index))
        elif op_name == "reset":
            ops.append(Reset(locus))
        elif op_name == "barrier":
            ops.append(Barrier(locus))
        elif op_name == "delay":
            ops.append(Delay(locus, float(args["duration"])))
        else:
            raise UnsupportedOperationError(
                f"instruction {op_name!r} on {locus} has no iqm-bridge IR equivalent"
            )
    meta = dict(metadata or {})
    qubits = meta.pop(QUBITS_METADATA_KEY, None)
    if qubits is None:
        return Circuit.from_operations(ops, name=name, metadata=meta)
    return Circuit(tuple(qubits), tuple(ops), name, meta)

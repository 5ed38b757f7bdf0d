"""Qiskit ``QuantumCircuit`` -> iqm-bridge IR, with one measurement key per measured clbit.

The translation is a table from qiskit instruction names onto the core vocabulary; gates
outside it are expanded through qiskit's own definitions (recursively) before giving up.
Every ``measure`` writes one clbit, so it gets the key ``KeyMap.encode(register, register
index, bit index, repetition)``; a clbit measured again gets repetition 1, 2, ... and the
result keeps the last write, as qiskit does.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Sequence
from typing import Any

from qiskit.circuit import (
    ClassicalRegister,
    Clbit,
    ControlFlowOp,
    IfElseOp,
    Instruction,
    ParameterExpression,
    QuantumCircuit,
)

from iqm_bridge.core.errors import (
    CircuitValidationError,
    UnboundParameterError,
    UnsupportedOperationError,
    UnwrittenMeasurementKeyError,
)
from iqm_bridge.core.ir import Barrier, Circuit, Conditional, Delay, Gate, Measure, Operation, Reset
from iqm_bridge.core.keys import KeyMap, Register
from iqm_bridge.core.parameters import Expression, ParamValue

__all__ = ["ClbitLayout", "to_ir"]

PI = math.pi

# qiskit name -> core vocabulary name (same meaning, same parameter order)
GATE_TABLE: dict[str, str] = {
    "id": "id",
    "z": "z",
    "h": "h",
    "s": "s",
    "sdg": "sdg",
    "t": "t",
    "tdg": "tdg",
    "sx": "sx",
    "sxdg": "sxdg",
    "rz": "rz",
    "p": "p",
    "u1": "p",
    "u": "u",
    "u3": "u",
    "cx": "cx",
    "cy": "cy",
    "cz": "cz",
    "cp": "cp",
    "cu1": "cp",
    "crz": "crz",
    "crx": "crx",
    "cry": "cry",
    "rzz": "rzz",
    "rxx": "rxx",
    "ryy": "ryy",
    "swap": "swap",
    "iswap": "iswap",
    "ccx": "ccx",
    "ccz": "ccz",
    "move": "move",
}

# qiskit gates that are special cases of the native prx(angle, phase): written as prx directly,
# so a transpiled circuit using them is still native (as the seed's serialize_circuit allows)
_PRX_LIKE: dict[str, Any] = {
    "r": lambda p: (p[0], p[1]),
    "x": lambda p: (PI, 0.0),
    "y": lambda p: (PI, PI / 2),
    "rx": lambda p: (p[0], 0.0),
    "ry": lambda p: (p[0], PI / 2),
}

NATIVE_NAMES = frozenset({"r", "x", "y", "rx", "ry", "cz", "move", "id"})
"""Qiskit gate names ``serialize_circuit`` accepts (besides measure, reset, delay, barrier and
``if_else``)."""

# ``dt`` is 1 ns, as for qiskit-iqm (IQM targets declare no ``dt`` of their own)
_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "ps": 1e-12, "dt": 1e-9}


class ClbitLayout:
    """Where each qiskit clbit's value sits in the register-by-register bit layout.

    Attributes:
        registers: the circuit's classical registers, in order.
        columns: for clbit ``j`` of ``circuit.clbits``, its column in the registers placed side
            by side; ``None`` when that is simply ``j``.
        keymap: the key map that reads the circuit's results into those registers.
        clbit_of_key: measurement key -> index of the clbit it writes in ``circuit.clbits``.
    """

    __slots__ = ("clbit_of_key", "columns", "keymap", "registers")

    def __init__(
        self,
        registers: tuple[Register, ...],
        columns: list[int] | None,
        keymap: KeyMap,
        clbit_of_key: dict[str, int],
    ) -> None:
        self.registers = registers
        self.columns = columns
        self.keymap = keymap
        self.clbit_of_key = clbit_of_key


def _affine(value: ParameterExpression, gate: str) -> Expression:
    """A symbolic qiskit angle as the core's affine expression (coefficients by gradient)."""
    terms = []
    for p in value.parameters:
        slope = value.gradient(p)
        if isinstance(slope, ParameterExpression) and slope.parameters:
            raise UnboundParameterError(
                f"gate {gate!r} has angle {value}, which is not affine in {p.name!r}; bind it "
                "before transpiling, or keep its angles of the form c0 + c1*p1 + ..."
            )
        terms.append((p.name, complex(slope).real))
    constant = complex(value.bind(dict.fromkeys(value.parameters, 0.0))).real
    return Expression(terms, constant)


def _angle(value: Any, gate: str, symbolic: bool = False) -> ParamValue:
    if isinstance(value, ParameterExpression):
        if value.parameters and symbolic:
            return _affine(value, gate)
        if value.parameters:
            names = sorted(p.name for p in value.parameters)
            raise UnboundParameterError(
                f"gate {gate!r} has unbound parameter(s) {names}; bind values with "
                "circuit.assign_parameters(...) before running"
            )
        value = complex(value)
        if abs(value.imag) > 1e-12:
            raise CircuitValidationError(f"gate {gate!r} has a complex angle {value}")
        return float(value.real)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UnsupportedOperationError(
            f"gate {gate!r} has a parameter {value!r} that is not an angle"
        ) from None


def _suggest(name: str) -> str:
    close = difflib.get_close_matches(name, [*GATE_TABLE, *_PRX_LIKE], n=1)
    return f" (nearest supported gate: {close[0]!r})" if close else ""


class _Translator:
    """State of one circuit's translation: qubit names, clbit keys and repetition counts."""

    def __init__(
        self,
        circuit: QuantumCircuit,
        qubit_names: Sequence[str],
        native_only: bool,
        symbolic: bool = False,
    ) -> None:
        if circuit.num_qubits > len(qubit_names):
            raise CircuitValidationError(
                f"circuit {circuit.name!r} has {circuit.num_qubits} qubits but the backend has "
                f"only {len(qubit_names)}"
            )
        self.circuit = circuit
        self.native_only = native_only
        self.symbolic = symbolic
        self.qubit_name = {q: qubit_names[i] for i, q in enumerate(circuit.qubits)}
        self.cregs = list(circuit.cregs)
        self.registers = tuple(Register(r.name, r.size) for r in self.cregs)
        reg_index = {r: i for i, r in enumerate(self.cregs)}
        offsets = [0]
        for r in self.cregs:
            offsets.append(offsets[-1] + r.size)
        self.slot: dict[Clbit, tuple[int, int]] = {}
        self.clbit_index: dict[Clbit, int] = {}
        self.clbit_of_key: dict[str, int] = {}
        columns = []
        for clbit in circuit.clbits:
            loc = circuit.find_bit(clbit)
            if not loc.registers:
                raise UnsupportedOperationError(
                    f"clbit {loc.index} of circuit {circuit.name!r} belongs to no classical "
                    "register; create the circuit with a ClassicalRegister"
                )
            reg, bit = loc.registers[0]
            ri = reg_index[reg]
            self.clbit_index[clbit] = loc.index
            self.slot[clbit] = (ri, bit)
            columns.append(offsets[ri] + bit)
        self.columns = None if columns == list(range(len(columns))) else columns
        self.writes: dict[Clbit, int] = {}
        self.last_key: dict[Clbit, str] = {}

    # ----------------------------------------------------------------- helpers
    def key_for(self, clbit: Clbit) -> str:
        ri, bit = self.slot[clbit]
        rep = self.writes.get(clbit, 0)
        self.writes[clbit] = rep + 1
        key = KeyMap.encode(self.registers[ri], ri, bit, rep)
        self.last_key[clbit] = key
        self.clbit_of_key[key] = self.clbit_index[clbit]
        return key

    def gate(self, op: Instruction, qubits: tuple[str, ...]) -> list[Operation]:
        """The IR gates for one qiskit gate (expanding its definition when needed)."""
        name = op.name
        prx = _PRX_LIKE.get(name)
        if prx is not None:
            angle, phase = prx([_angle(p, name, self.symbolic) for p in op.params])
            return [Gate("prx", qubits, (angle, phase))]
        if name == "id":
            return []
        core = GATE_TABLE.get(name)
        if self.native_only and name not in NATIVE_NAMES:
            raise UnsupportedOperationError(
                f"gate {name!r} on {qubits} is not native to IQM hardware; transpile the circuit "
                "for the backend first (qiskit.transpile(circuit, backend)) or use backend.run, "
                "which compiles it"
            )
        if core is not None:
            return [Gate(core, qubits, tuple(_angle(p, name, self.symbolic) for p in op.params))]
        definition = getattr(op, "definition", None)
        if definition is None:
            raise UnsupportedOperationError(
                f"gate {name!r} on {qubits} has no translation to IQM and no qiskit definition to "
                f"decompose{_suggest(name)}"
            )
        return self.body(definition, qubits, (), inner=True)

    def body(
        self,
        circuit: QuantumCircuit,
        qubits: Sequence[str],
        clbits: Sequence[Clbit],
        inner: bool = False,
    ) -> list[Operation]:
        """Translate the instructions of ``circuit`` whose qubits stand for ``qubits``."""
        qmap = dict(zip(circuit.qubits, qubits, strict=True)) if inner else self.qubit_name
        cmap = dict(zip(circuit.clbits, clbits, strict=True)) if inner else None
        ops: list[Operation] = []
        for inst in circuit.data:
            op = inst.operation
            name = op.name
            qs = tuple(qmap[q] for q in inst.qubits)
            if name == "measure":
                clbit = inst.clbits[0] if cmap is None else cmap[inst.clbits[0]]
                ops.append(Measure(qs, self.key_for(clbit)))
            elif name == "barrier":
                ops.append(Barrier(qs))
            elif name == "reset":
                ops.append(Reset(qs))
            elif name == "delay":
                ops.append(Delay(qs, self.seconds(op)))
            elif isinstance(op, IfElseOp):
                cls = inst.clbits if cmap is None else tuple(cmap[c] for c in inst.clbits)
                ops.extend(self.if_else(op, qs, cls))
            elif isinstance(op, ControlFlowOp):
                raise UnsupportedOperationError(
                    f"control flow {name!r} is not supported on IQM hardware; only if_test on a "
                    "single measured clbit (conditioning single-qubit gates) is"
                )
            elif inst.clbits:
                raise UnsupportedOperationError(
                    f"instruction {name!r} writes classical bits; only 'measure' may"
                )
            else:
                ops.extend(self.gate(op, qs))
        return ops

    def seconds(self, op: Instruction) -> float:
        unit = getattr(op, "unit", "dt")
        factor = _TIME_UNITS.get(unit)
        if factor is None:
            raise UnsupportedOperationError(
                f"delay in unit {unit!r}: give the delay in s, ms, us, ns, ps or dt (1 ns)"
            )
        return float(_angle(op.params[0], "delay")) * factor

    def if_else(
        self, op: IfElseOp, qubits: tuple[str, ...], clbits: Sequence[Clbit]
    ) -> list[Operation]:
        cond = op.condition
        if not isinstance(cond, tuple):
            raise UnsupportedOperationError(
                "if_test with a classical expression is not supported on IQM hardware; condition "
                "on one clbit: with circuit.if_test((clbit, 1)): ..."
            )
        target, value = cond
        if isinstance(target, ClassicalRegister):
            if target.size != 1:
                raise UnsupportedOperationError(
                    f"if_test on register {target.name!r} of {target.size} bits: IQM hardware "
                    "conditions on a single clbit; use if_test((register[i], 1))"
                )
            target = target[0]
        if target not in self.slot:
            raise UnsupportedOperationError(f"if_test condition on an unknown clbit {target!r}")
        key = self.last_key.get(target)
        if key is None:
            ri, bit = self.slot[target]
            raise UnwrittenMeasurementKeyError(
                f"if_test reads clbit {self.registers[ri].name}[{bit}] before any measurement "
                "writes it; measure into it first"
            )
        value = int(value)
        if value not in (0, 1):
            raise UnsupportedOperationError(f"if_test compares a single clbit with {value}")
        true_body, false_body = op.params[0], op.params[1]
        ops: list[Operation] = []
        for branch, when in ((true_body, value), (false_body, 1 - value)):
            if branch is None:
                continue
            ops.extend(self.conditioned(branch, qubits, clbits, key, when))
        return ops

    def conditioned(
        self,
        branch: QuantumCircuit,
        qubits: tuple[str, ...],
        clbits: Sequence[Clbit],
        key: str,
        when: int,
    ) -> list[Operation]:
        """Gates of an if_test branch, applied iff the bit reads ``when``."""
        qmap = dict(zip(branch.qubits, qubits, strict=True))
        ops: list[Operation] = []
        for inst in branch.data:
            op = inst.operation
            qs = tuple(qmap[q] for q in inst.qubits)
            if op.name == "barrier":
                continue
            if inst.clbits or len(qs) != 1 or isinstance(op, ControlFlowOp):
                raise UnsupportedOperationError(
                    f"instruction {op.name!r} on {qs} inside if_test: IQM hardware can condition "
                    "only single-qubit gates (cc_prx); move it out of the branch"
                )
            for g in self.gate(op, qs):
                if not isinstance(g, Gate):
                    raise UnsupportedOperationError(
                        f"{g!r} inside if_test cannot be classically controlled on IQM hardware"
                    )
                ops.append(Conditional(g, key, 0, when))
        return ops


def _user_metadata(circuit: QuantumCircuit) -> dict[str, Any]:
    meta = circuit.metadata or {}
    if not meta:
        return {}
    try:
        json.dumps(meta)
    except (TypeError, ValueError):
        return {}
    return dict(meta)


def to_ir(
    circuit: QuantumCircuit,
    qubit_names: Sequence[str],
    *,
    native_only: bool = False,
    symbolic: bool = False,
) -> tuple[Circuit, ClbitLayout]:
    """Translate a qiskit circuit into an IR circuit whose qubit ``i`` is ``qubit_names[i]``.

    Args:
        circuit: the qiskit circuit.
        qubit_names: the name of each circuit qubit, by index.
        native_only: refuse gates that are not IQM natives (or their special cases x, y, rx, ry)
            instead of translating or decomposing them.
        symbolic: keep unbound parameters as the core's affine expressions (for compiling a
            template) instead of refusing them.

    Returns:
        The IR circuit (its metadata is the circuit's JSON-compatible metadata) and the clbit
        layout with the key map for reading results.

    Raises:
        UnsupportedOperationError: an instruction with no IQM equivalent (named).
        UnboundParameterError: a parameter without a value (with ``symbolic``: an angle that
            is not affine in its parameters).
        CircuitValidationError: more qubits than ``qubit_names``.
    """
    tr = _Translator(circuit, qubit_names, native_only, symbolic)
    ops = tr.body(circuit, (), ())
    qubits = tuple(tr.qubit_name[q] for q in circuit.qubits)
    ir = Circuit(qubits, tuple(ops), circuit.name, _user_metadata(circuit))
    keymap = KeyMap.from_keys(ir.measurement_keys).with_registers(tr.registers)
    return ir, ClbitLayout(tr.registers, tr.columns, keymap, tr.clbit_of_key)

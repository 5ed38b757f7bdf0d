"""PennyLane tapes -> iqm-bridge IR circuits whose trainable angles are symbols.

A tape (already decomposed to the device's gate set and diagonalised, so every terminal
measurement is in the computational basis) becomes an :class:`~iqm_bridge.core.ir.Circuit`
on logical qubits ``w0, w1, ...`` (``wi`` is the device's i-th wire). Trainable parameters
become :class:`~iqm_bridge.core.parameters.Parameter` s named by their position, so tapes that
differ only in their trainable values share one structure and one compiled template.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from pennylane.measurements import MidMeasureMP
from pennylane.ops import Conditional as PLConditional
from pennylane.tape import QuantumScript
from pennylane.wires import Wires

from iqm_bridge.core.errors import UnsupportedOperationError
from iqm_bridge.core.ir import Barrier, Circuit, Conditional, Gate, Measure, Operation
from iqm_bridge.core.keys import KeyMap, Register
from iqm_bridge.core.parameters import Parameter

# PennyLane operator name -> iqm-bridge gate name (core/gates.py); wire order is the same
# (control first) and both use big-endian matrices over the operator's wires.
GATE_NAMES: dict[str, str] = {
    "PauliX": "x",
    "PauliY": "y",
    "PauliZ": "z",
    "Hadamard": "h",
    "S": "s",
    "Adjoint(S)": "sdg",
    "T": "t",
    "Adjoint(T)": "tdg",
    "SX": "sx",
    "Adjoint(SX)": "sxdg",
    "RX": "rx",
    "RY": "ry",
    "RZ": "rz",
    "PhaseShift": "p",
    "CNOT": "cx",
    "CY": "cy",
    "CZ": "cz",
    "SWAP": "swap",
    "ISWAP": "iswap",
    "ControlledPhaseShift": "cp",
    "CRX": "crx",
    "CRY": "cry",
    "CRZ": "crz",
    "IsingXX": "rxx",
    "IsingYY": "ryy",
    "IsingZZ": "rzz",
    "Toffoli": "ccx",
    "CCZ": "ccz",
}
# operators with no effect on any measured outcome
IGNORED = frozenset({"Identity", "GlobalPhase", "Snapshot"})

RESULT_REGISTER = "pl"
MCM_REGISTER = "mcm"


def qubit_name(index: int) -> str:
    """The logical qubit name of the device's ``index``-th wire."""
    return f"w{index}"


def param_name(slot: int) -> str:
    """The symbol of the ``slot``-th trainable parameter (zero-padded so names sort by slot)."""
    return f"t{slot:05d}"


def measured_wires(tape: QuantumScript, device_wires: Wires) -> Wires:
    """The wires whose terminal samples the tape's measurements need."""
    wires: list[Any] = []
    for mp in tape.measurements:
        if getattr(mp, "mv", None) is not None:
            continue
        mw = mp.wires if len(mp.wires) else device_wires
        wires.extend(w for w in mw if w not in wires)
    return Wires(wires)


@attrs.frozen(slots=True)
class Translation:
    """One tape as an IR circuit.

    Attributes:
        circuit: the (possibly symbolic) logical circuit.
        values: parameter symbol -> value for this tape.
        measured: the wires of the result register's columns, in order.
        mcms: the tape's mid-circuit measurements, in the order of the ``mcm`` register.
        keymap: reads the results into the ``pl`` and ``mcm`` registers.
    """

    circuit: Circuit
    values: dict[str, float]
    measured: Wires
    mcms: tuple[MidMeasureMP, ...]
    keymap: KeyMap


def branch_values(cond: Any) -> tuple[bool, bool] | None:
    """(applies when the bit reads 0, applies when it reads 1) of a ``qml.cond`` on one
    mid-circuit measurement, or ``None`` if it depends on more than one bit."""
    mv = cond.meas_val
    if len(mv.measurements) != 1:
        return None
    try:
        return bool(mv.processing_fn(0)), bool(mv.processing_fn(1))
    except Exception:  # noqa: BLE001 - an unusual expression: let deferral handle it
        return None


def _wire_index(device_wires: Wires, wires: Wires) -> list[int]:
    return [device_wires.index(w) for w in wires]


def translate(tape: QuantumScript, device_wires: Wires, name: str) -> Translation:
    """Translate a preprocessed tape.

    Args:
        tape: a tape whose operations are in the device's gate set (plus mid-circuit
            measurements and single-qubit conditionals) and whose terminal measurements are
            diagonal in the computational basis.
        device_wires: the device's wires (a tape without device wires uses its own).
        name: the circuit's name.

    Raises:
        UnsupportedOperationError: an operator outside the gate set.
    """
    trainable = set(tape.trainable_params)
    measured = measured_wires(tape, device_wires)
    mcms = tuple(op for op in tape.operations if isinstance(op, MidMeasureMP))
    used = set(_wire_index(device_wires, tape.wires)) | set(_wire_index(device_wires, measured))
    qubits = tuple(qubit_name(i) for i in sorted(used))
    qname = {w: qubit_name(i) for i, w in enumerate(device_wires)}

    result_reg = Register(RESULT_REGISTER, len(measured))
    mcm_reg = Register(MCM_REGISTER, len(mcms))
    mcm_keys = {m: KeyMap.encode(mcm_reg, 1, k) for k, m in enumerate(mcms)}

    ops: list[Operation] = []
    values: dict[str, float] = {}
    index = 0  # position in tape.get_parameters(trainable_only=False)

    def gate_of(op: Any, start: int) -> Gate:
        gname = GATE_NAMES.get(op.name)
        if gname is None:
            raise UnsupportedOperationError(
                f"operation {op.name!r} on wires {op.wires.tolist()} has no iqm-bridge "
                f"counterpart; supported: {', '.join(sorted(GATE_NAMES))} (PennyLane "
                "decomposes others when the device preprocesses the tape)"
            )
        params: list[Any] = []
        for k, p in enumerate(op.data):
            if start + k in trainable:
                sym = param_name(len(values))
                values[sym] = float(np.real(p))
                params.append(Parameter(sym))
            else:
                params.append(float(np.real(p)))
        return Gate(gname, tuple(qname[w] for w in op.wires), tuple(params))

    for op in tape.operations:
        n = len(op.data)
        if isinstance(op, MidMeasureMP):
            q = qname[op.wires[0]]
            key = mcm_keys[op]
            ops.append(Measure((q,), key))
            if op.reset:
                ops.append(Conditional(Gate("x", (q,)), key, 0))
        elif isinstance(op, PLConditional):
            base = op.base
            if base.name in IGNORED:
                index += n
                continue
            (mcm,) = op.meas_val.measurements
            on_zero, _ = branch_values(op) or (False, True)
            ops.append(Conditional(gate_of(base, index), mcm_keys[mcm], 0, 0 if on_zero else 1))
        elif op.name in IGNORED:
            pass
        elif op.name == "Barrier":
            if len(op.wires):
                ops.append(Barrier(tuple(qname[w] for w in op.wires)))
        else:
            ops.append(gate_of(op, index))
        index += n
    if len(measured):
        ops.append(Measure(tuple(qname[w] for w in measured), KeyMap.encode(result_reg, 0, 0)))
    circuit = Circuit(qubits, tuple(ops), name)
    keymap = KeyMap.from_keys(circuit.measurement_keys).with_registers([result_reg, mcm_reg])
    return Translation(circuit, values, measured, mcms, keymap)


__all__ = [
    "GATE_NAMES",
    "IGNORED",
    "Translation",
    "measured_wires",
    "branch_values",
    "param_name",
    "qubit_name",
    "translate",
]

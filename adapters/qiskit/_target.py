"""The qiskit ``Target`` of an IQM device, and the MOVE gate of resonator machines.

Qubit indices follow the device's qubit order; computational resonators come last (as in
qiskit-iqm), so ``index_to_qubit_name`` covers both.

On a star machine (qubits coupled only through a computational resonator) the default target
has no resonator: it offers a "fictional" CZ between every pair of qubits that can meet in the
resonator (one has a CZ to it, the other a MOVE), in both directions. qiskit then transpiles as
for an all-to-all machine, and ``backend.run`` hands the circuit to the iqm-bridge compiler,
whose MOVE router turns each qubit-qubit CZ into MOVE / CZ / MOVE. ``target_with_resonators``
is the real device (resonators and MOVEs) for circuits that place MOVEs themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from qiskit.circuit import Delay, Gate, IfElseOp, Parameter, Reset
from qiskit.circuit.library import CZGate, IGate, Measure, RGate
from qiskit.transpiler import Target

from iqm_bridge.core.device import Device

__all__ = ["MoveGate", "build_target", "fictional_cz_pairs"]


class MoveGate(Gate):  # type: ignore[misc]
    """IQM's MOVE: moves a qubit's state into an empty computational resonator and back.

    Qiskit name ``"move"``, acting on (qubit, resonator). On the states it is used on (the
    resonator empty before the first MOVE of a pair) it acts as a SWAP.

    Args:
        label: an optional label.
    """

    def __init__(self, label: str | None = None) -> None:
        super().__init__("move", 2, [], label=label)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray[Any, Any]:
        mat = np.array(
            [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=dtype or complex
        )
        return mat


def fictional_cz_pairs(device: Device) -> set[tuple[str, str]]:
    """Qubit pairs (both orders) that can interact through a resonator: CZ(a, r) + MOVE(b, r)."""
    pairs: set[tuple[str, str]] = set()
    cz = device.loci("cz")
    move = device.loci("move")
    for res in device.resonators:
        cz_side = {q for q in device.qubits if (q, res) in cz}
        move_side = {q for q in device.qubits if (q, res) in move}
        for a in cz_side:
            for b in move_side:
                if a != b:
                    pairs.add((a, b))
                    pairs.add((b, a))
    return pairs


def build_target(device: Device, *, with_resonators: bool = False) -> Target:
    """The qiskit transpilation target of ``device``.

    Args:
        device: the core device.
        with_resonators: include the computational resonators as qubits (indices after the
            qubits), with the real CZ and MOVE loci; otherwise (the default) resonators are
            left out and star machines get fictional qubit-qubit CZs.
    """
    components = device.qubits + (device.resonators if with_resonators else ())
    index = {name: i for i, name in enumerate(components)}
    qubit_idx = [(index[q],) for q in device.qubits]
    target = Target(description=f"IQM {device.name}", num_qubits=len(components))

    def loci(gate: str) -> dict[tuple[int, ...], None]:
        return {
            tuple(index[c] for c in locus): None
            for locus in device.loci(gate)
            if all(c in index for c in locus)
        }

    if "prx" in device.gates:
        target.add_instruction(RGate(Parameter("theta"), Parameter("phi")), loci("prx"))
    target.add_instruction(IGate(), dict.fromkeys(qubit_idx))
    if "measure" in device.gates:
        target.add_instruction(Measure(), loci("measure"))
    target.add_instruction(Reset(), dict.fromkeys(qubit_idx))
    target.add_instruction(Delay(0), dict.fromkeys(qubit_idx))
    cz: dict[tuple[int, ...], None] = loci("cz")  # device.loci lists both orders of a cz
    if not with_resonators and device.resonators:
        cz = {k: None for k in cz if all(i < len(device.qubits) for i in k)}
        for a, b in fictional_cz_pairs(device):
            cz[(index[a], index[b])] = None
    if cz:
        target.add_instruction(CZGate(), cz)
    if with_resonators and "move" in device.gates:
        target.add_instruction(MoveGate(), loci("move"))
    if "cc_prx" in device.gates:
        target.add_instruction(IfElseOp, name="if_else")
    return target

"""The one IQM native cirq lacks: MOVE between a qubit and a computational resonator."""

from __future__ import annotations

from typing import Any

import cirq
import numpy as np

__all__ = ["IQMMoveGate"]


class IQMMoveGate(cirq.Gate):
    """IQM's native MOVE: moves a qubit's state into a computational resonator and back.

    Act on ``(qubit, resonator)`` in that order. The resonator must hold ``|0>`` whenever the
    state is moved in (the server checks it), so on those states MOVE acts as a SWAP, which is
    the unitary given here.
    """

    def _num_qubits_(self) -> int:
        return 2

    def _unitary_(self) -> np.ndarray[Any, Any]:
        return np.array(cirq.unitary(cirq.SWAP))

    def _circuit_diagram_info_(self, args: cirq.CircuitDiagramInfoArgs) -> tuple[str, str]:
        return ("MOVE(qubit)", "MOVE(res)")

    def _value_equality_values_(self) -> tuple[()]:
        return ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IQMMoveGate)

    def __hash__(self) -> int:
        return hash(IQMMoveGate)

    def __repr__(self) -> str:
        return "iqm_bridge.adapters.cirq.IQMMoveGate()"

    def __str__(self) -> str:
        return "MOVE"

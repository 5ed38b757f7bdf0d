"""The circuit helpers of the official user guide: QASM import, simplification, MOVE insertion.

Each is a thin translation around a library made for the job: cirq's own OpenQASM 2.0 parser,
and the core compiler's fusion and MOVE routing (the same passes ``IQMSampler.run`` uses).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cirq

from iqm_bridge.adapters.cirq._convert import from_native, to_ir
from iqm_bridge.adapters.cirq._device import IQMDevice, decompose_circuit, has_move
from iqm_bridge.core import CircuitValidationError
from iqm_bridge.core import compile as compile_circuit

__all__ = ["circuit_from_qasm", "simplify_circuit", "transpile_insert_moves_into_circuit"]


def circuit_from_qasm(qasm: str) -> cirq.Circuit:
    """Parse an OpenQASM 2.0 program with cirq's parser (``measure q -> m`` gives keys
    ``m_0``, ``m_1``...).

    Raises:
        CircuitValidationError: the program does not parse (the message says where).
    """
    from cirq.contrib.qasm_import import QasmException
    from cirq.contrib.qasm_import import circuit_from_qasm as parse

    try:
        return parse(qasm)
    except QasmException as exc:
        raise CircuitValidationError(f"the OpenQASM 2.0 program does not parse: {exc}") from None


def simplify_circuit(
    circuit: cirq.AbstractCircuit, *, max_iterations: int = 20, drop_final_rz: bool = False
) -> cirq.Circuit:
    """``circuit`` with its single-qubit runs fused into one ``PhasedXPowGate`` each, Z
    rotations tracked in the frame and dropped where no measurement sees them, and two-qubit
    gates in CZs (the core compiler's fusion, which reaches its fixed point in one pass).

    Args:
        circuit: the circuit, on any qubits.
        max_iterations: accepted for compatibility; one pass suffices.
        drop_final_rz: accepted for compatibility; final Z rotations are always dropped, as
            sampling cannot see them.
    """
    del max_iterations, drop_final_rz
    return decompose_circuit(circuit)


def transpile_insert_moves_into_circuit(
    cirq_circuit: cirq.AbstractCircuit,
    device: IQMDevice,
    existing_moves: Any = None,
    qubit_mapping: Mapping[str, str] | None = None,
) -> cirq.Circuit:
    """Route a circuit on a resonator star's qubits through its resonator with MOVEs.

    Args:
        cirq_circuit: the circuit, on the device's qubits (or on qubits ``qubit_mapping``
            maps onto them); two-qubit gates between qubits are routed through the resonator.
        device: the star device.
        existing_moves: accepted for compatibility: a circuit that already holds MOVEs is
            returned as it is when it is valid on the device.
        qubit_mapping: circuit qubit name -> device qubit name (default: the same names).

    Raises:
        CircuitValidationError: a circuit holding MOVEs that is not valid as it is, or one
            that does not fit the device.
    """
    del existing_moves
    conv = to_ir(cirq_circuit)
    if has_move(conv.circuit):
        try:
            device.validate_circuit(cirq_circuit)
        except CircuitValidationError as exc:
            raise CircuitValidationError(
                f"the circuit already holds MOVEs and is not valid as it is ({exc}); give it "
                "without MOVEs and they are inserted"
            ) from None
        return cirq.Circuit(cirq_circuit)
    layout = dict(qubit_mapping) if qubit_mapping else {q: q for q in conv.circuit.qubits}
    result = compile_circuit(conv.circuit, device.core_device, initial_layout=layout)
    return from_native(result.circuit, {}, conv.native_keys)

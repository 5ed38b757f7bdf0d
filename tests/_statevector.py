"""A small numpy statevector simulator for the IR, used as a test oracle.

It is exact and dense (``2**n`` amplitudes), meant for circuits of up to about 12 qubits.
:func:`statevector` runs the unitary part of a circuit; :func:`distribution` also follows
measurements, resets and classically controlled gates by enumerating branches, and returns
the probability of every outcome of the measurement keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from iqm_bridge.core.errors import UnsupportedOperationError
from iqm_bridge.core.gates import gate_unitary
from iqm_bridge.core.ir import Barrier, Circuit, Conditional, Delay, Gate, Measure, Reset

__all__ = ["apply_gate", "distribution", "statevector"]

State = np.ndarray[Any, np.dtype[np.complex128]]


def apply_gate(state: State, gate: Gate, index: Mapping[str, int]) -> State:
    """Apply a numeric gate to a state tensor of shape ``(2,) * n`` (axis i = qubit i)."""
    params = [float(p) for p in gate.params]
    u = gate_unitary(gate.name, params)
    k = len(gate.qubits)
    axes = [index[q] for q in gate.qubits]
    u = u.reshape((2,) * (2 * k))
    contracted = np.tensordot(u, state, axes=(list(range(k, 2 * k)), axes))
    out = np.asarray(contracted, dtype=np.complex128)
    return np.moveaxis(out, list(range(k)), axes)


def _initial(n: int) -> State:
    state = np.zeros((2,) * n, dtype=np.complex128)
    state[(0,) * n] = 1.0
    return state


def statevector(circuit: Circuit, qubits: Sequence[str] | None = None) -> State:
    """The final state of a measurement-free circuit, as a flat big-endian vector.

    Args:
        circuit: a circuit of numeric gates (barriers and delays are ignored).
        qubits: the qubit order of the result (first = most significant); defaults to
            ``circuit.qubits``.

    Raises:
        UnsupportedOperationError: the circuit measures, resets or conditions.
    """
    order = list(qubits if qubits is not None else circuit.qubits)
    index = {q: i for i, q in enumerate(order)}
    state = _initial(len(order))
    for op in circuit.operations:
        if isinstance(op, Gate):
            state = apply_gate(state, op, index)
        elif isinstance(op, Barrier | Delay):
            continue
        else:
            raise UnsupportedOperationError(
                f"statevector() simulates unitary circuits only; got {type(op).__name__}; "
                "use distribution() for circuits with measurements"
            )
    return state.reshape(-1)


def _project(state: State, axis: int, bit: int) -> tuple[State, float]:
    sl: list[Any] = [slice(None)] * state.ndim
    sl[axis] = 1 - bit
    out = state.copy()
    out[tuple(sl)] = 0.0
    return out, float(np.vdot(out, out).real)


def distribution(
    circuit: Circuit, qubits: Sequence[str] | None = None, *, atol: float = 1e-12
) -> dict[tuple[tuple[str, tuple[int, ...]], ...], float]:
    """Probabilities of every outcome of the circuit's measurements.

    Args:
        circuit: a numeric circuit; measurements, resets and conditionals are allowed.
        qubits: the qubits to simulate; defaults to ``circuit.qubits``.
        atol: branches with a smaller probability are dropped.

    Returns:
        outcome -> probability, where an outcome is a sorted tuple of ``(key, bits)``.
    """
    order = list(qubits if qubits is not None else circuit.qubits)
    index = {q: i for i, q in enumerate(order)}
    branches: list[tuple[State, float, dict[str, tuple[int, ...]]]] = [
        (_initial(len(order)), 1.0, {})
    ]
    for op in circuit.operations:
        nxt: list[tuple[State, float, dict[str, tuple[int, ...]]]] = []
        for state, prob, bits in branches:
            if isinstance(op, Gate):
                nxt.append((apply_gate(state, op, index), prob, bits))
            elif isinstance(op, Conditional):
                fire = bits[op.key][op.index] == 1
                nxt.append((apply_gate(state, op.gate, index) if fire else state, prob, bits))
            elif isinstance(op, Barrier | Delay):
                nxt.append((state, prob, bits))
            elif isinstance(op, Measure):
                partial: list[tuple[State, float, tuple[int, ...]]] = [(state, prob, ())]
                for q in op.qubits:
                    expanded: list[tuple[State, float, tuple[int, ...]]] = []
                    for st, pr, got in partial:
                        for bit in (0, 1):
                            proj, p = _project(st, index[q], bit)
                            if p > atol:
                                expanded.append((proj / np.sqrt(p), pr * p, (*got, bit)))
                    partial = expanded
                for st, pr, got in partial:
                    nxt.append((st, pr, {**bits, op.key: got}))
            elif isinstance(op, Reset):
                partial2: list[tuple[State, float]] = [(state, prob)]
                for q in op.qubits:
                    expanded2: list[tuple[State, float]] = []
                    for st, pr in partial2:
                        for bit in (0, 1):
                            proj, p = _project(st, index[q], bit)
                            if p > atol:
                                proj = proj / np.sqrt(p)
                                if bit:
                                    proj = np.flip(proj, axis=index[q]).copy()
                                expanded2.append((proj, pr * p))
                    partial2 = expanded2
                nxt.extend((st, pr, bits) for st, pr in partial2)
            else:  # pragma: no cover - Operation is a closed union
                raise UnsupportedOperationError(f"cannot simulate {op!r}")
        branches = nxt
    out: dict[tuple[tuple[str, tuple[int, ...]], ...], float] = {}
    for _, prob, bits in branches:
        key = tuple(sorted(bits.items()))
        out[key] = out.get(key, 0.0) + prob
    return out

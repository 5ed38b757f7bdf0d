"""The stabilizer engine: Clifford circuits with Pauli noise, at any width, through stim.

A native circuit is Clifford when every ``prx`` is one of the 24 single-qubit Cliffords (up to
a global phase): angle a multiple of pi/2, and for quarter turns a phase that is a multiple of
pi/2, for half turns a multiple of pi/4. ``cz``, ``move`` (a SWAP while the resonator is
empty), ``reset`` and ``measure`` are Clifford; the noise model is Pauli channels throughout
(depolarising after gates, Pauli-twirled T1/T2 during ``delay``). stim samples such a circuit
in time linear in its size and the shots, whatever its width.

Readout errors are asymmetric, which no Pauli channel can express, so they are applied to the
sampled bits afterwards (exact, because the recorded bit does not act back on the state). A
``cc_prx`` can run here only if it is a Pauli (a half turn whose phase is a multiple of pi/2,
stim's classically controlled ``CX``/``CY``) and, with noise on, only if the bit it reads has
no readout error: stim would feed back the true outcome, not the misread one.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

from iqm_bridge.emulator._simulator import (
    NativeCircuit,
    NoiseModel,
    Shape,
    apply_readout,
    prx_matrix,
)

__all__ = ["clifford_gate", "clifford_values", "run_stabilizer", "stabilizer_obstacle"]

_TOL = 1e-9
"""Angles closer than this to a Clifford angle are taken as that angle."""

_CHUNK_BITS = 1 << 25
"""Most measured bits sampled at once (stim's bool array is one byte per bit)."""


def _quantize(value: float, step: float) -> int | None:
    """``value / step`` as an integer, if ``value`` is (within tolerance) a multiple of ``step``."""
    k = round(value / step)
    return k if abs(value - k * step) <= _TOL * max(1.0, abs(value)) else None


@cache
def _gate_table() -> dict[tuple[int, int], str]:
    """stim's name of PRX(k pi/2, j pi/4) for each Clifford (k, j) (k mod 4, j mod 8)."""
    import stim

    by_tableau: dict[str, str] = {}
    for name in ("I", "X", "Y", "Z", "H", "S", "S_DAG", "SQRT_X", "SQRT_X_DAG", "SQRT_Y",
                 "SQRT_Y_DAG", "H_XY", "H_YZ", "H_NXY", "H_NXZ", "H_NYZ", "C_XYZ", "C_ZYX",
                 "C_NXYZ", "C_XNYZ", "C_XYNZ", "C_NZYX", "C_ZNYX", "C_ZYNX"):  # fmt: skip
        by_tableau.setdefault(str(stim.Tableau.from_named_gate(name)), name)
    table: dict[tuple[int, int], str] = {}
    for k in range(4):
        for j in range(8):
            u = prx_matrix(k * math.pi / 2, j * math.pi / 4)
            try:
                tableau = stim.Tableau.from_unitary_matrix(u, endian="little")
            except ValueError:
                continue  # not a Clifford (a quarter turn about an axis at 45 degrees)
            table[(k, j)] = by_tableau[str(tableau)]
    return table


def clifford_gate(angle: float, phase: float) -> str | None:
    """stim's name of the single-qubit Clifford ``PRX(angle, phase)``, or ``None`` if not one."""
    k = _quantize(angle, math.pi / 2)
    if k is None:
        return None
    if k % 4 == 0:
        return "I"
    j = _quantize(phase, math.pi / 4)
    if j is None:
        return None
    return _gate_table().get((k % 4, j % 8))


def _pauli_feedback(angle: float, phase: float) -> str | None:
    """``CX``/``CY`` for a ``cc_prx`` that is a Pauli (up to phase), ``""`` for identity."""
    k = _quantize(angle, math.pi / 2)
    if k is None:
        return None
    if k % 4 == 0:
        return ""
    if k % 2:
        return None
    j = _quantize(phase, math.pi / 2)
    if j is None:
        return None
    return "CX" if j % 2 == 0 else "CY"


def stabilizer_obstacle(circuit: NativeCircuit | Shape, noise: NoiseModel | None) -> str | None:
    """Why the stabilizer engine cannot run ``circuit`` exactly, or ``None`` if it can.

    A :class:`Shape` (numbers zero) gets the structural part of the test only.
    """
    fed_back: set[int] = {op_index for op_index, _ in circuit.feedback_slots}
    for i, op in enumerate(circuit.ops):
        if op.kind == "prx" and clifford_gate(op.angle, op.phase) is None:
            return f"prx(angle={op.angle:.6g}, phase={op.phase:.6g}) is not a Clifford gate"
        if op.kind == "cc_prx" and _pauli_feedback(op.angle, op.phase) is None:
            return (
                f"cc_prx(angle={op.angle:.6g}, phase={op.phase:.6g}) is not a classically "
                "controlled Pauli"
            )
        if op.kind == "measure" and noise is not None and i in fed_back:
            names = circuit.components
            if any(noise.readout_errors(names[c]) != (0.0, 0.0) for c in op.targets):
                return "a cc_prx reads a bit with an (asymmetric) readout error"
    return None


def clifford_values(shape: Shape, values: np.ndarray) -> np.ndarray:
    """Per circuit of ``shape``, whether its gates pass :func:`stabilizer_obstacle`'s test.

    ``values`` is ``(circuits, params, 2)``: a whole sweep is tested in one go. The shape's
    structural part of the test (``stabilizer_obstacle(shape, noise)``: feedback from
    misread bits) does not depend on the values and is not repeated here.
    """
    rows = [j for j, i in enumerate(shape.params) if shape.ops[i].kind in ("prx", "cc_prx")]
    if not rows:
        return np.ones(values.shape[0], dtype=bool)
    feedback = np.array([shape.ops[shape.params[j]].kind == "cc_prx" for j in rows])
    angle = values[:, rows, 0]
    phase = values[:, rows, 1]
    quarter = np.round(angle / (math.pi / 2))
    ok = np.abs(angle - quarter * (math.pi / 2)) <= _TOL * np.maximum(1.0, np.abs(angle))
    turns = np.mod(quarter, 4)
    eighth = np.round(phase / (math.pi / 4))
    on_eighth = np.abs(phase - eighth * (math.pi / 4)) <= _TOL * np.maximum(1.0, np.abs(phase))
    on_quarter = on_eighth & (np.mod(eighth, 2) == 0)
    ok &= (turns == 0) | np.where(
        feedback, (turns == 2) & on_quarter, np.where(turns == 2, on_eighth, on_quarter)
    )
    return np.asarray(ok.all(axis=1))


def _build(circuit: NativeCircuit, noise: NoiseModel | None) -> tuple[Any, dict[int, int]]:
    """The stim circuit of ``circuit`` and, per measure op index, its first record index."""
    import stim

    names = circuit.components
    out = stim.Circuit()
    n_records = 0
    first_record: dict[int, int] = {}
    for i, op in enumerate(circuit.ops):
        kind = op.kind
        t = op.targets
        if kind == "prx":
            gate = clifford_gate(op.angle, op.phase)
            if gate != "I":
                out.append(gate, t)
            if noise is not None:
                p = noise.prx.get(names[t[0]], 0.0)
                if p > 0:
                    out.append("DEPOLARIZE1", t, p)
        elif kind in ("cz", "move"):
            out.append("CZ" if kind == "cz" else "SWAP", t)
            if noise is not None:
                table = noise.two_qubit if kind == "cz" else noise.move
                p = table.get((names[t[0]], names[t[1]]), 0.0)
                if p > 0:
                    out.append("DEPOLARIZE2", t, p)
        elif kind == "cc_prx":
            gate = _pauli_feedback(op.angle, op.phase)
            op_index, col = circuit.feedback_slots[op.feedback]
            if gate:
                back = first_record[op_index] + col - n_records
                out.append(gate, [stim.target_rec(back), t[0]])
            if noise is not None:
                p = noise.prx.get(names[t[0]], 0.0)
                if p > 0:
                    out.append("DEPOLARIZE1", t, p)
        elif kind == "measure":
            first_record[i] = n_records
            out.append("M", t)
            n_records += len(t)
        elif kind == "reset":
            out.append("R", t)
        elif kind == "delay":
            if noise is not None:
                for comp in t:
                    px, py, pz = noise.idle(names[comp], op.duration)
                    if px + py + pz > 0:
                        out.append("PAULI_CHANNEL_1", [comp], [px, py, pz])
        else:  # pragma: no cover - the parser only produces the kinds above
            raise ValueError(f"unknown operation {kind!r}")
    return out, first_record


def run_stabilizer(
    circuit: NativeCircuit,
    shots: int,
    rng: np.random.Generator,
    noise: NoiseModel | None = None,
) -> dict[str, np.ndarray]:
    """Sample a Clifford circuit with stim (see :func:`stabilizer_obstacle`).

    Returns:
        measurement key -> ``uint8`` array of shape ``(shots, len(locus))``.

    Raises:
        ValueError: the circuit is not one the stabilizer engine runs exactly.
    """
    reason = stabilizer_obstacle(circuit, noise)
    if reason is not None:
        raise ValueError(f"circuit {circuit.name!r}: {reason}")
    stim_circuit, record = _build(circuit, noise)
    measures = [(i, op) for i, op in enumerate(circuit.ops) if op.kind == "measure"]
    n_records = sum(len(op.targets) for _, op in measures)
    out = {op.key: np.empty((shots, len(op.targets)), dtype=np.uint8) for _, op in measures}
    if not measures:
        return out
    sampler = stim_circuit.compile_sampler(seed=int(rng.integers(1 << 62)))
    chunk = max(1, _CHUNK_BITS // n_records)
    for start in range(0, shots, chunk):
        size = min(chunk, shots - start)
        sample = sampler.sample(size)
        for i, op in measures:
            first = record[i]
            out[op.key][start : start + size] = sample[:, first : first + len(op.targets)]
    for _, op in measures:
        apply_readout(out[op.key], op.targets, circuit.components, noise, rng)
    return out

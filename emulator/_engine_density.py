"""The density-matrix engine: small noisy circuits, simulated once, sampled for every shot.

The density matrix of ``n`` components is ``4**n`` numbers, so this engine is for small
circuits, but its cost does not depend on the shots: the exact final distribution is computed
once and all shots are drawn from it. Circuits of one :class:`~._simulator.Shape` (a sweep, a
gradient's shifted copies) are simulated together as one ``(circuits, 2**n, 2**n)`` array
with per-circuit 2x2 matrices.

The noise model is the one every engine uses (Pauli channels, asymmetric readout flips applied
to the samples). A uniform single-qubit depolarising channel commutes with every single-qubit
unitary, so a run of ``prx`` gates on one component is applied as one product followed by one
depolarising channel whose shrink factors multiply; only what breaks the run (a two-component
gate, a ``delay``'s non-uniform channel, the end) applies them. The same holds for the
two-qubit channel and the CZ or MOVE it follows, which is why they are applied in that order.

Only terminal measurements are supported (no reset, feedback or mid-circuit measurement): the
trajectory engine runs those.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from iqm_bridge.emulator._simulator import (
    NativeCircuit,
    NoiseModel,
    Op,
    Shape,
    apply_readout,
    deferrable_measures,
)

__all__ = ["density_obstacle", "run_density"]

_BATCH_ELEMENTS = 1 << 21
"""Most density-matrix elements (circuits x 4**n) held at once."""


def density_obstacle(shape: Shape | NativeCircuit) -> str | None:
    """Why the density-matrix engine cannot run circuits of ``shape``, or ``None``."""
    deferred = deferrable_measures(shape)
    for i, op in enumerate(shape.ops):
        if op.kind in ("reset", "cc_prx"):
            return f"it has a {op.kind}"
        if op.kind == "measure" and not deferred[i]:
            return "it measures in mid-circuit"
    return None


class _Rho:
    """A batch of density matrices with the row/column bit of every component addressable."""

    def __init__(self, b: int, n: int) -> None:
        self.n = n
        self.rho = np.zeros((b, 1 << n, 1 << n), dtype=complex)
        self.rho[:, 0, 0] = 1.0

    def _blocks(self, p: int) -> np.ndarray:
        """View ``(B, L, 2, R, L, 2, R)``: the row and column bit of bit position ``p``."""
        hi = 1 << (self.n - p - 1)
        lo = 1 << p
        return self.rho.reshape(self.rho.shape[0], hi, 2, lo, hi, 2, lo)

    def _rows(self, u: np.ndarray, p: int, rho: np.ndarray) -> np.ndarray:
        """``U rho``: ``u`` (B, 2, 2) on the row bit ``p``, as one product over long rows."""
        b = rho.shape[0]
        size = 1 << self.n
        hi = 1 << (self.n - p - 1)
        rows = np.ascontiguousarray(rho).reshape(b, hi, 2, (1 << p) * size)
        return np.matmul(u[:, None], rows).reshape(b, size, size)

    def unitary(self, u: np.ndarray, p: int) -> None:
        """``rho -> U rho U^dagger`` for per-circuit 2x2 matrices ``u`` (B, 2, 2) on bit ``p``."""
        # rho is Hermitian, so U rho U^dagger = U (U rho)^dagger: two products over long rows
        # (fast) instead of one over the columns, whose rows are short for low bit positions
        half = self._rows(u, p, self.rho)
        self.rho = self._rows(u, p, half.conj().transpose(0, 2, 1))

    def signs(self, s: np.ndarray) -> None:
        """``rho -> D rho D`` for a real diagonal ``s`` of signs (merged CZs)."""
        self.rho *= s[:, None] * s[None, :]

    def depolarize_1(self, p: int, lam: np.ndarray) -> None:
        """Uniform depolarising with Bloch shrink ``lam`` (per circuit) on bit ``p``."""
        v = self._blocks(p)
        shrink = lam[:, None, None, None, None]
        d0 = v[:, :, 0, :, :, 0, :]
        d1 = v[:, :, 1, :, :, 1, :]
        mean = (d0 + d1) * 0.5
        # diagonal blocks move towards their mean, off-diagonal blocks shrink
        v[:, :, 0, :, :, 0, :] = mean + shrink * (d0 - mean)
        v[:, :, 1, :, :, 1, :] = mean + shrink * (d1 - mean)
        v[:, :, 0, :, :, 1, :] *= shrink
        v[:, :, 1, :, :, 0, :] *= shrink

    def pauli_channel(self, p: int, px: float, py: float, pz: float) -> None:
        """The Pauli channel with these X, Y, Z probabilities on bit position ``p``."""
        v = self._blocks(p)
        d0 = v[:, :, 0, :, :, 0, :].copy()
        d1 = v[:, :, 1, :, :, 1, :]
        flip = px + py
        v[:, :, 0, :, :, 0, :] = (1 - flip) * d0 + flip * d1
        v[:, :, 1, :, :, 1, :] = (1 - flip) * d1 + flip * d0
        o01 = v[:, :, 0, :, :, 1, :].copy()
        o10 = v[:, :, 1, :, :, 0, :]
        keep = 1 - px - py - 2 * pz
        v[:, :, 0, :, :, 1, :] = keep * o01 + (px - py) * o10
        v[:, :, 1, :, :, 0, :] = keep * o10 + (px - py) * o01

    def depolarize_2(self, p: int, q: int, prob: float) -> None:
        """Two-qubit depolarising (each of the 15 Paulis with ``prob / 15``) on bits p, q."""
        if prob <= 0:
            return
        mixed = self.rho.copy()
        keep = self.rho
        self.rho = mixed
        full = np.zeros(keep.shape[0])
        self.depolarize_1(p, full)  # complete depolarisation of p: (rho + X.X + Y.Y + Z.Z)/4
        self.depolarize_1(q, full)
        w = 16.0 * prob / 15.0
        self.rho = (1.0 - w) * keep + w * self.rho

    def diagonal(self) -> np.ndarray:
        """Outcome probabilities ``(B, 2**n)``."""
        probs = np.einsum("bii->bi", self.rho).real.copy()
        np.clip(probs, 0.0, None, out=probs)
        probs /= probs.sum(axis=1, keepdims=True)
        return probs


def _prx_batch(values: np.ndarray) -> np.ndarray:
    """``(B, rows, 2, 2)`` PRX matrices of ``(B, rows, 2)`` (angle, phase) values."""
    half = values[..., 0] * 0.5
    c = np.cos(half)
    s = np.sin(half)
    e = np.exp(1j * values[..., 1])
    m = np.empty((*c.shape, 2, 2), dtype=complex)
    m[..., 0, 0] = c
    m[..., 1, 1] = c
    m[..., 0, 1] = -1j * e.conj() * s
    m[..., 1, 0] = -1j * e * s
    return m


def _cz_signs(n: int, p: int, q: int) -> np.ndarray:
    index = np.arange(1 << n)
    return np.where((index >> p) & (index >> q) & 1, -1.0, 1.0)


def _simulate(
    shape: Shape, values: np.ndarray, noise: NoiseModel | None
) -> tuple[np.ndarray, list[int]]:
    """Final outcome probabilities ``(B, 2**n)`` and the final bit position of each component."""
    n = len(shape.components)
    names = shape.components
    b = values.shape[0]
    mats = _prx_batch(values) if values.size else np.zeros((b, 0, 2, 2), dtype=complex)
    row_of = {op_index: j for j, op_index in enumerate(shape.params)}
    rho = _Rho(b, n)
    pos = list(range(n))
    pending_u: dict[int, np.ndarray] = {}
    pending_lam: dict[int, float] = {}
    pending_signs: np.ndarray | None = None
    started = False  # before any gate the state is |0..0>, where a CZ does nothing

    def flush_signs() -> None:
        nonlocal pending_signs
        if pending_signs is not None:
            rho.signs(pending_signs)
            pending_signs = None

    def flush(comp: int) -> None:
        u = pending_u.pop(comp, None)
        lam = pending_lam.pop(comp, None)
        if u is None and lam is None:
            return
        flush_signs()
        if u is not None:
            rho.unitary(u, pos[comp])
        if lam is not None and lam != 1.0:
            rho.depolarize_1(pos[comp], np.full(b, lam))

    for i, op in enumerate(shape.ops):
        kind = op.kind
        t = op.targets
        if kind == "prx":
            started = True
            u = mats[:, row_of[i]]
            prev = pending_u.get(t[0])
            pending_u[t[0]] = u if prev is None else np.matmul(u, prev)
            if noise is not None:
                p1 = noise.prx.get(names[t[0]], 0.0)
                if p1 > 0:
                    pending_lam[t[0]] = pending_lam.get(t[0], 1.0) * (1.0 - 4.0 * p1 / 3.0)
        elif kind in ("cz", "move"):
            a, c = t
            p2 = 0.0
            if noise is not None:
                table = noise.two_qubit if kind == "cz" else noise.move
                p2 = table.get((names[a], names[c]), 0.0)
            if kind == "move":
                flush(a)
                flush(c)
                pos[a], pos[c] = pos[c], pos[a]
            else:
                flush(a)
                flush(c)
                if started:
                    s = _cz_signs(n, pos[a], pos[c])
                    pending_signs = s if pending_signs is None else pending_signs * s
            if p2 > 0:
                flush_signs()
                rho.depolarize_2(pos[a], pos[c], p2)
                started = True
        elif kind == "delay":
            if noise is None:
                continue
            for comp in t:
                px, py, pz = noise.idle(names[comp], float(values[0, row_of[i], 0]))
                if px + py + pz > 0:
                    flush(comp)
                    flush_signs()
                    rho.pauli_channel(pos[comp], px, py, pz)
        elif kind == "measure":
            continue  # terminal: sampled from the final distribution
        else:
            raise ValueError(f"the density-matrix engine cannot simulate {kind!r}")
    for comp in list(pending_u) + list(pending_lam):
        flush(comp)
    flush_signs()
    return rho.diagonal(), pos


def _sample(probs: np.ndarray, shots: int, rng: np.random.Generator) -> np.ndarray:
    """``shots`` outcome indices drawn from ``probs``, in random order."""
    counts = rng.multinomial(shots, probs)
    flat = np.repeat(np.arange(len(probs), dtype=np.int64), counts)
    rng.shuffle(flat)
    return flat


def run_density(
    circuits: Sequence[NativeCircuit],
    shots: int,
    rng: np.random.Generator,
    noise: NoiseModel | None,
) -> list[dict[str, np.ndarray]]:
    """Simulate circuits of one shape as density matrices and sample ``shots`` each.

    Args:
        circuits: circuits sharing one :class:`Shape` (or a single circuit) that
            :func:`density_obstacle` accepts.
        shots: shots per circuit.
        rng: random generator.
        noise: the noise model (``None``: ideal).

    Returns:
        per circuit, measurement key -> ``uint8`` array ``(shots, len(locus))``.
    """
    if not circuits:
        return []
    first = circuits[0]
    shape = first.shape
    if shape is None or any(c.shape is not shape for c in circuits):
        if len(circuits) > 1:
            raise ValueError("run_density needs circuits of one shape")
        shape, values = _shape_of(first)
        all_values = values[None]
    else:
        all_values = np.stack([c.values for c in circuits])  # type: ignore[misc]
    reason = density_obstacle(shape)
    if reason is not None:
        raise ValueError(f"circuit {first.name!r}: the density-matrix engine cannot run: {reason}")
    n = len(shape.components)
    per = max(1, _BATCH_ELEMENTS >> (2 * n))
    measures = [op for op in shape.ops if op.kind == "measure"]
    out: list[dict[str, np.ndarray]] = []
    for start in range(0, len(circuits), per):
        # delays of one shape share their durations only if the values say so: batch rows
        # with delays are simulated one by one
        chunk = all_values[start : start + per]
        has_delay = noise is not None and any(op.kind == "delay" for op in shape.ops)
        groups = [chunk[j : j + 1] for j in range(len(chunk))] if has_delay else [chunk]
        for values in groups:
            probs, pos = _simulate(shape, values, noise)
            for row in probs:
                result: dict[str, np.ndarray] = {}
                flat = _sample(row, shots, rng) if measures else None
                for op in measures:
                    assert flat is not None
                    shifts = np.array([pos[c] for c in op.targets], dtype=np.int64)
                    bits = ((flat[:, None] >> shifts) & 1).astype(np.uint8)
                    result[op.key] = apply_readout(bits, op.targets, shape.components, noise, rng)
                out.append(result)
    return out


def _shape_of(circuit: NativeCircuit) -> tuple[Shape, np.ndarray]:
    """A one-off shape of a circuit built from its ops (tests, direct calls)."""
    params = tuple(i for i, op in enumerate(circuit.ops) if op.kind in ("prx", "cc_prx", "delay"))
    template = list(circuit.ops)
    rows = []
    for i in params:
        op = circuit.ops[i]
        template[i] = Op(op.kind, op.targets, key=op.key, feedback=op.feedback)
        rows.append([op.duration, 0.0] if op.kind == "delay" else [op.angle, op.phase])
    shape = Shape(circuit.components, tuple(template), circuit.feedback_slots, circuit.keys, params)
    return shape, np.array(rows, dtype=np.float64).reshape(-1, 2)

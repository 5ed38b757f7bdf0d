"""The matrix-product-state engine: wide, weakly entangled, noise-free circuits, exactly.

The state of ``n`` components is a chain of tensors ``A[k]`` of shape ``(left, 2, right)``
kept in mixed canonical form (one orthogonality centre), so every two-site singular value
decomposition is the exact Schmidt decomposition across that cut. Only singular values that
are zero to rounding are dropped: nothing is truncated, so the results are those of the full
state vector. The cost is polynomial in the bond dimensions, which the circuit itself bounds
before anything runs (:func:`bond_bound`: a CZ across a cut at most doubles its Schmidt rank),
so the planner only sends circuits whose bound fits the memory budget; no other circuit is
ever approximated.

Shots are sampled site by site for all shots at once: with the centre on the first site, the
rest of the chain is right-orthonormal, so each shot carries one left vector and the
conditional probabilities of its next bit are two squared norms.

Supported: ``prx``, ``cz`` (any two sites; a long-range CZ is applied as its bond-2
matrix-product operator and re-compressed), ``delay`` (no effect without noise) and terminal
measurements.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from iqm_bridge.emulator._simulator import NativeCircuit, deferrable_measures, prx_matrix

__all__ = ["bond_bound", "mps_cost", "mps_obstacle", "run_mps"]

_ZERO = 1e-13
"""Singular values below this fraction of the largest are rounding noise: dropped."""

_SAMPLE_CHUNK = 1 << 16
"""Shots sampled at once (their left vectors are held together)."""


def mps_obstacle(circuit: NativeCircuit) -> str | None:
    """Why the MPS engine cannot run ``circuit``, or ``None``."""
    deferred = deferrable_measures(circuit)
    for i, op in enumerate(circuit.ops):
        if op.kind in ("reset", "cc_prx", "move"):
            return f"it has a {op.kind}"
        if op.kind == "measure" and not deferred[i]:
            return "it measures in mid-circuit"
    return None


def bond_bound(circuit: NativeCircuit) -> list[int]:
    """log2 of an upper bound of each bond dimension (cut ``k`` is after site ``k``).

    A CZ has operator Schmidt rank 2, so each CZ whose two sites lie on opposite sides of a
    cut can at most double that cut's Schmidt rank; no cut exceeds its smaller side's
    dimension either.
    """
    return _crossings(circuit, _order(circuit))


class _Chain:
    """The tensors and the orthogonality centre."""

    def __init__(self, n: int) -> None:
        zero = np.zeros((1, 2, 1), dtype=complex)
        zero[0, 0, 0] = 1.0
        self.t = [zero.copy() for _ in range(n)]
        self.centre = 0

    def _move_right(self) -> None:
        k = self.centre
        a = self.t[k]
        left, _, right = a.shape
        q, r = np.linalg.qr(a.reshape(left * 2, right))
        self.t[k] = q.reshape(left, 2, q.shape[1])
        self.t[k + 1] = np.tensordot(r, self.t[k + 1], axes=(1, 0))
        self.centre = k + 1

    def _move_left(self) -> None:
        k = self.centre
        a = self.t[k]
        left, _, right = a.shape
        q, r = np.linalg.qr(a.reshape(left, 2 * right).T)
        self.t[k] = q.T.reshape(q.shape[1], 2, right)
        self.t[k - 1] = np.tensordot(self.t[k - 1], r.T, axes=(2, 0))
        self.centre = k - 1

    def move_to(self, k: int) -> None:
        """Make site ``k`` the orthogonality centre."""
        while self.centre < k:
            self._move_right()
        while self.centre > k:
            self._move_left()

    def one(self, u: np.ndarray, k: int) -> None:
        """A single-site unitary (keeps the canonical form)."""
        self.t[k] = np.einsum("ij,ljr->lir", u, self.t[k])

    def _split(self, theta: np.ndarray, k: int, centre_right: bool) -> None:
        """Split a two-site block ``(left, 2, 2, right)`` back into sites ``k`` and ``k+1``."""
        left, _, _, right = theta.shape
        u, s, vh = np.linalg.svd(theta.reshape(left * 2, 2 * right), full_matrices=False)
        keep = max(1, int(np.count_nonzero(s > _ZERO * s[0])))
        u, s, vh = u[:, :keep], s[:keep], vh[:keep]
        if centre_right:
            self.t[k] = u.reshape(left, 2, keep)
            self.t[k + 1] = (s[:, None] * vh).reshape(keep, 2, right)
            self.centre = k + 1
        else:
            self.t[k] = (u * s).reshape(left, 2, keep)
            self.t[k + 1] = vh.reshape(keep, 2, right)
            self.centre = k

    def cz(self, a: int, b: int) -> None:
        """CZ between sites ``a < b``."""
        if b == a + 1:
            self.move_to(a)
            theta = np.tensordot(self.t[a], self.t[b], axes=(2, 0))
            theta[:, 1, 1, :] *= -1
            self._split(theta, a, centre_right=True)
            return
        # the bond-2 operator |0><0| x 1 + |1><1| x Z, threaded through the sites between
        self.move_to(a)
        first = self.t[a]
        left, _, right = first.shape
        new = np.zeros((left, 2, right, 2), dtype=complex)
        new[:, 0, :, 0] = first[:, 0, :]
        new[:, 1, :, 1] = first[:, 1, :]
        self.t[a] = new.reshape(left, 2, right * 2)
        for k in range(a + 1, b):
            self.t[k] = _thread(self.t[k])
        last = self.t[b]
        left, _, right = last.shape
        new = np.zeros((left, 2, 2, right), dtype=complex)
        new[:, 0, :, :] = last
        new[:, 1, :, :] = last * np.array([1.0, -1.0])[None, :, None]
        self.t[b] = new.reshape(left * 2, 2, right)
        # exact re-compression: orthonormalise left to right, then SVD right to left
        self.centre = a
        while self.centre < b:
            self._move_right()
        for k in range(b - 1, a - 1, -1):
            theta = np.tensordot(self.t[k], self.t[k + 1], axes=(2, 0))
            self._split(theta, k, centre_right=False)


def _thread(mid: np.ndarray) -> np.ndarray:
    """A site between a long-range CZ's ends: the operator index passes through unchanged.

    ``(left, 2, right)`` -> ``(left * 2, 2, right * 2)`` with the operator index the faster
    one beside each bond index.
    """
    left, _, right = mid.shape
    new = np.zeros((left, 2, 2, right, 2), dtype=complex)
    for m in (0, 1):
        new[:, m, :, :, m] = mid
    return new.reshape(left * 2, 2, right * 2)


def _sample(chain: _Chain, shots: int, rng: np.random.Generator) -> np.ndarray:
    """``(shots, n)`` bits drawn from the chain's state (site order)."""
    chain.move_to(0)
    n = len(chain.t)
    out = np.empty((shots, n), dtype=np.uint8)
    for start in range(0, shots, _SAMPLE_CHUNK):
        size = min(_SAMPLE_CHUNK, shots - start)
        vec = np.ones((size, 1), dtype=complex)
        for k, a in enumerate(chain.t):
            w0 = vec @ a[:, 0, :]
            w1 = vec @ a[:, 1, :]
            p0 = np.einsum("ij,ij->i", w0.conj(), w0).real
            p1 = np.einsum("ij,ij->i", w1.conj(), w1).real
            one = rng.random(size) * (p0 + p1) < p1
            out[start : start + size, k] = one
            vec = np.where(one[:, None], w1, w0)
            vec /= np.sqrt(np.where(one, p1, p0))[:, None]
    return out


def run_mps(circuit: NativeCircuit, shots: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Simulate a noise-free circuit as an exact MPS and sample ``shots``.

    Returns:
        measurement key -> ``uint8`` array of shape ``(shots, len(locus))``.

    Raises:
        ValueError: the circuit has an operation the engine does not support.
    """
    reason = mps_obstacle(circuit)
    if reason is not None:
        raise ValueError(f"circuit {circuit.name!r}: the MPS engine cannot run it: {reason}")
    n = len(circuit.components)
    order = _order(circuit)
    site = {comp: k for k, comp in enumerate(order)}
    chain = _Chain(n)
    measures = []
    for op in circuit.ops:
        if op.kind == "prx":
            chain.one(prx_matrix(op.angle, op.phase), site[op.targets[0]])
        elif op.kind == "cz":
            a, b = sorted(site[c] for c in op.targets)
            chain.cz(a, b)
        elif op.kind == "measure":
            measures.append(op)
    if not measures:
        return {}
    bits = _sample(chain, shots, rng)
    return {op.key: np.ascontiguousarray(bits[:, [site[c] for c in op.targets]]) for op in measures}


def _order(circuit: NativeCircuit) -> list[int]:
    """A site order for the chain: the better of first use and the machine's numbering.

    Machines number their qubits row by row, so the numbering is the snake through the
    lattice that keeps most couplers short; first use is better for chains built in order.
    """
    n = len(circuit.components)
    by_name = sorted(range(n), key=lambda i: _natural(circuit.components[i]))
    candidates = [list(range(n)), by_name]
    return min(candidates, key=lambda order: max(_crossings(circuit, order), default=0))


def _natural(name: str) -> tuple[str, int]:
    head = name.rstrip("0123456789")
    tail = name[len(head) :]
    return (head, int(tail) if tail else -1)


def _crossings(circuit: NativeCircuit, order: Sequence[int]) -> list[int]:
    n = len(order)
    site = {comp: k for k, comp in enumerate(order)}
    crossings = [0] * max(0, n - 1)
    for op in circuit.ops:
        if op.kind == "cz":
            a, b = sorted(site[c] for c in op.targets)
            for cut in range(a, b):
                crossings[cut] += 1
    return [min(c, k + 1, n - k - 1) for k, c in enumerate(crossings)]


def mps_cost(circuit: NativeCircuit, shots: int) -> tuple[int, float]:
    """``(peak bytes, seconds)`` of the exact MPS simulation, from the a-priori bond bound."""
    logs = _crossings(circuit, _order(circuit))
    dims = [1, *(1 << b for b in logs), 1]
    pairs = [dims[k] * dims[k + 1] for k in range(len(dims) - 1)]
    widest = max(pairs)
    # the chain, a long-range CZ's doubled bonds and one SVD's workspace
    memory = 16 * 2 * (4 * sum(pairs) + 8 * widest)
    seconds = 0.0
    for op in circuit.ops:
        if op.kind == "cz":
            span = abs(op.targets[0] - op.targets[1]) + 1
            seconds += _PER_GATE + span * _PER_FLOP * 16.0 * max(dims) ** 3
        elif op.kind == "prx":
            seconds += _PER_GATE / 5
    seconds += shots * _PER_FLOP * 16.0 * sum(pairs)
    return memory, seconds


_PER_GATE = 5e-5
_PER_FLOP = 1e-9

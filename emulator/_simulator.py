"""The native circuit model, the noise model, and the state-vector (and trajectory) engine.

:class:`NativeCircuit`, :class:`Shape` and :class:`NoiseModel` are what every engine reads
(``_engine_plan`` chooses the engine per circuit). This module's own engine is a numpy
state-vector simulator of IQM's native operations; with noise it samples Pauli errors per shot
(trajectories).

Only the components a circuit touches are simulated, so three qubits of a 54-qubit machine
cost like three qubits. The state is a batch of state vectors, one row per *branch*: a group
of shots that so far saw the same measurement outcomes and the same stochastic (Pauli) errors.
A noise-free circuit whose measurements are all terminal stays one branch, its final state is
computed once and every shot is sampled from it. Mid-circuit measurements, resets, feedback
and noise split branches only where the sampled shots actually diverge, so the work grows with
the number of distinct histories rather than with the number of shots.

Performance notes: single-qubit gates are not applied one by one; they are multiplied into a
pending 2x2 per component and applied when a two-component operation needs them. When many
are pending on a large state they are applied in blocks of up to five qubits with one matrix
product per block, rotating the qubit order so that the block is always the least significant
bits (after all blocks the order is back where it started). CZ is a sign flip on a strided
slice; MOVE (a SWAP while the resonator is empty) only relabels axes.

Batches: circuits of one :class:`Shape` (a sweep, a gradient's shifted copies) that run
without noise and measure only at the end are simulated together by :func:`run_batch`: the
shape is compiled once into fused single-qubit steps and merged CZ sign vectors, applied to
one ``(circuits, 2**n)`` state array with per-circuit 2x2 matrices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "NativeCircuit",
    "NoiseModel",
    "Op",
    "Shape",
    "TooManyQubitsError",
    "apply_readout",
    "deferrable_measures",
    "final_state",
    "prx_matrix",
    "run_batch",
    "run_circuit",
]

_BLOCK = 5
"""Largest number of qubits whose pending single-qubit gates are applied as one product."""

_PAULI_1Q = (
    np.array([[1, 0], [0, 1]], dtype=complex),
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)
_ID2 = _PAULI_1Q[0]


class TooManyQubitsError(ValueError):
    """The circuit touches more components than the simulator is allowed to hold."""


def prx_matrix(angle: float, phase: float) -> np.ndarray:
    """The PRX(θ, φ) unitary: ``[[c, -i e^{-iφ} s], [-i e^{iφ} s, c]]`` with θ/2."""
    c = math.cos(angle / 2)
    s = math.sin(angle / 2)
    return np.array(
        [[c, -1j * complex(math.cos(-phase), math.sin(-phase)) * s],
         [-1j * complex(math.cos(phase), math.sin(phase)) * s, c]],
        dtype=complex,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Op:
    """One native operation on simulated components (indices into the circuit's components).

    Attributes:
        kind: ``prx``, ``cc_prx``, ``cz``, ``move``, ``measure``, ``reset`` or ``delay``.
        targets: component indices (for ``move``: qubit, resonator).
        angle: PRX rotation angle in radians.
        phase: PRX phase in radians.
        key: measurement key (``measure``).
        feedback: for ``cc_prx``, the classical slot it reads; else ``-1``.
        duration: delay in seconds.
    """

    kind: str
    targets: tuple[int, ...]
    angle: float = 0.0
    phase: float = 0.0
    key: str = ""
    feedback: int = -1
    duration: float = 0.0


class Shape:
    """The structure of a circuit without its numbers.

    Circuits of one shape differ only in their PRX angles and phases and their delay
    durations, so a batch of them (a parameter sweep, the shifted copies of a gradient) is
    validated once and simulated together (:func:`run_batch`).

    Args:
        components: names of the simulated components.
        ops: the operations, with zero in place of every number taken from ``values``.
        feedback_slots: as in :class:`NativeCircuit`.
        keys: measurement keys in the order of their measure instructions.
        params: indices of the ops whose numbers come from a circuit's ``values`` rows
            (``prx``/``cc_prx``: angle, phase; ``delay``: duration, 0).
    """

    __slots__ = ("components", "feedback_slots", "keys", "ops", "params", "_plan")

    def __init__(
        self,
        components: tuple[str, ...],
        ops: tuple[Op, ...],
        feedback_slots: tuple[tuple[int, int], ...],
        keys: tuple[str, ...],
        params: tuple[int, ...],
    ) -> None:
        self.components = components
        self.ops = ops
        self.feedback_slots = feedback_slots
        self.keys = keys
        self.params = params
        self._plan: _Plan | None | bool = False  # False: not compiled yet

    def ops_with(self, values: np.ndarray) -> tuple[Op, ...]:
        """The operations of the circuit of this shape whose numbers are ``values``."""
        ops = list(self.ops)
        rows = values.tolist()
        for j, i in enumerate(self.params):
            op = ops[i]
            a, b = rows[j]
            if op.kind == "delay":
                ops[i] = Op("delay", op.targets, duration=a)
            else:
                ops[i] = Op(op.kind, op.targets, angle=a, phase=b, feedback=op.feedback)
        return tuple(ops)

    def plan(self) -> _Plan | None:
        """The compiled batch simulation of this shape, or ``None`` if it cannot be batched."""
        if self._plan is False:
            self._plan = _Plan.compile(self)
        return self._plan  # type: ignore[return-value]


class NativeCircuit:
    """A validated circuit, ready for simulation.

    Either ``ops`` is given, or a ``shape`` and the circuit's ``values`` (then the ops are
    built only if something asks for them: the batched simulator does not).

    Attributes:
        name: the circuit's name.
        components: names of the simulated components; ``targets`` index this tuple.
        ops: the operations in order (barriers already dropped).
        feedback_slots: for each classical slot, ``(measure op index, column in its locus)``:
            the bit that a ``cc_prx`` with that slot reads.
        keys: measurement keys in the order of their measure instructions.
        shape: the circuit's structure, shared by every circuit of the same structure.
        values: ``(len(shape.params), 2)`` float array of the numbers of the parametrised ops.
    """

    __slots__ = ("_ops", "components", "feedback_slots", "keys", "name", "shape", "values")

    def __init__(
        self,
        name: str,
        components: tuple[str, ...],
        ops: tuple[Op, ...] | None = None,
        feedback_slots: tuple[tuple[int, int], ...] = (),
        keys: tuple[str, ...] = (),
        *,
        shape: Shape | None = None,
        values: np.ndarray | None = None,
    ) -> None:
        if ops is None and (shape is None or values is None):
            raise ValueError("a NativeCircuit needs its ops, or a shape and values")
        self.name = name
        self.components = components
        self._ops = ops
        self.feedback_slots = feedback_slots
        self.keys = keys
        self.shape = shape
        self.values = values

    @classmethod
    def of_shape(cls, name: str, shape: Shape, values: np.ndarray) -> NativeCircuit:
        """The circuit called ``name`` of ``shape`` with numbers ``values``."""
        return cls(
            name, shape.components, None, shape.feedback_slots, shape.keys,
            shape=shape, values=values,
        )  # fmt: skip

    @property
    def ops(self) -> tuple[Op, ...]:
        """The operations in order (barriers already dropped)."""
        if self._ops is None:
            assert self.shape is not None and self.values is not None
            self._ops = self.shape.ops_with(self.values)
        return self._ops

    def __repr__(self) -> str:
        return f"NativeCircuit({self.name!r}, {self.components!r}, {len(self.ops)} ops)"


@dataclass(frozen=True)
class NoiseModel:
    """Per-component and per-locus error rates derived from calibration data.

    Every gate error is a Pauli channel, so every engine (stabilizer, density matrix,
    trajectories) simulates exactly the same model. Gate probabilities are the chance of a
    uniformly random non-identity Pauli after the gate, i.e. the Pauli-twirled depolarising
    channel with the served average gate fidelity: ``p = (1 - F) (d + 1) / d`` for dimension
    ``d``. Readout errors are classical and asymmetric.

    Attributes:
        prx: component name -> error probability after a (cc_)prx.
        two_qubit: (name, name) in either order -> error probability after cz.
        move: (qubit, resonator) -> error probability after move.
        readout: component name -> ``(P(read 1 | 0), P(read 0 | 1))``.
        t1: component name -> T1 in seconds (idle noise during ``delay``).
        t2: component name -> T2 in seconds.
    """

    prx: dict[str, float] = field(default_factory=dict)
    two_qubit: dict[tuple[str, str], float] = field(default_factory=dict)
    move: dict[tuple[str, str], float] = field(default_factory=dict)
    readout: dict[str, tuple[float, float]] = field(default_factory=dict)
    t1: dict[str, float] = field(default_factory=dict)
    t2: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def depolarizing_probability(fidelity: float, qubits: int) -> float:
        """Pauli error probability of the depolarising channel with average ``fidelity``."""
        d = 2**qubits
        return min(1.0, max(0.0, (1.0 - fidelity) * (d + 1) / d))

    def idle(self, name: str, duration: float) -> tuple[float, float, float]:
        """Pauli-twirled thermal relaxation (px, py, pz) of ``name`` idling ``duration`` s."""
        t1 = self.t1.get(name)
        t2 = self.t2.get(name)
        if not t1 or not t2 or duration <= 0:
            return (0.0, 0.0, 0.0)
        pxy = (1.0 - math.exp(-duration / t1)) / 4.0
        pz = max(0.0, (1.0 - math.exp(-duration / t2)) / 2.0 - pxy)
        return (pxy, pxy, pz)

    def readout_errors(self, name: str) -> tuple[float, float]:
        """``(P(1|0), P(0|1))`` of ``name``; ``(0, 0)`` if it has no readout error."""
        return self.readout.get(name, (0.0, 0.0))


def apply_readout(
    bits: np.ndarray,
    components: Sequence[int],
    names: Sequence[str],
    noise: NoiseModel | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Flip the ``(shots, len(components))`` measured ``bits`` in place as readout would.

    A 0 is read as 1 with probability ``P(1|0)`` and a 1 as 0 with ``P(0|1)`` of its
    component; one uniform number per bit, drawn one column at a time so that a million
    shots need a few megabytes, not a ``shots x width`` float array.
    """
    if noise is None:
        return bits
    for col, comp in enumerate(components):
        e01, e10 = noise.readout_errors(names[comp])
        if e01 <= 0.0 and e10 <= 0.0:
            continue
        column = bits[:, col]
        u = rng.random(len(column), dtype=np.float32)
        flip = np.where(column.astype(bool), u < e10, u < e01)
        column ^= flip.astype(np.uint8)
    return bits


def deferrable_measures(circuit: NativeCircuit | Shape) -> list[bool]:
    """Which measure ops can be sampled at the end instead of collapsing the state.

    A measure is deferrable when no later operation touches its components and no
    ``cc_prx`` reads its bits: sampling it at the end gives the same joint distribution.
    """
    n_ops = len(circuit.ops)
    out = [False] * n_ops
    touched_later: set[int] = set()
    read_later: set[int] = set()
    slot_of: dict[int, list[int]] = {}
    for slot, (op_index, _col) in enumerate(circuit.feedback_slots):
        slot_of.setdefault(op_index, []).append(slot)
    for i in range(n_ops - 1, -1, -1):
        op = circuit.ops[i]
        if op.kind == "measure":
            out[i] = not (set(op.targets) & touched_later) and not (
                set(slot_of.get(i, ())) & read_later
            )
        if op.kind == "cc_prx":
            read_later.add(op.feedback)
        touched_later.update(op.targets)
    return out


class _Branches:
    """The batch of branch states and everything that is kept per branch row."""

    def __init__(
        self,
        n: int,
        shots: int,
        n_bits: int,
        rng: np.random.Generator,
        dtype: type,
    ) -> None:
        self.n = n
        self.rng = rng
        self.psi = np.zeros((1, 1 << n), dtype=dtype)
        self.psi[0, 0] = 1.0
        self.counts = np.array([shots], dtype=np.int64)
        self.bits = np.zeros((1, n_bits), dtype=np.uint8)
        self.pos = list(range(n))  # component -> bit position in the flat index
        self.at = list(range(n))  # bit position -> component
        self.pending: dict[int, np.ndarray] = {}

    # -- structure -------------------------------------------------------------------------
    def add_rows(self, src: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Copy rows ``src`` as new branches with ``counts`` shots; return the new indices."""
        start = self.psi.shape[0]
        self.psi = np.concatenate([self.psi, self.psi[src]])
        self.counts = np.concatenate([self.counts, counts.astype(np.int64)])
        self.bits = np.concatenate([self.bits, self.bits[src]])
        return np.arange(start, start + len(src))

    def prune(self) -> None:
        """Drop branches that no shot follows any more."""
        keep = self.counts > 0
        if not keep.all():
            self.psi = self.psi[keep]
            self.counts = self.counts[keep]
            self.bits = self.bits[keep]

    # -- gates -----------------------------------------------------------------------------
    def _view(self, psi: np.ndarray, p: int) -> np.ndarray:
        return psi.reshape(psi.shape[0], 1 << (self.n - p - 1), 2, 1 << p)

    def apply_1q_now(self, u: np.ndarray, comp: int, rows: np.ndarray | None = None) -> None:
        """Apply a 2x2 to ``comp`` on all rows, or only on ``rows``."""
        psi = self.psi if rows is None else self.psi[rows]
        v = self._view(psi, self.pos[comp])
        a0 = v[:, :, 0, :].copy()
        a1 = v[:, :, 1, :]
        v[:, :, 0, :] = u[0, 0] * a0 + u[0, 1] * a1
        v[:, :, 1, :] = u[1, 0] * a0 + u[1, 1] * a1
        if rows is not None:
            self.psi[rows] = psi

    def queue_1q(self, u: np.ndarray, comp: int) -> None:
        """Remember a single-qubit gate to be applied later (fused with later ones)."""
        prev = self.pending.get(comp)
        self.pending[comp] = u if prev is None else u @ prev

    def flush(self, comps: Sequence[int] | None = None) -> None:
        """Apply pending single-qubit gates (of ``comps``, or all if many are pending)."""
        if not self.pending:
            return
        if comps is not None and not any(c in self.pending for c in comps):
            return
        n = self.n
        if n >= 10 and len(self.pending) >= max(3, n // 4):
            self._flush_rotating()
            return
        for comp, u in self.pending.items():
            self.apply_1q_now(u, comp)
        self.pending.clear()

    def _flush_rotating(self) -> None:
        n = self.n
        b = self.psi.shape[0]
        offset = 0
        psi = self.psi
        while offset < n:
            kk = min(_BLOCK, n - offset)
            mats = [self.pending.get(self.at[offset + j], _ID2) for j in range(kk)]
            u = mats[-1]
            for m in reversed(mats[:-1]):
                u = np.kron(u, m)
            u = u.astype(psi.dtype, copy=False)
            if b == 1:
                psi = np.dot(u, psi.reshape(-1, 1 << kk).T).reshape(1, -1)
            else:
                m3 = psi.reshape(b, -1, 1 << kk)
                psi = np.matmul(u, m3.transpose(0, 2, 1)).reshape(b, -1)
            offset += kk
        self.psi = psi
        self.pending.clear()

    def cz(self, a: int, c: int) -> None:
        """Controlled-Z: negate the amplitudes where both components are 1."""
        self.flush((a, c))
        lo, hi = sorted((self.pos[a], self.pos[c]))
        v = self.psi.reshape(
            self.psi.shape[0], 1 << (self.n - hi - 1), 2, 1 << (hi - lo - 1), 2, 1 << lo
        )
        v[:, :, 1, :, 1, :] *= -1

    def swap(self, a: int, c: int) -> None:
        """Exchange the states of two components by relabelling their axes."""
        pa, pc = self.pos[a], self.pos[c]
        self.pos[a], self.pos[c] = pc, pa
        self.at[pa], self.at[pc] = c, a
        ua, uc = self.pending.pop(a, None), self.pending.pop(c, None)
        if ua is not None:
            self.pending[c] = ua
        if uc is not None:
            self.pending[a] = uc

    def pauli_errors(self, comps: tuple[int, ...], probs: np.ndarray) -> None:
        """Split off branches hit by Pauli errors on ``comps``.

        Args:
            comps: the components (1 or 2).
            probs: probability of each non-identity Pauli (length ``4**len(comps) - 1``,
                in the order of ``itertools.product(I, X, Y, Z)`` minus the identity).
        """
        total = float(probs.sum())
        if total <= 0.0:
            return
        hits = self.rng.binomial(self.counts, total)
        if not hits.any():
            return
        self.flush(comps)
        rows = np.nonzero(hits)[0]
        split = self.rng.multinomial(hits[rows], probs / total)
        self.counts[rows] -= hits[rows]
        for j in range(split.shape[1]):
            chosen = split[:, j] > 0
            if not chosen.any():
                continue
            new = self.add_rows(rows[chosen], split[chosen, j])
            code = j + 1
            for comp in reversed(comps):
                pauli = code % 4
                code //= 4
                if pauli:
                    self.apply_1q_now(_PAULI_1Q[pauli], comp, new)
        self.prune()

    # -- measurement -----------------------------------------------------------------------
    def collapse(self, comp: int) -> np.ndarray:
        """Measure ``comp`` in every branch, splitting branches whose shots disagree.

        Returns:
            the outcome (0/1) per row after the split.
        """
        self.flush((comp,))
        v = self._view(self.psi, self.pos[comp])
        p1 = np.einsum("abc,abc->a", v[:, :, 1, :].conj(), v[:, :, 1, :]).real
        p0 = np.einsum("abc,abc->a", v[:, :, 0, :].conj(), v[:, :, 0, :]).real
        p1 = np.clip(p1 / np.maximum(p0 + p1, 1e-300), 0.0, 1.0)
        ones = self.rng.binomial(self.counts, p1)
        both = (ones > 0) & (ones < self.counts)
        outcome = (ones == self.counts).astype(np.uint8)
        if both.any():
            rows = np.nonzero(both)[0]
            self.counts[rows] -= ones[rows]
            self.add_rows(rows, ones[rows])
            outcome = np.concatenate([outcome, np.ones(len(rows), dtype=np.uint8)])
            p1 = np.concatenate([p1, p1[rows]])
        v = self._view(self.psi, self.pos[comp])
        is1 = outcome.astype(bool)
        norm = np.sqrt(np.where(is1, p1, 1.0 - p1))
        norm = np.where(norm > 0, norm, 1.0)
        v[is1, :, 0, :] = 0
        v[~is1, :, 1, :] = 0
        self.psi /= norm[:, None].astype(self.psi.real.dtype)
        return outcome

    def read_flips(self, outcome: np.ndarray, e01: float, e10: float) -> np.ndarray:
        """Apply asymmetric readout errors to the recorded outcomes (splitting rows).

        Args:
            outcome: the true outcome (0/1) per row.
            e01: probability that a 0 is read as 1.
            e10: probability that a 1 is read as 0.
        """
        if e01 <= 0.0 and e10 <= 0.0:
            return outcome
        flips = self.rng.binomial(self.counts, np.where(outcome.astype(bool), e10, e01))
        part = (flips > 0) & (flips < self.counts)
        recorded = outcome ^ (flips == self.counts).astype(np.uint8)
        if part.any():
            rows = np.nonzero(part)[0]
            self.counts[rows] -= flips[rows]
            self.add_rows(rows, flips[rows])
            recorded = np.concatenate([recorded, 1 - recorded[rows]])
        return recorded


def _check_size(circuit: NativeCircuit, max_qubits: int | None) -> None:
    n = len(circuit.components)
    if max_qubits is not None and n > max_qubits:
        raise TooManyQubitsError(
            f"circuit {circuit.name!r} acts on {n} qubits/resonators, but this emulator "
            f"simulates at most {max_qubits} (max_qubits); start it with a larger limit "
            f"(Emulator(max_qubits=N) or 'serve --max-qubits N') or use fewer qubits"
        )


def run_circuit(
    circuit: NativeCircuit,
    shots: int,
    rng: np.random.Generator,
    noise: NoiseModel | None = None,
    max_qubits: int | None = None,
    max_amplitudes: int = 1 << 24,
) -> dict[str, np.ndarray]:
    """Simulate ``circuit`` and return its measurement records.

    Args:
        circuit: the validated circuit.
        shots: number of shots.
        rng: random generator (seed it for reproducible results).
        noise: the noise model, or ``None`` for ideal results.
        max_qubits: largest number of components allowed (``None``: no limit).
        max_amplitudes: memory budget (amplitudes across all branches) for noisy or
            mid-circuit-measured circuits; shots are processed in chunks that fit.

    Returns:
        measurement key -> ``uint8`` array of shape ``(shots, len(locus))``.

    Raises:
        TooManyQubitsError: the circuit touches more than ``max_qubits`` components.
    """
    n = len(circuit.components)
    _check_size(circuit, max_qubits)
    deferred = deferrable_measures(circuit)
    branching = noise is not None or any(
        op.kind in ("reset", "cc_prx") or (op.kind == "measure" and not deferred[i])
        for i, op in enumerate(circuit.ops)
    )
    chunk = shots if not branching else max(1, min(shots, max_amplitudes >> n))
    parts: list[dict[str, np.ndarray]] = []
    done = 0
    while done < shots:
        size = min(chunk, shots - done)
        parts.append(_run_once(circuit, size, rng, noise, deferred))
        done += size
    if len(parts) == 1:
        return parts[0]
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _run_once(
    circuit: NativeCircuit,
    shots: int,
    rng: np.random.Generator,
    noise: NoiseModel | None,
    deferred: list[bool],
) -> dict[str, np.ndarray]:
    n = len(circuit.components)
    names = circuit.components
    dtype = np.complex128 if n < 16 else np.complex64
    # classical columns: one per bit of every mid-circuit measurement
    columns: dict[int, int] = {}
    n_bits = 0
    for i, op in enumerate(circuit.ops):
        if op.kind == "measure" and not deferred[i]:
            columns[i] = n_bits
            n_bits += len(op.targets)
    slot_column = [columns[i] + col for i, col in circuit.feedback_slots]
    br = _Branches(n, shots, n_bits, rng, dtype)
    uniform_1q = np.full(3, 1.0 / 3.0)
    uniform_2q = np.full(15, 1.0 / 15.0)
    terminal: list[tuple[str, tuple[int, ...]]] = []
    for i, op in enumerate(circuit.ops):
        kind = op.kind
        if kind == "prx":
            br.queue_1q(prx_matrix(op.angle, op.phase), op.targets[0])
            if noise is not None:
                p = noise.prx.get(names[op.targets[0]], 0.0)
                br.pauli_errors(op.targets, uniform_1q * p)
        elif kind == "cz" or kind == "move":
            a, c = op.targets
            if kind == "cz":
                br.cz(a, c)
            else:
                br.swap(a, c)
            if noise is not None:
                table = noise.two_qubit if kind == "cz" else noise.move
                p = table.get((names[a], names[c]), 0.0)
                br.pauli_errors(op.targets, uniform_2q * p)
        elif kind == "cc_prx":
            comp = op.targets[0]
            br.flush((comp,))
            rows = np.nonzero(br.bits[:, slot_column[op.feedback]])[0]
            if len(rows):
                u = prx_matrix(op.angle, op.phase)
                br.apply_1q_now(u, comp, None if len(rows) == len(br.counts) else rows)
            if noise is not None:
                p = noise.prx.get(names[comp], 0.0)
                br.pauli_errors(op.targets, uniform_1q * p)
        elif kind == "measure":
            if deferred[i]:
                terminal.append((op.key, op.targets))
                continue
            for col, comp in enumerate(op.targets):
                outcome = br.collapse(comp)
                if noise is not None:
                    outcome = br.read_flips(outcome, *noise.readout_errors(names[comp]))
                br.bits[:, columns[i] + col] = outcome
                br.prune()
        elif kind == "reset":
            for comp in op.targets:
                outcome = br.collapse(comp)
                rows = np.nonzero(outcome)[0]
                if len(rows):
                    br.apply_1q_now(_PAULI_1Q[1], comp, rows)
                br.prune()
        elif kind == "delay":
            if noise is not None:
                for comp in op.targets:
                    probs = np.array(noise.idle(names[comp], op.duration))
                    br.pauli_errors((comp,), probs)
        else:  # pragma: no cover - the parser only produces the kinds above
            raise ValueError(f"unknown operation {kind!r}")
    return _finish(br, circuit, terminal, columns, noise, shots)


def _finish(
    br: _Branches,
    circuit: NativeCircuit,
    terminal: list[tuple[str, tuple[int, ...]]],
    columns: dict[int, int],
    noise: NoiseModel | None,
    shots: int,
) -> dict[str, np.ndarray]:
    rng = br.rng
    br.prune()
    rows_of_shot = np.repeat(np.arange(len(br.counts)), br.counts)
    terminal_bits: dict[str, np.ndarray] = {}
    if terminal:
        br.flush()
        psi = br.psi
        if psi.dtype == np.complex64:
            probs = np.square(psi.real, dtype=np.float64) + np.square(psi.imag, dtype=np.float64)
        else:
            probs = psi.real**2 + psi.imag**2
        cdf = np.cumsum(probs, axis=1)
        cdf /= cdf[:, -1:]
        size = cdf.shape[1]
        u = rng.random(shots)
        if cdf.shape[0] == 1:
            flat = np.searchsorted(cdf[0], u, side="right")
        else:
            cdf += np.arange(cdf.shape[0])[:, None]
            flat = np.searchsorted(cdf.ravel(), rows_of_shot + u, side="right")
            flat -= rows_of_shot * size
        np.clip(flat, 0, size - 1, out=flat)
        for key, targets in terminal:
            out = np.empty((shots, len(targets)), dtype=np.uint8)
            for col, comp in enumerate(targets):
                out[:, col] = (flat >> br.pos[comp]) & 1
            terminal_bits[key] = apply_readout(out, targets, circuit.components, noise, rng)
    result: dict[str, np.ndarray] = {}
    shuffle = rng.permutation(shots) if len(br.counts) > 1 else None
    for i, op in enumerate(circuit.ops):
        if op.kind != "measure":
            continue
        if op.key in terminal_bits:
            arr = terminal_bits[op.key]
        else:
            start = columns[i]
            arr = br.bits[rows_of_shot, start : start + len(op.targets)]
        result[op.key] = arr if shuffle is None else arr[shuffle]
    return result


_BATCH_MAX_QUBITS = 16
"""Widest shape simulated as a stacked batch; wider circuits are dominated by the state work."""

_BATCH_AMPLITUDES = 1 << 20
"""Most amplitudes (circuits x 2**n) held at once by a batch."""

_BATCH_SAMPLES = 1 << 22
"""Most samples (circuits x shots) drawn at once by a batch."""


def _cz_signs(n: int, p: int, q: int) -> np.ndarray:
    index = np.arange(1 << n)
    return np.where((index >> p) & (index >> q) & 1, -1.0, 1.0)


class _Plan:
    """A shape compiled for batched, noise-free simulation with terminal measurements.

    Steps are ``("u", bit, param rows)``: the product of the PRX gates of those rows, applied
    to one bit position (runs of single-qubit gates are fused), and ``("diag", signs)``:
    consecutive CZs as one sign vector. MOVE only relabels bit positions.
    """

    __slots__ = ("n", "steps", "terminal")

    def __init__(
        self,
        n: int,
        steps: list[Any],
        terminal: list[tuple[str, np.ndarray]],
    ) -> None:
        self.n = n
        self.steps = steps
        self.terminal = terminal

    @classmethod
    def compile(cls, shape: Shape) -> _Plan | None:
        """The plan of ``shape``, or ``None`` if it needs the branching simulator."""
        n = len(shape.components)
        if n > _BATCH_MAX_QUBITS:
            return None
        deferred = deferrable_measures(shape)
        row_of = {op_index: j for j, op_index in enumerate(shape.params)}
        pos = list(range(n))
        pending: dict[int, list[int]] = {}
        steps: list[Any] = []
        terminal: list[tuple[str, tuple[int, ...]]] = []

        def flush(comps: Sequence[int]) -> None:
            for comp in comps:
                rows = pending.pop(comp, None)
                if rows:
                    steps.append(("u", pos[comp], tuple(rows)))

        for i, op in enumerate(shape.ops):
            kind = op.kind
            if kind == "prx":
                pending.setdefault(op.targets[0], []).append(row_of[i])
            elif kind == "cz":
                a, c = op.targets
                flush((a, c))
                if not steps:
                    continue  # on |0...0> a CZ does nothing
                signs = _cz_signs(n, pos[a], pos[c])
                if steps[-1][0] == "diag":
                    steps[-1] = ("diag", steps[-1][1] * signs)
                else:
                    steps.append(("diag", signs))
            elif kind == "move":
                a, c = op.targets
                pos[a], pos[c] = pos[c], pos[a]
                ua, uc = pending.pop(a, None), pending.pop(c, None)
                if ua is not None:
                    pending[c] = ua
                if uc is not None:
                    pending[a] = uc
            elif kind == "delay":
                continue  # idle noise only
            elif kind == "measure" and deferred[i]:
                terminal.append((op.key, op.targets))
            else:
                return None  # reset, feedback, mid-circuit measurement
        flush(list(pending))
        bits = [
            (key, np.array([pos[c] for c in targets], dtype=np.uint16)) for key, targets in terminal
        ]
        return cls(n, steps, bits)

    def run(
        self, values: np.ndarray, shots: int, rng: np.random.Generator
    ) -> list[dict[str, np.ndarray]]:
        """Simulate one circuit per row of ``values`` (``(B, params, 2)``) and sample them."""
        b = values.shape[0]
        n = self.n
        half = values[:, :, 0] * 0.5
        c = np.cos(half)
        s = np.sin(half)
        e = np.exp(1j * values[:, :, 1])
        m = np.empty((*c.shape, 2, 2), dtype=complex)
        m[..., 0, 0] = c
        m[..., 1, 1] = c
        m[..., 0, 1] = -1j * e.conj() * s
        m[..., 1, 0] = -1j * e * s
        psi = np.zeros((b, 1 << n), dtype=complex)
        psi[:, 0] = 1.0
        for step in self.steps:
            if step[0] == "u":
                _, p, rows = step
                u = m[:, rows[0]]
                for j in rows[1:]:
                    u = np.matmul(m[:, j], u)
                v = psi.reshape(b, 1 << (n - p - 1), 2, 1 << p)
                psi = np.matmul(u[:, None], v).reshape(b, -1)
            else:
                psi *= step[1]
        out: list[dict[str, np.ndarray]] = [{} for _ in range(b)]
        if not self.terminal:
            return out
        size = 1 << n
        probs = psi.real**2 + psi.imag**2
        probs /= probs.sum(axis=1, keepdims=True)
        if size <= 4 * shots:
            # few outcomes: draw how often each occurs, then put the shots in random order
            counts = rng.multinomial(shots, probs)
            outcomes = np.tile(np.arange(size, dtype=np.uint16), b)
            flat = rng.permuted(np.repeat(outcomes, counts.ravel()).reshape(b, shots), axis=1)
        else:
            # one search for all rows: row r's cdf is shifted into [2r, 2r + 1], its samples too
            cdf = np.cumsum(probs, axis=1)
            cdf /= cdf[:, -1:]
            offset = 2.0 * np.arange(b)[:, None]
            cdf += offset
            u = rng.random((b, shots))
            u += offset
            flat = np.searchsorted(cdf.ravel(), u.ravel(), side="right").reshape(b, shots)
            flat -= np.arange(0, b * size, size)[:, None]
            # a sample that rounded up to its row's end takes the row's last possible outcome
            last = size - 1 - np.argmax(probs[:, ::-1] > 0, axis=1)
            np.minimum(flat, last[:, None], out=flat)
            flat = flat.astype(np.uint16)
        for key, positions in self.terminal:
            bits = ((flat[:, :, None] >> positions) & 1).astype(np.uint8)
            for row in range(b):
                out[row][key] = bits[row]
        return out


def run_batch(
    circuits: Sequence[NativeCircuit],
    shots: int,
    rng: np.random.Generator,
    max_qubits: int | None = None,
) -> list[dict[str, np.ndarray]]:
    """Simulate noise-free circuits of one shape together, as one stacked state array.

    Args:
        circuits: circuits sharing one :class:`Shape` whose :meth:`Shape.plan` is not ``None``
            (no reset, feedback or mid-circuit measurement).
        shots: number of shots of each circuit.
        rng: random generator.
        max_qubits: largest number of components allowed.

    Returns:
        per circuit, as :func:`run_circuit`: key -> ``uint8`` array ``(shots, len(locus))``.

    Raises:
        TooManyQubitsError: the circuits touch more than ``max_qubits`` components.
        ValueError: the circuits do not share one batchable shape.
    """
    if not circuits:
        return []
    shape = circuits[0].shape
    plan = shape.plan() if shape is not None else None
    if plan is None or any(c.shape is not shape for c in circuits):
        raise ValueError("run_batch needs circuits of one batchable shape")
    _check_size(circuits[0], max_qubits)
    size = max(1, min(_BATCH_AMPLITUDES >> plan.n, _BATCH_SAMPLES // max(shots, 1)))
    out: list[dict[str, np.ndarray]] = []
    for start in range(0, len(circuits), size):
        chunk = circuits[start : start + size]
        values = np.stack([c.values for c in chunk])  # type: ignore[misc]
        out += plan.run(values, shots, rng)
    return out


def final_state(circuit: NativeCircuit) -> np.ndarray:
    """The ideal final state of a circuit without measurements, resets or feedback.

    Component 0 of ``circuit.components`` is the most significant bit of the index. Meant for
    tests against an independent reference.

    Raises:
        ValueError: the circuit measures, resets or uses feedback.
    """
    n = len(circuit.components)
    br = _Branches(n, 1, 0, np.random.default_rng(0), np.complex128)
    for op in circuit.ops:
        if op.kind == "prx":
            br.queue_1q(prx_matrix(op.angle, op.phase), op.targets[0])
        elif op.kind == "cz":
            br.cz(*op.targets)
        elif op.kind == "move":
            br.swap(*op.targets)
        elif op.kind != "delay":
            raise ValueError(f"final_state cannot simulate {op.kind!r}")
    br.flush()
    tensor = br.psi.reshape((2,) * n) if n else br.psi.reshape(())
    # axis k of the C-ordered tensor is bit position n-1-k; put component i at axis i
    axes = [n - 1 - br.pos[i] for i in range(n)]
    return np.ascontiguousarray(np.transpose(tensor, axes)).reshape(-1)

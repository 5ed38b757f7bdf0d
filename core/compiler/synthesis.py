"""Two-qubit re-synthesis: rewrite a run of gates on one qubit pair with as few CZ as possible.

Every two-qubit unitary ``U`` factors as ``(A1 x A2) . exp(i(a XX + b YY + c ZZ)) . (A3 x A4)``
(the KAK or Cartan decomposition). In the *magic basis* local gates become real orthogonal
matrices and the middle factor becomes diagonal, so the spectrum of ``M = Up^T Up`` (``Up`` is
``U`` in the magic basis) is a complete invariant of ``U`` up to local gates. It decides how
many CZ ``U`` needs (Shende, Markov and Bullock's criteria):

* 0 when ``M = +-1`` (``U`` is local; ``M = +-i`` is the class of SWAP, which needs 3);
* 1 when the spectrum of ``M`` is ``{i, i, -i, -i}`` (the class of CZ itself);
* 2 when the spectrum is closed under complex conjugation (``c = 0`` in the canonical form);
* 3 otherwise.

To synthesise, we build a reference circuit ``V`` with that many CZ and the same spectrum,
then match the two real-orthogonal eigen-decompositions of ``M_U`` and ``M_V``: that yields
the local gates ``L`` and ``R`` with ``U = L V R`` up to global phase. The result is checked
numerically; anything that does not reproduce ``U`` to 1e-8 is refused (``None``), and the
caller keeps the original gates.

:func:`resynthesize` applies this to a native circuit: it collects maximal runs of numeric
``prx`` and ``cz`` on one pair of qubits and replaces a run by its synthesis when that needs
fewer CZ. Symbolic gates end a run, so templates stay affine. Two kinds of run need less than
their unitary: on two qubits still in ``|0>`` a run only has to prepare the state it makes
(at most one CZ, :func:`prepare_state`), and right before a measurement of both qubits it
may change by a diagonal gate (at most two CZ, :func:`up_to_diagonal`).
"""

from __future__ import annotations

import cmath
import itertools
import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from iqm_bridge.core.compiler.optimize import zxz_angles
from iqm_bridge.core.ir import Barrier, Circuit, Gate, Measure, Operation, Reset
from iqm_bridge.core.parameters import Expression

__all__ = [
    "TwoQubitSynthesis",
    "cz_count",
    "prepare_state",
    "resynthesize",
    "synthesize",
    "up_to_diagonal",
]

Matrix = np.ndarray[Any, np.dtype[np.complex128]]
_Real = np.ndarray[Any, np.dtype[np.float64]]
_Mat2 = tuple[complex, complex, complex, complex]

_TOL = 1e-8
_SPECTRUM_TOL = 1e-9  # below _TOL: the count never promises fewer CZ than the check accepts
_EPS = 1e-10
_S = 1.0 / math.sqrt(2.0)
# the magic basis (columns); B^dag (P x Q) B is real orthogonal for local P x Q
_B: Matrix = (
    np.array([[1, 0, 0, 1j], [0, 1j, 1, 0], [0, 1j, -1, 0], [1, 0, 0, -1j]], dtype=np.complex128)
    * _S
)
_BD: Matrix = _B.conj().T
_PERMS = np.array(list(itertools.permutations(range(4))), dtype=np.intp)
_I2: Matrix = np.eye(2, dtype=np.complex128)
_H: Matrix = np.array([[1, 1], [1, -1]], dtype=np.complex128) * _S


@attrs.frozen(slots=True)
class TwoQubitSynthesis:
    """A two-qubit circuit of CZ gates and single-qubit layers.

    Attributes:
        layers: ``num_cz + 1`` pairs ``(on first qubit, on second qubit)`` of 2x2 unitaries;
            layer ``k`` is applied before CZ number ``k`` (the last one after the last CZ).
    """

    layers: tuple[tuple[Matrix, Matrix], ...]

    @property
    def num_cz(self) -> int:
        """Number of CZ gates."""
        return len(self.layers) - 1

    def unitary(self) -> Matrix:
        """The 4x4 unitary of the circuit (big-endian: the first qubit is the high bit)."""
        u = np.asarray(np.kron(self.layers[0][0], self.layers[0][1]), dtype=np.complex128)
        for l0, l1 in self.layers[1:]:
            u[3, :] *= -1.0
            u = np.asarray(np.kron(l0, l1), dtype=np.complex128) @ u
        return u


def _rot(axis: str, theta: float) -> Matrix:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    if axis == "x":
        return np.array([[c, -1j * s], [-1j * s, c]], dtype=np.complex128)
    if axis == "y":
        return np.array([[c, -s], [s, c]], dtype=np.complex128)
    return np.array([[c - 1j * s, 0], [0, c + 1j * s]], dtype=np.complex128)


def _to_su4(u: Matrix) -> Matrix:
    det = complex(np.linalg.det(u))
    return u / cmath.exp(1j * cmath.phase(det) / 4)


def _real_eig(m: Matrix) -> tuple[Matrix, _Real] | None:
    """``(eigenvalues, P)`` with ``P`` real orthogonal and ``P^T m P`` diagonal.

    ``m`` is symmetric and unitary, so its real and imaginary parts are commuting real
    symmetric matrices; a generic real combination of them has their common eigenvectors.
    """
    re, im = m.real, m.imag
    for r in (0.6180339887, 1.4142135624, 0.2360679775, 2.7182818285, 0.5772156649):
        _, p = np.linalg.eigh(re + r * im)
        d = p.T @ m @ p
        off = d - np.diag(np.diag(d))
        if float(np.abs(off).max()) < 1e-9:
            if np.linalg.det(p) < 0:
                p[:, 0] = -p[:, 0]
            return np.diag(d).copy(), p
    return None


def _spectrum(u: Matrix) -> tuple[Matrix, Matrix, _Real] | None:
    """``(up, eigenvalues of up^T up, P)`` for ``u`` normalised to SU(4)."""
    up: Matrix = _BD @ _to_su4(u) @ _B
    eig = _real_eig(up.T @ up)
    if eig is None:
        return None
    d, p = eig
    return up, d, p


def _count_from_spectrum(d: Matrix) -> int:
    # all eigenvalues equal: +-1 for local gates, +-i for the class of SWAP
    if float(np.abs(d - d[0]).max()) < _SPECTRUM_TOL and abs(d[0].imag) < _SPECTRUM_TOL:
        return 0
    # the class of CZ: {i, i, -i, -i} (or its negative, the same set)
    ims = np.sort(d.imag)
    if (
        float(np.abs(d.real).max()) < _SPECTRUM_TOL
        and float(np.abs(ims - np.array([-1.0, -1.0, 1.0, 1.0])).max()) < _SPECTRUM_TOL
    ):
        return 1
    # closed under conjugation <=> the characteristic polynomial is real
    coeffs = np.poly(d)
    if float(np.abs(coeffs.imag).max()) < _SPECTRUM_TOL:
        return 2
    return 3


def cz_count(u: Matrix) -> int:
    """The least number of CZ gates (with any single-qubit gates) that make the 4x4 ``u``.

    Args:
        u: a two-qubit unitary, big-endian.
    """
    spec = _spectrum(np.asarray(u, dtype=np.complex128))
    if spec is None:  # pragma: no cover - eigh always finds a basis for a unitary input
        return 3
    return _count_from_spectrum(spec[1])


def _phases(d: Matrix) -> list[float]:
    """Phases ``phi_k`` of the eigenvalues ``d_k = e^{i phi_k}`` with ``sum(phi) == 0``."""
    phi = [cmath.phase(complex(x)) for x in d]
    phi[3] -= round(sum(phi) / (2 * math.pi)) * 2 * math.pi
    return phi


def _reference(d: Matrix, k: int) -> TwoQubitSynthesis:
    """A circuit with ``k`` CZ whose invariant spectrum is ``d`` (or ``-d``)."""
    if k == 0:
        return TwoQubitSynthesis(((_I2, _I2),))
    if k == 1:
        return TwoQubitSynthesis(((_I2, _I2), (_I2, _I2)))
    if k == 2:
        # CZ (Rx(t1) x Rx(t2)) CZ = exp(-i(t1 XZ + t2 ZX)/2), the class {a, b, 0}: the
        # spectrum is {e^{+-ix1}, e^{+-ix2}} with x1 = 2(a - b), x2 = 2(a + b)
        partner = min((1, 2, 3), key=lambda j: abs(d[j] - np.conj(d[0])))
        rest = next(j for j in (1, 2, 3) if j != partner)
        x1 = cmath.phase(complex(d[0]))
        x2 = cmath.phase(complex(d[rest]))
        a, b = (x1 + x2) / 4.0, (x2 - x1) / 4.0
        return TwoQubitSynthesis(((_I2, _I2), (_rot("x", -2 * a), _rot("x", -2 * b)), (_I2, _I2)))
    phi = _phases(d)
    # CX10 (Rz(t1) x Ry(t2)) CX01 (I x Ry(t3)) CX10 is in the class
    # (t1/2 + pi/4, t2/2 + pi/4, t3/2 + pi/4); its spectrum in our magic basis is
    # e^{2i(a-b+c)}, e^{2i(a+b-c)}, e^{-2i(a+b+c)}, e^{2i(-a+b+c)}
    a = (phi[0] + phi[1]) / 4.0
    b = (phi[1] + phi[3]) / 4.0
    c = (phi[0] + phi[3]) / 4.0
    t1, t2, t3 = 2 * a - math.pi / 2, 2 * b - math.pi / 2, 2 * c - math.pi / 2
    # CX01 = (I x H) CZ (I x H), CX10 = (H x I) CZ (H x I)
    return TwoQubitSynthesis(
        (
            (_H, _I2),
            (_rot("z", t1) @ _H, _H @ _rot("y", t2)),
            (_H, _rot("y", t3) @ _H),
            (_H, _I2),
        )
    )


def _kron_factor(m: Matrix) -> tuple[Matrix, Matrix]:
    """``(a, b)`` with ``m = a x b`` up to phase, for a local 4x4 ``m``."""
    r = m.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(4, 4)
    i, j = np.unravel_index(int(np.argmax(np.abs(r))), r.shape)
    a = r[:, j].reshape(2, 2)
    b = r[i, :].reshape(2, 2) / r[i, j]
    a = a / cmath.sqrt(complex(np.linalg.det(a)))
    b = b / cmath.sqrt(complex(np.linalg.det(b)))
    return a, b


def _equal_up_to_phase(u: Matrix, v: Matrix, tol: float = _TOL) -> bool:
    overlap = complex(np.vdot(v, u))
    if abs(overlap) < 1e-12:
        return False
    phase = overlap / abs(overlap)
    return float(np.abs(u - phase * v).max()) < tol


def synthesize(u: Matrix, num_cz: int | None = None) -> TwoQubitSynthesis | None:
    """A circuit of the fewest CZ gates equal to ``u`` up to global phase.

    Args:
        u: a 4x4 unitary (big-endian: the first qubit is the high bit).
        num_cz: synthesise with at least this many CZ; default the least :func:`cz_count`.

    Returns:
        The circuit, or ``None`` when no synthesis passed the numerical check (then keep the
        original gates).
    """
    u = np.asarray(u, dtype=np.complex128)
    spec = _spectrum(u)
    if spec is None:  # pragma: no cover - see cz_count
        return None
    return _synthesize(u, spec, max(num_cz or 0, _count_from_spectrum(spec[1])), 3)


def _synthesize(
    u: Matrix, spec: tuple[Matrix, Matrix, _Real], least: int, most: int
) -> TwoQubitSynthesis | None:
    """The first of ``least .. most`` CZ counts whose synthesis reproduces ``u``.

    The spectrum test is tighter (1e-9) than the 1e-8 check, so it never promises fewer CZ
    than a synthesis that passes the check; when rounding still makes a count fail, the next
    count is tried.
    """
    for k in range(min(least, 3), min(most, 3) + 1):
        out = _synthesize_k(u, spec, k)
        if out is not None:
            return out
    return None


def _synthesize_k(
    u: Matrix, spec: tuple[Matrix, Matrix, _Real], k: int
) -> TwoQubitSynthesis | None:
    up, du, pu = spec
    ref = _reference(du, k)
    spec_v = _spectrum(ref.unitary())
    if spec_v is None:  # pragma: no cover
        return None
    vp, dv, pv = spec_v
    # match the spectra: M_V = s * M_U up to an ordering (s = -1 means V needs a factor i)
    best: tuple[float, int, np.ndarray[Any, np.dtype[np.intp]]] | None = None
    for sign in (1, -1):
        errs = np.abs(du[None, :] - sign * dv[_PERMS]).sum(axis=1)
        j = int(np.argmin(errs))
        if best is None or float(errs[j]) < best[0]:
            best = (float(errs[j]), sign, _PERMS[j])
    assert best is not None
    _, sign, perm = best
    if sign < 0:
        vp = vp * 1j
    pv = pv[:, perm]
    root = np.sqrt(du)
    ku = ((up @ pu) / root[None, :]).real
    kv = ((vp @ pv) / root[None, :]).real
    right = pv @ pu.T
    if np.linalg.det(right) < 0:
        pu = pu.copy()
        pu[:, 0] = -pu[:, 0]
        ku[:, 0] = -ku[:, 0]
        right = pv @ pu.T
    left = ku @ kv.T
    a1, a2 = _kron_factor(_B @ left @ _BD)
    a3, a4 = _kron_factor(_B @ right @ _BD)
    layers = list(ref.layers)
    first0, first1 = layers[0]
    last0, last1 = layers[-1]
    if len(layers) == 1:
        layers[0] = (a1 @ first0 @ a3, a2 @ first1 @ a4)
    else:
        layers[0] = (first0 @ a3, first1 @ a4)
        layers[-1] = (a1 @ last0, a2 @ last1)
    out = TwoQubitSynthesis(tuple(layers))
    if not _equal_up_to_phase(u, out.unitary()):
        return None
    return out


# ---------------------------------------------------------------------------------------------
# the circuit pass


def _prx_mat(theta: float, phi: float) -> _Mat2:
    c = math.cos(theta / 2)
    s = math.sin(theta / 2)
    return (c, -1j * cmath.exp(-1j * phi) * s, -1j * cmath.exp(1j * phi) * s, c)


def _mul(x: _Mat2, y: _Mat2) -> _Mat2:
    a, b, c, d = x
    e, f, g, h = y
    return (a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h)


_ID: _Mat2 = (1 + 0j, 0j, 0j, 1 + 0j)


def _kron(x: _Mat2, y: _Mat2) -> Matrix:
    a, b, c, d = x
    e, f, g, h = y
    return np.array(
        [
            [a * e, a * f, b * e, b * f],
            [a * g, a * h, b * g, b * h],
            [c * e, c * f, d * e, d * f],
            [c * g, c * h, d * g, d * h],
        ],
        dtype=np.complex128,
    )


class _Block:
    """A run of numeric ``prx`` and ``cz`` on the pair ``(a, b)``.

    Single-qubit gates are multiplied up as they come (cheap tuples); the 4x4 unitary is only
    built, on demand, for runs with enough CZ to be worth it.
    """

    __slots__ = ("a", "b", "fresh", "indices", "layers", "ma", "mb")

    def __init__(self, a: str, b: str) -> None:
        self.a = a
        self.b = b
        # both qubits held |0> when the run began
        self.fresh = False
        self.indices: list[int] = []
        self.ma: _Mat2 = _ID
        self.mb: _Mat2 = _ID
        # the local layers between the CZ gates so far
        self.layers: list[tuple[_Mat2, _Mat2]] = []

    @property
    def ncz(self) -> int:
        return len(self.layers)

    def local(self, i: int, q: str, m: _Mat2) -> None:
        self.indices.append(i)
        if q == self.a:
            self.ma = _mul(m, self.ma)
        else:
            self.mb = _mul(m, self.mb)

    def cz(self, i: int) -> None:
        self.indices.append(i)
        self.layers.append((self.ma, self.mb))
        self.ma = self.mb = _ID

    def unitary(self) -> Matrix:
        u: Matrix | None = None
        for ma, mb in (*self.layers, (self.ma, self.mb)):
            k = _kron(ma, mb)
            if u is None:
                u = k
            else:
                u[3, :] *= -1.0
                u = k @ u
        assert u is not None
        return u


def _local_natives(q: str, m: Matrix) -> list[Gate]:
    """Natives for the 2x2 unitary ``m``: ``RZ(a) RX(t) RZ(b) = RZ(a + b) prx(t, -b)``."""
    a, t, b = zxz_angles((m[0, 0], m[0, 1], m[1, 0], m[1, 1]))
    out: list[Gate] = []
    if abs(t) > _EPS:
        out.append(Gate("prx", (q,), (t, -b)))
    z = math.remainder(a + b, 2 * math.pi)
    if abs(z) > _EPS:
        # -RZ(z) = prx(pi, z/2) . prx(pi, 0): fusion turns it into a free frame change
        out.append(Gate("prx", (q,), (math.pi, 0.0)))
        out.append(Gate("prx", (q,), (math.pi, z / 2)))
    return out


def _natives(syn: TwoQubitSynthesis, a: str, b: str) -> list[Gate]:
    out: list[Gate] = []
    for k, (l0, l1) in enumerate(syn.layers):
        if k:
            out.append(Gate("cz", (a, b)))
        out.extend(_local_natives(a, l0))
        out.extend(_local_natives(b, l1))
    return out


def _numeric_prx(op: Operation) -> bool:
    return (
        isinstance(op, Gate)
        and op.name == "prx"
        and not isinstance(op.params[0], Expression)
        and not isinstance(op.params[1], Expression)
    )


def prepare_state(psi: Matrix) -> TwoQubitSynthesis | None:
    """A circuit of at most one CZ that turns ``|00>`` into the two-qubit state ``psi``.

    The Schmidt decomposition ``psi = (A x B)(s0|00> + s1|11>)`` needs one CZ when both
    Schmidt coefficients are non-zero (``Ry`` then a CNOT made of a CZ between Hadamards) and
    none for a product state.

    Args:
        psi: a normalised 4-vector (big-endian: the first qubit is the high bit).

    Returns:
        The circuit, or ``None`` if it did not reproduce ``psi`` to 1e-8.
    """
    psi = np.asarray(psi, dtype=np.complex128)
    u, sv, vh = np.linalg.svd(psi.reshape(2, 2))
    b = vh.T.astype(np.complex128)
    if sv[1] < _EPS:
        out = TwoQubitSynthesis(((u.astype(np.complex128), b),))
    else:
        theta = math.atan2(float(sv[1]), float(sv[0]))
        out = TwoQubitSynthesis(((_rot("y", 2 * theta), _H), (u.astype(np.complex128), b @ _H)))
    got = out.unitary()[:, 0]
    overlap = complex(np.vdot(got, psi))
    if abs(abs(overlap) - 1.0) > _TOL:
        return None
    return out


# Z x Z on the computational basis, and in the magic basis (+1 on the Phi states, -1 on the
# Psi states): the same diagonal
_ZZ_MAGIC = np.array([1.0, -1.0, -1.0, 1.0])


def _zz_phase(theta: float) -> Matrix:
    """``exp(i theta Z x Z)`` (diagonal, big-endian)."""
    return np.diag(np.exp(1j * theta * _ZZ_MAGIC)).astype(np.complex128)


def up_to_diagonal(u: Matrix) -> tuple[Matrix, int]:
    """``(D u, cz)``: a diagonal ``D`` chosen so that ``D u`` needs the fewest CZ, and that count.

    Before a measurement of both qubits a diagonal gate changes nothing, so ``D u`` may stand
    in for ``u``; two CZ always suffice (Shende, Markov and Bullock). Only ``exp(i t ZZ)``
    matters (single-qubit Z rotations change no invariant). In the magic basis it is the
    diagonal ``e^{i t z}`` with ``z = (1, -1, -1, 1)``, so with ``W = Up Up^T`` the invariants
    are ``tr M(t) = sum_k d_k W_kk`` and ``tr M(t)^2 = d^T (W o W^T) d`` for ``d = e^{2itz}``:
    ``D u`` needs at most two CZ when ``tr M`` is real (a closed form in ``t``), one when
    ``tr M = 0`` and ``tr M^2 = -4``, none when ``|tr M| = 4``; the angles where ``tr M`` is
    real, at its extremes or zero have closed forms too (and a grid of multiples of pi/8
    backs them up).
    """
    u = np.asarray(u, dtype=np.complex128)
    up: Matrix = _BD @ _to_su4(u) @ _B
    w = up @ up.T
    wd = np.diag(w)
    ww = w * w.T
    alpha = complex(wd[0] + wd[3])
    beta = complex(wd[1] + wd[2])
    a = alpha.real - beta.real
    c = alpha.imag + beta.imag
    thetas = [k * math.pi / 8 for k in range(8)]
    if abs(a) > _EPS or abs(c) > _EPS:
        t0 = 0.5 * math.atan2(-c, a)
        thetas += [t0, t0 + math.pi / 2]
    # where tr M is real for every t (a diagonal u, say), Re tr M = A cos 2t + B sin 2t:
    # |tr M| = 4 (no CZ) can only be at its extremes, tr M = 0 (one CZ) at its zeros
    big_a = alpha.real + beta.real
    big_b = beta.imag - alpha.imag
    if abs(big_a) > _EPS or abs(big_b) > _EPS:
        t1 = 0.5 * math.atan2(big_b, big_a)
        t2 = 0.5 * math.atan2(-big_a, big_b)
        thetas += [t1, t1 + math.pi / 2, t2, t2 + math.pi / 2]
    d = np.exp(2j * np.outer(thetas, _ZZ_MAGIC))
    tr1 = d @ wd
    tr2 = np.einsum("tk,kl,tl->t", d, ww, d)
    counts = np.full(len(thetas), 3)
    counts[np.abs(tr1.imag) < _SPECTRUM_TOL] = 2
    counts[(np.abs(tr1) < _SPECTRUM_TOL) & (np.abs(tr2 + 4.0) < _SPECTRUM_TOL)] = 1
    counts[np.abs(np.abs(tr1) - 4.0) < _SPECTRUM_TOL] = 0
    k = int(np.argmin(counts))
    du = _zz_phase(thetas[k]) @ u
    return du, cz_count(du)


def resynthesize(
    circuit: Circuit, min_cz: int = 2, *, zero_start: bool = True, measured_ends: bool = True
) -> tuple[Circuit, int]:
    """Replace each maximal run of gates on one qubit pair by a synthesis with fewer CZ.

    A run holds numeric ``prx`` and ``cz`` gates on two qubits with nothing else touching them
    in between (a symbolic gate, a measurement, a ``move``, a barrier... ends the run). The
    single-qubit gates right before the run's first CZ belong to it. Runs with fewer than
    ``min_cz`` CZ are left alone, except at the two ends of a qubit's life:

    * a run on two qubits that still hold ``|0>`` (nothing but its own gates since the start
      or a reset) only has to prepare the state it makes: at most one CZ
      (:func:`prepare_state`);
    * a run after which both qubits are measured (barriers aside) may change by a diagonal
      gate at its end, which no measurement sees: at most two CZ (:func:`up_to_diagonal`).

    Args:
        circuit: a native circuit (``prx``, ``cz``, ``move`` and non-gate operations).
        min_cz: the least CZ count of a run worth examining.
        zero_start: qubits hold ``|0>`` at the start (true on the hardware; ``False`` keeps
            every run's unitary, not only the state it makes).
        measured_ends: use the freedom of runs right before measurements.

    Returns:
        ``(circuit, saved)``: the rewritten circuit (its single-qubit gates are not fused;
        run the fusion pass afterwards) and the number of CZ saved.
    """
    ops = circuit.operations
    run: dict[str, list[tuple[int, _Mat2]]] = {}
    open_: dict[str, _Block] = {}
    done: list[_Block] = []
    # qubits that something other than single-qubit gates has acted on since the start (or
    # since their last reset)
    touched: set[str] = set()

    def close(q: str) -> None:
        blk = open_.pop(q, None)
        if blk is None:
            return
        other = blk.b if q == blk.a else blk.a
        open_.pop(other, None)
        if blk.ncz >= 1:
            done.append(blk)

    for i, op in enumerate(ops):
        if isinstance(op, Gate) and op.name == "prx" and _numeric_prx(op):
            (q,) = op.qubits
            m = _prx_mat(float(op.params[0]), float(op.params[1]))
            blk = open_.get(q)
            if blk is not None:
                blk.local(i, q, m)
            else:
                run.setdefault(q, []).append((i, m))
            continue
        if isinstance(op, Gate) and op.name == "cz":
            a, b = op.qubits
            blk = open_.get(a)
            if blk is None or blk is not open_.get(b):
                close(a)
                close(b)
                blk = _Block(a, b)
                blk.fresh = zero_start and a not in touched and b not in touched
                touched.update((a, b))
                for q in (a, b):
                    for j, m in run.pop(q, ()):
                        blk.local(j, q, m)
                open_[a] = open_[b] = blk
            blk.cz(i)
            continue
        for q in op.qubits:
            close(q)
            run.pop(q, None)
        if isinstance(op, Reset):
            touched.difference_update(op.qubits)
        else:
            touched.update(op.qubits)
    for q in list(open_):
        close(q)
    # per (operation, qubit): the next operation on that qubit other than a barrier
    following: dict[tuple[int, str], int] = {}
    upcoming: dict[str, int] = {}
    for i in range(len(ops) - 1, -1, -1):
        op = ops[i]
        for q in op.qubits:
            following[(i, q)] = upcoming.get(q, -1)
        if not isinstance(op, Barrier):
            for q in op.qubits:
                upcoming[q] = i

    def measured_after(blk: _Block) -> bool:
        for q in (blk.a, blk.b):
            last = max(i for i in blk.indices if q in ops[i].qubits)
            nxt = following.get((last, q), -1)
            if nxt < 0 or not isinstance(ops[nxt], Measure):
                return False
        return True

    replace: dict[int, list[Gate]] = {}
    drop: set[int] = set()
    saved = 0
    for blk in done:
        end = measured_ends and measured_after(blk)
        if not (blk.fresh or end) and blk.ncz < min_cz:
            continue
        syn = _cheaper(blk, end)
        if syn is None or syn.num_cz >= blk.ncz:
            continue
        idx = sorted(blk.indices)
        drop.update(idx)
        replace[idx[-1]] = _natives(syn, blk.a, blk.b)
        saved += blk.ncz - syn.num_cz
    if not saved:
        return circuit, 0
    out: list[Operation] = []
    for i, op in enumerate(ops):
        if i in drop:
            new = replace.get(i)
            if new is not None:
                out.extend(new)
            continue
        out.append(op)
    return circuit.with_operations(out), saved


def _cheaper(blk: _Block, measured: bool) -> TwoQubitSynthesis | None:
    """A synthesis of ``blk`` with fewer CZ, if one exists (see :func:`resynthesize`)."""
    u = blk.unitary()
    if blk.fresh:
        prep = prepare_state(u[:, 0])
        if prep is not None and prep.num_cz < blk.ncz:
            return prep
    if measured:
        du, need = up_to_diagonal(u)
        if need < blk.ncz:
            spec = _spectrum(du)
            if spec is not None:
                return _synthesize(du, spec, need, blk.ncz - 1)
        return None
    if blk.ncz < 2:
        return None
    if blk.ncz <= 3:
        # tr(M) rules out most runs cheaply: it is real for at most 2 CZ, and 0 (1 CZ) or
        # +-4 (no CZ) for at most 1 (a run of more than 3 CZ always shrinks)
        up = _BD @ _to_su4(u) @ _B
        tr = complex(np.sum(up * up))
        if abs(tr.imag) > _SPECTRUM_TOL:
            return None
        if blk.ncz == 2 and _SPECTRUM_TOL < abs(tr) < 4.0 - _SPECTRUM_TOL:
            return None
    spec = _spectrum(u)
    if spec is None:  # pragma: no cover
        return None
    need = _count_from_spectrum(spec[1])
    if need >= blk.ncz:
        return None
    return _synthesize(u, spec, need, blk.ncz - 1)


def block_unitary(gates: Sequence[Gate], a: str, b: str) -> Matrix:
    """The 4x4 unitary of numeric natives on qubits ``(a, b)`` (``a`` is the high bit)."""
    blk = _Block(a, b)
    for i, g in enumerate(gates):
        if g.name == "cz":
            blk.cz(i)
        else:
            blk.local(i, g.qubits[0], _prx_mat(float(g.params[0]), float(g.params[1])))
    return blk.unitary()

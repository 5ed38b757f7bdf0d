"""Single-qubit fusion with virtual-Z tracking, and cancellation of inverse pairs.

:func:`fuse` rewrites a native circuit so that every run of single-qubit gates becomes at
most one ``prx``, and Z rotations become *frame changes* that cost nothing:

* Each qubit carries a pending operator ``M . RZ(f)``: a numeric 2x2 matrix ``M`` (gates not
  yet emitted) after a frame ``RZ(f)``. ``f`` may be symbolic; everything done with it is
  affine, so templates stay affine.
* ``RZ(f)`` commutes with ``cz`` and with a Z measurement, so the frame simply carries on;
  a ``prx(theta, phi)`` pulled through the frame becomes ``prx(theta, phi - f)``.
* Before a two-qubit gate, a measurement, a barrier, a delay or a conditional gate, ``M`` is
  written out as one ``prx`` (its Euler angles ``RZ(a) RX(t) RZ(b)``) and its Z parts join
  the frame. A ``move`` swaps the frames of the qubit and the resonator.
* A reset discards everything pending on its qubit (local gates before a reset cannot change
  any outcome), and frames at the very end of the circuit are dropped: they change no
  measured distribution. :func:`fuse` returns them so tests can re-apply them.
* ``cz cz`` and ``move move`` on the same components with nothing in between cancel.

Symbolic ``prx`` gates are emitted as they are (fusing two of them is not affine), except
that a pair ``prx(pi, a) prx(pi, b)`` (how ``rz`` lowers) is exactly ``RZ(2(b - a))`` and
joins the frame.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Sequence

from iqm_bridge.core.ir import (
    Barrier,
    Circuit,
    Conditional,
    Delay,
    Gate,
    Measure,
    Operation,
    Reset,
    relabel,
)
from iqm_bridge.core.parameters import Expression, ParamValue

__all__ = ["cancel_and_fuse", "elide_swaps", "fuse", "zxz_angles"]

_TWO_PI = 2.0 * math.pi
_EPS = 1e-10
_Mat = tuple[complex, complex, complex, complex]


def _prx_mat(theta: float, phi: float) -> _Mat:
    c = math.cos(theta / 2)
    s = math.sin(theta / 2)
    return (c, -1j * cmath.exp(-1j * phi) * s, -1j * cmath.exp(1j * phi) * s, c)


def _rz_mat(alpha: float) -> _Mat:
    return (cmath.exp(-0.5j * alpha), 0j, 0j, cmath.exp(0.5j * alpha))


def _mul(x: _Mat, y: _Mat) -> _Mat:
    a, b, c, d = x
    e, f, g, h = y
    return (a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h)


def _wrap(angle: float) -> float:
    """``angle`` in ``(-pi, pi]``."""
    out = math.remainder(angle, _TWO_PI)
    return math.pi if out == -math.pi else out


def zxz_angles(m: Sequence[complex]) -> tuple[float, float, float]:
    """Angles ``(a, t, b)`` with ``m = e^{ig} RZ(a) RX(t) RZ(b)`` and ``0 <= t <= pi``.

    Args:
        m: a 2x2 unitary as ``(m00, m01, m10, m11)``.
    """
    m00, m01, m10, m11 = m
    det = m00 * m11 - m01 * m10
    root = cmath.sqrt(det)
    m00 /= root
    m10 /= root
    r0, r1 = abs(m00), abs(m10)
    t = 2.0 * math.atan2(r1, r0)
    total = -2.0 * cmath.phase(m00) if r0 > _EPS else 0.0
    diff = 2.0 * cmath.phase(m10) + math.pi if r1 > _EPS else 0.0
    return (total + diff) / 2.0, t, (total - diff) / 2.0


def _is_diag(m: _Mat) -> bool:
    return abs(m[1]) < _EPS and abs(m[2]) < _EPS


def _num(x: ParamValue) -> bool:
    return not isinstance(x, Expression)


def _add(x: ParamValue, y: ParamValue) -> ParamValue:
    if isinstance(x, Expression) or isinstance(y, Expression):
        return x + y
    return _wrap(x + y)


def _phase_minus(phi: ParamValue, f: ParamValue) -> ParamValue:
    if isinstance(phi, Expression) or isinstance(f, Expression):
        return phi - f
    return _wrap(phi - f)


def _is_pi(x: ParamValue) -> bool:
    return not isinstance(x, Expression) and abs(abs(_wrap(x)) - math.pi) < 1e-12


def fuse(circuit: Circuit) -> tuple[Circuit, dict[str, ParamValue]]:
    """Fuse single-qubit gates, track Z rotations as frames, cancel inverse pairs.

    Args:
        circuit: a native circuit (``prx``, ``cz``, ``move``, measurements, resets, barriers,
            delays, conditional ``prx``); parameters may be symbolic.

    Returns:
        ``(circuit, frames)``: the optimised circuit, equal to the input up to global phase
        once ``RZ(frames[q])`` is applied to each listed qubit at the end; those final Z
        rotations change no measurement outcome and are dropped.
    """
    ops = circuit.operations
    # next operation index on each qubit, to pair up symbolic pi pulses
    next_on: list[dict[str, int]] = [{} for _ in ops]
    upcoming: dict[str, int] = {}
    for i in range(len(ops) - 1, -1, -1):
        op = ops[i]
        next_on[i] = {q: upcoming.get(q, -1) for q in op.qubits}
        for q in op.qubits:
            upcoming[q] = i

    pend: dict[str, _Mat] = {}
    frame: dict[str, ParamValue] = {}
    out: list[Operation | None] = []
    history: dict[str, list[int]] = {}
    skip: set[int] = set()

    def push(op: Operation) -> None:
        k = len(out)
        out.append(op)
        for q in op.qubits:
            history.setdefault(q, []).append(k)

    def flush(q: str) -> None:
        m = pend.pop(q, None)
        if m is None:
            return
        f = frame.get(q, 0.0)
        a, t, b = zxz_angles(m)
        if t > _EPS:
            push(Gate("prx", (q,), (t, _phase_minus(-b, f))))
        frame[q] = _add(f, a + b)

    def rz(q: str, alpha: ParamValue) -> None:
        m = pend.get(q)
        if m is not None and not _is_diag(m):
            if isinstance(alpha, Expression):
                flush(q)
            else:
                pend[q] = _mul(_rz_mat(alpha), m)
                return
        frame[q] = _add(frame.get(q, 0.0), alpha)

    def cancel_pair(op: Gate) -> bool:
        a, b = op.qubits
        ha, hb = history.get(a), history.get(b)
        if not ha or not hb or ha[-1] != hb[-1]:
            return False
        prev = out[ha[-1]]
        if not isinstance(prev, Gate) or prev.name != op.name:
            return False
        same = prev.qubits == op.qubits or (op.name == "cz" and prev.qubits == (b, a))
        if not same:
            return False
        out[ha[-1]] = None
        ha.pop()
        hb.pop()
        return True

    for i, op in enumerate(ops):
        if i in skip:
            continue
        if isinstance(op, Gate):
            if op.name == "prx":
                (q,) = op.qubits
                theta, phi = op.params
                if _num(theta) and _num(phi):
                    m = _prx_mat(float(theta), float(phi))
                    old = pend.get(q)
                    pend[q] = m if old is None else _mul(m, old)
                    continue
                j = next_on[i][q]
                if _is_pi(theta) and j >= 0:
                    nxt = ops[j]
                    if isinstance(nxt, Gate) and nxt.name == "prx" and _is_pi(nxt.params[0]):
                        # prx(pi, b) prx(pi, a) = -RZ(2(b - a)): a pure frame change
                        rz(q, (nxt.params[1] - phi) * 2.0)
                        skip.add(j)
                        continue
                flush(q)
                push(Gate("prx", (q,), (theta, _phase_minus(phi, frame.get(q, 0.0)))))
            elif op.name in ("cz", "move"):
                for q in op.qubits:
                    flush(q)
                if not cancel_pair(op):
                    push(op)
                if op.name == "move":
                    a, b = op.qubits
                    fa, fb = frame.get(a, 0.0), frame.get(b, 0.0)
                    frame[a], frame[b] = fb, fa
            else:
                raise ValueError(
                    f"fuse() needs a native circuit; got gate {op.name!r} on {op.qubits}; "
                    "lower it first"
                )
        elif isinstance(op, Conditional):
            (q,) = op.gate.qubits
            flush(q)
            theta, phi = op.gate.params
            push(op.with_gate(Gate("prx", (q,), (theta, _phase_minus(phi, frame.get(q, 0.0))))))
        elif isinstance(op, Reset):
            for q in op.qubits:
                pend.pop(q, None)
                frame.pop(q, None)
            push(op)
        elif isinstance(op, Measure | Barrier | Delay):
            for q in op.qubits:
                flush(q)
            push(op)
        else:  # pragma: no cover - Operation is a closed union
            push(op)
    for q in list(pend):
        flush(q)
    frames = {q: f for q, f in frame.items() if isinstance(f, Expression) or abs(_wrap(f)) > 1e-12}
    result = circuit.with_operations(op for op in out if op is not None)
    return result, frames


def cancel_and_fuse(circuit: Circuit, max_rounds: int = 3) -> tuple[Circuit, dict[str, ParamValue]]:
    """Run :func:`fuse` until the circuit stops shrinking (a cancelled pair can expose more).

    Returns:
        The optimised circuit and the accumulated dropped final frames (see :func:`fuse`).
    """
    frames: dict[str, ParamValue] = {}
    current = circuit
    for _ in range(max_rounds):
        fused, dropped = fuse(current)
        for q, f in dropped.items():
            frames[q] = _add(frames.get(q, 0.0), f)
        shrunk = len(fused) < len(current)
        current = fused
        if not shrunk:
            break
    return current, frames


def elide_swaps(circuit: Circuit) -> tuple[Circuit, dict[str, str]]:
    """Remove ``swap`` gates by relabelling the qubits of everything after them.

    A SWAP only exchanges which wire carries which state, so instead of executing it the
    compiler follows the states: later operations on ``a`` act on the wire that now holds
    ``a``. The caller must report the permutation as part of the final layout.

    Returns:
        ``(circuit, where)``: the SWAP-free circuit and, for each qubit of the input, the wire
        that holds its state at the end.
    """
    if not any(isinstance(op, Gate) and op.name == "swap" for op in circuit.operations):
        return circuit, {q: q for q in circuit.qubits}
    where = {q: q for q in circuit.qubits}
    ops: list[Operation] = []
    for op in circuit.operations:
        if isinstance(op, Gate) and op.name == "swap":
            a, b = op.qubits
            where[a], where[b] = where[b], where[a]
            continue
        ops.append(relabel(op, where))
    return circuit.with_operations(ops), where

"""The gate vocabulary: one table with each gate's arity, unitary and lowering.

Unitaries are numpy matrices in big-endian order: the gate's first qubit is the most significant
bit of the basis index. Lowerings are sequences in *circuit order* (first applied first) of other
vocabulary gates; repeated lowering ends in the IQM natives ``prx`` and ``cz``. Lowerings use
only affine arithmetic on the parameters, so symbolic angles stay symbolic.

Native ``prx(angle, phase) = RZ(phase) RX(angle) RZ(-phase)``, angles in radians, as in
iqm-client 36.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np

from iqm_bridge.core.errors import UnsupportedOperationError
from iqm_bridge.core.parameters import ParamValue

__all__ = ["GATES", "NATIVE_GATES", "GateDef", "checked_gate_def", "gate_def", "gate_unitary"]

PI = math.pi
_Step = tuple[str, tuple[int, ...], tuple[ParamValue, ...]]
Matrix = np.ndarray[Any, np.dtype[np.complex128]]

NATIVE_GATES = frozenset({"prx", "cz", "move"})
"""Vocabulary gates the server executes directly (besides measure, reset, barrier, delay)."""


@attrs.frozen(slots=True)
class GateDef:
    """One row of the gate table.

    Attributes:
        name: canonical name.
        num_qubits: arity.
        num_params: number of angle parameters.
        matrix: parameters -> unitary (big-endian).
        lowering: parameters -> steps ``(name, qubit positions, params)`` in circuit order;
            ``None`` for natives.
        aliases: other names accepted for this gate.
    """

    name: str
    num_qubits: int
    num_params: int
    matrix: Callable[..., Matrix]
    lowering: Callable[..., list[_Step]] | None
    aliases: tuple[str, ...] = ()

    @property
    def is_native(self) -> bool:
        """Whether the server executes this gate directly."""
        return self.lowering is None


def _m(rows: Sequence[Sequence[complex]]) -> Matrix:
    return np.array(rows, dtype=np.complex128)


def _prx(theta: float, phi: float) -> Matrix:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return _m([[c, -1j * np.exp(-1j * phi) * s], [-1j * np.exp(1j * phi) * s, c]])


def _rz(theta: float) -> Matrix:
    return _m([[np.exp(-0.5j * theta), 0], [0, np.exp(0.5j * theta)]])


def _phase(lam: float) -> Matrix:
    return _m([[1, 0], [0, np.exp(1j * lam)]])


def _u(theta: float, phi: float, lam: float) -> Matrix:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return _m([[c, -np.exp(1j * lam) * s], [np.exp(1j * phi) * s, np.exp(1j * (phi + lam)) * c]])


def _controlled(u: Matrix) -> Matrix:
    out = np.eye(2 * u.shape[0], dtype=np.complex128)
    out[u.shape[0] :, u.shape[0] :] = u
    return out


_I2 = np.eye(2, dtype=np.complex128)
_X = _m([[0, 1], [1, 0]])
_Y = _m([[0, -1j], [1j, 0]])
_Z = _m([[1, 0], [0, -1]])
_H = _m([[1, 1], [1, -1]]) / math.sqrt(2)
_SX = _m([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]) / 2
_SWAP = _m([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
_ISWAP = _m([[1, 0, 0, 0], [0, 0, 1j, 0], [0, 1j, 0, 0], [0, 0, 0, 1]])
_CCX = np.eye(8, dtype=np.complex128)
_CCX[6:, 6:] = _X
_CCZ = np.diag([1, 1, 1, 1, 1, 1, 1, -1]).astype(np.complex128)


def _const(mat: Matrix) -> Callable[..., Matrix]:
    def matrix() -> Matrix:
        return mat

    return matrix


def _steps(*steps: _Step) -> Callable[..., list[_Step]]:
    def lower() -> list[_Step]:
        return list(steps)

    return lower


def _rz_lowering(theta: ParamValue) -> list[_Step]:
    # prx(pi, theta/2) . prx(pi, 0) = -RZ(theta): two physical pulses, exact up to phase
    return [("prx", (0,), (PI, 0.0)), ("prx", (0,), (PI, theta * 0.5))]


def _u_lowering(theta: ParamValue, phi: ParamValue, lam: ParamValue) -> list[_Step]:
    # U = RZ(phi) RY(theta) RZ(lam) = prx(theta, phi + pi/2) RZ(phi + lam)
    return [("rz", (0,), (phi + lam,)), ("prx", (0,), (theta, phi + PI / 2))]


def _cp_lowering(lam: ParamValue) -> list[_Step]:
    return [
        ("p", (0,), (lam * 0.5,)),
        ("cx", (0, 1), ()),
        ("p", (1,), (lam * -0.5,)),
        ("cx", (0, 1), ()),
        ("p", (1,), (lam * 0.5,)),
    ]


def _crz_lowering(theta: ParamValue) -> list[_Step]:
    return [
        ("rz", (1,), (theta * 0.5,)),
        ("cx", (0, 1), ()),
        ("rz", (1,), (theta * -0.5,)),
        ("cx", (0, 1), ()),
    ]


def _crx_lowering(theta: ParamValue) -> list[_Step]:
    return [("h", (1,), ()), ("crz", (0, 1), (theta,)), ("h", (1,), ())]


def _cry_lowering(theta: ParamValue) -> list[_Step]:
    return [
        ("ry", (1,), (theta * 0.5,)),
        ("cx", (0, 1), ()),
        ("ry", (1,), (theta * -0.5,)),
        ("cx", (0, 1), ()),
    ]


def _rzz_lowering(theta: ParamValue) -> list[_Step]:
    return [("cx", (0, 1), ()), ("rz", (1,), (theta,)), ("cx", (0, 1), ())]


def _rxx_lowering(theta: ParamValue) -> list[_Step]:
    return [
        ("h", (0,), ()),
        ("h", (1,), ()),
        ("rzz", (0, 1), (theta,)),
        ("h", (0,), ()),
        ("h", (1,), ()),
    ]


def _ryy_lowering(theta: ParamValue) -> list[_Step]:
    return [
        ("rx", (0,), (PI / 2,)),
        ("rx", (1,), (PI / 2,)),
        ("rzz", (0, 1), (theta,)),
        ("rx", (0,), (-PI / 2,)),
        ("rx", (1,), (-PI / 2,)),
    ]


def _rot(pauli: np.ndarray[Any, Any], theta: float) -> Matrix:
    dim = pauli.shape[0]
    return math.cos(theta / 2) * np.eye(dim, dtype=np.complex128) - 1j * math.sin(theta / 2) * pauli


_TABLE: list[GateDef] = [
    GateDef("id", 1, 0, _const(_I2), _steps(), ("i",)),
    GateDef("prx", 1, 2, _prx, None, ("r",)),
    GateDef("cz", 2, 0, _const(np.diag([1, 1, 1, -1]).astype(np.complex128)), None),
    # MOVE swaps a qubit's state with a computational resonator known to be in |0>.
    GateDef("move", 2, 0, _const(_SWAP), None),
    GateDef("x", 1, 0, _const(_X), _steps(("prx", (0,), (PI, 0.0)))),
    GateDef("y", 1, 0, _const(_Y), _steps(("prx", (0,), (PI, PI / 2)))),
    GateDef("z", 1, 0, _const(_Z), _steps(("rz", (0,), (PI,)))),
    GateDef(
        "h", 1, 0, _const(_H), _steps(("prx", (0,), (PI / 2, PI / 2)), ("prx", (0,), (PI, 0.0)))
    ),
    GateDef("s", 1, 0, _const(_phase(PI / 2)), _steps(("rz", (0,), (PI / 2,)))),
    GateDef("sdg", 1, 0, _const(_phase(-PI / 2)), _steps(("rz", (0,), (-PI / 2,)))),
    GateDef("t", 1, 0, _const(_phase(PI / 4)), _steps(("rz", (0,), (PI / 4,)))),
    GateDef("tdg", 1, 0, _const(_phase(-PI / 4)), _steps(("rz", (0,), (-PI / 4,)))),
    GateDef("sx", 1, 0, _const(_SX), _steps(("prx", (0,), (PI / 2, 0.0)))),
    GateDef("sxdg", 1, 0, _const(_SX.conj().T), _steps(("prx", (0,), (-PI / 2, 0.0)))),
    GateDef("rx", 1, 1, lambda t: _rot(_X, t), lambda t: [("prx", (0,), (t, 0.0))]),
    GateDef("ry", 1, 1, lambda t: _rot(_Y, t), lambda t: [("prx", (0,), (t, PI / 2))]),
    GateDef("rz", 1, 1, _rz, _rz_lowering),
    GateDef("p", 1, 1, _phase, lambda lam: [("rz", (0,), (lam,))], ("phase", "u1")),
    GateDef("u", 1, 3, _u, _u_lowering, ("u3",)),
    GateDef(
        "cx",
        2,
        0,
        _const(_controlled(_X)),
        _steps(("h", (1,), ()), ("cz", (0, 1), ()), ("h", (1,), ())),
        ("cnot",),
    ),
    GateDef(
        "cy",
        2,
        0,
        _const(_controlled(_Y)),
        _steps(("sdg", (1,), ()), ("cx", (0, 1), ()), ("s", (1,), ())),
    ),
    GateDef("cp", 2, 1, lambda lam: _controlled(_phase(lam)), _cp_lowering, ("cphase", "cu1")),
    GateDef("crz", 2, 1, lambda t: _controlled(_rz(t)), _crz_lowering),
    GateDef("crx", 2, 1, lambda t: _controlled(_rot(_X, t)), _crx_lowering),
    GateDef("cry", 2, 1, lambda t: _controlled(_rot(_Y, t)), _cry_lowering),
    GateDef("rzz", 2, 1, lambda t: _rot(np.kron(_Z, _Z), t), _rzz_lowering),
    GateDef("rxx", 2, 1, lambda t: _rot(np.kron(_X, _X), t), _rxx_lowering),
    GateDef("ryy", 2, 1, lambda t: _rot(np.kron(_Y, _Y), t), _ryy_lowering),
    GateDef(
        "swap",
        2,
        0,
        _const(_SWAP),
        _steps(("cx", (0, 1), ()), ("cx", (1, 0), ()), ("cx", (0, 1), ())),
    ),
    GateDef(
        "iswap",
        2,
        0,
        _const(_ISWAP),
        _steps(
            ("s", (0,), ()),
            ("s", (1,), ()),
            ("h", (0,), ()),
            ("cx", (0, 1), ()),
            ("cx", (1, 0), ()),
            ("h", (1,), ()),
        ),
    ),
    GateDef(
        "ccx",
        3,
        0,
        _const(_CCX),
        _steps(
            ("h", (2,), ()),
            ("cx", (1, 2), ()),
            ("tdg", (2,), ()),
            ("cx", (0, 2), ()),
            ("t", (2,), ()),
            ("cx", (1, 2), ()),
            ("tdg", (2,), ()),
            ("cx", (0, 2), ()),
            ("t", (1,), ()),
            ("t", (2,), ()),
            ("h", (2,), ()),
            ("cx", (0, 1), ()),
            ("t", (0,), ()),
            ("tdg", (1,), ()),
            ("cx", (0, 1), ()),
        ),
        ("toffoli", "ccnot"),
    ),
    GateDef(
        "ccz",
        3,
        0,
        _const(_CCZ),
        _steps(("h", (2,), ()), ("ccx", (0, 1, 2), ()), ("h", (2,), ())),
    ),
]

GATES: dict[str, GateDef] = {}
for _g in _TABLE:
    GATES[_g.name] = _g
    for _alias in _g.aliases:
        GATES[_alias] = _g


def gate_def(name: str) -> GateDef:
    """Look up a gate by name or alias.

    Raises:
        UnsupportedOperationError: the name is not in the vocabulary.
    """
    try:
        return GATES[name]
    except KeyError:
        known = ", ".join(sorted(g.name for g in _TABLE))
        raise UnsupportedOperationError(
            f"gate {name!r} is not in the iqm-bridge vocabulary; supported gates: {known}"
        ) from None


def checked_gate_def(name: str, qubits: Sequence[str], num_params: int) -> GateDef:
    """Look up a gate and check that it is given the right number of qubits and parameters.

    Raises:
        UnsupportedOperationError: unknown name, wrong arity, a repeated qubit, or the wrong
            number of parameters (the message names the gate and its qubits).
    """
    gd = gate_def(name)
    if len(qubits) != gd.num_qubits:
        raise UnsupportedOperationError(
            f"gate {name!r} acts on {gd.num_qubits} qubit(s) but was given "
            f"{len(qubits)}: {tuple(qubits)}"
        )
    if len(set(qubits)) != len(qubits):
        raise UnsupportedOperationError(
            f"gate {name!r} is given the same qubit twice: {tuple(qubits)}"
        )
    if num_params != gd.num_params:
        raise UnsupportedOperationError(
            f"gate {name!r} on {tuple(qubits)} takes {gd.num_params} parameter(s) but was "
            f"given {num_params}"
        )
    return gd


def gate_unitary(name: str, params: Sequence[float] = ()) -> Matrix:
    """The unitary of a vocabulary gate for numeric parameters (big-endian qubit order)."""
    return gate_def(name).matrix(*[float(p) for p in params])

"""Cirq circuits to the neutral IR, and native IR circuits back to cirq.

Cirq exponents are in half turns: ``XPowGate(t)`` is ``RX(pi*t)`` up to a global phase, which
sampling never sees. Sympy parameters stay symbolic as affine core expressions (``2*theta +
0.5``, ``theta/pi``), so a swept circuit is compiled once and bound per point.

Each cirq measurement key becomes one result register of the key's width; a key measured again
(same width) writes the next *repetition* of that register, which comes back as cirq
``records``.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import cirq
import numpy as np
import sympy

from iqm_bridge.adapters.cirq._gates import IQMMoveGate
from iqm_bridge.core.errors import (
    CircuitValidationError,
    DuplicateMeasurementKeyError,
    QubitNotOnDeviceError,
    UnsupportedOperationError,
    UnwrittenMeasurementKeyError,
)
from iqm_bridge.core.ir import Barrier, Circuit, Conditional, Delay, Gate, Measure, Operation, Reset
from iqm_bridge.core.keys import KeyMap, Register
from iqm_bridge.core.parameters import Expression, ParamValue

__all__ = ["Converted", "NonAffineParameterError", "from_native", "is_device_name", "to_ir"]

PI = math.pi
_DEVICE_NAME = re.compile(r"^(QB|CR|COMP_R)\d+$")

_SUPPORTED = (
    "XPowGate",
    "YPowGate",
    "ZPowGate",
    "HPowGate",
    "Rx",
    "Ry",
    "Rz",
    "PhasedXPowGate",
    "PhasedXZGate",
    "MatrixGate",
    "CZPowGate",
    "CXPowGate",
    "SwapPowGate",
    "ISwapPowGate",
    "CCXPowGate",
    "CCZPowGate",
    "MeasurementGate",
    "ResetChannel",
    "IdentityGate",
    "WaitGate",
    "IQMMoveGate",
)


class NonAffineParameterError(UnsupportedOperationError):
    """A sympy expression is not affine in its symbols, so it cannot stay symbolic.

    The sampler then resolves such circuits per sweep point instead of compiling once.
    """


def is_device_name(qubit: cirq.Qid) -> bool:
    """Whether ``qubit`` is a named qubit (``NamedQubit``, or a ``NamedQid`` of dimension 2
    as the official device has them) named like an IQM component (``QB3``)."""
    return isinstance(qubit, cirq.NamedQubit | cirq.NamedQid) and bool(
        _DEVICE_NAME.match(qubit.name)
    )


@attrs.frozen(slots=True, eq=False)
class Converted:
    """A cirq circuit in the IR, with what is needed to read its results back.

    Attributes:
        circuit: the IR circuit; measurement keys are :class:`KeyMap` keys.
        qubits: IR qubit name -> the user's cirq qubit.
        registers: ``(cirq key, width)`` per result register, in first-measurement order.
        invert_masks: per register, a ``repetitions x width`` bool array of bits to flip.
        native_keys: native key -> ``(cirq key, repetition, invert mask of that measurement)``.
    """

    circuit: Circuit
    qubits: Mapping[str, cirq.Qid]
    registers: tuple[tuple[str, int], ...]
    invert_masks: tuple[np.ndarray[Any, np.dtype[np.bool_]], ...]
    native_keys: Mapping[str, tuple[str, int, tuple[bool, ...]]]

    @property
    def keymap(self) -> KeyMap:
        """The key map that reads the circuit's results into one register per cirq key."""
        return KeyMap.from_keys(self.circuit.measurement_keys).with_registers(
            [Register(key, width) for key, width in self.registers]
        )

    @property
    def device_bound(self) -> bool:
        """Whether every qubit is a NamedQubit with an IQM component name."""
        return bool(self.qubits) and all(is_device_name(q) for q in self.qubits.values())


# parameters ---------------------------------------------------------------------------------
def _affine(value: Any, scale: float, op: cirq.Operation) -> ParamValue:
    """``scale * value`` as a float or an affine :class:`Expression`."""
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value) * scale
    if isinstance(value, sympy.Basic):
        if not value.free_symbols:
            return float(value) * scale
        parts = _affine_parts(value)
        if parts is None:
            raise NonAffineParameterError(
                f"parameter {value} of {op!r} is not affine in its symbols; iqm-bridge keeps "
                "only c0 + c1*a + c2*b forms symbolic (resolve it first)"
            )
        terms, const = parts
        return Expression([(n, c * scale) for n, c in terms], const * scale)
    try:
        return float(value) * scale
    except (TypeError, ValueError):
        raise UnsupportedOperationError(
            f"parameter {value!r} of {op!r} is neither a number nor a sympy expression"
        ) from None


@functools.lru_cache(maxsize=4096)
def _affine_parts(expr: sympy.Basic) -> tuple[tuple[tuple[str, float], ...], float] | None:
    """``(((symbol, coefficient), ...), constant)`` of an affine sympy expression, else None."""
    for candidate in (expr, sympy.expand(expr)):
        terms: list[tuple[str, float]] = []
        const = 0.0
        ok = True
        for base, coef in candidate.as_coefficients_dict().items():
            if coef.free_symbols:
                ok = False
                break
            # split numeric factors such as 1/pi off the symbol: t/pi -> (1/pi, t)
            factor, rest = base.as_independent(*base.free_symbols, as_Add=False)
            if rest == 1:
                const += float(factor * coef)
            elif isinstance(rest, sympy.Symbol) and not factor.free_symbols:
                terms.append((str(rest), float(factor * coef)))
            else:
                ok = False
                break
        if ok:
            return tuple(terms), const
    return None


def _numeric(value: Any) -> float | None:
    if isinstance(value, sympy.Basic):
        return None if value.free_symbols else float(value)
    return float(value)


def _is_odd_integer(value: Any) -> bool:
    v = _numeric(value)
    return v is not None and abs((v - 1.0) / 2.0 - round((v - 1.0) / 2.0)) < 1e-12


def _nearest(op: cirq.Operation) -> str:
    gate = op.gate
    name = type(gate).__name__ if gate is not None else type(op).__name__
    close = difflib.get_close_matches(name, _SUPPORTED, n=1, cutoff=0.6)
    if close:
        return f"cirq.{close[0]}"
    if not cirq.has_unitary(op) and (cirq.has_mixture(op) or cirq.has_kraus(op)):
        return "none for noise channels: drop them (the hardware brings its own noise)"
    n = len(op.qubits)
    return {1: "cirq.MatrixGate", 2: "cirq.CZPowGate", 3: "cirq.CCXPowGate"}.get(
        n, "decompose it into one- and two-qubit gates"
    )


def _unsupported(op: cirq.Operation, why: str = "") -> UnsupportedOperationError:
    gate = op.gate
    name = type(gate).__name__ if gate is not None else type(op).__name__
    reason = f": {why}" if why else ""
    return UnsupportedOperationError(
        f"cirq gate {name} ({op!r}) is not supported by iqm-bridge{reason}; nearest supported: "
        f"{_nearest(op)}"
    )


# cirq -> IR -------------------------------------------------------------------------------
class _ToIR:
    def __init__(self, circuit: cirq.AbstractCircuit, qubit_order: Sequence[cirq.Qid]) -> None:
        self.names: dict[cirq.Qid, str] = {}
        seen: dict[str, cirq.Qid] = {}
        for q in qubit_order:
            if q.dimension != 2:
                raise UnsupportedOperationError(
                    f"qid {q!r} has dimension {q.dimension}; IQM hardware runs qubits only"
                )
            name = q.name if isinstance(q, cirq.NamedQubit | cirq.NamedQid) else str(q)
            if name in seen and seen[name] != q:
                raise CircuitValidationError(
                    f"qubits {seen[name]!r} and {q!r} have the same name {name!r}; rename one"
                )
            seen[name] = q
            self.names[q] = name
        self.ops: list[Operation] = []
        # cirq key -> [width, native keys per repetition, invert masks per repetition]
        self.regs: dict[str, tuple[int, list[str], list[tuple[bool, ...]]]] = {}
        self.circuit = circuit

    def qubits(self, op: cirq.Operation) -> tuple[str, ...]:
        return tuple(self.names[q] for q in op.qubits)

    def run(self) -> None:
        for op in self.circuit.all_operations():
            self.op(op)

    def op(self, op: cirq.Operation) -> None:
        if isinstance(op, cirq.TaggedOperation):
            op = op.untagged
        if isinstance(op, cirq.ClassicallyControlledOperation):
            self.conditional(op)
            return
        if isinstance(op, cirq.CircuitOperation):
            # cirq's own flattening: repetitions, qubit and key maps, repetition ids applied
            try:
                body = op.mapped_circuit(deep=True)
            except ValueError as exc:  # repeat_until or symbolic repetitions
                raise UnsupportedOperationError(
                    f"cirq CircuitOperation ({op!r}) cannot run on IQM hardware: {exc}; give it "
                    "a fixed number of repetitions"
                ) from None
            for inner in body.all_operations():
                self.op(inner)
            return
        gate = op.gate
        if isinstance(gate, cirq.MeasurementGate):
            self.measure(op, gate)
        elif isinstance(gate, cirq.ResetChannel):
            self.ops.append(Reset(self.qubits(op)))
        elif isinstance(gate, cirq.WaitGate):
            nanos = _numeric(gate.duration.total_nanos())
            if nanos is None:
                raise _unsupported(op, "a symbolic wait duration")
            self.ops.append(Delay(self.qubits(op), nanos * 1e-9))
        elif isinstance(gate, cirq.GlobalPhaseGate) or not op.qubits:
            return
        else:
            self.ops.extend(self.gates(op))

    def measure(self, op: cirq.Operation, gate: cirq.MeasurementGate) -> None:
        if gate.confusion_map:
            raise _unsupported(op, "measurements with a confusion_map")
        key = str(gate.mkey)
        width = len(op.qubits)
        mask = tuple(bool(b) for b in gate.full_invert_mask())
        reg = self.regs.get(key)
        if reg is None:
            reg = (width, [], [])
            self.regs[key] = reg
        elif reg[0] != width:
            raise DuplicateMeasurementKeyError(
                f"measurement key {key!r} is measured on {width} qubit(s) {list(op.qubits)} but "
                f"on {reg[0]} qubit(s) earlier; a cirq key may repeat only with the same number "
                "of qubits (its records); use another key"
            )
        index = list(self.regs).index(key)
        native = KeyMap.encode(Register(key, width), index, 0, len(reg[1]))
        reg[1].append(native)
        reg[2].append(mask)
        self.ops.append(Measure(self.qubits(op), native))

    def conditional(self, op: cirq.ClassicallyControlledOperation) -> None:
        conditions = list(op.classical_controls)
        if len(conditions) != 1 or not isinstance(conditions[0], cirq.KeyCondition):
            raise _unsupported(
                op,
                f"condition(s) {conditions}: IQM hardware conditions a gate on one measured bit "
                "only; use op.with_classical_controls('<key of a one-qubit measurement>')",
            )
        cond = conditions[0]
        key = str(cond.key)
        reg = self.regs.get(key)
        if reg is None:
            raise UnwrittenMeasurementKeyError(
                f"{op!r} is conditioned on measurement key {key!r}, which no earlier "
                f"measurement writes; measure into {key!r} before the conditional gate"
            )
        width, natives, masks = reg
        if width != 1:
            raise _unsupported(
                op,
                f"it is conditioned on key {key!r} of {width} qubits; IQM hardware conditions on "
                "a single measured bit, so condition on a one-qubit measurement",
            )
        try:
            native, mask = natives[cond.index], masks[cond.index]
        except IndexError:
            raise UnwrittenMeasurementKeyError(
                f"{op!r} reads repetition {cond.index} of key {key!r}, which is measured only "
                f"{len(natives)} time(s) before it"
            ) from None
        if mask[0]:
            raise _unsupported(
                op,
                f"it is conditioned on key {key!r}, measured with an invert_mask; IQM hardware "
                "conditions on the raw bit, so measure without invert_mask",
            )
        inner = op.without_classical_controls()
        if len(inner.qubits) != 1:
            raise _unsupported(op, "IQM hardware can condition only single-qubit gates (cc_prx)")
        self.ops.extend(Conditional(g, native, 0) for g in self.gates(inner))

    def gates(self, op: cirq.Operation) -> list[Gate]:  # noqa: C901 - one flat dispatch table
        gate = op.gate
        qs = self.qubits(op)
        if isinstance(gate, IQMMoveGate):
            return [Gate("move", qs)]
        if isinstance(gate, cirq.IdentityGate):
            return []
        if isinstance(gate, cirq.PhasedXZGate):
            angles = (_affine(gate.x_exponent, PI, op), _affine(gate.axis_phase_exponent, PI, op))
            z = _affine(gate.z_exponent, PI, op)
            return [Gate("prx", qs, angles)] + ([Gate("rz", qs, (z,))] if z != 0.0 else [])
        if isinstance(gate, cirq.PhasedXPowGate):
            return [
                Gate(
                    "prx",
                    qs,
                    (_affine(gate.exponent, PI, op), _affine(gate.phase_exponent, PI, op)),
                )
            ]
        if isinstance(gate, cirq.XPowGate | cirq.YPowGate):
            # X**t and Y**t are prx(pi*t, 0 or pi/2) up to a global phase: native as written
            phase = 0.0 if isinstance(gate, cirq.XPowGate) else PI / 2
            return [Gate("prx", qs, (_affine(gate.exponent, PI, op), phase))]
        if isinstance(gate, cirq.ZPowGate):
            return [Gate("rz", qs, (_affine(gate.exponent, PI, op),))]
        if isinstance(gate, cirq.HPowGate) and _is_odd_integer(gate.exponent):
            return [Gate("h", qs)]
        if isinstance(gate, cirq.CZPowGate):
            if _is_odd_integer(gate.exponent):
                return [Gate("cz", qs)]
            return [Gate("cp", qs, (_affine(gate.exponent, PI, op),))]
        if isinstance(gate, cirq.CXPowGate):
            if _is_odd_integer(gate.exponent):
                return [Gate("cx", qs)]
            t = qs[1:]
            return [
                Gate("h", t),
                Gate("cp", qs, (_affine(gate.exponent, PI, op),)),
                Gate("h", t),
            ]
        if isinstance(gate, cirq.SwapPowGate) and _is_odd_integer(gate.exponent):
            return [Gate("swap", qs)]
        if isinstance(gate, cirq.ISwapPowGate):
            if _is_odd_integer(gate.exponent) and round(_numeric(gate.exponent) or 0) % 4 == 1:
                return [Gate("iswap", qs)]
            # ISWAP**t = exp(i*pi*t/4 (XX + YY)) = RXX(-pi*t/2) RYY(-pi*t/2); XX and YY commute
            angle = _affine(gate.exponent, -PI / 2, op)
            return [Gate("rxx", qs, (angle,)), Gate("ryy", qs, (angle,))]
        if isinstance(gate, cirq.CCXPowGate) and _is_odd_integer(gate.exponent):
            return [Gate("ccx", qs)]
        if isinstance(gate, cirq.CCZPowGate) and _is_odd_integer(gate.exponent):
            return [Gate("ccz", qs)]
        if len(op.qubits) == 1 and not cirq.is_parameterized(op) and cirq.has_unitary(op):
            # MatrixGate and any other fixed one-qubit unitary: ZYZ angles
            z0, y, z1 = cirq.deconstruct_single_qubit_matrix_into_angles(cirq.unitary(op))
            return [Gate("rz", qs, (z0,)), Gate("ry", qs, (y,)), Gate("rz", qs, (z1,))]
        # anything else: cirq's own decomposition into gates we know, if it has one
        if cirq.is_measurement(op) or not (cirq.has_unitary(op) or cirq.is_parameterized(op)):
            raise _unsupported(op)
        parts = cirq.decompose_once(op, default=None)
        if parts is None:
            raise _unsupported(op, "it has no decomposition into supported gates")
        out: list[Gate] = []
        for part in parts:
            if isinstance(part, cirq.TaggedOperation):
                part = part.untagged
            if cirq.is_measurement(part) or isinstance(part, cirq.ClassicallyControlledOperation):
                raise _unsupported(op, "its decomposition measures")
            if not part.qubits:
                continue
            try:
                out.extend(self.gates(part))
            except UnsupportedOperationError as exc:
                if isinstance(exc, NonAffineParameterError):
                    raise
                raise _unsupported(
                    op, f"its decomposition uses an unsupported gate ({exc})"
                ) from None
        return out


def to_ir(circuit: cirq.AbstractCircuit, name: str = "cirq") -> Converted:
    """Translate a cirq circuit to the IR.

    Args:
        circuit: the cirq circuit; sympy parameters may be left unresolved.
        name: the IR circuit's name.

    Returns:
        The IR circuit (all qubits in cirq's sorted order) and its result plan.

    Raises:
        UnsupportedOperationError: a gate with no translation (the message names the nearest
            supported one); ``NonAffineParameterError`` for a non-affine sympy parameter.
        DuplicateMeasurementKeyError: a key repeated with a different number of qubits.
        UnwrittenMeasurementKeyError: a condition on a key not measured before it.
    """
    conv = _ToIR(circuit, sorted(circuit.all_qubits()))
    conv.run()
    registers = tuple((key, reg[0]) for key, reg in conv.regs.items())
    masks = tuple(
        np.array(reg[2], dtype=bool).reshape(len(reg[2]), reg[0]) for reg in conv.regs.values()
    )
    native_keys = {
        native: (key, rep, reg[2][rep])
        for key, reg in conv.regs.items()
        for rep, native in enumerate(reg[1])
    }
    ir = Circuit(tuple(conv.names.values()), conv.ops, name=name)
    return Converted(ir, {v: k for k, v in conv.names.items()}, registers, masks, native_keys)


def check_on_device(converted: Converted, components: Iterable[str], device_name: str) -> bool:
    """Whether the circuit is bound to device qubits (all qubits IQM-named and present).

    Returns:
        True when every qubit is a device component (run it on those qubits), False when none
        is IQM-named (place it freely).

    Raises:
        QubitNotOnDeviceError: an IQM-named qubit the device does not have.
        CircuitValidationError: IQM-named and other qubits mixed in one circuit.
    """
    have = set(components)
    named = [q for q in converted.qubits.values() if is_device_name(q)]
    if not named:
        return False
    missing = [q.name for q in named if q.name not in have]
    if missing:
        qubits = sorted(c for c in have if c.startswith("QB"))
        raise QubitNotOnDeviceError(
            f"qubit(s) {missing} are not on {device_name} (its qubits: "
            f"{', '.join(sorted(qubits, key=lambda s: (len(s), s)))}); use its qubits or "
            "logical qubits such as cirq.LineQubit"
        )
    others = [repr(q) for q in converted.qubits.values() if not is_device_name(q)]
    if others:
        raise CircuitValidationError(
            f"the circuit mixes device qubits {[q.name for q in named]} with other qubits "
            f"{others}; use only device qubits (cirq.NamedQubit('QB1'), ...) or only logical ones"
        )
    return True


# IR -> cirq -------------------------------------------------------------------------------
def _to_sympy(value: ParamValue, scale: float) -> Any:
    if isinstance(value, Expression):
        expr: Any = sympy.Float(value.constant * scale)
        for name, coef in value.terms:
            expr = expr + coef * scale * sympy.Symbol(name)
        return expr
    return float(value) * scale


def from_native(
    circuit: Circuit,
    qubits: Mapping[str, cirq.Qid],
    native_keys: Mapping[str, tuple[str, int, tuple[bool, ...]]],
) -> cirq.Circuit:
    """A native IR circuit as a cirq circuit of ``PhasedXPowGate``, ``CZ``, ``IQMMoveGate``.

    Args:
        circuit: a circuit of ``prx``/``cz``/``move`` natives, measurements, resets, delays.
        qubits: IR qubit name -> cirq qubit (names not listed become ``cirq.NamedQubit``).
        native_keys: native measurement key -> ``(cirq key, repetition, invert mask)``.

    Raises:
        UnsupportedOperationError: an operation that is not native.
    """

    def qid(name: str) -> cirq.Qid:
        q = qubits.get(name)
        return q if q is not None else cirq.NamedQubit(name)

    out: list[cirq.Operation] = []
    seen_reps: dict[str, int] = {}
    for op in circuit.operations:
        if isinstance(op, Conditional):
            g = op.gate
            key, rep, _ = native_keys.get(op.key, (op.key, 0, ()))
            index = -1 if seen_reps.get(key, 0) == rep + 1 else rep
            base = _prx_op(g, qid)
            out.append(
                base.with_classical_controls(
                    cirq.KeyCondition(cirq.MeasurementKey(key), index=index)
                )
            )
        elif isinstance(op, Gate):
            if op.name == "prx":
                out.append(_prx_op(op, qid))
            elif op.name == "cz":
                out.append(cirq.CZ(*map(qid, op.qubits)))
            elif op.name == "move":
                out.append(IQMMoveGate().on(*map(qid, op.qubits)))
            else:
                raise UnsupportedOperationError(
                    f"gate {op.name!r} on {op.qubits} is not an IQM native (prx, cz, move)"
                )
        elif isinstance(op, Measure):
            key, rep, mask = native_keys.get(op.key, (op.key, 0, ()))
            seen_reps[key] = rep + 1
            out.append(cirq.measure(*map(qid, op.qubits), key=key, invert_mask=mask))
        elif isinstance(op, Reset):
            out.extend(cirq.ResetChannel().on(qid(q)) for q in op.qubits)
        elif isinstance(op, Delay):
            out.append(
                cirq.WaitGate(cirq.Duration(nanos=op.duration * 1e9), num_qubits=len(op.qubits)).on(
                    *map(qid, op.qubits)
                )
            )
        elif isinstance(op, Barrier):
            continue
    return cirq.Circuit(out)


def _prx_op(gate: Gate, qid: Any) -> cirq.Operation:
    if gate.name != "prx":
        raise UnsupportedOperationError(
            f"gate {gate.name!r} on {gate.qubits} is not an IQM native (prx, cz, move)"
        )
    angle, phase = gate.params
    return cirq.PhasedXPowGate(
        exponent=_to_sympy(angle, 1 / PI), phase_exponent=_to_sympy(phase, 1 / PI)
    ).on(qid(gate.qubits[0]))

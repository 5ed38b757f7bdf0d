"""Validation passes: catch every circuit the server would refuse, with a message that helps.

:func:`validate` checks a circuit on its own (known gates, arity, finite and bound parameters,
measurement keys written once and before they are read). :func:`validate_native` also checks a
native circuit against a :class:`~iqm_bridge.core.device.Device` (components exist, natives are
calibrated on each locus).
"""

from __future__ import annotations

import math

from iqm_bridge.core.device import Device
from iqm_bridge.core.errors import (
    DuplicateMeasurementKeyError,
    LocusNotSupportedError,
    NonFiniteParameterError,
    QubitNotOnDeviceError,
    UnboundParameterError,
    UnsupportedOperationError,
    UnwrittenMeasurementKeyError,
)
from iqm_bridge.core.gates import GATES, checked_gate_def
from iqm_bridge.core.ir import Barrier, Circuit, Conditional, Delay, Gate, Measure, Reset
from iqm_bridge.core.parameters import Expression

__all__ = ["validate", "validate_native"]


def _check_gate(gate: Gate, require_bound: bool) -> None:
    if gate.name not in GATES:
        known = ", ".join(sorted({g.name for g in GATES.values()}))
        raise UnsupportedOperationError(
            f"gate {gate.name!r} on {gate.qubits} is not in the iqm-bridge vocabulary; "
            f"supported gates: {known}"
        )
    checked_gate_def(gate.name, gate.qubits, len(gate.params))
    for p in gate.params:
        if isinstance(p, Expression):
            if require_bound:
                raise UnboundParameterError(
                    f"gate {gate.name!r} on {gate.qubits} has unbound parameter(s) "
                    f"{sorted(p.parameters)}; bind values with circuit.bind({{...}})"
                )
            coefs = [c for _, c in p.terms] + [p.constant]
            if not all(math.isfinite(c) for c in coefs):
                raise NonFiniteParameterError(
                    f"gate {gate.name!r} on {gate.qubits} has a non-finite angle {p!r}"
                )
        elif not math.isfinite(p):
            raise NonFiniteParameterError(
                f"gate {gate.name!r} on {gate.qubits} has angle {p}; angles must be finite "
                "numbers in radians"
            )


def validate(circuit: Circuit, *, require_bound: bool = False) -> None:
    """Check a circuit on its own, before any device is involved.

    Args:
        circuit: the circuit.
        require_bound: also refuse symbolic parameters (needed before submission).

    Raises:
        UnsupportedOperationError: unknown gate, wrong arity or parameter count.
        NonFiniteParameterError: NaN or infinite angle or duration.
        UnboundParameterError: symbolic parameter left while ``require_bound``.
        DuplicateMeasurementKeyError: two measurements with one key.
        UnwrittenMeasurementKeyError: a condition reads a key not yet measured, or a bit
            index the measurement does not have.
        QubitNotOnDeviceError: an operation uses a qubit the circuit does not declare.
    """
    declared = set(circuit.qubits)
    written: dict[str, int] = {}
    for op in circuit.operations:
        for q in op.qubits:
            if q not in declared:
                raise QubitNotOnDeviceError(
                    f"{_describe(op)} uses qubit {q!r}, which circuit {circuit.name!r} does not "
                    f"declare (its qubits: {list(circuit.qubits)})"
                )
        if isinstance(op, Gate):
            _check_gate(op, require_bound)
        elif isinstance(op, Conditional):
            _check_gate(op.gate, require_bound)
            size = written.get(op.key)
            if size is None:
                raise UnwrittenMeasurementKeyError(
                    f"gate {op.gate.name!r} on {op.gate.qubits} is conditioned on measurement key "
                    f"{op.key!r}, which no earlier measurement writes; measure into {op.key!r} "
                    "before the conditional gate"
                )
            if not 0 <= op.index < size:
                raise UnwrittenMeasurementKeyError(
                    f"gate {op.gate.name!r} on {op.gate.qubits} reads bit {op.index} of "
                    f"measurement key {op.key!r}, which has only {size} bit(s)"
                )
        elif isinstance(op, Measure):
            if op.key in written:
                raise DuplicateMeasurementKeyError(
                    f"measurement key {op.key!r} is written twice (again on {op.qubits}); give "
                    "each measurement its own key"
                )
            if not op.qubits:
                raise UnsupportedOperationError(f"measurement {op.key!r} measures no qubit")
            written[op.key] = len(op.qubits)
        elif isinstance(op, Delay) and not (math.isfinite(op.duration) and op.duration >= 0):
            raise NonFiniteParameterError(
                f"delay on {op.qubits} has duration {op.duration}; use a finite number of "
                "seconds >= 0"
            )


def _describe(op: object) -> str:
    if isinstance(op, Gate):
        return f"gate {op.name!r}"
    if isinstance(op, Conditional):
        return f"conditional gate {op.gate.name!r}"
    if isinstance(op, Measure):
        return f"measurement {op.key!r}"
    return type(op).__name__.lower()


def validate_native(circuit: Circuit, device: Device) -> None:
    """Check that a native circuit can run on ``device`` as it is.

    Runs :func:`validate` with ``require_bound=True``, then checks every operation against the
    device's natives and loci.

    Raises:
        UnsupportedOperationError: a gate that is not a native of the device.
        QubitNotOnDeviceError: a component the device does not have.
        LocusNotSupportedError: a native the device has, but not on that locus.
        (and everything :func:`validate` raises)
    """
    validate(circuit, require_bound=True)
    for op in circuit.operations:
        for q in op.qubits:
            if not device.has_component(q):
                raise QubitNotOnDeviceError(
                    f"{_describe(op)} acts on {q!r}, which {device.name} does not have; its "
                    f"qubits are {_span(device.qubits)}"
                    + (f" and resonators {list(device.resonators)}" if device.resonators else "")
                )
        if isinstance(op, Conditional) and op.value != 1:
            raise UnsupportedOperationError(
                f"conditional gate {op.gate.name!r} on {op.gate.qubits} reads bit "
                f"{op.key!r}[{op.index}] == {op.value}; IQM hardware conditions on 1 only: "
                "lower the circuit first (iqm_bridge.core.lower / compile)"
            )
        if isinstance(op, Gate | Conditional):
            gate = op.gate if isinstance(op, Conditional) else op
            native = "cc_prx" if isinstance(op, Conditional) else gate.name
            if gate.name not in {"prx", "cz", "move"} or native not in device.gates:
                hint = (
                    "lower and route the circuit first (iqm_bridge.core.lower / compile)"
                    if native not in device.gates and gate.name not in {"prx", "cz", "move"}
                    else f"{device.name} has no calibrated {native!r}"
                )
                raise UnsupportedOperationError(
                    f"gate {gate.name!r} on {gate.qubits} is not a native of {device.name} "
                    f"(natives: {sorted(device.gates)}); {hint}"
                )
            if not device.supports(native, gate.qubits):
                raise LocusNotSupportedError(
                    f"native {native!r} on {gate.qubits}: {device.name} has no calibrated "
                    f"{native!r} there; route the circuit or pick coupled qubits"
                )
        elif isinstance(op, Measure):
            if not device.supports("measure", op.qubits):
                bad = [q for q in op.qubits if not device.supports("measure", (q,))]
                raise LocusNotSupportedError(
                    f"measurement {op.key!r}: {device.name} cannot measure {bad}"
                )
        elif isinstance(op, Barrier | Reset | Delay):
            continue


def _span(names: tuple[str, ...]) -> str:
    if len(names) <= 6:
        return str(list(names))
    return f"{names[0]}..{names[-1]} ({len(names)} qubits)"

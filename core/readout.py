"""Readout mitigation in the run path: the door's side of :mod:`iqm_bridge.core.mitigation`.

A circuit's result is a ``shots x columns`` bit table (``MeasurementBits.memory()``: the
registers side by side). To mitigate it the door needs, for every column, the physical qubit
whose measurement last wrote it, and that qubit's readout errors. Those come either from the
calibration the server serves (no extra circuits), or from two calibration circuits the door
appends to the SAME job: every measured qubit prepared in 0, and every one prepared in 1.
Results say which was used (``ReadoutErrors.source``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from iqm_bridge.core.device import Calibration
from iqm_bridge.core.errors import ConfigurationError
from iqm_bridge.core.ir import Circuit, Gate, Measure
from iqm_bridge.core.keys import KeyMap, Register
from iqm_bridge.core.mitigation import (
    SOURCE_CALIBRATION,
    ReadoutCalibrationError,
    ReadoutErrors,
)

__all__ = [
    "CALIBRATION_METADATA_KEY",
    "Mitigation",
    "calibration_circuits",
    "column_errors",
    "column_qubits",
    "measured_union",
    "served_errors",
]

CALIBRATION_METADATA_KEY = "iqm_bridge_readout_calibration"
"""Circuit metadata entry that marks the door's readout calibration circuits (``"zeros"`` or
``"ones"``), so a job retrieved later is mitigated from them too."""

_SOURCES = ("auto", "calibration", "circuits")


@attrs.frozen(slots=True)
class Mitigation:
    """Readout-error mitigation for a run.

    Attributes:
        source: where the readout errors come from: ``"calibration"`` (the figures the server
            serves with its calibration set; no extra circuits), ``"circuits"`` (two
            calibration circuits added to the same job), or ``"auto"`` (the served figures when
            the server has them for every measured qubit, else the circuits).
    """

    source: str = "auto"

    def __attrs_post_init__(self) -> None:
        if self.source not in _SOURCES:
            raise ConfigurationError(
                f"readout mitigation source {self.source!r} is not one of {', '.join(_SOURCES)}"
            )

    @classmethod
    def of(cls, value: Any) -> Mitigation | None:
        """A setting as users give it: ``None``/``False`` (off), ``True``/``"readout"`` (on,
        ``"auto"``), a source name, or a :class:`Mitigation`.

        Raises:
            ConfigurationError: anything else.
        """
        if value is None or value is False:
            return None
        if isinstance(value, Mitigation):
            return value
        if value is True or value == "readout":
            return cls()
        if isinstance(value, str):
            return cls(value)
        raise ConfigurationError(
            f"mitigation={value!r}: use None, True, 'readout', one of {', '.join(_SOURCES)}, "
            "or iqm_bridge.core.Mitigation(source=...)"
        )


def column_qubits(circuit: Circuit, keymap: KeyMap) -> tuple[str | None, ...]:
    """For each column of the circuit's bit table, the physical qubit whose measurement last
    wrote it (``None`` for a bit no measurement writes)."""
    offsets, total = [], 0
    for reg in keymap.registers:
        offsets.append(total)
        total += reg.size
    qubit: list[str | None] = [None] * total
    rep: list[int] = [-1] * total
    for op in circuit.operations:
        if not isinstance(op, Measure):
            continue
        slot = keymap.slots.get(op.key)
        if slot is None:
            continue
        base = offsets[slot.register] + slot.start
        for i, q in enumerate(op.qubits):
            col = base + i
            if col < total and slot.repetition >= rep[col]:
                qubit[col], rep[col] = q, slot.repetition
    return tuple(qubit)


def served_errors(calibration: Calibration | None, qubits: Iterable[str]) -> ReadoutErrors:
    """The readout errors the server's calibration gives for ``qubits``: asymmetric when it
    serves ``error_0_to_1``/``error_1_to_0``, else symmetric from the readout fidelity.

    Raises:
        ReadoutCalibrationError: a qubit without readout figures (names it).
    """
    cal = calibration or Calibration()
    names, p10, p01 = [], [], []
    for q in qubits:
        e01 = cal.readout_error_0_to_1.get(q)
        e10 = cal.readout_error_1_to_0.get(q)
        if e01 is None or e10 is None:
            fidelity = cal.readout_fidelity.get(q)
            if fidelity is None:
                raise ReadoutCalibrationError(
                    f"the server serves no readout figures for qubit {q!r}; mitigate with "
                    "calibration circuits in the job instead (mitigation='circuits')"
                )
            e01 = e10 = 1.0 - fidelity
        names.append(q)
        p10.append(e01)
        p01.append(e10)
    return ReadoutErrors(tuple(names), p10, p01, SOURCE_CALIBRATION)


def calibration_circuits(qubits: Sequence[str]) -> tuple[Circuit, Circuit, KeyMap]:
    """The two calibration circuits for ``qubits``: all in 0, and all flipped to 1, each
    measured once into one register (one column per qubit, in order)."""
    reg = Register("readout", len(qubits))
    key = KeyMap.encode(reg, 0, 0)
    keymap = KeyMap.from_keys([key]).with_registers([reg])
    zeros = Circuit(
        qubits, (Measure(qubits, key),), "readout-zeros", {CALIBRATION_METADATA_KEY: "zeros"}
    )
    flips = tuple(Gate("prx", (q,), (math.pi, 0.0)) for q in qubits)
    ones = Circuit(
        qubits,
        (*flips, Measure(qubits, key)),
        "readout-ones",
        {CALIBRATION_METADATA_KEY: "ones"},
    )
    return zeros, ones, keymap


def column_errors(errors: ReadoutErrors, columns: Sequence[str | None]) -> ReadoutErrors | None:
    """Per-column readout errors of a result whose column ``j`` was read on ``columns[j]``.

    A qubit read into several columns appears once per column (labelled ``QB1``, ``QB1#2``,
    ...). ``None`` when some column was never measured (it cannot be mitigated).
    """
    if any(q is None for q in columns):
        return None
    index = {q: i for i, q in enumerate(errors.qubits)}
    seen: dict[str, int] = {}
    labels: list[str] = []
    p10: list[float] = []
    p01: list[float] = []
    s10: list[float] | None = [] if errors.p1_given_0_stderr is not None else None
    s01: list[float] | None = [] if errors.p0_given_1_stderr is not None else None
    for q in columns:
        assert q is not None
        i = index[q]
        seen[q] = seen.get(q, 0) + 1
        labels.append(q if seen[q] == 1 else f"{q}#{seen[q]}")
        p10.append(errors.p1_given_0[i])
        p01.append(errors.p0_given_1[i])
        if s10 is not None and errors.p1_given_0_stderr is not None:
            s10.append(errors.p1_given_0_stderr[i])
        if s01 is not None and errors.p0_given_1_stderr is not None:
            s01.append(errors.p0_given_1_stderr[i])
    return ReadoutErrors(tuple(labels), p10, p01, errors.source, s10, s01)


def measured_union(columns: Iterable[Sequence[str | None]]) -> tuple[str, ...]:
    """Every physical qubit some column reads, in first-seen order."""
    seen: dict[str, None] = {}
    for cols in columns:
        for q in cols:
            if q is not None:
                seen.setdefault(q, None)
    return tuple(seen)

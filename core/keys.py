"""Measurement keys: where each measured bit belongs in the caller's result.

A framework result is a set of *registers* (a qiskit classical register, a cirq measurement
key, PennyLane's wires), each a row of bits. Every native ``measure`` writes a contiguous run
of bits into one register, possibly again (a repetition: cirq's records, or a qiskit clbit
measured twice). The native key says all of that itself::

    <register>_<register size>_<register index>_<first bit>[@<repetition>]

(for single-bit qiskit measurements this is exactly qiskit-iqm's own key format), so a
:class:`KeyMap` can be rebuilt from the key strings of a retrieved job alone.

Result reconstruction turns the server's per-key shot lists into numpy arrays without a Python
loop per shot.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from iqm_bridge.core.errors import ResultFormatError

__all__ = ["KeyMap", "KeySlot", "MeasurementBits", "Register", "counts_from_bits", "unique_rows"]

_KEY_RE = re.compile(r"^(?P<name>.*)_(?P<size>\d+)_(?P<reg>\d+)_(?P<start>\d+)(?:@(?P<rep>\d+))?$")

Bits = np.ndarray[Any, np.dtype[np.uint8]]


def _as_bits(value: Any) -> tuple[Bits, bool]:
    """A uint8 array of the server's nested 0/1 lists, and whether its values are known to be
    0 or 1 already.

    Rows of one width go through ``bytes`` (a C loop, several times faster than numpy's
    conversion of nested lists), where deleting every 0 and 1 byte (``bytes.translate``, also
    C) shows at once whether anything else is there; anything else takes the general
    ``np.asarray`` path, which also rejects ragged rows and leaves the check to the caller.
    """
    if isinstance(value, list) and value and isinstance(value[0], list):
        width = len(value[0])
        try:
            # every row has exactly ``width`` entries iff none is longer and the total fits
            if max(map(len, value)) == width:
                if width == 1:  # one-qubit measurements: the common case
                    flat = bytes(map(_first, value))
                else:
                    flat = bytes(list(itertools.chain.from_iterable(value)))
                if len(flat) == len(value) * width:
                    arr = np.frombuffer(flat, dtype=np.uint8).reshape(len(value), width)
                    return arr, not flat.translate(None, b"\x00\x01")
        except (TypeError, ValueError, IndexError):
            pass
    return np.asarray(value, dtype=np.uint8), False


_first = operator.itemgetter(0)


@attrs.frozen(slots=True)
class Register:
    """A named row of classical bits in the caller's result."""

    name: str
    size: int


@attrs.frozen(slots=True)
class KeySlot:
    """Where one native measurement's bits go.

    Attributes:
        register: index into :attr:`KeyMap.registers`.
        start: position of the first bit in the register; the measurement's i-th qubit goes
            to ``start + i``.
        repetition: 0 for the first write of these bits, 1 for the next, ...
    """

    register: int
    start: int
    repetition: int = 0


@attrs.frozen(slots=True)
class KeyMap:
    """Native measurement key -> :class:`KeySlot`, with the registers they write.

    Build one with :meth:`builder`-style :meth:`add` calls through :class:`KeyMap.Builder`, or
    rebuild one from key strings with :meth:`from_keys`.
    """

    registers: tuple[Register, ...]
    slots: Mapping[str, KeySlot]

    @staticmethod
    def encode(register: Register, register_index: int, start: int, repetition: int = 0) -> str:
        """The native key string for bits ``start..`` of ``register`` (self-describing)."""
        key = f"{register.name}_{register.size}_{register_index}_{start}"
        return f"{key}@{repetition}" if repetition else key

    @classmethod
    def from_keys(cls, keys: Iterable[str]) -> KeyMap:
        """Rebuild a key map from native key strings.

        Raises:
            ResultFormatError: a key is not in the iqm-bridge format, or two keys disagree on a
                register's name or size.
        """
        regs: dict[int, Register] = {}
        slots: dict[str, KeySlot] = {}
        for key in keys:
            m = _KEY_RE.match(key)
            if m is None:
                raise ResultFormatError(
                    f"measurement key {key!r} is not of the form "
                    "'<register>_<size>_<index>_<bit>[@<repetition>]'"
                )
            idx = int(m["reg"])
            reg = Register(m["name"], int(m["size"]))
            if regs.setdefault(idx, reg) != reg:
                raise ResultFormatError(
                    f"measurement key {key!r} names register {idx} as {reg}, but an earlier key "
                    f"named it {regs[idx]}"
                )
            slots[key] = KeySlot(idx, int(m["start"]), int(m["rep"] or 0))
        if regs and sorted(regs) != list(range(len(regs))):
            # registers that were never measured leave gaps; fill them with empty placeholders
            top = max(regs)
            for i in range(top + 1):
                regs.setdefault(i, Register(f"_unmeasured{i}", 0))
        return cls(tuple(regs[i] for i in sorted(regs)), slots)

    def with_registers(self, registers: Sequence[Register]) -> KeyMap:
        """This map with the register list replaced (to restore unmeasured registers)."""
        return attrs.evolve(self, registers=tuple(registers))

    def bits(
        self,
        measurements: Mapping[str, Sequence[Sequence[int]]],
        shots: int | None = None,
        widths: Mapping[str, int] | None = None,
    ) -> MeasurementBits:
        """Place the server's per-key shot lists into per-register bit arrays.

        Args:
            measurements: native key -> ``shots x len(locus)`` 0/1 values (one circuit's
                result as the server returns it).
            shots: the expected number of shots; ``None`` takes it from the data.
            widths: the expected bits per shot of each key (its measurement's qubit count);
                ``None`` accepts what the data has.

        Raises:
            ResultFormatError: keys missing, values other than 0 and 1, or arrays of another
                shape than the circuit implies.
        """
        missing = [key for key in self.slots if key not in measurements]
        if missing:
            raise ResultFormatError(
                f"the server's result lacks measurement key(s) {sorted(missing)}"
            )
        arrays: dict[str, Bits] = {}
        for key in self.slots:
            try:
                arr, checked = _as_bits(measurements[key])
            except (TypeError, ValueError, OverflowError):
                raise ResultFormatError(
                    f"result for measurement key {key!r} holds values other than 0 and 1, or rows "
                    "of different lengths"
                ) from None
            if arr.ndim != 2:
                raise ResultFormatError(
                    f"result for measurement key {key!r} should be a shots x bits 0/1 array, got "
                    f"shape {arr.shape}"
                )
            if not checked and arr.size and arr.max() > 1:
                raise ResultFormatError(
                    f"result for measurement key {key!r} holds values other than 0 and 1"
                )
            expected = None if widths is None else widths.get(key)
            if expected is not None and arr.shape[0] and arr.shape[1] != expected:
                raise ResultFormatError(
                    f"measurement key {key!r} should give {expected} bit(s) per shot; the "
                    f"server's rows have {arr.shape[1]}"
                )
            arrays[key] = arr
        n_shots = shots
        for key, arr in arrays.items():
            if n_shots is None:
                n_shots = arr.shape[0]
            if arr.shape[0] != n_shots:
                raise ResultFormatError(
                    f"measurement key {key!r} has {arr.shape[0]} shots, expected {n_shots}"
                )
        n_shots = n_shots or 0
        n_reps = [1] * len(self.registers)
        writers: list[list[str]] = [[] for _ in self.registers]
        for key, slot in self.slots.items():
            n_reps[slot.register] = max(n_reps[slot.register], slot.repetition + 1)
            writers[slot.register].append(key)
        records: list[Bits] = []
        written: list[np.ndarray[Any, np.dtype[np.bool_]]] = []
        for i, reg in enumerate(self.registers):
            keys = writers[i]
            if len(keys) == 1 and n_reps[i] == 1 and self.slots[keys[0]].start == 0:
                arr = arrays[keys[0]]
                if arr.shape[1] == reg.size:
                    # one measurement writes the whole register once (a cirq key, a qiskit
                    # register measured at once): its array is the record, no zero-filling;
                    # copied, since the server's bytes are read-only
                    records.append(arr.reshape(n_shots, 1, reg.size).copy())
                    written.append(np.ones((1, reg.size), dtype=bool))
                    continue
            rec = np.zeros((n_shots, n_reps[i], reg.size), dtype=np.uint8)
            mask = np.zeros((n_reps[i], reg.size), dtype=bool)
            for key in keys:
                slot = self.slots[key]
                arr = arrays[key]
                width = arr.shape[1]
                if slot.start + width > reg.size:
                    raise ResultFormatError(
                        f"measurement key {key!r} returns {width} bit(s) from bit {slot.start}, "
                        f"beyond register {reg.name!r} of size {reg.size}"
                    )
                rec[:, slot.repetition, slot.start : slot.start + width] = arr
                mask[slot.repetition, slot.start : slot.start + width] = True
            records.append(rec)
            written.append(mask)
        return MeasurementBits(self.registers, tuple(records), tuple(written), n_shots)


@attrs.frozen(slots=True)
class MeasurementBits:
    """One circuit's results as bit arrays, per register.

    Attributes:
        registers: the registers, in order.
        records: per register, a ``shots x repetitions x size`` uint8 array.
        written: per register, a ``repetitions x size`` bool mask of bits actually measured.
    """

    registers: tuple[Register, ...]
    records: tuple[Bits, ...]
    written: tuple[np.ndarray[Any, np.dtype[np.bool_]], ...]
    num_shots: int | None = None

    @property
    def shots(self) -> int:
        """Number of shots (also of a circuit that measures nothing)."""
        if self.records:
            return int(self.records[0].shape[0])
        return self.num_shots or 0

    def first(self, shots: int) -> MeasurementBits:
        """The same registers with only the first ``shots`` shots."""
        return MeasurementBits(
            self.registers,
            tuple(r[:shots] for r in self.records),
            self.written,
            min(shots, self.shots),
        )

    def last(self, register: int) -> Bits:
        """``shots x size`` array of the last value written to each bit (0 if never written)."""
        rec = self.records[register]
        if rec.shape[1] == 1:
            return rec[:, 0, :]
        mask = self.written[register]
        # index of the last repetition that wrote each bit
        last_rep = np.where(mask.any(axis=0), mask.shape[0] - 1 - np.argmax(mask[::-1], axis=0), 0)
        return rec[:, last_rep, np.arange(rec.shape[2])]

    def register(self, name: str) -> Bits:
        """The last-write ``shots x size`` array of the register called ``name``."""
        for i, reg in enumerate(self.registers):
            if reg.name == name:
                return self.last(i)
        raise KeyError(name)

    def memory(self, registers: Sequence[int] | None = None) -> Bits:
        """One ``shots x bits`` array: the chosen registers (all by default) side by side."""
        idx = range(len(self.registers)) if registers is None else registers
        parts = [self.last(i) for i in idx]
        if not parts:
            return np.zeros((self.shots, 0), dtype=np.uint8)
        return np.concatenate(parts, axis=1)


def counts_from_bits(
    bits: Bits, groups: Sequence[int] | None = None, reverse: bool = True, separator: str = " "
) -> dict[str, int]:
    """Histogram of the rows of a ``shots x bits`` array, as bitstrings.

    Args:
        bits: the 0/1 array.
        groups: sizes of consecutive column groups (registers) to separate with ``separator``;
            ``None`` for one group.
        reverse: write each row right to left (qiskit's little-endian strings: bit 0 last, and
            the first group last).
        separator: the text between groups.

    Returns:
        bitstring -> count, formatting only the distinct rows.
    """
    strings, counts, _ = unique_rows(bits, groups, reverse, separator)
    return dict(zip(strings, counts.tolist(), strict=True))


def unique_rows(
    bits: Bits, groups: Sequence[int] | None = None, reverse: bool = True, separator: str = " "
) -> tuple[list[str], np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.intp]]]:
    """The distinct rows of ``bits`` as strings, their counts, and each shot's row index."""
    shots, width = bits.shape
    if width == 0:
        return [""], np.array([shots]), np.zeros(shots, dtype=np.intp)
    if width <= 63:
        weights = (1 << np.arange(width, dtype=np.int64))[::-1]
        packed = bits.astype(np.int64) @ weights
        uniq, inverse, counts = np.unique(packed, return_inverse=True, return_counts=True)
        rows = ((uniq[:, None] >> np.arange(width - 1, -1, -1, dtype=np.int64)) & 1).astype(
            np.uint8
        )
    else:
        rows, inverse, counts = np.unique(bits, axis=0, return_inverse=True, return_counts=True)
    sizes = list(groups) if groups else [width]
    strings = []
    for row in rows:
        chars = "".join("1" if b else "0" for b in row.tolist())
        parts, pos = [], 0
        for size in sizes:
            parts.append(chars[pos : pos + size])
            pos += size
        if reverse:
            parts = [p[::-1] for p in reversed(parts)]
        strings.append(separator.join(parts))
    return strings, counts, inverse.reshape(-1)

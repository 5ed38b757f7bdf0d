"""Measurement keys: self-describing key strings and vectorised result reconstruction."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iqm_bridge.core.errors import ResultFormatError
from iqm_bridge.core.keys import KeyMap, Register, counts_from_bits


def test_qiskit_style_keys_round_trip() -> None:
    c = Register("c", 2)
    keys = [KeyMap.encode(c, 0, 0), KeyMap.encode(c, 0, 1), KeyMap.encode(Register("d", 1), 1, 0)]
    assert keys == ["c_2_0_0", "c_2_0_1", "d_1_1_0"]
    km = KeyMap.from_keys(keys)
    assert km.registers == (Register("c", 2), Register("d", 1))
    bits = km.bits({"c_2_0_0": [[1], [0]], "c_2_0_1": [[0], [0]], "d_1_1_0": [[1], [1]]})
    assert bits.register("c").tolist() == [[1, 0], [0, 0]]
    assert bits.memory().tolist() == [[1, 0, 1], [0, 0, 1]]


def test_register_names_with_underscores_and_repetitions() -> None:
    reg = Register("my_key_1", 2)
    k0 = KeyMap.encode(reg, 0, 0)
    k1 = KeyMap.encode(reg, 0, 0, repetition=1)
    km = KeyMap.from_keys([k0, k1])
    bits = km.bits({k0: [[0, 1], [1, 1]], k1: [[1, 0], [0, 0]]})
    assert bits.records[0].shape == (2, 2, 2)
    assert bits.register("my_key_1").tolist() == [[1, 0], [0, 0]]  # last write wins


def test_malformed_results_are_reported() -> None:
    km = KeyMap.from_keys(["c_1_0_0"])
    with pytest.raises(ResultFormatError, match="lacks"):
        km.bits({})
    with pytest.raises(ResultFormatError, match="expected 3"):
        km.bits({"c_1_0_0": [[0], [1]]}, shots=3)
    with pytest.raises(ResultFormatError, match="values other than 0 and 1"):
        km.bits({"c_1_0_0": [[2], [1]]})
    with pytest.raises(ResultFormatError, match="not of the form"):
        KeyMap.from_keys(["m"])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 70), st.integers(1, 200), st.integers(0, 2**32 - 1))
def test_counts_match_a_plain_counter(width: int, shots: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    bits = (rng.random((shots, width)) < 0.3).astype(np.uint8)
    split = [width // 2, width - width // 2] if width > 1 else [1]
    expected = collections.Counter(
        " ".join("".join(map(str, row[s:e]))[::-1] for s, e in reversed(_bounds(split)))
        for row in bits.tolist()
    )
    assert counts_from_bits(bits, split) == dict(expected)


def _bounds(sizes: list[int]) -> list[tuple[int, int]]:
    out, pos = [], 0
    for s in sizes:
        out.append((pos, pos + s))
        pos += s
    return out


def _reference_records(
    km: KeyMap, data: dict[str, np.ndarray], shots: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """KeyMap.bits written out shot by shot and bit by bit: the oracle for the vectorised one."""
    reps = [1] * len(km.registers)
    for slot in km.slots.values():
        reps[slot.register] = max(reps[slot.register], slot.repetition + 1)
    records = [np.zeros((shots, reps[i], r.size), np.uint8) for i, r in enumerate(km.registers)]
    written = [np.zeros((reps[i], r.size), bool) for i, r in enumerate(km.registers)]
    for key, slot in km.slots.items():
        for s in range(shots):
            for j, bit in enumerate(data[key][s]):
                records[slot.register][s, slot.repetition, slot.start + j] = bit
        written[slot.register][slot.repetition, slot.start : slot.start + len(data[key][0])] = True
    return records, written


@st.composite
def _layouts(draw: st.DrawFn) -> tuple[KeyMap, dict[str, list[list[int]]], int]:
    """Registers written by whole or partial measurements, some bits twice (repetitions)."""
    shots = draw(st.integers(1, 30))
    keys, widths = [], {}
    for index in range(draw(st.integers(1, 3))):
        reg = Register(f"r{index}", draw(st.integers(1, 5)))
        for rep in range(draw(st.integers(1, 2))):
            start = draw(st.integers(0, reg.size - 1))
            width = draw(st.integers(1, reg.size - start))
            key = KeyMap.encode(reg, index, start, repetition=rep)
            keys.append(key)
            widths[key] = width
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    data = {k: rng.integers(0, 2, (shots, w)).tolist() for k, w in widths.items()}
    return KeyMap.from_keys(keys), data, shots


@settings(max_examples=80, deadline=None)
@given(_layouts())
def test_bits_match_a_loop_per_shot(layout: tuple[KeyMap, dict, int]) -> None:
    """Checked once against a broken variant: with ``bits``' whole-register shortcut also taken
    for a measurement narrower than its register (zero-padded), the written masks differ and
    this test fails."""
    km, data, shots = layout
    bits = km.bits(data, shots)
    records, written = _reference_records(km, {k: np.array(v) for k, v in data.items()}, shots)
    for got, want in zip(bits.records, records, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(bits.written, written, strict=True):
        np.testing.assert_array_equal(got, want)
    for got in bits.records:  # the caller's to keep and change: not the server's buffer
        assert got.flags.writeable


def test_values_other_than_0_and_1_in_multi_bit_rows_are_reported() -> None:
    km = KeyMap.from_keys(["m_2_0_0"])
    assert km.bits({"m_2_0_0": [[0, 1], [1, 1]]}).register("m").tolist() == [[0, 1], [1, 1]]
    with pytest.raises(ResultFormatError, match="values other than 0 and 1"):
        km.bits({"m_2_0_0": [[0, 2], [1, 1]]})
    with pytest.raises(ResultFormatError, match="rows of different lengths"):
        km.bits({"m_2_0_0": [[0, 1], [1]]})
    with pytest.raises(ResultFormatError, match="should give 2 bit"):
        km.bits({"m_2_0_0": [[0], [1]]}, widths={"m_2_0_0": 2})

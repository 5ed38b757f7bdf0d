"""Render simulation results as the JSON the artifact endpoints serve.

The ``measurements`` text is rendered once when a job completes; it is stored and served
verbatim, so a restarted server gives byte-identical answers. Rows are written as bytes by
numpy (every row of a key has the same width, so the text is a fixed-stride byte array), not
by ``json.dumps`` of nested lists, which matters at a million rows.

``measurement_counts`` is rarely asked for, so it is computed from the stored measurements
text on first request (:func:`counts_from_measurements`) and stored then: it depends on
nothing else, so it is the same whenever and wherever it is computed.

Memory: a million 20-bit rows are 42 MB of text. The text is written straight into one
buffer and decoded once (two copies at the peak, not four), and counts are read from the text
by numpy at the rows' fixed stride, never through Python lists of lists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from json.decoder import scanstring

import numpy as np

__all__ = ["counts_from_measurements", "counts_json", "measurements_json"]


def _frame(shots: int, width: int) -> np.ndarray:
    """``shots`` rows ``[0,0,...],`` of ``width`` digits as a ``(shots, 2 width + 2)`` array."""
    if shots * width <= 1 << 16:
        return _small_frame(shots, width).copy()
    row = np.frombuffer(("[" + ",".join("0" * width) + "],").encode(), dtype=np.uint8)
    return np.tile(row, (shots, 1))


@lru_cache(maxsize=64)
def _small_frame(shots: int, width: int) -> np.ndarray:
    row = np.frombuffer(("[" + ",".join("0" * width) + "],").encode(), dtype=np.uint8)
    frame = np.tile(row, (shots, 1))
    frame.flags.writeable = False
    return frame


def _rows(arr: np.ndarray) -> bytes:
    """``[b,b,...],[b,b,...],...`` for a ``(shots, width)`` array of 0/1."""
    shots, width = arr.shape
    if shots == 0:
        return b""
    if width == 0:
        return b",".join([b"[]"] * shots)
    buf = _frame(shots, width)
    buf[:, 1 : 2 * width : 2] += arr.astype(np.uint8, copy=False)
    return buf.tobytes()[:-1]


def _write_rows(out: np.ndarray, arr: np.ndarray) -> None:
    """Write ``_rows(arr)`` into ``out`` (exactly its length) a few megabytes at a time."""
    shots, width = arr.shape
    if shots == 0:
        return
    if width == 0:
        out[:] = np.frombuffer(_rows(arr), dtype=np.uint8)
        return
    stride = 2 * width + 2
    row = np.frombuffer(("[" + ",".join("0" * width) + "],").encode(), dtype=np.uint8)
    step = max(1, (1 << 22) // stride)
    for start in range(0, shots, step):
        stop = min(shots, start + step)
        length = (stop - start) * stride - (1 if stop == shots else 0)
        block = np.empty((stop - start, stride), dtype=np.uint8)
        block[:] = row
        block[:, 1 : 2 * width : 2] += arr[start:stop].astype(np.uint8, copy=False)
        out[start * stride : start * stride + length] = block.reshape(-1)[:length]


def _rows_length(shots: int, width: int) -> int:
    if shots == 0:
        return 0
    return shots * (2 * width + 2 if width else 3) - 1


def measurements_json(results: Sequence[Mapping[str, np.ndarray]]) -> str:
    """The ``measurements`` artifact: per circuit, key -> rows of 0/1 (shots x locus)."""
    pieces: list[bytes | np.ndarray] = [b"["]
    for index, circuit in enumerate(results):
        pieces.append(b"{" if index == 0 else b",{")
        for j, (key, arr) in enumerate(circuit.items()):
            pieces.append((b"," if j else b"") + json.dumps(key).encode() + b":[")
            pieces.append(np.asarray(arr))
            pieces.append(b"]")
        pieces.append(b"}")
    pieces.append(b"]")
    total = sum(len(p) if isinstance(p, bytes) else _rows_length(*p.shape) for p in pieces)
    buf = np.empty(total, dtype=np.uint8)
    pos = 0
    for piece in pieces:
        if isinstance(piece, bytes):
            buf[pos : pos + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
            pos += len(piece)
        else:
            length = _rows_length(*piece.shape)
            _write_rows(buf[pos : pos + length], piece)
            pos += length
    return str(memoryview(buf), "ascii")


def _counts(bits: np.ndarray) -> dict[str, int]:
    """Bitstring -> count of the rows of ``bits``, bitstrings in ascending order."""
    shots, width = bits.shape
    if shots == 0:
        return {}
    if width == 0:
        return {"": int(shots)}
    if width <= 62:
        weights = np.left_shift(1, np.arange(width - 1, -1, -1, dtype=np.int64))
        codes = bits.astype(np.int64) @ weights
        if width <= 20:
            tally = np.bincount(codes, minlength=1)
            uniq = np.flatnonzero(tally)
            num = tally[uniq]
        else:
            uniq, num = np.unique(codes, return_counts=True)
        fmt = f"0{width}b"
        return {
            format(code, fmt): int(c) for code, c in zip(uniq.tolist(), num.tolist(), strict=True)
        }
    uniq_rows, num = np.unique(bits, axis=0, return_counts=True)
    return {
        "".join(map(str, row)): int(c)
        for row, c in zip(uniq_rows.tolist(), num.tolist(), strict=True)
    }


def _circuit_counts_json(circuit: Mapping[str, np.ndarray]) -> str:
    """One circuit's entry of the ``measurement_counts`` artifact."""
    keys = list(circuit)
    counts: dict[str, int] = {}
    if keys:
        bits = np.concatenate([np.asarray(circuit[k]) for k in keys], axis=1)
        counts = _counts(bits.astype(np.uint8, copy=False))
    return json.dumps({"measurement_keys": keys, "counts": counts}, separators=(",", ":"))


def counts_json(results: Sequence[Mapping[str, np.ndarray]]) -> str:
    """The ``measurement_counts`` artifact: per circuit, keys and bitstring counts.

    A bitstring is, per shot, the bits of each key (in key order, first key leftmost) in
    locus order. Circuits are counted one at a time, so only one circuit's dictionary of
    bitstrings exists at once.
    """
    return "[" + ",".join(_circuit_counts_json(circuit) for circuit in results) + "]"


def _parse(text: str) -> Iterator[dict[str, np.ndarray]]:
    """The arrays of a ``measurements`` text this module rendered, circuit by circuit.

    Rows have a fixed stride, so each key's rows are read by numpy from that key's part of
    the text alone (encoded one key at a time: never a second copy of the whole text).
    """
    pos = 1  # past the opening bracket
    while text[pos] != "]":
        pos += 1  # the circuit's opening brace
        circuit: dict[str, np.ndarray] = {}
        while text[pos] != "}":
            key, pos = scanstring(text, pos + 1)
            pos += 2  # ':['
            if text[pos] == "]":
                circuit[key] = np.zeros((0, 0), dtype=np.uint8)
                pos += 1
            else:
                end = text.index("]]", pos) + 1  # rows hold no nested brackets
                width = (text.index("]", pos) - pos) // 2
                stride = 2 * width + 2 if width else 3
                shots = (end - pos + 1) // stride
                data = text[pos:end].encode("ascii")
                digits = np.ndarray(
                    (shots, width), dtype=np.uint8, buffer=data, offset=1, strides=(stride, 2)
                )
                circuit[key] = digits - ord("0")
                del data, digits
                pos = end + 1
            if text[pos] == ",":
                pos += 1
        yield circuit
        pos += 1
        if text[pos] == ",":
            pos += 1


def counts_from_measurements(measurements: str) -> str:
    """The ``measurement_counts`` artifact of a stored ``measurements`` artifact."""
    return "[" + ",".join(_circuit_counts_json(c) for c in _parse(measurements)) + "]"

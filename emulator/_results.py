"""Render simulation results as the JSON the artifact endpoints serve.

The ``measurements`` text is rendered once when a job completes; it is stored and served
verbatim, so a restarted server gives byte-identical answers. Rows are written as bytes by
numpy (every row of a key has the same width, so the text is a fixed-stride byte array), not
by ``json.dumps`` of nested lists, which matters at a million rows.

``measurement_counts`` is rarely asked for, so it is computed from the stored measurements
text on first request (:func:`counts_from_measurements`) and stored then: it depends on
nothing else, so it is the same whenever and wherever it is computed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache

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


def measurements_json(results: Sequence[Mapping[str, np.ndarray]]) -> str:
    """The ``measurements`` artifact: per circuit, key -> rows of 0/1 (shots x locus)."""
    parts = []
    for circuit in results:
        items = [
            json.dumps(key).encode() + b":[" + _rows(arr) + b"]" for key, arr in circuit.items()
        ]
        parts.append(b"{" + b",".join(items) + b"}")
    return (b"[" + b",".join(parts) + b"]").decode("ascii")


def _counts(bits: np.ndarray) -> dict[str, int]:
    """Bitstring -> count of the rows of ``bits``, bitstrings in ascending order."""
    shots, width = bits.shape
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


def counts_json(results: Sequence[Mapping[str, np.ndarray]]) -> str:
    """The ``measurement_counts`` artifact: per circuit, keys and bitstring counts.

    A bitstring is, per shot, the bits of each key (in key order, first key leftmost) in
    locus order.
    """
    out = []
    for circuit in results:
        keys = list(circuit)
        counts: dict[str, int] = {}
        if keys:
            bits = np.concatenate([np.asarray(circuit[k]) for k in keys], axis=1)
            counts = _counts(bits.astype(np.uint8))
        out.append({"measurement_keys": keys, "counts": counts})
    return json.dumps(out, separators=(",", ":"))


def counts_from_measurements(measurements: str) -> str:
    """The ``measurement_counts`` artifact of a stored ``measurements`` artifact."""
    results = []
    for circuit in json.loads(measurements):
        arrays = {}
        for key, rows in circuit.items():
            width = len(rows[0]) if rows else 0
            arrays[key] = np.array(rows, dtype=np.uint8).reshape(len(rows), width)
        results.append(arrays)
    return counts_json(results)

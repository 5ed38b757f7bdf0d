"""Render simulation results as the JSON the artifact endpoints serve.

Rendering happens once when a job completes; the text is stored and served verbatim, so a
restarted server gives byte-identical answers. Rows are built from lookup tables rather than
by ``json.dumps`` of nested lists, which matters at a million rows.
"""

from __future__ import annotations

import json
from functools import cache

import numpy as np

__all__ = ["counts_json", "measurements_json"]


@cache
def _row_table(width: int) -> np.ndarray:
    """JSON text of every row of ``width`` bits, indexed by the row's bits as an integer."""
    rows = [
        "[" + ",".join(str((code >> (width - 1 - i)) & 1) for i in range(width)) + "]"
        for code in range(1 << width)
    ]
    return np.array(rows, dtype=object)


def _rows(arr: np.ndarray) -> str:
    shots, width = arr.shape
    if width == 0:
        return ",".join(["[]"] * shots)
    if width <= 12:
        weights = 1 << np.arange(width - 1, -1, -1)
        codes = arr.astype(np.int64) @ weights
        return ",".join(_row_table(width)[codes].tolist())
    return ",".join(json.dumps(row) for row in arr.tolist())


def measurements_json(results: list[dict[str, np.ndarray]]) -> str:
    """The ``measurements`` artifact: per circuit, key -> rows of 0/1 (shots x locus)."""
    parts = []
    for circuit in results:
        items = [f"{json.dumps(key)}:[{_rows(arr)}]" for key, arr in circuit.items()]
        parts.append("{" + ",".join(items) + "}")
    return "[" + ",".join(parts) + "]"


def counts_json(results: list[dict[str, np.ndarray]]) -> str:
    """The ``measurement_counts`` artifact: per circuit, keys and bitstring counts.

    A bitstring is, per shot, the bits of each key (in key order, first key leftmost) in
    locus order.
    """
    out = []
    for circuit in results:
        keys = list(circuit)
        counts: dict[str, int] = {}
        if keys:
            bits = np.concatenate([circuit[k] for k in keys], axis=1).astype(np.uint8)
            width = bits.shape[1]
            if width == 0:
                counts = {"": int(bits.shape[0])}
            else:
                uniq, num = np.unique(bits, axis=0, return_counts=True)
                counts = {
                    "".join(map(str, row)): int(c)
                    for row, c in zip(uniq.tolist(), num.tolist(), strict=True)
                }
        out.append({"measurement_keys": keys, "counts": counts})
    return json.dumps(out, separators=(",", ":"))

"""Small helpers for the emulator tests (raw HTTP bodies)."""

from __future__ import annotations

import json
import math
from typing import Any


def prx(qubit: str, angle: float = math.pi, phase: float = 0.0) -> dict[str, Any]:
    return {"name": "prx", "locus": [qubit], "args": {"angle": angle, "phase": phase}}


def cz(a: str, b: str) -> dict[str, Any]:
    return {"name": "cz", "locus": [a, b], "args": {}}


def move(q: str, r: str) -> dict[str, Any]:
    return {"name": "move", "locus": [q, r], "args": {}}


def measure(key: str, *qubits: str) -> dict[str, Any]:
    return {"name": "measure", "locus": list(qubits), "args": {"key": key}}


def job_body(*circuits: list[dict[str, Any]], shots: int = 100, **extra: Any) -> str:
    body = {
        "circuits": [
            {"name": f"c{i}", "instructions": instr, "metadata": {}}
            for i, instr in enumerate(circuits)
        ],
        "shots": shots,
        **extra,
    }
    return json.dumps(body)

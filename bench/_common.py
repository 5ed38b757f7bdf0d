"""Shared helpers for the benchmark runner: timing and the figure line format."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One benchmark figure: ours and the anchor in the same unit, and the goal ratio.

    ``goal`` is the largest acceptable ``ours / anchor``; for an absolute target (no anchor
    exists) put the target in ``anchor`` and use ``goal=1.0``.
    """

    name: str
    ours: float
    anchor: float
    goal: float
    unit: str = "s"
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.anchor if self.anchor else float("inf")

    @property
    def ok(self) -> bool:
        return self.ratio <= self.goal

    def line(self) -> str:
        return (
            f"BENCH {self.name} ours={self.ours:.6g} anchor={self.anchor:.6g} "
            f"ratio={self.ratio:.4g} goal={self.goal:g}"
        )


def median_time(fn: Callable[[], object], repeat: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def import_time(module: str, repeat: int = 3) -> float:
    """Median time to import ``module`` in a fresh interpreter, in seconds."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    times = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)

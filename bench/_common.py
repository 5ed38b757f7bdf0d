"""Shared helpers for the benchmark runner: timing and the figure line formats.

Two kinds of figure:

* :class:`Figure`: ours beside an anchor measured in the same run (``against`` says what the
  anchor is), printed as ``BENCH name ours=... anchor=... ratio=... goal=...``;
* :class:`Target`: a figure nothing installed can be compared with, printed as
  ``BENCH name ours=... target=...`` (never as a ratio to a constant).
"""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One benchmark figure: ours and an anchor measured in the same run, in the same unit.

    Attributes:
        name: the figure's name.
        ours: our measurement.
        anchor: the anchor's measurement (never a constant: see :class:`Target`).
        goal: the largest acceptable ``ours / anchor``.
        unit: the unit of both measurements.
        note: anything the reader needs to judge the figure.
        against: what the anchor is (the library, call and setting measured).
    """

    name: str
    ours: float
    anchor: float
    goal: float
    unit: str = "s"
    note: str = ""
    against: str = ""

    @property
    def ratio(self) -> float:
        """``ours / anchor``; NaN when both are 0 (e.g. no job lost on either side)."""
        if self.anchor:
            return self.ours / self.anchor
        return math.nan if not self.ours else math.inf

    @property
    def ok(self) -> bool:
        """Whether ``ours <= goal * anchor`` (so 0 against 0 passes)."""
        return self.ours <= self.goal * self.anchor

    def line(self) -> str:
        return (
            f"BENCH {self.name} ours={self.ours:.6g} anchor={self.anchor:.6g} "
            f"ratio={self.ratio:.4g} goal={self.goal:g}"
        )


@dataclass(frozen=True)
class Target:
    """A figure without an anchor: ours against an absolute target (at most ``target``).

    Used only where nothing comparable can run beside us (e.g. "no job duplicated", "the
    core imports in under 0.3 s"); the line says ``target=``, never ``anchor=``.
    """

    name: str
    ours: float
    target: float
    unit: str = "s"
    note: str = ""

    @property
    def ok(self) -> bool:
        """Whether ours is at most the target."""
        return self.ours <= self.target

    def line(self) -> str:
        return f"BENCH {self.name} ours={self.ours:.6g} target={self.target:.6g} (no anchor)"


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


def interleaved_medians(
    fns: Sequence[Callable[[], object]], repeat: int = 7, warmup: int = 1
) -> list[float]:
    """Median wall time of each of ``fns``, run in turns (one of each per round).

    On a shared machine the load changes during a run; taking ours and the anchor in turns
    exposes both to the same load, so their ratio is steadier than that of two separate
    series. The order rotates every round so that no function always runs first.
    """
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for r in range(repeat):
        for k in range(len(fns)):
            i = (k + r) % len(fns)
            t0 = time.perf_counter()
            fns[i]()
            times[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


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


def interleaved_import_times(modules: Sequence[str], repeat: int = 3) -> list[float]:
    """Median fresh-interpreter import time of each module, the modules taken in turns."""
    times: list[list[float]] = [[] for _ in modules]
    for _ in range(repeat):
        for i, module in enumerate(modules):
            times[i].append(import_time(module, repeat=1))
    return [statistics.median(t) for t in times]


def bare_http_job(url: str, body: str, quantum_computer: str = "garnet") -> Callable[[], object]:
    """One job with a bare ``requests.Session`` and no client library: POST ``body`` (a job
    definition's JSON), poll the status every 2 ms until it is final, GET the measurements and
    ``json.loads`` them. The floor under any client's round trip of the same job."""
    import json

    import requests

    http = requests.Session()
    headers = {"Content-Type": "application/json"}
    base = f"{url}/api/v1/jobs"

    def once() -> object:
        job = http.post(f"{base}/{quantum_computer}/circuit", data=body, headers=headers).json()
        while job["status"] not in ("completed", "failed", "cancelled"):
            time.sleep(0.002)
            job = http.get(f"{base}/{job['id']}").json()
        if job["status"] != "completed":
            raise RuntimeError(f"the floor's job ended {job['status']}")
        return json.loads(http.get(f"{base}/{job['id']}/artifacts/measurements").text)

    return once

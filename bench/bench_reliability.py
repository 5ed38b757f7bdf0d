"""Reliability benchmarks: load on one emulator, and the cost of a flaky network.

- Load: 32 client threads x 20 jobs (each thread its own connection) against one emulator
  process on loopback; throughput (jobs/s) and p50/p99 job latency, against absolute goals.
- Faults: 60 small jobs through the core connection with 20% 503s, 10% delays and 5%+5%
  dropped connections, against the same 60 jobs on a healthy server (the anchor): the ratio
  is what the retries cost. Every job must complete with the right bits in both runs (the
  anchor iqm-client stack completes about a third of them under these faults).
"""

from __future__ import annotations

import pathlib
import sys
import tempfile
import time

from _common import Figure

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "tests" / "reliability"))
from _rel import FAULTS, check_x_ghz, load_run, server_process, x_ghz_circuit  # noqa: E402

_LOAD: dict[str, float] = {}


def _load() -> dict[str, float]:
    if not _LOAD:
        with (
            tempfile.TemporaryDirectory() as tmp,
            server_process(pathlib.Path(tmp) / "jobs.sqlite3") as server,
        ):
            _LOAD.update(load_run(server.url, 32, 20))
    return _LOAD


def load_throughput() -> Figure:
    """Jobs per second for 32 clients x 20 jobs; goal: at least 50 jobs/s (as s per job)."""
    f = _load()
    return Figure(
        "reliability.load_32x20_seconds_per_job",
        1.0 / f["throughput"],
        1.0 / 50.0,
        1.0,
        note=f"{f['throughput']:.1f} jobs/s over {f['jobs']:.0f} jobs",
    )


def load_p50() -> Figure:
    """Median job latency (submit to checked result) under that load; goal 500 ms."""
    return Figure("reliability.load_p50_latency", _load()["p50"], 0.5, 1.0)


def load_p99() -> Figure:
    """99th-percentile job latency under that load; goal 2 s."""
    return Figure("reliability.load_p99_latency", _load()["p99"], 2.0, 1.0)


def _jobs(faults: dict[str, float] | None, jobs: int = 60) -> float:
    from iqm_bridge.core.options import RunOptions
    from iqm_bridge.core.pipeline import prepare_one
    from iqm_bridge.core.submit import Connection
    from iqm_bridge.emulator import Emulator, FaultOptions

    options = FaultOptions(**faults, seed=11) if faults else None
    with Emulator(machine="garnet", noise=False, seed=3, faults=options) as url:
        emu_conn = Connection(url, journal=None)
        native = prepare_one(x_ghz_circuit(), emu_conn.device)
        t0 = time.perf_counter()
        for _ in range(jobs):
            (res,) = emu_conn.submit([native], RunOptions(shots=8)).result(timeout=60)
            check_x_ghz(res.bits.memory())
        return time.perf_counter() - t0


def faults_cost() -> Figure:
    """60 jobs under the issue's faults vs on a healthy server; goal: at most 10x the time."""
    healthy = _jobs(None)
    flaky = _jobs(FAULTS)
    return Figure(
        "reliability.faulty_60_jobs_vs_healthy", flaky, healthy, 10.0, note="all 60 correct"
    )


BENCHMARKS = [load_throughput, load_p50, load_p99, faults_cost]

"""Load: 32 concurrent clients x 20 jobs against one emulator process on loopback; every one
of the 640 results is right. Throughput and latency are printed (``-s``), never asserted;
``bench/bench_reliability.py`` reports them as figures."""

from __future__ import annotations

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _rel import concurrent_jobs, server_process, x_ghz_jobs  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

CLIENTS = 32
JOBS = 20


def test_32_clients_x_20_jobs(tmp_path: pathlib.Path) -> None:
    with server_process(tmp_path / "jobs.sqlite3") as server:
        figures = concurrent_jobs(CLIENTS, JOBS, x_ghz_jobs(server.url), join_timeout=300)
    assert figures["jobs"] == CLIENTS * JOBS
    print(
        f"\nload {CLIENTS}x{JOBS}: {figures['jobs']:.0f} jobs in {figures['seconds']:.1f} s, "
        f"{figures['throughput']:.1f} jobs/s, p50 {figures['p50'] * 1e3:.0f} ms, "
        f"p99 {figures['p99'] * 1e3:.0f} ms"
    )

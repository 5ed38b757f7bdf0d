"""Helpers of the reliability and security suites: circuits with known answers, and an
emulator run as a separate process (so it can be killed for real)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import requests

from iqm_bridge.core import Circuit, Gate, Measure
from iqm_bridge.core.keys import KeyMap, Register

# the network faults of the issue: 20% 503, 10% delayed, 5% dropped before and 5% after
# handling (so some created jobs' answers are lost)
FAULTS = {
    "error_rate": 0.20,
    "delay_rate": 0.10,
    "delay_seconds": 0.05,
    "drop_rate": 0.05,
    "drop_after_rate": 0.05,
}


def x_ghz_circuit(name: str = "xghz") -> Circuit:
    """Logical circuit: X on q0 and a GHZ pair on q1, q2. Every shot reads 1, b, b."""
    reg = Register("c", 3)
    ops = [
        Gate("x", ("q0",)),
        Gate("h", ("q1",)),
        Gate("cx", ("q1", "q2")),
        *(Measure((q,), KeyMap.encode(reg, 0, i)) for i, q in enumerate(("q0", "q1", "q2"))),
    ]
    return Circuit(("q0", "q1", "q2"), ops, name=name)


def check_x_ghz(bits: np.ndarray) -> None:
    """Rows are shots of (q0, q1, q2): q0 always 1, q1 == q2 always (noise is off)."""
    bits = np.asarray(bits)
    assert bits.ndim == 2 and bits.shape[1] == 3, bits.shape
    assert (bits[:, 0] == 1).all(), bits
    assert (bits[:, 1] == bits[:, 2]).all(), bits


def free_port() -> int:
    """A TCP port that was free a moment ago on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``python -m iqm_bridge.emulator serve`` in a child process, killable with SIGKILL.

    Args:
        db: the SQLite job file (kept across restarts).
        port: the TCP port (kept across restarts so clients keep their URL).
        args: more ``serve`` options.
    """

    def __init__(self, db: Path, port: int, args: Sequence[str] = ()) -> None:
        self.db = db
        self.port = port
        self.args = list(args)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> str:
        cmd = [sys.executable, "-m", "iqm_bridge.emulator", "serve", "--db", str(self.db)]
        cmd += ["--port", str(self.port), "--no-noise", "--seed", "5", *self.args]
        log = open(self.db.with_suffix(".log"), "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the emulator exited with {self.proc.returncode}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/api/v1/about", timeout=2).status_code < 500:
                    return self.url
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("the emulator did not start in time")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing beyond what SQLite already committed."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None


@contextlib.contextmanager
def server_process(
    db: Path, port: int | None = None, args: Sequence[str] = ()
) -> Iterator[ServerProcess]:
    """A started :class:`ServerProcess`, killed at the end whatever happens."""
    server = ServerProcess(db, port or free_port(), args)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def concurrent_jobs(
    clients: int, jobs: int, make: Callable[[int], Callable[[], None]], join_timeout: float = 600
) -> dict[str, float]:
    """``clients`` threads each running ``jobs`` jobs one after another.

    ``make(i)`` builds thread i's one-job function (with its own connection) before the common
    start, so connecting is outside the timings.

    Returns:
        jobs, seconds, throughput (jobs/s), seconds_per_job, and p50/p99 job latency (s).
    """
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        try:
            once = make(index)
            start.wait(timeout=120)
            for _ in range(jobs):
                t0 = time.perf_counter()
                once()
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
        except BaseException as exc:  # collected and re-raised below
            with lock:
                errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait(timeout=120)
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=join_timeout)
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    if any(t.is_alive() for t in threads):
        raise RuntimeError("a load client hung")
    lat = np.array(latencies)
    return {
        "jobs": float(len(lat)),
        "seconds": elapsed,
        "throughput": len(lat) / elapsed,
        "seconds_per_job": elapsed / len(lat),
        "p50": float(np.percentile(lat, 50)),
        "p99": float(np.percentile(lat, 99)),
    }


def x_ghz_jobs(url: str, shots: int = 8) -> Callable[[int], Callable[[], None]]:
    """A ``make`` for :func:`concurrent_jobs`: each thread its own connection, each job one
    X-GHZ circuit whose every result is checked."""
    from iqm_bridge.core import prepare
    from iqm_bridge.core.options import RunOptions
    from iqm_bridge.core.submit import Connection

    def make(index: int) -> Callable[[], None]:
        conn = Connection(url, journal=None)
        (native,) = prepare([x_ghz_circuit(f"t{index}")], conn.device)
        options = RunOptions(shots=shots)

        def once() -> None:
            (result,) = conn.submit([native], options).result(timeout=120)
            check_x_ghz(result.bits.memory())

        return once

    return make

"""Faults between the SDK and a server, through a misbehaving proxy in front of the emulator.

Each test names the fault, the outcome a user must see (an ``IQMBridgeError`` subclass or the
right result) and what must not happen (a long stall, a duplicate job, a lost job id).
"""

from __future__ import annotations

import logging
import pathlib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

from iqm_bridge.core import (
    AmbiguousSubmissionError,
    Connection,
    JobNotFoundError,
    JobTimeoutError,
    Journal,
    RetryPolicy,
    RunOptions,
    run,
)

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _proxy import MisbehavingProxy  # noqa: E402
from _rel import check_x_ghz, x_ghz_circuit  # noqa: E402

pytestmark = pytest.mark.timeout(120)

SUBMIT = "/api/v1/jobs/"


def _is_submit(method: str, path: str) -> bool:
    return method == "POST" and path.startswith(SUBMIT) and "/circuit" in path


def test_a_hung_server_ends_in_a_timeout_within_the_deadline(
    emulator_factory: Callable[..., Any],
) -> None:
    """``result(timeout=5)`` is a total deadline across retries: a server that accepts the
    connection and never answers ends in ``JobTimeoutError`` well within 15 s (each request
    used to wait 120 s, ten times). Broken variant caught: a per-request time-out that ignores
    the caller's deadline (this test then hangs until pytest-timeout)."""
    emu = emulator_factory(machine="garnet", noise=False, queued=True)

    def hang_reads(method: str, path: str) -> str | None:
        return "hang" if method == "GET" and path.startswith("/api/v1/jobs/") else None

    with MisbehavingProxy(emu.url, hang_reads) as proxy:
        conn = Connection(proxy.url, journal=None)
        conn.device  # noqa: B018 - the architecture is read before the server hangs
        job = run(conn, [x_ghz_circuit()], RunOptions(shots=4))
        started = time.monotonic()
        with pytest.raises(JobTimeoutError, match="did not finish within 5"):
            job.result(timeout=5)
        assert time.monotonic() - started < 15


def test_an_unparseable_answer_to_a_created_job_is_ambiguous_and_journaled(
    emulator_factory: Callable[..., Any], tmp_path: pathlib.Path
) -> None:
    """The server creates the job, but its answer does not parse: the user gets
    ``AmbiguousSubmissionError`` naming the submission id, and the journal keeps that id (the
    job is findable, not orphaned). Broken variant caught: a plain ``ServerError`` with no id."""
    emu = emulator_factory(machine="garnet", noise=False)

    def garble(method: str, path: str) -> str | None:
        return "garbage" if _is_submit(method, path) else None

    journal = Journal(tmp_path / "journal.sqlite3")
    with MisbehavingProxy(emu.url, garble) as proxy:
        conn = Connection(proxy.url, journal=journal)
        with pytest.raises(AmbiguousSubmissionError, match="iqm_bridge_submission_id") as info:
            run(conn, [x_ghz_circuit()], RunOptions(shots=4))
    assert emu.job_count() == 1  # it exists on the server...
    (entry,) = journal.entries()
    assert entry.status == "ambiguous" and entry.job_id.startswith("submission:")
    assert entry.job_id.removeprefix("submission:") in str(info.value)  # ...and can be found


def test_a_gateway_503_after_creation_is_not_resent(
    emulator_factory: Callable[..., Any],
) -> None:
    """A 503 page from a gateway proves nothing about the job: the server may have created
    it. Against a server that does not deduplicate, the SDK must not resend (no duplicate job)
    and says the submission is ambiguous. Broken variant caught: treating every 503 as
    "refused, nothing created" (the emulator then holds 2+ jobs)."""
    emu = emulator_factory(machine="garnet", noise=False)

    def gateway(method: str, path: str) -> str | None:
        return "gateway503" if _is_submit(method, path) else None

    with MisbehavingProxy(emu.url, gateway) as proxy:
        conn = Connection(proxy.url, journal=None, retry=RetryPolicy(attempts=5, max_delay=0.01))
        conn._idempotent = False  # as a server that does not deduplicate says
        with pytest.raises(AmbiguousSubmissionError, match="not resent"):
            run(conn, [x_ghz_circuit()], RunOptions(shots=4))
    assert emu.job_count() == 1


def test_an_iqm_server_503_is_resent_without_a_duplicate(
    emulator_factory: Callable[..., Any],
) -> None:
    """The IQM server's own 503 (its error body) says it refused the request: resending is
    safe even without deduplication, and exactly one job results."""
    from iqm_bridge.emulator import FaultOptions

    emu = emulator_factory(
        machine="garnet",
        noise=False,
        faults=FaultOptions(error_rate=0.6, paths=(SUBMIT,), seed=7),
    )
    conn = Connection(emu.url, journal=None, retry=RetryPolicy(attempts=30, max_delay=0.01))
    conn._idempotent = False
    (result,) = run(conn, [x_ghz_circuit()], RunOptions(shots=4)).result(timeout=30)
    check_x_ghz(result.bits.memory())
    assert emu.job_count() == 1


def test_a_locked_journal_costs_about_a_second_not_thirty(
    emulator_url: str, tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds the journal's write lock: ``run`` and ``result`` each wait about
    a second, warn, and go on with the job. Broken variant caught: SQLite's 30 s busy
    time-out (this run then takes a minute)."""
    path = tmp_path / "journal.sqlite3"
    Journal(path).record("seed-entry", "http://x", None, 1, 1)  # the file and its table exist
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        conn = Connection(emulator_url, journal=Journal(path))
        caplog.set_level(logging.WARNING)
        started = time.monotonic()
        (result,) = run(conn, [x_ghz_circuit()], RunOptions(shots=4)).result(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait(10)
    check_x_ghz(result.bits.memory())
    assert "journal" in caplog.text and "locked" in caplog.text
    assert elapsed < 10


def test_a_corrupt_journal_is_named(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    from iqm_bridge.core import ConfigurationError

    with pytest.raises(ConfigurationError, match=str(path)):
        Journal(path).entries()
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path).execute("select * from jobs")  # the file really is corrupt


def test_retrieving_something_that_is_not_a_job_id(emulator_url: str) -> None:
    conn = Connection(emulator_url, journal=None)
    with pytest.raises(JobNotFoundError, match="'not-a-uuid' is not a job id"):
        conn.retrieve("not-a-uuid")

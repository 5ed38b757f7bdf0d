"""Crashes cost time, not results: a killed client recovers its jobs from the journal, and a
killed server (SIGKILL) restarted on its SQLite file loses no completed job and finishes or
fails, with a message, every job it was running."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import requests

from iqm_bridge.core import run
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit import Connection, JobStatus, RetryPolicy
from iqm_bridge.core.submit.journal import Journal

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _rel import check_x_ghz, server_process, x_ghz_circuit  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

CLIENT = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, sys.argv[2])
    from _rel import x_ghz_circuit
    from iqm_bridge.core.options import RunOptions
    from iqm_bridge.core import run
    from iqm_bridge.core.submit import Connection

    conn = Connection(sys.argv[1])  # the journal comes from IQM_BRIDGE_JOURNAL
    for i in range(int(sys.argv[3])):
        run(conn, [x_ghz_circuit(f"c{i}")] * 2, RunOptions(shots=16), max_circuits=1)
    os.kill(os.getpid(), signal.SIGKILL)  # right after the last submission returned
    """
)


def test_killed_client_recovers_every_job_from_the_journal(tmp_path: pathlib.Path) -> None:
    journal_file = tmp_path / "journal.sqlite3"
    env = {**os.environ, "IQM_BRIDGE_JOURNAL": str(journal_file)}
    jobs = 6
    with server_process(tmp_path / "jobs.sqlite3", args=["--queue-delay", "1"]) as server:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                CLIENT,
                server.url,
                str(pathlib.Path(__file__).parent),
                str(jobs),
            ],
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert proc.returncode == -9, proc.stderr.decode()[-2000:]
        # a new process lists the jobs from the journal ...
        listed = subprocess.run(
            [str(pathlib.Path(sys.executable).parent / "iqm-bridge"), "jobs", "list", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
        entries = json.loads(listed.stdout)
        # each submission: two server jobs and the split handle joining them
        handles = [e for e in entries if "," in e["job_id"]]
        assert len(handles) == jobs
        assert len(entries) == 3 * jobs
        assert {e["status"] for e in entries} == {"submitted"}
        # ... and every result comes back, correct, by id alone
        conn = Connection(server.url, journal=Journal(journal_file))
        for entry in handles:
            job = conn.retrieve(entry["job_id"])
            results = job.result(timeout=60)
            assert len(results) == 2
            for r in results:
                check_x_ghz(r.bits.memory())
                assert r.shots == 16
        assert Journal(journal_file).get(handles[0]["job_id"]).status == "completed"  # type: ignore[union-attr]


def test_killed_server_restarts_without_losing_jobs(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "jobs.sqlite3"
    patient = RetryPolicy(attempts=60, base_delay=0.05, max_delay=0.5)
    with server_process(db, args=["--queue-delay", "0.5"]) as server:
        conn = Connection(server.url, journal=Journal(tmp_path / "journal.sqlite3"), retry=patient)
        first = [run(conn, [x_ghz_circuit("early")], RunOptions(shots=32)) for _ in range(5)]
        done = {}
        for job in first:
            (res,) = job.result(timeout=60)
            check_x_ghz(res.bits.memory())
            raw = requests.get(
                f"{server.url}/api/v1/jobs/{job.job_id}/artifacts/measurements", timeout=10
            )
            done[job.job_id] = raw.content
        # jobs still queued or running when the server dies
        pending = [run(conn, [x_ghz_circuit("late")], RunOptions(shots=32)) for _ in range(8)]
        unfinished = sum(j.status() is not JobStatus.COMPLETED for j in pending)
        print(f"\nSIGKILL with {len(done)} jobs completed and {unfinished} of 8 unfinished")
        assert unfinished > 0

        # a client keeps waiting through the crash and the restart
        waited: dict[str, object] = {}

        def wait_all() -> None:
            for job in pending:
                try:
                    waited[job.job_id] = job.result(timeout=120)
                except Exception as exc:  # reported below
                    waited[job.job_id] = exc

        waiter = threading.Thread(target=wait_all)
        server.kill()  # SIGKILL mid-run
        waiter.start()
        time.sleep(0.5)
        server.start()  # same file, same port
        waiter.join(timeout=150)
        assert not waiter.is_alive()

        for job_id, raw in done.items():  # completed before the crash: identical after it
            again = requests.get(
                f"{server.url}/api/v1/jobs/{job_id}/artifacts/measurements", timeout=10
            )
            assert again.content == raw
        for job in pending:  # every pending job ended completed (or failed with a message)
            outcome = waited[job.job_id]
            assert not isinstance(outcome, BaseException), repr(outcome)
            (res,) = outcome  # type: ignore[misc]
            check_x_ghz(res.bits.memory())
        fresh = Connection(server.url, journal=None)
        for job in [*first, *pending]:
            assert fresh.retrieve(job.job_id).status() is JobStatus.COMPLETED


def test_job_running_at_the_crash_is_rerun_or_failed_with_a_message(tmp_path: pathlib.Path) -> None:
    """A job left ``processing`` in the file is requeued on restart and then finishes."""
    import sqlite3

    db = tmp_path / "jobs.sqlite3"
    with server_process(db, args=["--queue-delay", "30"]) as server:
        conn = Connection(server.url, journal=None)
        job = run(conn, [x_ghz_circuit()], RunOptions(shots=8))
        server.kill()
        # freeze the moment of the crash as "running": the worker had started it
        with sqlite3.connect(db) as con:
            con.execute("UPDATE jobs SET status = 'processing' WHERE id = ?", (job.job_id,))
    with server_process(db, port=server.port, args=["--queue-delay", "0"]) as again:
        fresh = Connection(again.url, journal=None)
        job2 = fresh.retrieve(job.job_id)
        assert job2.wait(timeout=60) is JobStatus.COMPLETED
        check_x_ghz(job2.result()[0].bits.memory())
        timeline = requests.get(f"{again.url}/api/v1/jobs/{job.job_id}", timeout=10).json()
        assert "requeued_after_restart" in {e["status"] for e in timeline["timeline"]}

"""Jobs that outlive their process: the embedded emulator's job file, shared by servers.

Several servers (in one process or several) share one SQLite file: each runs the jobs it
queued, a job queued by a live server is never run by another, a job left unfinished by a dead
server is resumed (or failed clearly) by the next one, and every server answers for every job
in the file, whichever machine ran it. The file's finished jobs are bounded by a retention.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

import iqm_bridge.emulator as emulator_pkg
from iqm_bridge.core.errors import ConfigurationError
from iqm_bridge.emulator import Emulator
from iqm_bridge.emulator._server import DB_ENV, embedded_db
from iqm_bridge.emulator._store import JobStore, Retention

API = "/api/v1"


def _body(qubit: str = "QB1", shots: int = 20, sid: str | None = None) -> str:
    metadata = {} if sid is None else {"iqm_bridge_submission_id": sid}
    return json.dumps(
        {
            "circuits": [
                {
                    "name": "c",
                    "instructions": [
                        {"name": "prx", "locus": [qubit], "args": {"angle": 3.141592653589793,
                                                                   "phase": 0.0}},
                        {"name": "measure", "locus": [qubit], "args": {"key": "m"}},
                    ],
                    "metadata": metadata,
                }
            ],
            "shots": shots,
        }
    )  # fmt: skip


def _post(url: str, qc: str = "garnet", **kw: Any) -> dict[str, Any]:
    resp = requests.post(
        f"{url}{API}/jobs/{qc}/circuit?use_timeslot=false",
        data=_body(**kw),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()
    return result


def _job(url: str, job_id: str) -> dict[str, Any]:
    resp = requests.get(f"{url}{API}/jobs/{job_id}", timeout=10)
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()
    return result


def _wait(url: str, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job = _job(url, job_id)
    while job["status"] in ("waiting", "processing") and time.monotonic() < deadline:
        time.sleep(0.02)
        job = _job(url, job_id)
    return job


def _server_of(db: Path, job_id: str) -> str:
    with sqlite3.connect(db) as con:
        return str(con.execute("SELECT server FROM jobs WHERE id = ?", (job_id,)).fetchone()[0])


def _started(job: dict[str, Any]) -> int:
    return sum(entry["status"] == "execution_started" for entry in job["timeline"])


# ------------------------------------------------------------------------------ the embedded file
def test_embedded_file_is_per_user_and_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    from platformdirs import user_data_dir

    # the suite's own setting (tests/conftest.py) keeps it out of the user's data directory
    assert not embedded_db().startswith(user_data_dir("iqm-bridge"))
    monkeypatch.delenv(DB_ENV)
    assert embedded_db() == str(Path(user_data_dir("iqm-bridge")) / "emulator.sqlite3")
    monkeypatch.setenv(DB_ENV, ":memory:")
    assert embedded_db() == ":memory:"


def test_start_embedded_for_a_machine_and_file(tmp_path: Path) -> None:
    db = str(tmp_path / "jobs.sqlite3")
    emulator_pkg.stop_embedded()
    try:
        adonis = emulator_pkg.start_embedded(machine="adonis", db=db, noise=False)
        assert emulator_pkg.start_embedded(machine="adonis", db=db, noise=False) == adonis
        deneb = emulator_pkg.start_embedded("deneb", db)
        assert deneb != adonis
        qcs = requests.get(f"{deneb}{API}/quantum-computers", timeout=5).json()
        assert [q["alias"] for q in qcs["quantum_computers"]] == ["deneb"]
        job = _post(adonis, qc="adonis")
        # one file: the deneb server answers for the adonis job
        assert _job(deneb, job["id"])["status"] == "completed"
        with pytest.raises(ConfigurationError, match="'nope' is not an emulated machine"):
            emulator_pkg.start_embedded(machine="nope", db=db)
        blocked = tmp_path / "file"
        blocked.write_text("x")
        with pytest.raises(ConfigurationError, match="cannot create the folder"):
            emulator_pkg.start_embedded(db=str(blocked / "sub" / "jobs.sqlite3"))
    finally:
        emulator_pkg.stop_embedded()


_CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    import requests
    from iqm_bridge.emulator import Emulator, start_embedded

    body = sys.argv[1]
    headers = {"Content-Type": "application/json"}
    url = start_embedded(machine="adonis")  # the file comes from IQM_BRIDGE_EMULATOR_DB
    done = requests.post(f"{url}/api/v1/jobs/adonis/circuit", data=body, headers=headers).json()
    slow = Emulator(machine="deneb", noise=False, db=os.environ["IQM_BRIDGE_EMULATOR_DB"],
                    queue_delay=3600)
    slow_url = slow.start()
    waiting = requests.post(f"{slow_url}/api/v1/jobs/deneb/circuit", data=body,
                            headers=headers).json()
    print(json.dumps({"done": done, "waiting": waiting}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no clean-up at all: the process is simply gone
    """
)


@pytest.mark.slow
def test_jobs_outlive_a_killed_process(tmp_path: Path) -> None:
    """A job finished in a killed process is still served; one it left waiting is resumed.

    Both by an embedded emulator started later for another machine on the same file. Fails on
    the variant that keeps embedded jobs in memory (the first GET is then a 404) and on the
    one without adoption (the waiting job then stays waiting: 60 s timeout).
    """
    db = tmp_path / "user" / "emulator.sqlite3"
    db.parent.mkdir()
    env = {**os.environ, DB_ENV: str(db), "IQM_BRIDGE_EMULATOR_NOISE": "off"}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, _body(shots=30)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -9, proc.stderr
    jobs = json.loads(proc.stdout)
    done, waiting = jobs["done"], jobs["waiting"]
    assert done["status"] == "completed" and waiting["status"] == "waiting"

    emulator_pkg.stop_embedded()
    try:
        url = emulator_pkg.start_embedded(machine="garnet", db=str(db))
        assert _job(url, done["id"])["status"] == "completed"
        base = f"{url}{API}/jobs/{done['id']}"
        assert requests.get(f"{base}/artifacts/measurements", timeout=5).json() == [
            {"m": [[1]] * 30}
        ]
        counts = requests.get(f"{base}/artifacts/measurement_counts", timeout=5).json()
        assert counts == [{"measurement_keys": ["m"], "counts": {"1": 30}}]
        assert json.loads(requests.get(f"{base}/payload", timeout=5).text)["shots"] == 30
        assert requests.post(f"{base}/cancel", timeout=5).status_code == 204

        # the deneb job of the dead server: resumed here (a garnet server) with its own noise
        resumed = _wait(url, waiting["id"])
        assert resumed["status"] == "completed", resumed
        assert _started(resumed) == 1
        meas = requests.get(
            f"{url}{API}/jobs/{waiting['id']}/artifacts/measurements", timeout=5
        ).json()
        assert meas == [{"m": [[1]] * 30}]
    finally:
        emulator_pkg.stop_embedded()


# ------------------------------------------------------------------------------ sharing a file
def test_a_live_servers_queued_job_is_not_taken(tmp_path: Path) -> None:
    """Server B on A's file leaves A's waiting job alone while A lives; takes it once A stops.

    Fails on the variant that counts every other server as dead (B then adopts the job when it
    starts: the job's server changes to B's).
    """
    db = tmp_path / "jobs.sqlite3"
    with Emulator(machine="garnet", noise=False, db=str(db), queue_delay=3600) as a_url:
        job = _post(a_url)
        assert job["status"] == "waiting"
        a_server = _server_of(db, job["id"])
        with Emulator(machine="adonis", noise=False, db=str(db)) as b_url:
            assert _job(b_url, job["id"])["status"] == "waiting"
            assert _server_of(db, job["id"]) == a_server
    # A is gone (stopped cleanly, its job still waiting); a new server runs the job once
    with Emulator(machine="adonis", noise=False, db=str(db)) as c_url:
        finished = _wait(c_url, job["id"])
        assert finished["status"] == "completed" and _started(finished) == 1
        assert _server_of(db, job["id"]) != a_server


def test_adoption_is_exclusive(tmp_path: Path) -> None:
    """Of two servers adopting one orphaned job at once, exactly one gets it.

    Fails on the variant whose adopt does not check the previous owner (both would get it).
    """
    db = str(tmp_path / "jobs.sqlite3")
    gone = JobStore(db)
    gone.create("j1", "", "garnet", b"{}", {}, None, [])
    dead = gone.server_id
    gone.close()
    one, two = JobStore(db), JobStore(db)
    try:
        assert not one.alive(dead) and not two.alive(dead)
        assert two.alive(one.server_id) and one.alive(two.server_id)
        assert one.adopt("j1", dead) is True
        assert two.adopt("j1", dead) is False
        assert one.get("j1").server == one.server_id  # type: ignore[union-attr]
    finally:
        one.close()
        two.close()
    assert not JobStore(":memory:").alive(one.server_id)


def test_a_dead_servers_running_job_is_retried_once_then_failed(tmp_path: Path) -> None:
    db = str(tmp_path / "jobs.sqlite3")
    gone = JobStore(db)
    body = _body(shots=10).encode()
    created = [{"source": "iqm-server", "status": "created", "timestamp": "2026-01-01T00:00:00"}]
    started = {"source": "iqm-server", "status": "execution_started", "timestamp": "2026-01-01"}
    requeued = {"source": "iqm-server", "status": "requeued_after_restart", "timestamp": "2026"}
    for job_id, timeline in [
        ("00000000-0000-4000-8000-000000000001", [*created, started]),
        ("00000000-0000-4000-8000-000000000002", [*created, started, requeued, started]),
    ]:
        gone.create(job_id, "", "garnet", body, {"noise": False}, None, created)
        gone.update(job_id, "processing", timeline)
    gone.close()
    with Emulator(machine="garnet", noise=False, db=db) as url:
        retried = _wait(url, "00000000-0000-4000-8000-000000000001")
        assert retried["status"] == "completed"
        assert [e["status"] for e in retried["timeline"]].count("requeued_after_restart") == 1
        failed = _job(url, "00000000-0000-4000-8000-000000000002")
        assert failed["status"] == "failed"
        (error,) = failed["errors"]
        assert error["error_code"] == "server_exited"
        assert "for the second time" in error["message"]


def test_a_file_of_an_older_emulator_opens(tmp_path: Path) -> None:
    """Files written before servers had ids: their jobs are served, their unfinished ones run."""
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as con:
        con.execute(
            "CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,"
            " owner TEXT NOT NULL, qc TEXT NOT NULL, status TEXT NOT NULL, payload BLOB NOT NULL,"
            " options TEXT NOT NULL, calibration_set_id TEXT, timeline TEXT NOT NULL,"
            " errors TEXT NOT NULL, measurements TEXT, counts TEXT)"
        )
        con.execute(
            "CREATE TABLE submissions (owner TEXT NOT NULL, submission_id TEXT NOT NULL,"
            " job_id TEXT NOT NULL, PRIMARY KEY (owner, submission_id))"
        )
        con.execute(
            "INSERT INTO jobs (id, owner, qc, status, payload, options, timeline, errors)"
            " VALUES ('00000000-0000-4000-8000-00000000000a', '', 'garnet', 'waiting', ?,"
            " '{\"noise\": false}', ?, '[]')",
            (_body(shots=5).encode(), json.dumps([{"source": "s", "status": "created",
                                                   "timestamp": "2026-01-01T00:00:00"}])),
        )  # fmt: skip
    with Emulator(machine="garnet", noise=False, db=str(db)) as url:
        job = _wait(url, "00000000-0000-4000-8000-00000000000a")
        assert job["status"] == "completed"
        again = _post(url, sid="s-1")
        assert _post(url, sid="s-1")["id"] == again["id"]


def test_a_busy_file_makes_requests_wait_not_fail(tmp_path: Path) -> None:
    """Another connection (another server, another process) holds the file's write lock for a
    second while a job is posted: the POST waits for the lock and succeeds.

    Fails without a busy timeout (the POST is then a 500, "database is locked").
    """
    db = str(tmp_path / "jobs.sqlite3")
    with Emulator(machine="garnet", noise=False, db=db) as url:
        holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        try:
            holder.execute("BEGIN IMMEDIATE")
            release = threading.Timer(1.0, holder.execute, ("COMMIT",))
            release.start()
            job = _post(url)
            release.join()
        finally:
            holder.close()
        assert job["status"] == "completed"


# ------------------------------------------------------------------------------ retention
def _finished_store(db: str, sizes: list[int]) -> JobStore:
    store = JobStore(db)
    for i, size in enumerate(sizes):
        job_id = f"job-{i}"
        store.create(job_id, "", "garnet", b"p", {}, None, [], submission_id=f"s-{i}")
        store.update(job_id, "completed", [], measurements="x" * size)
    store.create("still-waiting", "", "garnet", b"p", {}, None, [])
    return store


def test_retention_keeps_the_newest_finished_jobs(tmp_path: Path) -> None:
    """Fails on the variant that prunes unfinished jobs too, or the newest rather than oldest."""
    store = _finished_store(str(tmp_path / "a.sqlite3"), [100] * 6)
    try:
        assert store.prune(Retention(max_jobs=3)) == 3
        assert store.ids() == ["job-3", "job-4", "job-5", "still-waiting"]
        # the pruned jobs' submission ids went with them; a resend of s-0 is a new job
        assert store.create("new", "", "garnet", b"p", {}, None, [], submission_id="s-0") is None
        assert store.create("new2", "", "garnet", b"p", {}, None, [], submission_id="s-5")
    finally:
        store.close()
    store = _finished_store(str(tmp_path / "b.sqlite3"), [100, 100, 100, 100, 5000])
    try:
        # each job holds its 1-byte payload and its results: 101 or 5001 bytes
        assert store.prune(Retention(max_bytes=5150)) == 3
        assert store.ids() == ["job-3", "job-4", "still-waiting"]
        assert store.prune(Retention(max_bytes=10)) == 1  # the newest stays whatever its size
        assert store.ids() == ["job-4", "still-waiting"]
    finally:
        store.close()


def test_retention_bounds_the_file(tmp_path: Path) -> None:
    """200 jobs of 100 kB with 5 kept and a prune every 10 jobs: the file stays near 1.5 MB.

    At most 5 + 10 jobs (1.5 MB) are ever stored at once; freed pages are reused or returned,
    so the file stays under 4 MB, where keeping everything would take 20 MB (fails so).
    """
    db = tmp_path / "big.sqlite3"
    store = JobStore(str(db))
    try:
        for i in range(200):
            store.create(f"j{i}", "", "garnet", b"p", {}, None, [])
            store.update(f"j{i}", "completed", [], measurements="0" * 100_000)
            if i % 10 == 9:
                store.prune(Retention(max_jobs=5))
        assert store.count() == 5
    finally:
        store.close()
    assert db.stat().st_size < 4_000_000


def test_emulator_applies_its_retention_when_it_starts(tmp_path: Path) -> None:
    db = str(tmp_path / "jobs.sqlite3")
    with Emulator(machine="garnet", noise=False, db=db) as url:
        ids = [_post(url)["id"] for _ in range(4)]
    with Emulator(machine="garnet", noise=False, db=db, retention=Retention(max_jobs=2)) as url:
        assert requests.get(f"{url}{API}/jobs/{ids[0]}", timeout=5).status_code == 404
        assert [_job(url, i)["status"] for i in ids[2:]] == ["completed", "completed"]

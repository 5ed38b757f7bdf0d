"""Ctrl-C while waiting for a job: cancel it (when configured or confirmed) or leave it
running, and leave the journal telling the truth either way."""

from __future__ import annotations

import os
import pathlib
import signal
import sys
import threading
import time
import types
from collections.abc import Callable
from typing import Any

import pytest

from iqm_bridge.core import run
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit import Connection, Job, JobStatus
from iqm_bridge.core.submit.journal import Journal

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _rel import x_ghz_circuit  # noqa: E402

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def queued(emulator_factory: Callable[..., Any]) -> Any:
    """An emulator whose jobs wait 30 s in the queue: a wait is always interrupted first."""
    return emulator_factory(machine="garnet", noise=False, queue_delay=30.0)


def _submit(url: str, tmp_path: pathlib.Path, cancel: bool | None) -> tuple[Connection, Job]:
    conn = Connection(
        url,
        journal=Journal(tmp_path / "journal.sqlite3"),
        cancel_on_interrupt=cancel,
        progress=False,
    )
    return conn, run(conn, [x_ghz_circuit()], RunOptions(shots=4))


def _interrupt_sleep(monkeypatch: pytest.MonkeyPatch, after: int = 2) -> None:
    """The wait loop's ``time.sleep`` raises KeyboardInterrupt on its ``after``-th call."""
    calls = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) >= after:
            raise KeyboardInterrupt
        time.sleep(min(seconds, 0.05))

    fake = types.SimpleNamespace(sleep=sleep, monotonic=time.monotonic, time=time.time)
    monkeypatch.setattr("iqm_bridge.core.submit.jobs.time", fake)


def _journal_status(conn: Connection, job: Job) -> str:
    assert conn.journal is not None
    entry = conn.journal.get(job.job_id)
    assert entry is not None
    return entry.status


def test_interrupt_cancels_when_configured(
    queued: Any, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn, job = _submit(queued.url, tmp_path, cancel=True)
    _interrupt_sleep(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        job.wait(timeout=20)
    monkeypatch.undo()
    assert job.status() is JobStatus.CANCELLED  # on the server
    assert _journal_status(conn, job) == "cancelled"


def test_interrupt_leaves_the_job_running_when_asked_to(
    queued: Any, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    conn, job = _submit(queued.url, tmp_path, cancel=False)
    _interrupt_sleep(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        job.wait(timeout=20)
    monkeypatch.undo()
    assert job.status() is JobStatus.WAITING
    assert _journal_status(conn, job) == "submitted"  # still to be collected
    assert f"job {job.job_id} keeps running on the server" in caplog.text
    assert "iqm-bridge jobs list" in caplog.text
    # a new connection (think: a new process) finds it from the id in the journal
    again = Connection(queued.url, journal=None).retrieve(job.job_id)
    assert again.status() is JobStatus.WAITING
    assert again.cancel()


def test_interrupt_without_a_terminal_does_not_cancel(
    queued: Any, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn, job = _submit(queued.url, tmp_path, cancel=None)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    _interrupt_sleep(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        job.wait(timeout=20)
    monkeypatch.undo()
    assert job.status() is JobStatus.WAITING
    assert _journal_status(conn, job) == "submitted"
    job.cancel()


@pytest.mark.parametrize(("answer", "cancelled"), [("y", True), ("", False), ("no", False)])
def test_interrupt_on_a_terminal_asks(
    queued: Any,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    cancelled: bool,
) -> None:
    conn, job = _submit(queued.url, tmp_path, cancel=None)
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return answer

    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(sys, "stderr", types.SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr("builtins.input", ask)
    _interrupt_sleep(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        job.wait(timeout=20)
    monkeypatch.undo()
    assert prompts == [f"\nCancel job {job.job_id} on the server? [y/N] "]
    expected = JobStatus.CANCELLED if cancelled else JobStatus.WAITING
    assert job.status() is expected
    assert _journal_status(conn, job) == ("cancelled" if cancelled else "submitted")
    job.cancel()


def test_real_sigint_during_wait_cancels_a_split_job(queued: Any, tmp_path: pathlib.Path) -> None:
    """A real SIGINT (from another thread) while ``wait`` sleeps; every part is cancelled."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("SIGINT reaches only the main thread")
    conn = Connection(
        queued.url, journal=Journal(tmp_path / "journal.sqlite3"), cancel_on_interrupt=True
    )
    job = run(conn, [x_ghz_circuit(f"c{i}") for i in range(3)], RunOptions(shots=4), max_circuits=1)
    assert len(job.job_ids) == 3
    # a real SIGINT from another thread; the handler turns it into KeyboardInterrupt only while
    # the wait runs, so a signal that arrives late cannot escape the test as a stray traceback
    armed = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        if armed.is_set():
            armed.clear()
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    armed.set()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            job.wait(timeout=20)
    finally:
        armed.clear()
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGINT, previous)
    fresh = Connection(queued.url, journal=None)
    for jid in job.job_ids:
        assert fresh.retrieve(jid).status() is JobStatus.CANCELLED
        assert _journal_status_of(conn, jid) == "cancelled"
    assert _journal_status_of(conn, job.job_id) == "cancelled"


def _journal_status_of(conn: Connection, job_id: str) -> str:
    assert conn.journal is not None
    entry = conn.journal.get(job_id)
    assert entry is not None
    return entry.status

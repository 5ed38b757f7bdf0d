"""The submission layer against the real emulator over HTTP."""

from __future__ import annotations

import math
import os
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

from iqm_bridge.core import Circuit, Gate, Measure, run
from iqm_bridge.core.errors import (
    CircuitValidationError,
    JobFailedError,
    JobTimeoutError,
)
from iqm_bridge.core.keys import KeyMap, Register, counts_from_bits
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit import Connection, JobStatus
from iqm_bridge.core.submit.journal import Journal


def ghz(n: int, name: str = "ghz") -> Circuit:
    qubits = tuple(f"q{i}" for i in range(n))
    reg = Register("c", n)
    ops: list[Any] = [Gate("h", (qubits[0],))]
    ops += [Gate("cx", (qubits[i], qubits[i + 1])) for i in range(n - 1)]
    ops += [Measure((q,), KeyMap.encode(reg, 0, i)) for i, q in enumerate(qubits)]
    return Circuit(qubits, ops, name=name)


@pytest.fixture
def conn(emulator_url: str, tmp_path: pathlib.Path) -> Connection:
    return Connection(emulator_url, journal=Journal(tmp_path / "journal.sqlite3"))


def test_ghz_gives_only_all_zeros_and_all_ones(conn: Connection) -> None:
    shots = 2000
    res = run(conn, [ghz(4)], RunOptions(shots=shots)).result()[0]
    counts = counts_from_bits(res.bits.memory())
    assert set(counts) == {"0000", "1111"}
    assert abs(counts["0000"] - shots / 2) < 4 * math.sqrt(shots / 4)
    assert res.shots == shots
    assert res.name == "ghz"
    assert res.calibration_set_id is not None


def test_max_circuits_splits_into_several_jobs_behind_one_handle(conn: Connection) -> None:
    circuits = [ghz(2, name=f"c{i}") for i in range(5)]
    job = run(conn, circuits, RunOptions(shots=50), max_circuits=2)
    assert len(job.job_ids) == 3
    results = job.result()
    assert [r.name for r in results] == [f"c{i}" for i in range(5)]
    assert len({r.job_id for r in results}) == 3


def test_retrieve_rebuilds_results_from_the_id(conn: Connection, emulator_url: str) -> None:
    job = run(conn, [ghz(3)], RunOptions(shots=100), max_circuits=1)
    first = counts_from_bits(job.result()[0].bits.memory())
    again = Connection(emulator_url, journal=None).retrieve(job.job_id)
    assert counts_from_bits(again.result()[0].bits.memory()) == first
    assert again.shots == 100


def test_journal_records_every_job(conn: Connection) -> None:
    job = run(conn, [ghz(2)] * 3, RunOptions(shots=10), max_circuits=2)
    job.result()
    assert conn.journal is not None
    ids = {e.job_id for e in conn.journal.entries()}
    assert set(job.job_ids) | {job.job_id} <= ids
    assert conn.journal.get(job.job_ids[0]).status == "completed"  # type: ignore[union-attr]


def test_cancel_a_queued_job(emulator_factory: Callable[..., Any], tmp_path: pathlib.Path) -> None:
    emu = emulator_factory(machine="garnet", noise=False, queue_delay=30.0)
    conn = Connection(emu.url, journal=None)
    job = run(conn, [ghz(2)], RunOptions(shots=10))
    assert job.status() is JobStatus.WAITING
    with pytest.raises(JobTimeoutError, match="did not finish within 0.2 s"):
        job.wait(timeout=0.2)
    assert job.cancel()
    assert job.status() is JobStatus.CANCELLED
    with pytest.raises(JobFailedError, match="cancelled"):
        job.result()


def test_empty_batch_is_refused(conn: Connection) -> None:
    with pytest.raises(ValueError, match="empty") as info:
        run(conn, [])
    assert isinstance(info.value, CircuitValidationError)


def test_token_never_shows_in_repr(emulator_url: str) -> None:
    conn = Connection(emulator_url, token="s3cr3t-token", journal=None)
    assert "s3cr3t" not in repr(conn) and "s3cr3t" not in str(conn)


def test_token_over_plain_http_to_a_remote_host_warns() -> None:
    with pytest.warns(UserWarning, match="plain http"):
        Connection("http://example.invalid:9", token="t", journal=None)


def test_no_url_starts_the_embedded_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IQM_SERVER_URL", raising=False)
    monkeypatch.setenv(
        "IQM_BRIDGE_EMULATOR_NOISE", os.environ.get("IQM_BRIDGE_EMULATOR_NOISE", "off")
    )
    conn = Connection(journal=None)
    assert conn.url.startswith("http://127.0.0.1:")
    res = run(conn, [ghz(2)], RunOptions(shots=20)).result()[0]
    assert res.bits.memory().shape == (20, 2)


def test_unreadable_measurement_keys_are_refused_before_sending(
    emulator_factory: Callable[..., Any],
) -> None:
    emu = emulator_factory(machine="garnet", noise=False)
    conn = Connection(emu.url, journal=None)
    bad = Circuit(("QB1",), [Gate("prx", ("QB1",), (3.14, 0.0)), Measure(("QB1",), "m")])
    from iqm_bridge.core import CircuitValidationError

    with pytest.raises(CircuitValidationError, match="'m' is not of the form.*KeyMap.encode"):
        conn.submit([bad])
    assert emu.job_count() == 0

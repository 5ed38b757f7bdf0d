"""``iqm-bridge jobs``: the local journal and its jobs on their servers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _cli_helpers import (
    assert_clean_error,
    assert_fair_ghz,
    closed_port,
    ghz_ir,
    invoke,
)

from iqm_bridge.core import run as run_circuits
from iqm_bridge.core.keys import counts_from_bits
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit import Connection
from iqm_bridge.core.submit.journal import Journal


@pytest.fixture
def split_job(journal_path: Path, emulator_url: str) -> Any:
    """A finished two-circuit submission, split into two server jobs, in the journal."""
    conn = Connection(emulator_url, journal=Journal(journal_path), progress=False)
    job = run_circuits(
        conn, [ghz_ir(2, "bell"), ghz_ir(3, "ghz3")], RunOptions(shots=300), max_circuits=1
    )
    job.result(timeout=60)
    return job


def test_jobs_list(split_job: Any) -> None:
    data = json.loads(invoke("jobs", "list", "--json").output)
    assert {e["job_id"] for e in data} == {split_job.job_id, *split_job.job_ids}
    whole = next(e for e in data if e["job_id"] == split_job.job_id)
    assert whole["num_circuits"] == 2 and whole["shots"] == 300
    assert whole["status"] == "completed" and whole["quantum_computer"] == "garnet"

    human = invoke("jobs", "list")
    assert human.exit_code == 0
    assert human.output.splitlines()[0].split()[:3] == ["JOB", "ID", "SUBMITTED"]
    assert split_job.job_ids[0] in human.output
    limited = json.loads(invoke("jobs", "list", "--limit", "1", "--json").output)
    assert len(limited) == 1 and limited[0] == data[0]
    assert len(json.loads(invoke("jobs", "list", "--limit", "1", "--all", "--json").output)) == 3
    note = invoke("jobs", "list", "--limit", "2").output.splitlines()[-1]
    assert note == "(the newest 2 of 3 jobs; --all shows every one)"


def test_jobs_show_by_prefix(split_job: Any) -> None:
    first = split_job.job_ids[0]
    result = invoke("jobs", "show", first[:8], "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    # a server job and the split submission share the prefix: the server job wins
    assert info["job_id"] == first
    assert info["status"] == "completed" and info["num_circuits"] == 1
    assert info["queue_position"] is None and info["error"] is None

    whole = json.loads(invoke("jobs", "show", split_job.job_id, "--json").output)
    assert whole["num_circuits"] == 2
    human = invoke("jobs", "show", first)
    assert "status" in human.output and "completed" in human.output


def test_jobs_result_matches_the_core(split_job: Any) -> None:
    result = invoke("jobs", "result", split_job.job_id, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    direct = split_job.result()
    assert [d["name"] for d in data] == ["bell", "ghz3"]
    for item, res in zip(data, direct, strict=True):
        assert item["counts"] == counts_from_bits(
            res.bits.memory(), [2 if "bell" in item["name"] else 3]
        )
        assert item["registers"] == [["c", 2 if item["name"] == "bell" else 3]]
        assert item["shots"] == 300 and item["job_id"] == res.job_id
    assert_fair_ghz(data[1]["counts"], 3, 300)

    human = invoke("jobs", "result", split_job.job_id)
    assert "circuit 0 'bell': 300 shots, registers c[2]" in human.output
    assert "circuit 1 'ghz3': 300 shots, registers c[3]" in human.output


def test_jobs_cancel_a_finished_job(split_job: Any) -> None:
    result = invoke("jobs", "cancel", split_job.job_id, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "job_id": split_job.job_id,
        "cancelled": False,
        "status": "completed",
    }
    human = invoke("jobs", "cancel", split_job.job_ids[1])
    assert "already finished" in human.output


def test_jobs_cancel_a_waiting_job(
    journal_path: Path, emulator_factory: Callable[..., Any]
) -> None:
    emu = emulator_factory(machine="garnet", noise=False, queue_delay=60)
    conn = Connection(emu.url, journal=Journal(journal_path), progress=False)
    job = run_circuits(conn, [ghz_ir(2)], RunOptions(shots=10))
    result = invoke("jobs", "cancel", job.job_id, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "job_id": job.job_id,
        "cancelled": True,
        "status": "cancelled",
    }
    assert Journal(journal_path).get(job.job_id).status == "cancelled"
    assert_clean_error(invoke("jobs", "result", job.job_id), job.job_id, "cancelled")


def test_jobs_not_in_the_journal(split_job: Any, emulator_url: str) -> None:
    assert_clean_error(invoke("jobs", "show", "zzz"), "job zzz is not in the journal", "--url")
    # with --url a job unknown to the journal is asked of the server directly
    other = Connection(emulator_url, journal=None, progress=False)
    job = run_circuits(other, [ghz_ir(2)], RunOptions(shots=20))
    job.result(timeout=60)
    shown = json.loads(invoke("jobs", "show", job.job_id, "--url", emulator_url, "--json").output)
    assert shown["status"] == "completed" and shown["url"] == emulator_url
    unknown = str(uuid.uuid4())
    assert_clean_error(invoke("jobs", "result", unknown, "--url", emulator_url), unknown)


def test_jobs_empty_or_switched_off(journal_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert json.loads(invoke("jobs", "list", "--json").output) == []
    assert "no jobs in the journal" in invoke("jobs", "list").output
    monkeypatch.setenv("IQM_BRIDGE_JOURNAL", "off")
    assert_clean_error(invoke("jobs", "list"), "journal is switched off")


def test_jobs_on_a_server_that_is_gone(journal_path: Path) -> None:
    port = closed_port()
    Journal(journal_path).record(str(uuid.uuid4()), f"http://127.0.0.1:{port}", "garnet", 1, 5)
    (entry,) = Journal(journal_path).entries()
    result = invoke("jobs", "show", entry.job_id[:6])
    assert_clean_error(result, "cannot connect")
    # the journal's entry is shown all the same
    assert entry.job_id in result.stdout and "status            submitted" in result.stdout

"""The emulator's HTTP surface, spoken to with plain ``requests`` (no iqm-client)."""

from __future__ import annotations

import json
import pathlib
import sys
import time
import uuid
from typing import Any

import pytest
import requests

from iqm_bridge.emulator import FaultOptions, Limits

# tests may run with --import-mode=importlib, which puts no test folder on sys.path
sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _emulator_helpers import cz, job_body, measure, move, prx  # noqa: E402

API = "/api/v1"


def _post(url: str, body: str, qc: str = "garnet", **kw) -> requests.Response:
    return requests.post(
        f"{url}{API}/jobs/{qc}/circuit?use_timeslot=false",
        data=body,
        headers={"Content-Type": "application/json; charset=UTF-8", **kw.pop("headers", {})},
        timeout=30,
        **kw,
    )


def _assert_iqm_error(resp: requests.Response, status: int, *words: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"message", "error_code", "source"}
    assert body["source"] == "iqm-server" and isinstance(body["message"], str)
    for word in words:
        assert word in body["message"]


def test_quantum_computers_and_architecture(emulator_url: str) -> None:
    qcs = requests.get(f"{emulator_url}{API}/quantum-computers", timeout=5).json()
    (qc,) = qcs["quantum_computers"]
    assert qc["alias"] == "garnet" and qc["proxy_path"] is None
    uuid.UUID(qc["id"])
    dqa = requests.get(
        f"{emulator_url}{API}/calibration-sets/garnet/default/dynamic-quantum-architecture",
        timeout=5,
    ).json()
    assert dqa["qubits"] == [f"QB{i}" for i in range(1, 21)]
    assert len(dqa["gates"]["cz"]["implementations"]["tgss"]["loci"]) == 30
    assert all("override_default_implementation" in g for g in dqa["gates"].values())
    again = requests.get(
        f"{emulator_url}{API}/calibration-sets/garnet/{dqa['calibration_set_id']}/"
        "dynamic-quantum-architecture",
        timeout=5,
    ).json()
    assert again == dqa
    sqa = requests.get(
        f"{emulator_url}{API}/quantum-computers/garnet/artifacts/static-quantum-architectures",
        timeout=5,
    ).json()
    assert isinstance(sqa, list) and sqa[0]["qubits"] == dqa["qubits"]
    about = requests.get(
        f"{emulator_url}{API}/quantum-computers/garnet/artifacts/about", timeout=5
    ).json()
    assert "version" in about and isinstance(about["software_versions"], dict)
    assert requests.get(f"{emulator_url}{API}/about", timeout=5).ok
    assert requests.get(f"{emulator_url}{API}/quantum-computers/garnet/health", timeout=5).ok


def test_metrics_and_calibration_set(emulator_url: str) -> None:
    base = f"{emulator_url}{API}/calibration-sets/garnet/default"
    metrics = requests.get(f"{base}/metrics", timeout=5).json()
    fields = {o["dut_field"]: o["value"] for o in metrics["observations"]}
    assert 30e-6 <= fields["characterization.model.QB1.t1_time"] <= 60e-6
    assert 0.95 <= fields["metrics.ssro.measure.constant.QB1.fidelity"] <= 0.99
    assert 0.98 <= fields["metrics.irb.cz.tgss.QB1__QB2.fidelity"] <= 0.995
    cal = requests.get(base, timeout=5).json()
    assert cal["observation_set_type"] == "calibration-set"


def test_job_lifecycle_immediate(emulator_url: str) -> None:
    body = job_body(
        [prx("QB1"), measure("a", "QB1"), measure("b", "QB2", "QB3")], [measure("z", "QB5")],
        shots=37,
    )  # fmt: skip
    resp = _post(emulator_url, body)
    assert resp.status_code == 200, resp.text
    job = resp.json()
    assert job["status"] == "completed" and job["type"] == "circuit"
    job_url = f"{emulator_url}{API}/jobs/{job['id']}"
    assert requests.get(job_url, timeout=5).json()["status"] == "completed"
    meas = requests.get(f"{job_url}/artifacts/measurements", timeout=5).json()
    assert list(meas[0]) == ["a", "b"] and list(meas[1]) == ["z"]
    assert meas[0]["a"] == [[1]] * 37 and meas[0]["b"] == [[0, 0]] * 37
    counts = requests.get(f"{job_url}/artifacts/measurement_counts", timeout=5).json()
    assert counts[0] == {"measurement_keys": ["a", "b"], "counts": {"100": 37}}
    assert json.loads(requests.get(f"{job_url}/payload", timeout=5).text) == json.loads(body)
    assert requests.post(f"{job_url}/cancel", timeout=5).status_code == 204
    assert requests.get(job_url, timeout=5).json()["status"] == "completed"
    assert requests.delete(job_url, timeout=5).status_code == 204
    _assert_iqm_error(requests.get(job_url, timeout=5), 404, job["id"])


@pytest.mark.parametrize(
    ("instructions", "words"),
    [
        ([prx("QB99")], ["QB99"]),
        ([{"name": "ccz", "locus": ["QB1"], "args": {}}], ["ccz"]),
        ([cz("QB1", "QB3")], ["QB1", "QB3"]),
        ([measure("k", "QB1"), measure("k", "QB2")], ["'k'"]),
        ([{"name": "prx", "locus": ["QB1"], "args": {"angle": 1.0}}], ["phase"]),
        ([{"name": "cc_prx", "locus": ["QB1"],
           "args": {"angle": 1.0, "phase": 0.0, "feedback_qubit": "QB2", "feedback_key": "f"}}],
         ["feedback"]),
    ],
)  # fmt: skip
def test_invalid_circuits_are_400_naming_the_culprit(
    emulator_url: str, instructions: list, words: list[str]
) -> None:
    _assert_iqm_error(_post(emulator_url, job_body(instructions)), 400, *words)


def test_request_level_errors(emulator_url: str) -> None:
    _assert_iqm_error(_post(emulator_url, "{not json"), 400)
    _assert_iqm_error(_post(emulator_url, job_body([measure("m", "QB1")], shots=0)), 400, "shots")
    _assert_iqm_error(
        _post(emulator_url, job_body([measure("m", "QB1")], shots=10**9)), 400, "1000000"
    )
    _assert_iqm_error(_post(emulator_url, job_body([measure("m", "QB1")]), qc="nope"), 404, "nope")
    _assert_iqm_error(requests.get(f"{emulator_url}{API}/jobs/not-a-uuid", timeout=5), 400)
    _assert_iqm_error(requests.get(f"{emulator_url}{API}/jobs/{uuid.uuid4()}", timeout=5), 404)
    _assert_iqm_error(requests.get(f"{emulator_url}/nothing/here", timeout=5), 404)
    _assert_iqm_error(
        requests.get(f"{emulator_url}{API}/calibration-sets/garnet/{uuid.uuid4()}", timeout=5),
        404,
    )


def test_move_sandwich_rules(star_emulator_url: str) -> None:
    ok = [prx("QB1"), move("QB1", "CR1"), cz("QB2", "CR1"), move("QB1", "CR1"),
          measure("a", "QB1"), measure("b", "QB2")]  # fmt: skip
    resp = _post(star_emulator_url, job_body(ok), qc="deneb")
    assert resp.json()["status"] == "completed"
    unclosed = [move("QB1", "CR1"), measure("a", "QB2")]
    _assert_iqm_error(_post(star_emulator_url, job_body(unclosed), qc="deneb"), 400, "QB1")
    clash = [move("QB1", "CR1"), move("QB2", "CR1")]
    _assert_iqm_error(_post(star_emulator_url, job_body(clash), qc="deneb"), 400, "CR1")
    gate_inside = [move("QB1", "CR1"), prx("QB1"), move("QB1", "CR1")]
    _assert_iqm_error(_post(star_emulator_url, job_body(gate_inside), qc="deneb"), 400, "QB1")


def test_limits_answer_4xx(emulator_factory) -> None:
    emu = emulator_factory(
        machine="adonis", noise=False,
        limits=Limits(max_body_bytes=2000, max_circuits=2, max_instructions=5, max_qubits=2),
    )  # fmt: skip
    big = job_body([measure(f"k{i}", "QB1") for i in range(40)])
    _assert_iqm_error(_post(emu.url, big, qc="adonis"), 413)
    three = job_body([measure("a", "QB1")], [measure("a", "QB1")], [measure("a", "QB1")])
    _assert_iqm_error(_post(emu.url, three, qc="adonis"), 400, "2")
    long = job_body([prx("QB1")] * 6)
    _assert_iqm_error(_post(emu.url, long, qc="adonis"), 400, "5")
    wide = _post(emu.url, job_body([measure("a", "QB1", "QB2", "QB3")]), qc="adonis")
    _assert_iqm_error(wide, 400, "at most 2", "max_qubits")  # refused at submission


def test_auth_tokens_separate_jobs(emulator_factory) -> None:
    emu = emulator_factory(machine="garnet", noise=False, token=["alice", "bob"])
    _assert_iqm_error(requests.get(f"{emu.url}{API}/quantum-computers", timeout=5), 401, "token")
    _assert_iqm_error(
        requests.get(
            f"{emu.url}{API}/quantum-computers",
            headers={"Authorization": "Bearer eve"},
            timeout=5,
        ),
        401,
    )
    alice = {"Authorization": "Bearer alice"}
    job = _post(emu.url, job_body([measure("m", "QB1")]), headers=alice).json()
    assert requests.get(f"{emu.url}{API}/jobs/{job['id']}", headers=alice, timeout=5).ok
    _assert_iqm_error(
        requests.get(
            f"{emu.url}{API}/jobs/{job['id']}",
            headers={"Authorization": "Bearer bob"},
            timeout=5,
        ),
        404,
    )
    assert emu.job_count("alice") == 1 and emu.job_count("bob") == 0


def test_queued_mode_and_cancel(emulator_factory) -> None:
    emu = emulator_factory(machine="garnet", noise=False, queue_delay=30)
    first = _post(emu.url, job_body([measure("m", "QB1")])).json()
    second = _post(emu.url, job_body([measure("m", "QB1")])).json()
    assert first["status"] == "waiting"
    assert second["queue_position"] == 2
    assert requests.post(f"{emu.url}{API}/jobs/{first['id']}/cancel", timeout=5).status_code == 204
    got = requests.get(f"{emu.url}{API}/jobs/{first['id']}", timeout=5).json()
    assert got["status"] == "cancelled"
    _assert_iqm_error(
        requests.get(f"{emu.url}{API}/jobs/{first['id']}/artifacts/measurements", timeout=5), 404
    )


def test_restart_on_same_database_answers_identically(emulator_factory, tmp_path) -> None:
    db = str(tmp_path / "jobs.sqlite")
    emu = emulator_factory(machine="garnet", noise=True, seed=3, db=db)
    bodies = [
        job_body([prx("QB1", 1.0), cz("QB1", "QB2"), measure("m", "QB1", "QB2")], shots=200),
        job_body([prx("QB3"), measure("a", "QB3")], [measure("b", "QB4")], shots=50),
    ]
    ids = [_post(emu.url, b).json()["id"] for b in bodies]
    paths = ["", "/artifacts/measurements", "/artifacts/measurement_counts", "/payload"]

    def snapshot(url: str) -> list[str]:
        return [requests.get(f"{url}{API}/jobs/{i}{p}", timeout=5).text for i in ids for p in paths]

    before = snapshot(emu.url)
    emu.stop()
    emu2 = emulator_factory(machine="garnet", noise=True, seed=3, db=db)
    assert snapshot(emu2.url) == before
    assert emu2.job_count() == 2


def test_restart_requeues_unfinished_jobs(emulator_factory, tmp_path) -> None:
    db = str(tmp_path / "jobs.sqlite")
    emu = emulator_factory(machine="garnet", noise=False, db=db, queue_delay=60)
    job = _post(emu.url, job_body([prx("QB1"), measure("m", "QB1")])).json()
    assert job["status"] == "waiting"
    emu.stop()
    emu2 = emulator_factory(machine="garnet", noise=False, db=db)
    deadline = time.monotonic() + 10
    status = ""
    while time.monotonic() < deadline:
        status = requests.get(f"{emu2.url}{API}/jobs/{job['id']}", timeout=5).json()["status"]
        if status == "completed":
            break
        time.sleep(0.02)
    assert status == "completed"


def test_several_machines_served_by_alias(emulator_factory) -> None:
    emu = emulator_factory(machine=None, noise=False)
    aliases = [
        q["alias"]
        for q in requests.get(f"{emu.url}{API}/quantum-computers", timeout=5).json()[
            "quantum_computers"
        ]
    ]
    assert aliases == ["garnet", "emerald", "deneb", "adonis"]
    job = _post(emu.url, job_body([prx("QB54"), measure("m", "QB54")]), qc="emerald").json()
    assert job["status"] == "completed"


def test_fault_injection_is_seeded_and_uses_iqm_bodies(emulator_factory) -> None:
    emu = emulator_factory(
        machine="garnet", noise=False, faults=FaultOptions(error_rate=0.5, drop_rate=0.2, seed=1)
    )
    outcomes = []
    for _ in range(40):
        try:
            resp = requests.get(f"{emu.url}{API}/quantum-computers", timeout=5)
        except requests.ConnectionError:
            outcomes.append("drop")
            continue
        if resp.status_code == 503:
            _assert_iqm_error(resp, 503)
            outcomes.append("503")
        else:
            assert resp.ok
            outcomes.append("ok")
    assert {"drop", "503", "ok"} <= set(outcomes)
    assert emu.injected_faults["drop"] == outcomes.count("drop")


def test_dropped_answer_after_handling_leaves_the_job(emulator_factory) -> None:
    emu = emulator_factory(
        machine="garnet", noise=False, faults=FaultOptions(drop_after_rate=1.0, seed=2)
    )
    with pytest.raises(requests.ConnectionError):
        _post(emu.url, job_body([measure("m", "QB1")]))
    assert emu.job_count() == 1


def test_failed_jobs_injected(emulator_factory) -> None:
    emu = emulator_factory(
        machine="garnet", noise=False, faults=FaultOptions(job_failure_rate=1.0, seed=2)
    )
    job = _post(emu.url, job_body([measure("m", "QB1")])).json()
    assert job["status"] == "failed" and job["errors"][0]["source"] == "iqm-server"


def test_resent_submission_returns_the_first_job(emulator_factory: Any) -> None:
    """A POST carrying a submission id that was seen before answers with the earlier job."""
    import requests

    emu = emulator_factory(machine="garnet", noise=False, seed=3)
    body = {
        "circuits": [
            {
                "name": "c",
                "instructions": [
                    {"name": "prx", "locus": ["QB1"], "args": {"angle": 3.14159, "phase": 0.0}},
                    {"name": "measure", "locus": ["QB1"], "args": {"key": "m"}},
                ],
                "metadata": {"iqm_bridge_submission_id": "sub-1"},
            }
        ],
        "shots": 10,
    }
    url = f"{emu.url}/api/v1/jobs/garnet/circuit?use_timeslot=false"
    first = requests.post(url, json=body, timeout=10).json()
    again = requests.post(url, json=body, timeout=10).json()
    assert again["id"] == first["id"]
    assert emu.job_count() == 1
    about = requests.get(f"{emu.url}/api/v1/about", timeout=10).json()
    assert "idempotent-submission" in about["features"]

"""The ``iqm-bridge`` command line, against real emulators on loopback.

Figures the CLI prints are compared with their source (the emulator's catalogue, or what the
core's own calls return for the same job), counts with the ideal distribution within 4 sigma.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from iqm_bridge.cli import main
from iqm_bridge.core import run as run_circuits
from iqm_bridge.core.ir import Circuit, Gate, Measure
from iqm_bridge.core.keys import KeyMap, Register, counts_from_bits
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit import Connection
from iqm_bridge.core.submit.journal import Journal

catalogue = importlib.import_module("iqm_bridge.emulator._machines")

GHZ_QASM2 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg c[3];
h q[0];
cx q[0], q[1];
cx q[1], q[2];
measure q -> c;
"""

BELL_QASM3 = """OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c = measure q;
"""


@pytest.fixture
def journal_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh journal file that the CLI (IQM_BRIDGE_JOURNAL) and the test share."""
    path = tmp_path / "journal.sqlite3"
    monkeypatch.setenv("IQM_BRIDGE_JOURNAL", str(path))
    for var in ("IQM_SERVER_URL", "IQM_TOKEN", "IQM_TOKENS_FILE", "IQM_QUANTUM_COMPUTER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("IQM_BRIDGE_EMULATOR_MACHINE", "garnet")
    return path


def invoke(*args: str) -> Result:
    """Run the CLI in this process; errors are reported, never raised."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_clean_error(result: Result, *fragments: str) -> None:
    """Exit code 1, one ``Error:`` line naming every fragment, and no traceback."""
    assert result.exit_code == 1, result.output
    text = result.output
    assert "Traceback" not in text
    error_lines = [line for line in text.splitlines() if line.startswith("Error: ")]
    assert len(error_lines) == 1, text
    for fragment in fragments:
        assert fragment in error_lines[0], (fragment, error_lines[0])


def ghz_ir(n: int, name: str = "ghz") -> Circuit:
    qubits = tuple(f"q{i}" for i in range(n))
    ops: list[Any] = [Gate("h", (qubits[0],))]
    ops += [Gate("cx", (a, b)) for a, b in zip(qubits, qubits[1:], strict=False)]
    ops.append(Measure(qubits, KeyMap.encode(Register("c", n), 0, 0)))
    return Circuit(qubits=qubits, operations=tuple(ops), name=name)


def assert_fair_ghz(counts: dict[str, int], n: int, shots: int) -> None:
    """Only all-zeros and all-ones, each near half the shots (4 sigma)."""
    assert set(counts) <= {"0" * n, "1" * n}, counts
    assert sum(counts.values()) == shots
    sigma = math.sqrt(shots * 0.25)
    assert abs(counts.get("0" * n, 0) - shots / 2) <= 4 * sigma, counts


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------------------------ machines
def catalogue_summary(name: str) -> dict[str, Any]:
    machine = catalogue.get_machine(name)
    device = machine.device
    return {
        "name": name,
        "display_name": machine.display_name,
        "qubits": len(device.qubits),
        "resonators": list(device.resonators),
        "couplers": len(device.coupling_edges),
        "calibration_set_id": device.calibration_set_id,
    }


def test_machines_lists_the_catalogue(journal_path: Path) -> None:
    result = invoke("machines")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Emulated machines" in lines[0]
    assert lines[1].split()[:4] == ["NAME", "QUBITS", "RESONATORS", "COUPLERS"]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == set(catalogue.MACHINE_NAMES)
    assert rows["garnet"][1:4] == ["20", "-", "30"]
    assert rows["deneb"][1:4] == ["6", "CR1", "6"]


def test_machines_json_matches_the_catalogue(journal_path: Path) -> None:
    result = invoke("machines", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == [catalogue_summary(name) for name in catalogue.MACHINE_NAMES]


def test_machines_of_a_server_match_the_catalogue(
    journal_path: Path, emulator_factory: Callable[..., Any]
) -> None:
    emu = emulator_factory(machine=None, noise=False)
    result = invoke("machines", "--url", emu.url, "--json")
    assert result.exit_code == 0, result.output
    served = json.loads(result.output)
    expected = [catalogue_summary(name) for name in catalogue.MACHINE_NAMES]
    assert served == expected

    human = invoke("machines", "--url", emu.url)
    assert human.exit_code == 0
    assert f"Quantum computers at {emu.url}" in human.output
    assert "IQM Emerald (emulated)" in human.output


def test_machines_url_from_the_environment(
    journal_path: Path, emulator_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IQM_SERVER_URL", emulator_url)
    data = json.loads(invoke("machines", "--json").output)
    assert [m["name"] for m in data] == ["garnet"]


def test_machines_show_json_has_the_calibration(journal_path: Path) -> None:
    result = invoke("machines", "show", "deneb", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    device = catalogue.get_machine("deneb").device
    cal = device.calibration
    assert info["resonators"] == ["CR1"]
    assert info["gates"] == sorted(device.gates)
    assert [q["name"] for q in info["qubit_figures"]] == list(device.qubits)
    for q in info["qubit_figures"]:
        assert q["prx_fidelity"] == cal.prx_fidelity[q["name"]]
        assert q["readout_fidelity"] == cal.readout_fidelity[q["name"]]
        assert q["t1"] == cal.t1[q["name"]]
        assert q["t2"] == cal.t2[q["name"]]
    assert len(info["coupler_figures"]) == 6
    for c in info["coupler_figures"]:
        assert c["gates"] == ["cz", "move"]
        assert c["cz_fidelity"] == cal.cz_fidelity[tuple(c["pair"])]


def test_machines_show_human(journal_path: Path) -> None:
    result = invoke("machines", "show", "deneb")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("deneb (IQM Deneb (emulated))")
    assert "computational resonators: CR1" in out
    assert "medians: PRX fidelity 0.99" in out
    assert "QUBIT  PRX FIDELITY" in out and "CR1-QB1  cz,move" in out
    # the group's --json flag also reaches the subcommand
    grouped = invoke("machines", "--json", "show", "adonis")
    assert json.loads(grouped.output)["name"] == "adonis"


def test_machines_show_from_a_server_reads_its_quality_metrics(
    journal_path: Path, emulator_url: str
) -> None:
    result = invoke("machines", "show", "garnet", "--url", emulator_url, "--json")
    assert result.exit_code == 0, result.output
    served = json.loads(result.output)
    local = json.loads(invoke("machines", "show", "garnet", "--json").output)
    assert served["calibration_set_id"] == local["calibration_set_id"]
    for a, b in zip(served["qubit_figures"], local["qubit_figures"], strict=True):
        assert a["name"] == b["name"]
        for figure in ("prx_fidelity", "readout_fidelity", "t1", "t2"):
            assert a[figure] == pytest.approx(b[figure], rel=1e-12)
    for a, b in zip(served["coupler_figures"], local["coupler_figures"], strict=True):
        assert a["pair"] == b["pair"] and a["gates"] == b["gates"]
        assert a["cz_fidelity"] == pytest.approx(b["cz_fidelity"])


def test_machines_errors_are_one_line(journal_path: Path) -> None:
    assert_clean_error(invoke("machines", "show", "nope"), "unknown machine 'nope'", "garnet")
    port = closed_port()
    assert_clean_error(
        invoke("machines", "--url", f"http://127.0.0.1:{port}"),
        f"cannot connect to the IQM server at http://127.0.0.1:{port}",
        "connection refused",
    )
    assert_clean_error(
        invoke("machines", "show", "garnet", "--url", f"http://127.0.0.1:{port}"),
        "cannot connect",
    )


def test_machines_with_a_token(journal_path: Path, emulator_factory: Callable[..., Any]) -> None:
    emu = emulator_factory(machine="adonis", noise=False, token="s3cret")
    assert_clean_error(invoke("machines", "--url", emu.url), "refused", "token")
    result = invoke("machines", "--url", emu.url, "--token", "s3cret", "--json")
    assert result.exit_code == 0, result.output
    assert [m["name"] for m in json.loads(result.output)] == ["adonis"]
    assert "s3cret" not in result.output


def test_a_token_is_not_sent_over_plain_http_to_another_host(
    journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every server command refuses before any request when the token would travel in clear
    text to another machine; ``--insecure`` is the explicit way to accept it. Broken variant
    caught: a warning only (the command then tries to connect and fails differently)."""
    sent: list[str] = []
    import requests

    monkeypatch.setattr(requests.Session, "request", lambda *a, **k: sent.append("!"))
    remote = "http://192.0.2.10:9"  # TEST-NET: never routed
    for args in (
        ("machines", "--url", remote, "--token", "T"),
        ("machines", "show", "garnet", "--url", remote, "--token", "T"),
        ("run", "nothing.qasm", "--url", remote, "--token", "T"),
    ):
        assert_clean_error(invoke(*args), "plain http", "192.0.2.10", "--insecure")
    assert sent == []
    # with --insecure the command goes on (and fails only on the unreachable address)
    result = invoke("machines", "--url", remote, "--token", "T", "--insecure")
    assert result.exit_code != 0 and "plain http" not in result.output


# ----------------------------------------------------------------------------------------- run
@pytest.fixture
def ghz_file(tmp_path: Path) -> Path:
    path = tmp_path / "ghz.qasm"
    path.write_text(GHZ_QASM2, encoding="utf-8")
    return path


def test_run_qasm2_json(journal_path: Path, emulator_url: str, ghz_file: Path) -> None:
    result = invoke("run", str(ghz_file), "--shots", "400", "--url", emulator_url, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["machine"] == "garnet" and data["shots"] == 400
    assert_fair_ghz(data["counts"], 3, 400)
    # the job went into the journal, so the jobs commands find it
    entry = Journal(journal_path).get(data["job_id"])
    assert entry is not None and entry.shots == 400 and entry.url == emulator_url


def test_run_human_table(journal_path: Path, star_emulator_url: str, ghz_file: Path) -> None:
    result = invoke("run", str(ghz_file), "--shots", "200", "--url", star_emulator_url)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("job ") and " on deneb: 200 shots" in lines[0]
    assert lines[1].split() == ["OUTCOME", "COUNT", "%"]
    counts = {line.split()[0]: int(line.split()[1]) for line in lines[2:]}
    assert_fair_ghz(counts, 3, 200)


@pytest.mark.skipif(
    importlib.util.find_spec("qiskit_qasm3_import") is None,
    reason="OpenQASM 3 needs qiskit-qasm3-import",
)
def test_run_qasm3(journal_path: Path, emulator_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bell.qasm"
    path.write_text(BELL_QASM3, encoding="utf-8")
    result = invoke("run", str(path), "--shots", "300", "--url", emulator_url, "--json")
    assert result.exit_code == 0, result.output
    assert_fair_ghz(json.loads(result.output)["counts"], 2, 300)


def test_run_errors(journal_path: Path, tmp_path: Path, ghz_file: Path) -> None:
    bad = tmp_path / "bad.qasm"
    bad.write_text("OPENQASM 2.0;\nqreg q[1];\nfoo q[0];\n", encoding="utf-8")
    assert_clean_error(invoke("run", str(bad)), "is not valid OpenQASM 2", "foo")
    assert_clean_error(invoke("run", str(tmp_path / "missing.qasm")), "cannot read")
    assert_clean_error(
        invoke("run", str(ghz_file), "--machine", "mars"), "unknown machine 'mars'", "deneb"
    )
    result = invoke("run", str(ghz_file), "--shots", "0")
    assert result.exit_code == 2 and "Traceback" not in result.output


def _cli_command() -> list[str]:
    script = Path(sys.executable).with_name("iqm-bridge")
    if script.exists():
        return [str(script)]
    found = shutil.which("iqm-bridge")
    return [found] if found else [sys.executable, "-m", "iqm_bridge.cli"]


@pytest.mark.slow
def test_console_script_runs_on_the_embedded_emulator(ghz_file: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IQM_", "IQM_BRIDGE_"))}
    env.update(IQM_BRIDGE_EMULATOR_NOISE="off", IQM_BRIDGE_JOURNAL=str(tmp_path / "j.sqlite3"))
    env["IQM_BRIDGE_EMULATOR_DB"] = str(tmp_path / "emulator.sqlite3")
    proc = subprocess.run(
        [*_cli_command(), "run", str(ghz_file), "--machine", "deneb", "--shots", "100", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["machine"] == "deneb"
    assert_fair_ghz(data["counts"], 3, 100)


@pytest.mark.slow
def test_an_embedded_job_outlives_its_process(ghz_file: Path, tmp_path: Path) -> None:
    """A job run on the embedded emulator in one process is read back by `jobs result` and
    `jobs show` in another, after the first exited: the journal names it ``embedded:<machine>``
    and the emulator keeps its jobs in a per-user file, so the second process starts the
    embedded emulator again and finds it. Broken variant caught: journaling the embedded
    server's URL (its port dies with the process: "connection refused")."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IQM_", "IQM_BRIDGE_"))}
    env.update(IQM_BRIDGE_EMULATOR_NOISE="off", IQM_BRIDGE_JOURNAL=str(tmp_path / "j.sqlite3"))
    env["IQM_BRIDGE_EMULATOR_DB"] = str(tmp_path / "emulator.sqlite3")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_cli_command(), *args], env=env, capture_output=True, text=True, timeout=180
        )

    first = cli("run", str(ghz_file), "--shots", "200", "--json")
    assert first.returncode == 0, first.stderr
    ran = json.loads(first.stdout)
    listed = json.loads(cli("jobs", "list", "--json").stdout)
    assert [(e["job_id"], e["url"]) for e in listed] == [(ran["job_id"], "embedded:garnet")]
    again = cli("jobs", "result", ran["job_id"], "--json")
    assert again.returncode == 0, again.stderr
    (circuit,) = json.loads(again.stdout)
    assert circuit["counts"] == ran["counts"]  # the same shots, read back
    shown = cli("jobs", "show", ran["job_id"][:8], "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "completed"


# ---------------------------------------------------------------------------------------- jobs
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


# ------------------------------------------------------------------------------ emulator serve
@pytest.fixture
def served() -> Iterator[str]:
    """``iqm-bridge emulator serve`` in a subprocess; yields its URL."""
    proc = subprocess.Popen(
        [*_cli_command(), "emulator", "serve", "--machine", "all", "--no-noise", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.mark.slow
def test_emulator_serve_answers_the_other_commands(
    served: str, journal_path: Path, ghz_file: Path
) -> None:
    names = [m["name"] for m in json.loads(invoke("machines", "--url", served, "--json").output)]
    assert names == list(catalogue.MACHINE_NAMES)
    run = invoke(
        "run", str(ghz_file), "--url", served, "--machine", "emerald", "--shots", "50", "--json"
    )
    assert run.exit_code == 0, run.output
    job_id = json.loads(run.output)["job_id"]
    again = json.loads(invoke("jobs", "result", job_id, "--json").output)
    assert again[0]["counts"] == json.loads(run.output)["counts"]


def test_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("emulator", "jobs", "machines", "run"):
        assert f"  {command}" in result.output
    assert "serve" in invoke("emulator", "--help").output

"""``iqm-bridge run``: OpenQASM files run on a server or the embedded emulator."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest
from _cli_helpers import (
    BELL_QASM3,
    assert_clean_error,
    assert_fair_ghz,
    cli_command,
    invoke,
)

from iqm_bridge.core.submit.journal import Journal


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


@pytest.mark.slow
def test_console_script_runs_on_the_embedded_emulator(ghz_file: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IQM_", "IQM_BRIDGE_"))}
    env.update(IQM_BRIDGE_EMULATOR_NOISE="off", IQM_BRIDGE_JOURNAL=str(tmp_path / "j.sqlite3"))
    env["IQM_BRIDGE_EMULATOR_DB"] = str(tmp_path / "emulator.sqlite3")
    proc = subprocess.run(
        [*cli_command(), "run", str(ghz_file), "--machine", "deneb", "--shots", "100", "--json"],
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
            [*cli_command(), *args], env=env, capture_output=True, text=True, timeout=180
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

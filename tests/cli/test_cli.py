"""The ``iqm-bridge`` command group: help on any installation, and ``emulator serve``
answering the other commands."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli_helpers import (
    catalogue,
    cli_command,
    invoke,
)
from _process import stop_process


@pytest.fixture
def served() -> Iterator[str]:
    """``iqm-bridge emulator serve`` in a subprocess; yields its URL."""
    proc = subprocess.Popen(
        [*cli_command(), "emulator", "serve", "--machine", "all", "--no-noise", "--seed", "3"],
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
        stop_process(proc)


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

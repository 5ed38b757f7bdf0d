"""``iqm-bridge machines``: the catalogue and servers' quantum computers, and their figures."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _cli_helpers import (
    assert_clean_error,
    catalogue,
    closed_port,
    invoke,
)


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
        ("machines", "--url", remote, "--tokens-file", "tokens.json"),
        ("jobs", "show", "0" * 32, "--url", remote, "--tokens-file", "tokens.json"),
    ):
        assert_clean_error(invoke(*args), "plain http", "192.0.2.10", "--insecure")
    assert sent == []
    # with --insecure the command goes on (and fails only on the unreachable address)
    result = invoke("machines", "--url", remote, "--token", "T", "--insecure")
    assert result.exit_code != 0 and "plain http" not in result.output

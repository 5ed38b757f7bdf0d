"""The machine catalogue, the public API, the embedded singleton and the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import pytest
import requests

import iqm_bridge.emulator as emulator_pkg
from iqm_bridge.emulator._machines import MACHINE_NAMES, get_machine


def test_public_api() -> None:
    assert set(emulator_pkg.__all__) == {
        "MACHINE_NAMES", "Emulator", "FaultOptions", "Limits", "Machine", "RateLimit",
        "Retention", "get_machine", "start_embedded", "stop_embedded",
    }  # fmt: skip


@pytest.mark.parametrize("name", MACHINE_NAMES)
def test_machines_are_stable_and_plausible(name: str) -> None:
    machine = get_machine(name)
    assert uuid.UUID(machine.calibration_set_id) == uuid.uuid5(
        uuid.UUID("6f1c1c3e-8a44-4c55-9a0b-5b0e6ad1e2a7"), f"calset:{name}"
    )
    cal = machine.calibration
    for q in machine.device.qubits:
        assert 30e-6 <= cal.t1[q] <= 60e-6 and 10e-6 <= cal.t2[q] <= 30e-6
        assert 0.95 <= cal.readout_fidelity[q] <= 0.99
        assert 0.998 <= cal.prx_fidelity[q] < 1
    assert all(0.98 <= f <= 0.995 for f in cal.cz_fidelity.values())
    sizes = {"garnet": 20, "emerald": 54, "deneb": 6, "adonis": 5}
    assert len(machine.device.qubits) == sizes[name]


def test_star_machines() -> None:
    deneb = get_machine("deneb").device
    assert deneb.resonators == ("CR1",)
    assert deneb.supports("move", ("QB3", "CR1")) and deneb.supports("cz", ("QB3", "CR1"))
    adonis = get_machine("adonis").device
    assert all("QB3" in edge for edge in adonis.coupling_edges)


def test_embedded_singleton(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IQM_BRIDGE_EMULATOR_MACHINE", "adonis")
    monkeypatch.setenv("IQM_BRIDGE_EMULATOR_NOISE", "off")
    emulator_pkg.stop_embedded()  # another test in this process may have started one already
    try:
        url = emulator_pkg.start_embedded()
        assert emulator_pkg.start_embedded() == url
        qcs = requests.get(f"{url}/api/v1/quantum-computers", timeout=5).json()
        assert qcs["quantum_computers"][0]["alias"] == "adonis"
    finally:
        emulator_pkg.stop_embedded()


def test_cli_serve_prints_url_and_serves() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "iqm_bridge.emulator", "serve", "--machine", "deneb", "--no-noise"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        qcs = requests.get(f"{url}/api/v1/quantum-computers", timeout=5).json()
        assert qcs["quantum_computers"][0]["alias"] == "deneb"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)

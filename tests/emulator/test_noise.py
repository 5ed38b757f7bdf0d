"""With noise on, outcome frequencies follow the served calibration (within 4 sigma)."""

from __future__ import annotations

import math
import pathlib
import sys

import pytest
import requests

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _emulator_helpers import cz, job_body, measure, prx  # noqa: E402

API = "/api/v1"
SHOTS = 40_000


@pytest.fixture(scope="module")
def noisy_url():
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=True, seed=11) as url:
        yield url


def _metrics(url: str) -> dict[str, float]:
    data = requests.get(f"{url}{API}/calibration-sets/garnet/default/metrics", timeout=5).json()
    return {o["dut_field"]: o["value"] for o in data["observations"]}


def _ones(url: str, instructions: list, key: str, column: int = 0) -> float:
    job = requests.post(
        f"{url}{API}/jobs/garnet/circuit?use_timeslot=false",
        data=job_body(instructions, shots=SHOTS),
        timeout=60,
    ).json()
    assert job["status"] == "completed", job
    meas = requests.get(f"{url}{API}/jobs/{job['id']}/artifacts/measurements", timeout=30).json()
    rows = meas[0][key]
    assert len(rows) == SHOTS
    return sum(r[column] for r in rows) / SHOTS


def _within(observed: float, expected: float) -> None:
    sigma = math.sqrt(expected * (1 - expected) / SHOTS)
    assert abs(observed - expected) <= 4 * sigma + 1e-9, (observed, expected, sigma)


def test_x_then_measure_matches_served_fidelities(noisy_url: str) -> None:
    m = _metrics(noisy_url)
    e_gate = 1 - m["metrics.rb.prx.drag_gaussian.QB1.fidelity"]  # X/Y part of depolarising
    e_ro = 1 - m["metrics.ssro.measure.constant.QB1.fidelity"]
    expected = (1 - e_gate) * (1 - e_ro) + e_gate * e_ro
    _within(_ones(noisy_url, [prx("QB1"), measure("m", "QB1")], "m"), expected)


@pytest.mark.parametrize("repeats", [0, 40])
def test_cz_chain_error_grows_as_served_fidelity_says(noisy_url: str, repeats: int) -> None:
    m = _metrics(noisy_url)
    f_cz = m["metrics.irb.cz.tgss.QB1__QB2.fidelity"]
    e_ro = 1 - m["metrics.ssro.measure.constant.QB1.fidelity"]
    # depolarising Pauli error p = (1-F) 5/4; 8 of its 15 Paulis flip QB1's Z outcome
    p_flip = (1 - f_cz) * 5 / 4 * 8 / 15
    flipped = (1 - (1 - 2 * p_flip) ** repeats) / 2
    expected = flipped * (1 - e_ro) + (1 - flipped) * e_ro
    instructions = [cz("QB1", "QB2")] * repeats + [measure("m", "QB1", "QB2")]
    _within(_ones(noisy_url, instructions, "m", column=0), expected)


def test_noise_can_be_switched_off_per_job(noisy_url: str) -> None:
    job = requests.post(
        f"{noisy_url}{API}/jobs/garnet/circuit?noise=off",
        data=job_body([prx("QB1"), measure("m", "QB1")], shots=2000),
        timeout=30,
    ).json()
    meas = requests.get(
        f"{noisy_url}{API}/jobs/{job['id']}/artifacts/measurements", timeout=30
    ).json()
    assert all(r == [1] for r in meas[0]["m"])

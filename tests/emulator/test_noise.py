"""With noise on, outcome frequencies follow the served calibration (within 4 sigma).

One test per noise source (single-qubit gates, CZ, readout, idling), each on a circuit where
that source's effect is many sigma wide. Each test also removes its source from the noise
model, runs the same job through the same engines, and checks that the comparison then FAILS:
so a simulator that drops the source cannot pass. sigma is the binomial standard deviation of
a frequency over ``SHOTS`` shots, ``sqrt(p (1 - p) / SHOTS)`` at the predicted ``p``.
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
import sys
from typing import Any

import numpy as np
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


@pytest.fixture(scope="module")
def metrics(noisy_url: str) -> dict[str, float]:
    data = requests.get(f"{noisy_url}{API}/calibration-sets/garnet/default/metrics", timeout=5)
    return {o["dut_field"]: o["value"] for o in data.json()["observations"]}


def _delay(qubit: str, duration: float) -> dict[str, Any]:
    return {"name": "delay", "locus": [qubit], "args": {"duration": duration}}


def _ones_served(url: str, instructions: list, key: str = "m", column: int = 0) -> float:
    """Frequency of 1 in ``column`` of ``key``, from the emulator over HTTP."""
    job = requests.post(
        f"{url}{API}/jobs/garnet/circuit?use_timeslot=false",
        data=job_body(instructions, shots=SHOTS),
        timeout=120,
    ).json()
    assert job["status"] == "completed", job
    meas = requests.get(f"{url}{API}/jobs/{job['id']}/artifacts/measurements", timeout=60).json()
    rows = np.array(meas[0][key], dtype=np.uint8)
    assert rows.shape[0] == SHOTS
    return float(rows[:, column].mean())


def _ones_without(source: str, instructions: list, key: str = "m", column: int = 0) -> float:
    """The same job through the same engine choice, with one noise source removed."""
    from iqm_bridge.emulator._calibration import noise_model
    from iqm_bridge.emulator._circuits import Limits, parse_job
    from iqm_bridge.emulator._engine_plan import plan_job, run_plan
    from iqm_bridge.emulator._machines import get_machine

    machine = get_machine("garnet")
    broken = dataclasses.replace(noise_model(machine), **{f: {} for f in source.split(",")})
    parsed = parse_job(job_body(instructions, shots=SHOTS).encode(), machine, Limits())
    plan = plan_job(parsed, [broken], Limits())
    result = run_plan(parsed, plan, np.random.default_rng(5), Limits())
    return float(result[0][key][:, column].mean())


def _agrees(observed: float, expected: float) -> bool:
    sigma = math.sqrt(expected * (1 - expected) / SHOTS)
    return abs(observed - expected) <= 4 * sigma


def _read(p1: float, e01: float, e10: float) -> float:
    """P(read 1) of a qubit that is 1 with probability ``p1``."""
    return p1 * (1 - e10) + (1 - p1) * e01


def _errors(m: dict[str, float], qubit: str) -> tuple[float, float]:
    base = f"metrics.ssro.measure.constant.{qubit}"
    return m[f"{base}.error_0_to_1"], m[f"{base}.error_1_to_0"]


@pytest.mark.parametrize(
    ("angle", "phase"), [(math.pi, 0.0), (2 * math.pi / 3, 0.4)], ids=["clifford", "generic"]
)
def test_single_qubit_gate_noise_matches_served_fidelity(
    noisy_url: str, metrics: dict[str, float], angle: float, phase: float
) -> None:
    """402 PRX gates that compose to the identity: the Bloch vector shrinks by lambda**402.

    The depolarising channel commutes with every single-qubit unitary, so after N gates
    ``P(1) = (1 - lambda**N) / 2`` with ``lambda = 1 - 2 (1 - F)``. The Clifford sequence runs
    on the stabilizer engine, the generic one on the density-matrix or trajectory engine.
    """
    n = 402  # a multiple of 2 and 3: both sequences compose to +-identity
    lam = 1 - 2 * (1 - metrics["metrics.rb.prx.drag_gaussian.QB1.fidelity"])
    expected = _read((1 - lam**n) / 2, *_errors(metrics, "QB1"))
    instructions = [prx("QB1", angle, phase)] * n + [measure("m", "QB1")]
    assert _agrees(_ones_served(noisy_url, instructions), expected)
    assert not _agrees(_ones_without("prx", instructions), expected)


def test_cz_noise_matches_served_fidelity(noisy_url: str, metrics: dict[str, float]) -> None:
    """40 CZs on |00>: 8 of the 15 two-qubit Paulis flip QB1, each with p = (1 - F) 5/4 / 15."""
    repeats = 40
    f_cz = metrics["metrics.irb.cz.tgss.QB1__QB2.fidelity"]
    p_flip = (1 - f_cz) * 5 / 4 * 8 / 15
    flipped = (1 - (1 - 2 * p_flip) ** repeats) / 2
    expected = _read(flipped, *_errors(metrics, "QB1"))
    instructions = [cz("QB1", "QB2")] * repeats + [measure("m", "QB1", "QB2")]
    assert _agrees(_ones_served(noisy_url, instructions), expected)
    assert not _agrees(_ones_without("two_qubit", instructions), expected)


@pytest.mark.parametrize("prepared", [0, 1])
def test_asymmetric_readout_matches_served_errors(
    noisy_url: str, metrics: dict[str, float], prepared: int
) -> None:
    """P(1|0) and P(0|1) as served; a symmetric flip at the served fidelity fails both."""
    e01, e10 = _errors(metrics, "QB3")
    fidelity = metrics["metrics.ssro.measure.constant.QB3.fidelity"]
    assert fidelity == pytest.approx(1 - (e01 + e10) / 2)
    assert e10 > e01  # relaxation during readout: a 1 is misread more often than a 0
    lam = 1 - 2 * (1 - metrics["metrics.rb.prx.drag_gaussian.QB3.fidelity"])
    p1 = (1 + lam) / 2 if prepared else 0.0
    expected = _read(p1, e01, e10)
    instructions = [prx("QB3")] * prepared + [measure("m", "QB3")]
    assert _agrees(_ones_served(noisy_url, instructions), expected)
    assert not _agrees(_ones_without("readout", instructions), expected)
    symmetric = _read(p1, 1 - fidelity, 1 - fidelity)
    assert not _agrees(_ones_served(noisy_url, instructions), symmetric)


def test_idle_relaxation_matches_served_t1(noisy_url: str, metrics: dict[str, float]) -> None:
    """X, then a delay of T1: the Pauli-twirled relaxation flips with (1 - e**-1) / 2."""
    t1 = metrics["characterization.model.QB5.t1_time"]
    e01, e10 = _errors(metrics, "QB5")
    lam = 1 - 2 * (1 - metrics["metrics.rb.prx.drag_gaussian.QB5.fidelity"])
    z = -lam * (1 - 2 * (1 - math.exp(-1.0)) / 2)  # Bloch z after X, then px + py flips
    expected = _read((1 - z) / 2, e01, e10)
    instructions = [prx("QB5"), _delay("QB5", t1), measure("m", "QB5")]
    assert _agrees(_ones_served(noisy_url, instructions), expected)
    assert not _agrees(_ones_without("t1,t2", instructions), expected)


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


def test_a_circuit_can_switch_off_one_noise_source(
    noisy_url: str, metrics: dict[str, float]
) -> None:
    """``{"readout": false}``: readout-free, gate noise kept (401 X gates: ideally |1>)."""
    import json

    n = 401
    lam = 1 - 2 * (1 - metrics["metrics.rb.prx.drag_gaussian.QB1.fidelity"])
    gates_only = (1 + lam**n) / 2
    instructions = [prx("QB1")] * n + [measure("m", "QB1")]
    body = json.loads(job_body(instructions, shots=SHOTS))
    body["circuits"][0]["metadata"] = {"emulator_noise": {"readout": False}}
    job = requests.post(f"{noisy_url}{API}/jobs/garnet/circuit", json=body, timeout=120).json()
    meas = requests.get(f"{noisy_url}{API}/jobs/{job['id']}/artifacts/measurements", timeout=60)
    observed = float(np.array(meas.json()[0]["m"]).mean())
    assert _agrees(observed, gates_only)
    assert not _agrees(observed, _read(gates_only, *_errors(metrics, "QB1")))  # readout gone
    body["circuits"][0]["metadata"] = {"emulator_noise": {"readuot": False}}
    bad = requests.post(f"{noisy_url}{API}/jobs/garnet/circuit", json=body, timeout=30)
    assert bad.status_code == 400 and "'readuot'" in bad.json()["message"]

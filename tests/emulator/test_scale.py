"""Full machine width, noisy jobs at width, and bounded memory (slow).

* emerald, noise off: GHZ-54 gives only all-0/all-1 in about equal parts; a random 54-qubit
  Clifford circuit matches qiskit's stabilizer reference distribution outcome by outcome.
* garnet, noise on: GHZ-20's fidelity P(all equal) matches the prediction from the served
  metrics (Pauli faults propagated through the circuit, their XOR distribution computed
  exactly by a Walsh-Hadamard transform, then the asymmetric readout).
* a server process given million-shot jobs completes or refuses them (4xx), and its peak
  resident memory stays under 2 GB.

Every comparison is within 4 binomial sigma, sigma = sqrt(p (1 - p) / shots). Checked once
against broken variants: dropping the CZ noise moves GHZ-20's fidelity by > 20 sigma.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import requests

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _emulator_helpers import cz, job_body, measure, prx  # noqa: E402
from _process import stop_process  # noqa: E402

API = "/api/v1"
pytestmark = pytest.mark.slow


def _tree(machine: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Qubits in breadth-first order from QB1 and the spanning tree's edges."""
    from iqm_bridge.emulator import get_machine

    return get_machine(machine).device.spanning_tree("QB1")


def _ghz(qubits: list[str], tree: list[tuple[str, str]]) -> list:
    """RY(pi/2) on the root, then a CNOT = RY(pi/2) CZ RY(-pi/2) along every tree edge."""
    out = [prx(qubits[0], math.pi / 2, math.pi / 2)]
    for a, b in tree:
        out += [prx(b, -math.pi / 2, math.pi / 2), cz(a, b), prx(b, math.pi / 2, math.pi / 2)]
    return [*out, measure("m", *qubits)]


def _run(url: str, qc: str, instructions: list, shots: int) -> np.ndarray:
    job = requests.post(
        f"{url}{API}/jobs/{qc}/circuit", data=job_body(instructions, shots=shots), timeout=120
    ).json()
    assert job["status"] == "completed", job
    meas = requests.get(f"{url}{API}/jobs/{job['id']}/artifacts/measurements", timeout=60)
    return np.array(meas.json()[0]["m"], dtype=np.uint8)


@pytest.fixture(scope="module")
def emerald_url():
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="emerald", noise=False, seed=21) as url:
        yield url


def test_ghz_54_on_emerald(emerald_url: str) -> None:
    qubits, tree = _tree("emerald")
    assert len(qubits) == 54
    shots = 1000
    bits = _run(emerald_url, "emerald", _ghz(qubits, tree), shots)
    assert bits.shape == (shots, 54)
    ones = bits.sum(axis=1)
    assert set(np.unique(ones).tolist()) <= {0, 54}
    all_one = int((ones == 54).sum())
    assert abs(all_one - shots / 2) <= 4 * math.sqrt(shots / 4)


def test_random_54_qubit_clifford_matches_stabilizer_reference(emerald_url: str) -> None:
    """Few quarter turns keep the support small (<= 2**8), so every outcome is checked."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import StabilizerState

    qubits, _ = _tree("emerald")
    index = {q: i for i, q in enumerate(qubits)}
    from iqm_bridge.emulator import get_machine

    edges = [tuple(e) for e in get_machine("emerald").device.coupling_edges]
    rng = np.random.default_rng(2024)
    quarter = set(rng.choice(600, 8, replace=False).tolist())
    instructions = []
    for step in range(600):
        if step in quarter:
            q = qubits[int(rng.integers(54))]
            instructions.append(prx(q, math.pi / 2, int(rng.integers(4)) * math.pi / 2))
        elif rng.random() < 0.5:
            a, b = edges[int(rng.integers(len(edges)))]
            instructions.append(cz(a, b))
        else:
            q = qubits[int(rng.integers(54))]
            instructions.append(prx(q, math.pi, int(rng.integers(4)) * math.pi / 4))
    instructions.append(measure("m", *qubits))
    qc = QuantumCircuit(54)
    for inst in instructions[:-1]:
        if inst["name"] == "prx":
            qc.r(inst["args"]["angle"], inst["args"]["phase"], index[inst["locus"][0]])
        else:
            qc.cz(*(index[c] for c in inst["locus"]))
    reference = StabilizerState(qc).probabilities_dict()  # qiskit: qubit 0 rightmost
    probs = {key[::-1]: p for key, p in reference.items()}
    assert 2 <= len(probs) <= 256
    shots = 20_000
    bits = _run(emerald_url, "emerald", instructions, shots)
    keys, counts = np.unique(bits, axis=0, return_counts=True)
    seen = {"".join(map(str, k)): int(c) for k, c in zip(keys.tolist(), counts, strict=True)}
    assert set(seen) <= set(probs)
    for key, p in probs.items():
        sigma = math.sqrt(shots * p * (1 - p))
        assert abs(seen.get(key, 0) - shots * p) <= 4 * sigma, (key, seen.get(key), shots * p)


def _walsh_hadamard(v: np.ndarray) -> np.ndarray:
    n = v.size.bit_length() - 1
    out = v.copy()
    for bit in range(n):
        view = out.reshape(-1, 2, 1 << bit)
        a, b = view[:, 0, :].copy(), view[:, 1, :].copy()
        view[:, 0, :] = a + b
        view[:, 1, :] = a - b
    return out


def _predicted_ghz_fidelity(
    instructions: list, qubits: list[str], metrics: dict[str, float], drop_cz: bool = False
) -> float:
    """P(all measured bits equal) under the served noise, computed exactly (see module)."""
    n = len(qubits)
    index = {q: i for i, q in enumerate(qubits)}
    gates = instructions[:-1]

    def propagate(start: int, x: int, z: int) -> int:
        for inst in gates[start:]:
            locus = [index[c] for c in inst["locus"]]
            if inst["name"] == "prx":  # RY(+-pi/2): X <-> Z
                bit = 1 << locus[0]
                if bool(x & bit) != bool(z & bit):
                    x ^= bit
                    z ^= bit
            else:  # CZ: X_a picks up Z_b and X_b picks up Z_a
                a, b = (1 << i for i in locus)
                if x & a:
                    z ^= b
                if x & b:
                    z ^= a
        return x

    s = np.arange(1 << n, dtype=np.uint32)
    chi = np.ones(1 << n)
    for pos, inst in enumerate(gates):
        locus = [index[c] for c in inst["locus"]]
        if inst["name"] == "prx":
            p = (1 - metrics[f"metrics.rb.prx.drag_gaussian.{inst['locus'][0]}.fidelity"]) * 1.5
            bit = 1 << locus[0]
            faults = [(p / 3, x, z) for x, z in ((bit, 0), (bit, bit), (0, bit))]
        else:
            if drop_cz:
                continue
            a_name, b_name = inst["locus"]
            key = f"metrics.irb.cz.tgss.{a_name}__{b_name}.fidelity"
            if key not in metrics:  # served once per coupler, in its calibrated order
                key = f"metrics.irb.cz.tgss.{b_name}__{a_name}.fidelity"
            p = (1 - metrics[key]) * 5 / 4
            a, b = (1 << i for i in locus)
            paulis = [
                (xa * a | xb * b, za * a | zb * b)
                for xa in (0, 1)
                for za in (0, 1)
                for xb in (0, 1)
                for zb in (0, 1)
            ]
            faults = [(p / 15, x, z) for x, z in paulis if x or z]  # fmt: skip
        flips: dict[int, float] = {}
        for prob, x, z in faults:
            pattern = propagate(pos + 1, x, z)
            flips[pattern] = flips.get(pattern, 0.0) + prob
        factor = np.ones(1 << n)
        for pattern, prob in flips.items():
            if pattern:
                odd = np.bitwise_count(s & np.uint32(pattern)) & 1
                factor -= 2 * prob * odd
        chi *= factor
    p_flip = _walsh_hadamard(chi) / (1 << n)  # distribution of the XOR of all flips
    read0 = np.ones(1 << n)  # P(read all 0 | ideal 0...0, flips f), etc.
    read1 = np.ones(1 << n)
    alt0 = np.ones(1 << n)
    alt1 = np.ones(1 << n)
    for q, name in enumerate(qubits):
        e01 = metrics[f"metrics.ssro.measure.constant.{name}.error_0_to_1"]
        e10 = metrics[f"metrics.ssro.measure.constant.{name}.error_1_to_0"]
        bit = ((s >> q) & 1).astype(bool)
        read0 *= np.where(bit, e10, 1 - e01)  # true bit f_q, read as 0
        read1 *= np.where(bit, 1 - e10, e01)  # true bit f_q, read as 1
        alt0 *= np.where(bit, 1 - e01, e10)  # true bit 1 - f_q, read as 0
        alt1 *= np.where(bit, e01, 1 - e10)  # true bit 1 - f_q, read as 1
    return float(np.sum(p_flip * 0.5 * (read0 + read1 + alt0 + alt1)))


def test_noisy_ghz_20_on_garnet_matches_the_served_calibration() -> None:
    from iqm_bridge.emulator import Emulator

    qubits, tree = _tree("garnet")
    assert len(qubits) == 20
    instructions = _ghz(qubits, tree)
    shots = 10_000
    with Emulator(machine="garnet", noise=True, seed=8) as url:
        metrics_doc = requests.get(f"{url}{API}/calibration-sets/garnet/default/metrics", timeout=5)
        metrics = {o["dut_field"]: o["value"] for o in metrics_doc.json()["observations"]}
        bits = _run(url, "garnet", instructions, shots)
    predicted = _predicted_ghz_fidelity(instructions, qubits, metrics)
    observed = float(np.mean((bits.sum(axis=1) == 0) | (bits.sum(axis=1) == 20)))
    sigma = math.sqrt(predicted * (1 - predicted) / shots)
    assert abs(observed - predicted) <= 4 * sigma, (observed, predicted, sigma)
    without_cz = _predicted_ghz_fidelity(instructions, qubits, metrics, drop_cz=True)
    assert abs(observed - without_cz) > 20 * sigma


def _peak_rss(pid: int) -> int:
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


@pytest.mark.skipif(not pathlib.Path("/proc/self/status").exists(), reason="needs /proc")
def test_million_shot_jobs_complete_or_are_refused_within_2_gb(tmp_path: pathlib.Path) -> None:
    """The issue's 29 KB bomb (10 x 1,000,000 shots x 20 qubits), one tenth and 100x of it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IQM_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "iqm_bridge.emulator", "serve", "--machine", "garnet", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = json.loads(server.stdout.readline())["url"]
        qubits, tree = _tree("garnet")
        ghz = _ghz(qubits, tree)
        answers = []
        for circuits in (1, 10, 1000):
            body = job_body(*[ghz] * circuits, shots=1_000_000)
            t0 = time.monotonic()
            resp = requests.post(f"{url}{API}/jobs/garnet/circuit", data=body, timeout=600)
            answers.append((circuits, resp.status_code, time.monotonic() - t0))
            if resp.status_code == 200:
                job = resp.json()
                assert job["status"] == "completed", job
                counts = requests.get(
                    f"{url}{API}/jobs/{job['id']}/artifacts/measurement_counts", timeout=600
                ).json()
                assert sum(counts[0]["counts"].values()) == 1_000_000
                meas = requests.get(
                    f"{url}{API}/jobs/{job['id']}/artifacts/measurements", timeout=600
                )
                assert len(meas.content) > 40_000_000
                del meas
            else:
                error = resp.json()
                assert resp.status_code == 400 and error["error_code"] == "over_memory_budget"
                assert "memory budget" in error["message"]
                assert "--memory-budget" in error["message"]
        assert answers[0][1] == 200  # a million shots of one circuit: done
        assert answers[2][1] == 400  # 100x the bomb: refused at once
        peak = _peak_rss(server.pid)
        print(f"server peak RSS {peak / 1e6:.0f} MB; (circuits, status, seconds): {answers}")
        assert peak < 2_000_000_000, (peak, answers)
    finally:
        stop_process(server, timeout=30)

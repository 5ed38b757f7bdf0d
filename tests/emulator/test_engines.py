"""The simulation engines: Clifford recognition, agreement between engines, engine choice.

Agreement is checked outcome by outcome: two samplers of one distribution differ in an
outcome's frequency by at most 4 sigma, sigma = sqrt(p (1 - p) (1/s1 + 1/s2)) at the pooled
frequency p. A stabilizer engine that drops the CZ noise fails that check (asserted below).
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
import sys

import numpy as np
import pytest

from iqm_bridge.emulator._calibration import noise_model
from iqm_bridge.emulator._circuits import Limits, RequestError, parse_job
from iqm_bridge.emulator._engine_density import run_density
from iqm_bridge.emulator._engine_plan import plan_job, run_plan
from iqm_bridge.emulator._engine_stabilizer import clifford_gate, run_stabilizer
from iqm_bridge.emulator._machines import get_machine
from iqm_bridge.emulator._simulator import NativeCircuit, NoiseModel, Op, prx_matrix, run_circuit

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _emulator_helpers import cz, job_body, measure, move, prx  # noqa: E402

SHOTS = 100_000


def test_clifford_prx_are_recognised_and_named_exactly() -> None:
    import stim

    found = set()
    for k in range(8):
        for j in range(16):
            angle, phase = k * math.pi / 4, j * math.pi / 8
            u = prx_matrix(angle, phase)
            try:
                reference = stim.Tableau.from_unitary_matrix(u, endian="little")
            except ValueError:
                reference = None
            name = clifford_gate(angle, phase)
            assert (name is None) == (reference is None), (angle, phase)
            if name is not None:
                assert stim.Tableau.from_named_gate(name) == reference
                found.add(name)
    # a prx rotates about an equatorial axis: 9 of the 24 Cliffords are one prx
    assert found == {"I", "X", "Y", "H_XY", "H_NXY", "SQRT_X", "SQRT_X_DAG", "SQRT_Y",
                     "SQRT_Y_DAG"}  # fmt: skip
    assert clifford_gate(math.pi / 2 + 1e-13, -math.pi / 2) == "SQRT_Y_DAG"
    assert clifford_gate(math.pi / 2 + 1e-6, 0.0) is None


def _random_clifford(rng: np.random.Generator, n: int, depth: int) -> NativeCircuit:
    ops = []
    for _ in range(depth):
        if rng.random() < 0.55:
            q = int(rng.integers(n))
            angle = int(rng.integers(1, 4)) * math.pi / 2
            ops.append(Op("prx", (q,), angle=angle, phase=int(rng.integers(4)) * math.pi / 2))
        elif rng.random() < 0.85:
            a, b = rng.choice(n, 2, replace=False)
            ops.append(Op("cz", (int(a), int(b))))
        else:
            ops.append(Op("delay", (int(rng.integers(n)),), duration=20e-6))
    ops.append(Op("measure", tuple(range(n)), key="m"))
    return NativeCircuit("r", tuple(f"QB{i + 1}" for i in range(n)), tuple(ops))


def _noise(n: int) -> NoiseModel:
    names = [f"QB{i + 1}" for i in range(n)]
    return NoiseModel(
        prx=dict.fromkeys(names, 0.03),
        two_qubit={(a, b): 0.08 for a in names for b in names if a != b},
        readout={q: (0.02, 0.07) for q in names},
        t1=dict.fromkeys(names, 40e-6),
        t2=dict.fromkeys(names, 25e-6),
    )


def _distribution(bits: np.ndarray) -> np.ndarray:
    n = bits.shape[1]
    index = bits.astype(np.int64) @ (1 << np.arange(n - 1, -1, -1))
    return np.bincount(index, minlength=1 << n) / bits.shape[0]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    pooled = (a + b) / 2
    sigma = np.sqrt(pooled * (1 - pooled) * 2 / SHOTS)
    return bool(np.all(np.abs(a - b) <= 4 * sigma + 1e-12))


@pytest.mark.parametrize("seed", range(3))
def test_engines_agree_on_noisy_clifford_circuits(seed: int) -> None:
    """Stabilizer, density matrix and trajectories: one noise model, one distribution."""
    rng = np.random.default_rng(seed)
    circuit = _random_clifford(rng, 3, 14)
    noise = _noise(3)
    stim_d = _distribution(run_stabilizer(circuit, SHOTS, np.random.default_rng(1), noise)["m"])
    dm_d = _distribution(run_density([circuit], SHOTS, np.random.default_rng(2), noise)[0]["m"])
    traj_d = _distribution(run_circuit(circuit, SHOTS, np.random.default_rng(3), noise)["m"])
    assert _same(stim_d, dm_d)
    assert _same(traj_d, dm_d)


def test_agreement_check_catches_a_missing_noise_source() -> None:
    circuit = _random_clifford(np.random.default_rng(0), 3, 14)
    noise = _noise(3)
    broken = dataclasses.replace(noise, two_qubit={})
    stim_d = _distribution(run_stabilizer(circuit, SHOTS, np.random.default_rng(1), broken)["m"])
    dm_d = _distribution(run_density([circuit], SHOTS, np.random.default_rng(2), noise)[0]["m"])
    assert not _same(stim_d, dm_d)


def test_density_matrix_matches_trajectories_on_a_generic_circuit() -> None:
    rng = np.random.default_rng(4)
    ops = []
    for layer in range(4):
        ops += [Op("prx", (q,), angle=rng.uniform(0, 3), phase=rng.uniform(0, 6)) for q in range(3)]
        ops.append(Op("cz", (layer % 2, layer % 2 + 1)))
    ops += [Op("delay", (0,), duration=15e-6), Op("measure", (0, 1, 2), key="m")]
    circuit = NativeCircuit("g", ("QB1", "QB2", "QB3"), tuple(ops))
    noise = _noise(3)
    dm_d = _distribution(run_density([circuit], SHOTS, np.random.default_rng(2), noise)[0]["m"])
    traj_d = _distribution(run_circuit(circuit, SHOTS, np.random.default_rng(3), noise)["m"])
    assert _same(dm_d, traj_d)


def test_move_through_the_resonator_on_every_engine() -> None:
    """deneb: QB1's X travels through CR1 and back; CZ with QB2 in |+> flips QB2's phase."""
    machine = get_machine("deneb")
    instructions = [
        prx("QB1"), prx("QB2", math.pi / 2, math.pi / 2), move("QB1", "CR1"), cz("QB2", "CR1"),
        move("QB1", "CR1"), prx("QB2", -math.pi / 2, math.pi / 2), measure("m", "QB1", "QB2"),
    ]  # fmt: skip
    parsed = parse_job(job_body(instructions, shots=200).encode(), machine, Limits())
    circuit = parsed.circuits[0]
    rng = np.random.default_rng(0)
    for out in (
        run_stabilizer(circuit, 200, rng),
        run_density([circuit], 200, rng, None)[0],
        run_circuit(circuit, 200, rng),
    ):
        assert (out["m"] == [1, 1]).all()


def test_pauli_feedback_runs_on_the_stabilizer_engine() -> None:
    """Measure a |+>, flip QB2 iff it read 1: QB2 copies the mid-circuit bit."""
    ops = (
        Op("prx", (0,), angle=math.pi / 2, phase=math.pi / 2),
        Op("measure", (0,), key="mid"),
        Op("cc_prx", (1,), angle=math.pi, phase=0.0, feedback=0),
        Op("reset", (0,)),
        Op("measure", (0, 1), key="end"),
    )
    circuit = NativeCircuit("fb", ("QB1", "QB2"), ops, feedback_slots=((1, 0),))
    out = run_stabilizer(circuit, 4000, np.random.default_rng(3))
    assert np.array_equal(out["end"][:, 1], out["mid"][:, 0])
    assert not out["end"][:, 0].any()
    assert abs(out["mid"].mean() - 0.5) <= 4 * math.sqrt(0.25 / 4000)


def _plan(machine_name: str, *circuits: list, shots: int = 1000, noisy: bool = True, **limits):
    machine = get_machine(machine_name)
    lim = Limits(**limits)
    parsed = parse_job(job_body(*circuits, shots=shots).encode(), machine, lim)
    models = [noise_model(machine) if noisy else None] * len(parsed.circuits)
    return plan_job(parsed, models, lim)


def _ghz(qubits: list[str], couplers: list[tuple[str, str]]) -> list:
    out = [prx(qubits[0], math.pi / 2, math.pi / 2)]
    for a, b in couplers:
        out += [prx(b, -math.pi / 2, math.pi / 2), cz(a, b), prx(b, math.pi / 2, math.pi / 2)]
    return [*out, measure("m", *qubits)]


def _emerald_tree() -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    return get_machine("emerald").device.spanning_tree("QB1")


def test_engine_choice_follows_the_circuit() -> None:
    qubits, tree = _emerald_tree()
    assert len(qubits) == 54
    assert _plan("emerald", _ghz(qubits, tree), noisy=False).circuits[0].engine == "stabilizer"
    assert _plan("emerald", _ghz(qubits, tree)).circuits[0].engine == "stabilizer"
    generic = [prx("QB1", 0.3, 0.1), cz("QB1", "QB2"), measure("m", "QB1", "QB2")]
    assert _plan("garnet", generic, shots=4000).circuits[0].engine == "density"
    sweep = [[prx("QB1", 0.1 * k, 0.2), cz("QB1", "QB2"), measure("m", "QB1", "QB2")]
             for k in range(1, 6)]  # fmt: skip
    assert {p.engine for p in _plan("garnet", *sweep, noisy=False).circuits} == {"batch"}
    mid = [prx("QB1", 0.3, 0.1), measure("a", "QB1"), prx("QB1", 0.2), measure("b", "QB1")]
    assert _plan("garnet", mid).circuits[0].engine == "trajectories"
    plan = _plan("garnet", generic)
    assert "density" in plan.summary() and plan.memory > 0 and plan.seconds > 0


def test_a_circuit_no_engine_can_run_is_refused_naming_the_limit() -> None:
    qubits, tree = _emerald_tree()
    wide = [prx(q, 0.3, 0.1) for q in qubits[:30]] + _ghz(qubits[:30], tree[:29])
    with pytest.raises(RequestError) as info:
        _plan("emerald", wide)
    assert info.value.status == 400 and info.value.code == "not_simulable"
    assert "memory budget" in info.value.message and "memory_budget" in info.value.message


def test_a_job_over_the_memory_budget_is_refused_before_it_runs() -> None:
    """10 circuits x 1,000,000 shots x 20 qubits: about 420 MB of measurement text."""
    qubits = [f"QB{i}" for i in range(1, 21)]
    circuit = [measure("m", *qubits)]
    with pytest.raises(RequestError) as info:
        _plan("garnet", *[circuit] * 10, shots=1_000_000, memory_budget=200_000_000)
    assert info.value.code == "over_memory_budget"
    assert "200 MB" in info.value.message and "memory_budget" in info.value.message
    small = _plan("garnet", circuit, shots=1000, memory_budget=200_000_000)
    assert small.memory < 200_000_000


def test_mps_samples_the_exact_distribution() -> None:
    """Long-range CZs included: MPS shots vs the state vector's Born rule, outcome by outcome."""
    from iqm_bridge.emulator._engine_mps import bond_bound, run_mps
    from iqm_bridge.emulator._simulator import final_state

    rng = np.random.default_rng(5)
    n = 5
    ops = []
    for _ in range(30):
        if rng.random() < 0.6:
            q = int(rng.integers(n))
            ops.append(Op("prx", (q,), angle=rng.uniform(0, 6), phase=rng.uniform(0, 6)))
        else:
            a, b = rng.choice(n, 2, replace=False)
            ops.append(Op("cz", (int(a), int(b))))
    circuit = NativeCircuit("r", tuple(f"QB{i + 1}" for i in range(n)), tuple(ops))
    probs = np.abs(final_state(circuit)) ** 2
    assert max(bond_bound(circuit)) <= 2  # at most 2 qubits on the small side of any cut
    measured = NativeCircuit(
        "r", circuit.components, (*circuit.ops, Op("measure", tuple(range(n)), key="m"))
    )
    got = _distribution(run_mps(measured, SHOTS, np.random.default_rng(1))["m"])
    sigma = np.sqrt(probs * (1 - probs) / SHOTS)
    assert np.all(np.abs(got - probs) <= 4 * sigma + 1e-12)


def test_a_wide_weakly_entangled_circuit_runs_exactly_as_an_mps() -> None:
    """54 qubits, generic angles, CZs along rows: each row's qubits match qiskit's statevector.

    Rows of emerald are independent here (no CZ between rows), so each row's exact marginals
    come from a small reference statevector; 54 marginals, each within 4 sigma.
    """
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Statevector

    machine = get_machine("emerald")
    coupled = {tuple(sorted(e)) for e in machine.device.coupling_edges}
    qubits = [f"QB{i}" for i in range(1, 55)]
    chain = [(a, b) for a, b in zip(qubits, qubits[1:], strict=False)
             if tuple(sorted((a, b))) in coupled]  # fmt: skip
    rng = np.random.default_rng(8)
    angles = {q: (float(rng.uniform(0.2, 2.9)), float(rng.uniform(0, 6))) for q in qubits}
    instructions = [prx(q, *angles[q]) for q in qubits] + [cz(a, b) for a, b in chain]
    instructions += [prx(q, math.pi / 2, 0.0) for q in qubits] + [measure("m", *qubits)]
    shots = 20_000
    plan = _plan("emerald", instructions, shots=shots, noisy=False)
    assert plan.circuits[0].engine == "mps"
    parsed = parse_job(job_body(instructions, shots=shots).encode(), machine, Limits())
    bits = run_plan(parsed, plan, np.random.default_rng(2), Limits())[0]["m"]
    # rows: maximal runs of chain-coupled neighbours
    rows, current = [], [qubits[0]]
    for a, b in zip(qubits, qubits[1:], strict=False):
        if (a, b) in chain:
            current.append(b)
        else:
            rows.append(current)
            current = [b]
    rows.append(current)
    for row in rows:
        qc = QuantumCircuit(len(row))
        for i, q in enumerate(row):
            qc.r(*angles[q], i)
        for i in range(len(row) - 1):
            qc.cz(i, i + 1)
        for i in range(len(row)):
            qc.r(math.pi / 2, 0.0, i)
        probs = Statevector(qc).probabilities()
        for i, q in enumerate(row):
            p1 = float(sum(p for idx, p in enumerate(probs) if idx >> i & 1))
            observed = bits[:, qubits.index(q)].mean()
            assert abs(observed - p1) <= 4 * math.sqrt(p1 * (1 - p1) / shots), (q, observed, p1)


def test_the_server_refuses_a_job_over_its_budget_with_an_iqm_error(emulator_factory) -> None:
    import requests

    emu = emulator_factory(machine="garnet", noise=False, memory_budget=50_000_000)
    qubits = [f"QB{i}" for i in range(1, 21)]
    body = job_body([measure("m", *qubits)], shots=1_000_000)
    resp = requests.post(f"{emu.url}/api/v1/jobs/garnet/circuit", data=body, timeout=60)
    assert resp.status_code == 400, resp.text
    error = resp.json()
    assert set(error) == {"message", "error_code", "source"} and error["source"] == "iqm-server"
    assert error["error_code"] == "over_memory_budget"
    assert "50 MB" in error["message"] and "memory_budget" in error["message"]
    assert emu.job_count() == 0  # refused before anything was stored or run
    small = job_body([measure("m", *qubits)], shots=1000)
    ok = requests.post(f"{emu.url}/api/v1/jobs/garnet/circuit", data=small, timeout=60).json()
    assert ok["status"] == "completed"


def test_engines_agree_on_noisy_moves_through_the_resonator() -> None:
    """deneb: MOVE noise (0.1 per MOVE here) is the same on every engine; dropping it shows."""
    machine = get_machine("deneb")
    instructions = [
        prx("QB1"), prx("QB2", math.pi / 2, math.pi / 2), move("QB1", "CR1"), cz("QB2", "CR1"),
        move("QB1", "CR1"), prx("QB2", -math.pi / 2, math.pi / 2), measure("m", "QB1", "QB2"),
    ]  # fmt: skip  # ideally |11>: what the noise moves away from it shows
    circuit = parse_job(job_body(instructions, shots=10).encode(), machine, Limits()).circuits[0]
    names = circuit.components
    noise = NoiseModel(
        prx=dict.fromkeys(names, 0.02),
        two_qubit={(a, b): 0.05 for a in names for b in names if a != b},
        move={(a, b): 0.1 for a in names for b in names if a != b},
        readout={q: (0.01, 0.04) for q in names},
    )
    stim_d = _distribution(run_stabilizer(circuit, SHOTS, np.random.default_rng(1), noise)["m"])
    dm_d = _distribution(run_density([circuit], SHOTS, np.random.default_rng(2), noise)[0]["m"])
    traj_d = _distribution(run_circuit(circuit, SHOTS, np.random.default_rng(3), noise)["m"])
    assert _same(stim_d, dm_d) and _same(traj_d, dm_d)
    no_move = dataclasses.replace(noise, move={})
    broken = _distribution(run_stabilizer(circuit, SHOTS, np.random.default_rng(4), no_move)["m"])
    assert not _same(broken, dm_d)

"""The native simulator against an independent numpy reference (kron-built matrices)."""

from __future__ import annotations

import numpy as np
import pytest

from iqm_bridge.emulator._simulator import (
    NativeCircuit,
    NoiseModel,
    Op,
    TooManyQubitsError,
    final_state,
    run_circuit,
)

I2 = np.eye(2)
CZ = np.diag([1, 1, 1, -1]).astype(complex)
SWAP = np.eye(4)[[0, 2, 1, 3]].astype(complex)


def ref_prx(theta: float, phi: float) -> np.ndarray:
    # independent form: exp(-i θ/2 (cos φ X + sin φ Y))
    x = np.array([[0, 1], [1, 0]], dtype=complex)
    y = np.array([[0, -1j], [1j, 0]])
    gen = np.cos(phi) * x + np.sin(phi) * y
    return np.cos(theta / 2) * I2 - 1j * np.sin(theta / 2) * gen


def embed(u: np.ndarray, targets: tuple[int, ...], n: int) -> np.ndarray:
    """Full 2^n matrix of ``u`` on ``targets`` (component 0 most significant)."""
    if len(targets) == 1:
        mats = [u if i == targets[0] else I2 for i in range(n)]
        out = np.array([[1.0 + 0j]])
        for m in mats:
            out = np.kron(out, m)
        return out
    # two-qubit: permute so that targets come first, then back
    dim = 2**n
    full = np.zeros((dim, dim), dtype=complex)
    for col in range(dim):
        bits = [(col >> (n - 1 - i)) & 1 for i in range(n)]
        sub = bits[targets[0]] * 2 + bits[targets[1]]
        for out_sub in range(4):
            amp = u[out_sub, sub]
            if amp == 0:
                continue
            nb = list(bits)
            nb[targets[0]], nb[targets[1]] = out_sub >> 1, out_sub & 1
            row = sum(b << (n - 1 - i) for i, b in enumerate(nb))
            full[row, col] += amp
    return full


def reference_state(circuit: NativeCircuit) -> np.ndarray:
    n = len(circuit.components)
    psi = np.zeros(2**n, dtype=complex)
    psi[0] = 1
    for op in circuit.ops:
        if op.kind == "prx":
            psi = embed(ref_prx(op.angle, op.phase), op.targets, n) @ psi
        elif op.kind == "cz":
            psi = embed(CZ, op.targets, n) @ psi
        elif op.kind == "move":
            psi = embed(SWAP, op.targets, n) @ psi
    return psi


def random_circuit(rng: np.random.Generator, n: int, depth: int) -> NativeCircuit:
    ops = []
    for _ in range(depth):
        kind = rng.choice(["prx", "prx", "cz", "move"]) if n > 1 else "prx"
        if kind == "prx":
            ops.append(
                Op("prx", (int(rng.integers(n)),), angle=rng.uniform(-7, 7),
                   phase=rng.uniform(-7, 7))
            )  # fmt: skip
        else:
            a, b = rng.choice(n, 2, replace=False)
            ops.append(Op(str(kind), (int(a), int(b))))
    return NativeCircuit("r", tuple(f"C{i}" for i in range(n)), tuple(ops))


@pytest.mark.parametrize("seed", range(12))
def test_statevector_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    circuit = random_circuit(rng, n, 40)
    np.testing.assert_allclose(final_state(circuit), reference_state(circuit), atol=1e-10)


def test_block_flush_on_large_state_matches_reference() -> None:
    rng = np.random.default_rng(7)
    n = 11  # large enough for the rotating block flush
    ops = []
    for layer in range(4):
        ops += [Op("prx", (q,), angle=rng.uniform(0, 3), phase=rng.uniform(0, 6)) for q in range(n)]
        ops += [Op("cz", (q, q + 1)) for q in range(layer % 2, n - 1, 2)]
        ops.append(Op("move", (0, n - 1)))
    circuit = NativeCircuit("big", tuple(f"C{i}" for i in range(n)), tuple(ops))
    np.testing.assert_allclose(final_state(circuit), reference_state(circuit), atol=1e-9)


def _measure_all(circuit: NativeCircuit) -> NativeCircuit:
    n = len(circuit.components)
    ops = circuit.ops + tuple(Op("measure", (i,), key=f"m{i}") for i in range(n))
    return NativeCircuit(circuit.name, circuit.components, ops)


def _check_distribution(samples: np.ndarray, probs: np.ndarray) -> None:
    shots = samples.shape[0]
    counts = np.bincount(samples, minlength=len(probs))
    sigma = np.sqrt(shots * probs * (1 - probs)) + 1.0
    assert np.all(np.abs(counts - shots * probs) <= 5 * sigma), (counts, shots * probs)


@pytest.mark.parametrize("seed", range(5))
def test_terminal_sampling_follows_born_rule(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 6))
    circuit = random_circuit(rng, n, 30)
    probs = np.abs(reference_state(circuit)) ** 2
    shots = 4000
    result = run_circuit(_measure_all(circuit), shots, np.random.default_rng(seed))
    assert all(result[f"m{i}"].shape == (shots, 1) for i in range(n))
    index = sum(result[f"m{i}"][:, 0].astype(int) << (n - 1 - i) for i in range(n))
    _check_distribution(index, probs)


def test_mid_circuit_feedback_and_reset_match_exact_distribution() -> None:
    # q0 in superposition; measure q0 (feedback); flip q1 iff q0 read 1; reset q0; rotate q0
    theta = 1.1
    ops = (
        Op("prx", (0,), angle=theta, phase=0.3),
        Op("measure", (0,), key="mid"),
        Op("cc_prx", (1,), angle=np.pi, phase=0.0, feedback=0),
        Op("reset", (0,)),
        Op("prx", (0,), angle=np.pi / 2, phase=0.0),
        Op("measure", (0, 1), key="end"),
    )
    circuit = NativeCircuit("fb", ("QB1", "QB2"), ops, feedback_slots=((1, 0),))
    shots = 20000
    res = run_circuit(circuit, shots, np.random.default_rng(3))
    p1 = np.sin(theta / 2) ** 2
    mid = res["mid"][:, 0]
    end = res["end"]
    assert abs(mid.mean() - p1) < 5 * np.sqrt(p1 * (1 - p1) / shots)
    # q1 copies the mid-circuit bit, q0 is 50/50 after reset + X/2
    assert np.array_equal(end[:, 1], mid)
    assert abs(end[:, 0].mean() - 0.5) < 5 * np.sqrt(0.25 / shots)
    assert abs(np.corrcoef(end[:, 0], mid)[0, 1]) < 0.05


def test_resonator_move_carries_the_state() -> None:
    # QB1 -> X, move to CR1, CZ(QB2, CR1) with QB2 in |+>, move back: QB2 gets a Z
    ops = (
        Op("prx", (0,), angle=np.pi, phase=0.0),
        Op("prx", (2,), angle=np.pi / 2, phase=np.pi / 2),
        Op("move", (0, 1)),
        Op("cz", (2, 1)),
        Op("move", (0, 1)),
        Op("prx", (2,), angle=-np.pi / 2, phase=np.pi / 2),
    )
    circuit = NativeCircuit("mv", ("QB1", "CR1", "QB2"), ops)
    state = final_state(circuit)
    np.testing.assert_allclose(state, reference_state(circuit), atol=1e-12)
    # |1>_QB1 |0>_CR1 |1>_QB2 : index 0b101
    assert abs(abs(state[0b101]) - 1) < 1e-12


def test_noise_free_results_are_reproducible_with_a_seed() -> None:
    circuit = _measure_all(random_circuit(np.random.default_rng(1), 4, 20))
    a = run_circuit(circuit, 500, np.random.default_rng(9))
    b = run_circuit(circuit, 500, np.random.default_rng(9))
    assert all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("prepare_one", [False, True])
def test_noisy_results_have_exact_shot_count_and_asymmetric_readout(prepare_one: bool) -> None:
    """P(1|0) = 0.1 and P(0|1) = 0.3: a symmetric flip (the broken variant) fails one case."""
    ops = (Op("prx", (0,), angle=np.pi),) if prepare_one else ()
    circuit = NativeCircuit("ro", ("QB1",), (*ops, Op("measure", (0,), key="m")))
    noise = NoiseModel(readout={"QB1": (0.1, 0.3)})
    shots = 10000
    res = run_circuit(circuit, shots, np.random.default_rng(0), noise)
    assert res["m"].shape == (shots, 1)
    expected = 0.7 if prepare_one else 0.1
    # 4 sigma of a binomial mean: sigma = sqrt(p (1 - p) / shots)
    assert abs(res["m"].mean() - expected) < 4 * np.sqrt(expected * (1 - expected) / shots)


def test_too_many_qubits_names_the_limit() -> None:
    ops = tuple(Op("prx", (i,), angle=1.0) for i in range(5))
    circuit = NativeCircuit("wide", tuple(f"QB{i}" for i in range(5)), ops)
    with pytest.raises(TooManyQubitsError, match="at most 4"):
        run_circuit(circuit, 10, np.random.default_rng(0), max_qubits=4)

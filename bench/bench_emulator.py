"""Emulator benchmarks: simulator speed and noisy end-to-end runs.

Anchors run in the same process and the same run: qiskit-aer's statevector simulator on the
same circuit, and ``IQMFakeGarnet`` (iqm-client's Aer-based fake backend) on the same
transpiled circuit. Job round trips and load are in ``bench_roundtrip.py``.

Simulation engines (the functions after the ``simulation engines`` marker), against qiskit-aer
in the same run: GHZ-54 and a random 54-qubit Clifford (Aer's stabilizer method), a noisy
GHZ-20 (Aer's stabilizer method with the same Pauli errors as circuit instructions and the same
readout errors), and a noisy 4-qubit, 50-circuit, 4,000-shot VQE step (Aer's density-matrix
method, same noise). Inside ours' timer: everything the user pays for, from serialising the
job to parsed results (through ``IQMClient``, or for the VQE step through plain HTTP with
iqm-client's job model, then the SDK's own result path: the core's ``parse_measurements`` and
``KeyMap.bits`` to one bit array per circuit); outside it:
starting the emulator and building the circuits. Inside the anchor's timer: Aer's
``run(...).result()``; outside it: building the circuits and the noise model.
"""

from __future__ import annotations

import numpy as np
from _common import Figure, median_time

_AER = "qiskit-aer %s method run(...).result(), same circuits; ours through the emulator's HTTP"


def _random_native(
    n: int, depth: int, seed: int
) -> list[tuple[str, tuple[int, ...], float, float]]:
    rng = np.random.default_rng(seed)
    ops: list[tuple[str, tuple[int, ...], float, float]] = []
    for layer in range(depth):
        for q in range(n):
            ops.append(
                ("prx", (q,), float(rng.uniform(0, np.pi)), float(rng.uniform(0, 2 * np.pi)))
            )
        for q in range(layer % 2, n - 1, 2):
            ops.append(("cz", (q, q + 1), 0.0, 0.0))
    return ops


def simulator_vs_aer() -> Figure:
    """Noise-off 20-qubit random native circuit, depth 20, 10,000 shots: ours vs Aer."""
    from qiskit import QuantumCircuit
    from qiskit_aer import AerSimulator

    from iqm_bridge.emulator._simulator import NativeCircuit, Op, run_circuit

    n, shots = 20, 10_000
    ops = _random_native(n, 20, seed=11)
    native = [Op(k, t, angle=a, phase=p) for k, t, a, p in ops]
    native += [Op("measure", (q,), key=f"c_{n}_0_{q}") for q in range(n)]
    circuit = NativeCircuit("bench", tuple(f"QB{i + 1}" for i in range(n)), tuple(native))
    rng = np.random.default_rng(1)

    qc = QuantumCircuit(n, n)
    for k, t, a, p in ops:
        if k == "prx":
            qc.r(a, p, t[0])
        else:
            qc.cz(*t)
    qc.measure(range(n), range(n))
    aer = AerSimulator(method="statevector")

    ours = median_time(lambda: run_circuit(circuit, shots, rng), repeat=5)
    anchor = median_time(lambda: aer.run(qc, shots=shots).result(), repeat=5)
    return Figure(
        "emulator.sim_20q_d20_10k_vs_aer",
        ours,
        anchor,
        1.5,
        "s",
        against="qiskit-aer statevector run(...).result(), same circuit (ours: our simulator)",
    )


def noisy_ghz_vs_fake_garnet() -> Figure:
    """Noisy 10-qubit GHZ, 4,000 shots, end to end: our emulator vs IQMFakeGarnet."""
    from iqm.qiskit_iqm import IQMProvider
    from iqm.qiskit_iqm.fake_backends.fake_garnet import IQMFakeGarnet
    from qiskit import QuantumCircuit, transpile

    from iqm_bridge.emulator import Emulator

    qc = QuantumCircuit(10)
    qc.h(0)
    for i in range(9):
        qc.cx(i, i + 1)
    qc.measure_all()
    fake = IQMFakeGarnet()
    transpiled = transpile(qc, fake, optimization_level=1, seed_transpiler=1)
    with Emulator(machine="garnet", noise=True, seed=5) as url:
        backend = IQMProvider(url).get_backend()
        ours = median_time(lambda: backend.run(transpiled, shots=4000).result(), repeat=5)
    anchor = median_time(lambda: fake.run(transpiled, shots=4000).result(), repeat=5)
    return Figure(
        "emulator.noisy_ghz10_4k_vs_fake_garnet",
        ours,
        anchor,
        0.5,
        "s",
        against="IQMFakeGarnet run(...).result() (iqm-client's Aer fake), same transpiled circuit",
    )


BENCHMARKS = [
    simulator_vs_aer,
    noisy_ghz_vs_fake_garnet,
]


# ---------------------------------------------------------------- simulation engines
# Ours: everything the user pays for, inside the timer: the job through the unmodified
# IQMClient (serialise, POST, the emulator's plan + simulation + measurement text, GET
# measurements, parse). The anchor's timer: qiskit-aer's run(...).result() on the same
# circuits (already in Aer's gate set: r and cz), with the same Pauli noise where noisy.


def _tree(machine: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Qubits in breadth-first order from QB1 and the spanning tree's edges."""
    from iqm_bridge.emulator import get_machine

    return get_machine(machine).device.spanning_tree("QB1")


def _ghz_ops(qubits: list[str], tree: list[tuple[str, str]]) -> list[tuple]:
    ops = [("prx", (qubits[0],), np.pi / 2, np.pi / 2)]
    for a, b in tree:
        ops += [("prx", (b,), -np.pi / 2, np.pi / 2), ("cz", (a, b), 0.0, 0.0),
                ("prx", (b,), np.pi / 2, np.pi / 2)]  # fmt: skip
    return ops


def _random_clifford_ops(machine: str, seed: int) -> list[tuple[str, tuple, float, float]]:
    """600 random native Cliffords on every qubit of ``machine``, 8 of them quarter turns."""
    from iqm_bridge.emulator import get_machine

    qubits, _ = _tree(machine)
    edges = [tuple(e) for e in get_machine(machine).device.coupling_edges]
    rng = np.random.default_rng(seed)
    quarter = set(rng.choice(600, 8, replace=False).tolist())
    ops: list[tuple[str, tuple, float, float]] = []
    for step in range(600):
        if step in quarter:
            q = qubits[int(rng.integers(len(qubits)))]
            ops.append(("prx", (q,), np.pi / 2, int(rng.integers(4)) * np.pi / 2))
        elif rng.random() < 0.5:
            ops.append(("cz", edges[int(rng.integers(len(edges)))], 0.0, 0.0))
        else:
            q = qubits[int(rng.integers(len(qubits)))]
            ops.append(("prx", (q,), np.pi, int(rng.integers(4)) * np.pi / 4))
    return ops


def _key(width: int) -> str:
    """The SDK's measurement key of a ``width``-bit register ``m`` read whole."""
    from iqm_bridge.core.keys import KeyMap, Register

    return KeyMap.encode(Register("m", width), 0, 0)


def _iqm_circuit(name: str, ops: list, qubits: list[str]):  # noqa: ANN202
    from iqm.iqm_client import Circuit, CircuitOperation

    inst = [
        CircuitOperation(k, t, {"angle": a, "phase": p} if k == "prx" else {}) for k, t, a, p in ops
    ]
    inst.append(CircuitOperation("measure", tuple(qubits), {"key": _key(len(qubits))}))
    return Circuit(name=name, instructions=tuple(inst), metadata={})


def _qiskit_circuit(ops: list, qubits: list[str], clifford: bool = False, noise=None):  # noqa: ANN001, ANN202
    """The same circuit for Aer: ``r`` and ``cz``; with ``clifford``, each ``r`` as the
    stabilizer method's gates; with ``noise`` (a NoiseModel of ours), each gate followed by
    its Pauli error as a circuit instruction (the stabilizer method takes those)."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Clifford
    from qiskit_aer.noise import pauli_error

    index = {q: i for i, q in enumerate(qubits)}
    qc = QuantumCircuit(len(qubits), len(qubits))
    cache: dict[tuple[float, float], QuantumCircuit] = {}
    paulis = [a + b for a in "IXYZ" for b in "IXYZ"][1:]
    for k, t, a, p in ops:
        if k == "prx":
            if clifford:
                if (a, p) not in cache:
                    one = QuantumCircuit(1)
                    one.r(a, p, 0)
                    cache[(a, p)] = Clifford(one).to_circuit()
                qc.compose(cache[(a, p)], [index[t[0]]], inplace=True)
            else:
                qc.r(a, p, index[t[0]])
            if noise is not None:
                e = noise.prx[t[0]]
                error = pauli_error([("X", e / 3), ("Y", e / 3), ("Z", e / 3), ("I", 1 - e)])
                qc.append(error, [index[t[0]]])
        else:
            qc.cz(index[t[0]], index[t[1]])
            if noise is not None:
                e = noise.two_qubit[(t[0], t[1])]
                error = pauli_error([(s, e / 15) for s in paulis] + [("II", 1 - e)])
                qc.append(error, [index[t[1]], index[t[0]]])
    qc.measure(range(len(qubits)), range(len(qubits)))
    return qc


def _aer_noise(machine_name: str, qubits: list[str]):  # noqa: ANN202
    """The emulator's noise model of ``machine_name`` as an Aer model of the same Paulis."""
    from qiskit_aer.noise import NoiseModel as AerNoise
    from qiskit_aer.noise import ReadoutError, pauli_error

    from iqm_bridge.emulator._calibration import noise_model
    from iqm_bridge.emulator._machines import get_machine

    model = noise_model(get_machine(machine_name))
    index = {q: i for i, q in enumerate(qubits)}
    aer = AerNoise(basis_gates=["r", "cz"])
    for q, i in index.items():
        p = model.prx[q]
        aer.add_quantum_error(
            pauli_error([("X", p / 3), ("Y", p / 3), ("Z", p / 3), ("I", 1 - p)]), "r", [i]
        )
        e01, e10 = model.readout[q]
        aer.add_readout_error(ReadoutError([[1 - e01, e01], [e10, 1 - e10]]), [i])
    paulis = [a + b for a in "IXYZ" for b in "IXYZ"][1:]
    for (a, b), p in model.two_qubit.items():
        if a in index and b in index:
            error = pauli_error([(s, p / 15) for s in paulis] + [("II", 1 - p)])
            aer.add_quantum_error(error, "cz", [index[a], index[b]])
    return aer


def _ours(machine: str, noise: bool, circuits: list, shots: int, repeat: int) -> float:
    from iqm.iqm_client import IQMClient

    from iqm_bridge.emulator import Emulator

    with Emulator(machine=machine, noise=noise, seed=3) as url:
        client = IQMClient.from_url(url)

        def once() -> None:
            job = client.submit_circuits(circuits, shots=shots)
            job.wait_for_completion()
            if job.result() is None:
                raise RuntimeError("no result")

        return median_time(once, repeat=repeat, warmup=1)


def _ours_http(machine: str, noise: bool, circuits: list, shots: int, repeat: int) -> float:
    import requests
    from iqm.station_control.interface.models.circuit import CircuitJobDefinition

    from iqm_bridge.core.keys import KeyMap
    from iqm_bridge.core.submit.transport import parse_measurements
    from iqm_bridge.emulator import Emulator

    keymaps = [KeyMap.from_keys([c.instructions[-1].args["key"]]) for c in circuits]

    with Emulator(machine=machine, noise=noise, seed=3) as url, requests.Session() as http:

        def once() -> None:
            body = CircuitJobDefinition(circuits=circuits, shots=shots).model_dump_json()
            job = http.post(
                f"{url}/api/v1/jobs/{machine}/circuit", data=body,
                headers={"Content-Type": "application/json"}, timeout=60,
            ).json()  # fmt: skip
            if job.get("status") != "completed":
                raise RuntimeError(f"job not completed: {job}")
            text = http.get(f"{url}/api/v1/jobs/{job['id']}/artifacts/measurements", timeout=60)
            results = parse_measurements(text.content)
            if len(results) != len(circuits):
                raise RuntimeError("missing results")
            for keymap, result in zip(keymaps, results, strict=True):
                keymap.bits(result, shots)

        return median_time(once, repeat=repeat, warmup=1)


def _anchor(method: str, circuits: list, shots: int, repeat: int, noise=None) -> float:  # noqa: ANN001
    from qiskit_aer import AerSimulator

    aer = AerSimulator(method=method, noise_model=noise)
    if not aer.run(circuits, shots=shots).result().success:
        raise RuntimeError(f"the anchor failed on Aer's {method} method")
    return median_time(lambda: aer.run(circuits, shots=shots).result(), repeat=repeat, warmup=1)


def _readout_only(machine_name: str, qubits: list[str]):  # noqa: ANN202
    from qiskit_aer.noise import NoiseModel as AerNoise
    from qiskit_aer.noise import ReadoutError

    from iqm_bridge.emulator._calibration import noise_model
    from iqm_bridge.emulator._machines import get_machine

    model = noise_model(get_machine(machine_name))
    aer = AerNoise()
    for i, q in enumerate(qubits):
        e01, e10 = model.readout[q]
        aer.add_readout_error(ReadoutError([[1 - e01, e01], [e10, 1 - e10]]), [i])
    return aer


def ghz54_vs_aer_stabilizer() -> Figure:
    """emerald, noise off: GHZ-54, 1,000 shots; anchor Aer's stabilizer method."""
    qubits, tree = _tree("emerald")
    ops = _ghz_ops(qubits, tree)
    ours = _ours("emerald", False, [_iqm_circuit("ghz54", ops, qubits)], 1000, 7)
    anchor = _anchor("stabilizer", [_qiskit_circuit(ops, qubits, clifford=True)], 1000, 7)
    return Figure(
        "emulator.ghz54_1k_vs_aer_stabilizer", ours, anchor, 1.0, "s", against=_AER % "stabilizer"
    )


def clifford54_vs_aer_stabilizer() -> Figure:
    """emerald, noise off: a random 600-gate, 54-qubit Clifford, 10,000 shots; Aer stabilizer."""
    qubits, _ = _tree("emerald")
    ops = _random_clifford_ops("emerald", 2024)
    ours = _ours("emerald", False, [_iqm_circuit("cliff54", ops, qubits)], 10_000, 7)
    anchor = _anchor("stabilizer", [_qiskit_circuit(ops, qubits, clifford=True)], 10_000, 7)
    return Figure(
        "emulator.clifford54_10k_vs_aer_stabilizer",
        ours,
        anchor,
        1.0,
        "s",
        against=_AER % "stabilizer",
    )


def noisy_ghz20_vs_aer_stabilizer() -> Figure:
    """garnet, noise on: GHZ-20, 1,000 shots. Anchor: Aer's stabilizer method with the same
    Pauli noise (the same Pauli error instructions after every gate, the same asymmetric
    readout errors); a density matrix is impossible at 20 qubits."""
    qubits, tree = _tree("garnet")
    ops = _ghz_ops(qubits, tree)
    ours = _ours("garnet", True, [_iqm_circuit("ghz20", ops, qubits)], 1000, 7)
    from iqm_bridge.emulator._calibration import noise_model
    from iqm_bridge.emulator._machines import get_machine

    model = noise_model(get_machine("garnet"))
    qc = _qiskit_circuit(ops, qubits, clifford=True, noise=model)
    anchor = _anchor("stabilizer", [qc], 1000, 7, _readout_only("garnet", qubits))
    return Figure(
        "emulator.noisy_ghz20_1k_vs_aer_stabilizer",
        ours,
        anchor,
        1.0,
        "s",
        against=_AER % "stabilizer" + ", same Pauli and readout errors",
    )


def noisy_vqe_step_vs_aer_density() -> Figure:
    """garnet, noise on: one VQE step, 50 circuits of one 4-qubit shape (3 RY layers with CZ
    ladders in between, as PRX), 4,000 shots each. Anchor: Aer's density_matrix method on the
    same 50 circuits with the same Pauli noise and readout errors. Ours' timer: serialising
    the job with iqm-client's model, POST, GET measurements, and parsing them into one
    ``(shots, 4)`` array per circuit, as the SDK's Connection does (iqm-client's own
    ``result()`` builds pydantic lists of 800,000 bits and alone takes longer than Aer)."""
    qubits = ["QB1", "QB2", "QB5", "QB6"]  # a chain of garnet couplers
    rng = np.random.default_rng(9)
    iqm, qiskit = [], []
    for index in range(50):
        ops = []
        for layer in range(3):
            for q in qubits:
                ops.append(("prx", (q,), float(rng.uniform(0, np.pi)), np.pi / 2))
            if layer < 2:
                for a, b in zip(qubits, qubits[1:], strict=False):
                    ops += [("prx", (b,), -np.pi / 2, np.pi / 2), ("cz", (a, b), 0.0, 0.0),
                            ("prx", (b,), np.pi / 2, np.pi / 2)]  # fmt: skip
        iqm.append(_iqm_circuit(f"step{index}", ops, qubits))
        qiskit.append(_qiskit_circuit(ops, qubits))
    ours = _ours_http("garnet", True, iqm, 4000, 7)
    anchor = _anchor("density_matrix", qiskit, 4000, 7, _aer_noise("garnet", qubits))
    return Figure(
        "emulator.noisy_vqe_step_50x4q_4k_vs_aer_density",
        ours,
        anchor,
        1.0,
        "s",
        against=_AER % "density_matrix" + ", same noise",
    )


BENCHMARKS += [
    ghz54_vs_aer_stabilizer,
    clifford54_vs_aer_stabilizer,
    noisy_ghz20_vs_aer_stabilizer,
    noisy_vqe_step_vs_aer_density,
]

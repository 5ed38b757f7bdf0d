"""Emulator benchmarks: simulator speed, noisy end-to-end runs, job round-trip latency.

Anchors run in the same process and the same run: qiskit-aer's statevector simulator on the
same circuit, ``IQMFakeGarnet`` (iqm-client's Aer-based fake backend) on the same transpiled
circuit, and absolute targets for job round trips: 15 ms for one small job through
``IQMClient`` and for a 50-circuit sweep-like batch; for a 96-circuit gradient-step batch,
half of what the emulator took before batches were validated and simulated per structure.
"""

from __future__ import annotations

import numpy as np
from _common import Figure, median_time


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
    return Figure("emulator.sim_20q_d20_10k_vs_aer", ours, anchor, 1.5, "s")


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
    return Figure("emulator.noisy_ghz10_4k_vs_fake_garnet", ours, anchor, 0.5, "s")


def job_round_trip() -> Figure:
    """One 1-circuit job through the unmodified IQMClient: submit + wait + measurements."""
    from iqm.iqm_client import Circuit, CircuitOperation, IQMClient

    from iqm_bridge.emulator import Emulator

    circuit = Circuit(
        name="bell",
        instructions=(
            CircuitOperation("prx", ("QB1",), {"angle": np.pi / 2, "phase": np.pi / 2}),
            CircuitOperation("prx", ("QB2",), {"angle": np.pi / 2, "phase": np.pi / 2}),
            CircuitOperation("cz", ("QB1", "QB2"), {}),
            CircuitOperation("prx", ("QB2",), {"angle": -np.pi / 2, "phase": np.pi / 2}),
            CircuitOperation("measure", ("QB1", "QB2"), {"key": "m"}),
        ),
    )
    with Emulator(machine="garnet", noise=False, seed=3) as url:
        client = IQMClient.from_url(url)

        def once() -> None:
            job = client.submit_circuits([circuit], shots=100)
            job.wait_for_completion()
            assert job.result() is not None

        ours = median_time(once, repeat=30, warmup=3)
    return Figure("emulator.job_round_trip_iqmclient", ours, 0.015, 1.0, "s", "target 15 ms")


def _batch_body(n_circuits: int, qubits: list[str], layers: int, shots: int, seed: int) -> bytes:
    """A job of ``n_circuits`` circuits of one structure with different angles (a sweep).

    Per layer: two PRX on every qubit, then CZ along the chain of ``qubits`` (neighbours on
    garnet); one measurement of all qubits at the end. Serialised by iqm-client's model.
    """
    from iqm.iqm_client import Circuit, CircuitOperation
    from iqm.station_control.interface.models.circuit import CircuitJobDefinition

    rng = np.random.default_rng(seed)
    circuits = []
    for index in range(n_circuits):
        ops = []
        for _ in range(layers):
            for q in qubits:
                for _ in range(2):
                    angle, phase = rng.uniform(0, np.pi), rng.uniform(-np.pi, np.pi)
                    ops.append(CircuitOperation("prx", (q,), {"angle": angle, "phase": phase}))
            for a, b in zip(qubits, qubits[1:], strict=False):
                ops.append(CircuitOperation("cz", (a, b), {}))
        ops.append(CircuitOperation("measure", tuple(qubits), {"key": f"m_{len(qubits)}_0_0"}))
        circuits.append(Circuit(name=f"point{index}", instructions=tuple(ops), metadata={}))
    job = CircuitJobDefinition(circuits=circuits, shots=shots)
    return str(job.model_dump_json()).encode()


def _batch_round_trip(body: bytes, repeat: int) -> float:
    """Median time of POST (the emulator answers when the job is done) + GET measurements.

    Each request opens a new connection, as iqm-client does.
    """
    import requests

    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=False, seed=3) as url:

        def once() -> None:
            resp = requests.post(
                f"{url}/api/v1/jobs/garnet/circuit?use_timeslot=false",
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            job = resp.json()
            if job.get("status") != "completed":
                raise RuntimeError(f"job not completed: {job}")
            meas = requests.get(f"{url}/api/v1/jobs/{job['id']}/artifacts/measurements", timeout=60)
            meas.raise_for_status()

        return median_time(once, repeat=repeat, warmup=2)


def batch50_4q_roundtrip() -> Figure:
    """A Cirq-sweep-like job: 50 circuits of one structure, 4 qubits, 21 ops, 100 shots."""
    body = _batch_body(50, ["QB4", "QB5", "QB10", "QB9"], layers=2, shots=100, seed=5)
    ours = _batch_round_trip(body, repeat=21)
    return Figure("emulator.batch50_4q_roundtrip", ours, 0.015, 1.0, "s", "target 15 ms")


STEP96_BASELINE = 0.197
"""Seconds the 96-circuit step job took (median) before per-structure batching, same harness."""


def batch96_6q_step_roundtrip() -> Figure:
    """A PennyLane-step-like job: 96 circuits of one structure, 6 qubits, 1000 shots."""
    qubits = ["QB9", "QB4", "QB5", "QB10", "QB11", "QB6"]
    body = _batch_body(96, qubits, layers=4, shots=1000, seed=6)
    ours = _batch_round_trip(body, repeat=11)
    return Figure(
        "emulator.batch96_6q_step_roundtrip", ours, STEP96_BASELINE / 2, 1.0, "s",
        f"target: half the {STEP96_BASELINE * 1e3:.0f} ms before batching",
    )  # fmt: skip


BENCHMARKS = [
    simulator_vs_aer,
    noisy_ghz_vs_fake_garnet,
    job_round_trip,
    batch50_4q_roundtrip,
    batch96_6q_step_roundtrip,
]

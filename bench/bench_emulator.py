"""Emulator benchmarks: simulator speed, noisy end-to-end runs, job round-trip latency.

Anchors run in the same process and the same run: qiskit-aer's statevector simulator on the
same circuit, ``IQMFakeGarnet`` (iqm-client's Aer-based fake backend) on the same transpiled
circuit, and an absolute 15 ms target for one job round trip through ``IQMClient``.
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


BENCHMARKS = [simulator_vs_aer, noisy_ghz_vs_fake_garnet, job_round_trip]

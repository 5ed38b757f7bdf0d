"""PennyLane device figures: jobs and wall time per optimisation step.

Ours: ``qml.device("iqm")``. Anchor: pennylane-qiskit's ``qiskit.remote`` device on the
qiskit-iqm backend of the SAME emulator (it sends one job per tape). The workload is one
gradient-descent step (parameter-shift) of a 6-qubit, 2-layer hardware-efficient ansatz on a
two-group Hamiltonian.
"""

from __future__ import annotations

import time
from typing import Any

from _common import Figure

N_QUBITS = 6
LAYERS = 2
SHOTS = 1000


def _problem() -> tuple[Any, Any, Any]:
    import pennylane as qml
    from pennylane import numpy as pnp

    coeffs = [1.0] * (N_QUBITS - 1) + [0.5] * N_QUBITS
    obs = [qml.Z(i) @ qml.Z(i + 1) for i in range(N_QUBITS - 1)]
    obs += [qml.X(i) for i in range(N_QUBITS)]
    ham = qml.Hamiltonian(coeffs, obs)

    def ansatz(w: Any) -> None:
        for layer in range(LAYERS):
            for q in range(N_QUBITS):
                qml.RY(w[layer, q, 0], wires=q)
                qml.RZ(w[layer, q, 1], wires=q)
            for q in range(N_QUBITS - 1):
                qml.CNOT(wires=[q, q + 1])

    weights = pnp.array(
        [[[0.1 * (i + j + k) for k in range(2)] for j in range(N_QUBITS)] for i in range(LAYERS)],
        requires_grad=True,
    )
    return ham, ansatz, weights


def _step(dev: Any, diff_method: str, steps: int) -> tuple[float, float]:
    """(jobs per step, seconds per step) of gradient-descent steps after one warm-up step."""
    import pennylane as qml

    ham, ansatz, weights = _problem()

    @qml.qnode(dev, shots=SHOTS, diff_method=diff_method)
    def cost(w: Any) -> Any:
        ansatz(w)
        return qml.expval(ham)

    opt = qml.GradientDescentOptimizer(0.05)
    weights = opt.step(cost, weights)  # warm-up: compilation caches, connections
    jobs = 0.0
    t0 = time.perf_counter()
    with qml.Tracker(dev) as tracker:
        for _ in range(steps):
            weights = opt.step(cost, weights)
    elapsed = (time.perf_counter() - t0) / steps
    jobs = tracker.totals.get("jobs", tracker.totals.get("batches", 0)) / steps
    return jobs, elapsed


def _anchor_step(url: str) -> tuple[float, float]:
    import pennylane as qml
    from iqm.qiskit_iqm import IQMProvider

    backend = IQMProvider(url).get_backend()
    jobs_before = [0]
    original_run = backend.run

    def counting_run(*args: Any, **kwargs: Any) -> Any:
        jobs_before[0] += 1
        return original_run(*args, **kwargs)

    backend.run = counting_run  # type: ignore[method-assign]
    dev = qml.device("qiskit.remote", wires=N_QUBITS, backend=backend)
    ham, ansatz, weights = _problem()

    @qml.qnode(dev, shots=SHOTS, diff_method="parameter-shift")
    def cost(w: Any) -> Any:
        ansatz(w)
        return qml.expval(ham)

    opt = qml.GradientDescentOptimizer(0.05)
    jobs_before[0] = 0
    t0 = time.perf_counter()
    opt.step(cost, weights)
    return float(jobs_before[0]), time.perf_counter() - t0


def optimisation_step_6q() -> list[Figure]:
    """Jobs and wall time per parameter-shift step, ours vs pennylane-qiskit on one emulator."""
    import pennylane as qml

    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=False, seed=1) as url:
        dev = qml.device("iqm", wires=N_QUBITS, url=url)
        ours_jobs, ours_time = _step(dev, "parameter-shift", steps=5)
        dev_grad = qml.device("iqm", wires=N_QUBITS, url=url)
        dg_jobs, dg_time = _step(dev_grad, "device", steps=5)
        anchor_jobs, anchor_time = _anchor_step(url)
    return [
        Figure("pennylane_jobs_per_step", ours_jobs, anchor_jobs, goal=0.1, unit="jobs"),
        Figure("pennylane_step_wall", ours_time, anchor_time, goal=0.2),
        Figure("pennylane_jobs_per_step_device_grad", dg_jobs, anchor_jobs, goal=0.1, unit="jobs"),
        Figure("pennylane_step_wall_device_grad", dg_time, anchor_time, goal=0.2),
    ]


BENCHMARKS = [optimisation_step_6q]

"""PennyLane device figures: jobs and wall time per optimisation step.

Ours: ``qml.device("iqm")``. Anchor: pennylane-qiskit's ``qiskit.remote`` device on the
qiskit-iqm backend of the SAME emulator (it sends one job per tape). The workload is one
gradient-descent step (parameter-shift) of a 6-qubit, 2-layer hardware-efficient ansatz on a
two-group Hamiltonian, 1,000 shots.

Inside the timer: one ``GradientDescentOptimizer.step`` (the forward and every shifted
circuit, compiled, sent, waited for and turned into the gradient). Outside: starting the
emulator, building the devices, and one warm-up step on every device (compilation caches,
connections, the anchor's transpiler set-up). The timed steps of ours and the anchor are
taken in turns, the same number of each; jobs are counted on the timed steps (ours: the
device tracker's ``jobs``; the anchor: its backend's ``run`` calls). The emulator holds each
submission open until its job is done (its default); there is no queueing variant, since the
anchor's 98 jobs a step would then each wait for iqm-client's 1 s poll (queueing round trips
of the same client path are in ``bench_roundtrip``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from _common import Figure, interleaved_medians

N_QUBITS = 6
LAYERS = 2
SHOTS = 1000
STEPS = 3


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


def _stepper(dev: Any, diff_method: str) -> Callable[[], None]:
    """One optimisation step per call on ``dev``, starting from the same weights."""
    import pennylane as qml

    ham, ansatz, weights = _problem()

    @qml.qnode(dev, shots=SHOTS, diff_method=diff_method)
    def cost(w: Any) -> Any:
        ansatz(w)
        return qml.expval(ham)

    opt = qml.GradientDescentOptimizer(0.05)
    state = [weights]

    def step() -> None:
        state[0] = opt.step(cost, state[0])

    return step


def _anchor_device(url: str) -> tuple[Any, list[int]]:
    """pennylane-qiskit's remote device on the qiskit-iqm backend, and its ``run`` count."""
    import pennylane as qml
    from iqm.qiskit_iqm import IQMProvider

    backend = IQMProvider(url).get_backend()
    runs = [0]
    original_run = backend.run

    def counting_run(*args: Any, **kwargs: Any) -> Any:
        runs[0] += 1
        return original_run(*args, **kwargs)

    backend.run = counting_run  # type: ignore[method-assign]
    return qml.device("qiskit.remote", wires=N_QUBITS, backend=backend), runs


def optimisation_step_6q() -> list[Figure]:
    """Jobs and wall time per parameter-shift step, ours vs pennylane-qiskit on one emulator."""
    import warnings

    import pennylane as qml

    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=False, seed=1) as url, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours_dev = qml.device("iqm", wires=N_QUBITS, url=url)
        grad_dev = qml.device("iqm", wires=N_QUBITS, url=url)
        anchor_dev, anchor_runs = _anchor_device(url)
        steps = [
            _stepper(ours_dev, "parameter-shift"),
            _stepper(grad_dev, "device"),
            _stepper(anchor_dev, "parameter-shift"),
        ]
        with qml.Tracker(ours_dev) as ours_tracker, qml.Tracker(grad_dev) as grad_tracker:
            for step in steps:  # warm-up, not counted
                step()
            ours_tracker.reset()
            grad_tracker.reset()
            anchor_runs[0] = 0
            t_ours, t_grad, t_anchor = interleaved_medians(steps, repeat=STEPS, warmup=0)
        ours_jobs = ours_tracker.totals.get("jobs", 0) / STEPS
        grad_jobs = grad_tracker.totals.get("jobs", 0) / STEPS
        anchor_jobs = anchor_runs[0] / STEPS
    against = "pennylane-qiskit qiskit.remote on the qiskit-iqm backend, same emulator"
    return [
        Figure("pennylane_jobs_per_step", ours_jobs, anchor_jobs, 0.1, "jobs", against=against),
        Figure("pennylane_step_wall", t_ours, t_anchor, 0.2, against=against),
        Figure(
            "pennylane_jobs_per_step_device_grad",
            grad_jobs,
            anchor_jobs,
            0.1,
            "jobs",
            note="ours with diff_method='device' (the shifts as one batch)",
            against=against,
        ),
        Figure(
            "pennylane_step_wall_device_grad",
            t_grad,
            t_anchor,
            0.2,
            note="ours with diff_method='device'",
            against=against,
        ),
    ]


BENCHMARKS = [optimisation_step_6q]

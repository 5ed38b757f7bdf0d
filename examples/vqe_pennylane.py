"""VQE for a 4-qubit transverse-field Ising chain on the ``"iqm"`` PennyLane device.

H = -J sum_i Z_i Z_{i+1} - h sum_i X_i (open chain). The energy is estimated from shots; each
optimisation step is one job when the device computes the parameter-shift gradient itself
(``diff_method="device"``: the forward circuits and every shifted circuit travel together).

Runs on the embedded emulator when no server URL is configured; set
``IQM_BRIDGE_EMULATOR_NOISE=off`` for ideal results, or ``IQM_SERVER_URL`` for a real server::

    IQM_BRIDGE_EMULATOR_NOISE=off python examples/vqe_pennylane.py
"""

from __future__ import annotations

import argparse
from functools import reduce

import numpy as np
import pennylane as qml
from pennylane import numpy as pnp

N_QUBITS = 4
J = 1.0
H_FIELD = 1.0
LAYERS = 3


def hamiltonian() -> qml.Hamiltonian:
    """The transverse-field Ising Hamiltonian of the open 4-qubit chain."""
    coeffs = [-J] * (N_QUBITS - 1) + [-H_FIELD] * N_QUBITS
    ops = [qml.Z(i) @ qml.Z(i + 1) for i in range(N_QUBITS - 1)]
    ops += [qml.X(i) for i in range(N_QUBITS)]
    return qml.Hamiltonian(coeffs, ops)


def exact_ground_energy() -> float:
    """The lowest eigenvalue of the Hamiltonian, by dense diagonalisation with numpy."""
    eye, x, z = np.eye(2), np.array([[0, 1], [1, 0]]), np.diag([1.0, -1.0])

    def on(site_ops: dict[int, np.ndarray]) -> np.ndarray:
        return reduce(np.kron, [site_ops.get(i, eye) for i in range(N_QUBITS)])

    h = sum(-J * on({i: z, i + 1: z}) for i in range(N_QUBITS - 1))
    h = h + sum(-H_FIELD * on({i: x}) for i in range(N_QUBITS))
    return float(np.linalg.eigvalsh(h)[0])


def ansatz(weights: pnp.ndarray) -> None:
    """RY layers with a CNOT ladder between them (real amplitudes suffice for this model)."""
    for layer in range(LAYERS):
        for q in range(N_QUBITS):
            qml.RY(weights[layer, q], wires=q)
        if layer < LAYERS - 1:
            for q in range(N_QUBITS - 1):
                qml.CNOT(wires=[q, q + 1])


def run(steps: int = 60, shots: int = 4000, seed: int = 7, url: str | None = None) -> dict:
    """Optimise the ansatz and return the final energy, the exact one and the history."""
    dev = qml.device("iqm", wires=N_QUBITS, url=url)
    h = hamiltonian()

    @qml.qnode(dev, shots=shots, diff_method="device")
    def energy(weights: pnp.ndarray) -> float:
        ansatz(weights)
        return qml.expval(h)

    @qml.qnode(dev, shots=20 * shots)
    def final_energy(weights: pnp.ndarray) -> float:
        ansatz(weights)
        return qml.expval(h)

    rng = np.random.default_rng(seed)
    weights = pnp.array(rng.normal(0, 0.1, (LAYERS, N_QUBITS)), requires_grad=True)
    weights[0] += np.pi / 2  # start near |+...+>, the field term's ground state
    opt = qml.AdamOptimizer(stepsize=0.1)
    history = []
    with qml.Tracker(dev) as tracker:
        for _ in range(steps):
            weights, cost = opt.step_and_cost(energy, weights)
            history.append(float(cost))
    return {
        "energy": float(final_energy(weights)),
        "exact": exact_ground_energy(),
        "history": history,
        "jobs": tracker.totals.get("jobs", 0),
    }


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--shots", type=int, default=4000)
    args = parser.parse_args()
    out = run(args.steps, args.shots)
    print(f"steps {args.steps}, jobs {out['jobs']}")
    print(f"VQE energy   {out['energy']:.4f}")
    print(f"exact energy {out['exact']:.4f}")
    print(f"error        {abs(out['energy'] - out['exact']):.4f}")


if __name__ == "__main__":
    main()

"""The backend inside other people's code: qiskit-ibm-runtime's ``SamplerV2`` in local mode and
PennyLane-Qiskit's ``qiskit.remote`` device, each against the same code on qiskit-aer.

Both libraries deep-copy the backend and transpile with it (so they also go through the
backend's scheduling plugin). Counts are compared with ``_qiskit_oracle.assert_counts_match``
(4 sigma of the two samples' binomial errors per outcome); expectation values within 5 sigma
of the difference of two means of +-1 outcomes, ``sqrt((1 - <Z>^2) (1/n1 + 1/n2))``.
"""

from __future__ import annotations

import math
import pathlib
import sys
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from iqm_bridge.adapters.qiskit import IQMBackend

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _qiskit_oracle import assert_counts_match  # noqa: E402

SHOTS = 4000


def _entangler() -> tuple[QuantumCircuit, Parameter]:
    """Three qubits with an uneven distribution (a wrong bit order or angle shows)."""
    theta = Parameter("theta")
    qc = QuantumCircuit(3)
    qc.ry(theta, 0)
    qc.cx(0, 1)
    qc.rx(1.1, 2)
    qc.cx(1, 2)
    qc.ry(0.4, 1)
    qc.measure_all()
    return qc, theta


def _sample(mode: Any, circuit: QuantumCircuit, values: list[float]) -> list[dict[str, int]]:
    from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager
    from qiskit_ibm_runtime import SamplerV2

    isa = generate_preset_pass_manager(backend=mode, optimization_level=2, seed_transpiler=1).run(
        circuit
    )
    result = SamplerV2(mode=mode).run([(isa, [[v] for v in values])], shots=SHOTS).result()
    return [dict(result[0].data.meas.get_counts(i)) for i in range(len(values))]


def test_runtime_sampler_v2_in_local_mode_agrees_with_aer(backend: IQMBackend) -> None:
    """``SamplerV2(mode=backend)``: two parameter values in one call, each against Aer.

    Results read in the wrong bit order, or the two parameter values' results swapped,
    fail here (the distributions are uneven and differ between the values)."""
    from qiskit_aer import AerSimulator

    qc, _ = _entangler()
    values = [0.3, 2.2]
    ours = _sample(backend, qc, values)
    aer = _sample(AerSimulator(seed_simulator=5), qc, values)
    for mine, reference in zip(ours, aer, strict=True):
        assert sum(mine.values()) == SHOTS
        assert_counts_match(mine, reference)


def _pennylane_circuit(device: Any) -> Any:
    import pennylane as qml

    @qml.qnode(device)
    def circuit(x: float) -> Any:
        qml.RY(x, wires=0)
        qml.CNOT(wires=[0, 1])
        qml.RX(1.1, wires=2)
        qml.CNOT(wires=[1, 2])
        return qml.probs(wires=[0, 1, 2]), qml.expval(qml.PauliZ(0) @ qml.PauliZ(2))

    return circuit


def test_pennylane_qiskit_remote_agrees_with_aer(backend: IQMBackend) -> None:
    """``qml.device("qiskit.remote", backend=backend)``: probabilities and a two-qubit
    expectation value against the same device on Aer (a wrong wire order fails both)."""
    import pennylane as qml
    from qiskit_aer import AerSimulator

    ours_dev = qml.device("qiskit.remote", wires=3, backend=backend, shots=SHOTS)
    aer_dev = qml.device(
        "qiskit.remote", wires=3, backend=AerSimulator(seed_simulator=3), shots=SHOTS
    )
    x = 0.9
    probs, zz = _pennylane_circuit(ours_dev)(x)
    aer_probs, aer_zz = _pennylane_circuit(aer_dev)(x)
    assert float(np.sum(probs)) == pytest.approx(1.0)

    def counts(p: Any) -> dict[str, int]:
        return {f"{i:03b}": round(float(v) * SHOTS) for i, v in enumerate(p) if v > 0}

    assert_counts_match(counts(probs), counts(aer_probs))
    sigma = math.sqrt((1 - float(aer_zz) ** 2 + 1e-9) * 2 / SHOTS)
    assert abs(float(zz) - float(aer_zz)) <= 5 * sigma

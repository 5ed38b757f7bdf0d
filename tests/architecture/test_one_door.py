"""The run policy exists once: one logical program through Qiskit, Cirq and PennyLane.

The same circuit (a parameterised rotation, a mid-circuit measurement, an entangling gate and
a final measurement of both qubits) is run from each framework: once at one parameter value
with 100 shots, and once swept over two values with 200 shots. Every framework must make the
same number of jobs and send the server the same native circuits (gates, physical qubits and
angles, measurements per qubit in order; only measurement key names differ, since each
framework names its results its own way). Broken variant caught: an adapter deciding on its own
(e.g. compiling at another level, or sending one job per sweep point).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from iqm_bridge.core import Connection, Journal

THETAS = (0.3, 1.1)


def _per_qubit(ops: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    """Each qubit's own sequence of operations: the circuit up to reordering operations on
    different qubits, which commute (one framework measures two qubits at once, another one by
    one)."""
    lines: dict[str, list[tuple[Any, ...]]] = {}
    for op in ops:
        for q in op[1]:
            lines.setdefault(q, []).append(op)
    return lines


def _natives(url: str, job_ids: list[str]) -> list[dict[str, list[tuple[Any, ...]]]]:
    """The circuits the server received for these jobs, key names left out."""
    conn = Connection(url, journal=None)
    out = []
    for jid in job_ids:
        payload = conn.transport.payload(jid)
        assert payload.shots in (100, 200)
        for circuit in payload.circuits:
            ops: list[tuple[Any, ...]] = []
            for inst in circuit.instructions:
                if inst.name == "measure":
                    ops.extend(("measure", (q,)) for q in inst.locus)
                    continue
                args = tuple(
                    round(float(inst.args[k]) % (2 * math.pi), 9)
                    for k in ("angle", "phase")
                    if k in inst.args
                )
                ops.append((inst.name, tuple(inst.locus), args, payload.shots))
            out.append(_per_qubit(ops))
    return out


def _qiskit(url: str) -> None:
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit.circuit import Parameter

    from iqm_bridge.adapters.qiskit import IQMProvider

    theta = Parameter("theta")
    qc = QuantumCircuit(QuantumRegister(2), ClassicalRegister(1, "mid"), ClassicalRegister(2, "m"))
    qc.rx(theta, 0)
    qc.measure(0, 0)
    qc.cx(0, 1)
    qc.measure([0, 1], [1, 2])
    backend = IQMProvider(url).get_backend()
    backend.run(qc.assign_parameters({theta: THETAS[0]}), shots=100).result()
    backend.run([qc.assign_parameters({theta: t}) for t in THETAS], shots=200).result()


def _cirq(url: str) -> None:
    import cirq
    import sympy

    from iqm_bridge.adapters.cirq import IQMSampler

    a, b = cirq.LineQubit.range(2)
    theta = sympy.Symbol("theta")
    circuit = cirq.Circuit(
        cirq.rx(theta).on(a),
        cirq.measure(a, key="mid"),
        cirq.CNOT(a, b),
        cirq.measure(a, b, key="m"),
    )
    sampler = IQMSampler(url)
    sampler.run_sweep(circuit, {"theta": THETAS[0]}, repetitions=100)
    sampler.run_sweep(circuit, cirq.Points("theta", list(THETAS)), repetitions=200)


def _pennylane(url: str) -> None:
    import pennylane as qml

    dev = qml.device("iqm", wires=2, url=url)

    def circuit(theta: Any) -> Any:
        qml.RX(theta, 0)
        mid = qml.measure(0)
        qml.CNOT([0, 1])
        return qml.sample(wires=[0, 1]), qml.sample(mid)

    qml.set_shots(qml.QNode(circuit, dev), shots=100)(np.array(THETAS[0]))
    tapes = [qml.tape.make_qscript(circuit, shots=200)(np.array(t)) for t in THETAS]
    qml.execute(tapes, dev)


@pytest.mark.slow
def test_one_program_three_frameworks_same_natives_and_jobs(
    emulator_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: dict[str, Callable[[str], None]] = {
        "qiskit": _qiskit,
        "cirq": _cirq,
        "pennylane": _pennylane,
    }
    natives = {}
    for name, runner in runs.items():
        # every job id a framework's calls make lands in its own journal
        path = tmp_path / f"{name}.sqlite3"
        monkeypatch.setenv("IQM_BRIDGE_JOURNAL", str(path))
        runner(emulator_url)
        job_ids = [e.job_id for e in reversed(Journal(path).entries())]
        assert len(job_ids) == 2, (name, job_ids)  # one job per call, whatever the sweep
        natives[name] = _natives(emulator_url, job_ids)
    assert len(natives["qiskit"]) == 3
    assert natives["cirq"] == natives["qiskit"]
    assert natives["pennylane"] == natives["qiskit"]

"""The unmodified iqm-client 36 (qiskit and cirq front ends) against the emulator over HTTP.

``iqm.qiskit_iqm`` costs seconds to import, so it is imported inside the tests only.
"""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.slow

SHOTS = 2000


def _ghz(n: int):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n)
    qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    qc.measure_all()
    return qc


def _assert_ghz_counts(counts: dict[str, int], n: int, shots: int) -> None:
    assert set(counts) <= {"0" * n, "1" * n}, counts
    sigma = math.sqrt(shots * 0.25)
    assert abs(counts.get("0" * n, 0) - shots / 2) <= 4 * sigma


def test_qiskit_ghz_and_retrieve_job(emulator_url: str) -> None:
    from iqm.qiskit_iqm import IQMProvider
    from qiskit import transpile

    backend = IQMProvider(emulator_url).get_backend()
    assert backend.num_qubits == 20
    circuit = transpile(_ghz(5), backend, optimization_level=1, seed_transpiler=1)
    job = backend.run(circuit, shots=SHOTS)
    counts = job.result().get_counts()
    _assert_ghz_counts(counts, 5, SHOTS)
    again = backend.retrieve_job(job.job_id()).result().get_counts()
    assert again == counts


def test_qiskit_backend_with_metrics(emulator_url: str) -> None:
    from iqm.qiskit_iqm import IQMProvider

    backend = IQMProvider(emulator_url).get_backend(use_metrics=True)
    props = backend.target.qubit_properties[0]
    assert 30e-6 <= props.t1 <= 60e-6
    error = backend.target["cz"][(0, 1)].error
    assert 0.005 <= error <= 0.02


def test_qiskit_cancel_queued_job(emulator_factory) -> None:
    from iqm.qiskit_iqm import IQMProvider
    from qiskit import transpile
    from qiskit.providers import JobStatus

    emu = emulator_factory(machine="garnet", noise=False, queue_delay=60)
    backend = IQMProvider(emu.url).get_backend()
    job = backend.run(transpile(_ghz(2), backend, seed_transpiler=1), shots=10)
    assert job.status() in (JobStatus.QUEUED, JobStatus.INITIALIZING)
    assert job.cancel() is True
    assert job.status() == JobStatus.CANCELLED


def test_qiskit_star_machine_runs_ghz_with_moves(star_emulator_url: str) -> None:
    from iqm.qiskit_iqm import IQMProvider
    from qiskit import transpile

    backend = IQMProvider(star_emulator_url).get_backend()
    circuit = transpile(_ghz(5), backend, optimization_level=1, seed_transpiler=1)
    assert "move" in circuit.count_ops()
    _assert_ghz_counts(backend.run(circuit, shots=SHOTS).result().get_counts(), 5, SHOTS)


def test_qiskit_feedback_and_reset_match_aer(emulator_url: str) -> None:
    from iqm.qiskit_iqm import IQMProvider
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile
    from qiskit_aer import AerSimulator

    q = QuantumRegister(3)
    c = ClassicalRegister(3)
    qc = QuantumCircuit(q, c)
    qc.rx(1.1, 0)
    qc.measure(0, 0)
    with qc.if_test((c[0], 1)):
        qc.x(1)
    qc.reset(0)
    qc.rx(math.pi / 2, 0)
    qc.h(2)
    qc.measure(0, 1)
    qc.measure(1, 2)
    backend = IQMProvider(emulator_url).get_backend()
    ours = backend.run(transpile(qc, backend, seed_transpiler=1), shots=SHOTS).result().get_counts()
    aer = AerSimulator().run(qc, shots=SHOTS, seed_simulator=1).result().get_counts()
    p1 = math.sin(0.55) ** 2
    exact = {"000": (1 - p1) / 2, "010": (1 - p1) / 2, "101": p1 / 2, "111": p1 / 2}
    for counts in (ours, aer):
        assert set(counts) <= set(exact), counts
        for key, p in exact.items():
            sigma = math.sqrt(SHOTS * p * (1 - p))
            assert abs(counts.get(key, 0) - SHOTS * p) <= 4 * sigma, (key, counts)


def test_cirq_sampler_runs_ghz(emulator_url: str) -> None:
    import cirq
    from iqm.cirq_iqm.iqm_sampler import IQMSampler

    sampler = IQMSampler(emulator_url)
    by_name = {q.name: q for q in sampler.device.qubits}
    # QB1-QB2 and QB2-QB5 are couplers on garnet
    q1, q2, q5 = by_name["QB1"], by_name["QB2"], by_name["QB5"]
    circuit = cirq.Circuit(
        cirq.PhasedXPowGate(exponent=0.5, phase_exponent=0.5).on(q1),
        cirq.PhasedXPowGate(exponent=0.5, phase_exponent=0.5).on(q2),
        cirq.CZ(q1, q2),
        cirq.PhasedXPowGate(exponent=-0.5, phase_exponent=0.5).on(q2),
        cirq.PhasedXPowGate(exponent=0.5, phase_exponent=0.5).on(q5),
        cirq.CZ(q2, q5),
        cirq.PhasedXPowGate(exponent=-0.5, phase_exponent=0.5).on(q5),
        cirq.measure(q1, q2, q5, key="m"),
    )
    result = sampler.run(circuit, repetitions=SHOTS)
    rows = result.measurements["m"]
    assert rows.shape == (SHOTS, 3)
    values = {tuple(r) for r in rows.tolist()}
    assert values <= {(0, 0, 0), (1, 1, 1)}
    ones = int(rows[:, 0].sum())
    assert abs(ones - SHOTS / 2) <= 4 * math.sqrt(SHOTS / 4)

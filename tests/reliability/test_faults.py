"""The fault suite: a flaky network costs time, never results, jobs or money.

The emulator answers 20% of requests with 503, delays 10%, and drops 5% of connections
before handling them and 5% after (so the answer to a created job is lost). Through the
core connection and through each adapter, 200 small jobs must all complete with the right
bits, with exactly 200 jobs on the server (no duplicate from a resent submission, none
orphaned) and every one of them in the local journal.
"""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from iqm_bridge.core import run
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit import Connection
from iqm_bridge.core.submit.journal import Journal
from iqm_bridge.emulator import Emulator, FaultOptions

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _rel import FAULTS, check_x_ghz, x_ghz_circuit  # noqa: E402

JOBS = 200
SHOTS = 8

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def flaky(tmp_path: pathlib.Path) -> Iterator[tuple[Emulator, Connection]]:
    """A faulty garnet emulator and a journaled connection to it."""
    emu = Emulator(machine="garnet", noise=False, seed=3, faults=FaultOptions(**FAULTS, seed=11))
    emu.start()
    conn = Connection(emu.url, journal=Journal(tmp_path / "journal.sqlite3"))
    try:
        yield emu, conn
    finally:
        emu.stop()


def _all_accounted_for(emu: Emulator, conn: Connection, job_ids: list[str]) -> None:
    faults = emu.injected_faults
    print(f"\ninjected faults over {JOBS} jobs: {faults}")
    # the faults really happened, including lost answers to requests that were handled
    assert faults["error"] > 0 and faults["drop"] > 0 and faults["drop_after"] > 0
    assert emu.job_count() == JOBS, "a job was duplicated or created behind the client's back"
    assert len(set(job_ids)) == JOBS
    assert set(emu.job_ids()) == set(job_ids)
    assert conn.journal is not None
    journaled = {e.job_id for e in conn.journal.entries()}
    assert set(job_ids) <= journaled


def test_core_connection(flaky: tuple[Emulator, Connection]) -> None:
    emu, conn = flaky
    ids = []
    for i in range(JOBS):
        job = run(conn, [x_ghz_circuit(f"c{i}")], RunOptions(shots=SHOTS))
        (result,) = job.result(timeout=60)
        check_x_ghz(result.bits.memory())
        ids.append(job.job_id)
    _all_accounted_for(emu, conn, ids)


def test_qiskit_adapter(flaky: tuple[Emulator, Connection]) -> None:
    pytest.importorskip("qiskit")
    from qiskit import QuantumCircuit

    from iqm_bridge.adapters.qiskit import IQMBackend

    emu, conn = flaky
    backend = IQMBackend(conn)
    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.h(1)
    qc.cx(1, 2)
    qc.measure([0, 1, 2], [0, 1, 2])
    ids = []
    for _ in range(JOBS):
        job = backend.run(qc, shots=SHOTS, memory=True)
        memory = job.result(timeout=60).get_memory()
        # qiskit's bitstrings read c2 c1 c0
        check_x_ghz(np.array([[int(s[2]), int(s[1]), int(s[0])] for s in memory]))
        ids.append(job.job_id())
    _all_accounted_for(emu, conn, ids)


def test_cirq_adapter(flaky: tuple[Emulator, Connection]) -> None:
    cirq = pytest.importorskip("cirq")
    from iqm_bridge.adapters.cirq import IQMSampler

    emu, conn = flaky
    sampler = IQMSampler(connection=conn, timeout=60)
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(
        cirq.X(q[0]), cirq.H(q[1]), cirq.CNOT(q[1], q[2]), cirq.measure(*q, key="m")
    )
    for _ in range(JOBS):
        result = sampler.run(circuit, repetitions=SHOTS)
        check_x_ghz(result.measurements["m"])
    ids = _journaled_ids(conn)
    _all_accounted_for(emu, conn, ids)


def test_pennylane_adapter(flaky: tuple[Emulator, Connection]) -> None:
    qml = pytest.importorskip("pennylane")

    emu, conn = flaky
    dev = qml.device("iqm", wires=3, connection=conn, timeout=60)

    @qml.set_shots(SHOTS)
    @qml.qnode(dev)
    def circuit() -> Any:
        qml.PauliX(0)
        qml.Hadamard(1)
        qml.CNOT([1, 2])
        return qml.sample(wires=[0, 1, 2])

    for _ in range(JOBS):
        check_x_ghz(circuit())
    _all_accounted_for(emu, conn, _journaled_ids(conn))


def _journaled_ids(conn: Connection) -> list[str]:
    assert conn.journal is not None
    return [e.job_id for e in conn.journal.entries()]

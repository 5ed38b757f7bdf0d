"""``IQMJob``: status, cancellation, timeouts, retrieval, failed jobs.

Behaviours of ``iqm.qiskit_iqm`` 36: ``job_id()`` is the server job's UUID; ``status()`` maps
the server status to qiskit's ``JobStatus``; ``cancel() -> bool``;
``result(*, timeout=..., cancel_after_timeout=False)`` raises iqm-client's
``OperationTimeoutError`` when the job does not finish in time (cancelling it first if asked);
a failed or cancelled job gives a ``Result`` with ``success=False`` (no exception);
``backend.retrieve_job(job_id)`` rebuilds the job, and its results, from the id alone.
"""

from __future__ import annotations

import uuid

import pytest
from _compat_helpers import (
    assert_ghz_counts,
    assert_is,
    ghz,
    qiskit_backend,
    transpiled,
    wait_until,
)

pytestmark = pytest.mark.compat


def _x0_circuit(name: str = "x0"):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2, name=name)
    qc.x(0)
    qc.measure_all()
    return qc


@pytest.fixture(scope="module")
def failing_url():
    """A garnet emulator on which every job fails (injected server-side failure)."""
    from iqm_bridge.emulator import Emulator, FaultOptions

    with Emulator(
        machine="garnet", noise=False, seed=3, faults=FaultOptions(job_failure_rate=1.0)
    ) as url:
        yield url


def test_job_id_is_the_server_jobs_uuid(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    job = backend.run(transpiled(_x0_circuit(), backend), shots=5)
    assert str(uuid.UUID(job.job_id())) == job.job_id()
    assert job.backend() is backend


def test_status_is_done_after_the_result(flavour, garnet_url):
    from qiskit.providers import JobStatus

    backend = qiskit_backend(flavour, garnet_url)
    job = backend.run(transpiled(_x0_circuit(), backend), shots=5)
    job.result()
    assert job.status() == JobStatus.DONE
    assert job.in_final_state()


def test_submit_is_not_for_users(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    job = backend.run(transpiled(_x0_circuit(), backend), shots=5)
    with pytest.raises(NotImplementedError):
        job.submit()


def test_result_is_stable_across_calls(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    job = backend.run(transpiled(ghz(3), backend), shots=500)
    first = job.result().get_counts()
    assert job.result().get_counts() == first
    assert_ghz_counts(first, 3)


def test_result_accepts_timeout_and_cancel_after_timeout(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    job = backend.run(transpiled(_x0_circuit(), backend), shots=5)
    result = job.result(timeout=60, cancel_after_timeout=True)
    assert result.get_counts() == {"01": 5}


def test_error_message_of_a_completed_job_is_none(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    job = backend.run(transpiled(_x0_circuit(), backend), shots=5)
    job.result()
    assert job.error_message() is None


def test_queued_job_reports_queued_and_cancels(flavour, queued_url):
    from qiskit.providers import JobStatus

    backend = qiskit_backend(flavour, queued_url)
    job = backend.run(transpiled(_x0_circuit(), backend), shots=5)
    assert job.status() == JobStatus.QUEUED
    assert job.cancel() is True
    assert wait_until(lambda: job.status() == JobStatus.CANCELLED)


@pytest.mark.slow
def test_result_timeout_raises_the_iqm_timeout_error(flavour, queued_url):
    """Not finished in time: iqm-client's ``OperationTimeoutError``; the job keeps waiting."""
    from exa.common.errors.iqm_error import OperationTimeoutError
    from qiskit.providers import JobStatus

    backend = qiskit_backend(flavour, queued_url)
    job = backend.run(transpiled(_x0_circuit(), backend), shots=5)
    try:
        with pytest.raises(OperationTimeoutError):
            job.result(timeout=0.5)
        assert job.status() == JobStatus.QUEUED
    finally:
        job.cancel()


@pytest.mark.slow
def test_result_timeout_can_cancel_the_job(flavour, queued_url):
    from exa.common.errors.iqm_error import OperationTimeoutError
    from qiskit.providers import JobStatus

    backend = qiskit_backend(flavour, queued_url)
    job = backend.run(transpiled(_x0_circuit(), backend), shots=5)
    with pytest.raises(OperationTimeoutError):
        job.result(timeout=0.5, cancel_after_timeout=True)
    assert wait_until(lambda: job.status() == JobStatus.CANCELLED)


def test_cancelled_job_gives_an_unsuccessful_result(flavour, queued_url):
    backend = qiskit_backend(flavour, queued_url)
    job = backend.run(transpiled(_x0_circuit(), backend), shots=5)
    assert job.cancel() is True
    result = job.result()
    assert result.success is False
    assert result.results == []


def test_failed_job_reports_error_and_an_unsuccessful_result(flavour, failing_url):
    from qiskit.providers import JobStatus

    backend = qiskit_backend(flavour, failing_url)
    job = backend.run(transpiled(_x0_circuit(), backend), shots=5)
    result = job.result()
    assert result.success is False
    assert job.status() == JobStatus.ERROR
    assert job.error_message()


def test_retrieve_job_gives_the_same_results(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    job = backend.run(transpiled(ghz(3), backend), shots=500)
    counts = job.result().get_counts()
    again = backend.retrieve_job(job.job_id())
    assert_is(again, flavour.qiskit.IQMJob)
    assert again.job_id() == job.job_id()
    assert again.result().get_counts() == counts


def test_retrieve_job_from_a_fresh_backend_keeps_names_memory_and_registers(flavour, garnet_url):
    """A job rebuilt from its id alone (e.g. in another process) has the full result."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

    q, a, b = QuantumRegister(3), ClassicalRegister(2, "a"), ClassicalRegister(1, "b")
    qc = QuantumCircuit(q, a, b, name="registers")
    qc.x(0)
    qc.x(2)
    qc.measure(0, a[0])
    qc.measure(1, a[1])
    qc.measure(2, b[0])
    backend = qiskit_backend(flavour, garnet_url)
    job_id = backend.run(transpiled(qc, backend), shots=6).job_id()
    result = qiskit_backend(flavour, garnet_url).retrieve_job(job_id).result()
    assert result.get_counts() == {"1 01": 6}
    assert result.get_memory() == ["1 01"] * 6
    header = result.results[0].header
    assert (header["name"] if isinstance(header, dict) else header.name) == "registers"


def test_retrieve_a_job_submitted_with_the_official_sdk(flavour, garnet_url):
    """Switching SDKs keeps access to jobs run before the switch."""
    from iqm.qiskit_iqm import IQMProvider as OfficialProvider
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

    q, a, b = QuantumRegister(3), ClassicalRegister(1, "a"), ClassicalRegister(2, "b")
    qc = QuantumCircuit(q, a, b)
    qc.x(1)
    qc.measure(0, a[0])
    qc.measure(1, b[0])
    qc.measure(2, b[1])
    official = OfficialProvider(garnet_url).get_backend()
    job_id = official.run(transpiled(qc, official), shots=7).job_id()
    result = qiskit_backend(flavour, garnet_url).retrieve_job(job_id).result()
    assert result.get_counts() == {"01 0": 7}

"""Provider and backend construction: the ways a qiskit program obtains an IQM backend.

Behaviours of ``iqm.qiskit_iqm`` 36: ``IQMProvider(url, quantum_computer=..., **auth)``,
``get_backend(name=None, calibration_set_id=None, *, use_metrics=False)``, and the seed API
``IQMBackend(client: IQMClient, *, calibration_set_id=None, use_metrics=False)``.
"""

from __future__ import annotations

import uuid

import pytest
from _compat_helpers import (
    assert_ghz_counts,
    assert_is,
    client_for,
    ghz,
    qiskit_backend,
    server_architecture,
    transpiled,
)

pytestmark = pytest.mark.compat

SHOTS = 1000


def test_get_backend_returns_the_flavours_backend_v2(flavour, garnet_url):
    from qiskit.providers import BackendV2

    backend = qiskit_backend(flavour, garnet_url)
    assert_is(backend, flavour.qiskit.IQMBackend)
    assert_is(backend, BackendV2)
    assert backend.num_qubits == 20


def test_provider_keeps_url_and_quantum_computer(flavour, garnet_url):
    plain = flavour.qiskit.IQMProvider(garnet_url)
    named = flavour.qiskit.IQMProvider(garnet_url, quantum_computer="garnet")
    assert (plain.url, plain.quantum_computer) == (garnet_url, None)
    assert (named.url, named.quantum_computer) == (garnet_url, "garnet")
    assert named.get_backend().num_qubits == 20


def test_provider_reads_the_server_url_from_the_environment(flavour, garnet_url, monkeypatch):
    monkeypatch.setenv("IQM_SERVER_URL", garnet_url)
    backend = flavour.qiskit.IQMProvider().get_backend()
    assert backend.physical_qubits == list(server_architecture(garnet_url).qubits)


def test_backend_is_named_after_the_quantum_computer(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    assert backend.name == client_for(garnet_url).quantum_computer_name == "garnet"


def test_backend_from_an_iqm_client(flavour, garnet_url):
    """The seed API: ``IQMBackend(IQMClient.from_url(url))``."""
    backend = flavour.qiskit.IQMBackend(client_for(garnet_url))
    assert backend.num_qubits == 20
    counts = backend.run(transpiled(ghz(3), backend), shots=SHOTS).result().get_counts()
    assert_ghz_counts(counts, 3)


def test_backend_exposes_its_iqm_client(flavour, garnet_url):
    """``backend.client`` is the iqm-client ``IQMClient`` (the bell_measure example uses it)."""
    from iqm.iqm_client import IQMClient

    backend = qiskit_backend(flavour, garnet_url)
    assert_is(backend.client, IQMClient)
    dqa = backend.client.get_dynamic_quantum_architecture()
    assert list(dqa.qubits) == backend.physical_qubits


@pytest.mark.parametrize("as_type", [uuid.UUID, str], ids=["uuid", "str"])
def test_get_backend_with_a_calibration_set_id(flavour, garnet_url, as_type):
    """``get_backend(calibration_set_id=...)`` pins the set; results report it."""
    cal_id = server_architecture(garnet_url).calibration_set_id
    backend = qiskit_backend(flavour, garnet_url, calibration_set_id=as_type(str(cal_id)))
    result = backend.run(transpiled(ghz(2), backend), shots=100).result()
    assert_ghz_counts(result.get_counts(), 2)
    assert str(result.results[0].calibration_set_id) == str(cal_id)


def test_backend_constructor_takes_a_calibration_set_id(flavour, garnet_url):
    cal_id = server_architecture(garnet_url).calibration_set_id
    backend = flavour.qiskit.IQMBackend(client_for(garnet_url), calibration_set_id=cal_id)
    result = backend.run(transpiled(ghz(2), backend), shots=100).result()
    assert str(result.results[0].calibration_set_id) == str(cal_id)


def test_get_backend_with_metrics_puts_error_rates_in_the_target(flavour, garnet_url):
    """``use_metrics=True``: gate errors and coherence times from the server's metrics."""
    backend = qiskit_backend(flavour, garnet_url, use_metrics=True)
    cz_error = backend.target["cz"][(0, 1)].error
    assert cz_error is not None and 0.0 < cz_error < 0.1
    t1 = backend.target.qubit_properties[0].t1
    assert t1 is not None and 1e-6 < t1 < 1e-3


def test_star_backend_through_the_provider(flavour, deneb_url):
    backend = flavour.qiskit.IQMProvider(deneb_url, quantum_computer="deneb").get_backend()
    assert backend.name == "deneb"
    assert backend.num_qubits == 6


@pytest.fixture(scope="module")
def token_url():
    """A garnet emulator that requires the bearer token ``s3cret``."""
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=False, seed=5, token="s3cret") as url:
        yield url


def test_provider_authenticates_with_a_token(flavour, token_url, monkeypatch):
    """``IQMProvider(url, token=...)`` and the ``IQM_TOKEN`` environment variable."""
    backend = flavour.qiskit.IQMProvider(token_url, token="s3cret").get_backend()
    counts = backend.run(transpiled(ghz(2), backend), shots=SHOTS).result().get_counts()
    assert_ghz_counts(counts, 2)
    monkeypatch.setenv("IQM_TOKEN", "s3cret")
    assert flavour.qiskit.IQMProvider(token_url).get_backend().num_qubits == 20


def test_missing_token_raises_the_iqm_authentication_error(flavour, token_url, monkeypatch):
    from exa.common.errors.iqm_error import AuthenticationError

    monkeypatch.delenv("IQM_TOKEN", raising=False)
    monkeypatch.delenv("IQM_TOKENS_FILE", raising=False)
    with pytest.raises(AuthenticationError):
        flavour.qiskit.IQMProvider(token_url).get_backend()


def test_run_in_the_timeslot_queue(flavour, garnet_url):
    """``run(..., use_timeslot=True)`` (the emulator serves both queues alike)."""
    backend = qiskit_backend(flavour, garnet_url)
    job = backend.run(transpiled(ghz(2), backend), shots=SHOTS, use_timeslot=True)
    assert_ghz_counts(job.result().get_counts(), 2)

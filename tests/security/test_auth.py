"""Authentication and isolation: no token, no service; a token sees only its own jobs."""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Callable
from typing import Any

import pytest
import requests

from iqm_bridge.core import run
from iqm_bridge.core.errors import ConfigurationError, JobNotFoundError
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit import Connection, JobStatus

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "reliability"))
from _rel import x_ghz_circuit  # noqa: E402

ALICE = "alice-token-7f3a9c"
BOB = "bob-token-21d4e8"
API = "/api/v1"


@pytest.fixture(scope="module")
def secured() -> Any:
    from iqm_bridge.emulator import Emulator

    emu = Emulator(machine="garnet", noise=False, seed=1, token=[ALICE, BOB], queue_delay=0.0)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def alice_job(secured: Any) -> str:
    conn = Connection(secured.url, token=ALICE, journal=None)
    job = run(conn, [x_ghz_circuit()], RunOptions(shots=4))
    job.result(timeout=30)
    return job.job_id


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


ENDPOINTS = [
    ("GET", "/about"),
    ("GET", "/quantum-computers"),
    ("GET", "/calibration-sets/garnet/default/dynamic-quantum-architecture"),
    ("GET", "/quantum-computers/garnet/health"),
    ("POST", "/jobs/garnet/circuit"),
    ("GET", "/jobs/{job}"),
    ("GET", "/jobs/{job}/payload"),
    ("GET", "/jobs/{job}/artifacts/measurements"),
    ("POST", "/jobs/{job}/cancel"),
    ("DELETE", "/jobs/{job}"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc", "Bearer ", "bearer"])
def test_every_endpoint_answers_401_without_a_valid_token(
    secured: Any, alice_job: str, method: str, path: str, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    resp = requests.request(
        method, f"{secured.url}{API}{path.format(job=alice_job)}", headers=headers, timeout=10
    )
    assert resp.status_code == 401
    body = resp.json()
    assert body["source"] == "iqm-server" and body["error_code"] == "unauthorized"
    assert ALICE not in resp.text and BOB not in resp.text


@pytest.mark.parametrize(("method", "path"), [e for e in ENDPOINTS if "{job}" in e[1]])
def test_another_tokens_job_is_not_found(
    secured: Any, alice_job: str, method: str, path: str
) -> None:
    url = f"{secured.url}{API}{path.format(job=alice_job)}"
    resp = requests.request(method, url, headers=_auth(BOB), timeout=10)
    assert resp.status_code in (403, 404)
    assert resp.json()["source"] == "iqm-server"
    # and nothing happened to it
    mine = requests.get(f"{secured.url}{API}/jobs/{alice_job}", headers=_auth(ALICE), timeout=10)
    assert mine.json()["status"] == "completed"


def test_client_without_token_gets_a_clear_error(secured: Any) -> None:
    conn = Connection(secured.url, journal=None)
    with pytest.raises(ConfigurationError, match="refused the credentials") as info:
        conn.device  # noqa: B018
    assert "token" in str(info.value)


def test_client_with_a_wrong_token_gets_a_clear_error(secured: Any) -> None:
    conn = Connection(secured.url, token="wrong-token-value", journal=None)
    with pytest.raises(ConfigurationError) as info:
        conn.device  # noqa: B018
    assert "wrong-token-value" not in str(info.value)


def test_another_tokens_job_cannot_be_retrieved_or_cancelled(secured: Any, alice_job: str) -> None:
    bob = Connection(secured.url, token=BOB, journal=None)
    with pytest.raises(JobNotFoundError, match=alice_job):
        bob.retrieve(alice_job)
    alice = Connection(secured.url, token=ALICE, journal=None)
    assert alice.retrieve(alice_job).status() is JobStatus.COMPLETED


def test_job_counts_are_per_token(emulator_factory: Callable[..., Any]) -> None:
    emu = emulator_factory(machine="garnet", noise=False, token=[ALICE, BOB])
    for token, n in ((ALICE, 2), (BOB, 1)):
        conn = Connection(emu.url, token=token, journal=None)
        for _ in range(n):
            run(conn, [x_ghz_circuit()], RunOptions(shots=4)).result(timeout=30)
    assert emu.job_count(ALICE) == 2 and emu.job_count(BOB) == 1 and emu.job_count() == 3

"""When a job submission may be resent, when it may not, and what the user is told.

A POST is resent only when it certainly created nothing (refused with 503/429, connection
refused) or the server deduplicates by the client's submission id; otherwise the failure is
an :class:`AmbiguousSubmissionError` naming that id. 429 answers' ``Retry-After`` is honoured.
"""

from __future__ import annotations

import json
import pathlib
import sys
import time
import types
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import requests

from iqm_bridge.core import run
from iqm_bridge.core.errors import AmbiguousSubmissionError, ServerError
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit import Connection, RetryPolicy
from iqm_bridge.core.submit.journal import Journal
from iqm_bridge.core.submit.transport import _parse_retry_after
from iqm_bridge.core.wire import SUBMISSION_METADATA_KEY
from iqm_bridge.emulator import FaultOptions

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _rel import check_x_ghz, x_ghz_circuit  # noqa: E402

SUBMIT_PATH = ("/api/v1/jobs/garnet/circuit",)
pytestmark = pytest.mark.timeout(120)


def _record_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    fake = types.SimpleNamespace(sleep=sleep, monotonic=time.monotonic, time=time.time)
    monkeypatch.setattr("iqm_bridge.core.submit.transport.time", fake)
    monkeypatch.setattr("iqm_bridge.core.submit.connection.time", fake)
    return sleeps


def test_lost_answer_to_a_non_deduplicating_server_is_ambiguous_not_resent(
    emulator_factory: Callable[..., Any], tmp_path: pathlib.Path
) -> None:
    emu = emulator_factory(
        machine="garnet", noise=False, faults=FaultOptions(drop_after_rate=1.0, paths=SUBMIT_PATH)
    )
    conn = Connection(emu.url, journal=Journal(tmp_path / "j.sqlite3"))
    conn._idempotent = False  # as a server that does not advertise idempotent submission
    with pytest.raises(AmbiguousSubmissionError) as info:
        run(conn, [x_ghz_circuit()], RunOptions(shots=4))
    message = str(info.value)
    assert emu.job_count() == 1  # created once, never resent
    assert "may have reached the server" in message
    assert "not resent, to avoid a duplicate job" in message
    assert SUBMISSION_METADATA_KEY in message
    # the id in the message finds the job on the server
    (job_id,) = emu.job_ids()
    payload = requests.get(f"{emu.url}/api/v1/jobs/{job_id}/payload", timeout=10).json()
    submission_id = payload["circuits"][0]["metadata"][SUBMISSION_METADATA_KEY]
    assert repr(submission_id) in message


def test_lost_answers_to_a_deduplicating_server_are_resent_without_duplicates(
    emulator_factory: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = emulator_factory(
        machine="garnet",
        noise=False,
        faults=FaultOptions(drop_after_rate=0.6, paths=SUBMIT_PATH, seed=2),
    )
    conn = Connection(emu.url, journal=None, retry=RetryPolicy(attempts=30, max_delay=0.05))
    for _ in range(10):
        (result,) = run(conn, [x_ghz_circuit()], RunOptions(shots=4)).result(timeout=30)
        check_x_ghz(result.bits.memory())
    assert emu.injected_faults["drop_after"] >= 5
    assert emu.job_count() == 10


def test_every_answer_lost_gives_up_with_the_submission_id(
    emulator_factory: Callable[..., Any],
) -> None:
    emu = emulator_factory(
        machine="garnet", noise=False, faults=FaultOptions(drop_after_rate=1.0, paths=SUBMIT_PATH)
    )
    conn = Connection(emu.url, journal=None, retry=RetryPolicy(attempts=4, max_delay=0.01))
    with pytest.raises(AmbiguousSubmissionError, match=r"sent 4 times .* deduplicates") as info:
        run(conn, [x_ghz_circuit()], RunOptions(shots=4))
    assert SUBMISSION_METADATA_KEY in str(info.value)
    assert emu.job_count() == 1  # four sends, one job


def test_refused_submissions_are_resent_even_without_deduplication(
    emulator_factory: Callable[..., Any],
) -> None:
    emu = emulator_factory(
        machine="garnet",
        noise=False,
        faults=FaultOptions(error_rate=0.5, paths=SUBMIT_PATH, seed=4),
    )
    conn = Connection(emu.url, journal=None, retry=RetryPolicy(attempts=30, max_delay=0.02))
    conn._idempotent = False
    for _ in range(8):
        run(conn, [x_ghz_circuit()], RunOptions(shots=4)).result(timeout=30)
    assert emu.injected_faults["error"] >= 3
    assert emu.job_count() == 8


def test_unavailable_server_is_a_clear_error_after_bounded_retries(
    emulator_factory: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = emulator_factory(machine="garnet", noise=False)
    conn = Connection(emu.url, journal=None, retry=RetryPolicy(attempts=3, max_delay=0.01))
    job = run(conn, [x_ghz_circuit()], RunOptions(shots=4))
    emu.stop()  # the server goes away for good
    sleeps = _record_sleeps(monkeypatch)
    with pytest.raises(
        ServerError,
        match=f"cannot connect to the IQM server .*connection refused.* fetching (results of )?job "
        f"{job.job_id}",
    ):
        job.result(timeout=30)
    assert len(sleeps) == 2  # three tries, two pauses


def test_rate_limit_answers_429_and_the_client_honours_retry_after(
    emulator_factory: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = emulator_factory(machine="garnet", noise=False, rate_limit="4/4", token="tok-a")
    conn = Connection(emu.url, token="tok-a", journal=None)
    sleeps = _record_sleeps(monkeypatch)
    for _ in range(4):
        (result,) = run(conn, [x_ghz_circuit()], RunOptions(shots=4)).result(timeout=60)
        check_x_ghz(result.bits.memory())
    assert emu.rate_limited > 0
    assert emu.job_count() == 4
    # the refusals said "Retry-After: 1" and the client waited that long, not its short backoff
    honoured = [s for s in sleeps if s >= 1.0]
    assert honoured and len(honoured) <= emu.rate_limited


def test_rate_limit_is_per_token_and_the_429_is_an_iqm_error(
    emulator_factory: Callable[..., Any],
) -> None:
    a, b = "tok-alpha-123", "tok-beta-456"
    emu = emulator_factory(machine="garnet", noise=False, rate_limit="0.1/2", token=[a, b])
    about = f"{emu.url}/api/v1/about"
    for _ in range(2):
        assert requests.get(about, headers={"Authorization": f"Bearer {a}"}, timeout=5).ok
    refused = requests.get(about, headers={"Authorization": f"Bearer {a}"}, timeout=5)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    body = refused.json()
    assert body["source"] == "iqm-server" and body["error_code"] == "rate_limited"
    assert a not in refused.text
    # another token has its own bucket
    assert requests.get(about, headers={"Authorization": f"Bearer {b}"}, timeout=5).ok


def test_rate_limit_is_off_by_default(emulator_factory: Callable[..., Any]) -> None:
    emu = emulator_factory(machine="garnet", noise=False)
    with requests.Session() as s:
        codes = {s.get(f"{emu.url}/api/v1/about", timeout=5).status_code for _ in range(60)}
    assert codes == {200}
    assert emu.rate_limited == 0


def test_cli_parses_the_rate_limit() -> None:
    from iqm_bridge.emulator._ratelimit import RateLimit

    assert RateLimit.parse("5/10") == RateLimit(5.0, 10)
    assert RateLimit.parse("2.5") == RateLimit(2.5, 3)
    for bad in ("x", "0", "-1/2", "5/0", "nan"):
        with pytest.raises(ValueError):
            RateLimit.parse(bad)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("-4", 0.0),
    ],
)
def test_retry_after_header_values(header: str | None, seconds: float | None) -> None:
    assert _parse_retry_after(header) == seconds


def test_retry_after_as_an_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (_parse_retry_after(when) or 0) <= 31


def test_retry_after_is_capped() -> None:
    policy = RetryPolicy(max_retry_after=5.0)
    assert policy.wait_for(0.1, 3600.0) == 5.0
    assert policy.wait_for(0.1, None) == 0.1
    assert policy.wait_for(0.3, 0.0) == 0.3


def test_a_failed_about_is_asked_again(
    emulator_factory: Callable[..., Any],
) -> None:
    """Whether the server deduplicates is not decided by one unlucky request."""
    emu = emulator_factory(
        machine="garnet",
        noise=False,
        faults=FaultOptions(error_rate=1.0, paths=("/api/v1/about",)),
    )
    conn = Connection(emu.url, journal=None, retry=RetryPolicy(attempts=2, max_delay=0.01))
    conn.device  # noqa: B018 - connects
    assert conn.idempotent_submissions is False
    assert conn._idempotent is None  # not remembered
    emu.app._faults.options = FaultOptions()  # type: ignore[union-attr]
    assert conn.idempotent_submissions is True


def test_malformed_about_means_no_deduplication(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = Connection("http://127.0.0.1:9", journal=None)
    fake = types.SimpleNamespace(get_about=lambda: {"features": "idempotent-submission"})
    monkeypatch.setattr(conn.transport, "_client", fake)
    assert conn.idempotent_submissions is False
    assert json.dumps(conn._idempotent) == "false"

"""Secrets stay secret: across a run that uses a token and hits errors (401s, unknown jobs,
failed jobs, lost answers, retries), the token never appears in a log record (DEBUG, every
logger, server side included), an exception text, a ``repr``/``str``, printed output or the
journal; job payloads and results are not logged either. TLS verification is never
switched off, and a token bound for plain http off this machine draws a warning."""

from __future__ import annotations

import logging
import os
import pathlib
import re
import sys
import warnings
from typing import Any

import pytest
import requests

from iqm_bridge.core import run
from iqm_bridge.core.errors import IQMBridgeError
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit import Connection, RetryPolicy
from iqm_bridge.core.submit.journal import Journal
from iqm_bridge.core.submit.transport import exception_chain
from iqm_bridge.emulator import Emulator, FaultOptions

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "reliability"))
from _rel import x_ghz_circuit  # noqa: E402

TOKEN = "SECRET-tok-4b8e1f2c9d"
MARKER = "PAYLOADMARKERq7"  # a circuit name: it travels in payloads, must not reach logs
LOGGERS = ["", "iqm_bridge", "iqm", "urllib3", "requests", "uvicorn", "uvicorn.error",
           "uvicorn.access", "starlette", "asyncio"]  # fmt: skip
REPO = pathlib.Path(__file__).parents[2]


def _debug_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)


def _texts(exc: BaseException) -> list[str]:
    return [text for e in exception_chain(exc) for text in (str(e), repr(e))]


def test_token_never_leaks_across_a_run_with_errors(
    tmp_path: pathlib.Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    recwarn: pytest.WarningsRecorder,
) -> None:
    texts: list[str] = []
    journal = Journal(tmp_path / "journal.sqlite3")
    flaky = FaultOptions(
        error_rate=0.2, drop_rate=0.05, drop_after_rate=0.05, job_failure_rate=0.3, seed=5
    )
    with Emulator(machine="garnet", noise=False, token=TOKEN, faults=flaky) as url:
        _debug_everywhere(caplog)  # after uvicorn configured its loggers
        conn = Connection(url, token=TOKEN, journal=journal, retry=RetryPolicy(attempts=12))
        texts += [repr(conn), str(conn)]
        for i in range(12):  # some jobs fail (injected), some answers are lost
            job = run(conn, [x_ghz_circuit(f"{MARKER}{i}")], RunOptions(shots=4))
            texts += [repr(job), str(job)]
            try:
                texts += [repr(r) for r in job.result(timeout=30)]
            except IQMBridgeError as exc:
                texts += _texts(exc)
        try:
            conn.retrieve("00000000-0000-0000-0000-000000000000")
        except IQMBridgeError as exc:
            texts += _texts(exc)
        for wrong in (None, TOKEN + "x", TOKEN[:-1]):  # 401s
            try:
                Connection(url, token=wrong, journal=None).device  # noqa: B018
            except IQMBridgeError as exc:
                texts += _texts(exc)
        texts += _adapter_reprs(url)
    out, err = capfd.readouterr()
    logs = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert len(caplog.records) > 20  # DEBUG logging really was on
    assert any("retrying" in t or "resending" in t for t in [logs])
    for where, text in (("logs", logs), ("stdout", out), ("stderr", err)):
        assert TOKEN not in text, where
        assert MARKER not in text, f"a job payload reached the {where}"
    texts += [str(w.message) for w in recwarn]
    leaked = [t for t in texts if TOKEN in t]
    assert not leaked
    assert TOKEN.encode() not in journal.path.read_bytes()


def _adapter_reprs(url: str) -> list[str]:
    out = []
    try:
        from iqm_bridge.adapters.qiskit import IQMProvider

        provider = IQMProvider(url, token=TOKEN, journal=None, retry=RetryPolicy(attempts=12))
        backend = provider.get_backend()
        out += [repr(provider), str(provider), repr(backend), str(backend)]
    except ImportError:
        pass
    try:
        from iqm_bridge.adapters.cirq import IQMSampler

        sampler = IQMSampler(url, token=TOKEN)
        out += [repr(sampler), str(sampler), repr(sampler.connection)]
    except ImportError:
        pass
    try:
        import pennylane as qml

        dev = qml.device("iqm", wires=2, url=url, token=TOKEN)
        out += [repr(dev), str(dev)]
    except ImportError:
        pass
    return out


def test_server_logs_nothing_secret_when_a_job_crashes(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even the emulator's crash path (``logger.exception``) names only the job id."""
    from iqm_bridge.emulator import _app

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("simulated worker crash")

    monkeypatch.setattr(_app, "run_plan", boom)
    with Emulator(machine="garnet", noise=False, token=TOKEN) as url:
        _debug_everywhere(caplog)
        conn = Connection(url, token=TOKEN, journal=None)
        job = run(conn, [x_ghz_circuit(MARKER)], RunOptions(shots=4))
        with pytest.raises(IQMBridgeError, match="internal emulator error"):
            job.result(timeout=30)
    assert "crashed the worker" in caplog.text
    assert TOKEN not in caplog.text and MARKER not in caplog.text


def test_tls_verification_stays_on(emulator_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    original = requests.Session.request

    def request(self: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
        seen.append((kwargs.get("verify", "default"), self.verify))
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", request)
    conn = Connection(emulator_url, journal=None)
    run(conn, [x_ghz_circuit()], RunOptions(shots=4)).result(timeout=30)
    assert seen
    assert all(v is not False and s is not False for v, s in seen), seen


def test_no_code_of_ours_switches_tls_verification_off() -> None:
    pattern = re.compile(r"verify\s*=\s*False|CURL_CA_BUNDLE|REQUESTS_CA_BUNDLE|_create_unverified")
    hits = [
        f"{path.relative_to(REPO)}:{n}"
        for folder in ("core", "adapters", "emulator")
        for path in (REPO / folder).rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not hits


@pytest.mark.parametrize(
    ("url", "token", "env", "warns"),
    [
        ("http://example.invalid:9", TOKEN, None, True),
        ("http://10.0.0.5", None, TOKEN, True),
        ("https://example.invalid", TOKEN, None, False),
        ("http://127.0.0.1:9", TOKEN, None, False),
        ("http://localhost:9", TOKEN, None, False),
        ("http://[::1]:9", TOKEN, None, False),
        ("http://example.invalid:9", None, None, False),
    ],
)
def test_warning_for_a_token_over_plain_http(
    monkeypatch: pytest.MonkeyPatch, url: str, token: str | None, env: str | None, warns: bool
) -> None:
    monkeypatch.delenv("IQM_TOKEN", raising=False)
    if env:
        monkeypatch.setenv("IQM_TOKEN", env)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Connection(url, token=token, journal=None)
    plain = [w for w in caught if "plain http" in str(w.message)]
    assert bool(plain) is warns
    for w in plain:
        assert TOKEN not in str(w.message)


def test_env_token_is_not_shown_by_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IQM_TOKEN", TOKEN)
    conn = Connection("https://example.invalid", journal=None)
    assert TOKEN not in repr(conn) and TOKEN not in str(vars(conn).get("_url"))
    assert os.environ["IQM_TOKEN"] == TOKEN

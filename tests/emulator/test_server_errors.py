"""The emulator server's answers to bad requests, resent submissions and bad start-up settings.

Every listed error case asserts the status code (or exit code) and the words of the message.
HTTP tests talk to real emulators on loopback; the ``emulator serve`` tests run the real
command in a subprocess.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from iqm_bridge.core.errors import ConfigurationError
from iqm_bridge.core.wire import SUBMISSION_METADATA_KEY
from iqm_bridge.emulator import Emulator, Limits

# tests may run with --import-mode=importlib, which puts no test folder on sys.path
sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _emulator_helpers import measure, prx  # noqa: E402
from _process import stop_process  # noqa: E402

API = "/api/v1"


def _post(url: str, body: Any, qc: str = "garnet", query: str = "") -> requests.Response:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return requests.post(
        f"{url}{API}/jobs/{qc}/circuit?use_timeslot=false{query}",
        data=data,
        headers={"Content-Type": "application/json; charset=UTF-8"},
        timeout=30,
    )


def _assert_iqm_error(resp: requests.Response, status: int, *words: str) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"message", "error_code", "source"} and body["source"] == "iqm-server"
    for word in words:
        assert word in body["message"], body["message"]
    return str(body["message"])


def _submission(
    sid: str, *circuits: list[dict[str, Any]], shots: int = 20, **extra: Any
) -> dict[str, Any]:
    return {
        "circuits": [
            {
                "name": f"c{i}",
                "instructions": instructions,
                "metadata": {SUBMISSION_METADATA_KEY: sid} if i == 0 else {},
            }
            for i, instructions in enumerate(circuits)
        ],
        "shots": shots,
        **extra,
    }


# ------------------------------------------------------------------------------ deduplication
def test_resent_submission_with_a_different_payload_is_409(emulator_factory: Any) -> None:
    """The same submission id with other shots, circuits or options is refused, never run.

    Fails on the variant that matches resent submissions by id alone (then each resend answers
    200 with the first job): checked by disabling the digest comparison.
    """
    emu = emulator_factory(machine="garnet", noise=False, seed=1)
    one = [prx("QB1"), measure("m", "QB1")]
    first = _post(emu.url, _submission("sub-A", one, shots=20))
    assert first.status_code == 200 and first.json()["status"] == "completed"
    job_id = first.json()["id"]

    for label, resend, query in [
        ("shots", _submission("sub-A", one, shots=21), ""),
        ("circuits", _submission("sub-A", [measure("m", "QB1")], shots=20), ""),
        ("options", _submission("sub-A", one, shots=20), "&seed=7"),
        ("noise", _submission("sub-A", one, shots=20), "&noise=on"),
    ]:
        message = _assert_iqm_error(_post(emu.url, resend, query=query), 409, "'sub-A'", job_id)
        assert "new submission id" in message, label
        assert _post(emu.url, resend, query=query).json()["error_code"] == "conflict"
    assert emu.job_count() == 1, "a conflicting resend must not run"
    meas = requests.get(f"{emu.url}{API}/jobs/{job_id}/artifacts/measurements", timeout=5).json()
    assert meas == [{"m": [[1]] * 20}], "the first job's results stand"


def test_resent_submission_with_the_same_payload_returns_the_first_job(
    emulator_factory: Any,
) -> None:
    """A byte-identical resend, and one that only lays out the JSON differently, get the job.

    Fails on a digest of the raw bytes alone (the re-laid-out resend would be a 409).
    """
    emu = emulator_factory(machine="garnet", noise=False, seed=1)
    body = _submission("sub-B", [prx("QB2"), measure("m", "QB2")], shots=30)
    first = _post(emu.url, body).json()
    assert _post(emu.url, body).json()["id"] == first["id"]
    relaid = json.dumps(body, indent=3, sort_keys=True)
    assert relaid != json.dumps(body)
    assert _post(emu.url, relaid).json()["id"] == first["id"]
    # the server's default noise (off here) is what the first job ran with: the same job
    assert _post(emu.url, body, query="&noise=off").json()["id"] == first["id"]
    assert emu.job_count() == 1
    # another submission id with the same payload is another job
    other = _post(emu.url, _submission("sub-C", [prx("QB2"), measure("m", "QB2")], shots=30))
    assert other.json()["id"] != first["id"] and emu.job_count() == 2


def test_resent_submission_of_a_deleted_job_is_409(emulator_factory: Any) -> None:
    emu = emulator_factory(machine="garnet", noise=False)
    body = _submission("sub-D", [measure("m", "QB1")])
    job_id = _post(emu.url, body).json()["id"]
    assert requests.delete(f"{emu.url}{API}/jobs/{job_id}", timeout=5).status_code == 204
    _assert_iqm_error(_post(emu.url, body), 409, "'sub-D'", "deleted", "new submission id")
    assert emu.job_count() == 0


# ------------------------------------------------------------------------------ qubit_mapping
def _mapped(mapping: list[dict[str, str]], *circuits: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "circuits": [
            {"name": f"c{i}", "instructions": c, "metadata": {}} for i, c in enumerate(circuits)
        ],
        "shots": 25,
        "qubit_mapping": mapping,
    }


def _pair(logical: str, physical: str) -> dict[str, str]:
    return {"logical_name": logical, "physical_name": physical}


def test_qubit_mapping_is_applied(emulator_url: str) -> None:
    """A valid mapping runs on the physical qubits it names; unused logical names are accepted
    (iqm-client 36's own ``validate_qubit_mapping`` accepts them too)."""
    body = _mapped(
        [_pair("a", "QB2"), _pair("b", "QB3"), _pair("spare", "QB7")],
        [prx("a"), measure("m", "a", "b")],
    )
    job = _post(emulator_url, body).json()
    assert job["status"] == "completed", job
    meas = requests.get(
        f"{emulator_url}{API}/jobs/{job['id']}/artifacts/measurements", timeout=5
    ).json()
    assert meas == [{"m": [[1, 0]] * 25}]


@pytest.mark.parametrize(
    ("mapping", "circuit", "words"),
    [
        # two logical qubits on one physical qubit: would silently merge them
        ([_pair("a", "QB1"), _pair("b", "QB1")], [measure("m", "a", "b")],
         ["'a', 'b'", "same physical qubit 'QB1'"]),
        # one logical qubit listed twice (iqm-client's model keeps only the last)
        ([_pair("a", "QB1"), _pair("a", "QB2")], [measure("m", "a")],
         ["'a'", "more than once"]),
        # physical names the machine lacks
        ([_pair("a", "QB1"), _pair("b", "QB99"), _pair("c", "XYZ")], [measure("m", "a")],
         ["'QB99', 'XYZ'", "garnet"]),
        # names the circuit uses but the mapping lacks
        ([_pair("a", "QB1")], [prx("x"), measure("m", "a", "y")],
         ["'c0'", "'x', 'y'", "not in qubit_mapping"]),
    ],
)  # fmt: skip
def test_invalid_qubit_mapping_is_400_naming_the_names(
    emulator_url: str, mapping: list[dict[str, str]], circuit: list[Any], words: list[str]
) -> None:
    """Fails on the variant without the mapping checks: the first case then runs (200)."""
    resp = _post(emulator_url, _mapped(mapping, circuit))
    _assert_iqm_error(resp, 400, "qubit_mapping", *words)
    assert resp.json()["error_code"] == "invalid_qubit_mapping"


def test_qubit_mapping_entries_need_both_names(emulator_url: str) -> None:
    body = _mapped([{"logical_name": "a"}], [measure("m", "a")])
    _assert_iqm_error(_post(emulator_url, body), 400, "invalid circuit job")


# ------------------------------------------------------------------------------ request bodies
class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_log() -> Iterator[_Records]:
    """Every record of the emulator's and uvicorn's loggers (uvicorn's do not propagate)."""
    handler = _Records()
    loggers = [logging.getLogger(n) for n in ("iqm_bridge.emulator", "uvicorn", "uvicorn.error")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield handler
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def test_client_dropping_mid_upload_is_logged_as_info_not_500(
    emulator_factory: Any, server_log: _Records
) -> None:
    """Half a body, then the socket closes: no job, no error record, no traceback.

    Fails on the variant without the disconnect handler (logged as "unexpected error" with a
    traceback, at ERROR level).
    """
    emu = emulator_factory(machine="garnet", noise=False)
    host, port = emu.url.removeprefix("http://").split(":")
    body = json.dumps(_submission("sub-E", [measure("m", "QB1")])).encode()
    head = (
        f"POST {API}/jobs/garnet/circuit?use_timeslot=false HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head + body[: len(body) // 2])
        time.sleep(0.2)  # let the server start reading the body before the client goes
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        "disconnected" in r.getMessage() for r in server_log.records
    ):
        time.sleep(0.02)
    dropped = [r for r in server_log.records if "disconnected" in r.getMessage()]
    assert dropped and all(r.levelno in (logging.INFO, logging.WARNING) for r in dropped)
    assert not [r for r in server_log.records if r.levelno >= logging.ERROR or r.exc_info]
    assert emu.job_count() == 0
    # the server still serves
    assert _post(emu.url, _submission("sub-E", [measure("m", "QB1")])).status_code == 200


def test_queued_mode_answers_at_once_with_a_waiting_job(emulator_factory: Any) -> None:
    emu = emulator_factory(machine="garnet", noise=False, queued=True)
    job = _post(emu.url, _submission("sub-F", [prx("QB1"), measure("m", "QB1")])).json()
    assert job["status"] == "waiting" and job["queue_position"] in (1, None)
    deadline = time.monotonic() + 30
    status = job["status"]
    while status != "completed" and time.monotonic() < deadline:
        time.sleep(0.02)
        status = requests.get(f"{emu.url}{API}/jobs/{job['id']}", timeout=5).json()["status"]
    assert status == "completed"
    meas = requests.get(f"{emu.url}{API}/jobs/{job['id']}/artifacts/measurements", timeout=5)
    assert meas.json() == [{"m": [[1]] * 20}]


def test_iqm_client_mapping_and_polling_in_queued_mode(emulator_factory: Any) -> None:
    """The unmodified iqm-client: its logical names and mapping (with an unused entry, which it
    accepts) run on the mapped qubits, and it polls a queued job to the end."""
    from iqm.iqm_client import Circuit, CircuitOperation, IQMClient

    emu = emulator_factory(machine="garnet", noise=False, queued=True)
    client = IQMClient.from_url(emu.url)
    circuit = Circuit(
        "c",
        (
            CircuitOperation("prx", ("a",), {"angle": 3.141592653589793, "phase": 0.0}),
            CircuitOperation("measure", ("a", "b"), {"key": "m"}),
        ),
    )
    mapping = {"a": "QB2", "b": "QB3", "spare": "QB7"}
    job = client.submit_circuits([circuit], qubit_mapping=mapping, shots=10)
    assert job.job_data.status == "waiting"  # the POST answer: queued, not finished
    job.wait_for_completion()
    assert job.result() == [{"m": [[1, 0]] * 10}]


def test_default_mode_answers_with_the_finished_job(emulator_url: str) -> None:
    job = _post(emulator_url, _submission("sub-G", [measure("m", "QB1")])).json()
    assert job["status"] == "completed"


# ------------------------------------------------------------------------------ start-up
def _busy_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


busy_port = pytest.fixture(_busy_port)


def test_emulator_start_errors_name_the_setting(busy_port: int, tmp_path: pathlib.Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown machine 'nope'; choose from garnet"):
        Emulator(machine="nope")
    for port in (-1, 65536, 10**6):
        with pytest.raises(ConfigurationError, match=rf"port {port} is not a TCP port"):
            Emulator(port=port)
    emu = Emulator(port=busy_port)
    with pytest.raises(ConfigurationError, match=rf"127.0.0.1:{busy_port}.*already in use"):
        emu.start()
    assert not emu.running
    for db, words in [
        (tmp_path / "missing" / "jobs.sqlite3", "missing"),
        (tmp_path, str(tmp_path)),
    ]:
        with pytest.raises(ConfigurationError, match="job database") as info:
            Emulator(db=str(db)).start()
        assert words in str(info.value)
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("hello, this is not SQLite\n" * 100)
    with pytest.raises(ConfigurationError, match="notes.txt"):
        Emulator(db=str(not_a_db)).start()


def test_max_qubits_follows_the_emulator_limits() -> None:
    assert Emulator().config.limits == Limits()
    assert Emulator(max_qubits=3).config.limits.max_qubits == 3


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "iqm_bridge.emulator", "serve", "--no-noise", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


def _fails(*args: str) -> tuple[int, str]:
    proc = _serve(*args)
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=15)
    assert "Traceback" not in err, err
    return proc.returncode, err


@pytest.mark.slow
def test_serve_refuses_bad_settings_in_one_line(busy_port: int, tmp_path: pathlib.Path) -> None:
    """Bad port, busy port, unopenable --db, unreadable --token-file: exit code and message.

    Fails on the variant that lets the socket's or SQLite's exception through (a traceback).
    """
    code, err = _fails("--port", "70000")  # a usage error: click's usage lines, then the error
    assert code == 2 and err.strip().splitlines()[-1] == (
        "Error: Invalid value for '--port': 70000 is not in the range 0<=x<=65535."
    )
    code, err = _fails("--port", str(busy_port))
    assert code == 1 and err.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{busy_port}: the port is already in use; stop the "
        "program using it or pick another port (0: any free port)"
    ]
    bad_db = tmp_path / "no" / "such" / "folder" / "jobs.sqlite3"
    code, err = _fails("--db", str(bad_db))
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert f"cannot open the emulator's job database '{bad_db}'" in err
    code, err = _fails("--token-file", str(tmp_path / "absent.txt"))
    assert code == 2 and err.strip().splitlines()[-1] == (
        f"Error: Invalid value for --token-file: cannot read '{tmp_path / 'absent.txt'}': "
        "No such file or directory"
    )


@pytest.fixture
def serve_process() -> Iterator[Any]:
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> tuple[str, subprocess.Popen[str]]:
        proc = _serve(*args, env=env)
        started.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        return line, proc

    yield start
    for proc in started:
        stop_process(proc)


@pytest.mark.slow
def test_serve_json_and_tokens_from_env_and_file(
    serve_process: Any, tmp_path: pathlib.Path
) -> None:
    """``--json`` prints url, machines and db; tokens from the environment and a file count.

    Fails on the variant that ignores the token file or the variable (the server would then
    accept only ``--token`` or, with none, everyone: the 401 below would be a 200).
    """
    token_file = tmp_path / "tokens.txt"
    token_file.write_text("# emulator tokens\nfrom-file\n\n", encoding="utf-8")
    db = tmp_path / "jobs.sqlite3"
    line, _ = serve_process(
        "--machine", "adonis", "--json", "--db", str(db), "--token-file", str(token_file),
        env={"IQM_BRIDGE_EMULATOR_TOKEN": "env-one, env-two"},
    )  # fmt: skip
    info = json.loads(line)
    assert set(info) == {"url", "machines", "db"}
    assert info["machines"] == ["adonis"] and info["db"] == str(db)
    url = info["url"]
    assert url.startswith("http://127.0.0.1:")
    qcs = f"{url}{API}/quantum-computers"
    _assert_iqm_error(requests.get(qcs, timeout=5), 401, "token")
    _assert_iqm_error(requests.get(qcs, headers={"Authorization": "Bearer nope"}, timeout=5), 401)
    for token in ("from-file", "env-one", "env-two"):
        resp = requests.get(qcs, headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert resp.status_code == 200, token
    assert db.exists()

    line, _ = serve_process("--machine", "all", "--json")
    info = json.loads(line)
    assert info["machines"] == ["garnet", "emerald", "deneb", "adonis"]
    assert info["db"] == ":memory:"
    assert requests.get(f"{info['url']}{API}/quantum-computers", timeout=5).status_code == 200

"""The transport: foreign exceptions mapped to ours by type, deadlines, twin error classes."""

from __future__ import annotations

import copy
import json
import pickle
import time

import pytest
import requests
from iqm.iqm_client import (
    AuthenticationError,
    BadGatewayError,
    NotFoundError,
    OperationTimeoutError,
    RateLimitError,
    SystemUnavailableError,
)
from pydantic import BaseModel, ValidationError
from urllib3.exceptions import NewConnectionError

from iqm_bridge.core import (
    ConfigurationError,
    JobNotFoundError,
    JobTimeoutError,
    MalformedResponseError,
    ServerError,
    ServerUnavailableError,
)
from iqm_bridge.core.submit import transport
from iqm_bridge.core.submit.transport import Deadline, map_error, twin


class _Model(BaseModel):
    x: int


def _validation_error() -> ValidationError:
    try:
        _Model.model_validate({"x": "no"})
    except ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


@pytest.fixture(autouse=True)
def _clean_answer() -> None:
    transport._answer.reset()


def test_mapping_by_type() -> None:
    cases = [
        (NotFoundError("gone"), JobNotFoundError),
        (AuthenticationError("no token"), ConfigurationError),
        (BadGatewayError("502"), ServerUnavailableError),
        (_validation_error(), MalformedResponseError),
        (json.JSONDecodeError("bad", "{", 0), MalformedResponseError),
        (requests.exceptions.ReadTimeout("slow"), ServerUnavailableError),
        (RuntimeError("anything else"), ServerError),
    ]
    for exc, kind in cases:
        mapped = map_error(exc, "doing it", "http://h")
        assert type(mapped) is kind or isinstance(mapped, kind), (exc, mapped)
        assert "doing it" in str(mapped)
    auth = map_error(AuthenticationError("no token"), "x")
    assert isinstance(auth, AuthenticationError)  # also iqm-client's, for official code


def test_a_connection_that_never_opened_was_not_processed() -> None:
    refused = requests.exceptions.ConnectionError(NewConnectionError(None, "refused"))  # type: ignore[arg-type]
    mapped = map_error(refused, "reading", "http://127.0.0.1:9")
    assert isinstance(mapped, ServerUnavailableError) and mapped.maybe_processed is False
    assert "cannot connect to the IQM server at http://127.0.0.1:9" in str(mapped)
    lost = map_error(requests.exceptions.ReadTimeout("lost"), "submitting")
    assert isinstance(lost, ServerUnavailableError) and lost.maybe_processed is True


def test_a_503_proves_nothing_unless_the_iqm_server_itself_sent_it() -> None:
    transport._answer.from_server = True
    transport._answer.retry_after = 2.0
    own = map_error(SystemUnavailableError("busy"), "submitting")
    assert isinstance(own, ServerUnavailableError)
    assert (own.maybe_processed, own.retry_after) == (False, 2.0)
    transport._answer.from_server = False
    gateway = map_error(RateLimitError("slow down"), "submitting")
    assert isinstance(gateway, ServerUnavailableError) and gateway.maybe_processed is True


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert transport._parse_retry_after("3") == 3.0
    soon = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= (transport._parse_retry_after(soon) or 0) <= 31
    assert transport._parse_retry_after("soon") is None
    assert transport._parse_retry_after("-5") == 0.0


def test_deadlines() -> None:
    assert Deadline(None).remaining is None and not Deadline(None).expired
    d = Deadline(0.0)
    assert d.remaining == 0.0 and d.expired


def test_twins_are_both_errors_and_survive_pickle() -> None:
    err = twin(JobTimeoutError, "OperationTimeoutError", "late")
    assert isinstance(err, JobTimeoutError) and isinstance(err, OperationTimeoutError)
    assert err.message == "late"
    for copied in (pickle.loads(pickle.dumps(err)), copy.deepcopy(err)):
        assert type(copied) is type(err) and str(copied) == "late"
    assert type(twin(ServerError, "NoSuchIQMError", "m")) is ServerError

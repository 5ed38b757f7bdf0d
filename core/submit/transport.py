"""The transport: one IQM server as a handful of calls, and the only module that touches
iqm-client.

Everything above this module speaks iqm-bridge: it gets plain values or iqm-client's public
models back, and every failure arrives as an :class:`~iqm_bridge.core.errors.IQMBridgeError`.
Foreign exceptions (iqm-client's ``IQMError`` tree, ``requests``' transport errors, pydantic's
and json's parse errors) are mapped here, in one function and by type (:func:`map_error`).

Two internals of iqm-client are used, each with a fallback to its public calls when they are
not as expected:

* its HTTP method hook (``IQMServerClient.send_request`` calls the ``requests`` function it is
  given): wrapped to read what iqm-client would drop (a ``Retry-After`` header, whether an
  error page came from the IQM server itself or from a gateway in front of it), to cap each
  request's time-out by the caller's deadline, and to send reads through one keep-alive
  session per thread;
* the same client's ``send_request`` to fetch measurement results as plain JSON, several times
  faster than iqm-client's per-integer model validation for large results.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from iqm_bridge.core import collector
from iqm_bridge.core.errors import (
    ConfigurationError,
    IQMBridgeError,
    JobNotFoundError,
    JobTimeoutError,
    MalformedResponseError,
    ServerError,
    ServerUnavailableError,
)
from iqm_bridge.core.submit.retry import RetryPolicy

if TYPE_CHECKING:
    from iqm.iqm_client import IQMClient

__all__ = ["Deadline", "Transport", "exception_chain", "map_error", "parse_measurements", "twin"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_TRANSIENT_STATUS = {429: "RateLimit", 502: "BadGateway", 503: "Unavailable", 504: "Timeout"}


class _Answer(threading.local):
    """What the HTTP hook saw of the last answer on this thread."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.status: int | None = None
        self.retry_after: float | None = None
        self.from_server = False  # the error body is the IQM server's own error shape
        self.timeout_cap: float | None = None


_answer = _Answer()


class Deadline:
    """A point in time after which a caller stops waiting (``None``: never).

    Args:
        seconds: how long from now; ``None`` for no deadline.
    """

    __slots__ = ("_end", "seconds")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._end = None if seconds is None else time.monotonic() + seconds

    @property
    def remaining(self) -> float | None:
        """Seconds left (never negative), or ``None`` without a deadline."""
        if self._end is None:
            return None
        return max(0.0, self._end - time.monotonic())

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed."""
        remaining = self.remaining
        return remaining is not None and remaining <= 0.0


NO_DEADLINE = Deadline(None)


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delay-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


def _is_server_error_body(response: Any) -> bool:
    """Whether an error answer is in the IQM server's own error shape (not a gateway's page)."""
    try:
        body = json.loads(response.text)
    except (ValueError, TypeError):
        return False
    return (
        isinstance(body, dict)
        and isinstance(body.get("message"), str)
        and isinstance(body.get("source"), str)
    )


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception behind it (causes, contexts, wrapped arguments), once each."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack.extend([e.__cause__, e.__context__])
        for arg in getattr(e, "args", ()):
            if isinstance(arg, BaseException):
                stack.append(arg)
            reason = getattr(arg, "reason", None)
            if isinstance(reason, BaseException):
                stack.append(reason)


def _never_sent(exc: BaseException) -> bool:
    """Whether a failed request provably never reached the server (refused, connect time-out)."""
    import requests
    from urllib3.exceptions import NewConnectionError

    never = requests.exceptions.ConnectTimeout | NewConnectionError | ConnectionRefusedError
    return any(isinstance(e, never) for e in exception_chain(exc))


E = TypeVar("E", bound=IQMBridgeError)


@functools.cache
def _twin_class(ours: type[E], theirs: str) -> type[E]:
    """``ours``, also a subclass of iqm-client's error ``theirs`` (exa's ``IQMError`` tree), so
    code written for the official integrations catches it too."""
    from exa.common.errors import iqm_error

    foreign = getattr(iqm_error, theirs)

    def __init__(self: Any, message: str) -> None:
        ours.__init__(self, message)
        self.message = message
        self.error_code = getattr(foreign, "_ERROR_CODE", None)
        self.log_level = logging.ERROR

    def __reduce__(self: Any) -> tuple[Any, ...]:
        return (twin, (ours, theirs, str(self)))

    namespace = {
        "__init__": __init__,
        "__reduce__": __reduce__,
        "__module__": ours.__module__,
        "__doc__": ours.__doc__,
    }
    return type(ours.__name__, (ours, foreign), namespace)


def twin(ours: type[E], theirs: str, message: str) -> E:
    """An ``ours`` error that is also iqm-client's ``theirs`` (when iqm-client is installed)."""
    try:
        cls: type[E] = _twin_class(ours, theirs)  # type: ignore[arg-type]
    except (ImportError, AttributeError, TypeError):
        cls = ours
    return cls(message)


def _reason(exc: BaseException) -> str:
    """The operating system's words for a failed connection, else the exception's name."""
    import re

    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    return match.group(1).strip().lower() if match else type(exc).__name__


def map_error(exc: BaseException, what: str, url: str | None = None) -> IQMBridgeError:
    """The iqm-bridge error for a foreign exception raised while doing ``what``.

    Mapping by type: iqm-client's ``IQMError`` tree (its HTTP status classes), ``requests``'
    transport errors, pydantic and json parse errors, iqm-client's configuration and
    authentication errors. The last answer seen by the HTTP hook on this thread refines it:
    a 429/503 in the IQM server's own error shape means the server refused the request and
    nothing happened; the same status from a gateway proves nothing.
    """
    if isinstance(exc, IQMBridgeError):
        return exc
    import requests
    from iqm.iqm_client import (
        AuthenticationError,
        BadGatewayError,
        ConflictError,
        DataSizeError,
        ForbiddenError,
        GatewayTimeoutError,
        IQMError,
        NotFoundError,
        OperationTimeoutError,
        RateLimitError,
        ServiceUnavailableError,
        SystemUnavailableError,
        TooManyRequestsError,
        UnauthorizedError,
    )
    from iqm.station_control.client.authentication import (
        ClientAuthenticationError,
        ClientConfigurationError,
    )
    from pydantic import ValidationError

    name = type(exc).__name__
    detail = f"{name}: {exc}" if str(exc) else name
    retry_after = _answer.retry_after
    if isinstance(exc, NotFoundError):
        return JobNotFoundError(f"{what}: the server does not know it ({exc})")
    if isinstance(exc, AuthenticationError | UnauthorizedError | ForbiddenError):
        return twin(
            ConfigurationError,
            "AuthenticationError",
            f"{what}: the server refused the credentials ({detail}); give a valid token "
            "(token=..., IQM_TOKEN or IQM_TOKENS_FILE)",
        )
    if isinstance(exc, ClientAuthenticationError | ClientConfigurationError):
        return ConfigurationError(f"{what}: {exc}")
    if isinstance(exc, RateLimitError | TooManyRequestsError):
        return ServerUnavailableError(
            f"{what} failed: the server is rate-limiting requests ({detail})",
            maybe_processed=not _answer.from_server,
            retry_after=retry_after,
        )
    if isinstance(exc, SystemUnavailableError | ServiceUnavailableError):
        return ServerUnavailableError(
            f"{what} failed: the server is unavailable ({detail})",
            maybe_processed=not _answer.from_server,
            retry_after=retry_after,
        )
    if isinstance(exc, BadGatewayError | GatewayTimeoutError | OperationTimeoutError):
        return ServerUnavailableError(f"{what} failed: {detail}", maybe_processed=True)
    if isinstance(exc, ConflictError | DataSizeError):
        return ServerError(f"{what} failed: the server refused it ({detail})")
    if isinstance(exc, requests.exceptions.ConnectionError) and _never_sent(exc):
        where = f" at {url}" if url else ""
        return ServerUnavailableError(
            f"cannot connect to the IQM server{where} ({_reason(exc)}) while {what}; check "
            "the URL and that the server runs",
            maybe_processed=False,
        )
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return ServerUnavailableError(f"{what} failed: {detail}", maybe_processed=True)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return ServerUnavailableError(f"{what} failed: {detail}", maybe_processed=True)
    if isinstance(exc, ValidationError | json.JSONDecodeError | UnicodeDecodeError):
        first = " ".join(str(exc).split())[:300]
        return MalformedResponseError(
            f"{what}: the server's answer does not parse ({name}: {first})"
        )
    if isinstance(exc, IQMError):
        return ServerError(f"{what} failed: {detail}")
    if isinstance(exc, requests.exceptions.RequestException):
        return ServerUnavailableError(f"{what} failed: {detail}", maybe_processed=True)
    return ServerError(f"{what} failed: {detail}")


@contextlib.contextmanager
def _mapped(what: str, url: str | None = None) -> Iterator[None]:
    _answer.retry_after = None
    _answer.from_server = False
    _answer.status = None
    try:
        yield
    except IQMBridgeError:
        raise
    except Exception as exc:
        raise map_error(exc, what, url) from exc


def _install_hook(client: Any) -> bool:
    """Wrap the HTTP method iqm-client's server client calls (see the module docstring)."""
    server = getattr(getattr(client, "_executor", None), "client", None)
    original = getattr(server, "send_request", None)
    if original is None:
        return False
    if getattr(original, "_iqm_bridge_hook", False):
        return True
    sessions = threading.local()

    def send_request(http_method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        name = getattr(http_method, "__name__", "get")

        def method(url: str, **kw: Any) -> Any:
            cap = _answer.timeout_cap
            if cap is not None:
                kw["timeout"] = min(float(kw.get("timeout") or cap), max(cap, 0.05))
            if name == "get":
                session = getattr(sessions, "session", None)
                if session is None:
                    import requests

                    session = sessions.session = requests.Session()
                response = session.get(url, **kw)
            else:
                response = http_method(url, **kw)
            status = getattr(response, "status_code", None)
            _answer.status = status
            if status is not None and status >= 400:
                _answer.from_server = _is_server_error_body(response)
                if status in (429, 503):
                    _answer.retry_after = _parse_retry_after(response.headers.get("Retry-After"))
            return response

        method.__name__ = name  # iqm-client tells mutating requests by the method's name
        return original(method, *args, **kwargs)

    send_request._iqm_bridge_hook = True  # type: ignore[attr-defined]
    try:
        server.send_request = send_request  # type: ignore[union-attr]
    except AttributeError:
        return False
    return True


class Transport:
    """The calls iqm-bridge makes to one quantum computer of an IQM server.

    Args:
        url: the server's root URL.
        quantum_computer: the quantum computer's alias on a server with several.
        token: an API token, or ``None``.
        tokens_file: a tokens file, or ``None``.
        retry: the retry policy of idempotent calls.
        client: an existing ``iqm.iqm_client.IQMClient`` to use instead of making one.
    """

    def __init__(
        self,
        url: str,
        quantum_computer: str | None = None,
        token: str | None = None,
        tokens_file: str | None = None,
        retry: RetryPolicy | None = None,
        client: IQMClient | None = None,
    ) -> None:
        self.url = url
        self.quantum_computer = quantum_computer
        self._token = token
        self._tokens_file = tokens_file
        self.retry = retry or RetryPolicy()
        self._client: IQMClient | None = client
        self._hooked = client is not None and _install_hook(client)
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # the client holds sessions and locks: a copy reconnects on first use
        state = dict(self.__dict__)
        state["_client"] = None
        state["_hooked"] = False
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # --------------------------------------------------------------------------- the client
    @property
    def client(self) -> IQMClient:
        """The ``IQMClient`` (made on first use, with retries while the server starts)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._connect()
        return self._client

    def _connect(self) -> IQMClient:
        from iqm.iqm_client import IQMClient

        try:
            client = self.call(
                lambda: IQMClient.from_url(
                    self.url,
                    quantum_computer=self.quantum_computer,
                    token=self._token,
                    tokens_file=self._tokens_file,
                ),
                "connecting to the IQM server",
            )
        except JobNotFoundError as exc:
            raise ConfigurationError(
                f"cannot connect to the IQM server at {self.url}: {exc}; check the URL (the "
                "server's root, e.g. https://host)"
            ) from None
        except ConfigurationError:
            raise
        except ServerError as exc:
            message = str(exc)
            if not message.startswith("cannot connect"):
                message = f"cannot connect to the IQM server at {self.url}: {message}"
            raise ConfigurationError(message) from None
        self._hooked = _install_hook(client)
        if not self._hooked:
            logger.debug("iqm-client's HTTP hook is not where expected; using its public calls")
        return client

    def close(self) -> None:
        """Forget the client; the next call makes a new one."""
        self._client = None

    @property
    def quantum_computer_name(self) -> str:
        """The quantum computer's alias as the server resolved it."""
        return str(self.client.quantum_computer_name)

    # --------------------------------------------------------------------------- calling
    def call(self, fn: Callable[[], T], what: str, deadline: Deadline = NO_DEADLINE) -> T:
        """Run an idempotent request, retrying transient failures within the retry policy
        and the deadline.

        Raises:
            JobTimeoutError: the deadline passed while retrying.
            IQMBridgeError: the mapped failure once retries are exhausted or pointless.
        """
        delays = self.retry.delays()
        while True:
            _answer.timeout_cap = deadline.remaining
            try:
                with _mapped(what, self.url):
                    return fn()
            except ServerUnavailableError as exc:
                delay = next(delays, None)
                if delay is None:
                    raise
                pause = self.retry.wait_for(delay, exc.retry_after)
                remaining = deadline.remaining
                if remaining is not None and remaining <= pause:
                    raise twin(
                        JobTimeoutError,
                        "OperationTimeoutError",
                        f"{what}: gave up after the deadline of {deadline.seconds} s while the "
                        f"server did not answer ({exc})",
                    ) from exc
                logger.info("%s: %s; retrying in %.2f s", what, exc, pause)
                time.sleep(pause)
            finally:
                _answer.timeout_cap = None

    def once(self, fn: Callable[[], T], what: str) -> T:
        """Run a request once (no retry), with its failure mapped."""
        with _mapped(what, self.url):
            return fn()

    # --------------------------------------------------------------------------- requests
    def architecture(self) -> Any:
        """The default calibration's dynamic quantum architecture (iqm-client's model)."""
        return self.call(
            lambda: self.client.get_dynamic_quantum_architecture(), "fetching the architecture"
        )

    def quality_metrics(self) -> list[Any]:
        """The observations of the default calibration's quality metric set."""
        result = self.call(
            lambda: self.client.get_quality_metric_set(), "fetching the quality metrics"
        )
        return list(getattr(result, "observations", ()) or ())

    def calibration_observations(self) -> list[Any]:
        """The observations of the default calibration set (durations, frequencies)."""
        result = self.call(
            lambda: self.client.get_calibration_set(), "fetching the calibration set"
        )
        return list(getattr(result, "observations", ()) or ())

    def about(self) -> Mapping[str, Any]:
        """The server's ``about`` document (``{}`` if it is not a mapping)."""
        about = self.call(lambda: self.client.get_about(), "reading the server's about")
        return about if isinstance(about, Mapping) else {}

    def quantum_computers(self) -> list[Any]:
        """The server's quantum computers (iqm-client's ``QuantumComputer`` models).

        Asked without choosing a quantum computer first, so it works on a server with several
        when none is configured.
        """
        return self.call(
            lambda: _list_without_client(self.url, self._token, self._tokens_file),
            "listing the quantum computers",
        )

    def submit(self, definition: Any, use_timeslot: bool) -> tuple[str, Any]:
        """Submit one job (no retry: resending is the caller's decision); its id and data."""
        tracker = self.once(
            lambda: self.client.submit_circuit_job(definition, use_timeslot=use_timeslot),
            "submitting the job",
        )
        return str(tracker.job_id), tracker.job_data

    def job(self, job_id: str, deadline: Deadline = NO_DEADLINE) -> Any:
        """A job's current data (status, errors, queue position, timeline)."""
        return self.call(
            lambda: self.client.get_job(UUID(job_id)).job_data, f"fetching job {job_id}", deadline
        )

    def cancel(self, job_id: str) -> None:
        """Ask the server to cancel a job."""
        self.call(lambda: self.client.cancel_job(UUID(job_id)), f"cancelling job {job_id}")

    def payload(self, job_id: str) -> Any:
        """A job's submitted payload (circuits and shots) as iqm-client's model."""
        return self.call(
            lambda: self.client.get_job(UUID(job_id)).payload(), f"fetching job {job_id}"
        )

    def measurements(self, job_id: str, deadline: Deadline = NO_DEADLINE) -> Any:
        """A job's ``measurements`` artifact as plain JSON data (see the module docstring)."""

        def fetch() -> Any:
            server = getattr(getattr(self.client, "_executor", None), "client", None)
            send = getattr(server, "send_request", None)
            if send is None or not self._hooked:
                return self.client.get_job_measurements(UUID(job_id))
            import requests

            response = send(requests.get, f"jobs/{UUID(job_id)}/artifacts/measurements")
            return parse_measurements(response.content)

        return self.call(fetch, f"fetching results of job {job_id}", deadline)


def parse_measurements(content: bytes) -> Any:
    """A ``measurements`` artifact's JSON as plain data (per circuit, key -> shot lists).

    Raises:
        json.JSONDecodeError: the text is not JSON (mapped to a malformed answer by callers).
    """
    # a str parses many times faster than bytes; bad bytes then fail as malformed JSON
    text = content.decode("utf-8", errors="replace")
    with collector.paused():  # one list per shot: see iqm_bridge.core.collector
        return json.loads(text)


def _list_without_client(url: str, token: str | None, tokens_file: str | None) -> list[Any]:
    """The quantum-computer list of a server, through iqm-client's own response model."""
    import requests
    from iqm.iqm_server_client.models import ListQuantumComputersResponse
    from iqm.station_control.client.authentication import TokenManager

    headers = {"Accept": "application/json"}
    callback = TokenManager(token, tokens_file).get_auth_header_callback()
    if callback is not None:
        headers["Authorization"] = callback()
    root = url.rstrip("/")
    response = requests.get(f"{root}/api/v1/quantum-computers", headers=headers, timeout=30)
    if response.status_code in (401, 403):
        raise ConfigurationError(
            f"the IQM server at {url} refused the request (HTTP {response.status_code}); "
            "give a valid token with token=..., IQM_TOKEN or IQM_TOKENS_FILE"
        )
    if response.status_code in _TRANSIENT_STATUS:
        raise ServerUnavailableError(
            f"listing the quantum computers failed: HTTP {response.status_code}",
            maybe_processed=False,
        )
    if not response.ok:
        raise ConfigurationError(
            f"the IQM server at {url} answered HTTP {response.status_code} when asked for its "
            "quantum computers; check the URL (the server's root, e.g. https://host)"
        )
    try:
        model = ListQuantumComputersResponse.model_validate_json(response.text)
    except Exception:
        raise ConfigurationError(
            f"{url} did not answer like an IQM server (no quantum-computer list); check the URL"
        ) from None
    return list(model.quantum_computers)

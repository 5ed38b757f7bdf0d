"""Retries for requests to the server: which failures are worth another try, and when.

Idempotent requests (reads, cancel) are retried with exponential backoff and full jitter on
transport errors, time-outs and 429/502/503/504 answers, honouring ``Retry-After`` when the
server sends one. Whether a failed job *submission* may be resent is decided by
:class:`~iqm_bridge.core.submit.Connection` with the predicates here.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from iqm_bridge.core.errors import IQMBridgeError, JobNotFoundError, ServerError

__all__ = ["RetryPolicy"]


def translate(exc: Exception, what: str) -> IQMBridgeError:
    """Map iqm-client and transport exceptions to our hierarchy."""
    name = type(exc).__name__
    if name == "NotFoundError":
        return JobNotFoundError(f"{what}: the server does not know it ({exc})")
    if isinstance(exc, IQMBridgeError):
        return exc
    return ServerError(f"{what} failed: {name}: {exc}")


_RETRYABLE = frozenset(
    {
        "ConnectionError",
        "Timeout",
        "ReadTimeout",
        "ConnectTimeout",
        "ChunkedEncodingError",
        "SystemUnavailableError",
        "BadGatewayError",
        "OperationTimeoutError",
        "RateLimitError",
    }
)
_CERTAINLY_NOT_SENT = frozenset({"ConnectTimeout", "NewConnectionError"})


@attrs.frozen(slots=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter for idempotent requests.

    Connection errors, timeouts, 429, 502, 503 and 504 are retried. A 429 or 503 answer's
    ``Retry-After`` header is honoured (up to ``max_retry_after``) when the installed
    iqm-client lets us see it (it raises without the response; see
    ``_install_retry_after_probe``); otherwise the jittered backoff applies. A job
    submission is resent only when that cannot create a second job.

    Attributes:
        attempts: total tries (1 = no retry).
        base_delay: first backoff in seconds.
        max_delay: backoff cap in seconds.
        max_retry_after: the longest ``Retry-After`` pause honoured, in seconds.
    """

    attempts: int = 10
    base_delay: float = 0.05
    max_delay: float = 2.0
    max_retry_after: float = 60.0

    def delays(self) -> Iterator[float]:
        """Backoff delays between attempts (full jitter)."""
        for i in range(self.attempts - 1):
            yield random.uniform(0, min(self.max_delay, self.base_delay * 2**i))

    def wait_for(self, backoff: float, retry_after: float | None) -> float:
        """The pause before the next try: the server's ``Retry-After`` (capped at
        ``max_retry_after``) when it gave one, else the jittered backoff."""
        if retry_after is None:
            return backoff
        return max(backoff, min(retry_after, self.max_retry_after))


# iqm-client raises ``RateLimitError``/``SystemUnavailableError`` with the message only: the
# response and its ``Retry-After`` header are gone by then. So the HTTP method handed to
# iqm-client's ``send_request`` is wrapped to note the header (per thread) before iqm-client
# turns the answer into an exception; without that hook we fall back to plain backoff.
_hints = threading.local()


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
    if seconds != seconds or seconds < 0:  # NaN or in the past
        return 0.0 if seconds == seconds else None
    return seconds


def clear_retry_after() -> None:
    """Forget any ``Retry-After`` noted for this thread (before a new request)."""
    _hints.retry_after = None


def take_retry_after() -> float | None:
    value: float | None = getattr(_hints, "retry_after", None)
    _hints.retry_after = None
    return value


def install_retry_after_probe(client: Any) -> bool:
    """Hook the HTTP calls of ``client`` (an IQMClient): note ``Retry-After`` of 429/503
    answers before iqm-client raises (it keeps only the message), and send reads (GET) through
    one keep-alive session per thread instead of a new connection per request.

    Writes (POST, DELETE) still open a connection of their own, exactly as iqm-client does,
    so a submission never rides on a connection the server may have closed while idle.

    Returns:
        Whether the hook could be installed (iqm-client's internals are as expected).
    """
    server = getattr(getattr(client, "_executor", None), "client", None)
    original = getattr(server, "send_request", None)
    if original is None or getattr(original, "_iqm_bridge_probe", False):
        return original is not None
    sessions = threading.local()

    def send_request(http_method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        name = getattr(http_method, "__name__", "get")

        def method(url: str, **kw: Any) -> Any:
            if name == "get":
                session = getattr(sessions, "session", None)
                if session is None:
                    import requests

                    session = sessions.session = requests.Session()
                response = session.get(url, **kw)
            else:
                response = http_method(url, **kw)
            if getattr(response, "status_code", None) in (429, 503):
                _hints.retry_after = _parse_retry_after(response.headers.get("Retry-After"))
            return response

        # iqm-client tells mutating requests from the method's name
        method.__name__ = name
        return original(method, *args, **kwargs)

    send_request._iqm_bridge_probe = True  # type: ignore[attr-defined]
    try:
        server.send_request = send_request  # type: ignore[union-attr]
    except AttributeError:
        return False
    return True


def is_retryable(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in exception_chain(exc)}
    return bool(names & _RETRYABLE)


def certainly_not_sent(exc: BaseException) -> bool:
    """Whether a failed POST provably never reached the server (connection refused etc.)."""
    for e in exception_chain(exc):
        if type(e).__name__ in _CERTAINLY_NOT_SENT or isinstance(e, ConnectionRefusedError):
            return True
    return False


def is_malformed(exc: BaseException) -> bool:
    """Whether a failed read means the server's answer did not parse (JSON or model)."""
    for e in exception_chain(exc):
        module = type(e).__module__
        if module.startswith(("pydantic", "json", "requests")) and (
            "ValidationError" in type(e).__name__ or "JSONDecodeError" in type(e).__name__
        ):
            return True
    return False


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

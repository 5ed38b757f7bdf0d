"""Per-token rate limits: a token bucket per owner, answered ``429`` with ``Retry-After``.

Off by default. A shared server protects itself from one runaway optimisation loop: every
token (or, without authentication, every client) may make ``burst`` requests at once and
``rate`` requests per second on average; the rest are refused with an IQM error body and a
``Retry-After`` header saying when a request will be accepted again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from iqm_bridge.emulator._asgi import send_iqm_error

__all__ = ["RateLimit", "RateLimiter"]


@dataclass(frozen=True)
class RateLimit:
    """How many requests one token may make.

    Attributes:
        rate: requests per second refilled into each token's bucket.
        burst: the bucket's size (requests accepted at once after a pause).
        paths: only requests whose path starts with one of these count.
    """

    rate: float
    burst: int = 10
    paths: tuple[str, ...] = ("/api/v1/",)

    def __post_init__(self) -> None:
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise ValueError(f"rate={self.rate!r} must be a positive number of requests/s")
        if self.burst < 1:
            raise ValueError(f"burst={self.burst!r} must be at least 1")

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """``"RATE"`` or ``"RATE/BURST"`` (the command line's form), e.g. ``"5/10"``."""
        rate, _, burst = text.partition("/")
        try:
            return cls(float(rate), int(burst) if burst else max(1, math.ceil(float(rate))))
        except ValueError as exc:
            raise ValueError(f"rate limit {text!r}: {exc}; write RATE or RATE/BURST") from None


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class RateLimiter:
    """ASGI middleware enforcing a :class:`RateLimit` per bearer token.

    Args:
        app: the wrapped ASGI app.
        limit: the limit.
        clock: monotonic clock (tests pass a fake one).
    """

    def __init__(
        self, app: Any, limit: RateLimit, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.app = app
        self.limit = limit
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self.refused = 0

    @staticmethod
    def _owner(scope: Any) -> str:
        for name, value in scope.get("headers") or ():
            if name == b"authorization":
                # the bucket is keyed by the header itself; it is never logged or answered
                return "auth:" + value.decode("latin-1").strip()
        client = scope.get("client")
        return f"addr:{client[0]}" if client else "addr:?"

    def admit(self, owner: str) -> float:
        """Take one request from ``owner``'s bucket.

        Returns:
            0 if admitted, else the seconds until a request would be admitted.
        """
        rate, burst = self.limit.rate, self.limit.burst
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(owner)
            if bucket is None:
                bucket = self._buckets[owner] = _Bucket(float(burst), now)
            bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.stamp) * rate)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            self.refused += 1
            return (1.0 - bucket.tokens) / rate

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.limit.paths):
            await self.app(scope, receive, send)
            return
        wait = self.admit(self._owner(scope))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))  # Retry-After counts whole seconds
        await send_iqm_error(
            send,
            429,
            "rate_limited",
            f"too many requests for this token; retry after {retry_after} s",
            [(b"retry-after", str(retry_after).encode())],
        )

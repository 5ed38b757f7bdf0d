"""Fault injection: make the emulator misbehave on purpose, reproducibly.

Used by reliability tests of clients: a fraction of requests answered 503 with an IQM error
body, delayed, or dropped (the TCP connection closed without an answer, either before the
request is handled or after it was handled, so the client never learns of e.g. a created
job), plus jobs that fail. All decisions come from one generator seeded by ``seed``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

from iqm_bridge.emulator._asgi import send_iqm_error

__all__ = ["FaultInjector", "FaultOptions"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaultOptions:
    """What to break and how often; every rate is a probability per request (or per job).

    Attributes:
        error_rate: fraction of requests answered ``503`` with an IQM error body.
        delay_rate: fraction of requests delayed by ``delay_seconds`` before being handled.
        delay_seconds: the delay.
        drop_rate: fraction of connections closed without any answer, before handling.
        drop_after_rate: fraction of requests handled (a POST creates its job) whose answer
            is then dropped by closing the connection.
        job_failure_rate: fraction of jobs that end ``failed`` with an injected error.
        seed: seed of the fault generator (``None``: random).
        paths: only requests whose path starts with one of these are affected.
    """

    error_rate: float = 0.0
    delay_rate: float = 0.0
    delay_seconds: float = 0.5
    drop_rate: float = 0.0
    drop_after_rate: float = 0.0
    job_failure_rate: float = 0.0
    seed: int | None = None
    paths: tuple[str, ...] = ("/api/v1/",)

    @property
    def active(self) -> bool:
        """Whether any request-level fault is configured."""
        return any((self.error_rate, self.delay_rate, self.drop_rate, self.drop_after_rate))


def _close(send: Any) -> bool:
    """Close the client connection under a uvicorn h11 cycle without answering."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.close()
    if hasattr(cycle, "disconnected"):
        cycle.disconnected = True
    return True


class FaultInjector:
    """ASGI middleware applying :class:`FaultOptions` to HTTP requests."""

    def __init__(self, app: Any, options: FaultOptions) -> None:
        self.app = app
        self.options = options
        self.rng = random.Random(options.seed)
        self.injected: dict[str, int] = {"error": 0, "delay": 0, "drop": 0, "drop_after": 0}

    def fail_job(self) -> bool:
        """Whether the next job should fail (drawn from the fault generator)."""
        rate = self.options.job_failure_rate
        return rate > 0 and self.rng.random() < rate

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        opts = self.options
        if scope["type"] != "http" or not opts.active or not scope["path"].startswith(opts.paths):
            await self.app(scope, receive, send)
            return
        r = self.rng.random
        if opts.drop_rate and r() < opts.drop_rate and _close(send):
            self.injected["drop"] += 1
            return
        if opts.delay_rate and r() < opts.delay_rate:
            self.injected["delay"] += 1
            await asyncio.sleep(opts.delay_seconds)
        if opts.error_rate and r() < opts.error_rate:
            self.injected["error"] += 1
            await send_iqm_error(
                send,
                503,
                "service_unavailable",
                "the server is temporarily unavailable (injected fault)",
            )
            return
        if opts.drop_after_rate and r() < opts.drop_after_rate:

            async def swallow(message: Any) -> None:
                return None

            await self.app(scope, receive, swallow)
            if _close(send):
                self.injected["drop_after"] += 1
            return
        await self.app(scope, receive, send)

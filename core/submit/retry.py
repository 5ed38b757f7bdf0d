"""The retry policy: how often and how patiently a failed request is tried again.

Idempotent requests (reads, cancel) are retried with exponential backoff and full jitter on
transient failures (:class:`~iqm_bridge.core.errors.ServerUnavailableError`: transport errors,
time-outs and 429/502/503/504 answers), honouring ``Retry-After`` when the server sends one.
Whether a failed job *submission* may be resent is decided by
:class:`~iqm_bridge.core.submit.connection.Connection`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import attrs

__all__ = ["RetryPolicy"]


@attrs.frozen(slots=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter for idempotent requests.

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

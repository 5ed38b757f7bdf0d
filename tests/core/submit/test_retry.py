"""The retry policy: bounded, jittered backoff, and the server's Retry-After honoured."""

from __future__ import annotations

from iqm_bridge.core import RetryPolicy


def test_delays_are_bounded_and_one_fewer_than_the_attempts() -> None:
    policy = RetryPolicy(attempts=6, base_delay=0.1, max_delay=0.3)
    delays = list(policy.delays())
    assert len(delays) == 5
    caps = [0.1, 0.2, 0.3, 0.3, 0.3]
    assert all(0.0 <= d <= cap for d, cap in zip(delays, caps, strict=True))
    assert list(RetryPolicy(attempts=1).delays()) == []


def test_retry_after_wins_up_to_its_cap() -> None:
    policy = RetryPolicy(max_retry_after=10.0)
    assert policy.wait_for(0.2, None) == 0.2
    assert policy.wait_for(0.2, 3.0) == 3.0
    assert policy.wait_for(0.2, 60.0) == 10.0
    assert policy.wait_for(5.0, 1.0) == 5.0

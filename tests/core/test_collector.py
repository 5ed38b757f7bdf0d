"""The shared pause of the cyclic garbage collector."""

from __future__ import annotations

import gc
import threading

import pytest

from iqm_bridge.core import collector


@pytest.fixture(autouse=True)
def _collector_on() -> None:
    gc.enable()
    yield
    gc.enable()


def test_paused_switches_the_collector_off_and_back_on() -> None:
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_already_off_is_left_off() -> None:
    gc.disable()
    with collector.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_back_on_only_when_the_last_of_overlapping_pauses_ends() -> None:
    """Two threads' pauses overlap: the first to end must not switch the collector on while
    the other still runs (broken variant caught: enable() at the end of every pause)."""
    inside, release = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other() -> None:
        with collector.paused():
            inside.set()
            release.wait(10)
            seen.append(gc.isenabled())

    thread = threading.Thread(target=other)
    thread.start()
    assert inside.wait(10)
    with collector.paused():
        pass
    assert not gc.isenabled()  # the other thread's pause is still open
    release.set()
    thread.join(10)
    assert seen == [False] and gc.isenabled()


def test_an_error_inside_still_switches_it_back_on() -> None:
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("boom")
    assert gc.isenabled()

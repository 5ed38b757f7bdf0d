"""Shared fixtures: emulator servers on loopback, and the import-hygiene guard."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# test helpers shared across folders (the statevector oracle, process helpers) live in tests/
sys.path.insert(0, os.path.dirname(__file__))

EMULATOR_SEED = 1234

# CI (CI=true) replays the same generated examples every run, so a landing never hinges on a
# lucky draw; local runs keep exploring new examples.
if os.environ.get("CI"):
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, print_blob=True)
    settings.load_profile("ci")


@pytest.fixture(scope="session", autouse=True)
def _no_toplevel_package_imports() -> Iterator[None]:
    """Fail if ``core``, ``adapters`` or ``emulator`` was imported as a top-level module.

    From the repository root ``import core`` works by accident and loads every class a second
    time under another name; code must always import ``iqm_bridge.<package>``.
    """
    yield
    bad = sorted(name for name in ("core", "adapters", "emulator") if name in sys.modules)
    if bad:
        pytest.fail(
            f"top-level module(s) {', '.join(bad)} were imported; import them as "
            f"iqm_bridge.{bad[0]} instead",
            pytrace=False,
        )


@pytest.fixture(scope="session", autouse=True)
def _private_journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the tests' job ids out of the user's own journal (a tests-only journal file).

    Tests that need a specific journal pass one or set ``IQM_BRIDGE_JOURNAL`` themselves.
    """
    before = os.environ.get("IQM_BRIDGE_JOURNAL")
    if before is None:
        path = tmp_path_factory.mktemp("journal") / "jobs.sqlite3"
        os.environ["IQM_BRIDGE_JOURNAL"] = str(path)
    yield
    if before is None:
        os.environ.pop("IQM_BRIDGE_JOURNAL", None)


@pytest.fixture(scope="session", autouse=True)
def _private_emulator_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the embedded emulator's jobs out of the user's data directory (a tests-only file).

    Tests that need a specific file pass ``db=`` or set ``IQM_BRIDGE_EMULATOR_DB`` themselves.
    """
    before = os.environ.get("IQM_BRIDGE_EMULATOR_DB")
    if before is None:
        path = tmp_path_factory.mktemp("emulator") / "emulator.sqlite3"
        os.environ["IQM_BRIDGE_EMULATOR_DB"] = str(path)
    yield
    if before is None:
        os.environ.pop("IQM_BRIDGE_EMULATOR_DB", None)


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    """URL of a garnet emulator without noise and with a fixed seed (shared by the session)."""
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=False, seed=EMULATOR_SEED) as url:
        yield url


@pytest.fixture(scope="session")
def star_emulator_url() -> Iterator[str]:
    """URL of a deneb (star with a computational resonator) emulator without noise."""
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="deneb", noise=False, seed=EMULATOR_SEED) as url:
        yield url


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., Any]]:
    """Start custom emulators: ``emu = emulator_factory(machine="adonis", queue_delay=5)``.

    Returns the started :class:`~iqm_bridge.emulator.Emulator` (its ``.url`` is the address);
    every emulator started through the factory is stopped after the test.
    """
    from iqm_bridge.emulator import Emulator

    started: list[Emulator] = []

    def make(**kwargs: Any) -> Emulator:
        emu = Emulator(**kwargs)
        emu.start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()

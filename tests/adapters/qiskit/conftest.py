"""Backends on the session's emulators, shared by the Qiskit adapter's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from iqm_bridge.adapters.qiskit import IQMBackend, IQMProvider


@pytest.fixture(scope="module")
def backend(emulator_url: str) -> Iterator[IQMBackend]:
    """A backend on the square-lattice emulator (garnet)."""
    b = IQMProvider(emulator_url).get_backend()
    yield b
    b.close_client()


@pytest.fixture(scope="module")
def star_backend(star_emulator_url: str) -> IQMBackend:
    """A backend on the resonator-star emulator."""
    return IQMProvider(star_emulator_url).get_backend()

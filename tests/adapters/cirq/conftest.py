"""Fixtures for the cirq adapter: emulators we can count jobs on, samplers, an oracle."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

cirq = pytest.importorskip("cirq")

SEED = 4321


def _noiseless(machine: str) -> Iterator[Any]:
    from iqm_bridge.emulator import Emulator

    emu = Emulator(machine=machine, noise=False, seed=SEED)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def garnet() -> Iterator[Any]:
    """A noiseless garnet emulator (the object, so tests can count its jobs)."""
    yield from _noiseless("garnet")


@pytest.fixture(scope="module")
def deneb() -> Iterator[Any]:
    """A noiseless deneb (resonator star) emulator."""
    yield from _noiseless("deneb")


@pytest.fixture(scope="module")
def sampler(garnet: Any) -> Any:
    """An IQMSampler on the garnet emulator."""
    from iqm_bridge.adapters.cirq import IQMSampler

    return IQMSampler(garnet.url, seed=1)


def rows(records: np.ndarray) -> np.ndarray:
    """Each shot's bits of one key (all repetitions) as one integer."""
    flat = records.reshape(records.shape[0], -1).astype(np.int64)
    weights = 1 << np.arange(flat.shape[1] - 1, -1, -1, dtype=np.int64)
    return flat @ weights


def _assert_same_distribution(ours: Any, oracle: Any, keys: list[str] | None = None) -> None:
    """Per measurement key, total variation distance within a 4-sigma bound for the shots.

    The bound sums each outcome's 4-sigma binomial fluctuation of the difference of two
    independent empirical frequencies (ours with N shots, the oracle's with M).
    """
    for key in keys or list(oracle.records):
        a, b = rows(ours.records[key]), rows(oracle.records[key])
        n, m = len(a), len(b)
        outcomes = np.union1d(a, b)
        pa = np.array([(a == o).mean() for o in outcomes])
        pb = np.array([(b == o).mean() for o in outcomes])
        pooled = (pa * n + pb * m) / (n + m)
        sigma = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
        tvd = 0.5 * np.abs(pa - pb).sum()
        bound = 0.5 * (4 * sigma).sum() + 1e-9
        assert tvd <= bound, f"key {key!r}: TVD {tvd:.4f} exceeds the 4-sigma bound {bound:.4f}"


def _oracle(circuit: Any, repetitions: int = 20000, params: Any = None) -> Any:
    """cirq.Simulator's samples of the same circuit."""
    return cirq.Simulator(seed=SEED).run(circuit, params, repetitions=repetitions)


@pytest.fixture
def same_distribution() -> Any:
    """``same_distribution(ours, oracle_result, keys=None)``: the TVD assertion."""
    return _assert_same_distribution


@pytest.fixture
def simulate() -> Any:
    """``simulate(circuit, repetitions=20000, params=None)``: cirq.Simulator samples."""
    return _oracle

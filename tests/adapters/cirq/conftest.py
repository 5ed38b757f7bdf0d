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


ALPHA = 1e-5
"""False-alarm rate of one distribution check (about 20 checks run in this folder: a false
alarm about once in 5,000 runs of it)."""


def _assert_same_distribution(ours: Any, oracle: Any, keys: list[str] | None = None) -> None:
    """Per measurement key, a chi-square test that our shots and the oracle's come from one
    distribution, failing at false-alarm rate :data:`ALPHA`.

    The 2 x K table of outcome counts (ours with N shots, the oracle's with M) is tested for
    homogeneity (``scipy.stats.chi2_contingency``, K - 1 degrees of freedom; no continuity
    correction). Outcomes expected fewer than 5 times in the smaller sample are pooled into
    one cell first, where the chi-square law would be a poor approximation. For QFT-4 (16
    outcomes, 15 degrees of freedom) the threshold is chi2 = 50.5.

    What it catches, measured once over 200 seeded draws: QFT-4 with its first preparation
    angle ry(0.4) made ry(0.55), a total-variation distance of 0.098, fails 200 times in
    200; the summed per-outcome 4-sigma bound this replaces (0.116 in total variation for
    QFT-4) passed it 189 times. With ry(0.5) (distance 0.067) this check fails 184 times,
    the old bound never. ``test_the_distribution_check_can_fail`` keeps this in the suite.
    """
    from scipy.stats import chi2_contingency

    for key in keys or list(oracle.records):
        a, b = rows(ours.records[key]), rows(oracle.records[key])
        outcomes, index = np.unique(np.concatenate([a, b]), return_inverse=True)
        table = np.zeros((2, len(outcomes)))
        np.add.at(table[0], index[: len(a)], 1)
        np.add.at(table[1], index[len(a) :], 1)
        rare = table.sum(axis=0) / table.sum() * min(len(a), len(b)) < 5
        if rare.any():
            table = np.column_stack([table[:, ~rare], table[:, rare].sum(axis=1)])
        if table.shape[1] < 2:
            continue  # one outcome in both samples: nothing to compare
        statistic, p_value, dof, _ = chi2_contingency(table, correction=False)
        assert p_value >= ALPHA, (
            f"key {key!r}: chi2 = {statistic:.1f} with {dof} degrees of freedom (p = "
            f"{p_value:.2g} < {ALPHA}): our {len(a)} shots and the oracle's {len(b)} differ"
        )


def _oracle(circuit: Any, repetitions: int = 20000, params: Any = None) -> Any:
    """cirq.Simulator's samples of the same circuit."""
    return cirq.Simulator(seed=SEED).run(circuit, params, repetitions=repetitions)


@pytest.fixture
def same_distribution() -> Any:
    """``same_distribution(ours, oracle_result, keys=None)``: the chi-square assertion."""
    return _assert_same_distribution


@pytest.fixture
def simulate() -> Any:
    """``simulate(circuit, repetitions=20000, params=None)``: cirq.Simulator samples."""
    return _oracle

"""Readout mitigation: ours (``iqm_bridge.core.mitigation``) against mthree on the same data.

The data: 20 qubits x 100,000 shots of a noisy GHZ state (all 0 or all 1, half each), each bit
flipped with its qubit's own asymmetric readout errors (seeded; p1_given_0 in [0.005, 0.03],
p0_given_1 in [0.01, 0.06], so readout fidelities between 0.955 and 0.9925). Four Z-strings
are estimated: ``Z0``, ``Z0 Z1``, ``Z0 ... Z9`` and ``Z0 ... Z19`` (exact values 0, 1, 1, 1).

Outside every timer: sampling the bits, formatting them into the counts dictionary that both
sides receive, importing mthree and scipy (one warm-up run each).

Inside the anchor's timer (mthree 3.0, the M3 method): ``M3Mitigation()``,
``cals_from_matrices`` with the same per-qubit confusion matrices, ``apply_correction(counts,
qubits, return_mitigation_overhead=True)`` (its defaults: distance 3, direct or iterative
solve by size), and ``expval_and_stddev`` of the four strings: everything a user pays for from
counts to mitigated values with error bars.

Inside our timers, likewise from input to the four values with error bars:

* ``mitigation.expval_20q_100k_counts``: ``ReadoutErrors(...)``, ``bits_from_counts`` of the
  same counts dictionary, ``expectations`` (tensored per-qubit inverses). Goal <= 0.5.
* ``mitigation.expval_20q_100k_bits``: ``ReadoutErrors(...)`` and ``expectations`` straight
  from the ``100000 x 20`` uint8 array the SDK holds (mthree cannot take it; its timer still
  starts from the counts it needs). Goal <= 0.5.
* ``mitigation.quasi_20q_100k``: ``ReadoutErrors(...)``, ``bits_from_counts``,
  ``quasi_distribution(distance=3)`` (the same M3 method) and its ``expectations``. Goal <= 0.5.

The same five figures with the suffix ``_low_fidelity`` repeat this at the low end of the
issue's range: both error probabilities in [0.03, 0.07] on every qubit (fidelity about 0.95),
which roughly triples the distinct bitstrings (3 rounds, as mthree's solve takes seconds).

The two sides alternate within each round (median of 7 rounds) so both see the same load.
Two agreement figures are printed as targets, not ratios: the largest ``|ours - mthree| /
sqrt(stderr_ours^2 + stderr_mthree^2)`` over the four strings, for the tensored estimator and
for our quasi-distribution (target <= 4). The subspace methods (mthree and our quasi) miss
the weight of bitstrings never observed, which biases the 20-body string by a few percent;
the tensored estimator has no such bias.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _common import Figure, Target

ANCHOR = (
    "mthree M3Mitigation: cals_from_matrices + apply_correction + expval_and_stddev, "
    "same counts and confusion matrices"
)

N_QUBITS = 20
SHOTS = 100_000
STRINGS = [[0], [0, 1], list(range(10)), list(range(N_QUBITS))]
ROUNDS = 7


def _data(
    p10_range: tuple[float, float], p01_range: tuple[float, float]
) -> tuple[np.ndarray, dict[str, int], np.ndarray, np.ndarray]:
    """Noisy GHZ bits, their counts (qiskit order, bit 0 last), and the per-qubit errors."""
    from iqm_bridge.core.keys import counts_from_bits

    rng = np.random.default_rng(2024)
    p10 = rng.uniform(*p10_range, N_QUBITS)
    p01 = rng.uniform(*p01_range, N_QUBITS)
    true = np.repeat(rng.integers(0, 2, SHOTS, dtype=np.uint8)[:, None], N_QUBITS, axis=1)
    u = rng.random(true.shape)
    bits = (true ^ np.where(true == 0, u < p10, u < p01)).astype(np.uint8)
    return bits, counts_from_bits(bits), p10, p01


def _alternating(fns: list[Callable[[], Any]], rounds: int = ROUNDS) -> list[float]:
    """Median time of each function, running them in turn within each round."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def _agreement(ours: list[tuple[float, float]], theirs: list[tuple[float, float]]) -> float:
    return max(
        abs(a - b) / math.hypot(sa, sb) for (a, sa), (b, sb) in zip(ours, theirs, strict=True)
    )


def mitigation_20q_100k() -> list[Figure]:
    """Ours (tensored, and M3-style) against mthree on 20 qubits x 100,000 shots."""
    return _compare("", (0.005, 0.03), (0.01, 0.06), ROUNDS)


def mitigation_20q_100k_low_fidelity() -> list[Figure]:
    """The same at the low end of the fidelity range (about 0.95 on every qubit)."""
    return _compare("_low_fidelity", (0.03, 0.07), (0.03, 0.07), 3)


def _compare(
    suffix: str, p10_range: tuple[float, float], p01_range: tuple[float, float], rounds: int
) -> list[Figure]:
    import mthree

    from iqm_bridge.core.mitigation import (
        ReadoutErrors,
        bits_from_counts,
        expectations,
        quasi_distribution,
    )

    bits, counts, p10, p01 = _data(p10_range, p01_range)
    qubits = [f"QB{i + 1}" for i in range(N_QUBITS)]
    # mthree's operator strings are written like its bitstrings: qubit 0 last
    ops = ["".join("Z" if q in s else "I" for q in reversed(range(N_QUBITS))) for s in STRINGS]
    matrices = list(ReadoutErrors(qubits, p10, p01).confusion_matrices())

    def anchor() -> list[tuple[float, float]]:
        mit = mthree.M3Mitigation()
        mit.cals_from_matrices(matrices)
        quasi = mit.apply_correction(counts, list(range(N_QUBITS)), return_mitigation_overhead=True)
        values, stddev = quasi.expval_and_stddev(ops)
        return [(float(v), float(stddev)) for v in values]

    def ours_counts() -> list[tuple[float, float]]:
        errors = ReadoutErrors(qubits, p10, p01)
        rows, weights = bits_from_counts(counts)
        return [(e.value, e.stderr) for e in expectations(rows, STRINGS, errors, weights=weights)]

    def ours_bits() -> list[tuple[float, float]]:
        errors = ReadoutErrors(qubits, p10, p01)
        return [(e.value, e.stderr) for e in expectations(bits, STRINGS, errors)]

    def ours_quasi() -> list[tuple[float, float]]:
        errors = ReadoutErrors(qubits, p10, p01)
        rows, weights = bits_from_counts(counts)
        quasi = quasi_distribution(rows, errors, weights=weights, distance=3)
        return [(e.value, e.stderr) for e in quasi.expectations(STRINGS)]

    t_anchor, t_counts, t_bits, t_quasi = _alternating(
        [anchor, ours_counts, ours_bits, ours_quasi], rounds
    )
    theirs = anchor()
    distinct = len(counts)
    note = f"{distinct} distinct bitstrings"
    return [
        Figure(
            f"mitigation.expval_20q_100k_counts{suffix}",
            t_counts,
            t_anchor,
            goal=0.5,
            note=note,
            against=ANCHOR,
        ),
        Figure(
            f"mitigation.expval_20q_100k_bits{suffix}",
            t_bits,
            t_anchor,
            goal=0.5,
            note=note,
            against=ANCHOR,
        ),
        Figure(
            f"mitigation.quasi_20q_100k{suffix}",
            t_quasi,
            t_anchor,
            goal=0.5,
            note=note,
            against=ANCHOR,
        ),
        Target(
            f"mitigation.agreement_tensored_vs_mthree{suffix}",
            _agreement(ours_counts(), theirs),
            4.0,
            unit="sigma",
            note="max |ours - mthree| / combined stderr over the four strings",
        ),
        Target(
            f"mitigation.agreement_quasi_vs_mthree{suffix}",
            _agreement(ours_quasi(), theirs),
            4.0,
            unit="sigma",
            note="max |ours - mthree| / combined stderr over the four strings",
        ),
    ]


BENCHMARKS = [mitigation_20q_100k, mitigation_20q_100k_low_fidelity]

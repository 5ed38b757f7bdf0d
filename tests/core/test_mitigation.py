"""Readout-error mitigation against exact numpy values and against repeated experiments.

Data are sampled from a known distribution (GHZ-n: all 0 or all 1, half each), then each bit
is flipped with known asymmetric probabilities (seeded). Tolerances are 4 sigma, where sigma is
the standard error the code reports; the reported standard errors are themselves checked
against the spread over repeated experiments. Each test names the broken variant it catches;
where that variant is a plausible wrong input (swapped error probabilities, error bars added
in quadrature, calibration uncertainty ignored) the test also asserts that the variant fails
the same check, so the check is shown to be able to fail.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iqm_bridge.core.errors import ConfigurationError, IQMBridgeError
from iqm_bridge.core.keys import counts_from_bits
from iqm_bridge.core.mitigation import (
    Estimate,
    MitigationInputError,
    ReadoutCalibrationError,
    ReadoutErrors,
    bits_from_counts,
    expectation,
    expectations,
    quasi_distribution,
    weighted_sum,
)

SIGMAS = 4.0
# asymmetric on purpose: p0_given_1 (relaxation during readout) larger than p1_given_0
A6 = (0.02, 0.05, 0.03, 0.08, 0.01, 0.04)
B6 = (0.10, 0.07, 0.12, 0.09, 0.15, 0.06)


def _qubits(n: int) -> list[str]:
    return [f"QB{i + 1}" for i in range(n)]


def _ghz(n: int, shots: int, rng: np.random.Generator) -> np.ndarray:
    return np.repeat(rng.integers(0, 2, shots, dtype=np.uint8)[:, None], n, axis=1)


def _flip(true: np.ndarray, a, b, rng: np.random.Generator) -> np.ndarray:  # type: ignore[no-untyped-def]
    u = rng.random(true.shape)
    flips = np.where(true == 0, u < np.asarray(a), u < np.asarray(b))
    return (true ^ flips).astype(np.uint8)


def _ghz_z(columns) -> float:  # type: ignore[no-untyped-def]
    """Exact <Z_S> on GHZ: 1 for an even number of Z's (including none), 0 for odd."""
    return 1.0 if len(columns) % 2 == 0 else 0.0


def _swapped(errors: ReadoutErrors) -> ReadoutErrors:
    return ReadoutErrors(errors.qubits, errors.p0_given_1, errors.p1_given_0)


def _within(est: Estimate, exact: float) -> bool:
    return abs(est.value - exact) <= SIGMAS * est.stderr


STRINGS6 = [[0], [0, 1], [2, 3, 4], [0, 1, 2, 3], [0, 1, 2, 3, 4, 5], [1, 5]]


def test_mitigated_z_strings_hit_exact_values_raw_ones_do_not() -> None:
    """GHZ-6, 40,000 shots: every mitigated Z-string within 4 sigma (its reported stderr).

    Broken variant caught: p1_given_0 and p0_given_1 swapped (asserted below to miss), and no
    mitigation at all (raw lands outside 4 sigma on every string).
    """
    rng = np.random.default_rng(11)
    bits = _flip(_ghz(6, 40_000, rng), A6, B6, rng)
    errors = ReadoutErrors(_qubits(6), A6, B6)
    for est, cols in zip(expectations(bits, STRINGS6, errors), STRINGS6, strict=True):
        assert _within(est, _ghz_z(cols)), (cols, est)
    for est, cols in zip(expectations(bits, STRINGS6, None), STRINGS6, strict=True):
        assert not _within(est, _ghz_z(cols)), (cols, est)
    swapped = expectations(bits, STRINGS6, _swapped(errors))
    assert not all(_within(e, _ghz_z(c)) for e, c in zip(swapped, STRINGS6, strict=True))


def test_single_string_and_identity() -> None:
    rng = np.random.default_rng(3)
    bits = _flip(_ghz(6, 5_000, rng), A6, B6, rng)
    errors = ReadoutErrors(_qubits(6), A6, B6)
    assert expectation(bits, [0, 1], errors) == expectations(bits, [[0, 1]], errors)[0]
    assert expectation(bits, [], errors) == Estimate(1.0, 0.0)
    assert expectation(bits, [], None) == Estimate(1.0, 0.0)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_weights_invert_the_confusion_exactly(n: int, seed: int) -> None:
    """Fed the exact read-out distribution (as integer weights), the estimator is exact.

    The read-out distribution is ``(A_1 x ... x A_n) p`` with numpy's ``kron``; the mitigated
    value must equal ``<Z_S>`` of the true ``p`` to rounding (1e-9). Checked once to fail
    with p1_given_0 and p0_given_1 swapped in the per-outcome weights.
    """
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.0, 0.2, n), rng.uniform(0.0, 0.2, n)
    errors = ReadoutErrors(_qubits(n), a, b)
    p_true = rng.dirichlet(np.ones(2**n))
    rows = np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.uint8)  # bit 0 first
    full = np.array([[1.0]])
    for m in errors.confusion_matrices():
        full = np.kron(full, m)  # bit 0 most significant, like ``rows``
    p_read = full @ p_true
    weights = np.round(p_read * 1e13).astype(np.int64)
    for size in range(n + 1):
        for cols in itertools.combinations(range(n), size):
            z = (-1.0) ** rows[:, list(cols)].sum(axis=1)
            est = expectation(rows, cols, errors, weights=weights)
            assert est.value == pytest.approx(float(z @ p_true), abs=1e-9)


def test_reported_stderr_matches_the_spread_of_repeated_experiments() -> None:
    """300 repeats of GHZ-4 with 2,000 shots: the spread of the values equals the stderr.

    The sample standard deviation of K = 300 estimates has relative sigma ``1/sqrt(2(K-1))``
    (5.8%), so the ratio of spread to mean reported stderr must be within 4 of those of 1;
    the mean must be within 4 ``spread/sqrt(K)`` of the exact value. Broken variant caught:
    the raw +-1 parity's stderr reused for the mitigated value, which ignores that the
    mitigated per-shot weights exceed 1 in size (asserted below to miss by far).
    """
    n, shots, repeats = 4, 2_000, 300
    a, b = A6[:n], B6[:n]
    errors = ReadoutErrors(_qubits(n), a, b)
    rng = np.random.default_rng(5)
    cols = [0, 1, 2, 3]
    ests, raw = [], []
    for _ in range(repeats):
        bits = _flip(_ghz(n, shots, rng), a, b, rng)
        ests.append(expectation(bits, cols, errors))
        raw.append(expectation(bits, cols, None).stderr)
    values = np.array([e.value for e in ests])
    reported = float(np.mean([e.stderr for e in ests]))
    spread = float(values.std(ddof=1))
    tolerance = SIGMAS / math.sqrt(2 * (repeats - 1))
    assert abs(spread / reported - 1) <= tolerance
    assert abs(values.mean() - 1.0) <= SIGMAS * spread / math.sqrt(repeats)
    assert abs(spread / float(np.mean(raw)) - 1) > tolerance


def test_weighted_sum_error_bar_carries_the_covariance() -> None:
    """``Z0 - Z1`` on GHZ-4: the two terms are almost perfectly correlated.

    Each term alone has per-shot variance about 1.3, the difference only what the readout
    flips leave, so adding the terms' error bars in quadrature overstates the error several
    times. The reported stderr must match the spread over 300 repeats (4 sigma of the sample
    standard deviation, as above) and the value the exact 0 within 4 sigma. Broken variant
    caught: quadrature sum of the terms' stderrs (asserted below to miss).
    """
    n, shots, repeats = 4, 2_000, 300
    a, b = A6[:n], B6[:n]
    errors = ReadoutErrors(_qubits(n), a, b)
    rng = np.random.default_rng(8)
    terms = [(1.0, [0]), (-1.0, [1])]
    sums, quadrature = [], []
    for _ in range(repeats):
        bits = _flip(_ghz(n, shots, rng), a, b, rng)
        sums.append(weighted_sum(bits, terms, errors))
        z0, z1 = expectations(bits, [[0], [1]], errors)
        quadrature.append(math.hypot(z0.stderr, z1.stderr))
    values = np.array([s.value for s in sums])
    spread = float(values.std(ddof=1))
    tolerance = SIGMAS / math.sqrt(2 * (repeats - 1))
    assert abs(spread / np.mean([s.stderr for s in sums]) - 1) <= tolerance
    assert abs(values.mean()) <= SIGMAS * spread / math.sqrt(repeats)
    assert abs(spread / np.mean(quadrature) - 1) > tolerance
    shifted = weighted_sum(bits, terms, errors, constant=2.5)
    assert shifted == Estimate(sums[-1].value + 2.5, sums[-1].stderr)


def test_calibration_circuit_estimates_and_their_uncertainty() -> None:
    """Readout errors from all-0 / all-1 calibration circuits, uncertainty propagated.

    Each of 300 repeats samples fresh calibration circuits (400 shots each) and fresh GHZ-4
    data (20,000 shots). The estimated flip rates are within 4 of their binomial stderrs of
    the truth; the reported stderr of the mitigated ``Z0Z1Z2Z3`` (shot noise plus propagated
    calibration noise) matches the spread (4 sigma of a sample standard deviation). Broken
    variant caught: ignoring the calibration noise (shot noise alone, asserted below to miss).
    """
    n, shots, cal_shots, repeats = 4, 20_000, 400, 300
    a, b = np.array(A6[:n]), np.array(B6[:n])
    rng = np.random.default_rng(21)
    cols = [0, 1, 2, 3]
    values, reported, shot_only = [], [], []
    for k in range(repeats):
        zeros = _flip(np.zeros((cal_shots, n), np.uint8), a, b, rng)
        ones = _flip(np.ones((cal_shots, n), np.uint8), a, b, rng)
        errors = ReadoutErrors.from_bits(_qubits(n), zeros, ones)
        if k == 0:
            assert errors.source == "calibration circuits"
            assert errors.p1_given_0_stderr is not None and errors.p0_given_1_stderr is not None
            dev_a = np.abs(np.array(errors.p1_given_0) - a) / errors.p1_given_0_stderr
            dev_b = np.abs(np.array(errors.p0_given_1) - b) / errors.p0_given_1_stderr
            assert dev_a.max() <= SIGMAS and dev_b.max() <= SIGMAS
            # the swapped preparation (ones read as zeros) is far off
            wrong = ReadoutErrors.from_bits(_qubits(n), 1 - ones, 1 - zeros)
            assert np.abs(np.array(wrong.p1_given_0) - a).max() > SIGMAS * max(
                errors.p1_given_0_stderr
            )
        bits = _flip(_ghz(n, shots, rng), a, b, rng)
        est = expectation(bits, cols, errors)
        values.append(est.value)
        reported.append(est.stderr)
        shot_only.append(
            expectation(
                bits, cols, ReadoutErrors(_qubits(n), errors.p1_given_0, errors.p0_given_1)
            ).stderr
        )
    spread = float(np.std(values, ddof=1))
    tolerance = SIGMAS / math.sqrt(2 * (repeats - 1))
    assert abs(spread / np.mean(reported) - 1) <= tolerance
    assert abs(spread / np.mean(shot_only) - 1) > tolerance
    assert abs(np.mean(values) - 1.0) <= SIGMAS * spread / math.sqrt(repeats)


def test_from_counts_reads_the_keys_module_strings() -> None:
    """Counts strings from ``counts_from_bits`` (either order, grouped) parse back to bits.

    Checked once to fail with ``reverse`` ignored, and with the all-0 circuit's 0s counted
    as flips.
    """
    rng = np.random.default_rng(2)
    n = 5
    a, b = A6[:n], B6[:n]
    zeros = _flip(np.zeros((3_000, n), np.uint8), a, b, rng)
    ones = _flip(np.ones((3_000, n), np.uint8), a, b, rng)
    direct = ReadoutErrors.from_bits(_qubits(n), zeros, ones)
    for reverse, groups in [(True, None), (False, None), (True, [2, 3])]:
        zc = counts_from_bits(zeros, groups, reverse)
        oc = counts_from_bits(ones, groups, reverse)
        parsed = ReadoutErrors.from_counts(_qubits(n), zc, oc, reverse=reverse)
        assert parsed.p1_given_0 == pytest.approx(direct.p1_given_0, abs=1e-15)
        assert parsed.p0_given_1 == pytest.approx(direct.p0_given_1, abs=1e-15)


@settings(max_examples=50, deadline=None)
@given(
    bits=st.lists(st.lists(st.integers(0, 1), min_size=3, max_size=3), min_size=1, max_size=30),
    reverse=st.booleans(),
)
def test_bits_from_counts_inverts_counts_from_bits(bits: list[list[int]], reverse: bool) -> None:
    """Round trip through strings; checked once to fail with ``reverse`` ignored."""
    arr = np.array(bits, dtype=np.uint8)
    rows, weights = bits_from_counts(counts_from_bits(arr, [1, 2], reverse), reverse=reverse)
    got = sorted(
        tuple(r) for r, w in zip(rows.tolist(), weights.tolist(), strict=True) for _ in range(w)
    )
    assert got == sorted(tuple(r) for r in bits)


def test_server_metrics_and_fidelities() -> None:
    metrics = {
        "metrics.ssro.measure.constant.QB1.error_0_to_1": 0.01,
        "metrics.ssro.measure.constant.QB1.error_1_to_0": 0.04,
        "metrics.ssro.measure.constant.QB1.fidelity": 0.975,
        "metrics.ssro.measure.constant.QB2.fidelity": 0.97,
    }
    errors = ReadoutErrors.from_quality_metrics(metrics, ["QB2", "QB1"])
    assert errors.qubits == ("QB2", "QB1")
    assert errors.p1_given_0 == pytest.approx((0.03, 0.01))
    assert errors.p0_given_1 == pytest.approx((0.03, 0.04))
    assert errors.source == "calibration"
    sym = ReadoutErrors.from_fidelity({"QB1": 0.95, "QB2": 0.99})
    assert sym.p1_given_0 == pytest.approx((0.05, 0.01)) and sym.p0_given_1 == sym.p1_given_0
    with pytest.raises(ReadoutCalibrationError, match="QB3"):
        ReadoutErrors.from_quality_metrics(metrics, ["QB3"])
    with pytest.raises(ReadoutCalibrationError, match="QB2"):
        ReadoutErrors.from_fidelity({"QB1": 0.9, "QB2": 0.4})
    sub = errors.subset(["QB1"])
    assert sub.qubits == ("QB1",) and sub.p0_given_1 == (0.04,)
    with pytest.raises(ReadoutCalibrationError, match="QB9"):
        errors.subset(["QB9"])
    m = errors.confusion_matrices()
    assert m.shape == (2, 2, 2)
    np.testing.assert_allclose(m[1], [[0.99, 0.04], [0.01, 0.96]])
    np.testing.assert_allclose(m.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"p1_given_0": (0.1, 0.5)}, "QB2"),
        ({"p1_given_0": (-0.01, 0.1)}, "QB1"),
        ({"p0_given_1": (0.1, float("nan"))}, "QB2"),
        ({"p1_given_0": (0.1, 0.4999999), "p0_given_1": (0.1, 0.4999999)}, "QB2.*singular"),
        ({"p1_given_0": (0.1,)}, "1 entries for 2"),
        ({"qubits": ("QB1", "QB1")}, "QB1.*twice"),
        ({"p1_given_0_stderr": (0.01, -1.0)}, "QB2"),
    ],
)
def test_invalid_readout_errors_name_the_qubit(kwargs: dict, match: str) -> None:  # type: ignore[type-arg]
    args = {"qubits": ("QB1", "QB2"), "p1_given_0": (0.1, 0.1), "p0_given_1": (0.1, 0.1)}
    args.update(kwargs)
    with pytest.raises(ReadoutCalibrationError, match=match) as info:
        ReadoutErrors(**args)
    assert isinstance(info.value, ConfigurationError)


def test_bad_inputs_raise_named_errors() -> None:
    errors = ReadoutErrors(_qubits(3), (0.1,) * 3, (0.1,) * 3)
    good = np.array([[0, 1, 1], [1, 0, 0]], dtype=np.uint8)
    cases = [
        (lambda: expectation(good[:, :2], [0], errors), "2 column.*3 qubit"),
        (lambda: expectation(good * 2, [0], errors), "other than 0 and 1"),
        (lambda: expectation(good.astype(float), [0], errors), "dtype"),
        (lambda: expectation(good[0], [0], errors), "shape"),
        (lambda: expectation(good, [3], errors), "column 3"),
        (lambda: expectation(good, [1, 1], errors), "repeat"),
        (lambda: expectation(good[:1], [0], errors), "at least 2 shots"),
        (lambda: expectation(good, [0], errors, weights=[1]), "2 integer counts"),
        (lambda: expectation(good, [0], errors, weights=[1, -1]), "negative"),
        (lambda: expectation(good, [0], errors, weights=[0, 0]), "no shots"),
        (lambda: weighted_sum(good, [(math.inf, [0])], errors), "not finite"),
        (lambda: bits_from_counts({}), "empty"),
        (lambda: bits_from_counts({"01": 1, "011": 2}), "'011'"),
        (lambda: bits_from_counts({"01": 1, "0x": 2}), "'0x'"),
        (lambda: bits_from_counts({"01": -1}), "negative"),
        (lambda: bits_from_counts({"01": 0.5}), "not an integer"),
        (lambda: bits_from_counts({1: 3}), "not a bitstring"),  # type: ignore[dict-item]
        (lambda: quasi_distribution(good, errors, method="lu"), "method='lu'"),  # type: ignore[arg-type]
        (lambda: quasi_distribution(good, errors, distance=-1), "distance=-1"),
        (lambda: quasi_distribution(good, errors, groups=[1, 1]), "groups"),
    ]
    for call, match in cases:
        with pytest.raises(MitigationInputError, match=match) as info:
            call()
        assert isinstance(info.value, IQMBridgeError)
        assert isinstance(info.value, ValueError)


def test_perfect_readout_changes_nothing() -> None:
    """Zero error probabilities: mitigated equals raw, quasi-probabilities are frequencies.

    The log of a zero probability is clipped, not NaN. Checked once to fail with the
    quasi-distribution's bitstrings written in the other order.
    """
    rng = np.random.default_rng(4)
    bits = rng.integers(0, 2, (3_000, 4), dtype=np.uint8)
    errors = ReadoutErrors(_qubits(4), (0.0,) * 4, (0.0,) * 4)
    for cols in ([0], [1, 2], [0, 1, 2, 3]):
        mit, raw = expectation(bits, cols, errors), expectation(bits, cols, None)
        assert mit.value == pytest.approx(raw.value, abs=1e-12)
        assert mit.stderr == pytest.approx(raw.stderr, abs=1e-12)
    quasi = quasi_distribution(bits, errors, distance=None, reverse=False)
    freq = counts_from_bits(bits, reverse=False)
    for key, value in quasi.as_dict().items():
        assert value == pytest.approx(freq[key] / 3_000, abs=1e-12)


# ------------------------------------------------------------------- quasi-probabilities


def test_quasi_distribution_matches_exact_distribution_within_error_bars() -> None:
    """GHZ-3, 40,000 shots: every quasi-probability within 4 of its exact stderr of truth.

    All 8 bitstrings are observed, so the subspace is the whole space and the solve is exact
    in expectation. Broken variant caught: swapped p1_given_0/p0_given_1 (asserted to miss).
    """
    rng = np.random.default_rng(17)
    a, b = (0.03, 0.06, 0.02), (0.12, 0.08, 0.15)
    bits = _flip(_ghz(3, 40_000, rng), a, b, rng)
    errors = ReadoutErrors(_qubits(3), a, b)
    exact = {"000": 0.5, "111": 0.5}
    quasi = quasi_distribution(bits, errors, distance=None)
    assert quasi.method == "direct" and quasi.stderr_kind == "exact"
    assert quasi.distance is None and quasi.shots == 40_000 and quasi.source == "calibration"
    assert len(quasi.bitstrings) == 8
    assert float(quasi.values.sum()) == pytest.approx(1.0, abs=1e-12)
    errs = quasi.standard_errors()
    for key, value in quasi.as_dict().items():
        assert abs(value - exact.get(key, 0.0)) <= SIGMAS * errs[key], key
    wrong = quasi_distribution(bits, _swapped(errors), distance=None)
    werrs = wrong.standard_errors()
    assert any(abs(v - exact.get(k, 0.0)) > SIGMAS * werrs[k] for k, v in wrong.as_dict().items())
    # the iterative solve agrees with the direct one; its common stderr is a valid bound
    iterative = quasi_distribution(bits, errors, distance=None, method="iterative")
    assert iterative.method == "iterative" and iterative.stderr_kind == "bound"
    assert iterative.bitstrings == quasi.bitstrings
    np.testing.assert_allclose(iterative.values, quasi.values, atol=1e-9)
    assert np.all(iterative.stderrs >= quasi.stderrs)
    assert iterative.gamma >= quasi.gamma


def test_quasi_stderrs_match_repeated_experiments() -> None:
    """600 repeats of GHZ-2 with 1,000 shots: per-bitstring spread equals the reported stderr.

    Tolerance 4 sigma of a sample standard deviation of 600 values (relative 1/sqrt(1198),
    so 11.6%).
    The expectation of ``Z0 Z1`` from the quasi-distribution is checked the same way. Broken
    variant caught: multinomial errors of the raw frequencies, ``sqrt(p (1 - p)/shots)``,
    which ignore the amplification by the inverse (asserted to miss for ``00``); checked
    once to fail on the variance without its ``- x^2`` term (19% too large).
    """
    a, b = (0.05, 0.08), (0.15, 0.12)
    errors = ReadoutErrors(_qubits(2), a, b)
    rng = np.random.default_rng(9)
    repeats, shots = 600, 1_000
    values, stderrs, naive, zz, zz_err = [], [], [], [], []
    for _ in range(repeats):
        quasi = quasi_distribution(_flip(_ghz(2, shots, rng), a, b, rng), errors, distance=None)
        d, e = quasi.as_dict(), quasi.standard_errors()
        values.append([d["00"], d["11"], d["01"]])
        stderrs.append([e["00"], e["11"], e["01"]])
        naive.append(math.sqrt(d["00"] * (1 - d["00"]) / shots))
        est = quasi.expectation([0, 1])
        zz.append(est.value)
        zz_err.append(est.stderr)
    spread = np.std(values, axis=0, ddof=1)
    tolerance = SIGMAS / math.sqrt(2 * (repeats - 1))
    np.testing.assert_array_less(np.abs(spread / np.mean(stderrs, axis=0) - 1), tolerance)
    assert abs(spread[0] / np.mean(naive) - 1) > tolerance
    assert abs(np.std(zz, ddof=1) / np.mean(zz_err) - 1) <= tolerance
    assert abs(np.mean(zz) - 1.0) <= SIGMAS * np.std(zz, ddof=1) / math.sqrt(repeats)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_full_subspace_equals_the_tensored_inverse(n: int, seed: int) -> None:
    """With every bitstring observed and no cut-off, the subspace solve IS ``A^-1 p``.

    Then its expectations equal the tensored per-shot estimator's, value and stderr (1e-9).
    Checked once to fail with the confusion matrix transposed, and with the bitstrings
    written in the other order.
    """
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.0, 0.2, n), rng.uniform(0.0, 0.2, n)
    errors = ReadoutErrors(_qubits(n), a, b)
    rows = np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.uint8)
    weights = rng.integers(1, 1000, rows.shape[0])
    quasi = quasi_distribution(rows, errors, weights=weights, distance=None, reverse=False)
    full = np.array([[1.0]])
    for m in errors.confusion_matrices():
        full = np.kron(full, m)
    expected = np.linalg.solve(full, weights / weights.sum())
    got = quasi.as_dict()
    for row, value in zip(rows, expected, strict=True):
        assert got["".join(map(str, row))] == pytest.approx(value, abs=1e-9)
    for size in range(1, n + 1):
        cols = list(range(size))
        tensored = expectation(rows, cols, errors, weights=weights)
        subspace = quasi.expectation(cols)
        assert subspace.value == pytest.approx(tensored.value, abs=1e-9)
        assert subspace.stderr == pytest.approx(tensored.stderr, abs=1e-9)


def test_subspace_with_cutoff_matches_mthree() -> None:
    """GHZ-10 with distance 3: our M3-style solve equals mthree's on the same counts.

    mthree (float32 internally) is the reference implementation of the method; agreement to
    2e-5 on every quasi-probability. Checked once to fail with ``distance`` read as strict,
    without the column renormalisation, and with the counts strings parsed in the other order.
    """
    mthree = pytest.importorskip("mthree")
    rng = np.random.default_rng(6)
    n = 10
    a, b = rng.uniform(0.01, 0.06, n), rng.uniform(0.02, 0.10, n)
    errors = ReadoutErrors(_qubits(n), a, b)
    bits = _flip(_ghz(n, 20_000, rng), a, b, rng)
    counts = counts_from_bits(bits)
    rows, weights = bits_from_counts(counts)
    ours = quasi_distribution(rows, errors, weights=weights, distance=3).as_dict()
    mit = mthree.M3Mitigation()
    mit.cals_from_matrices(list(errors.confusion_matrices()))
    theirs = mit.apply_correction(counts, list(range(n)), distance=3, method="direct")
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, abs=2e-5), key


def test_large_and_wide_inputs_take_the_iterative_and_byte_key_paths() -> None:
    """70 bits (beyond one machine word) and > 1024 distinct strings: iterative, still right.

    GHZ-70 with 1-2% flips and 6,000 shots: ``Z0 Z69`` and ``Z0 ... Z69`` within 4 sigma of 1
    from the tensored estimator, the quasi-probabilities sum to 1 and put their mass on
    all-0 and all-1 within 4 sigma of 0.5 (sigma the reported bound). Checked once to fail
    without the column renormalisation (the truncated columns then leak probability).
    """
    rng = np.random.default_rng(12)
    n = 70
    a, b = rng.uniform(0.005, 0.015, n), rng.uniform(0.005, 0.02, n)
    errors = ReadoutErrors(_qubits(n), a, b)
    bits = _flip(_ghz(n, 6_000, rng), a, b, rng)
    for cols in ([0, 69], list(range(70))):
        assert _within(expectation(bits, cols, errors), 1.0)
    quasi = quasi_distribution(bits, errors, distance=2)
    assert quasi.method == "iterative" and len(quasi.bitstrings) > 1024
    assert float(quasi.values.sum()) == pytest.approx(1.0, abs=1e-8)
    d, e = quasi.as_dict(), quasi.standard_errors()
    for key in ("0" * n, "1" * n):
        assert abs(d[key] - 0.5) <= SIGMAS * e[key]


def test_bitstring_order_follows_the_keys_module() -> None:
    """Same strings as ``counts_from_bits``; checked once to fail with the order flipped."""
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, (500, 5), dtype=np.uint8)
    errors = ReadoutErrors(_qubits(5), (0.02,) * 5, (0.03,) * 5)
    for reverse, groups in [(True, None), (False, None), (True, [2, 3]), (False, [1, 4])]:
        for sep in ("|", " \u2502 "):
            quasi = quasi_distribution(bits, errors, reverse=reverse, groups=groups, separator=sep)
            assert set(quasi.bitstrings) == set(counts_from_bits(bits, groups, reverse, sep))


def test_nearest_probability_distribution_is_the_simplex_projection() -> None:
    """Few shots and large errors give negative quasi-probabilities; the projection fixes it.

    The result is a distribution (non-negative, sums to 1) and the Euclidean projection:
    every kept entry is the quasi-probability minus one common shift, every dropped one is at
    most that shift (the optimality conditions). Checked once to fail on clipping negatives
    and renormalising instead of one common shift.
    """
    rng = np.random.default_rng(13)
    a, b = (0.1, 0.15, 0.2), (0.2, 0.25, 0.15)
    bits = _flip(_ghz(3, 200, rng), a, b, rng)
    quasi = quasi_distribution(bits, ReadoutErrors(_qubits(3), a, b), distance=None)
    assert quasi.values.min() < 0
    probs = quasi.nearest_probability_distribution()
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-12)
    assert min(probs.values()) > 0
    raw = quasi.as_dict()
    shifts = {raw[k] - p for k, p in probs.items()}
    shift = next(iter(shifts))
    assert max(shifts) - min(shifts) < 1e-12
    assert all(raw[k] <= shift + 1e-12 for k in raw if k not in probs)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-0.5, 1.0), min_size=1, max_size=12))
def test_projection_of_any_vector_summing_to_one(values: list[float]) -> None:
    """No vertex of the simplex is nearer than the projection (fails on clip-and-rescale)."""
    from iqm_bridge.core.mitigation import _simplex_projection

    x = np.array(values)
    x += (1.0 - x.sum()) / x.size
    p = _simplex_projection(x)
    assert p.min() >= 0 and p.sum() == pytest.approx(1.0)
    # no distribution is closer: compare with the other vertices of the simplex and x itself
    if x.min() >= 0:
        np.testing.assert_allclose(p, x, atol=1e-12)
    for vertex in np.eye(x.size):
        assert np.linalg.norm(x - p) <= np.linalg.norm(x - vertex) + 1e-12


def test_iterative_error_bound_when_not_diagonally_dominant() -> None:
    """Large errors on 8 qubits: the subspace matrix is not diagonally dominant.

    Then Varah's bound does not apply and ``gamma`` is estimated (``"estimate"``); the
    estimator (Higham and Tisseur's) never exceeds the true 1-norm, which the direct method
    computes from the explicit inverse, and is usually equal to it.
    """
    rng = np.random.default_rng(14)
    n = 8
    a, b = rng.uniform(0.08, 0.12, n), rng.uniform(0.10, 0.15, n)
    errors = ReadoutErrors(_qubits(n), a, b)
    bits = _flip(_ghz(n, 5_000, rng), a, b, rng)
    direct = quasi_distribution(bits, errors, distance=None, method="direct")
    iterative = quasi_distribution(bits, errors, distance=None, method="iterative")
    np.testing.assert_allclose(iterative.values, direct.values, atol=1e-8)
    assert iterative.stderr_kind == "estimate"
    assert 0.3 * direct.gamma <= iterative.gamma <= direct.gamma * (1 + 1e-9)
    assert iterative.stderrs[0] == pytest.approx(iterative.gamma / math.sqrt(5_000))

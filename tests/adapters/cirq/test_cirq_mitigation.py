"""Readout-error mitigation from the Cirq sampler, against the emulator's real readout noise.

The emulator serves asymmetric readout errors with its calibration and simulates them, along
with gate and idle noise. The reference for "readout error switched off" is the same circuit
on the same emulator with ``metadata["emulator_noise"] = {"readout": False}`` on every circuit
it runs (gates and idling stay noisy).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import cirq
import numpy as np
import pytest
from _readout import GARNET_CHAIN, readout_off

from iqm_bridge.adapters.cirq import IQMSampler

CHAIN = GARNET_CHAIN


@pytest.fixture(scope="module")
def noisy_url() -> Iterator[str]:
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=True, seed=4242) as url:
        yield url


def _readout_off(sampler: IQMSampler) -> IQMSampler:
    readout_off(sampler.connection)
    return sampler


def _ghz() -> cirq.Circuit:
    qubits = [cirq.NamedQubit(q) for q in CHAIN]
    ops: list[cirq.Operation] = [cirq.H(qubits[0])]
    ops += [cirq.CNOT(a, b) for a, b in zip(qubits, qubits[1:], strict=False)]
    return cirq.Circuit(ops, cirq.measure(*qubits, key="m"))


@pytest.mark.slow
@pytest.mark.parametrize("source", ["readout", "circuits"])
def test_ghz10_parity_mitigated_matches_readout_free(noisy_url: str, source: str) -> None:
    """A 10-qubit GHZ parity <Z...Z> from ``IQMResult.expectation``: mitigated within 4 sigma
    of the readout-free value, raw outside that band.

    Sigma combines the two estimates' standard errors (each the sample standard deviation of
    its per-shot estimator over sqrt(shots), as ``core.mitigation`` reports it, calibration
    uncertainty included for ``circuits``). Raw readout scales the parity by
    prod(1 - p10 - p01), about 0.6 on this chain, far outside the band; with mitigation
    switched off (``mitigated=False``) the first check fails.
    """
    shots = 6000
    mitigated = IQMSampler(noisy_url, mitigation=source).run(_ghz(), repetitions=shots)
    reference = _readout_off(IQMSampler(noisy_url)).run(_ghz(), repetitions=shots)
    est_m = mitigated.expectation("m")
    est_r = mitigated.expectation("m", mitigated=False)
    ref = reference.expectation("m", mitigated=False)
    assert mitigated.readout is not None
    assert mitigated.readout["m"].source == (
        "calibration" if source == "readout" else "calibration circuits"
    )
    band = 4 * math.hypot(est_m.stderr, ref.stderr)
    assert abs(est_m.value - ref.value) < band, (est_m, ref)
    assert abs(est_r.value - ref.value) > 4 * math.hypot(est_r.stderr, ref.stderr) + band


def test_histograms_and_expectation_values_are_mitigated(noisy_url: str) -> None:
    """A prepared |1> on one qubit: the raw histogram leaks to 0 by P(0|1); the mitigated
    quasi-histogram puts weight 1 on outcome 1 within 4 sigma (sigma from the binomial
    statistics of the measured shots through the inverse confusion matrix), and
    ``sample_expectation_values`` gives <Z> = -1 mitigated, within 4 sigma."""
    shots = 4000
    q = cirq.NamedQubit("QB1")
    sampler = IQMSampler(noisy_url, mitigation="readout")
    result = sampler.run(cirq.Circuit(cirq.X(q), cirq.measure(q, key="m")), repetitions=shots)
    errors = result.readout["m"]
    p01, p10 = errors.p0_given_1[0], errors.p1_given_0[0]
    raw_zeros = result.histogram(key="m").get(0, 0) / shots
    assert raw_zeros > 0  # readout error is there
    quasi = result.quasi_histogram("m")
    sigma = math.sqrt(p01 * (1 - p01) / shots) / (1 - p01 - p10)
    assert abs(quasi.get(1, 0.0) - 1.0) < 4 * sigma + 1e-3  # gate error on one X is ~1e-3
    (values,) = sampler.sample_expectation_values(
        cirq.Circuit(cirq.X(q)), cirq.Z(q), num_samples=shots
    )
    assert abs(values[0] + 1.0) < 8 * sigma + 2e-3
    with pytest.raises(ValueError, match="mitigation='readout'"):
        IQMSampler(noisy_url).run(cirq.Circuit(cirq.measure(q, key="m"))).expectation("m")
    assert np.isclose(sum(quasi.values()), 1.0)

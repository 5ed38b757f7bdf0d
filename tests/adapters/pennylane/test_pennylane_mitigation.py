"""Readout mitigation on the "iqm" PennyLane device, on the emulated garnet with noise on.

The emulator serves asymmetric readout errors with its calibration and simulates them, along
with gate and idle noise. The reference for "readout error switched off" is the same circuit on
the same emulator with ``metadata["emulator_noise"] = {"readout": False}`` stamped on every
native circuit (gates and idling stay noisy), so mitigated and reference values share the gate
noise and differ only by shot noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

qml = pytest.importorskip("pennylane")
from _readout import GARNET_CHAIN, readout_off  # noqa: E402
from pennylane import numpy as pnp  # noqa: E402

from iqm_bridge.adapters.pennylane import IQMDevice  # noqa: E402
from iqm_bridge.core import Mitigation  # noqa: E402
from iqm_bridge.core.errors import ConfigurationError  # noqa: E402
from iqm_bridge.core.mitigation import ReadoutErrors, expectation  # noqa: E402
from iqm_bridge.core.readout import served_errors  # noqa: E402

CHAIN = GARNET_CHAIN


@pytest.fixture(scope="module")
def noisy_url() -> Iterator[str]:
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=True, seed=20260) as url:
        yield url


def _readout_off(dev: IQMDevice) -> IQMDevice:
    readout_off(dev.connection)
    return dev


def _errors(dev: IQMDevice, qubits: tuple[str, ...]) -> ReadoutErrors:
    return served_errors(dev.connection.device.calibration, qubits)


def _weight_bound(errors: ReadoutErrors) -> float:
    """The largest magnitude a per-shot mitigated Z-string weight can take on these qubits."""
    a = np.asarray(errors.p1_given_0)
    b = np.asarray(errors.p0_given_1)
    return float(np.prod((1 + np.abs(a - b)) / (1 - a - b)))


# ----------------------------------------------------------------------------- the option


def test_mitigation_option_is_validated_and_reported(emulator_url: str) -> None:
    assert IQMDevice(wires=1, url=emulator_url).mitigation is None
    assert IQMDevice(wires=1, url=emulator_url, mitigation="readout").mitigation == Mitigation()
    dev = qml.device("iqm", wires=1, url=emulator_url, mitigation="circuits")
    assert dev.mitigation == Mitigation("circuits")
    with pytest.raises(ConfigurationError, match="'sometimes'"):
        IQMDevice(wires=1, url=emulator_url, mitigation="sometimes")
    with pytest.raises(ConfigurationError, match="mitigation=3"):
        IQMDevice(wires=1, url=emulator_url, mitigation=3)


def test_expval_is_mitigated_samples_and_counts_stay_raw(emulator_url: str) -> None:
    """On the noise-free emulator every |1> reads 1 while the served calibration still claims
    readout errors, so the mitigated <Z> is exactly the qubit's weight for a read 1,
    -(1 - p10 + p01) / (1 - p10 - p01), in one tape with samples and counts that stay the raw
    bits. Fails if the mitigation were skipped (the value would be -1.0)."""
    dev = IQMDevice(wires=1, url=emulator_url, mitigation="calibration", placement={0: "QB3"})

    @qml.qnode(dev, shots=50)
    def circuit() -> Any:
        qml.PauliX(0)
        return qml.expval(qml.Z(0)), qml.sample(wires=[0]), qml.counts(wires=[0])

    value, samples, counts = circuit()
    (a,), (b,) = _errors(dev, ("QB3",)).p1_given_0, _errors(dev, ("QB3",)).p0_given_1
    assert value == pytest.approx(-(1 - a + b) / (1 - a - b))
    assert (samples == 1).all()
    assert dict(counts) == {"1": 50}


# ------------------------------------------------------------------------- GHZ-10 parity


@pytest.mark.slow
@pytest.mark.parametrize("source", ["readout", "circuits"])
def test_ghz10_parity_mitigated_matches_readout_free(noisy_url: str, source: str) -> None:
    """A 10-qubit GHZ parity <Z...Z>: mitigated within 4 sigma of the readout-free value, raw
    outside that band.

    Sigma is the quadrature sum of the two estimates' standard errors, each the sample standard
    deviation of its per-shot estimator over sqrt(shots) (computed on the very shots by
    ``core.mitigation.expectation``, whose value must equal the device's). Raw readout scales
    the parity by prod(1 - p10 - p01), about 0.6 here, far outside the band; without the
    mitigation (results raw) this test fails.
    """
    shots = 6000
    n = len(CHAIN)
    placement = dict(enumerate(CHAIN))

    def ghz() -> Any:
        qml.Hadamard(0)
        for i in range(n - 1):
            qml.CNOT([i, i + 1])
        return qml.expval(qml.prod(*[qml.Z(i) for i in range(n)])), qml.sample(wires=range(n))

    mitigated = IQMDevice(wires=n, url=noisy_url, placement=placement, mitigation=source)
    raw = IQMDevice(wires=n, url=noisy_url, placement=placement)
    reference = _readout_off(IQMDevice(wires=n, url=noisy_url, placement=placement))
    value_m, bits_m = qml.set_shots(qml.QNode(ghz, mitigated), shots=shots)()
    value_r, bits_r = qml.set_shots(qml.QNode(ghz, raw), shots=shots)()
    value_0, bits_0 = qml.set_shots(qml.QNode(ghz, reference), shots=shots)()

    cols = list(range(n))
    ref = expectation(bits_0, cols, None)
    assert value_0 == pytest.approx(ref.value)
    est_r = expectation(bits_r, cols, None)
    assert value_r == pytest.approx(est_r.value)
    served = _errors(mitigated, CHAIN)
    if source == "readout":  # the served calibration: the estimator on the same shots
        est_m = expectation(bits_m, cols, served)
        assert value_m == pytest.approx(est_m.value, abs=1e-12)
    else:  # errors estimated from two calibration circuits of `shots` shots each: their
        # binomial errors propagate into the estimate (core adds them to its stderr)
        a, b = np.asarray(served.p1_given_0), np.asarray(served.p0_given_1)
        with_cal = ReadoutErrors(
            CHAIN,
            a,
            b,
            "calibration circuits",
            np.sqrt(a * (1 - a) / shots),
            np.sqrt(b * (1 - b) / shots),
        )
        est_m = expectation(bits_m, cols, with_cal)
    sigma_m = est_m.stderr
    band = 4 * math.hypot(sigma_m, ref.stderr)
    assert abs(value_m - value_0) < band, (value_m, value_0, band)
    assert abs(value_r - value_0) > 4 * math.hypot(est_r.stderr, ref.stderr) + band


# ------------------------------------------------------------------------------ gradients


@pytest.mark.parametrize("diff_method", ["device", "parameter-shift"])
def test_gradients_are_mitigated(noisy_url: str, diff_method: str) -> None:
    """The parameter-shift gradient of <Z0 Z1> (shifted tapes run through the same mitigated
    path) matches the readout-free gradient within 4 sigma; the raw one is outside.

    Each gradient entry is (f(+) - f(-)) / 2 of two independent estimates; a mitigated per-shot
    value is bounded by B (the product of the largest weight magnitudes), a raw one by 1, so
    sigma <= sqrt(2) / 2 * B / sqrt(shots). Raw readout shrinks the gradient by about 12% on
    QB1/QB2 (0.066 of -0.54 here, three bands); with the mitigation dropped from the shifted
    tapes this test fails.
    """
    shots = 40000
    placement = {0: "QB1", 1: "QB2"}

    def cost(w: Any) -> Any:
        qml.RY(w[0], wires=0)
        qml.RY(w[1], wires=1)
        return qml.expval(qml.Z(0) @ qml.Z(1))

    w = pnp.array([0.6, 0.3], requires_grad=True)
    devices = {
        "mitigated": IQMDevice(wires=2, url=noisy_url, placement=placement, mitigation=True),
        "raw": IQMDevice(wires=2, url=noisy_url, placement=placement),
        "reference": _readout_off(IQMDevice(wires=2, url=noisy_url, placement=placement)),
    }
    grads = {
        name: qml.grad(qml.QNode(cost, d, diff_method=diff_method, shots=shots))(w)
        for name, d in devices.items()
    }
    bound = _weight_bound(_errors(devices["mitigated"], ("QB1", "QB2")))
    sigma_m = math.sqrt(2) / 2 * bound / math.sqrt(shots)
    sigma_0 = math.sqrt(2) / 2 / math.sqrt(shots)
    band = 4 * math.hypot(sigma_m, sigma_0)
    assert np.abs(grads["mitigated"] - grads["reference"]).max() < band
    assert abs(grads["raw"][0] - grads["reference"][0]) > band

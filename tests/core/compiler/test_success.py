"""The estimated success probability: gates, readout and idling, scored from the calibration."""

from __future__ import annotations

import math

import pytest
from _devices import lattice_device, star_device

from iqm_bridge.core.compiler import compile
from iqm_bridge.core.compiler.success import (
    DEFAULT_FIDELITY,
    estimated_success,
    idle_error,
    idle_times,
    log_success,
)
from iqm_bridge.core.device import Calibration, Device
from iqm_bridge.core.ir import Barrier, Circuit, Delay, Gate, Measure

T1 = {"QB1": 40e-6, "QB2": 30e-6, "QB4": 50e-6}
T2 = {"QB1": 20e-6, "QB2": 10e-6, "QB4": 25e-6}


def _with_coherence(device: Device) -> Device:
    cal = device.calibration
    assert cal is not None
    return Device(
        device.name,
        device.qubits,
        device.resonators,
        device.gates,
        device.calibration_set_id,
        Calibration(
            prx_fidelity=cal.prx_fidelity,
            cz_fidelity=cal.cz_fidelity,
            readout_fidelity=cal.readout_fidelity,
            t1=T1,
            t2=T2,
            move_fidelity=cal.move_fidelity,
        ),
    )


LATTICE = _with_coherence(lattice_device())


def _cz_fid(device: Device, a: str, b: str) -> float:
    cal = device.calibration
    assert cal is not None
    return cal.cz_fidelity.get((a, b), cal.cz_fidelity.get((b, a), 0.0))


def test_estimate_is_the_product_of_gates_readout_and_idling() -> None:
    """Every factor by hand. Fails if idling, a readout or a gate is left out (each would
    change the product by more than the tolerance: checked by dropping the idle term)."""
    cal = LATTICE.calibration
    assert cal is not None
    ops = (
        Gate("prx", ("QB2",), (0.3, 0.0)),  # QB2 then waits 20 ns for QB1's second pulse
        Gate("prx", ("QB1",), (0.5, 0.1)),
        Gate("prx", ("QB1",), (0.5, 0.2)),
        Gate("cz", ("QB1", "QB2")),
        Measure(("QB1", "QB2"), "m"),
    )
    circuit = Circuit(("QB1", "QB2"), ops)
    gates = cal.prx_fidelity["QB2"] * cal.prx_fidelity["QB1"] ** 2 * _cz_fid(LATTICE, "QB1", "QB2")
    readout = cal.readout_fidelity["QB1"] * cal.readout_fidelity["QB2"]
    idle = 1.0 - idle_error(20e-9, T1["QB2"], T2["QB2"])
    assert idle < 1.0
    assert idle_times(circuit, LATTICE) == pytest.approx({"QB1": 0.0, "QB2": 20e-9})
    want = gates * readout * idle
    assert estimated_success(circuit, LATTICE) == pytest.approx(want, rel=1e-12)
    assert log_success(circuit, LATTICE) == pytest.approx(-math.log(want), rel=1e-12)
    # the idle factor alone is larger than the tolerance above
    assert abs(gates * readout - want) > 1e-9


def test_idle_error_follows_thermal_relaxation() -> None:
    t = 1e-6
    assert idle_error(t, 40e-6, 20e-6) == pytest.approx(
        (1 - math.exp(-t / 40e-6)) / 4 + (1 - math.exp(-t / 20e-6)) / 2
    )
    assert idle_error(t, None, 20e-6) == 0.0
    assert idle_error(0.0, 40e-6, 20e-6) == 0.0


def test_barriers_and_delays_make_idle_time() -> None:
    ops = (
        Gate("prx", ("QB1",), (0.5, 0.0)),
        Gate("prx", ("QB1",), (0.5, 0.0)),
        Gate("prx", ("QB2",), (0.5, 0.0)),
        Barrier(("QB1", "QB2")),
        Delay(("QB4",), 1e-6),
        Gate("prx", ("QB4",), (0.5, 0.0)),
        Gate("prx", ("QB2",), (0.5, 0.0)),
    )
    idle = idle_times(Circuit(("QB1", "QB2", "QB4"), ops), LATTICE)
    # QB2 finished at 20 ns but the barrier holds it until QB1 is done at 40 ns
    assert idle["QB2"] == pytest.approx(20e-9)
    assert idle["QB4"] == pytest.approx(1e-6)
    assert idle["QB1"] == 0.0


def test_uncalibrated_device_scores_with_the_documented_defaults() -> None:
    device = lattice_device(calibrated=False)
    ops = (
        Gate("prx", ("QB1",), (0.5, 0.0)),
        Gate("cz", ("QB1", "QB2")),
        Measure(("QB1", "QB2"), "m"),
    )
    want = DEFAULT_FIDELITY["prx"] * DEFAULT_FIDELITY["cz"] * DEFAULT_FIDELITY["measure"] ** 2
    assert estimated_success(Circuit(("QB1", "QB2"), ops), device) == pytest.approx(want)


def test_a_qubit_parked_in_the_resonator_does_not_idle() -> None:
    """Between the two MOVEs the qubit is empty; only the wait before the first counts."""
    star = star_device()
    cal = star.calibration
    assert cal is not None
    t1, t2 = {"QB1": 40e-6, "QB2": 30e-6}, {"QB1": 20e-6, "QB2": 10e-6}
    device = Device(
        star.name,
        star.qubits,
        star.resonators,
        star.gates,
        star.calibration_set_id,
        Calibration(
            prx_fidelity=cal.prx_fidelity,
            cz_fidelity=cal.cz_fidelity,
            readout_fidelity=cal.readout_fidelity,
            t1=t1,
            t2=t2,
        ),
    )
    ops = (
        Gate("prx", ("QB1",), (0.5, 0.0)),
        Gate("prx", ("QB2",), (0.5, 0.0)),
        Gate("move", ("QB2", "CR1")),
        Gate("prx", ("QB1",), (0.5, 0.0)),
        Gate("prx", ("QB1",), (0.5, 0.0)),
        Gate("prx", ("QB1",), (0.5, 0.0)),
        Gate("cz", ("QB1", "CR1")),
        Gate("move", ("QB2", "CR1")),
    )
    idle = idle_times(Circuit(("QB1", "QB2", "CR1"), ops), device)
    # QB2 is parked from 100 ns (end of its first MOVE) to 140 ns (the cz ends, the second
    # MOVE starts): no idling at all; QB1 waits from 80 ns to 100 ns for the resonator
    assert idle["QB2"] == pytest.approx(0.0, abs=1e-15)
    assert idle["QB1"] == pytest.approx(20e-9)
    assert "CR1" not in idle


def test_report_states_the_estimate_of_the_result() -> None:
    circuit = Circuit.from_operations(
        [Gate("h", ("a",)), Gate("cx", ("a", "b")), Gate("cx", ("a", "c")), Measure("abc", "m")]
    )
    result = compile(circuit, LATTICE)
    assert result.report.estimated_success == pytest.approx(
        estimated_success(result.circuit, LATTICE)
    )
    assert 0.0 < result.report.estimated_success < 1.0

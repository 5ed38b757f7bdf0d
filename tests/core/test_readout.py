"""The door's side of readout mitigation: which qubit each result column read, and its errors."""

from __future__ import annotations

import math

import pytest

from iqm_bridge.core import (
    Calibration,
    Circuit,
    ConfigurationError,
    Gate,
    KeyMap,
    Measure,
    Mitigation,
    Register,
)
from iqm_bridge.core.mitigation import ReadoutCalibrationError
from iqm_bridge.core.readout import (
    calibration_circuits,
    column_errors,
    column_qubits,
    measured_union,
    served_errors,
)


def test_columns_follow_registers_and_the_last_write() -> None:
    a, b = Register("a", 2), Register("b", 1)
    first, again = KeyMap.encode(a, 0, 0), KeyMap.encode(a, 0, 1, repetition=1)
    other = KeyMap.encode(b, 1, 0)
    km = KeyMap.from_keys([first, again, other]).with_registers([a, b])
    c = Circuit(
        ("QB1", "QB2", "QB3"),
        [Measure(("QB1", "QB2"), first), Measure(("QB3",), again), Measure(("QB2",), other)],
    )
    # a[0] <- QB1; a[1] <- QB2, then rewritten by QB3 (repetition 1); b[0] <- QB2
    assert column_qubits(c, km) == ("QB1", "QB3", "QB2")
    assert measured_union([("QB1", None), ("QB2", "QB1")]) == ("QB1", "QB2")


def test_served_errors_prefer_the_asymmetric_figures() -> None:
    cal = Calibration(
        readout_fidelity={"QB1": 0.97, "QB2": 0.9},
        readout_error_0_to_1={"QB1": 0.01},
        readout_error_1_to_0={"QB1": 0.05},
    )
    errs = served_errors(cal, ["QB1", "QB2"])
    assert errs.p1_given_0 == pytest.approx((0.01, 0.1))
    assert errs.p0_given_1 == pytest.approx((0.05, 0.1))
    with pytest.raises(ReadoutCalibrationError, match="'QB9'"):
        served_errors(cal, ["QB9"])


def test_column_errors_repeat_a_qubit_read_twice_and_refuse_unread_columns() -> None:
    errs = served_errors(Calibration(readout_fidelity={"QB1": 0.9, "QB2": 0.8}), ["QB1", "QB2"])
    cols = column_errors(errs, ("QB2", "QB1", "QB2"))
    assert cols is not None and cols.qubits == ("QB2", "QB1", "QB2#2")
    assert cols.p1_given_0 == pytest.approx((0.2, 0.1, 0.2))
    assert column_errors(errs, ("QB1", None)) is None


def test_calibration_circuits_prepare_zeros_and_ones() -> None:
    zeros, ones, keymap = calibration_circuits(("QB3", "QB1"))
    assert [type(op) for op in zeros.operations] == [Measure]
    flips = [op for op in ones.operations if isinstance(op, Gate)]
    flip = (math.pi, 0.0)
    assert [(g.qubits, g.params) for g in flips] == [(("QB3",), flip), (("QB1",), flip)]
    assert column_qubits(ones, keymap) == ("QB3", "QB1")


def test_settings_as_users_give_them() -> None:
    assert Mitigation.of(None) is None and Mitigation.of(False) is None
    assert Mitigation.of(True) == Mitigation.of("readout") == Mitigation("auto")
    assert Mitigation.of("circuits").source == "circuits"
    with pytest.raises(ConfigurationError, match="mitigation=3"):
        Mitigation.of(3)
    with pytest.raises(ConfigurationError, match="'sometimes'"):
        Mitigation("sometimes")

"""Run options: checked by name, type and value; iqm-client's compilation options accepted."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from iqm_bridge.core import ConfigurationError, RunOptions, UnknownOptionError


def test_unknown_option_is_named_with_the_valid_ones() -> None:
    with pytest.raises(UnknownOptionError, match=r"\['shot'\].*valid options are: shots"):
        RunOptions.from_kwargs(shot=10)
    with pytest.raises(ConfigurationError, match="heralding_mode='maybe'"):
        RunOptions.from_kwargs(heralding_mode="maybe")
    with pytest.raises(ConfigurationError, match="shots=0"):
        RunOptions.from_kwargs(shots=0)


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"active_reset_cycles": "a"}, "active_reset_cycles"),
        ({"timeout": "5"}, "timeout"),
        ({"qubit_mapping": 5}, "qubit_mapping"),
        ({"qubit_mapping": {"a": "QB1", "b": "QB1"}}, "QB1"),
        ({"shots": 2.5}, "shots"),
        ({"use_timeslot": 1}, "use_timeslot"),
        ({"calibration_set_id": "not-a-uuid"}, "calibration_set_id"),
        ({"max_circuit_duration_over_t2": -1.0}, "max_circuit_duration_over_t2"),
    ],
)
def test_wrong_types_and_values_name_the_option(options: dict[str, object], name: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        RunOptions.from_kwargs(**options)


def test_numpy_integers_and_uuids_are_normalised() -> None:
    cal = uuid.uuid4()
    opts = RunOptions.from_kwargs(shots=np.int64(7), calibration_set_id=cal)
    assert opts.shots == 7 and type(opts.shots) is int
    assert opts.calibration_set_id == str(cal)


def test_iqm_clients_compilation_options_expand_and_flat_names_win() -> None:
    from iqm.iqm_client import CircuitCompilationOptions, DDMode, HeraldingMode

    compiled = CircuitCompilationOptions(
        heralding_mode=HeraldingMode.ZEROS, dd_mode=DDMode.ENABLED, active_reset_cycles=2
    )
    opts = RunOptions.from_kwargs(circuit_compilation_options=compiled)
    assert (opts.heralding_mode, opts.dd_mode, opts.active_reset_cycles) == ("zeros", "enabled", 2)
    again = RunOptions.from_kwargs(compiler_options=compiled, active_reset_cycles=5)
    assert again.active_reset_cycles == 5
    with pytest.raises(ConfigurationError, match="CircuitCompilationOptions"):
        RunOptions.from_kwargs(compiler_options=42)

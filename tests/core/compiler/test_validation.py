"""Each invalid input gets its own error class and a message that names the culprit."""

from __future__ import annotations

import math

import pytest

from iqm_bridge.core import (
    Circuit,
    Conditional,
    Device,
    DuplicateMeasurementKeyError,
    Gate,
    LocusNotSupportedError,
    Measure,
    NonFiniteParameterError,
    Parameter,
    QubitNotOnDeviceError,
    UnboundParameterError,
    UnsupportedOperationError,
    UnwrittenMeasurementKeyError,
)
from iqm_bridge.core.compiler.validation import validate, validate_native


def line_device(n: int = 3) -> Device:
    qubits = [f"QB{i}" for i in range(1, n + 1)]
    one = {
        "implementations": {"d": {"loci": [[q] for q in qubits]}},
        "default_implementation": "d",
        "override_default_implementation": {},
    }
    return Device.from_architecture(
        {
            "calibration_set_id": "cd4dd889-b88b-4370-ba01-eb8262ad9c53",
            "qubits": qubits,
            "computational_resonators": [],
            "gates": {
                "prx": one,
                "measure": one,
                "cc_prx": one,
                "cz": {
                    "implementations": {
                        "tgss": {"loci": [[qubits[i], qubits[i + 1]] for i in range(n - 1)]}
                    },
                    "default_implementation": "tgss",
                    "override_default_implementation": {},
                },
            },
        },
        name="line",
    )


CASES = [
    (Circuit(("a",), [Gate("foo", ("a",))]), UnsupportedOperationError, "'foo'"),
    (Circuit(("a",), [Gate("rx", ("a",), (math.nan,))]), NonFiniteParameterError, "'rx'"),
    (Circuit(("a",), [Gate("rx", ("a",), (math.inf,))]), NonFiniteParameterError, "inf"),
    (
        Circuit(("a",), [Measure(("a",), "m"), Measure(("a",), "m")]),
        DuplicateMeasurementKeyError,
        "'m'",
    ),
    (
        Circuit(("a",), [Conditional(Gate("x", ("a",)), "m"), Measure(("a",), "m")]),
        UnwrittenMeasurementKeyError,
        "'m'",
    ),
    (
        Circuit(("a",), [Measure(("a",), "m"), Conditional(Gate("x", ("a",)), "m", 3)]),
        UnwrittenMeasurementKeyError,
        "bit 3",
    ),
    (Circuit(("a",), [Gate("h", ("b",))]), QubitNotOnDeviceError, "'b'"),
]


@pytest.mark.parametrize(("circuit", "error", "text"), CASES)
def test_invalid_circuits(circuit: Circuit, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        validate(circuit)


def test_unbound_parameter_refused_when_binding_required() -> None:
    c = Circuit(("a",), [Gate("rx", ("a",), (Parameter("theta"),))])
    validate(c)
    with pytest.raises(UnboundParameterError, match="theta"):
        validate(c, require_bound=True)


def test_native_checks_against_device() -> None:
    dev = line_device()
    ok = Circuit(
        ("QB1", "QB2"),
        [
            Gate("prx", ("QB1",), (1.0, 0.0)),
            Gate("cz", ("QB2", "QB1")),
            Measure(("QB1", "QB2"), "m"),
        ],
    )
    validate_native(ok, dev)
    with pytest.raises(QubitNotOnDeviceError, match="'QB9'"):
        validate_native(Circuit(("QB9",), [Gate("prx", ("QB9",), (1.0, 0.0))]), dev)
    with pytest.raises(LocusNotSupportedError, match=r"\('QB1', 'QB3'\)"):
        validate_native(Circuit(("QB1", "QB3"), [Gate("cz", ("QB1", "QB3"))]), dev)
    with pytest.raises(UnsupportedOperationError, match="'h'.*lower"):
        validate_native(Circuit(("QB1",), [Gate("h", ("QB1",))]), dev)
    with pytest.raises(UnsupportedOperationError, match="'move'"):
        validate_native(Circuit(("QB1", "QB2"), [Gate("move", ("QB1", "QB2"))]), dev)


def test_error_classes_are_distinct() -> None:
    classes = {error for _, error, _ in CASES} | {UnboundParameterError, LocusNotSupportedError}
    assert len(classes) == 7

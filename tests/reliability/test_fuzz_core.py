"""Fuzzing the IR -> compile -> serialise path: every input either works or raises an
``IQMBridgeError`` subclass; nothing else escapes, and nothing invalid is accepted."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iqm_bridge.core import (
    GATES,
    Circuit,
    Conditional,
    Delay,
    Gate,
    IQMBridgeError,
    Measure,
    prepare,
)
from iqm_bridge.core.compiler.validation import validate_native
from iqm_bridge.core.ir import Barrier, Reset
from iqm_bridge.core.submit.serialize import from_iqm_circuit, to_iqm_circuit
from iqm_bridge.emulator._machines import get_machine

LATTICE = get_machine("garnet").device
STAR = get_machine("deneb").device
NAMES = sorted({g.name for g in GATES.values()}) + ["foo", "", "CX", "measure", "u2"]
QUBITS = ["a", "b", "c", "d", "QB1", "QB2", "QB99", ""]
NUMBERS = st.one_of(
    st.floats(-10, 10, allow_nan=False),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e-300, 0.0]),
)


@st.composite
def messy_circuits(draw: st.DrawFn) -> Circuit:
    declared = tuple(dict.fromkeys(draw(st.lists(st.sampled_from(QUBITS), min_size=1, max_size=5))))
    used = st.sampled_from(declared + ("zz",)) if draw(st.booleans()) else st.sampled_from(declared)
    keys = st.sampled_from(["m0", "m1", "m2"])
    ops: list[Any] = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(
            st.sampled_from(
                ["gate", "gate", "gate", "measure", "cond", "reset", "barrier", "delay"]
            )
        )
        if kind == "gate":
            name = draw(st.sampled_from(NAMES))
            arity = draw(st.integers(1, 3))
            nparams = draw(st.integers(0, 3))
            ops.append(
                Gate(
                    name,
                    tuple(draw(used) for _ in range(arity)),
                    tuple(draw(NUMBERS) for _ in range(nparams)),
                )
            )
        elif kind == "measure":
            ops.append(
                Measure(
                    tuple(draw(st.lists(used, min_size=1, max_size=2, unique=True))), draw(keys)
                )
            )
        elif kind == "cond":
            gate = Gate(
                draw(st.sampled_from(["x", "h", "rx", "cx"])),
                (draw(used),),
                tuple(draw(NUMBERS) for _ in range(draw(st.integers(0, 1)))),
            )
            ops.append(Conditional(gate, draw(keys), draw(st.integers(0, 2))))
        elif kind == "reset":
            ops.append(Reset((draw(used),)))
        elif kind == "barrier":
            ops.append(Barrier((draw(used),)))
        else:
            ops.append(Delay((draw(used),), draw(NUMBERS)))
    return Circuit(declared, ops)


def _exercise(circuit: Circuit, device: Any) -> None:
    try:
        (native,) = prepare([circuit], device, level=1)
    except IQMBridgeError:
        return
    except Exception as exc:  # pragma: no cover - the failure this test exists to catch
        pytest.fail(f"{type(exc).__name__}: {exc} escaped for {circuit!r}")
    validate_native(native, device)  # whatever was accepted really is runnable
    wire = to_iqm_circuit(native)
    assert from_iqm_circuit(wire) == native


@pytest.mark.slow
@settings(max_examples=7000, deadline=None, suppress_health_check=list(HealthCheck))
@given(messy_circuits())
def test_lattice_path_raises_only_our_errors(circuit: Circuit) -> None:
    _exercise(circuit, LATTICE)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(messy_circuits())
def test_star_path_raises_only_our_errors(circuit: Circuit) -> None:
    _exercise(circuit, STAR)

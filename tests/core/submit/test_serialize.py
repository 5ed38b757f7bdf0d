"""Native IR <-> iqm-client 36 circuit models."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iqm_bridge.core import (
    Barrier,
    Circuit,
    Conditional,
    Delay,
    Gate,
    Measure,
    Parameter,
    Reset,
    UnboundParameterError,
    UnsupportedOperationError,
)
from iqm_bridge.core.submit.serialize import from_iqm_circuit, from_wire_dict, to_iqm_circuit

QUBITS = ("QB1", "QB2", "QB3", "QB4")
finite = st.floats(-10, 10, allow_nan=False)


@st.composite
def native_circuits(draw: st.DrawFn) -> Circuit:
    ops: list = []
    keys: list[tuple[str, tuple[str, ...]]] = []
    for i in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["prx", "cz", "measure", "reset", "barrier", "delay", "cc"]))
        if kind == "prx":
            ops.append(Gate("prx", (draw(st.sampled_from(QUBITS)),), (draw(finite), draw(finite))))
        elif kind == "cz":
            a, b = draw(st.permutations(QUBITS))[:2]
            ops.append(Gate("cz", (a, b)))
        elif kind == "measure":
            qs = tuple(draw(st.permutations(QUBITS))[: draw(st.integers(1, 3))])
            ops.append(Measure(qs, f"k{i}"))
            keys.append((f"k{i}", qs))
        elif kind == "reset":
            ops.append(Reset((draw(st.sampled_from(QUBITS)),)))
        elif kind == "barrier":
            ops.append(Barrier(QUBITS[:2]))
        elif kind == "delay":
            ops.append(Delay((QUBITS[0],), draw(st.floats(0, 1e-6))))
        elif keys:
            key, qs = draw(st.sampled_from(keys))
            gate = Gate("prx", (draw(st.sampled_from(QUBITS)),), (draw(finite), draw(finite)))
            ops.append(Conditional(gate, key, draw(st.integers(0, len(qs) - 1))))
    if not ops:  # a circuit the server accepts has at least one instruction
        ops.append(Gate("prx", (QUBITS[0],), (draw(finite), draw(finite))))
    return Circuit(QUBITS, ops, name="c", metadata={"note": "x"})


@settings(max_examples=60, deadline=None)
@given(native_circuits())
def test_round_trip(circuit: Circuit) -> None:
    wire = to_iqm_circuit(circuit)
    assert from_iqm_circuit(wire) == circuit
    assert from_iqm_circuit(wire).metadata == {"note": "x"}


@settings(max_examples=30, deadline=None)
@given(native_circuits())
def test_json_validates_against_iqm_client_models(circuit: Circuit) -> None:
    from iqm.iqm_client.models import validate_circuit
    from iqm.station_control.interface.models.circuit import CircuitJobDefinition

    wire = to_iqm_circuit(circuit)
    validate_circuit(wire)  # iqm-client's own static checks
    body = CircuitJobDefinition(circuits=[wire], shots=10).model_dump_json()
    parsed = CircuitJobDefinition.model_validate_json(body)
    assert from_iqm_circuit(parsed.circuits[0]) == circuit
    assert from_wire_dict(json.loads(body)["circuits"][0]) == circuit


def test_conditional_refers_to_measured_qubit() -> None:
    c = Circuit(
        ("QB1", "QB2"),
        [Measure(("QB1", "QB2"), "m"), Conditional(Gate("prx", ("QB1",), (3.14, 0.0)), "m", 1)],
    )
    wire = to_iqm_circuit(c)
    measure, cc = wire.instructions
    assert measure.args == {"key": "m", "feedback_key": "m"}
    assert cc.name == "cc_prx"
    assert cc.args["feedback_qubit"] == "QB2"


def test_non_native_gate_is_refused() -> None:
    with pytest.raises(UnsupportedOperationError, match="'h'.*lower"):
        to_iqm_circuit(Circuit(("QB1",), [Gate("h", ("QB1",))]))


def test_unbound_parameter_is_refused() -> None:
    c = Circuit(("QB1",), [Gate("prx", ("QB1",), (Parameter("t"), 0.0))])
    with pytest.raises(UnboundParameterError, match="'t'"):
        to_iqm_circuit(c)

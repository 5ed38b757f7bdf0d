"""The neutral circuit: immutable values, symbolic parameters, conditions on a bit."""

from __future__ import annotations

import pytest

from iqm_bridge.core import (
    Circuit,
    CircuitValidationError,
    Conditional,
    Delay,
    Gate,
    Measure,
    Parameter,
)
from iqm_bridge.core.ir import relabel


def test_parameters_bind_in_gates_and_conditions() -> None:
    t = Parameter("t")
    on_zero = Conditional(Gate("ry", "b", (2 * t,)), "m", 0, 0)
    c = Circuit(("a", "b"), [Gate("rx", "a", (t,)), Measure("a", "m"), on_zero])
    assert c.parameters == frozenset({"t"})
    bound = c.bind({"t": 0.5})
    assert bound.parameters == frozenset()
    assert bound.operations[0] == Gate("rx", ("a",), (0.5,))
    cond = bound.operations[2]
    assert isinstance(cond, Conditional) and cond.gate.params == (1.0,) and cond.value == 0
    assert c.operations[0].params == (t,)  # the original is unchanged


def test_relabel_keeps_every_field() -> None:
    ops = [Conditional(Gate("x", "a"), "k", 1, 0), Delay(("a", "b"), 1e-7), Measure("b", "k")]
    moved = [relabel(op, {"a": "QB1", "b": "QB2"}) for op in ops]
    assert moved == [
        Conditional(Gate("x", "QB1"), "k", 1, 0),
        Delay(("QB1", "QB2"), 1e-7),
        Measure("QB2", "k"),
    ]


def test_a_condition_compares_with_0_or_1_only() -> None:
    with pytest.raises(CircuitValidationError, match="0 or 1"):
        Conditional(Gate("x", "a"), "k", 0, 2)


def test_from_operations_orders_qubits_by_first_use() -> None:
    c = Circuit.from_operations([Gate("cx", ("b", "a")), Measure(("c",), "m")])
    assert c.qubits == ("b", "a", "c") and len(c) == 2

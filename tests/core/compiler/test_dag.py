"""The router's dependency graph of two-qubit gates."""

from __future__ import annotations

from iqm_bridge.core import Conditional, Gate, Measure
from iqm_bridge.core.compiler.dag import build_dag


def test_two_qubit_gates_inherit_dependencies_through_other_operations() -> None:
    ops = [
        Gate("cz", ("a", "b")),  # 0
        Gate("prx", ("b",), (1.0, 0.0)),  # 1
        Gate("cz", ("b", "c")),  # 2: after 0 through 1
        Measure(("a",), "k"),  # 3
        Conditional(Gate("prx", ("d",), (1.0, 0.0)), "k"),  # 4: reads k, so after 3 (and 0)
        Gate("cz", ("d", "e")),  # 5: after 0 through the measurement and the condition
        Gate("cz", ("e", "f")),  # 6
    ]
    index = {q: i for i, q in enumerate("abcdef")}
    dag = build_dag(ops, index)
    assert dag.two_qubit == [0, 2, 5, 6]
    assert dag.pairs == [(0, 1), (1, 2), (3, 4), (4, 5)]
    assert dag.preds2 == [[], [0], [0], [2]]
    assert dag.succs2 == [[1, 2], [], [3], []]

"""Dependency structure of a circuit, as the router needs it.

Operations depend on the previous operation on each of their qubits, and a classically
controlled gate also depends on the measurement that writes its key. The router only decides
about two-qubit gates, so it works on the *two-qubit DAG*: the two-qubit gates with the
dependencies they inherit through any chain of other operations.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from iqm_bridge.core.ir import Conditional, Gate, Measure, Operation

__all__ = ["CircuitDag", "build_dag"]


@attrs.frozen(slots=True)
class CircuitDag:
    """The dependencies of a circuit's operations.

    Attributes:
        preds: for each operation, the operations that must come before it.
        two_qubit: indices of the two-qubit gates, in circuit order.
        pairs: for each two-qubit gate, its logical qubit indices.
        preds2: for each two-qubit gate (by position in ``two_qubit``), the positions of the
            two-qubit gates it depends on.
        succs2: the reverse of ``preds2``.
    """

    preds: list[tuple[int, ...]]
    two_qubit: list[int]
    pairs: list[tuple[int, int]]
    preds2: list[list[int]]
    succs2: list[list[int]]


def build_dag(operations: Sequence[Operation], qubit_index: dict[str, int]) -> CircuitDag:
    """Build the dependency structure of ``operations`` on qubits numbered by ``qubit_index``."""
    last: dict[str, int] = {}
    writer: dict[str, int] = {}
    preds: list[tuple[int, ...]] = []
    # frontier[i]: the two-qubit gates (positions) that op i transitively waits for, through
    # non-two-qubit ops only
    frontier: list[frozenset[int]] = []
    two_qubit: list[int] = []
    pairs: list[tuple[int, int]] = []
    preds2: list[list[int]] = []
    for i, op in enumerate(operations):
        ps: set[int] = set()
        for q in op.qubits:
            j = last.get(q)
            if j is not None:
                ps.add(j)
            last[q] = i
        if isinstance(op, Conditional):
            w = writer.get(op.key)
            if w is not None:
                ps.add(w)
        elif isinstance(op, Measure):
            writer[op.key] = i
        pred_t = tuple(sorted(ps))
        preds.append(pred_t)
        inherited: set[int] = set()
        for j in pred_t:
            inherited |= frontier[j]
        if isinstance(op, Gate) and len(op.qubits) == 2:
            pos = len(two_qubit)
            two_qubit.append(i)
            a, b = op.qubits
            pairs.append((qubit_index[a], qubit_index[b]))
            preds2.append(sorted(inherited))
            frontier.append(frozenset((pos,)))
        else:
            frontier.append(frozenset(inherited))
    succs2: list[list[int]] = [[] for _ in two_qubit]
    for g, ps2 in enumerate(preds2):
        for p in ps2:
            succs2[p].append(g)
    return CircuitDag(preds, two_qubit, pairs, preds2, succs2)

"""SWAP routing (SABRE) and MOVE routing."""

from __future__ import annotations

import random

from _devices import assert_equivalent, lattice_device, star_device

from iqm_bridge.core.compiler.coupling import coupling_map
from iqm_bridge.core.compiler.dag import build_dag
from iqm_bridge.core.compiler.lowering import lower
from iqm_bridge.core.compiler.placement import greedy_layout, perfect_layout
from iqm_bridge.core.compiler.routing import route_moves, route_swaps, sabre_layout, sabre_trial
from iqm_bridge.core.compiler.validation import validate_native
from iqm_bridge.core.ir import Circuit, Conditional, Gate, Measure

LATTICE = lattice_device()
CMAP = coupling_map(LATTICE)


class _Result:
    def __init__(self, routed) -> None:  # type: ignore[no-untyped-def]
        self.circuit = routed.circuit
        self.final_layout = routed.final_layout
        self.report = type("R", (), {"dropped_frames": {}})()


def test_two_qubit_dag_inherits_dependencies_through_other_ops() -> None:
    ops = [
        Gate("cz", ("a", "b")),
        Gate("prx", ("b",), (1.0, 0.0)),
        Measure(("b",), "m"),
        Conditional(Gate("prx", ("c",), (1.0, 0.0)), "m"),
        Gate("cz", ("c", "d")),
    ]
    dag = build_dag(ops, {q: i for i, q in enumerate("abcd")})
    assert dag.two_qubit == [0, 4]
    assert dag.preds2 == [[], [0]]
    assert dag.succs2 == [[1], []]


def test_all_to_all_circuit_routes_on_the_lattice() -> None:
    names = [f"q{i}" for i in range(8)]
    ops = [Gate("prx", (q,), (0.5, 0.1 * i)) for i, q in enumerate(names)]
    ops += [Gate("cz", (a, b)) for i, a in enumerate(names) for b in names[i + 1 :]]
    c = Circuit(tuple(names), tuple(ops))
    routed = route_swaps(c, CMAP, list(range(8)), seed=1)
    validate_native(routed.circuit, LATTICE)
    assert routed.swaps > 0
    assert_equivalent(c, _Result(routed))


def test_sabre_layout_beats_a_bad_start() -> None:
    names = [f"q{i}" for i in range(6)]
    c = Circuit(tuple(names), tuple(Gate("cz", (names[i], names[i + 1])) for i in range(5)))
    dag = build_dag(c.operations, {q: i for i, q in enumerate(names)})
    rng = random.Random(0)
    spread = [0, 19, 2, 17, 6, 12]  # far apart on purpose
    _, swaps = sabre_layout(dag, spread, CMAP, rng, iterations=2)
    assert swaps < route_swaps(c, CMAP, spread).swaps


def test_perfect_layout_for_a_ring_and_greedy_fallback() -> None:
    pairs = [(i, (i + 1) % 12) for i in range(12)]
    layout = perfect_layout(12, pairs, [0] * 12, CMAP)
    assert layout is not None
    assert all(CMAP.dist[layout[a]][layout[b]] == 1 for a, b in pairs)
    clique = [(a, b) for a in range(6) for b in range(a + 1, 6)]
    assert perfect_layout(6, clique, [0] * 6, CMAP) is None
    greedy = greedy_layout(6, clique, CMAP)
    assert len(set(greedy)) == 6


def test_move_routing_keeps_the_rules() -> None:
    star = star_device()
    c = Circuit.from_operations(
        [
            Gate("prx", ("a",), (1.0, 0.0)),
            Gate("cz", ("a", "b")),
            Gate("cz", ("c", "b")),
            Gate("prx", ("b",), (0.3, 0.2)),
            Gate("cz", ("a", "c")),
            Measure(("a", "b", "c"), "m"),
        ]
    )
    routed = route_moves(c, star, {"a": "QB1", "b": "QB2", "c": "QB3"})
    validate_native(routed.circuit, star)
    names = [op.name for op in routed.circuit.operations if isinstance(op, Gate)]
    assert names.count("cz") == 3
    # b stays in the resonator for both of its CZs, then c for the last one
    assert routed.moves == 4
    assert_equivalent(
        Circuit(c.qubits, c.operations[:-1]),
        _Result(
            route_moves(
                Circuit(c.qubits, c.operations[:-1]), star, {"a": "QB1", "b": "QB2", "c": "QB3"}
            )
        ),
    )


def test_recorded_trial_routes_exactly_as_estimated() -> None:
    names = [f"q{i}" for i in range(10)]
    ops = [Gate("cz", (names[i], names[(3 * i + 4) % 10])) for i in range(10)]
    ops += [
        Gate("cz", (names[i], names[(7 * i + 1) % 10])) for i in range(10) if (7 * i + 1) % 10 != i
    ]
    c = Circuit(tuple(names), tuple(op for op in ops if op.qubits[0] != op.qubits[1]))
    dag = build_dag(c.operations, {q: i for i, q in enumerate(names)})
    trial = sabre_trial(dag, greedy_layout(10, dag.pairs, CMAP), CMAP, random.Random(3))
    routed = route_swaps(c, CMAP, trial.layout, events=trial.events)
    validate_native(routed.circuit, LATTICE)
    assert routed.swaps == trial.swaps
    cz = sum(1 for op in routed.circuit.operations if isinstance(op, Gate) and op.name == "cz")
    # merged SWAPs cost 1 CZ; emission may merge more than the estimate counted, never fewer
    assert cz <= trial.cz_estimate(len(dag.pairs))
    assert_equivalent(c, _Result(routed))


def test_chain_longer_than_a_colour_class_skips_the_isomorphism_search() -> None:
    # Garnet's lattice has 9 + 11 qubits per colour: a 20-qubit chain cannot be laid out
    chain = [(i, i + 1) for i in range(19)]
    assert perfect_layout(20, chain, [0] * 20, CMAP) is None
    # an odd cycle never fits a bipartite lattice
    assert perfect_layout(3, [(0, 1), (1, 2), (2, 0)], [0] * 3, CMAP) is None
    # a chain of 18 fits
    layout = perfect_layout(18, chain[:17], [0] * 18, CMAP)
    assert layout is not None
    assert all(CMAP.dist[layout[a]][layout[b]] == 1 for a, b in chain[:17])


def _cz_count(circuit: Circuit) -> int:
    return sum(1 for op in circuit.operations if isinstance(op, Gate) and op.name == "cz")


def test_swaps_between_qubits_in_zero_are_free() -> None:
    """``b`` starts far from ``a`` and has seen no gate: walking it over empty qubits costs
    nothing, so the routed circuit has the one CZ of the CNOT. Fails if every SWAP costs
    3 CZ (checked: 1 + 3 per SWAP)."""
    from iqm_bridge.core.compiler import compile

    circuit = Circuit.from_operations([Gate("h", ("a",)), Gate("cx", ("a", "b"))])
    result = compile(circuit, LATTICE, level=0, initial_layout={"a": "QB1", "b": "QB20"})
    assert result.report.swaps >= 3
    assert result.report.cz_count == 1
    assert_equivalent(circuit, result)


def test_a_state_moves_into_an_empty_qubit_with_two_cz() -> None:
    """``a`` and ``b`` are both entangled and two steps apart; one of them must move. Into
    the empty qubit between them it costs 2 CZ, merged into its last gate 1; a plain SWAP
    would cost 3. Fails if neither discount applies (checked: 3 + 3 = 6 CZ)."""
    from iqm_bridge.core.compiler import compile

    ops = [
        Gate("h", ("a",)),
        Gate("cx", ("a", "c")),
        Gate("h", ("b",)),
        Gate("cx", ("b", "d")),
        Gate("cx", ("a", "b")),
    ]
    circuit = Circuit.from_operations(ops)
    layout = {"a": "QB1", "c": "QB2", "b": "QB5", "d": "QB6"}
    result = compile(circuit, LATTICE, level=0, initial_layout=layout)
    assert result.report.swaps == 1
    assert result.report.cz_count <= 5
    assert_equivalent(circuit, result)


def test_moving_into_an_empty_qubit_leaves_zero_behind() -> None:
    """After a state moved out, its old qubit holds |0> again, so a later SWAP through it is
    free too; emission and the router's estimate agree."""
    names = [f"q{i}" for i in range(4)]
    ops = [
        Gate("h", (names[0],)),
        Gate("cz", (names[0], names[1])),
        Gate("h", (names[1],)),
        Gate("cz", (names[1], names[2])),
        Gate("cz", (names[0], names[3])),
        Gate("cz", (names[2], names[3])),
    ]
    c = lower(Circuit(tuple(names), tuple(ops)))
    dag = build_dag(c.operations, {q: i for i, q in enumerate(names)})
    for seed in range(5):
        trial = sabre_trial(dag, [0, 12, 19, 7], CMAP, random.Random(seed), iterations=0)
        routed = route_swaps(c, CMAP, trial.layout, events=trial.events)
        validate_native(routed.circuit, LATTICE)
        assert _cz_count(routed.circuit) <= trial.cz_estimate(len(dag.pairs))
        assert_equivalent(c, _Result(routed))

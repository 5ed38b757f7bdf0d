"""The compiler: native output that is equivalent to the input and valid on the device."""

from __future__ import annotations

import math

import pytest
from _devices import (
    assert_equivalent,
    assert_same_distribution,
    lattice_device,
    star_device,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iqm_bridge.core.compiler import CompileResult, circuit_depth, compile
from iqm_bridge.core.compiler.coupling import coupling_map
from iqm_bridge.core.compiler.success import estimated_success
from iqm_bridge.core.compiler.validation import validate_native
from iqm_bridge.core.errors import CircuitValidationError, QubitNotOnDeviceError
from iqm_bridge.core.gates import GATES
from iqm_bridge.core.ir import Barrier, Circuit, Conditional, Gate, Measure, Reset, relabel

LATTICE = lattice_device()
STAR = star_device()
VOCAB = sorted({(g.name, g.num_qubits, g.num_params) for g in GATES.values() if g.name != "move"})
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def random_circuits(draw: st.DrawFn, max_qubits: int = 8, max_gates: int = 30) -> Circuit:
    n = draw(st.integers(2, max_qubits))
    names = [f"q{i}" for i in range(n)]
    ops = []
    for _ in range(draw(st.integers(1, max_gates))):
        name, nq, npar = draw(st.sampled_from([v for v in VOCAB if v[1] <= n]))
        qubits = draw(st.permutations(names))[:nq]
        params = [draw(st.floats(-2 * math.pi, 2 * math.pi)) for _ in range(npar)]
        ops.append(Gate(name, tuple(qubits), tuple(params)))
    return Circuit(tuple(names), tuple(ops))


@given(random_circuits(), st.sampled_from([0, 1, 2, 3]), st.integers(0, 3))
@SETTINGS
def test_lattice_compile_is_equivalent(circuit: Circuit, level: int, seed: int) -> None:
    result = compile(circuit, LATTICE, level=level, seed=seed)
    validate_native(result.circuit, LATTICE)
    assert_equivalent(circuit, result)


@given(random_circuits(max_qubits=6), st.sampled_from([0, 1, 2, 3]))
@SETTINGS
def test_star_compile_is_equivalent(circuit: Circuit, level: int) -> None:
    result = compile(circuit, STAR, level=level)
    validate_native(result.circuit, STAR)
    assert_equivalent(circuit, result)
    assert_moves_well_formed(result)


def assert_moves_well_formed(result: CompileResult) -> None:
    """The rules the server checks for MOVE: pairs close, nothing touches a moved-out qubit."""
    inside: dict[str, str] = {}  # resonator -> qubit whose state it holds
    for op in result.circuit.operations:
        if isinstance(op, Gate) and op.name == "move":
            q, cr = op.qubits
            if cr in inside:
                assert inside[cr] == q, f"move-in of {q} while {inside[cr]} is in {cr}"
                del inside[cr]
            else:
                inside[cr] = q
        else:
            qubits = op.qubits
            for cr, q in inside.items():
                assert q not in qubits, f"{op} acts on {q} while its state is in {cr}"
    assert not inside, f"unclosed MOVE: {inside}"


@st.composite
def measured_circuits(draw: st.DrawFn) -> Circuit:
    """Small circuits with mid-circuit measurements, resets, barriers and a conditional prx."""
    n = draw(st.integers(2, 5))
    names = [f"q{i}" for i in range(n)]
    ops: list = []
    keys = 0
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["g1", "g2", "g2", "measure", "cond", "reset", "barrier"]))
        if kind == "g1":
            name = draw(st.sampled_from(["h", "rx", "ry", "rz", "t", "sx", "u"]))
            gd = GATES[name]
            q = draw(st.sampled_from(names))
            ops.append(
                Gate(name, (q,), tuple(draw(st.floats(-3, 3)) for _ in range(gd.num_params)))
            )
        elif kind == "g2":
            name = draw(st.sampled_from(["cx", "cz", "cp", "swap", "rzz"]))
            a, b = draw(st.permutations(names))[:2]
            params = (draw(st.floats(-3, 3)),) if GATES[name].num_params else ()
            ops.append(Gate(name, (a, b), params))
        elif kind == "measure":
            q = draw(st.sampled_from(names))
            ops.append(Measure((q,), f"m{keys}"))
            keys += 1
        elif kind == "cond" and keys:
            q = draw(st.sampled_from(names))
            k = draw(st.integers(0, keys - 1))
            gate = Gate(draw(st.sampled_from(["x", "prx"])), (q,), ())
            if gate.name == "prx":
                gate = Gate("prx", (q,), (draw(st.floats(-3, 3)), draw(st.floats(-3, 3))))
            ops.append(Conditional(gate, f"m{k}"))
        elif kind == "reset":
            ops.append(Reset((draw(st.sampled_from(names)),)))
        elif kind == "barrier":
            ops.append(Barrier(tuple(draw(st.permutations(names))[:2])))
    ops.append(Measure(tuple(names), "final"))
    return Circuit(tuple(names), tuple(ops))


@given(measured_circuits(), st.sampled_from([0, 1, 2]))
@SETTINGS
def test_measurements_and_conditionals_keep_distribution(circuit: Circuit, level: int) -> None:
    for device in (LATTICE, STAR):
        result = compile(circuit, device, level=level)
        validate_native(result.circuit, device)
        assert sorted(result.circuit.measurement_keys) == sorted(circuit.measurement_keys)
        assert_same_distribution(circuit, result)


def test_measurement_lands_on_final_physical_qubit() -> None:
    # a long-range CNOT forces SWAPs under a trivial layout
    circuit = Circuit.from_operations(
        [
            Gate("x", ("a",)),
            Gate("cx", ("a", "b")),
            Gate("cx", ("b", "c")),
            Gate("cx", ("a", "c")),
            Measure(("a", "b", "c"), "m"),
        ]
    )
    result = compile(circuit, LATTICE, level=0, initial_layout=["QB1", "QB20", "QB10"])
    assert result.report.swaps > 0
    (measure,) = [op for op in result.circuit.operations if isinstance(op, Measure)]
    assert measure.qubits == tuple(result.final_layout[q] for q in "abc")
    assert_same_distribution(circuit, result)


def test_report_counts_and_passes() -> None:
    circuit = Circuit.from_operations([Gate("h", ("a",))] + [Gate("cx", ("a", q)) for q in "bcdef"])
    result = compile(circuit, LATTICE, level=2)
    rep = result.report
    assert rep.cz_count == sum(
        1 for op in result.circuit.operations if isinstance(op, Gate) and op.name == "cz"
    )
    assert rep.depth == circuit_depth(result.circuit)
    assert [p.name for p in rep.passes][:4] == ["check", "elide-swaps", "lower", "fuse-logical"]
    assert set(result.initial_layout) == set("abcdef")
    assert rep.seconds > 0


def test_level2_prefers_perfect_layout_on_good_couplers() -> None:
    """The chosen chain has the highest estimated success of every chain on the lattice.

    Fails when placement or the post-layout pass ignores the calibration (checked by
    scoring the compiled circuit on every other chain: a calibration-blind layout loses).
    """
    # the Hadamard makes the first CNOT entangle (on |00> alone it would compile to nothing)
    circuit = Circuit.from_operations(
        [Gate("h", ("a",)), Gate("cx", ("a", "b")), Gate("cx", ("b", "c"))]
    )
    result = compile(circuit, LATTICE, level=2)
    assert result.report.layout_strategy == "perfect"
    assert result.report.swaps == 0
    cmap = coupling_map(LATTICE)
    at = [result.initial_layout[q] for q in "abc"]
    names = cmap.qubits
    best = 0.0
    for b in range(len(names)):
        for a in cmap.neighbors[b]:
            for c in cmap.neighbors[b]:
                if a == c:
                    continue
                move = dict(zip(at, (names[a], names[b], names[c]), strict=True))
                ops = [relabel(op, move) for op in result.circuit.operations]
                other = Circuit(tuple(move.values()), tuple(ops))
                best = max(best, estimated_success(other, LATTICE))
    assert result.report.estimated_success == pytest.approx(
        estimated_success(result.circuit, LATTICE)
    )
    assert result.report.estimated_success >= best - 1e-12


def test_star_keeps_state_in_resonator_across_consecutive_czs() -> None:
    circuit = Circuit.from_operations([Gate("h", ("a",))] + [Gate("cz", ("a", q)) for q in "bcde"])
    result = compile(circuit, STAR, level=1)
    assert result.report.moves == 2
    assert result.report.cz_count == 4
    assert_equivalent(circuit, result)


def test_errors_name_the_problem() -> None:
    big = Circuit.from_operations([Gate("h", (f"q{i}",)) for i in range(21)])
    with pytest.raises(CircuitValidationError, match="21 qubits"):
        compile(big, LATTICE)
    with pytest.raises(QubitNotOnDeviceError, match="QB99"):
        compile(Circuit.from_operations([Gate("h", ("a",))]), LATTICE, initial_layout={"a": "QB99"})
    with pytest.raises(CircuitValidationError, match="level"):
        compile(Circuit.from_operations([Gate("h", ("a",))]), LATTICE, level=7)


def test_deterministic_for_a_seed() -> None:
    circuit = Circuit.from_operations(
        [Gate("cx", (f"q{i}", f"q{(i * 7 + 3) % 12}")) for i in range(12) if i != (i * 7 + 3) % 12]
    )
    a = compile(circuit, LATTICE, seed=5)
    b = compile(circuit, LATTICE, seed=5)
    assert a.circuit == b.circuit


def test_level2_resynthesises_runs_on_one_pair() -> None:
    # alternating CNOTs with single-qubit gates between them, twice: level 1 only cancels
    # the two CNOTs where the runs meet; any run on one pair needs at most 3 CZ
    ops = []
    for k in range(2):
        ops += [
            Gate("cx", ("a", "b")),
            Gate("ry", ("a",), (0.3 + k,)),
            Gate("cx", ("b", "a")),
            Gate("rx", ("b",), (0.2 * k + 0.5,)),
            Gate("cx", ("a", "b")),
        ]
    circuit = Circuit.from_operations(ops)
    low = compile(circuit, LATTICE, level=1)
    high = compile(circuit, LATTICE, level=2)
    assert low.report.cz_count == 4  # the CNOTs where the runs meet cancel
    assert high.report.cz_count <= 3
    assert any(p.name == "resynth-logical" for p in high.report.passes)
    assert_equivalent(circuit, high)


def test_symbolic_runs_are_not_resynthesised() -> None:
    from iqm_bridge.core.parameters import Parameter

    theta = Parameter("theta")
    ops = [
        Gate("h", ("a",)),
        Gate("cx", ("a", "b")),
        Gate("rz", ("b",), (theta,)),
        Gate("cx", ("a", "b")),
        Gate("cx", ("a", "b")),
        Gate("cx", ("a", "b")),
    ]
    result = compile(Circuit.from_operations(ops), LATTICE, level=3)
    # the last two CNOTs cancel; the symbolic rz keeps its two CNOTs (no numeric synthesis)
    assert result.report.cz_count == 2
    assert result.circuit.parameters == frozenset({"theta"})

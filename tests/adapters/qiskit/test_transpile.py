"""``qiskit.transpile`` onto iqm-bridge backends: the scheduling plugin, the target's numbers,
``transpile_to_IQM`` and ``optimize_single_qubit_gates``.

Equivalence is checked exactly: the transpiled circuit's statevector against the original's
placed where the transpiler says each qubit ends (``layout.final_index_layout()``), equal up
to a global phase. Run results are compared with qiskit-aer within shot noise
(``_qiskit_oracle``).
"""

from __future__ import annotations

import copy
import math
import pathlib
import pickle
import sys
from collections.abc import Callable

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile
from qiskit.circuit import Parameter
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import Statevector
from qiskit.utils import should_run_in_parallel

from iqm_bridge.adapters.qiskit import (
    IQMBackend,
    IQMTarget,
    optimize_single_qubit_gates,
    transpile_to_IQM,
)

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _qiskit_oracle import aer_counts, assert_counts_match  # noqa: E402

SHOTS = 2000


def _equivalent(original: QuantumCircuit, transpiled: QuantumCircuit) -> bool:
    """Same state from |0...0> up to a global phase, qubits where the layout says."""
    where = transpiled.layout.final_index_layout()[: original.num_qubits]
    expected = QuantumCircuit(transpiled.num_qubits)
    expected.compose(original, qubits=where, inplace=True)
    return Statevector(transpiled).equiv(Statevector(expected))


def _longest_runs(circuit: QuantumCircuit) -> tuple[int, int]:
    """The longest run of ``r`` gates on one qubit with nothing else on it in between: among
    each qubit's runs but its last, and among its last runs (a kept final Z rotation, which
    commutes with the CZs after it, may make that one two)."""
    runs: dict[int, list[int]] = {}
    for inst in circuit.data:
        for q in (circuit.find_bit(q).index for q in inst.qubits):
            mine = runs.setdefault(q, [0])
            if inst.operation.name == "r":
                mine[-1] += 1
            elif mine[-1]:
                mine.append(0)
    lengths = [[n for n in mine if n] for mine in runs.values()]
    inner = max((n for mine in lengths for n in mine[:-1]), default=0)
    return inner, max((mine[-1] for mine in lengths if mine), default=0)


def _mixed(seed: int) -> QuantumCircuit:
    return random_circuit(4, 6, max_operands=2, seed=seed)


# ------------------------------------------------------------------------- the plugin
def test_the_backend_names_its_scheduling_plugin(backend: IQMBackend) -> None:
    from qiskit.transpiler.preset_passmanagers.plugin import list_stage_plugins

    assert backend.get_scheduling_stage_plugin() == "iqm_bridge"
    assert "iqm_bridge" in list_stage_plugins("scheduling")


@pytest.mark.parametrize("level", [1, 2, 3])
@pytest.mark.parametrize("seed", [3, 11])
def test_each_single_qubit_run_becomes_one_r_and_the_state_is_kept(
    backend: IQMBackend, level: int, seed: int
) -> None:
    """Fails with qiskit's own scheduling (runs of two ``r``), and fails the equivalence when
    final Z rotations are dropped (these circuits end without measurements)."""
    qc = _mixed(seed)
    t = transpile(qc, backend, optimization_level=level, seed_transpiler=1)
    assert set(t.count_ops()) <= {"r", "cz"}
    inner, last = _longest_runs(t)
    assert inner == 1 and last <= 2
    assert _equivalent(qc, t)
    plain = transpile(qc, backend, optimization_level=level, seed_transpiler=1,
                      scheduling_method="default")  # fmt: skip
    assert t.count_ops().get("r", 0) < plain.count_ops().get("r", 0)


def test_final_z_rotations_are_kept_unless_dropped(backend: IQMBackend) -> None:
    """``s`` alone is a pure Z rotation: kept as a gate by default (two ``r``), dropped with
    ``remove_final_rzs``; the dropped form no longer has the same state in the X basis."""
    qc = QuantumCircuit(1)
    qc.h(0)
    qc.s(0)
    kept = transpile_to_IQM(qc, backend, seed_transpiler=1)
    dropped = transpile_to_IQM(qc, backend, seed_transpiler=1, remove_final_rzs=True)
    assert _equivalent(qc, kept)
    assert not _equivalent(qc, dropped)
    assert dropped.count_ops()["r"] == 1
    assert kept.count_ops()["r"] <= 2  # merged into the last r


def test_a_final_measurement_makes_the_final_rotation_free(backend: IQMBackend) -> None:
    qc = QuantumCircuit(1)
    qc.h(0)
    qc.s(0)
    qc.t(0)
    qc.measure_all()
    t = transpile(qc, backend, optimization_level=1, seed_transpiler=1)
    assert t.count_ops()["r"] == 1
    assert_counts_match(backend.run(t, shots=SHOTS).result().get_counts(), aer_counts(qc))


def test_a_symbolic_template_binds_like_the_original(backend: IQMBackend) -> None:
    """Transpile once with parameters (affine angles stay symbolic, a non-affine one is left
    as qiskit made it), bind, compare states. A wrong sign or scale of a parameter fails."""
    a, b = Parameter("a"), Parameter("b")
    qc = QuantumCircuit(2)
    qc.rx(a, 0)
    qc.ry(2 * a + 0.5, 1)
    qc.cx(0, 1)
    qc.rz(b, 1)
    qc.h(1)
    template = transpile(qc, backend, optimization_level=2, seed_transpiler=1)
    assert template.parameters
    nonlinear = QuantumCircuit(1)
    nonlinear.rx(a.sin(), 0)
    left = transpile(nonlinear, backend, optimization_level=2, seed_transpiler=1)
    for values in ({a: 0.3, b: -1.1}, {a: 2.0, b: 0.7}):
        bound = template.assign_parameters({p: values[p] for p in template.parameters})
        assert _equivalent(qc.assign_parameters(values), bound)
        assert _equivalent(
            nonlinear.assign_parameters({a: values[a]}), left.assign_parameters({a: values[a]})
        )


def test_a_conditional_survives_the_stage(backend: IQMBackend) -> None:
    """The if_else body is rebuilt on the same clbit (a body dropped, or fed by the wrong
    clbit, changes the distribution)."""
    q, c, out = QuantumRegister(2), ClassicalRegister(1, "c"), ClassicalRegister(2, "out")
    qc = QuantumCircuit(q, c, out)
    qc.rx(1.2, 0)
    qc.measure(0, c[0])
    with qc.if_test((c[0], 1)):
        qc.x(1)
    qc.h(0)
    qc.measure(q, out)
    t = transpile(qc, backend, optimization_level=3, seed_transpiler=1)
    assert t.count_ops()["if_else"] == 1
    assert_counts_match(backend.run(t, shots=SHOTS).result().get_counts(), aer_counts(qc))


def test_parallel_transpilation_keeps_the_plugin(backend: IQMBackend) -> None:
    """qiskit serialises the pass manager into worker processes: a stage that cannot travel
    there fails this test (it gives an error, or other circuits than the serial run)."""
    circuits = [_mixed(seed) for seed in (1, 2, 3)]
    serial = transpile(circuits, backend, optimization_level=1, seed_transpiler=1)
    with should_run_in_parallel.override(True):
        parallel = transpile(
            circuits, backend, optimization_level=1, seed_transpiler=1, num_processes=2
        )
    assert [c.count_ops() for c in parallel] == [c.count_ops() for c in serial]


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda b: pickle.loads(pickle.dumps(b))])
def test_a_copied_backend_transpiles_the_same(
    backend: IQMBackend, clone: Callable[[IQMBackend], IQMBackend]
) -> None:
    """qiskit-ibm-runtime's local mode and PennyLane-Qiskit deep-copy the backend: a target
    whose copy lost its device (no ``__getstate__`` for it) fails here."""
    qc = _mixed(7)
    again = clone(backend)
    assert isinstance(again.target, IQMTarget)
    ours = transpile(qc, again, optimization_level=2, seed_transpiler=1)
    assert ours == transpile(qc, backend, optimization_level=2, seed_transpiler=1)


# ------------------------------------------------------------------------- star machines
@pytest.mark.parametrize("level", [0, 1, 3])
def test_a_star_circuit_gets_moves_and_is_valid_on_the_real_target(
    star_backend: IQMBackend, level: int
) -> None:
    """Every instruction of the result is on the real target (a fictional qubit-qubit CZ
    left in would not be), and its counts agree with aer's."""
    qc = QuantumCircuit(5)
    qc.h(0)
    for i in range(1, 5):
        qc.cx(i - 1, i)
    qc.rz(0.4, 4)
    qc.h(4)
    qc.measure_all()
    t = transpile(qc, star_backend, optimization_level=level, seed_transpiler=1)
    real = star_backend.get_real_target()
    assert t.num_qubits == real.num_qubits == 7
    assert t.count_ops()["move"] >= 2
    for inst in t.data:
        qargs = tuple(t.find_bit(q).index for q in inst.qubits)
        if inst.operation.name not in ("barrier", "measure"):
            assert real.instruction_supported(inst.operation.name, qargs), (inst, qargs)
    result = star_backend.run(t, shots=SHOTS).result()
    assert_counts_match(result.get_counts(), aer_counts(qc))


def test_a_star_state_is_kept(star_backend: IQMBackend) -> None:
    qc = QuantumCircuit(4)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.t(2)
    qc.cx(2, 3)
    qc.rx(0.3, 3)
    t = transpile(qc, star_backend, optimization_level=3, seed_transpiler=1)
    assert _equivalent(qc, t)


# ------------------------------------------------------------------------- the targets
def test_target_errors_and_coherence_are_the_served_calibration(backend: IQMBackend) -> None:
    """Always there (``use_metrics`` not needed): error = 1 - fidelity for every locus."""
    cal = backend.device.calibration
    target = backend.target
    assert isinstance(target, IQMTarget)
    name = backend.index_to_qubit_name
    for (i,), props in target["r"].items():
        assert props.error == pytest.approx(1 - cal.prx_fidelity[name(i)])
        assert props.duration == pytest.approx(20e-9)
    for (i,), props in target["measure"].items():
        assert props.error == pytest.approx(1 - cal.readout_fidelity[name(i)])
    for (i, j), props in target["cz"].items():
        pair = tuple(sorted((name(i), name(j))))
        assert props.error == pytest.approx(1 - cal.cz_fidelity[pair])
    for i, qp in enumerate(target.qubit_properties):
        assert qp.t1 == pytest.approx(cal.t1[name(i)])
        assert qp.t2 == pytest.approx(cal.t2[name(i)])


def test_star_fictional_cz_error_composes_move_cz_move(star_backend: IQMBackend) -> None:
    cal = star_backend.device.calibration
    props = star_backend.target["cz"]
    for (i, j), p in props.items():
        a, b = star_backend.index_to_qubit_name(i), star_backend.index_to_qubit_name(j)
        ways = [
            1 - cal.move_fidelity[(m, "CR1")] ** 2 * cal.cz_fidelity[tuple(sorted((c, "CR1")))]
            for c, m in ((a, b), (b, a))
            if (m, "CR1") in cal.move_fidelity and tuple(sorted((c, "CR1"))) in cal.cz_fidelity
        ]
        assert any(p.error == pytest.approx(w) for w in ways)
        assert p.duration == pytest.approx(2 * 80e-9 + 40e-9)


def test_the_real_target_and_the_architecture(star_backend: IQMBackend) -> None:
    dqa = star_backend.client.get_dynamic_quantum_architecture(None)
    assert star_backend.architecture.qubits == dqa.qubits
    assert star_backend.architecture.calibration_set_id == dqa.calibration_set_id
    real = star_backend.get_real_target()
    name = star_backend.index_to_qubit_name
    cz = {frozenset(map(name, qargs)) for qargs in real["cz"]}
    assert cz == {frozenset(locus) for locus in dqa.gates["cz"].loci}
    move = {tuple(map(name, qargs)) for qargs in real["move"]}
    assert move == {tuple(locus) for locus in dqa.gates["move"].loci}
    assert real["move"][(0, 6)].error == pytest.approx(
        1 - star_backend.device.calibration.move_fidelity[("QB1", "CR1")]
    )


# ------------------------------------------------------------------------- helpers
def test_transpile_to_iqm_restricted_to_qubits_runs_there(backend: IQMBackend) -> None:
    """The result uses only the named qubits and runs there with ``qubit_index_to_name``."""
    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.measure_all()
    chosen = ["QB3", "QB4", "QB9"]
    t = transpile_to_IQM(qc, backend, restrict_to_qubits=chosen, seed_transpiler=1)
    assert t.num_qubits == 3
    names = dict(enumerate(chosen))
    sent = backend.serialize_circuit(t, qubit_index_to_name=names)
    assert {c for inst in sent.instructions for c in inst.locus} <= set(chosen)
    result = backend.run(t, shots=SHOTS, qubit_index_to_name=names).result()
    assert_counts_match(result.get_counts(), aer_counts(qc))


def test_transpile_to_iqm_keeps_existing_moves(star_backend: IQMBackend) -> None:
    from iqm_bridge.adapters.qiskit import MoveGate

    qc = QuantumCircuit(7, 2)
    qc.x(0)
    qc.append(MoveGate(), [0, 6])
    qc.append(MoveGate(), [0, 6])
    qc.h(1)
    qc.measure(0, 0)
    qc.measure(1, 1)
    with pytest.raises(ValueError, match="existing_moves_handling"):
        transpile_to_IQM(qc, star_backend)
    t = transpile_to_IQM(qc, star_backend, existing_moves_handling="keep")
    assert t.count_ops()["move"] == 2
    counts = star_backend.run(t, shots=SHOTS).result().get_counts()
    assert set(counts) == {"01", "11"}
    assert abs(counts["01"] - SHOTS / 2) <= 4 * math.sqrt(SHOTS / 4)  # 4 sigma of a fair coin


def test_optimize_single_qubit_gates_keeps_the_state(backend: IQMBackend) -> None:
    """On a level-0 transpile (qiskit's unmerged gates): fewer ``r``, the same state."""
    qc = _mixed(5)
    t = transpile(qc, backend, optimization_level=0, seed_transpiler=1)
    optimized = optimize_single_qubit_gates(t)
    inner, last = _longest_runs(optimized)
    assert inner == 1 and last <= 2
    assert optimized.count_ops()["r"] < t.count_ops()["r"]
    assert _equivalent(qc, optimized)

"""IQMSampler against the garnet emulator over HTTP, compared with cirq.Simulator."""

from __future__ import annotations

import pickle
import uuid
from typing import Any

import numpy as np
import pytest
import sympy

from iqm_bridge.core import NoMeasurementWarning

cirq = pytest.importorskip("cirq")

from iqm_bridge.adapters.cirq import IQMMoveGate, IQMResult, IQMSampler  # noqa: E402
from iqm_bridge.core.errors import (  # noqa: E402
    ConfigurationError,
    UnboundParameterError,
    UnknownOptionError,
)

SHOTS = 2000


def ghz(n: int) -> cirq.Circuit:
    q = cirq.LineQubit.range(n)
    return cirq.Circuit(
        cirq.H(q[0]), [cirq.CNOT(q[i], q[i + 1]) for i in range(n - 1)], cirq.measure(*q, key="g")
    )


def qft4(first: float = 0.4) -> cirq.Circuit:
    q = cirq.LineQubit.range(4)
    prep = [cirq.ry(first + 0.5 * i).on(qb) for i, qb in enumerate(q)] + [cirq.X(q[1])]
    return cirq.Circuit(prep, cirq.qft(*q), cirq.measure(*q, key="f"))


def random5(seed: int = 11) -> cirq.Circuit:
    domain = {
        cirq.X: 1,
        cirq.Y: 1,
        cirq.H: 1,
        cirq.S: 1,
        cirq.T: 1,
        cirq.X**0.3: 1,
        cirq.Y**-0.7: 1,
        cirq.H**0.5: 1,
        cirq.rz(0.9): 1,
        cirq.PhasedXPowGate(phase_exponent=0.2, exponent=0.4): 1,
        cirq.PhasedXZGate(x_exponent=0.3, z_exponent=0.6, axis_phase_exponent=-0.25): 1,
        cirq.CNOT: 2,
        cirq.CZ: 2,
        cirq.CZ**0.25: 2,
        cirq.CNOT**0.5: 2,
        cirq.SWAP: 2,
        cirq.SWAP**0.5: 2,
        cirq.ISWAP: 2,
        cirq.ISWAP**-0.5: 2,
        cirq.CCX: 3,
        cirq.CCZ: 3,
    }
    q = cirq.LineQubit.range(5)
    body = cirq.testing.random_circuit(
        qubits=q, n_moments=10, op_density=0.9, gate_domain=domain, random_state=seed
    )
    return body + cirq.Circuit(
        cirq.H.on_each(*q), cirq.measure(*q[:3], key="a"), cirq.measure(q[4], q[3], key="b")
    )


def feedback() -> cirq.Circuit:
    a, b, c = cirq.LineQubit.range(3)
    return cirq.Circuit(
        cirq.ry(1.1).on(a),
        cirq.measure(a, key="m"),
        cirq.X(b).with_classical_controls("m"),
        cirq.CNOT(b, c),
        cirq.ry(0.5).on(c),
        cirq.measure(b, c, key="out"),
    )


@pytest.mark.parametrize(
    "make", [lambda: ghz(5), qft4, random5, feedback], ids=["ghz5", "qft4", "random5", "feedback"]
)
def test_distribution_matches_cirq_simulator(
    sampler: IQMSampler, make: Any, same_distribution: Any, simulate: Any
) -> None:
    circuit = make()
    ours = sampler.run(circuit, repetitions=SHOTS)
    assert isinstance(ours, IQMResult)
    # cirq.Simulator samples mid-circuit measurements shot by shot: fewer oracle shots there
    mid = not circuit.are_all_measurements_terminal()
    same_distribution(ours, simulate(circuit, repetitions=3000 if mid else 20000))


def test_the_distribution_check_can_fail(
    sampler: IQMSampler, same_distribution: Any, simulate: Any
) -> None:
    """The broken variant of the check's docstring: QFT-4 run right, compared with the oracle
    of QFT-4 whose first angle is ry(0.55) instead of ry(0.4) (total variation 0.098, which the
    former summed 4-sigma bound of 0.116 let through)."""
    ours = sampler.run(qft4(), repetitions=SHOTS)
    with pytest.raises(AssertionError, match="chi2"):
        same_distribution(ours, simulate(qft4(0.55)))


def test_matrix_gate_invert_mask_and_repeated_keys(
    sampler: IQMSampler, same_distribution: Any, simulate: Any
) -> None:
    a, b = cirq.LineQubit.range(2)
    u = cirq.testing.random_unitary(2, random_state=3)
    circuit = cirq.Circuit(
        cirq.MatrixGate(u).on(a),
        cirq.measure(a, b, key="r", invert_mask=(False, True)),
        cirq.H(b),
        cirq.measure(a, b, key="r"),
        cirq.ResetChannel().on(a),
        cirq.measure(a, key="z", invert_mask=(True,)),
    )
    ours = sampler.run(circuit, repetitions=SHOTS)
    assert ours.records["r"].shape == (SHOTS, 2, 2)
    assert ours.records["z"].shape == (SHOTS, 1, 1)
    assert ours.records["z"].all()  # reset then inverted readout
    assert (ours.records["r"][:, 0, 1] == 1).all()  # b is |0>, inverted
    same_distribution(ours, simulate(circuit, repetitions=3000))


def test_multi_qubit_key_keeps_user_qubit_order(sampler: IQMSampler) -> None:
    a, b, c = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.X(c), cirq.measure(c, a, b, key="k"))
    result = sampler.run(circuit, repetitions=50)
    assert (result.measurements["k"] == [1, 0, 0]).all()


def test_sweep_of_50_points_is_one_job_in_sweep_order(
    garnet: Any, sampler: IQMSampler, same_distribution: Any, simulate: Any
) -> None:
    a, b, c = cirq.LineQubit.range(3)
    t, u = sympy.Symbol("t"), sympy.Symbol("u")
    circuit = cirq.Circuit(
        cirq.rx(2 * t + 0.5).on(a),
        cirq.Y(b) ** (u / sympy.pi),
        cirq.CNOT(a, c),
        cirq.CZ(b, c) ** t,
        cirq.measure(a, b, c, key="m"),
    )
    sweep = cirq.Linspace("t", 0, 1, 10) * cirq.Linspace("u", -1, 2, 5)
    before = garnet.job_count()
    results = sampler.run_sweep(circuit, sweep, repetitions=500)
    assert garnet.job_count() - before == 1
    assert len(results) == 50
    assert [r.params for r in results] == list(cirq.to_resolvers(sweep))
    assert len({r.metadata.job_id for r in results}) == 1
    assert [r.metadata.circuit_index for r in results] == list(range(50))
    for i in (0, 17, 49):
        point = results[i].params
        same_distribution(results[i], simulate(cirq.resolve_parameters(circuit, point)))


def test_non_affine_parameters_resolved_per_point(
    garnet: Any, sampler: IQMSampler, same_distribution: Any, simulate: Any
) -> None:
    (a,) = cirq.LineQubit.range(1)
    t = sympy.Symbol("t")
    circuit = cirq.Circuit(cirq.X(a) ** (t**2), cirq.measure(a, key="m"))
    before = garnet.job_count()
    results = sampler.run_sweep(circuit, cirq.Points("t", [0.0, 0.5, 1.0]), repetitions=SHOTS)
    assert garnet.job_count() - before == 1
    for r in results:
        same_distribution(r, simulate(cirq.resolve_parameters(circuit, r.params)))


def test_batch_is_one_job(garnet: Any, sampler: IQMSampler) -> None:
    t = sympy.Symbol("t")
    (a,) = cirq.LineQubit.range(1)
    swept = cirq.Circuit(cirq.X(a) ** t, cirq.measure(a, key="x"))
    before = garnet.job_count()
    out = sampler.run_batch([ghz(3), swept], [None, cirq.Points("t", [0.0, 1.0])], repetitions=100)
    assert garnet.job_count() - before == 1
    assert [len(r) for r in out] == [1, 2]
    assert out[1][0].measurements["x"].sum() == 0
    assert out[1][1].measurements["x"].all()


def test_max_circuits_splits_the_job(garnet: Any) -> None:
    sampler = IQMSampler(garnet.url, max_circuits=4)
    (a,) = cirq.LineQubit.range(1)
    t = sympy.Symbol("t")
    circuit = cirq.Circuit(cirq.X(a) ** t, cirq.measure(a, key="x"))
    before = garnet.job_count()
    results = sampler.run_sweep(circuit, cirq.Points("t", [0, 1] * 5), repetitions=20)
    assert garnet.job_count() - before == 3
    assert [int(r.measurements["x"].all()) for r in results] == [0, 1] * 5
    meta = [r.metadata for r in results]
    assert len(set(meta[0].job_ids)) == 3 and all(m.job_ids == meta[0].job_ids for m in meta)
    # each result names the server job that ran it: 4, 4 and 2 circuits
    assert [m.job_ids.index(str(m.job_id)) for m in meta] == [0] * 4 + [1] * 4 + [2] * 2


def test_async_run(sampler: IQMSampler) -> None:
    import duet

    result = duet.run(sampler.run_async, ghz(2), repetitions=100)
    hist = result.histogram(key="g")
    assert set(hist) <= {0, 3}

    results = duet.run(sampler.run_batch_async, [ghz(2), ghz(3)], None, 50)
    assert set(results[1][0].histogram(key="g")) <= {0, 7}


def test_sample_dataframe(sampler: IQMSampler) -> None:
    frame = sampler.sample(ghz(2), repetitions=20)
    assert set(frame["g"]) <= {0, 3}


def test_metadata_has_calibration_set(sampler: IQMSampler) -> None:
    result = sampler.run(ghz(2), repetitions=10)
    assert isinstance(result.metadata.job_id, uuid.UUID)
    assert str(result.metadata.calibration_set_id) == sampler.connection.device.calibration_set_id
    assert result.metadata.request.shots == 10
    again = pickle.loads(pickle.dumps(result))  # the definition travels, not the connection
    assert again == result and again.metadata == result.metadata
    assert again.metadata.request == result.metadata.request


@pytest.mark.parametrize("kind", ["named_qubit", "named_qid"])
def test_device_qubits_run_in_place(sampler: IQMSampler, kind: str) -> None:
    """Also on ``cirq.NamedQid(.., dimension=2)``, the official device's qubit type."""
    if kind == "named_qubit":
        q1, q2 = cirq.NamedQubit("QB1"), cirq.NamedQubit("QB2")
    else:
        q1, q2 = (cirq.NamedQid(n, dimension=2) for n in ("QB1", "QB2"))
    circuit = cirq.Circuit(cirq.X(q2), cirq.CNOT(q2, q1), cirq.measure(q1, q2, key="m"))
    result = sampler.run(circuit, repetitions=30)
    assert (result.measurements["m"] == [1, 1]).all()
    sent = sampler.create_circuit_job_definition(circuit).circuits[0].instructions
    assert {q for i in sent for q in i.locus} == {"QB1", "QB2"}


def test_errors_no_measurement_unbound_and_options(sampler: IQMSampler, garnet: Any) -> None:
    (a,) = cirq.LineQubit.range(1)
    with pytest.warns(NoMeasurementWarning, match="no measurements"):
        silent = sampler.run(cirq.Circuit(cirq.X(a)), repetitions=5)
    assert dict(silent.records) == {}
    for bad in ("10", 2.5, None):
        with pytest.raises(ConfigurationError, match="repetitions"):
            sampler.run(cirq.Circuit(cirq.X(a), cirq.measure(a, key="m")), repetitions=bad)
    assert (
        sampler.run(
            cirq.Circuit(cirq.X(a), cirq.measure(a, key="m")), repetitions=np.int64(7)
        ).repetitions
        == 7
    )
    t = sympy.Symbol("theta")
    with pytest.raises(UnboundParameterError, match="'theta'"):
        sampler.run(cirq.Circuit(cirq.X(a) ** t, cirq.measure(a, key="m")))
    with pytest.raises(UnknownOptionError, match="shotz"):
        IQMSampler(garnet.url, shotz=3)
    with pytest.raises(ConfigurationError, match="repetitions"):
        IQMSampler(garnet.url, shots=3)


def test_star_machine(deneb: Any, same_distribution: Any, simulate: Any) -> None:
    sampler = IQMSampler(deneb.url)
    circuit = ghz(4)
    same_distribution(sampler.run(circuit, repetitions=SHOTS), simulate(circuit))
    np.testing.assert_equal(len(sampler.device.resonators), 1)


def test_circuit_operations_are_flattened_with_their_keys(
    sampler: IQMSampler, same_distribution: Any, simulate: Any
) -> None:
    """Repetitions with ids give keys ``0:z``, ``1:z``; without ids, records of one key."""
    a, b = cirq.LineQubit.range(2)
    body = cirq.FrozenCircuit(cirq.ry(0.9)(a), cirq.CNOT(a, b), cirq.measure(a, b, key="z"))
    circuit = cirq.Circuit(
        cirq.CircuitOperation(body, repetitions=2, use_repetition_ids=True),
        cirq.CircuitOperation(
            body, repetitions=2, use_repetition_ids=False
        ).with_measurement_key_mapping({"z": "w"}),
    )
    ours = sampler.run(circuit, repetitions=SHOTS)
    assert set(ours.records) == {"0:z", "1:z", "w"}
    assert ours.records["w"].shape == (SHOTS, 2, 2)
    same_distribution(ours, simulate(circuit, repetitions=3000))


def test_create_circuit_job_definition(sampler: IQMSampler) -> None:
    (a,) = cirq.LineQubit.range(1)
    t = sympy.Symbol("t")
    swept = cirq.Circuit(cirq.H(a) ** t, cirq.measure(a, key="x"))
    definition = sampler.create_circuit_job_definition(
        swept, params=cirq.Points("t", [0.0, 0.5, 1.0]), repetitions=7
    )
    assert definition.shots == 7 and len(definition.circuits) == 3
    names = {i.name for c in definition.circuits for i in c.instructions}
    assert names <= {"prx", "cz", "measure"}, names
    batch = sampler.create_circuit_job_definition([ghz(2), ghz(3)], repetitions=5)
    assert [len([i for i in c.instructions if i.name == "cz"]) for c in batch.circuits] == [1, 2]


def test_device_argument_must_be_the_servers(garnet: Any, deneb: Any) -> None:
    from iqm_bridge.adapters.cirq import Apollo, IncompatibleDeviceError

    apollo = Apollo()  # Garnet's lattice: accepted, and it is what the sampler then offers
    assert IQMSampler(garnet.url, device=apollo).device is apollo
    with pytest.raises(IncompatibleDeviceError, match="not the architecture of garnet") as info:
        IQMSampler(garnet.url, device=IQMSampler(deneb.url).device)
    assert isinstance(info.value, ValueError)


def test_hand_written_move_circuit_with_x_and_y(deneb: Any) -> None:
    q1, q2, cr = (cirq.NamedQubit(n) for n in ("QB1", "QB2", "CR1"))
    move = IQMMoveGate()
    circuit = cirq.Circuit(
        cirq.X(q1),
        cirq.Y(q2) ** 0.5,
        move(q1, cr),
        cirq.CZ(q2, cr),
        move(q1, cr),
        cirq.Y(q2) ** -0.5,
        cirq.measure(q1, q2, key="m"),
    )
    counts = IQMSampler(deneb.url).run(circuit, repetitions=50).histogram(key="m")
    assert dict(counts) == {0b11: 50}  # the |1> moved into CR1 makes the CZ flip QB2


def test_guide_helpers(garnet: Any, deneb: Any) -> None:
    from iqm_bridge.adapters.cirq import simplify_circuit, transpile_insert_moves_into_circuit

    q = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(
        cirq.H(q[0]),
        cirq.T(q[0]),
        cirq.X(q[0]) ** 0.3,
        cirq.CNOT(*q),
        cirq.S(q[1]),
        cirq.measure(*q, key="m"),
    )
    simple = simplify_circuit(circuit)
    assert len(list(simple.all_operations())) < len(list(cirq.decompose(circuit)))
    np.testing.assert_allclose(_probabilities(simple, q), _probabilities(circuit, q), atol=1e-7)
    star = IQMSampler(deneb.url)
    q1, q3 = cirq.NamedQubit("QB1"), cirq.NamedQubit("QB3")
    on_qubits = cirq.Circuit(cirq.H(q1), cirq.CNOT(q1, q3), cirq.measure(q1, q3, key="m"))
    moved = transpile_insert_moves_into_circuit(on_qubits, star.device)
    assert any(isinstance(op.gate, IQMMoveGate) for op in moved.all_operations())
    star.device.validate_circuit(moved)
    assert moved.all_qubits() - {q1, q3} == {cirq.NamedQubit("CR1")}
    assert set(star.run(moved, repetitions=100).histogram(key="m")) <= {0, 3}
    # a circuit already holding valid MOVEs is kept as it is
    assert transpile_insert_moves_into_circuit(moved, star.device) == moved


def _probabilities(circuit: cirq.Circuit, qubits: list[Any]) -> np.ndarray:
    state = cirq.final_state_vector(
        cirq.drop_terminal_measurements(circuit),
        qubit_order=qubits,
        ignore_terminal_measurements=True,
    )
    return np.abs(state) ** 2

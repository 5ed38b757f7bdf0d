"""``IQMSampler``: running cirq circuits, sweeps and batches; results and their metadata.

Behaviours of ``iqm.cirq_iqm`` 36: ``IQMSampler(url, *, quantum_computer=None, device=None,
calibration_set_id=None, run_sweep_timeout=None, compiler_options=None, use_timeslot=False,
**auth)`` is a ``cirq.Sampler``; ``run_sweep`` sends one job for all sweep points;
``run_iqm_batch(circuits, repetitions)`` one job for a list of circuits; results are
``IQMResult`` s (``cirq.ResultDict``) keyed by the circuit's measurement keys, each with a
``ResultMetadata(job_id: UUID, calibration_set_id: UUID, request: CircuitJobDefinition)``;
a job not finished within ``run_sweep_timeout`` is cancelled and raises iqm-client's
``OperationTimeoutError``.
"""

from __future__ import annotations

import math
import uuid

import cirq
import numpy as np
import pytest
import sympy
from _compat_helpers import (
    assert_count,
    assert_distribution,
    assert_is,
    cirq_sampler,
    histogram_of,
    qb,
    server_architecture,
)

pytestmark = pytest.mark.compat

SHOTS = 1000
HALF = cirq.PhasedXPowGate(phase_exponent=0.5, exponent=0.5)  # ry(pi/2) up to phase


def _bell_native(a, b, key: str = "m"):
    """A Bell pair in natives on coupled qubits ``a``, ``b``."""
    return cirq.Circuit(HALF(a), HALF(b), cirq.CZ(a, b), (HALF**-1)(b), cirq.measure(a, b, key=key))


def test_sampler_is_a_cirq_sampler_with_a_device(flavour, garnet_url):
    sampler = cirq_sampler(flavour, garnet_url)
    assert_is(sampler, cirq.Sampler)
    assert_is(sampler.device, flavour.cirq.IQMDevice)


def test_run_returns_measurements_by_key(flavour, garnet_url):
    a, b = qb("QB1", "QB2")
    circuit = cirq.Circuit(cirq.X(a), cirq.measure(a, b, key="m"))
    result = cirq_sampler(flavour, garnet_url).run(circuit, repetitions=25)
    assert_is(result, cirq.Result)
    assert_is(result, flavour.cirq.IQMResult)
    assert result.repetitions == 25
    rows = result.measurements["m"]
    assert rows.shape == (25, 2)
    assert rows.tolist() == [[1, 0]] * 25


def test_qubit_order_within_a_key_is_the_measure_order(flavour, garnet_url):
    a, b = qb("QB1", "QB2")
    circuit = cirq.Circuit(cirq.X(a), cirq.measure(b, a, key="m"))
    rows = cirq_sampler(flavour, garnet_url).run(circuit, repetitions=5).measurements["m"]
    assert rows.tolist() == [[0, 1]] * 5


def test_several_keys(flavour, garnet_url):
    a, b, c = qb("QB1", "QB2", "QB5")
    circuit = cirq.Circuit(
        cirq.X(a), cirq.X(c), cirq.measure(a, key="first"), cirq.measure(b, c, key="rest")
    )
    result = cirq_sampler(flavour, garnet_url).run(circuit, repetitions=6)
    assert set(result.measurements) == {"first", "rest"}
    assert result.measurements["first"].tolist() == [[1]] * 6
    assert result.measurements["rest"].tolist() == [[0, 1]] * 6


def test_bell_pair_statistics_and_histogram(flavour, garnet_url):
    result = cirq_sampler(flavour, garnet_url).run(
        _bell_native(*qb("QB1", "QB2")), repetitions=SHOTS
    )
    histogram = result.histogram(key="m")
    assert set(histogram) <= {0, 3}
    assert_count(histogram[0], SHOTS, 0.5, "|00>")


def test_result_data_frame(flavour, garnet_url):
    a = qb("QB1")
    result = cirq_sampler(flavour, garnet_url).run(
        cirq.Circuit(cirq.X(a), cirq.measure(a, key="z")), repetitions=4
    )
    assert list(result.data.columns) == ["z"]
    assert result.data["z"].tolist() == [1, 1, 1, 1]


def test_run_sweep_gives_one_result_per_point_in_order(flavour, garnet_url):
    a = qb("QB1")
    t = sympy.Symbol("t")
    circuit = cirq.Circuit(cirq.X(a) ** t, cirq.measure(a, key="r"))
    sweep = cirq.Linspace("t", 0, 1, 3)
    results = cirq_sampler(flavour, garnet_url).run_sweep(circuit, sweep, repetitions=SHOTS)
    assert len(results) == 3
    for point, result in zip(sweep, results, strict=True):
        assert result.params == point
        p1 = math.sin(math.pi * point.value_of(t) / 2) ** 2
        assert_count(int(result.measurements["r"].sum()), SHOTS, p1, f"t={point.value_of(t)}")


def test_run_with_a_param_resolver(flavour, garnet_url):
    a = qb("QB1")
    circuit = cirq.Circuit(cirq.X(a) ** sympy.Symbol("t"), cirq.measure(a, key="r"))
    result = cirq_sampler(flavour, garnet_url).run(circuit, {"t": 1.0}, repetitions=7)
    assert result.measurements["r"].tolist() == [[1]] * 7


def test_product_sweep(flavour, garnet_url):
    a, b = qb("QB1", "QB2")
    circuit = cirq.Circuit(
        cirq.X(a) ** sympy.Symbol("s"), cirq.X(b) ** sympy.Symbol("u"), cirq.measure(a, b, key="m")
    )
    sweep = cirq.Points("s", [0, 1]) * cirq.Points("u", [0, 1])
    results = cirq_sampler(flavour, garnet_url).run_sweep(circuit, sweep, repetitions=3)
    observed = [r.measurements["m"][0].tolist() for r in results]
    assert observed == [[0, 0], [0, 1], [1, 0], [1, 1]]


def test_sample_gives_a_data_frame_with_the_parameters(flavour, garnet_url):
    a = qb("QB1")
    circuit = cirq.Circuit(cirq.X(a) ** sympy.Symbol("t"), cirq.measure(a, key="r"))
    frame = cirq_sampler(flavour, garnet_url).sample(
        circuit, params=cirq.Points("t", [0, 1]), repetitions=3
    )
    assert sorted(frame.columns) == ["r", "t"]
    assert frame["r"].tolist() == [0, 0, 0, 1, 1, 1]


def test_run_iqm_batch(flavour, garnet_url):
    a, b = qb("QB1", "QB2")
    circuits = [
        cirq.Circuit(cirq.X(a), cirq.measure(a, b, key="m")),
        cirq.Circuit(cirq.X(b), cirq.measure(a, b, key="m")),
    ]
    results = cirq_sampler(flavour, garnet_url).run_iqm_batch(circuits, repetitions=4)
    assert len(results) == 2
    for r in results:
        assert_is(r, flavour.cirq.IQMResult)
    assert results[0].measurements["m"].tolist() == [[1, 0]] * 4
    assert results[1].measurements["m"].tolist() == [[0, 1]] * 4


def test_cirq_run_batch(flavour, garnet_url):
    a = qb("QB1")
    t = sympy.Symbol("t")
    circuits = [
        cirq.Circuit(cirq.X(a), cirq.measure(a, key="r")),
        cirq.Circuit(cirq.X(a) ** t, cirq.measure(a, key="r")),
    ]
    results = cirq_sampler(flavour, garnet_url).run_batch(
        circuits, [None, cirq.Points("t", [0, 1])], repetitions=3
    )
    assert [len(r) for r in results] == [1, 2]
    assert results[0][0].measurements["r"].tolist() == [[1]] * 3
    assert [r.measurements["r"][0, 0] for r in results[1]] == [0, 1]


def test_result_metadata(flavour, garnet_url):
    """``ResultMetadata``: the job's UUID, the calibration set and the job definition sent."""
    a = qb("QB1")
    result = cirq_sampler(flavour, garnet_url).run(
        cirq.Circuit(cirq.X(a), cirq.measure(a, key="z")), repetitions=9
    )
    metadata = result.metadata
    assert_is(metadata, flavour.cirq.ResultMetadata)
    assert_is(metadata.job_id, uuid.UUID)
    assert metadata.calibration_set_id == server_architecture(garnet_url).calibration_set_id
    assert metadata.request.shots == 9


def test_every_sweep_point_shares_the_job(flavour, garnet_url):
    a = qb("QB1")
    circuit = cirq.Circuit(cirq.X(a) ** sympy.Symbol("t"), cirq.measure(a, key="r"))
    results = cirq_sampler(flavour, garnet_url).run_sweep(
        circuit, cirq.Linspace("t", 0, 1, 4), repetitions=2
    )
    assert len({str(r.metadata.job_id) for r in results}) == 1


def test_sampler_with_a_calibration_set_id(flavour, garnet_url):
    cal_id = server_architecture(garnet_url).calibration_set_id
    sampler = cirq_sampler(flavour, garnet_url, calibration_set_id=cal_id)
    a = qb("QB1")
    result = sampler.run(cirq.Circuit(cirq.X(a), cirq.measure(a, key="z")), repetitions=3)
    assert result.metadata.calibration_set_id == cal_id
    assert result.measurements["z"].tolist() == [[1]] * 3


def test_sampler_with_compiler_options(flavour, garnet_url):
    from iqm.iqm_client import CircuitCompilationOptions, HeraldingMode

    options = CircuitCompilationOptions(
        heralding_mode=HeraldingMode.ZEROS, max_circuit_duration_over_t2=0.0
    )
    sampler = cirq_sampler(flavour, garnet_url, compiler_options=options)
    a = qb("QB1")
    result = sampler.run(cirq.Circuit(cirq.X(a), cirq.measure(a, key="z")), repetitions=20)
    assert result.measurements["z"].tolist() == [[1]] * 20


def test_sampler_with_run_sweep_timeout(flavour, garnet_url):
    sampler = cirq_sampler(flavour, garnet_url, run_sweep_timeout=120)
    result = sampler.run(_bell_native(*qb("QB1", "QB2")), repetitions=SHOTS)
    assert_distribution(histogram_of(result, "m"), {"00": 0.5, "11": 0.5})


@pytest.mark.slow
def test_run_sweep_timeout_raises_the_iqm_timeout_error(flavour, queued_url):
    from exa.common.errors.iqm_error import OperationTimeoutError

    sampler = cirq_sampler(flavour, queued_url, run_sweep_timeout=0.5)
    a = qb("QB1")
    with pytest.raises(OperationTimeoutError):
        sampler.run(cirq.Circuit(cirq.X(a), cirq.measure(a, key="z")), repetitions=3)


def test_sampler_accepts_its_own_device(flavour, garnet_url):
    device = cirq_sampler(flavour, garnet_url).device
    sampler = cirq_sampler(flavour, garnet_url, device=device)
    assert sampler.device == device
    a = qb("QB1")
    result = sampler.run(cirq.Circuit(cirq.X(a), cirq.measure(a, key="z")), repetitions=2)
    assert result.measurements["z"].tolist() == [[1]] * 2


def test_create_circuit_job_definition(flavour, garnet_url):
    sampler = cirq_sampler(flavour, garnet_url)
    a, b = qb("QB1", "QB2")
    one = cirq.Circuit(cirq.X(a), cirq.measure(a, key="z"))
    two = cirq.Circuit(cirq.X(b), cirq.measure(b, key="z"))
    definition = sampler.create_circuit_job_definition(one, repetitions=7)
    assert definition.shots == 7
    assert len(definition.circuits) == 1
    assert len(sampler.create_circuit_job_definition([one, two], repetitions=3).circuits) == 2


def test_classically_controlled_gate(flavour, garnet_url):
    a, b = qb("QB1", "QB2")
    circuit = cirq.Circuit(
        HALF(a),
        cirq.measure(a, key="a"),
        cirq.X(b).with_classical_controls("a"),
        cirq.measure(b, key="b"),
    )
    result = cirq_sampler(flavour, garnet_url).run(circuit, repetitions=SHOTS)
    pairs = np.concatenate([result.measurements["a"], result.measurements["b"]], axis=1)
    counts = {}
    for row in pairs.tolist():
        counts["".join(map(str, row))] = counts.get("".join(map(str, row)), 0) + 1
    assert_distribution(counts, {"00": 0.5, "11": 0.5})


def test_reset(flavour, garnet_url):
    a = qb("QB1")
    circuit = cirq.Circuit(cirq.X(a), cirq.ResetChannel().on(a), cirq.measure(a, key="z"))
    result = cirq_sampler(flavour, garnet_url).run(circuit, repetitions=10)
    assert result.measurements["z"].tolist() == [[0]] * 10


def test_circuit_operation_with_a_measurement_after_decomposition(flavour, garnet_url):
    """A sub-circuit (``cirq.CircuitOperation``) holding a measurement, flattened by decompose."""
    sampler = cirq_sampler(flavour, garnet_url)
    a = qb("QB1")
    inner = cirq.FrozenCircuit(cirq.X(a), cirq.measure(a, key="z"))
    circuit = sampler.device.decompose_circuit(cirq.Circuit(cirq.CircuitOperation(inner)))
    result = sampler.run(circuit, repetitions=5)
    assert result.measurements["z"].tolist() == [[1]] * 5


def test_circuit_without_measurements_gives_an_empty_result(flavour, garnet_url):
    a = qb("QB1")
    result = cirq_sampler(flavour, garnet_url).run(cirq.Circuit(cirq.X(a)), repetitions=3)
    assert dict(result.measurements) == {}


def test_move_sandwich_on_a_star(flavour, deneb_url):
    q1, cr1 = qb("QB1", "CR1")
    move = flavour.cirq.IQMMoveGate()
    circuit = cirq.Circuit(cirq.X(q1), move(q1, cr1), move(q1, cr1), cirq.measure(q1, key="z"))
    result = cirq_sampler(flavour, deneb_url).run(circuit, repetitions=10)
    assert result.measurements["z"].tolist() == [[1]] * 10


def test_cz_through_the_resonator(flavour, deneb_url):
    """A Bell pair of QB1 and QB2: MOVE QB1 in, CZ(QB2, CR1), MOVE QB1 out."""
    q1, q2, cr1 = qb("QB1", "QB2", "CR1")
    move = flavour.cirq.IQMMoveGate()
    circuit = cirq.Circuit(
        HALF(q1),
        HALF(q2),
        move(q1, cr1),
        cirq.CZ(q2, cr1),
        move(q1, cr1),
        (HALF**-1)(q2),
        cirq.measure(q1, q2, key="m"),
    )
    result = cirq_sampler(flavour, deneb_url).run(circuit, repetitions=SHOTS)
    assert_distribution(histogram_of(result, "m"), {"00": 0.5, "11": 0.5})


def test_sampler_authenticates_with_a_token(flavour):
    """``IQMSampler(url, token=...)`` on a server that requires a bearer token."""
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=False, seed=5, token="s3cret") as url:
        sampler = cirq_sampler(flavour, url, token="s3cret")
        a = qb("QB1")
        result = sampler.run(cirq.Circuit(cirq.X(a), cirq.measure(a, key="z")), repetitions=3)
    assert result.measurements["z"].tolist() == [[1]] * 3


def test_sampler_in_the_timeslot_queue(flavour, garnet_url):
    """``IQMSampler(url, use_timeslot=True)`` (the emulator serves both queues alike)."""
    sampler = cirq_sampler(flavour, garnet_url, use_timeslot=True)
    result = sampler.run(_bell_native(*qb("QB1", "QB2")), repetitions=SHOTS)
    assert_distribution(histogram_of(result, "m"), {"00": 0.5, "11": 0.5})

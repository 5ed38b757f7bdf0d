"""``backend.run`` and the qiskit ``Result`` it gives: counts, memory, bit order, options.

Behaviours of ``iqm.qiskit_iqm`` 36: ``run(run_input, *, use_timeslot=False, **options)`` with
the options of ``create_circuit_job_definition`` (``shots=1024``,
``circuit_compilation_options: CircuitCompilationOptions``, ``circuit_callback``,
``qubit_index_to_name``; unknown ones only warn); one server job per call; results in qiskit's
little-endian order, registers separated by spaces; per-shot memory always present; every
experiment carries the calibration set id; the ``Result`` carries the job's ``timeline``.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter

import pytest
from _compat_helpers import (
    assert_count,
    assert_distribution,
    assert_ghz_counts,
    assert_is,
    ghz,
    qiskit_backend,
    server_architecture,
    transpiled,
    wait_until,
)

pytestmark = pytest.mark.compat

SHOTS = 1000


def _x_on(qubits: list[int], n: int = 3, name: str | None = None):
    """A circuit flipping ``qubits`` of ``n`` and measuring all into register ``meas``."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n, name=name)
    for q in qubits:
        qc.x(q)
    qc.measure_all()
    return qc


def _header_name(experiment) -> str:
    """The circuit name in an experiment result's header (a dict in qiskit 2)."""
    header = experiment.header
    return header["name"] if isinstance(header, dict) else header.name


def test_run_gives_a_job_whose_counts_are_the_ghz_state(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    job = backend.run(transpiled(ghz(3), backend), shots=SHOTS)
    assert_is(job, flavour.qiskit.IQMJob)
    assert_ghz_counts(job.result().get_counts(), 3)


def test_twenty_qubit_ghz(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    counts = backend.run(transpiled(ghz(20), backend), shots=SHOTS).result().get_counts()
    assert_ghz_counts(counts, 20)


def test_a_circuit_or_a_list_of_one(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    circuit = transpiled(_x_on([1]), backend)
    for run_input in (circuit, [circuit]):
        result = backend.run(run_input, shots=10).result()
        assert len(result.results) == 1
        assert result.get_counts() == {"010": 10}


def test_default_shots_is_1024(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    result = backend.run(transpiled(_x_on([0]), backend)).result()
    assert result.results[0].shots == 1024
    assert result.get_counts() == {"001": 1024}


@pytest.mark.parametrize("shots", [1, 37, 2000])
def test_custom_shots(flavour, garnet_url, shots):
    backend = qiskit_backend(flavour, garnet_url)
    result = backend.run(transpiled(_x_on([2]), backend), shots=shots).result()
    assert result.results[0].shots == shots
    assert result.get_counts() == {"100": shots}


def test_batch_results_keep_the_circuit_order(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    circuits = [_x_on(bits, name=f"c{i}") for i, bits in enumerate([[0], [1], [0, 2]])]
    result = backend.run(transpiled(circuits, backend), shots=20).result()
    assert result.get_counts() == [{"001": 20}, {"010": 20}, {"101": 20}]
    assert result.get_counts(1) == {"010": 20}
    assert result.get_counts("c2") == {"101": 20}


def test_counts_by_circuit_object(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    circuits = transpiled([_x_on([0], name="first"), _x_on([1], name="second")], backend)
    result = backend.run(circuits, shots=10).result()
    assert result.get_counts(circuits[1]) == {"010": 10}
    assert [_header_name(r) for r in result.results] == ["first", "second"]


def test_empty_list_raises_value_error(flavour, garnet_url):
    with pytest.raises(ValueError):
        qiskit_backend(flavour, garnet_url).run([], shots=10)


def test_bit_order_is_little_endian_with_registers_separated(flavour, garnet_url):
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

    q, a, b = QuantumRegister(3), ClassicalRegister(2, "a"), ClassicalRegister(1, "b")
    qc = QuantumCircuit(q, a, b)
    qc.x(0)
    qc.x(2)
    qc.measure(0, a[0])
    qc.measure(1, a[1])
    qc.measure(2, b[0])
    backend = qiskit_backend(flavour, garnet_url)
    result = backend.run(transpiled(qc, backend), shots=8).result()
    assert result.get_counts() == {"1 01": 8}
    assert result.get_memory() == ["1 01"] * 8


def test_unmeasured_bits_of_a_register_read_zero(flavour, garnet_url):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.x(1)
    qc.measure(1, 1)
    backend = qiskit_backend(flavour, garnet_url)
    assert backend.run(transpiled(qc, backend), shots=5).result().get_counts() == {"010": 5}


def test_memory_is_always_in_the_result(flavour, garnet_url):
    """The official result has per-shot memory without asking for it."""
    backend = qiskit_backend(flavour, garnet_url)
    result = backend.run(transpiled(ghz(3), backend), shots=300).result()
    memory = result.get_memory()
    assert len(memory) == 300
    assert set(memory) <= {"000", "111"}
    assert Counter(memory) == result.get_counts()


def test_memory_of_each_circuit_of_a_batch(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    circuits = transpiled([_x_on([0]), _x_on([1, 2])], backend)
    result = backend.run(circuits, shots=4).result()
    assert result.get_memory(0) == ["001"] * 4
    assert result.get_memory(1) == ["110"] * 4


def test_result_names_the_backend_and_the_job(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    job = backend.run(transpiled(_x_on([0], name="named"), backend), shots=5)
    result = job.result()
    assert result.success is True
    assert result.backend_name == backend.name
    assert result.job_id == job.job_id()
    assert _header_name(result.results[0]) == "named"


def test_every_experiment_reports_the_calibration_set(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    cal_id = server_architecture(garnet_url).calibration_set_id
    result = backend.run(transpiled([_x_on([0]), _x_on([1])], backend), shots=5).result()
    assert [str(r.calibration_set_id) for r in result.results] == [str(cal_id)] * 2


def test_result_carries_the_job_timeline(flavour, garnet_url):
    """``result.timeline``: the server's timeline entries, from creation to completion."""
    backend = qiskit_backend(flavour, garnet_url)
    result = backend.run(transpiled(_x_on([0]), backend), shots=5).result()
    statuses = [entry.status for entry in result.timeline]
    assert statuses[0] == "created"
    assert statuses[-1] == "completed"


def test_unknown_run_option_only_warns(flavour, garnet_url, request):
    if not flavour.is_official:
        request.applymarker(
            pytest.mark.xfail(
                strict=True,
                reason="deliberate: iqm-bridge refuses an unknown run option (a misspelt option "
                "would otherwise run with its default) with an UnknownOptionError that lists "
                "the valid names; see docs/migration.md",
            )
        )
    backend = qiskit_backend(flavour, garnet_url)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        job = backend.run(transpiled(_x_on([0]), backend), shots=5, not_an_option=17)
    categories = [w.category.__name__ for w in caught]
    assert any(issubclass(w.category, UserWarning) for w in caught), (
        f"no UserWarning for the unknown option (warnings: {categories})"
    )
    assert job.result().get_counts() == {"001": 5}


def test_circuit_compilation_options_heralding(flavour, garnet_url):
    """Heralding on a noiseless machine keeps every shot."""
    from iqm.iqm_client import CircuitCompilationOptions, HeraldingMode

    backend = qiskit_backend(flavour, garnet_url)
    options = CircuitCompilationOptions(heralding_mode=HeraldingMode.ZEROS)
    job = backend.run(
        transpiled(_x_on([1]), backend), shots=50, circuit_compilation_options=options
    )
    assert job.result().get_counts() == {"010": 50}


def test_circuit_compilation_options_duration_check_off(flavour, garnet_url):
    from iqm.iqm_client import CircuitCompilationOptions

    backend = qiskit_backend(flavour, garnet_url)
    options = CircuitCompilationOptions(max_circuit_duration_over_t2=0.0)
    job = backend.run(transpiled(ghz(4), backend), shots=SHOTS, circuit_compilation_options=options)
    assert_ghz_counts(job.result().get_counts(), 4)


def test_circuit_callback_sees_the_circuits(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    circuits = transpiled([_x_on([0], name="one"), _x_on([1], name="two")], backend)
    seen: list[list[str]] = []

    def callback(batch) -> None:
        seen.append([c.name for c in batch])

    job = backend.run(circuits, shots=5, circuit_callback=callback)
    assert seen == [["one", "two"]]
    assert job.result().get_counts() == [{"001": 5}, {"010": 5}]


def test_circuit_without_measurements_runs(flavour, garnet_url):
    """The official backend submits a circuit that measures nothing; its job completes."""
    from qiskit import QuantumCircuit
    from qiskit.providers import JobStatus

    qc = QuantumCircuit(2)
    qc.x(0)
    backend = qiskit_backend(flavour, garnet_url)
    job = backend.run(transpiled(qc, backend), shots=5)
    assert wait_until(lambda: job.status() in (JobStatus.DONE, JobStatus.ERROR))
    assert job.status() == JobStatus.DONE


def test_delay_and_barrier_run(flavour, garnet_url):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.delay(100, 0, unit="ns")
    qc.barrier()
    qc.measure([0, 1], [0, 1])
    backend = qiskit_backend(flavour, garnet_url)
    assert backend.run(transpiled(qc, backend), shots=10).result().get_counts() == {"01": 10}


def test_feedback_and_reset(flavour, garnet_url):
    """A gate conditioned on a measurement, and a reset, against exact probabilities."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

    q, c = QuantumRegister(3), ClassicalRegister(3)
    qc = QuantumCircuit(q, c)
    qc.rx(1.1, 0)
    qc.measure(0, 0)
    with qc.if_test((c[0], 1)):
        qc.x(1)
    qc.reset(0)
    qc.rx(math.pi / 2, 0)
    qc.h(2)
    qc.measure(0, 1)
    qc.measure(1, 2)
    backend = qiskit_backend(flavour, garnet_url)
    counts = backend.run(transpiled(qc, backend), shots=2000).result().get_counts()
    p1 = math.sin(0.55) ** 2
    assert_distribution(
        counts, {"000": (1 - p1) / 2, "010": (1 - p1) / 2, "101": p1 / 2, "111": p1 / 2}
    )


def test_job_records_the_circuit_metadata(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    first, second = _x_on([0]), _x_on([1])
    first.metadata = {"angle": 0.1}
    second.metadata = {"angle": 0.2}
    job = backend.run(transpiled([first, second], backend), shots=5)
    assert job.circuit_metadata == [{"angle": 0.1}, {"angle": 0.2}]


def test_max_circuits_does_not_change_the_results(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    backend.max_circuits = 2
    circuits = transpiled([_x_on([i]) for i in range(3)], backend)
    result = backend.run(circuits, shots=5).result()
    assert result.get_counts() == [{"001": 5}, {"010": 5}, {"100": 5}]


def test_superposition_statistics(flavour, garnet_url):
    """rx(theta) then measure: P(1) = sin^2(theta/2), within 5 sigma at 4000 shots."""
    from qiskit import QuantumCircuit

    theta = 1.0
    qc = QuantumCircuit(1)
    qc.rx(theta, 0)
    qc.measure_all()
    backend = qiskit_backend(flavour, garnet_url)
    counts = backend.run(transpiled(qc, backend), shots=4000).result().get_counts()
    assert_count(counts.get("1", 0), 4000, math.sin(theta / 2) ** 2, "rx(1.0)")


def test_create_circuit_job_definition_then_submit_with_the_client(flavour, garnet_url):
    """The guide's "inspect before submitting": build the job definition, then submit it."""
    backend = qiskit_backend(flavour, garnet_url)
    circuit = transpiled(_x_on([0]), backend)
    definition = backend.create_circuit_job_definition(circuit, shots=10)
    assert definition.shots == 10
    assert len(definition.circuits) == 1
    assert str(definition.calibration_set_id) == str(
        server_architecture(garnet_url).calibration_set_id
    )
    tracker = backend.client.submit_circuit_job(definition)
    tracker.wait_for_completion()
    job = backend.retrieve_job(str(tracker.job_id))
    assert job.result().get_counts() == {"001": 10}

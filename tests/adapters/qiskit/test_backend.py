"""The qiskit adapter against the emulator over HTTP, compared with qiskit-aer."""

from __future__ import annotations

import json
import math
import pathlib
import subprocess
import sys
import textwrap
from collections import Counter
from typing import Any

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile
from qiskit.circuit import Parameter
from qiskit.providers import JobStatus

from iqm_bridge.adapters.qiskit import IQMBackend, IQMJob, IQMProvider
from iqm_bridge.core import NoMeasurementWarning
from iqm_bridge.core.errors import (
    UnknownOptionError,
)

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _qiskit_oracle import aer_counts, assert_counts_match  # noqa: E402

SHOTS = 2000


def ghz(n: int) -> QuantumCircuit:
    qc = QuantumCircuit(n, name=f"ghz{n}")
    qc.h(0)
    for i in range(1, n):
        qc.cx(i - 1, i)
    qc.measure_all()
    return qc


def rotations() -> QuantumCircuit:
    """A circuit with an uneven distribution, so a wrong bit order shows."""
    qc = QuantumCircuit(3, 3, name="rot")
    qc.ry(0.6, 0)
    qc.rx(1.9, 1)
    qc.cx(1, 2)
    qc.u(0.4, 0.3, 0.2, 2)
    qc.cz(0, 2)
    qc.h(0)
    qc.measure([0, 1, 2], [0, 1, 2])
    return qc


# ---------------------------------------------------------------------------- transpiled
@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_transpiled_circuits_run_at_every_level(backend: IQMBackend, level: int) -> None:
    circuits = [ghz(5), rotations()]
    transpiled = transpile(circuits, backend, optimization_level=level, seed_transpiler=3)
    for t in transpiled:
        assert set(t.count_ops()) <= {"r", "cz", "measure", "barrier"}
    result = backend.run(transpiled, shots=SHOTS).result()
    assert len(result.results) == 2
    for i, qc in enumerate(circuits):
        assert_counts_match(result.get_counts(i), aer_counts(qc))


def test_transpiled_circuit_is_submitted_unchanged(backend: IQMBackend) -> None:
    t = transpile(ghz(3), backend, optimization_level=1, seed_transpiler=1)
    sent = backend.serialize_circuit(t)
    names = [inst.name for inst in sent.instructions]
    r_and_cz = sum(1 for inst in t.data if inst.operation.name in ("r", "cz"))
    assert names.count("prx") + names.count("cz") == r_and_cz
    # the transpiled layout is kept: qubit i is the device's i-th qubit
    used = {t.find_bit(q).index for inst in t.data for q in inst.qubits}
    loci = {c for inst in sent.instructions for c in inst.locus}
    assert loci == {backend.index_to_qubit_name(i) for i in used}


# ---------------------------------------------------------------------------- untranspiled
def test_untranspiled_standard_gates_are_compiled(backend: IQMBackend) -> None:
    qc = QuantumCircuit(4, name="std")
    qc.h(0)
    qc.cx(0, 1)
    qc.swap(1, 2)
    qc.ry(0.7, 3)
    qc.ccx(0, 2, 3)
    qc.s(1)
    qc.sx(2)
    qc.cp(0.4, 3, 1)
    qc.measure_all()
    result = backend.run(qc, shots=SHOTS).result()
    assert_counts_match(result.get_counts(), aer_counts(qc))


def test_gates_outside_the_table_use_qiskit_definitions(backend: IQMBackend) -> None:
    qc = QuantumCircuit(3, name="defs")
    qc.h(0)
    qc.cswap(0, 1, 2)  # no cswap in the core's table: expanded through qiskit's definition
    qc.x(1)
    qc.ecr(1, 2)
    qc.measure_all()
    result = backend.run(qc, shots=SHOTS, optimization_level=1, seed=3).result()
    assert_counts_match(result.get_counts(), aer_counts(qc))


# ---------------------------------------------------------------------------- classical
def _two_cregs_conditional() -> QuantumCircuit:
    q = QuantumRegister(3, "q")
    flag = ClassicalRegister(1, "flag")
    out = ClassicalRegister(3, "out")
    qc = QuantumCircuit(q, flag, out, name="feedback")
    qc.h(0)
    qc.measure(0, flag[0])
    with qc.if_test((flag[0], 1)):
        qc.x(1)
    with qc.if_test((flag[0], 0)):  # the inverted condition
        qc.h(2)
    qc.measure(q, out)
    return qc


def test_two_cregs_with_conditionals(backend: IQMBackend) -> None:
    qc = _two_cregs_conditional()
    ours = backend.run(qc, shots=SHOTS).result().get_counts()
    assert all(len(k.split(" ")) == 2 for k in ours)
    assert_counts_match(ours, aer_counts(qc))


def test_conditional_after_transpile(backend: IQMBackend) -> None:
    qc = _two_cregs_conditional()
    t = transpile(qc, backend, optimization_level=2, seed_transpiler=1)
    assert "if_else" in t.count_ops()
    assert_counts_match(backend.run(t, shots=SHOTS).result().get_counts(), aer_counts(qc))


def test_reset_delay_barrier_and_remeasured_clbit(backend: IQMBackend) -> None:
    qc = QuantumCircuit(2, 2, name="misc")
    qc.x(0)
    qc.measure(0, 0)
    qc.reset(0)
    qc.delay(200, 0, unit="ns")
    qc.barrier()
    qc.ry(1.1, 0)
    qc.h(1)
    qc.measure(0, 0)  # clbit 0 written twice: the last write wins, as in qiskit
    qc.measure(1, 1)
    assert_counts_match(backend.run(qc, shots=SHOTS).result().get_counts(), aer_counts(qc))


def test_unmeasured_register_keeps_its_place(backend: IQMBackend) -> None:
    qc = QuantumCircuit(QuantumRegister(2), ClassicalRegister(2, "a"), ClassicalRegister(3, "b"))
    qc.x(1)
    qc.measure(0, 0)
    qc.measure(1, 1)
    counts = backend.run(qc, shots=100).result().get_counts()
    assert counts == {"000 10": 100}


def test_memory_gives_per_shot_bitstrings(backend: IQMBackend) -> None:
    qc = _two_cregs_conditional()
    result = backend.run(qc, shots=500, memory=True).result()
    memory = result.get_memory()
    assert len(memory) == 500
    assert Counter(memory) == result.get_counts()
    # memory is there without asking for it (as with the official integration)
    without = backend.run(qc, shots=50).result()
    assert Counter(without.get_memory()) == without.get_counts()
    assert sum(without.get_counts().values()) == 50


def test_result_carries_job_and_calibration_ids(backend: IQMBackend) -> None:
    job = backend.run(ghz(2), shots=10)
    result = job.result()
    assert result.job_id == job.job_id()
    assert result.results[0].job_id == job.job_id()
    assert result.results[0].calibration_set_id == backend.device.calibration_set_id
    assert result.calibration_set_id == backend.device.calibration_set_id
    assert result.results[0].header["name"] == "ghz2"
    assert job.status() is JobStatus.DONE
    assert job.error_message() is None


def test_circuit_metadata_survives(backend: IQMBackend) -> None:
    qc = ghz(2)
    qc.metadata = {"experiment": "bell", "n": 2}
    result = backend.run(qc, shots=10).result()
    assert result.results[0].header["metadata"] == {"experiment": "bell", "n": 2}


# ---------------------------------------------------------------------------- jobs
def test_retrieve_job_in_a_new_process(backend: IQMBackend, emulator_url: str) -> None:
    qc = _two_cregs_conditional()
    job = backend.run(qc, shots=300, memory=True)
    counts = job.result().get_counts()
    code = textwrap.dedent(
        f"""
        import json
        from iqm_bridge.adapters.qiskit import IQMProvider
        backend = IQMProvider({emulator_url!r}).get_backend()
        result = backend.retrieve_job({job.job_id()!r}).result()
        print(json.dumps({{"counts": result.get_counts(), "memory": result.get_memory()}}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["counts"] == counts
    assert data["memory"] == job.result().get_memory()


def test_cancel_a_queued_job(emulator_factory) -> None:  # type: ignore[no-untyped-def]
    emu = emulator_factory(machine="garnet", noise=False, queue_delay=60)
    backend = IQMProvider(emu.url).get_backend()
    job = backend.run(ghz(2), shots=10)
    assert job.status() is JobStatus.QUEUED
    assert job.cancel() is True
    assert job.status() is JobStatus.CANCELLED
    result = job.result(timeout=5)  # as qiskit-iqm: an unsuccessful Result, no exception
    assert result.success is False
    assert result.results == []
    assert "cancelled" in job.error_message()


def test_max_circuits_splits_into_jobs(backend: IQMBackend, emulator_url: str) -> None:
    backend.max_circuits = 2
    try:
        circuits = [ghz(2) for _ in range(5)]
        for i, c in enumerate(circuits):
            c.name = f"c{i}"
            if i % 2:
                c.x(0)  # after measurement: changes nothing, but keeps circuits apart
        job = backend.run(circuits, shots=50)
        assert len(job.job_id().split(",")) == 3
        result = job.result()
        assert [r.header["name"] for r in result.results] == [f"c{i}" for i in range(5)]
        assert len(result.get_counts()) == 5
        again = backend.retrieve_job(job.job_id()).result()
        assert again.get_counts() == result.get_counts()
    finally:
        backend.max_circuits = None


def test_a_circuit_without_measurements_runs_with_a_warning(backend: IQMBackend) -> None:
    qc = QuantumCircuit(2, name="silent")
    qc.h(0)
    with pytest.warns(NoMeasurementWarning, match="'silent' has no measurements"):
        result = backend.run(qc, shots=12).result()
    assert result.get_counts() == {"": 12}
    assert result.get_memory() == [""] * 12


def test_unknown_run_option(backend: IQMBackend) -> None:
    with pytest.raises(UnknownOptionError, match="'shotz'.*valid options are: shots"):
        backend.run(ghz(2), shotz=10)


def test_options_set_on_the_backend_apply(backend: IQMBackend, emulator_url: str) -> None:
    b = IQMProvider(emulator_url).get_backend(shots=123, memory=True)
    result = b.run(ghz(2)).result()
    assert result.results[0].shots == 123
    assert len(result.get_memory()) == 123


# ---------------------------------------------------------------------------- star
def test_star_machine_runs_ghz(star_backend: IQMBackend) -> None:
    qc = ghz(6)
    for level in (0, 3):
        t = transpile(qc, star_backend, optimization_level=level, seed_transpiler=1)
        assert star_backend.num_qubits == 6
        assert_counts_match(star_backend.run(t, shots=SHOTS).result().get_counts(), aer_counts(qc))
    assert_counts_match(star_backend.run(qc, shots=SHOTS).result().get_counts(), aer_counts(qc))


def test_star_machine_conditional(star_backend: IQMBackend) -> None:
    qc = _two_cregs_conditional()
    t = transpile(qc, star_backend, optimization_level=1, seed_transpiler=1)
    assert_counts_match(star_backend.run(t, shots=SHOTS).result().get_counts(), aer_counts(qc))


# ---------------------------------------------------------------------------- primitives
def test_backend_sampler_v2(backend: IQMBackend) -> None:
    from qiskit.primitives import BackendSamplerV2

    theta = Parameter("theta")
    qc = QuantumCircuit(2)
    qc.ry(theta, 0)
    qc.cx(0, 1)
    qc.measure_all()
    sampler = BackendSamplerV2(backend=backend)
    values = [0.3, 1.7]
    result = sampler.run([(qc, [[v] for v in values])], shots=4000).result()
    counts = [result[0].data.meas.get_counts(i) for i in range(2)]
    for v, c in zip(values, counts, strict=True):
        p11 = math.sin(v / 2) ** 2
        assert set(c) <= {"00", "11"}
        assert abs(c.get("11", 0) / 4000 - p11) <= 4 * math.sqrt(p11 * (1 - p11) / 4000) + 1e-3


def test_backend_estimator_v2(backend: IQMBackend) -> None:
    from qiskit.primitives import BackendEstimatorV2
    from qiskit.quantum_info import SparsePauliOp, Statevector

    theta = Parameter("theta")
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.ry(theta, 1)
    obs = [SparsePauliOp("ZZ"), SparsePauliOp("XX"), SparsePauliOp.from_list([("ZI", 0.5)])]
    estimator = BackendEstimatorV2(backend=backend)
    value = 0.8
    result = estimator.run([(qc, obs, [value])], precision=0.02).result()
    exact_state = Statevector(qc.assign_parameters([value]))
    for i, o in enumerate(obs):
        exact = float(np.real(exact_state.expectation_value(o)))
        got = float(np.asarray(result[0].data.evs)[i])
        assert abs(got - exact) <= 5 * 0.02, (o, got, exact)


def test_backend_estimator_v2_on_transpiled_isa_circuit(backend: IQMBackend) -> None:
    from qiskit.primitives import BackendEstimatorV2
    from qiskit.quantum_info import SparsePauliOp, Statevector

    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.rz(0.4, 1)
    qc.h(1)
    isa = transpile(qc, backend, optimization_level=2, seed_transpiler=1)
    obs = SparsePauliOp("XZ").apply_layout(isa.layout)
    result = BackendEstimatorV2(backend=backend).run([(isa, obs)], precision=0.02).result()
    exact = float(np.real(Statevector(qc).expectation_value(SparsePauliOp("XZ"))))
    assert abs(float(result[0].data.evs) - exact) <= 5 * 0.02


def test_job_is_a_qiskit_job(backend: IQMBackend) -> None:
    job = backend.run(ghz(2), shots=10)
    assert isinstance(job, IQMJob)
    assert job.backend() is backend
    job.result()
    assert job.queue_position() is None


def test_server_options_pass_through(backend: IQMBackend) -> None:
    """What the server received (the job's payload as the emulator stores it, read back with
    the unmodified iqm-client) carries every option given, flat or as iqm-client's
    ``CircuitCompilationOptions``. An option dropped on the way (say ``dd_mode`` not copied
    into the job definition, or ``circuit_compilation_options`` ignored) leaves the server's
    default there and fails this test; so does a calibration set not pinned."""
    from uuid import UUID

    from iqm.iqm_client import CircuitCompilationOptions, DDMode, HeraldingMode

    def payload(job: IQMJob) -> Any:
        job.result()
        return backend.client.get_job(UUID(job.job_id())).payload()

    flat = payload(
        backend.run(
            ghz(2),
            shots=200,
            heralding_mode="zeros",
            dd_mode="enabled",
            move_gate_validation="allow_prx",
            active_reset_cycles=2,
            max_circuit_duration_over_t2=0.5,
            use_timeslot=False,
            timeout=60,
        )
    )
    assert flat.shots == 200
    assert str(flat.calibration_set_id) == backend.device.calibration_set_id
    assert flat.heralding_mode.value == "zeros"
    assert flat.dd_mode.value == "enabled"
    assert flat.move_gate_validation.value == "allow_prx"
    assert flat.active_reset_cycles == 2
    assert flat.max_circuit_duration_over_t2 == 0.5
    options = CircuitCompilationOptions(
        heralding_mode=HeraldingMode.ZEROS, dd_mode=DDMode.ENABLED, active_reset_cycles=3
    )
    official = payload(backend.run(ghz(2), shots=30, circuit_compilation_options=options))
    assert (official.shots, official.active_reset_cycles) == (30, 3)
    assert (official.heralding_mode.value, official.dd_mode.value) == ("zeros", "enabled")
    plain = payload(backend.run(ghz(2), shots=10))
    assert (plain.heralding_mode.value, plain.dd_mode.value) == ("none", "disabled")


def test_create_circuit_job_definition_is_what_run_sends(backend: IQMBackend) -> None:
    """qiskit-iqm's "inspect before submitting": the definition names the backend's
    calibration set, carries the options, and runs when the client submits it."""
    definition = backend.create_circuit_job_definition(
        transpile(ghz(2), backend, seed_transpiler=1), shots=40, heralding_mode="zeros"
    )
    assert definition.shots == 40
    assert str(definition.calibration_set_id) == backend.device.calibration_set_id
    assert definition.heralding_mode.value == "zeros"
    names = [inst.name for inst in definition.circuits[0].instructions]
    assert names.count("measure") == 2 and "cz" in names
    tracker = backend.client.submit_circuit_job(definition)
    tracker.wait_for_completion()
    counts = backend.retrieve_job(str(tracker.job_id)).result().get_counts()
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 40
    with pytest.raises(UnknownOptionError, match="'shotz'"):
        backend.create_circuit_job_definition(ghz(2), shotz=3)


def test_a_failed_job_gives_an_unsuccessful_result(emulator_factory) -> None:  # type: ignore[no-untyped-def]
    """As qiskit-iqm: ``success=False``, no entries, status ERROR and the server's message
    (not an exception out of ``result()``)."""
    from iqm_bridge.emulator import FaultOptions

    emu = emulator_factory(machine="garnet", noise=False, faults=FaultOptions(job_failure_rate=1.0))
    backend = IQMProvider(emu.url).get_backend()
    job = backend.run(ghz(2), shots=10)
    result = job.result(timeout=60)
    assert result.success is False
    assert result.results == []
    assert job.status() is JobStatus.ERROR
    assert "injected job failure" in job.error_message()


def test_a_delay_in_dt_is_one_nanosecond_per_dt(backend: IQMBackend) -> None:
    """``dt`` = 1 ns, as for qiskit-iqm, through ``qiskit.transpile`` and to the wire."""
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.delay(40, 0, unit="dt")
    qc.measure([0, 1], [0, 1])
    t = transpile(qc, backend, optimization_level=1, seed_transpiler=1)
    (delay,) = [i for i in backend.serialize_circuit(t).instructions if i.name == "delay"]
    assert delay.args["duration"] == pytest.approx(40e-9)
    assert backend.run(t, shots=20).result().get_counts() == {"01": 20}


def test_get_backend_takes_the_calibration_set_positionally(emulator_url: str) -> None:
    """qiskit-iqm's ``get_backend(name, calibration_set_id)``: the second positional argument
    pins the set (a provider taking only ``name`` positionally raises a TypeError here)."""
    from uuid import UUID

    default = IQMProvider(emulator_url).get_backend()
    cal_id = UUID(default.device.calibration_set_id)
    pinned = IQMProvider(emulator_url).get_backend(None, cal_id)
    assert pinned.options["calibration_set_id"] == cal_id
    result = pinned.run(ghz(2), shots=10).result()
    assert str(result.results[0].calibration_set_id) == str(cal_id)

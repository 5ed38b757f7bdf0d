"""The door: every run decision, made once for all adapters.

Unit tests of the decisions use a device without a server; the call-level rules (one job,
mixed shots, mitigation circuits, retrieval) run against the real emulator.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from _devices import lattice_device

from iqm_bridge.core import (
    AUTO,
    DEVICE,
    FREE,
    Circuit,
    CircuitValidationError,
    ConfigurationError,
    Connection,
    Executor,
    Gate,
    KeyMap,
    Measure,
    NoMeasurementWarning,
    Parameter,
    Program,
    Register,
    RunOptions,
    UnboundParameterError,
)
from iqm_bridge.core.execute import check_settings, natives_for, placement_of

DEVICE_ = lattice_device()
REG = Register("m", 2)
KEY = KeyMap.encode(REG, 0, 0)


def bell(q0: str = "a", q1: str = "b", name: str = "bell") -> Circuit:
    return Circuit((q0, q1), [Gate("h", (q0,)), Gate("cx", (q0, q1)), Measure((q0, q1), KEY)], name)


def native_bell() -> Circuit:
    ops = [
        Gate("prx", ("QB1",), (math.pi / 2, math.pi / 2)),
        Gate("cz", ("QB1", "QB2")),
        Measure(("QB1", "QB2"), KEY),
    ]
    return Circuit(("QB1", "QB2"), ops, "native")


# ------------------------------------------------------------------------------- decisions
def test_auto_keeps_native_circuits_in_place_and_frees_the_others() -> None:
    assert placement_of(Program(native_bell(), placement=AUTO)) == (
        DEVICE,
        {"QB1": "QB1", "QB2": "QB2"},
    )
    assert placement_of(Program(bell("QB1", "QB2"), placement=AUTO)) == (FREE, None)
    assert placement_of(Program(bell(), layout={"a": "QB3", "b": "QB4"})) == (
        FREE,
        {"a": "QB3", "b": "QB4"},
    )


def test_a_native_valid_circuit_is_sent_as_it_is() -> None:
    (out,) = natives_for(Program(native_bell(), placement=DEVICE), DEVICE_)
    assert out.operations == native_bell().operations


def test_a_circuit_on_device_qubits_that_is_not_native_is_routed_there() -> None:
    """Uncoupled device qubits: routed on the device's own qubits, never moved elsewhere."""
    circuit = bell("QB1", "QB20")
    (out,) = natives_for(Program(circuit, placement=DEVICE), DEVICE_)
    assert {"QB1", "QB20"} <= set(out.qubits)
    assert all(g.name in {"prx", "cz"} for g in out.operations if isinstance(g, Gate))


def test_symbolic_circuits_compile_once_and_bind_per_point() -> None:
    t = Parameter("t")
    c = Circuit(
        ("a",), [Gate("rx", ("a",), (t,)), Measure(("a",), KeyMap.encode(Register("m", 1), 0, 0))]
    )
    made = natives_for(Program(c, bindings=[{"t": 0.1}, [0.2]]), DEVICE_)
    angles = [next(g.params[0] for g in m.operations if isinstance(g, Gate)) for m in made]
    assert angles == pytest.approx([0.1, 0.2])
    assert all(m.name == c.name for m in made)
    with pytest.raises(UnboundParameterError, match="'t'"):
        natives_for(Program(c), DEVICE_)


def test_settings_are_checked_once_for_every_adapter() -> None:
    assert check_settings(np.int64(3), 5, 2) == (3, 5, 2)
    for bad, name in [((4, None, None), "level"), ((2, -1, None), "seed"), ((2, None, 0), "max")]:
        with pytest.raises(ConfigurationError, match=name):
            check_settings(*bad)
    with pytest.raises(ConfigurationError, match="placement 'anywhere'"):
        Program(bell(), placement="anywhere")


# ------------------------------------------------------------------------------- calls
@pytest.fixture(scope="module")
def executor(emulator_url: str) -> Executor:
    return Executor(Connection(emulator_url, journal=None))


def test_one_job_with_mixed_shots_each_result_keeps_its_own(executor: Executor) -> None:
    """Programs asking 100 and 250 shots go out as one job of 250 shots; the first result
    keeps its first 100. Broken variant caught: one job per shot count (two job ids)."""
    batch = executor.submit(
        [Program(bell(name="small"), shots=100), Program(bell(name="big"), shots=250)]
    )
    assert len(batch.job_ids) == 1 and batch.job.shots == 250
    (small,), (big,) = batch.result(timeout=60)
    assert (small.shots, big.shots) == (100, 250)
    for res in (small, big):
        table = res.bits.memory()
        assert set(map(tuple, table.tolist())) <= {(0, 0), (1, 1)}


def test_an_empty_call_and_a_silent_circuit(executor: Executor) -> None:
    with pytest.raises(CircuitValidationError, match="empty"):
        executor.submit([])
    silent = Circuit(("a",), [Gate("x", ("a",))], "silent")
    with pytest.warns(NoMeasurementWarning, match="'silent'"):
        ((res,),) = executor.submit([Program(silent)], RunOptions(shots=7)).result(timeout=60)
    assert res.shots == 7 and res.bits.memory().shape == (7, 0)


def test_readout_circuits_ride_in_the_same_job_and_are_stripped(emulator_url: str) -> None:
    """With mitigation from calibration circuits, the job holds two more circuits (all 0, all
    1 on the measured qubits); results come back without them, each carrying per-column
    readout errors estimated from them; a retrieved job does the same."""
    conn = Connection(emulator_url, journal=None)
    batch = Executor(conn, mitigation="circuits").submit([Program(bell())], RunOptions(shots=50))
    assert batch.job.num_circuits == 3
    ((res,),) = batch.result(timeout=60)
    assert res.readout is not None and res.readout.source == "calibration circuits"
    assert res.readout.qubits == tuple(q for q in res.columns)
    again = Executor(conn).retrieve(batch.job_id)
    ((back,),) = again.result(timeout=60)
    assert back.readout is not None and back.readout.p1_given_0 == res.readout.p1_given_0


def test_job_definition_is_what_submit_would_send(executor: Executor) -> None:
    definition = executor.job_definition([Program(bell(), shots=33)])
    assert definition.shots == 33 and len(definition.circuits) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepared = executor.prepare([Program(bell(), shots=33)])
    assert prepared.keep_shots == (None,) and prepared.readout is None

"""The "iqm" PennyLane device against the garnet emulator (noise off), with oracles."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

qml = pytest.importorskip("pennylane")
from pennylane import numpy as pnp  # noqa: E402
from pennylane.exceptions import DeviceError  # noqa: E402

from iqm_bridge.adapters.pennylane import IQMDevice  # noqa: E402
from iqm_bridge.core.compiler.templates import template_cache_info  # noqa: E402
from iqm_bridge.core.errors import (  # noqa: E402
    ConfigurationError,
    QubitNotOnDeviceError,
    UnknownOptionError,
)

SHOTS = 4000


def _sigma_bound(p: np.ndarray, shots: int) -> float:
    """4-sigma bound on the total variation distance of an empirical distribution."""
    return float(4 * np.sum(np.sqrt(p * (1 - p) / shots)) / 2 + 1e-9)


def _tvd(p: np.ndarray, q: np.ndarray) -> float:
    return float(0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum())


@pytest.fixture
def dev(emulator_url: str) -> IQMDevice:
    return IQMDevice(wires=3, url=emulator_url)


def _random_circuit(x: Any) -> None:
    qml.RX(x[0], wires=0)
    qml.RY(x[1], wires=1)
    qml.CNOT(wires=[0, 1])
    qml.Rot(x[2], x[3], x[4], wires=2)
    qml.CRZ(x[5], wires=[2, 0])
    qml.IsingXX(0.3, wires=[1, 2])
    qml.Hadamard(wires=2)


def test_registered_as_iqm_entry_point(emulator_url: str) -> None:
    dev = qml.device("iqm", wires=2, url=emulator_url)
    assert isinstance(dev, IQMDevice)
    assert dev.name == "iqm"


def test_probs_match_default_qubit(dev: IQMDevice) -> None:
    x = np.array([0.3, -1.1, 0.7, 2.1, -0.4, 1.3])
    ideal = qml.device("default.qubit", wires=3)

    def circuit(x: Any) -> Any:
        _random_circuit(x)
        return qml.probs(wires=[0, 1, 2])

    expected = qml.QNode(circuit, ideal)(x)
    got = qml.set_shots(qml.QNode(circuit, dev), shots=SHOTS)(x)
    assert _tvd(got, expected) < _sigma_bound(expected, SHOTS)


def _exact_expvals(circuit: Any, x: Any, words: list[Any]) -> list[float]:
    """Exact expectation values of ``words`` in the state ``circuit(x)`` prepares."""

    def state(x: Any) -> Any:
        circuit(x)
        return [qml.expval(w) for w in words]

    return [float(v) for v in qml.QNode(state, qml.device("default.qubit", wires=3))(x)]


def _sum_sigma(circuit: Any, x: Any, obs: Any, shots: int) -> float:
    """A bound on the standard error of a sampled ``<obs>`` (a Pauli sum), however its terms
    are grouped: sum_k |c_k| sqrt((1 - <P_k>^2) / shots), the triangle inequality for
    standard deviations of (possibly correlated) term estimates."""
    terms = [(float(np.real(c)), w) for w, c in obs.pauli_rep.items() if len(w)]
    if not terms:  # a constant is exact
        return 0.0
    exact = _exact_expvals(circuit, x, [w.operation() for _, w in terms])
    return sum(
        abs(c) * math.sqrt((1 - e * e) / shots) for (c, _), e in zip(terms, exact, strict=True)
    )


def _var_sigma(circuit: Any, x: Any, obs: Any, shots: int) -> float:
    """A bound on the standard error of a sampled ``Var(obs) = <obs^2> - <obs>^2``: sigma of
    the first plus 2 |<obs>| sigma of the second (first order), plus the second-order bias
    sigma(<obs>)^2 that dominates when <obs> is about 0."""
    square = (obs.pauli_rep @ obs.pauli_rep).operation()
    (mean,) = _exact_expvals(circuit, x, [obs])
    s1 = _sum_sigma(circuit, x, obs, shots)
    return _sum_sigma(circuit, x, square, shots) + 2 * abs(mean) * s1 + s1 * s1


def test_expval_var_hamiltonian_and_subsets(dev: IQMDevice) -> None:
    """Each value within 4 sigma of default.qubit's exact one, sigma derived per quantity
    (about 0.022 for the Hamiltonian, 0.012 for the variance, 0.016 for the word; see
    ``_sum_sigma``, ``_var_sigma``). Checked to fail when Y is measured in the X basis (the
    Y basis rotation replaced by X's: the Hamiltonian comes out 1.39 away).
    """
    x = np.array([0.3, -1.1, 0.7, 2.1, -0.4, 1.3])
    ham = qml.Hamiltonian([0.5, -1.2, 0.8], [qml.X(0) @ qml.Z(1), qml.Y(2), qml.Z(0)])
    word = qml.Y(0) @ qml.X(2)

    def circuit(x: Any) -> Any:
        _random_circuit(x)
        return (
            qml.expval(ham),
            qml.var(qml.Z(1)),
            qml.expval(word),
            qml.probs(wires=[2, 0]),
        )

    expected = qml.QNode(circuit, qml.device("default.qubit", wires=3))(x)
    got = qml.set_shots(qml.QNode(circuit, dev), shots=SHOTS)(x)
    assert abs(got[0] - expected[0]) < 4 * _sum_sigma(_random_circuit, x, ham, SHOTS)
    assert abs(got[1] - expected[1]) < 4 * _var_sigma(_random_circuit, x, qml.Z(1), SHOTS)
    assert abs(got[2] - expected[2]) < 4 * _sum_sigma(_random_circuit, x, word, SHOTS)
    assert _tvd(got[3], expected[3]) < _sigma_bound(expected[3], SHOTS)


@pytest.mark.parametrize(
    "obs",
    [
        qml.X(0) + qml.Z(0),
        0.5 * qml.X(0) + qml.Z(0) @ qml.Z(1) + 0.3 * qml.Y(1),
    ],
    ids=["X0+Z0", "three-terms"],
)
def test_variance_of_a_non_commuting_sum(dev: IQMDevice, obs: Any) -> None:
    """``qml.var`` of a sum whose terms do not commute qubit-wise is <O^2> - <O>^2 (it used to
    recurse until RecursionError); within 4 sigma (``_var_sigma``) of default.qubit, alone and
    beside other measurements, and per bin of a shot vector."""
    x = np.array([0.9, -0.4, 0.2, 1.1, 0.3, -0.8])

    def circuit(x: Any) -> Any:
        _random_circuit(x)
        return qml.var(obs), qml.expval(qml.Y(2))

    expected = qml.QNode(circuit, qml.device("default.qubit", wires=3))(x)
    got = qml.set_shots(qml.QNode(circuit, dev), shots=SHOTS)(x)
    tol = 4 * _var_sigma(_random_circuit, x, obs, SHOTS)
    assert abs(got[0] - expected[0]) < tol
    assert abs(got[1] - expected[1]) < 4 * _sum_sigma(_random_circuit, x, qml.Y(2), SHOTS)
    alone = qml.set_shots(qml.QNode(lambda x: (_random_circuit(x), qml.var(obs))[1], dev), SHOTS)
    assert abs(alone(x) - expected[0]) < tol
    bins = qml.set_shots(qml.QNode(circuit, dev), shots=[SHOTS, SHOTS])(x)
    assert len(bins) == 2
    assert all(abs(b[0] - expected[0]) < tol for b in bins)


def test_non_hermitian_hermitian_is_refused(dev: IQMDevice) -> None:
    """A ``qml.Hermitian`` that is not Hermitian has no real eigenbasis: a clear error naming
    the wires, not a silent 0.0; a Hermitian one still works."""
    from iqm_bridge.core.errors import CircuitValidationError

    def circuit(matrix: Any) -> Any:
        qml.RX(0.4, wires=0)
        return qml.expval(qml.Hermitian(matrix, wires=0) @ qml.Z(1))

    run = qml.set_shots(qml.QNode(circuit, dev), shots=100)
    with pytest.raises(CircuitValidationError, match=r"wires \[0\] is not Hermitian"):
        run(np.array([[0, 1j], [0, 0]]))
    assert run(np.array([[2.0, 0.0], [0.0, 2.0]])) == pytest.approx(2.0)


def test_fill_shots_is_refused_and_hw_like_keeps_the_passing_shots(dev: IQMDevice) -> None:
    """``postselect_mode="fill-shots"`` was silently ignored; like default.qubit outside
    deferral, it is now refused with a clear error. ``"hw-like"`` returns only the shots that
    pass (binomial count: within 4 sigma of half)."""

    def circuit() -> Any:
        qml.Hadamard(0)
        qml.measure(0, postselect=1)
        qml.CNOT([0, 1])
        return qml.sample(wires=[0, 1])

    fill = qml.QNode(circuit, dev, postselect_mode="fill-shots", shots=1000)
    with pytest.raises(ConfigurationError, match="fill-shots.*hw-like"):
        fill()
    kept = qml.QNode(circuit, dev, postselect_mode="hw-like", shots=1000)()
    assert (kept == 1).all()
    assert abs(len(kept) - 500) < 4 * math.sqrt(1000 * 0.25)


def test_samples_counts_and_wire_labels(emulator_url: str) -> None:
    dev = IQMDevice(wires=["a", "b"], url=emulator_url)

    @qml.qnode(dev, shots=500)
    def circuit() -> Any:
        qml.PauliX("b")
        return qml.sample(wires=["a", "b"]), qml.counts(wires="b"), qml.sample(qml.Z("b"))

    samples, counts, zs = circuit()
    assert samples.shape == (500, 2)
    assert (samples == [0, 1]).all()
    assert dict(counts) == {"1": 500}
    assert (zs == -1).all()


def test_shot_vector_gives_one_result_per_bin(dev: IQMDevice) -> None:
    @qml.qnode(dev, shots=[100, 100, 500])
    def circuit() -> Any:
        qml.Hadamard(0)
        return qml.expval(qml.X(0)), qml.sample(wires=[1])

    res = circuit()
    assert len(res) == 3
    assert [r[1].shape[0] for r in res] == [100, 100, 500]
    for expval, _ in res:
        assert expval == pytest.approx(1.0)


def test_analytic_mode_is_refused_with_a_hint(dev: IQMDevice) -> None:
    @qml.qnode(dev)
    def circuit() -> Any:
        return qml.expval(qml.Z(0))

    with pytest.raises(DeviceError, match="set shots|Set shots"):
        circuit()


def test_bad_options_are_named(emulator_url: str) -> None:
    with pytest.raises(UnknownOptionError, match="bogus"):
        IQMDevice(wires=2, url=emulator_url, bogus=1)
    with pytest.raises(ConfigurationError, match="missing wire"):
        IQMDevice(wires=2, url=emulator_url, placement={0: "QB1"})


def _record_submissions(dev: IQMDevice) -> list[Any]:
    """The native circuits ``dev`` submits from now on, collected as they are sent."""
    sent: list[Any] = []
    submit = dev.connection.submit

    def spy(natives: Any, *args: Any, **kwargs: Any) -> Any:
        sent.extend(natives)
        return submit(natives, *args, **kwargs)

    dev.connection.submit = spy  # type: ignore[method-assign]
    return sent


def test_placement_puts_wires_on_named_qubits(emulator_url: str) -> None:
    dev = IQMDevice(wires=2, url=emulator_url, placement={0: "QB5", 1: "QB1"})
    sent = _record_submissions(dev)

    @qml.qnode(dev, shots=100)
    def circuit() -> Any:
        qml.PauliX(0)
        return qml.sample(wires=[0, 1])

    assert (circuit() == [1, 0]).all()
    touched = {q for op in sent[0].operations for q in op.qubits}
    assert touched <= {"QB5", "QB1"}

    bad = IQMDevice(wires=1, url=emulator_url, placement={0: "QB99"})
    with pytest.raises(QubitNotOnDeviceError, match="QB99"):
        qml.set_shots(qml.QNode(lambda: qml.expval(qml.Z(0)), bad), shots=10)()


def test_one_job_per_execute_and_one_compilation_per_structure(dev: IQMDevice) -> None:
    def circuit(x: Any) -> Any:
        qml.RX(x, wires=0)
        qml.CNOT(wires=[0, 1])
        return qml.expval(qml.Z(1))

    xs = [0.1, 0.7, 1.9, 2.5]
    tapes = [
        qml.tape.QuantumScript(
            [qml.RX(pnp.array(x, requires_grad=True), 0), qml.CNOT([0, 1])],
            [qml.expval(qml.Z(1))],
            shots=2000,
            trainable_params=[0],
        )
        for x in xs
    ]
    before = template_cache_info()
    with qml.Tracker(dev) as tracker:
        results = qml.execute(tapes, dev, diff_method=None)
    after = template_cache_info()
    assert tracker.totals["jobs"] == 1
    assert tracker.totals["circuits"] == len(xs)
    assert after["misses"] - before["misses"] <= 1
    for x, r in zip(xs, results, strict=True):
        assert r == pytest.approx(math.cos(x), abs=4 / math.sqrt(2000))


def _training_problem(dev: IQMDevice, diff_method: str) -> tuple[Any, Any]:
    n = 4

    @qml.qnode(dev, shots=1000, diff_method=diff_method)
    def cost(w: Any) -> Any:
        for i in range(n):
            qml.RY(w[i], wires=i)
        for i in range(n - 1):
            qml.CNOT(wires=[i, i + 1])
        for i in range(n):
            qml.RZ(w[n + i], wires=i)
            qml.RX(0.2, wires=i)
        return qml.expval(qml.Z(0) @ qml.Z(1) + 0.5 * qml.X(2) + 0.3 * qml.Y(3))

    return cost, pnp.array(np.linspace(0.1, 0.8, 2 * n), requires_grad=True)


@pytest.mark.parametrize(("diff_method", "max_jobs"), [("parameter-shift", 2), ("device", 1)])
def test_jobs_per_optimisation_step(emulator_factory: Any, diff_method: str, max_jobs: int) -> None:
    emu = emulator_factory(machine="garnet", noise=False, seed=3)
    dev = IQMDevice(wires=4, url=emu.url)
    cost, w = _training_problem(dev, diff_method)
    opt = qml.GradientDescentOptimizer(0.1)
    before = emu.job_count()
    with qml.Tracker(dev) as tracker:
        opt.step(cost, w)
    assert emu.job_count() - before <= max_jobs
    assert tracker.totals["jobs"] <= max_jobs


def test_device_gradient_matches_default_qubit(emulator_url: str) -> None:
    dev = IQMDevice(wires=4, url=emulator_url)
    cost, w = _training_problem(dev, "device")
    ideal, _ = _training_problem(qml.device("default.qubit", wires=4), "backprop")
    got = qml.grad(cost)(w)
    expected = qml.grad(qml.set_shots(ideal, shots=None))(w)
    # each gradient entry is a difference of two 1000-shot estimates of a norm <= 1.8 observable
    assert np.abs(got - expected).max() < 4 * 1.8 * math.sqrt(2 / 1000)


def test_device_gradient_not_charged_on_forward_only_calls(emulator_url: str) -> None:
    dev = IQMDevice(wires=4, url=emulator_url)
    cost, w = _training_problem(dev, "device")
    with qml.Tracker(dev) as tracker:
        cost(w)
    assert tracker.totals["circuits"] == 1


def test_mid_circuit_measurement_runs_natively(dev: IQMDevice) -> None:
    sent = _record_submissions(dev)

    @qml.qnode(dev, shots=2000)
    def teleport_like() -> Any:
        qml.Hadamard(0)
        m = qml.measure(0)
        qml.cond(m, qml.PauliX)(wires=1)
        qml.cond(m == 0, qml.RY)(math.pi, wires=2)
        return qml.sample(wires=[1, 2]), qml.expval(m)

    samples, m_mean = teleport_like()
    # wire 1 copies the measured bit, wire 2 holds its complement
    assert (samples[:, 0] != samples[:, 1]).all()
    assert m_mean == pytest.approx(samples[:, 0].mean())
    assert m_mean == pytest.approx(0.5, abs=4 * 0.5 / math.sqrt(2000))
    from iqm_bridge.core.ir import Conditional

    assert any(isinstance(op, Conditional) for op in sent[0].operations)


def test_multi_qubit_conditionals_fall_back_to_deferral(emulator_url: str) -> None:
    dev = IQMDevice(wires=3, url=emulator_url)

    @qml.qnode(dev, shots=500)
    def circuit() -> Any:
        qml.PauliX(0)
        m = qml.measure(0)
        qml.cond(m, qml.CNOT)(wires=[0, 1])
        return qml.probs(wires=[1])

    assert circuit() == pytest.approx([0.0, 1.0])


def test_max_circuits_splits_the_batch(emulator_url: str) -> None:
    dev = IQMDevice(wires=1, url=emulator_url, max_circuits=2)
    tapes = [
        qml.tape.QuantumScript([qml.RX(x, 0)], [qml.expval(qml.Z(0))], shots=100)
        for x in (0.0, 0.1, 0.2, 0.3, 0.4)
    ]
    with qml.Tracker(dev) as tracker:
        qml.execute(tapes, dev, diff_method=None)
    assert tracker.totals["jobs"] == 3

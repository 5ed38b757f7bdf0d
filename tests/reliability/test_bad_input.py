"""Bad input end to end, for the core and each adapter: every invalid circuit, option or
server answer gives a clear ``IQMBridgeError`` subclass, never a dependency's exception and
never a wrong result.

Malformed measurement payloads are served for real: the HTTP answer of the measurements
artifact is replaced (``requests`` is patched) before iqm-client parses it.
"""

from __future__ import annotations

import json
import math
import pathlib
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iqm_bridge.core import run
from iqm_bridge.core.errors import IQMBridgeError, ResultFormatError
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit import Connection

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _rel import x_ghz_circuit  # noqa: E402

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BAD_NUMBERS = st.sampled_from([math.nan, math.inf, -math.inf])
KEYS = ("c_3_0_0", "c_3_0_1", "c_3_0_2")
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def conn(emulator_url: str) -> Connection:
    return Connection(emulator_url, journal=None)


# ------------------------------------------------------------------ malformed server answers
values = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([10**30, -(10**30), 1.0, 0.0, 1.5, True, None, "1", [], {}]),
)
rows = st.lists(st.lists(values, min_size=0, max_size=3), min_size=0, max_size=6)
entry = st.dictionaries(
    st.sampled_from([*KEYS, "zz"]), st.one_of(rows, values), min_size=0, max_size=4
)
answers = st.one_of(
    st.lists(entry, min_size=0, max_size=2).map(json.dumps),
    st.sampled_from(["", "not json", "{", "null", "{}", '{"a": 1}', "[[1,2]]", "[null]"]),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    box: dict[str, str] = {}
    original = requests.Session.request

    def request(self: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
        resp = original(self, method, url, **kwargs)
        if url.endswith("/artifacts/measurements") and "body" in box:
            resp._content = box["body"].encode("utf-8", "surrogatepass")
        return resp

    monkeypatch.setattr(requests.Session, "request", request)
    yield box


def _faithful(body: str) -> np.ndarray | None:
    """The bits a correct client must return for ``body``, or None if it must refuse it."""
    try:
        data = json.loads(body)
        (meas,) = data
        cols = []
        for key in KEYS:
            arr = np.array(meas[key], dtype=object)
            if arr.shape != (4, 1) or not all(
                type(v) in (int, bool) and v in (0, 1) for v in arr.flat
            ):
                return None
            cols.append(arr[:, 0].astype(int))
        return np.stack(cols, axis=1)
    except Exception:
        return None


@SETTINGS
@given(body=answers)
def test_malformed_measurements_are_a_result_format_error(
    conn: Connection, served: dict[str, str], body: str
) -> None:
    served.pop("body", None)
    job = run(conn, [x_ghz_circuit()], RunOptions(shots=4))
    job.wait(timeout=30)
    served["body"] = body
    try:
        (result,) = job.result(timeout=30)
    except ResultFormatError as exc:
        assert str(exc)
        return
    expected = _faithful(body)
    assert expected is not None, f"accepted a malformed answer: {body!r}"
    assert (result.bits.memory() == expected).all()


# ------------------------------------------------------------------ qiskit
@SETTINGS
@given(
    kind=st.sampled_from(["angle", "qubits", "gate", "shots", "option", "empty", "cond"]),
    angle=BAD_NUMBERS,
    shots=st.sampled_from([0, -1, 10**7, 10**12]),
)
def test_qiskit_bad_input(emulator_url: str, kind: str, angle: float, shots: int) -> None:
    pytest.importorskip("qiskit")
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit.circuit import Gate

    from iqm_bridge.adapters.qiskit import IQMProvider

    backend = _qiskit_backend(emulator_url, IQMProvider)
    options: dict[str, Any] = {"shots": 4}
    qc = QuantumCircuit(2, 2)
    if kind == "angle":
        qc.rx(angle, 0)
    elif kind == "qubits":
        qc = QuantumCircuit(25, 2)
        qc.h(range(25))
        qc.cx(0, 24)
    elif kind == "gate":
        qc.append(Gate("mystery", 1, []), [0])
    elif kind == "shots":
        options["shots"] = shots
    elif kind == "option":
        options["shotz"] = 4
    elif kind == "cond":
        qr, never, used = QuantumRegister(2), ClassicalRegister(1, "never"), ClassicalRegister(2)
        qc = QuantumCircuit(qr, never, used)
        with qc.if_test((never[0], 1)):
            qc.x(0)
        qc.measure(qr, used)
        _run_or_fail(lambda: backend.run(qc, **options).result(timeout=30).get_counts(), kind)
        return
    if kind != "empty":
        qc.measure([0, 1], [0, 1])
    _expect_bridge_error(lambda: backend.run(qc, **options).result(timeout=30), kind)


_BACKENDS: dict[str, Any] = {}


def _qiskit_backend(url: str, provider: Any) -> Any:
    if url not in _BACKENDS:
        _BACKENDS[url] = provider(url, journal=None).get_backend()
    return _BACKENDS[url]


# ------------------------------------------------------------------ cirq
@SETTINGS
@given(
    kind=st.sampled_from(["angle", "qubit", "gate", "reps", "option", "cond", "empty"]),
    angle=BAD_NUMBERS,
    reps=st.sampled_from([0, -1, 10**7]),
)
def test_cirq_bad_input(emulator_url: str, kind: str, angle: float, reps: int) -> None:
    cirq = pytest.importorskip("cirq")
    from iqm_bridge.adapters.cirq import IQMSampler

    q = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.measure(*q, key="m"))
    repetitions = 4
    options: dict[str, Any] = {}
    if kind == "angle":
        circuit = cirq.Circuit(cirq.rx(angle)(q[0]), cirq.measure(*q, key="m"))
    elif kind == "qubit":
        circuit = cirq.Circuit(
            cirq.X(cirq.NamedQubit("QB99")), cirq.measure(cirq.NamedQubit("QB99"), key="m")
        )
    elif kind == "gate":
        circuit = cirq.Circuit(_Mystery().on(q[0]), cirq.measure(*q, key="m"))
    elif kind == "reps":
        repetitions = reps
    elif kind == "option":
        options["shotz"] = 4
    elif kind == "cond":
        circuit = cirq.Circuit(
            cirq.X(q[0]).with_classical_controls("never"), cirq.measure(*q, key="m")
        )
    elif kind == "empty":
        circuit = cirq.Circuit()

    def go() -> Any:
        sampler = IQMSampler(emulator_url, timeout=30, **options)
        return sampler.run(circuit, repetitions=repetitions)

    _expect_bridge_error(go, kind)


# ------------------------------------------------------------------ pennylane
@SETTINGS
@given(
    kind=st.sampled_from(["angle", "wires", "shots", "option", "gate"]),
    angle=BAD_NUMBERS,
    shots=st.sampled_from([10**7, 10**12]),  # 0 and -1 are refused by PennyLane itself
)
def test_pennylane_bad_input(emulator_url: str, kind: str, angle: float, shots: int) -> None:
    qml = pytest.importorskip("pennylane")

    kwargs: dict[str, Any] = {"url": emulator_url, "timeout": 30}
    n_shots = 4
    wires = 2
    if kind == "option":
        kwargs["shotz"] = 4
    if kind == "shots":
        n_shots = shots
    if kind == "wires":
        wires = 30

    def go() -> Any:
        dev = qml.device("iqm", wires=wires, **kwargs)

        @qml.set_shots(n_shots)
        @qml.qnode(dev)
        def circuit() -> Any:
            if kind == "angle":
                qml.RX(angle, wires=0)
            elif kind == "wires":
                for w in range(wires):
                    qml.Hadamard(w)
                qml.CNOT([0, wires - 1])
            elif kind == "gate":
                qml.DepolarizingChannel(0.1, wires=0)  # not a unitary: nothing to run it as
            return qml.sample(wires=[0, 1])

        return circuit()

    # PennyLane's own preprocessing refuses operators a device does not list, with its
    # DeviceError (the convention PennyLane users catch); everything else must be ours
    also = (qml.exceptions.DeviceError,) if kind == "gate" else ()
    _expect_bridge_error(go, kind, also=also)


# ------------------------------------------------------------------ helpers
def _mystery_gate() -> Any:
    import cirq

    class Mystery(cirq.Gate):
        """A gate with no unitary and no decomposition."""

        def _num_qubits_(self) -> int:
            return 1

        def _circuit_diagram_info_(self, args: Any) -> str:
            return "?"

    return Mystery()


def _Mystery() -> Any:  # noqa: N802 - reads like the class it builds
    return _mystery_gate()


def _expect_bridge_error(fn: Any, kind: str, also: tuple[type[BaseException], ...] = ()) -> None:
    try:
        out = fn()
    except IQMBridgeError as exc:
        assert str(exc), kind
        return
    except also:
        return
    except Exception as exc:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{kind}: leaked {type(exc).__module__}.{type(exc).__name__}: {exc}")
    if kind not in ("empty",):
        pytest.fail(f"{kind}: accepted invalid input, returned {out!r:.200}")


def _run_or_fail(fn: Any, kind: str) -> None:
    """A conditional on a never-written bit: refused, or run reading that bit as 0."""
    try:
        counts = fn()
    except IQMBridgeError:
        return
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"{kind}: leaked {type(exc).__module__}.{type(exc).__name__}: {exc}")
    assert all(k.split()[-1] == "00" for k in counts), counts


# ------------------------------------------------------------------ wrongly typed options
WRONG_TYPES = [
    ({"active_reset_cycles": "a"}, "active_reset_cycles"),
    ({"timeout": "5"}, "timeout"),
    ({"qubit_mapping": 5}, "qubit_mapping"),
    ({"shots": "10"}, "shots"),
    ({"use_timeslot": "yes"}, "use_timeslot"),
    ({"calibration_set_id": 42}, "calibration_set_id"),
]


@pytest.mark.parametrize(("options", "name"), WRONG_TYPES)
def test_wrongly_typed_options_name_the_option_in_every_adapter(
    emulator_url: str, options: dict[str, Any], name: str
) -> None:
    """Each framework refuses a wrongly typed run option with a ``ConfigurationError`` that
    names it (never pydantic's ``ValidationError`` or a ``TypeError`` from deep inside)."""
    import cirq
    import pennylane as qml
    from qiskit import QuantumCircuit

    from iqm_bridge.adapters.cirq import IQMSampler
    from iqm_bridge.adapters.qiskit import IQMProvider
    from iqm_bridge.core import ConfigurationError

    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    backend = IQMProvider(emulator_url).get_backend()
    with pytest.raises(ConfigurationError, match=name):
        backend.run(qc, **options)
    cirq_options = {k: v for k, v in options.items() if k != "shots"}
    if cirq_options:
        with pytest.raises(ConfigurationError, match=name):
            IQMSampler(emulator_url, **cirq_options)
        with pytest.raises(ConfigurationError, match=name):
            qml.device("iqm", wires=1, url=emulator_url, **cirq_options)
    assert sum(backend.run(qc, shots=np.int64(5)).result().get_counts().values()) == 5
    a = cirq.LineQubit(0)
    assert (
        IQMSampler(emulator_url)
        .run(cirq.Circuit(cirq.X(a), cirq.measure(a, key="m")), repetitions=np.int64(3))
        .repetitions
        == 3
    )

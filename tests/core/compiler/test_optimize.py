"""Fusion, virtual-Z frames, pair cancellation and SWAP elision."""

from __future__ import annotations

import math

import numpy as np
from _devices import assert_equivalent
from _statevector import distribution, statevector
from hypothesis import given
from hypothesis import strategies as st

from iqm_bridge.core.compiler.lowering import lower
from iqm_bridge.core.compiler.optimize import cancel_and_fuse, elide_swaps, fuse, zxz_angles
from iqm_bridge.core.gates import gate_unitary
from iqm_bridge.core.ir import Circuit, Conditional, Gate, Measure, Reset
from iqm_bridge.core.parameters import Parameter


class _Result:
    """Just enough of a CompileResult for assert_equivalent."""

    def __init__(self, circuit: Circuit, frames: dict, layout: dict[str, str]) -> None:
        self.circuit = circuit
        self.final_layout = layout
        self.report = type("R", (), {"dropped_frames": frames})()


def _gates(circuit: Circuit, name: str) -> int:
    return sum(1 for op in circuit.operations if isinstance(op, Gate) and op.name == name)


@given(st.floats(-7, 7), st.floats(0, math.pi), st.floats(-7, 7))
def test_zxz_angles_reconstruct(a: float, t: float, b: float) -> None:
    m = gate_unitary("rz", [a]) @ gate_unitary("rx", [t]) @ gate_unitary("rz", [b])
    a2, t2, b2 = zxz_angles(m.reshape(-1).tolist())
    m2 = gate_unitary("rz", [a2]) @ gate_unitary("rx", [t2]) @ gate_unitary("rz", [b2])
    assert abs(abs(np.vdot(m, m2)) - 2) < 1e-9


def test_single_qubit_run_becomes_one_prx() -> None:
    c = lower(
        Circuit.from_operations(
            [Gate("h", ("a",)), Gate("t", ("a",)), Gate("sx", ("a",)), Gate("ry", ("a",), (0.3,))]
        )
    )
    fused, frames = fuse(c)
    assert _gates(fused, "prx") == 1
    assert_equivalent(c, _Result(fused, frames, {"a": "a"}))


def test_z_rotations_pass_through_cz_and_final_z_is_dropped() -> None:
    c = lower(
        Circuit.from_operations(
            [
                Gate("rz", ("a",), (0.4,)),
                Gate("cz", ("a", "b")),
                Gate("rz", ("a",), (0.2,)),
                Gate("rz", ("b",), (1.1,)),
            ]
        )
    )
    fused, frames = fuse(c)
    assert [op.name for op in fused.operations] == ["cz"]
    assert set(frames) == {"a", "b"}
    assert_equivalent(c, _Result(fused, frames, {"a": "a", "b": "b"}))


def test_inverse_pairs_cancel() -> None:
    c = Circuit.from_operations(
        [
            Gate("cz", ("a", "b")),
            Gate("cz", ("b", "a")),
            Gate("move", ("a", "CR1")),
            Gate("move", ("a", "CR1")),
            Gate("cz", ("a", "b")),
            Gate("prx", ("a",), (0.3, 0.0)),
            Gate("cz", ("a", "b")),
        ]
    )
    fused, _ = cancel_and_fuse(c)
    assert _gates(fused, "move") == 0
    assert _gates(fused, "cz") == 2  # a pulse between two CZs keeps them


def test_cx_cx_cancels_after_lowering() -> None:
    c = lower(Circuit.from_operations([Gate("cx", ("a", "b")), Gate("cx", ("a", "b"))]))
    fused, _ = cancel_and_fuse(c)
    assert len(fused) == 0


def test_frame_survives_measurement_and_resets_with_reset() -> None:
    c = lower(
        Circuit.from_operations(
            [
                Gate("h", ("a",)),
                Gate("rz", ("a",), (0.9,)),
                Measure(("a",), "m1"),
                Gate("h", ("a",)),
                Measure(("a",), "m2"),
                Gate("rz", ("b",), (0.5,)),
                Reset(("b",)),
                Gate("h", ("b",)),
                Measure(("b",), "m3"),
            ]
        )
    )
    fused, _ = cancel_and_fuse(c)
    want, got = distribution(c), distribution(fused)
    for k in set(want) | set(got):
        assert abs(want.get(k, 0) - got.get(k, 0)) < 1e-9


def test_conditional_prx_sees_the_pending_frame() -> None:
    c = lower(
        Circuit.from_operations(
            [
                Gate("h", ("a",)),
                Measure(("a",), "m"),
                Gate("rz", ("b",), (0.7,)),
                Gate("ry", ("b",), (0.4,)),
                Conditional(Gate("prx", ("b",), (1.0, 0.2)), "m"),
                Gate("h", ("b",)),
                Measure(("b",), "out"),
            ]
        )
    )
    fused, _ = cancel_and_fuse(c)
    want, got = distribution(c), distribution(fused)
    for k in set(want) | set(got):
        assert abs(want.get(k, 0) - got.get(k, 0)) < 1e-9


def test_symbolic_angles_stay_affine() -> None:
    t = Parameter("t")
    c = lower(
        Circuit.from_operations(
            [
                Gate("rz", ("a",), (t,)),
                Gate("h", ("a",)),
                Gate("rx", ("a",), (t * 2,)),
                Gate("cz", ("a", "b")),
                Gate("rz", ("a",), (t,)),
                Gate("h", ("a",)),
            ]
        )
    )
    fused, frames = cancel_and_fuse(c)
    for value in (0.0, 0.3, -2.0):
        bound = fused.bind({"t": value})
        res = _Result(
            bound,
            {q: f.bind({"t": value}) if hasattr(f, "bind") else f for q, f in frames.items()},
            {"a": "a", "b": "b"},
        )
        assert_equivalent(c.bind({"t": value}), res)


def test_elide_swaps_relabels_later_operations() -> None:
    c = Circuit.from_operations(
        [
            Gate("x", ("a",)),
            Gate("swap", ("a", "b")),
            Gate("h", ("a",)),
            Measure(("a", "b"), "m"),
        ]
    )
    out, where = elide_swaps(c)
    assert where == {"a": "b", "b": "a"}
    assert out.operations[1] == Gate("h", ("b",))
    assert out.operations[2] == Measure(("b", "a"), "m")
    psi = statevector(Circuit(c.qubits, c.operations[:3]))
    psi2 = statevector(Circuit(out.qubits, out.operations[:2]), ["b", "a"])
    assert abs(abs(np.vdot(psi, psi2)) - 1) < 1e-12

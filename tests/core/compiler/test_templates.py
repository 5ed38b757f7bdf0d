"""Parametric templates: bind equals compiling the bound circuit; the cache reuses templates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _devices import (
    assert_equivalent,
    assert_same_distribution,
    lattice_device,
    star_device,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iqm_bridge.core.compiler import compile
from iqm_bridge.core.compiler.templates import (
    Template,
    clear_template_cache,
    get_template,
    template_cache_info,
)
from iqm_bridge.core.compiler.validation import validate_native
from iqm_bridge.core.errors import NonFiniteParameterError, UnboundParameterError
from iqm_bridge.core.ir import Circuit, Conditional, Gate, Measure
from iqm_bridge.core.parameters import Parameter

LATTICE = lattice_device()
STAR = star_device()
PARAMS = [Parameter(n) for n in ("a", "b", "c")]
ONE_PARAM = ["rx", "ry", "rz", "p", "cp", "crz", "crx", "cry", "rzz", "rxx", "ryy"]
FIXED = ["h", "x", "sx", "t", "s", "cx", "cz", "swap", "iswap", "cy"]


@st.composite
def symbolic_circuits(draw: st.DrawFn) -> Circuit:
    n = draw(st.integers(2, 6))
    names = [f"q{i}" for i in range(n)]
    ops = []
    for _ in range(draw(st.integers(1, 25))):
        name = draw(st.sampled_from(ONE_PARAM + FIXED + ["u", "prx"]))
        arity = (
            2
            if name
            in {"cp", "crz", "crx", "cry", "rzz", "rxx", "ryy", "cx", "cz", "swap", "iswap", "cy"}
            else 1
        )
        qubits = tuple(draw(st.permutations(names))[:arity])
        nparams = {"u": 3, "prx": 2}.get(name, 1 if name in ONE_PARAM else 0)
        params = []
        for _ in range(nparams):
            if draw(st.booleans()):
                p = draw(st.sampled_from(PARAMS))
                params.append(p * draw(st.sampled_from([1.0, -2.0, 0.5])) + draw(st.floats(-1, 1)))
            else:
                params.append(draw(st.floats(-3, 3)))
        ops.append(Gate(name, qubits, tuple(params)))
    return Circuit(tuple(names), tuple(ops))


VALUES = st.fixed_dictionaries({p.name: st.floats(-math.pi, math.pi) for p in PARAMS})


@given(symbolic_circuits(), VALUES, st.sampled_from([1, 2, 3]), st.booleans())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_bind_equals_compiling_the_bound_circuit(
    circuit: Circuit, values: dict[str, float], level: int, star: bool
) -> None:
    device = STAR if star else LATTICE
    template = get_template(circuit, device, level=level)
    bound = template.bind_result(values)
    validate_native(bound.circuit, device)
    concrete = circuit.bind(values)
    assert_equivalent(concrete, bound, values=values)
    direct = compile(concrete, device, level=level)
    assert_equivalent(concrete, direct)


def test_template_with_measurement_and_conditional() -> None:
    t = Parameter("t")
    circuit = Circuit.from_operations(
        [
            Gate("ry", ("a",), (t,)),
            Gate("cx", ("a", "b")),
            Gate("rz", ("b",), (t * 2,)),
            Measure(("a",), "mid"),
            Conditional(Gate("prx", ("b",), (t, 0.3)), "mid"),
            Gate("ry", ("b",), (-t,)),
            Measure(("a", "b"), "out"),
        ]
    )
    template = get_template(circuit, LATTICE)
    for value in (0.0, 0.7, -2.1):
        assert_same_distribution(circuit.bind({"t": value}), template.bind_result({"t": value}))


def test_cache_reuses_structure_and_ignores_name() -> None:
    clear_template_cache()
    t = Parameter("t")
    first = Circuit.from_operations([Gate("rx", ("a",), (t,)), Gate("cx", ("a", "b"))], name="x")
    second = Circuit.from_operations([Gate("rx", ("a",), (t,)), Gate("cx", ("a", "b"))], name="y")
    other = Circuit.from_operations([Gate("rx", ("a",), (t,)), Gate("cx", ("b", "a"))])
    assert get_template(first, LATTICE) is get_template(second, LATTICE)
    assert get_template(other, LATTICE) is not get_template(first, LATTICE)
    info = template_cache_info()
    assert info == {"hits": 2, "misses": 2, "size": 2}


def test_bind_accepts_mapping_or_sequence_and_checks_values() -> None:
    a, b = Parameter("a"), Parameter("b")
    circuit = Circuit.from_operations([Gate("rx", ("q",), (a + b,)), Gate("ry", ("q",), (b,))])
    template = Template(compile(circuit, LATTICE))
    assert template.parameters == ("a", "b")
    assert template.bind({"a": 0.1, "b": 0.2}) == template.bind([0.1, 0.2])
    assert template.bind(np.array([0.1, 0.2])) == template.bind((0.1, 0.2))
    with pytest.raises(UnboundParameterError, match="'b'"):
        template.bind({"a": 1.0})
    with pytest.raises(UnboundParameterError, match="2 values"):
        template.bind([1.0])
    with pytest.raises(NonFiniteParameterError):
        template.bind([1.0, math.nan])


def test_numeric_circuit_gives_a_template_without_parameters() -> None:
    circuit = Circuit.from_operations([Gate("h", ("a",)), Gate("cx", ("a", "b"))])
    template = get_template(circuit, LATTICE)
    assert template.parameters == ()
    assert template.bind({}) == template.circuit

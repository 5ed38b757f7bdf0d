"""Symbolic parameters: affine arithmetic and binding."""

from __future__ import annotations

import math

import pytest

from iqm_bridge.core import (
    Circuit,
    Expression,
    Gate,
    NonFiniteParameterError,
    Parameter,
    UnboundParameterError,
)


def test_affine_arithmetic_and_bind() -> None:
    theta, phi = Parameter("theta"), Parameter("phi")
    expr = 2 * theta + 0.5 - phi / 4
    assert expr.parameters == {"theta", "phi"}
    assert expr.bind({"theta": 1.0, "phi": 2.0}) == 2.0  # exact: every step is exact in binary
    partial = expr.bind({"theta": 1.0})
    assert isinstance(partial, Expression)
    assert partial.parameters == {"phi"}
    assert (theta - theta).bind({}) == 0.0


def test_expressions_are_values() -> None:
    theta = Parameter("theta")
    assert 2 * theta + 1 == theta + theta + 1
    assert hash(2 * theta + 1) == hash(theta * 2 + 1)
    assert theta.name == "theta"


def test_product_of_symbols_is_refused() -> None:
    theta = Parameter("theta")
    with pytest.raises(TypeError, match="not affine"):
        theta * theta  # noqa: B018


def test_float_of_unbound_expression_names_the_parameter() -> None:
    with pytest.raises(UnboundParameterError, match="theta"):
        float(Parameter("theta") + 1)


def test_binding_nan_is_refused() -> None:
    with pytest.raises(NonFiniteParameterError, match="theta"):
        Parameter("theta").bind({"theta": math.nan})


def test_circuit_bind_returns_new_circuit() -> None:
    theta = Parameter("theta")
    c = Circuit(("a",), [Gate("rx", ("a",), (theta * 2,))])
    bound = c.bind({"theta": 0.25})
    assert c.parameters == {"theta"}
    assert bound.parameters == frozenset()
    assert bound.operations[0] == Gate("rx", ("a",), (0.5,))

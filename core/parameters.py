"""Symbolic gate parameters: named parameters and affine expressions of them.

A gate angle is either a ``float`` or an :class:`Expression` ``c0 + c1*p1 + c2*p2 + ...``. Affine
expressions are closed under everything the lowering needs (adding constants, scaling, sums),
so a symbolic circuit can be lowered and compiled once and bound many times.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Union

from iqm_bridge.core.errors import NonFiniteParameterError, UnboundParameterError

__all__ = ["Expression", "Parameter", "ParamValue", "bind_value", "is_symbolic", "parameters_of"]


class Expression:
    """An affine expression ``constant + sum(coefficient * parameter)``; immutable and hashable.

    Args:
        terms: pairs of parameter name and coefficient; repeated names are summed and zero
            coefficients dropped.
        constant: the constant offset.
    """

    __slots__ = ("_constant", "_hash", "_terms")

    _terms: tuple[tuple[str, float], ...]
    _constant: float
    _hash: int

    def __init__(self, terms: Iterable[tuple[str, float]] = (), constant: float = 0.0) -> None:
        acc: dict[str, float] = {}
        for name, coef in terms:
            acc[name] = acc.get(name, 0.0) + float(coef)
        object.__setattr__(
            self, "_terms", tuple(sorted((n, c) for n, c in acc.items() if c != 0.0))
        )
        object.__setattr__(self, "_constant", float(constant))
        object.__setattr__(self, "_hash", hash((self._terms, self._constant)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Expression is immutable")

    @property
    def terms(self) -> tuple[tuple[str, float], ...]:
        """The ``(parameter name, coefficient)`` pairs, sorted by name."""
        return self._terms

    @property
    def constant(self) -> float:
        """The constant offset."""
        return self._constant

    @property
    def parameters(self) -> frozenset[str]:
        """Names of the parameters the expression depends on."""
        return frozenset(n for n, _ in self._terms)

    def bind(self, values: Mapping[str, float]) -> ParamValue:
        """Substitute the given values; a fully bound expression becomes a ``float``.

        Args:
            values: parameter name -> value; names not in the expression are ignored.

        Returns:
            A float if every parameter was given, else the partially bound expression.

        Raises:
            NonFiniteParameterError: a value is NaN or infinite.
        """
        const = self._constant
        rest: list[tuple[str, float]] = []
        for name, coef in self._terms:
            if name in values:
                value = float(values[name])
                if not math.isfinite(value):
                    raise NonFiniteParameterError(
                        f"parameter {name!r} bound to {value}; gate angles must be finite numbers"
                    )
                const += coef * value
            else:
                rest.append((name, coef))
        if not rest:
            return const
        return Expression(rest, const)

    def substitute(self, values: Mapping[str, ParamValue]) -> ParamValue:
        """Replace parameters by numbers or by other expressions (the result stays affine)."""
        out: ParamValue = self._constant
        rest: list[tuple[str, float]] = []
        for name, coef in self._terms:
            if name in values:
                out = out + coef * values[name]
            else:
                rest.append((name, coef))
        if rest:
            out = out + Expression(rest)
        return out

    # arithmetic ---------------------------------------------------------------------------
    def __add__(self, other: object) -> Expression:
        if isinstance(other, Expression):
            return Expression(self._terms + other._terms, self._constant + other._constant)
        if isinstance(other, int | float):
            return Expression(self._terms, self._constant + float(other))
        return NotImplemented

    __radd__ = __add__

    def __neg__(self) -> Expression:
        return Expression(((n, -c) for n, c in self._terms), -self._constant)

    def __sub__(self, other: object) -> Expression:
        if isinstance(other, Expression | int | float):
            return self + (-other)
        return NotImplemented

    def __rsub__(self, other: object) -> Expression:
        if isinstance(other, int | float):
            return (-self) + float(other)
        return NotImplemented

    def __mul__(self, other: object) -> Expression:
        if isinstance(other, int | float):
            f = float(other)
            return Expression(((n, c * f) for n, c in self._terms), self._constant * f)
        if isinstance(other, Expression):
            raise TypeError(
                "the product of two symbolic expressions is not affine; "
                "iqm-bridge parameters support only c0 + c1*p1 + ... forms"
            )
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> Expression:
        if isinstance(other, int | float):
            return self * (1.0 / float(other))
        return NotImplemented

    # value semantics ----------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Expression):
            return self._terms == other._terms and self._constant == other._constant
        return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        parts = [f"{c:g}*{n}" if c != 1.0 else n for n, c in self._terms]
        if self._constant or not parts:
            parts.append(f"{self._constant:g}")
        return " + ".join(parts)

    def __float__(self) -> float:
        raise UnboundParameterError(
            f"expression {self!r} still depends on {sorted(self.parameters)}; bind them first"
        )


class Parameter(Expression):
    """A named symbolic parameter, e.g. ``theta = Parameter("theta")``; ``2*theta + 0.5`` works.

    Args:
        name: the parameter's name, used as the key in ``bind`` mappings.
    """

    __slots__ = ("_name",)

    _name: str

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"parameter name must be a non-empty string, got {name!r}")
        super().__init__(((name, 1.0),), 0.0)
        object.__setattr__(self, "_name", name)

    @property
    def name(self) -> str:
        """The parameter's name."""
        return self._name

    def __repr__(self) -> str:
        return f"Parameter({self._name!r})"


ParamValue = Union[float, Expression]  # noqa: UP007 (a runtime alias, used in isinstance-free code)


def is_symbolic(value: ParamValue) -> bool:
    """Whether ``value`` is an unbound symbolic expression."""
    return isinstance(value, Expression)


def bind_value(value: ParamValue, values: Mapping[str, float]) -> ParamValue:
    """Bind one parameter value (floats pass through unchanged)."""
    if isinstance(value, Expression):
        return value.bind(values)
    return value


def parameters_of(values: Iterable[ParamValue]) -> frozenset[str]:
    """The names of all parameters the given values depend on."""
    names: set[str] = set()
    for v in values:
        if isinstance(v, Expression):
            names.update(v.parameters)
    return frozenset(names)

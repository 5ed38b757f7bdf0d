"""Parametric templates: compile a symbolic circuit once, bind it many times.

Placement, routing, lowering and fusion depend only on a circuit's structure, so a circuit
with symbolic parameters compiles to a native circuit whose angles are affine expressions of
those parameters (fusion keeps them affine: it only moves Z frames through symbolic gates and
never multiplies two symbolic rotations). A :class:`Template` stores that native circuit with
every symbolic angle as one row of ``constant + coefficients @ values``; binding evaluates all
rows with one matrix product and rebuilds only the gates that carry symbols.

:func:`get_template` caches templates by circuit structure (gate names, qubits, symbolic
expressions and numeric angles), device and compile options, so adapters that bind the same
parametrised circuit repeatedly compile it once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from iqm_bridge.core.compiler.pipeline import DEFAULT_LEVEL, CompileResult, compile
from iqm_bridge.core.compiler.validation import validate_native
from iqm_bridge.core.device import Device
from iqm_bridge.core.errors import NonFiniteParameterError, UnboundParameterError
from iqm_bridge.core.ir import Circuit, Conditional, Gate, Operation
from iqm_bridge.core.parameters import Expression

__all__ = ["Template", "clear_template_cache", "get_template", "template_cache_info"]

_Array = np.ndarray[Any, np.dtype[np.float64]]


class Template:
    """A compiled circuit whose angles are affine in named parameters.

    Args:
        result: the compilation of a symbolic circuit.

    Attributes:
        result: the symbolic compilation (layouts and report are those of every binding).
        parameters: the parameter names, sorted; the order for positional values.
    """

    __slots__ = ("_base", "_coef", "_const", "_index", "_plan", "parameters", "result")

    def __init__(self, result: CompileResult) -> None:
        self.result = result
        ops = result.circuit.operations
        names: set[str] = set()
        for op in ops:
            gate = op.gate if isinstance(op, Conditional) else op
            if isinstance(gate, Gate):
                for p in gate.params:
                    if isinstance(p, Expression):
                        names.update(p.parameters)
        self.parameters: tuple[str, ...] = tuple(sorted(names))
        self._index = {n: i for i, n in enumerate(self.parameters)}
        rows: list[tuple[float, list[tuple[int, float]]]] = []
        # plan: (op position, kind, gate, [param values or row numbers]) per symbolic op
        plan: list[tuple[int, bool, Gate, tuple[float | int, ...], tuple[bool, ...]]] = []
        for pos, op in enumerate(ops):
            gate = op.gate if isinstance(op, Conditional) else op
            if not isinstance(gate, Gate):
                continue
            if not any(isinstance(p, Expression) for p in gate.params):
                continue
            slots: list[float | int] = []
            symbolic: list[bool] = []
            for p in gate.params:
                if isinstance(p, Expression):
                    slots.append(len(rows))
                    symbolic.append(True)
                    rows.append((p.constant, [(self._index[n], c) for n, c in p.terms]))
                else:
                    slots.append(float(p))
                    symbolic.append(False)
            plan.append((pos, isinstance(op, Conditional), gate, tuple(slots), tuple(symbolic)))
        self._const: _Array = np.array([r[0] for r in rows], dtype=np.float64)
        coef = np.zeros((len(rows), len(self.parameters)), dtype=np.float64)
        for r, (_, terms) in enumerate(rows):
            for j, c in terms:
                coef[r, j] += c
        self._coef: _Array = coef
        self._plan = plan
        self._base: list[Operation] = list(ops)

    @property
    def circuit(self) -> Circuit:
        """The symbolic native circuit."""
        return self.result.circuit

    @property
    def initial_layout(self) -> dict[str, str]:
        """Logical qubit -> physical qubit at the start (the same for every binding)."""
        return self.result.initial_layout

    @property
    def final_layout(self) -> dict[str, str]:
        """Logical qubit -> physical qubit at the end (the same for every binding)."""
        return self.result.final_layout

    def _vector(self, values: Mapping[str, float] | Sequence[float] | _Array) -> _Array:
        if isinstance(values, Mapping):
            missing = [n for n in self.parameters if n not in values]
            if missing:
                raise UnboundParameterError(
                    f"no value for parameter(s) {missing}; the template needs "
                    f"{list(self.parameters)}"
                )
            vec = np.array([values[n] for n in self.parameters], dtype=np.float64)
        else:
            vec = np.asarray(values, dtype=np.float64)
            if vec.shape != (len(self.parameters),):
                raise UnboundParameterError(
                    f"expected {len(self.parameters)} values in the order "
                    f"{list(self.parameters)}, got shape {vec.shape}"
                )
        if not np.all(np.isfinite(vec)):
            raise NonFiniteParameterError(
                f"parameter values must be finite numbers, got {vec.tolist()}"
            )
        return vec

    def bind(self, values: Mapping[str, float] | Sequence[float] | _Array) -> Circuit:
        """The native circuit with the given parameter values.

        Args:
            values: parameter name -> value, or values in :attr:`parameters` order.

        Raises:
            UnboundParameterError: a parameter has no value.
            NonFiniteParameterError: a value is NaN or infinite.
        """
        vec = self._vector(values)
        angles: list[float] = (self._const + self._coef @ vec).tolist() if len(self._const) else []
        ops = self._base.copy()
        for pos, conditional, gate, slots, symbolic in self._plan:
            params = tuple(
                angles[int(s)] if sym else s for s, sym in zip(slots, symbolic, strict=True)
            )
            new = Gate(gate.name, gate.qubits, params)
            if conditional:
                old = ops[pos]
                assert isinstance(old, Conditional)
                ops[pos] = old.with_gate(new)
            else:
                ops[pos] = new
        return self.result.circuit.with_operations(ops)

    def bind_result(self, values: Mapping[str, float] | Sequence[float] | _Array) -> CompileResult:
        """Like :meth:`bind`, wrapped as a :class:`CompileResult` with this template's layouts."""
        return CompileResult(
            self.bind(values), self.initial_layout, self.final_layout, self.result.report
        )


# ---------------------------------------------------------------------------------------------
# the cache

_LOCK = threading.Lock()
_CACHE: OrderedDict[tuple[object, ...], Template] = OrderedDict()
_MAX_ENTRIES = 128
_STATS = {"hits": 0, "misses": 0}


def _device_key(device: Device) -> tuple[object, ...]:
    return (
        device.name,
        device.calibration_set_id,
        device.qubits,
        device.resonators,
        device.coupling_edges,
        id(device.calibration),
    )


def _layout_key(layout: Mapping[str, str] | Sequence[str] | None) -> object:
    if layout is None:
        return None
    if isinstance(layout, Mapping):
        return tuple(sorted(layout.items()))
    return tuple(layout)


def get_template(
    circuit: Circuit,
    device: Device,
    *,
    seed: int | None = None,
    level: int = DEFAULT_LEVEL,
    initial_layout: Mapping[str, str] | Sequence[str] | None = None,
) -> Template:
    """The compiled template of a (symbolic) circuit, from the cache when it was seen before.

    The key is the circuit's structure (qubits, operations with their gate names, symbolic
    expressions and numeric angles; not its name or metadata), the device and the options.

    Args:
        circuit: the circuit; parameters may be symbolic.
        device: the target device.
        seed: as for :func:`~iqm_bridge.core.compiler.compile`.
        level: as for :func:`~iqm_bridge.core.compiler.compile`.
        initial_layout: as for :func:`~iqm_bridge.core.compiler.compile`.
    """
    key = (
        circuit.qubits,
        circuit.operations,
        _device_key(device),
        seed,
        level,
        _layout_key(initial_layout),
    )
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            _STATS["hits"] += 1
            return hit
        _STATS["misses"] += 1
    result = compile(circuit, device, seed=seed, level=level, initial_layout=initial_layout)
    template = Template(result)
    if template.parameters:
        # check the symbolic result once, with every parameter at zero
        validate_native(template.bind(np.zeros(len(template.parameters))), device)
    with _LOCK:
        _CACHE[key] = template
        while len(_CACHE) > _MAX_ENTRIES:
            _CACHE.popitem(last=False)
    return template


def clear_template_cache() -> None:
    """Forget every cached template."""
    with _LOCK:
        _CACHE.clear()
        _STATS["hits"] = _STATS["misses"] = 0


def template_cache_info() -> dict[str, int]:
    """Cache statistics: ``hits``, ``misses`` and current ``size``."""
    with _LOCK:
        return {**_STATS, "size": len(_CACHE)}

"""The path every adapter takes: logical IR circuits -> native circuits -> one job.

Adapters translate their framework's circuits into :class:`~iqm_bridge.core.ir.Circuit` s whose
measurement keys are :class:`~iqm_bridge.core.keys.KeyMap` keys, then call :func:`prepare`
(compile for the device, skipping circuits that are already native and valid) and
:func:`run` (prepare + submit as one job).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from iqm_bridge.core.compiler import compile as compile_circuit
from iqm_bridge.core.device import Device
from iqm_bridge.core.errors import CircuitValidationError, ConfigurationError
from iqm_bridge.core.ir import Circuit, Measure
from iqm_bridge.core.options import RunOptions
from iqm_bridge.core.submit import Connection, Job
from iqm_bridge.core.validation import validate_native

__all__ = ["prepare", "prepare_one", "prepare_sweep", "run"]


def _is_native_on(circuit: Circuit, device: Device) -> bool:
    try:
        validate_native(circuit, device)
    except CircuitValidationError:
        return False
    return True


def prepare_one(
    circuit: Circuit,
    device: Device,
    *,
    level: int = 2,
    seed: int | None = None,
    initial_layout: Mapping[str, str] | None = None,
) -> Circuit:
    """The native, physical circuit to submit for ``circuit``.

    A circuit that is already native and valid on ``device`` (e.g. transpiled by its
    framework for this device) is submitted as it is; any other is compiled.

    Raises:
        CircuitValidationError: the circuit cannot run on the device (the message says why).
    """
    if circuit.parameters:
        names = sorted(circuit.parameters)
        raise CircuitValidationError(
            f"circuit {circuit.name!r} has unbound parameter(s) {names}; bind values first"
        )
    if not any(isinstance(op, Measure) for op in circuit.operations):
        raise CircuitValidationError(
            f"circuit {circuit.name!r} has no measurement, so it would return no results; "
            "add a measurement"
        )
    if initial_layout is None and _is_native_on(circuit, device):
        return circuit
    result = compile_circuit(circuit, device, seed=seed, level=level,
                             initial_layout=initial_layout)
    return result.circuit


def prepare(
    circuits: Sequence[Circuit],
    device: Device,
    *,
    level: int = 2,
    seed: int | None = None,
) -> list[Circuit]:
    """:func:`prepare_one` for each circuit, in order."""
    return [prepare_one(c, device, level=level, seed=seed) for c in circuits]


def prepare_sweep(
    circuit: Circuit,
    device: Device,
    bindings: Sequence[Mapping[str, float]],
    *,
    level: int = 2,
    seed: int | None = None,
) -> list[Circuit]:
    """Compile a symbolic circuit once (cached by structure) and bind it per parameter set.

    Args:
        circuit: a circuit whose parameters may be symbolic.
        device: the target device.
        bindings: one mapping of parameter values per circuit to produce.

    Raises:
        UnboundParameterError: a binding leaves a parameter without a value.
        CircuitValidationError: the circuit cannot run on the device.
    """
    from iqm_bridge.core.templates import get_template

    if not any(isinstance(op, Measure) for op in circuit.operations):
        raise CircuitValidationError(
            f"circuit {circuit.name!r} has no measurement, so it would return no results; "
            "add a measurement"
        )
    if not circuit.parameters:
        native = prepare_one(circuit, device, level=level, seed=seed)
        return [native for _ in bindings]
    template = get_template(circuit, device, level=level, seed=seed)
    return [template.bind(values) for values in bindings]


def run(
    connection: Connection,
    circuits: Sequence[Circuit],
    options: RunOptions | None = None,
    *,
    max_circuits: int | None = None,
    level: int = 2,
    seed: int | None = None,
) -> Job:
    """Compile ``circuits`` for the connection's device and submit them as one job.

    Raises:
        ConfigurationError: an empty batch.
        CircuitValidationError: a circuit cannot run on the device.
    """
    if not circuits:
        raise ConfigurationError("nothing to run: the list of circuits is empty")
    natives = prepare(circuits, connection.device, level=level, seed=seed)
    return connection.submit(natives, options, max_circuits=max_circuits)

"""Parse and validate a circuit job against an emulated machine.

The body is parsed with iqm-client's own ``CircuitJobDefinition`` model, then every
instruction is checked against the machine's dynamic quantum architecture the way the real
server would: known gate, known components, calibrated locus, arguments present and finite,
unique measurement keys, feedback keys written before they are read, and the MOVE sandwich
rules on machines with a computational resonator. Every problem becomes a
:class:`RequestError` whose message names the circuit, the instruction and the culprit.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from iqm_bridge.core import collector
from iqm_bridge.core.wire import NOISE_METADATA_KEY, SUBMISSION_METADATA_KEY
from iqm_bridge.emulator._machines import Machine
from iqm_bridge.emulator._simulator import NativeCircuit, Op, Shape

__all__ = ["Limits", "ParsedJob", "RequestError", "ShapeCache", "parse_job"]


class RequestError(Exception):
    """A request the server rejects; becomes an IQM error body with ``status``.

    Attributes:
        status: HTTP status code (4xx).
        code: the ``error_code`` of the error body.
        message: human-readable explanation naming the culprit.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Request limits; anything beyond them is answered with a 4xx.

    Attributes:
        max_body_bytes: largest accepted request body.
        max_shots: largest ``shots``.
        max_circuits: most circuits in one job.
        max_instructions: most instructions in one circuit.
        max_qubits: most simulated components in one circuit (``None``: as many as the
            machine has; every engine is then chosen by cost within ``memory_budget``).
        memory_budget: most bytes a job may need (simulation, results and the measurement
            artifact), estimated before it runs; a job over it is refused at submission.
        max_seconds: longest estimated simulation time of one job (``None``: no limit).
    """

    max_body_bytes: int = 50_000_000
    max_shots: int = 1_000_000
    max_circuits: int = 1_000
    max_instructions: int = 100_000
    max_qubits: int | None = None
    memory_budget: int = 1 << 30
    max_seconds: float | None = 600.0


@dataclass(frozen=True)
class ParsedJob:
    """A validated job: native circuits plus the options the simulator needs."""

    circuits: tuple[NativeCircuit, ...]
    shots: int
    calibration_set_id: str
    noise: tuple[bool | tuple[str, ...] | None, ...] = ()
    submission_id: str | None = None


_ARITY = {"prx": 1, "cc_prx": 1, "cz": 2, "move": 2}
_NO_CALIBRATION = {"barrier", "delay", "reset"}

_MODEL: Any = None
_NATIVE_MODEL: Any = None


def _model() -> Any:
    global _MODEL
    if _MODEL is None:
        from iqm.station_control.interface.models.circuit import CircuitJobDefinition

        _MODEL = CircuitJobDefinition
    return _MODEL


def _native_model() -> Any:
    """iqm-client's job model with ``circuits`` narrowed to the current ``Circuit`` class.

    The full model types a circuit as ``Circuit | _Circuit | QIRCode``, and pydantic's smart
    union also builds every circuit as the deprecated ``_Circuit`` (one warning per
    instruction), which triples the time of a large batch. Bodies this narrower model rejects
    go through the full model, so QIR, the old format and every error message stay as they were.
    """
    global _NATIVE_MODEL
    if _NATIVE_MODEL is None:
        from iqm.pulse.circuit_operations import Circuit
        from pydantic import Field

        class NativeCircuitJob(_model()):  # type: ignore[misc]
            circuits: list[Circuit] = Field(...)

        _NATIVE_MODEL = NativeCircuitJob
    return _NATIVE_MODEL


def preload() -> None:
    """Import iqm-client's job model now (it takes about a second) instead of per request."""
    _native_model()


def _summarize_validation(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            items = errors()[:3]
            parts = [
                f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in items
            ]
            return "; ".join(parts)
        except Exception:  # pragma: no cover - defensive
            pass
    return str(exc).splitlines()[0]


def parse_job(
    body: bytes, machine: Machine, limits: Limits, shapes: ShapeCache | None = None
) -> ParsedJob:
    """Parse a ``CircuitJobDefinition`` body and validate it against ``machine``.

    Args:
        body: the request body.
        machine: the machine the job is for.
        limits: request limits.
        shapes: structures validated by earlier jobs (``None``: only this job's).

    Raises:
        RequestError: the body is malformed, over a limit, or does not fit the machine.
    """
    # the models of a large job are tens of thousands of short-lived objects; in the embedded
    # emulator they share the user's process, whose full collections they would set off
    with collector.paused():
        return _parse_job(body, machine, limits, shapes)


def _parse_job(
    body: bytes, machine: Machine, limits: Limits, shapes: ShapeCache | None
) -> ParsedJob:
    if len(body) > limits.max_body_bytes:
        raise RequestError(
            413,
            "payload_too_large",
            f"request body of {len(body)} bytes exceeds the limit of {limits.max_body_bytes}",
        )
    try:
        job = _native_model().model_validate_json(body)
    except Exception:
        try:
            job = _model().model_validate_json(body)
        except Exception as exc:
            raise RequestError(
                400, "invalid_request", f"invalid circuit job: {_summarize_validation(exc)}"
            ) from None
    if job.shots < 1 or job.shots > limits.max_shots:
        raise RequestError(
            400,
            "invalid_shots",
            f"shots must be between 1 and {limits.max_shots}, got {job.shots}",
        )
    if not job.circuits:
        raise RequestError(400, "invalid_request", "the job contains no circuits")
    if len(job.circuits) > limits.max_circuits:
        raise RequestError(
            400,
            "too_many_circuits",
            f"the job has {len(job.circuits)} circuits; the limit is {limits.max_circuits}",
        )
    calset = job.calibration_set_id
    if calset is not None and str(calset) != machine.calibration_set_id:
        raise RequestError(
            400,
            "unknown_calibration_set",
            f"calibration set {calset} is not available on {machine.name}; "
            f"use {machine.calibration_set_id} or leave it unset",
        )
    mapping = _qubit_mapping(job, body, machine)
    strict = str(getattr(job.move_gate_validation, "value", job.move_gate_validation))
    known = {} if shapes is None else shapes.get(machine, strict, mapping)
    circuits = tuple(
        _parse_circuit(c, index, machine, limits, mapping, strict, known)
        for index, c in enumerate(job.circuits)
    )
    noise = tuple(_noise_override(c) for c in job.circuits)
    return ParsedJob(
        circuits, int(job.shots), machine.calibration_set_id, noise, _submission_id(job.circuits)
    )


def _submission_id(circuits: Any) -> str | None:
    """The client-made submission id in the first circuit's metadata, if any."""
    metadata = getattr(circuits[0], "metadata", None)
    if isinstance(metadata, Mapping):
        value = metadata.get(SUBMISSION_METADATA_KEY)
        if isinstance(value, str) and 0 < len(value) <= 200:
            return value
    return None


NOISE_SOURCES = ("prx", "cz", "move", "readout", "idle")
"""Noise sources a circuit can switch off one by one: ``{"readout": false}``."""


def _noise_override(circuit: Any) -> bool | tuple[str, ...] | None:
    """Per-circuit noise switch: ``metadata[NOISE_METADATA_KEY]``, if present.

    ``true``/``false`` switches all noise; an object such as ``{"readout": false}`` keeps the
    noise on but without the sources set to false (returned as their sorted names).
    """
    metadata = getattr(circuit, "metadata", None)
    if not isinstance(metadata, Mapping):
        return None
    value = metadata.get(NOISE_METADATA_KEY)
    if isinstance(value, bool):
        return value
    if isinstance(value, Mapping):
        name = getattr(circuit, "name", "?")
        for source, on in value.items():
            if source not in NOISE_SOURCES or not isinstance(on, bool):
                raise RequestError(
                    400, "invalid_request",
                    f"circuit {name!r}: metadata {NOISE_METADATA_KEY!r} maps noise sources "
                    f"({', '.join(NOISE_SOURCES)}) to true or false, got {source!r}: {on!r}",
                )  # fmt: skip
        return tuple(sorted(source for source, on in value.items() if not on))
    return None


_MAPPING_MODEL: Any = None


def _raw_mapping(body: bytes) -> Any:
    """The body's ``qubit_mapping`` as sent (iqm-client's model folds repeated logical names)."""
    global _MAPPING_MODEL
    if _MAPPING_MODEL is None:
        from pydantic import BaseModel, ConfigDict

        class MappingOnly(BaseModel):
            model_config = ConfigDict(extra="ignore")
            qubit_mapping: list[Any] | dict[str, Any] | None = None

        _MAPPING_MODEL = MappingOnly
    try:
        return _MAPPING_MODEL.model_validate_json(body).qubit_mapping
    except Exception:  # the full model accepted it, so this cannot fail; be safe anyway
        return None


def _names(names: Sequence[str] | set[str]) -> str:
    return ", ".join(repr(n) for n in sorted(names))


def _qubit_mapping(job: Any, body: bytes, machine: Machine) -> dict[str, str] | None:
    """The job's ``qubit_mapping`` (logical name -> physical name), checked.

    The checks are iqm-client's own (``validate_qubit_mapping``), made again by the server for
    clients that skip them: each logical name once, each physical name once (two logical
    qubits on one physical qubit would silently merge them), every physical name a component
    of the machine, every name the circuits use mapped. Logical names no circuit uses are
    accepted, as iqm-client accepts them.

    Raises:
        RequestError: 400 naming the offending names.
    """
    mapping = job.qubit_mapping
    if mapping is None:
        return None
    mapping = {str(k): str(v) for k, v in mapping.items()}
    raw = _raw_mapping(body)
    if isinstance(raw, list):
        seen: set[str] = set()
        repeated = set()
        for item in raw:
            logical = item.get("logical_name") if isinstance(item, Mapping) else None
            if logical in seen:
                repeated.add(str(logical))
            seen.add(str(logical))
        if repeated:
            raise RequestError(
                400, "invalid_qubit_mapping", f"qubit_mapping lists the logical qubit(s) "
                f"{_names(repeated)} more than once; give each logical qubit one physical qubit",
            )  # fmt: skip
    by_physical: dict[str, list[str]] = {}
    for logical, physical in mapping.items():
        by_physical.setdefault(physical, []).append(logical)
    shared = {p: ls for p, ls in by_physical.items() if len(ls) > 1}
    if shared:
        physical, logicals = min(shared.items())
        raise RequestError(
            400, "invalid_qubit_mapping", f"qubit_mapping maps the logical qubits "
            f"{_names(logicals)} onto the same physical qubit {physical!r}; map each logical "
            "qubit to a different physical qubit",
        )  # fmt: skip
    missing = {p for p in by_physical if not machine.device.has_component(p)}
    if missing:
        raise RequestError(
            400, "invalid_qubit_mapping", f"qubit_mapping names {_names(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not a qubit or resonator of {machine.name}",
        )  # fmt: skip
    for index, circuit in enumerate(job.circuits):
        instructions = getattr(circuit, "instructions", None)
        if isinstance(circuit, str) or instructions is None:
            continue  # QIR code and old formats are rejected with their own message later
        used: set[str] = set()
        for inst in instructions:
            locus = getattr(inst, "locus", None) or getattr(inst, "qubits", None) or ()
            used.update(str(c) for c in locus)
        unmapped = used.difference(mapping)
        if unmapped:
            name = getattr(circuit, "name", f"circuit {index}")
            raise RequestError(
                400, "invalid_qubit_mapping", f"circuit {name!r} (index {index}) uses "
                f"{_names(unmapped)}, which {'is' if len(unmapped) == 1 else 'are'} not in "
                "qubit_mapping; map every qubit the circuits use",
            )  # fmt: skip
    return mapping


def _number(args: Mapping[str, Any], name: str, where: str) -> float:
    value = args.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestError(
            400, "invalid_instruction", f"{where}: argument {name!r} must be a number"
        )
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        number = math.inf
    if not math.isfinite(number):
        raise RequestError(400, "invalid_instruction", f"{where}: argument {name!r} is not finite")
    return number


def _text(args: Mapping[str, Any], name: str, where: str) -> str:
    value = args.get(name)
    if not isinstance(value, str) or not value:
        raise RequestError(
            400, "invalid_instruction", f"{where}: argument {name!r} must be a non-empty string"
        )
    return value


@dataclass(frozen=True, slots=True)
class _Known:
    """A validated circuit structure and where its numbers sit in the instruction list.

    Attributes:
        shape: the structure.
        sources: per row of the circuit's values, ``(instruction position, is a delay)``;
            after the shape's parameters come delays that act on no simulated component,
            whose durations are only checked.
        delay_rows: rows that hold a delay duration (must not be negative).
    """

    shape: Shape
    sources: tuple[tuple[int, bool], ...]
    delay_rows: np.ndarray


_MAX_SHAPES = 1024
_NUMBER_TYPES = frozenset((float, int))


class ShapeCache:
    """Circuit structures already validated, per machine and job options.

    An emulator server keeps one, so a sweep sent again and again is validated once; without
    one, :func:`parse_job` still validates each structure once per job.
    """

    def __init__(self) -> None:
        self._known: weakref.WeakKeyDictionary[Machine, dict[Any, dict[Any, _Known]]] = (
            weakref.WeakKeyDictionary()
        )

    def get(
        self, machine: Machine, move_validation: str, mapping: dict[str, str] | None
    ) -> dict[Any, _Known]:
        """The structures validated on ``machine`` under these job options."""
        per_machine = self._known.get(machine)
        if per_machine is None:
            per_machine = self._known[machine] = {}
        key = (move_validation, None if mapping is None else tuple(sorted(mapping.items())))
        known = per_machine.get(key)
        if known is None or len(known) > _MAX_SHAPES:
            known = per_machine[key] = {}
        return known


def _signature(instructions: Sequence[Any]) -> tuple[Any, ...] | None:
    """Everything about ``instructions`` that validation depends on, except their numbers.

    ``None`` if it cannot be a dictionary key (an old-format or malformed instruction).
    """
    sig: list[tuple[Any, ...]] = []
    append = sig.append
    try:
        for inst in instructions:
            name = inst.name
            item: tuple[Any, ...]
            if name == "measure":
                args = inst.args
                item = (name, inst.locus, inst.implementation,
                        args.get("key"), args.get("feedback_key"))  # fmt: skip
            elif name == "cc_prx":
                args = inst.args
                item = (name, inst.locus, inst.implementation,
                        args.get("feedback_qubit"), args.get("feedback_key"))  # fmt: skip
            else:
                item = (name, inst.locus, inst.implementation)
            append(item)
        out = tuple(sig)
        hash(out)
    except (AttributeError, TypeError):
        return None
    return out


def _values(known: _Known, instructions: Sequence[Any]) -> np.ndarray | None:
    """The numbers of a circuit of a known structure, or ``None`` if one is not valid."""
    vals: list[Any] = []
    append = vals.append
    try:
        for pos, is_delay in known.sources:
            args = instructions[pos].args
            if is_delay:
                append(args["duration"])
                append(0.0)
            else:
                append(args["angle"])
                append(args["phase"])
    except (KeyError, TypeError):
        return None
    if not set(map(type, vals)) <= _NUMBER_TYPES:
        return None  # bool, str, None, ...: the full validation names the problem
    try:
        arr = np.array(vals, dtype=np.float64).reshape(-1, 2)
    except OverflowError:
        return None
    if not np.isfinite(arr).all():
        return None
    if len(known.delay_rows) and (arr[known.delay_rows, 0] < 0).any():
        return None
    return arr[: len(known.shape.params)]


def _parse_circuit(
    circuit: Any,
    index: int,
    machine: Machine,
    limits: Limits,
    mapping: dict[str, str] | None,
    move_validation: str,
    shapes: dict[Any, _Known] | None = None,
) -> NativeCircuit:
    """Validate one circuit; a structure validated before only has its numbers checked."""
    if shapes is None or isinstance(circuit, str):
        return _validate_circuit(circuit, index, machine, limits, mapping, move_validation)[0]
    instructions = getattr(circuit, "instructions", ())
    if len(instructions) > limits.max_instructions:
        return _validate_circuit(circuit, index, machine, limits, mapping, move_validation)[0]
    sig = _signature(instructions)
    if sig is not None:
        known = shapes.get(sig)
        if known is not None:
            values = _values(known, instructions)
            if values is not None:
                name = str(getattr(circuit, "name", f"circuit {index}"))
                return NativeCircuit.of_shape(name, known.shape, values)
    native, sources, idle = _validate_circuit(
        circuit, index, machine, limits, mapping, move_validation
    )
    if sig is not None:
        shapes[sig] = _known(native, sources, idle)
    return native


def _known(native: NativeCircuit, sources: list[int], idle: list[int]) -> _Known:
    """The structure of a freshly validated circuit (and the circuit rebuilt on it)."""
    ops = native.ops
    params = tuple(i for i, op in enumerate(ops) if op.kind in ("prx", "cc_prx", "delay"))
    template = list(ops)
    for i in params:
        op = ops[i]
        template[i] = Op(op.kind, op.targets, key=op.key, feedback=op.feedback)
    shape = Shape(native.components, tuple(template), native.feedback_slots, native.keys, params)
    rows = [(sources[i], ops[i].kind == "delay") for i in params] + [(pos, True) for pos in idle]
    delay_rows = np.array([j for j, (_, d) in enumerate(rows) if d], dtype=np.intp)
    native.shape = shape
    native.values = np.array(
        [[ops[i].duration, 0.0] if ops[i].kind == "delay" else [ops[i].angle, ops[i].phase]
         for i in params],
        dtype=np.float64,
    ).reshape(-1, 2)  # fmt: skip
    return _Known(shape, tuple(rows), delay_rows)


def _validate_circuit(
    circuit: Any,
    index: int,
    machine: Machine,
    limits: Limits,
    mapping: dict[str, str] | None,
    move_validation: str,
) -> tuple[NativeCircuit, list[int], list[int]]:
    """Validate one circuit instruction by instruction.

    Returns:
        the circuit, the instruction position of each op, and the positions of delays that
        act on no simulated component (so produce no op).
    """
    if isinstance(circuit, str):
        raise RequestError(
            400, "unsupported_circuit", f"circuit {index} is QIR code; the emulator runs only "
            "native instruction circuits"
        )  # fmt: skip
    name = str(getattr(circuit, "name", f"circuit {index}"))
    instructions = list(getattr(circuit, "instructions", ()))
    if len(instructions) > limits.max_instructions:
        raise RequestError(
            400,
            "too_many_instructions",
            f"circuit {name!r} has {len(instructions)} instructions; "
            f"the limit is {limits.max_instructions}",
        )
    device = machine.device
    natives = device.native_names
    components: dict[str, int] = {}
    ops: list[Op] = []
    sources: list[int] = []
    idle: list[int] = []
    keys: set[str] = set()
    key_order: list[str] = []
    feedback: dict[tuple[str, str], tuple[int, int]] = {}
    slots: list[tuple[int, int]] = []
    slot_index: dict[tuple[int, int], int] = {}
    in_resonator: dict[str, str] = {}  # resonator -> qubit whose state it holds
    qubit_in: dict[str, str] = {}  # qubit -> resonator holding its state
    for pos, inst in enumerate(instructions):
        op_name = str(getattr(inst, "name", ""))
        where = f"circuit {name!r}, instruction {pos} ({op_name})"
        raw_locus = getattr(inst, "locus", None)
        if raw_locus is None:
            raw_locus = getattr(inst, "qubits", ())
        locus = tuple(str(c) for c in raw_locus)
        if mapping is not None:
            unknown = [c for c in locus if c not in mapping]
            if unknown:
                raise RequestError(
                    400, "unknown_qubit", f"{where}: {unknown[0]!r} is not in qubit_mapping"
                )
            locus = tuple(mapping[c] for c in locus)
        args = getattr(inst, "args", None) or {}
        if not isinstance(args, Mapping):
            raise RequestError(400, "invalid_instruction", f"{where}: args must be an object")
        if op_name not in natives:
            raise RequestError(
                400,
                "unknown_gate",
                f"{where}: gate {op_name!r} is not native on {machine.name}; natives are "
                f"{', '.join(sorted(natives))}",
            )
        if not locus:
            raise RequestError(400, "invalid_instruction", f"{where}: empty locus")
        for comp in locus:
            if not device.has_component(comp):
                raise RequestError(
                    400,
                    "unknown_qubit",
                    f"{where}: {comp!r} is not a qubit or resonator of {machine.name}",
                )
        if len(set(locus)) != len(locus):
            raise RequestError(400, "invalid_instruction", f"{where}: locus {locus} repeats a name")
        arity = _ARITY.get(op_name)
        if arity is not None and len(locus) != arity:
            raise RequestError(
                400, "invalid_instruction", f"{where}: needs {arity} components, got {len(locus)}"
            )
        impl = getattr(inst, "implementation", None)
        if impl is not None and op_name not in _NO_CALIBRATION:
            spec = device.gates[op_name]
            if impl not in spec.implementations:
                raise RequestError(
                    400,
                    "unknown_implementation",
                    f"{where}: implementation {impl!r} does not exist; choose one of "
                    f"{', '.join(sorted(spec.implementations))}",
                )
        if not device.supports(op_name, locus):
            raise RequestError(
                400,
                "unsupported_locus",
                f"{where}: {op_name} is not calibrated on {', '.join(locus)} on {machine.name}",
            )
        # MOVE sandwich rules
        if move_validation != "none" and device.resonators:
            if op_name == "move":
                qubit, res = locus
                holder = in_resonator.get(res)
                if holder is None:
                    if qubit in qubit_in:
                        raise RequestError(
                            400,
                            "invalid_move",
                            f"{where}: the state of {qubit} is already in {qubit_in[qubit]}",
                        )
                    in_resonator[res] = qubit
                    qubit_in[qubit] = res
                elif holder == qubit:
                    del in_resonator[res]
                    del qubit_in[qubit]
                else:
                    raise RequestError(
                        400,
                        "invalid_move",
                        f"{where}: {res} holds the state of {holder}; move it back to {holder} "
                        f"before moving {qubit} in (a MOVE pair must close)",
                    )
            elif op_name != "barrier":
                allowed = move_validation == "allow_prx" and op_name in ("prx", "cc_prx")
                for comp in locus:
                    if comp in qubit_in and not allowed:
                        raise RequestError(
                            400,
                            "invalid_move",
                            f"{where}: the state of {comp} is in {qubit_in[comp]}; no gate may "
                            f"act on {comp} until it is moved back",
                        )
        if op_name == "barrier":
            continue
        if op_name == "delay":
            duration = _number(args, "duration", where)
            if duration < 0:
                raise RequestError(400, "invalid_instruction", f"{where}: negative duration")
            active = tuple(components[c] for c in locus if c in components)
            if active:
                sources.append(pos)
                ops.append(Op("delay", active, duration=duration))
            else:
                idle.append(pos)
            continue
        targets = tuple(components.setdefault(c, len(components)) for c in locus)
        sources.append(pos)
        if op_name == "prx":
            ops.append(
                Op("prx", targets, angle=_number(args, "angle", where),
                   phase=_number(args, "phase", where))
            )  # fmt: skip
        elif op_name in ("cz", "move"):
            ops.append(Op(op_name, targets))
        elif op_name == "reset":
            ops.append(Op("reset", targets))
        elif op_name == "measure":
            key = _text(args, "key", where)
            if key in keys:
                raise RequestError(
                    400, "duplicate_key", f"{where}: measurement key {key!r} is used twice"
                )
            keys.add(key)
            key_order.append(key)
            fb_key = args.get("feedback_key")
            if fb_key is not None:
                if not isinstance(fb_key, str):
                    raise RequestError(
                        400, "invalid_instruction", f"{where}: feedback_key must be a string"
                    )
                for col, comp in enumerate(locus):
                    feedback[(fb_key, comp)] = (len(ops), col)
            ops.append(Op("measure", targets, key=key))
        elif op_name == "cc_prx":
            angle = _number(args, "angle", where)
            phase = _number(args, "phase", where)
            fb_qubit = _text(args, "feedback_qubit", where)
            fb_key = _text(args, "feedback_key", where)
            if mapping is not None:
                fb_qubit = mapping.get(fb_qubit, fb_qubit)
            source = feedback.get((fb_key, fb_qubit))
            if source is None:
                raise RequestError(
                    400,
                    "invalid_feedback",
                    f"{where}: no earlier measure of {fb_qubit} with feedback_key {fb_key!r}",
                )
            slot = slot_index.get(source)
            if slot is None:
                slot = slot_index[source] = len(slots)
                slots.append(source)
            ops.append(Op("cc_prx", targets, angle=angle, phase=phase, feedback=slot))
        else:
            raise RequestError(
                400, "unknown_gate", f"{where}: the emulator cannot simulate {op_name!r}"
            )
    if move_validation != "none" and in_resonator:
        res, qubit = next(iter(in_resonator.items()))
        raise RequestError(
            400,
            "invalid_move",
            f"circuit {name!r}: the state of {qubit} is still in {res} at the end; "
            f"close the MOVE pair with move({qubit}, {res})",
        )
    native = NativeCircuit(
        name=name,
        components=tuple(components),
        ops=tuple(ops),
        feedback_slots=tuple(slots),
        keys=tuple(key_order),
    )
    return native, sources, idle

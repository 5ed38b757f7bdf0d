"""Run options passed through to the server, checked by name, type and value before submission.

Names are iqm-bridge's flat ones (``shots``, ``heralding_mode``, ...). iqm-client's
``CircuitCompilationOptions`` object, which the official integrations take as
``circuit_compilation_options`` (Qiskit) or ``compiler_options`` (Cirq), is accepted too and
expands into the same flat fields (:meth:`RunOptions.from_kwargs`).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import numbers
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import attrs

from iqm_bridge.core.errors import ConfigurationError, UnknownOptionError

__all__ = ["COMPILATION_OPTION_NAMES", "MAX_SHOTS", "RunOptions"]

_CHOICES: dict[str, tuple[str, ...]] = {
    "heralding_mode": ("none", "zeros"),
    "move_gate_validation": ("strict", "allow_prx", "none"),
    "move_gate_frame_tracking": ("full", "no_detuning_correction", "none"),
    "dd_mode": ("disabled", "enabled"),
}

MAX_SHOTS = 10_000_000

COMPILATION_OPTION_NAMES = ("circuit_compilation_options", "compiler_options")
"""Names under which the official integrations take iqm-client's ``CircuitCompilationOptions``."""

_COMPILATION_FIELDS = (
    "max_circuit_duration_over_t2",
    "heralding_mode",
    "move_gate_validation",
    "move_gate_frame_tracking",
    "active_reset_cycles",
    "dd_mode",
    "dd_strategy",
)


def _choice(value: Any) -> Any:
    """An enum member (iqm-client's ``HeraldingMode.ZEROS``...) as its string value."""
    return value.value if isinstance(value, enum.Enum) else value


def _whole(name: str, value: Any, *, allow_none: bool = False) -> Any:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigurationError(
            f"option {name}={value!r} must be a whole number, not {type(value).__name__}"
        )
    return int(value)


def _seconds(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigurationError(
            f"option {name}={value!r} must be a number of seconds, not {type(value).__name__}"
        )
    return float(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"option {name}={value!r} must be True or False")
    return value


def _shots(value: Any) -> int:
    number: int = _whole("shots", value)
    return number


def _cycles(value: Any) -> int | None:
    number: int | None = _whole("active_reset_cycles", value, allow_none=True)
    return number


def _ratio(value: Any) -> float | None:
    return _seconds("max_circuit_duration_over_t2", value)


def _timeout(value: Any) -> float | None:
    return _seconds("timeout", value)


def _timeslot(value: Any) -> bool:
    return _flag("use_timeslot", value)


def _uuid_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(UUID(value))
        except ValueError:
            pass
    raise ConfigurationError(
        f"option calibration_set_id={value!r} is not a UUID (a uuid.UUID or its string form)"
    )


def _mapping(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"option qubit_mapping={value!r} must be a mapping of logical to physical qubit "
            f"names, not {type(value).__name__}"
        )
    bad = [k for k, v in value.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise ConfigurationError(
            f"option qubit_mapping: entries {bad} are not name -> name strings"
        )
    physical = list(value.values())
    twice = sorted({p for p in physical if physical.count(p) > 1})
    if twice:
        raise ConfigurationError(
            f"option qubit_mapping maps several logical qubits onto {twice}; each physical qubit "
            "can hold one"
        )
    return dict(value)


@attrs.frozen(slots=True)
class RunOptions:
    """What a job asks of the server besides its circuits.

    Attributes:
        shots: repetitions of every circuit (>= 1).
        calibration_set_id: a calibration set UUID (a ``uuid.UUID`` or its string), or
            ``None`` for the server's default.
        qubit_mapping: logical name -> physical qubit name, for circuits on logical names.
        heralding_mode: ``"none"`` or ``"zeros"``.
        move_gate_validation: ``"strict"``, ``"allow_prx"`` or ``"none"``.
        move_gate_frame_tracking: ``"full"``, ``"no_detuning_correction"`` or ``"none"``.
        dd_mode: dynamical decoupling, ``"disabled"`` or ``"enabled"``.
        dd_strategy: iqm-client's ``DDStrategy`` (or its dict form), or ``None``.
        active_reset_cycles: active reset cycles between shots, or ``None``.
        max_circuit_duration_over_t2: duration check; ``0.0`` disables it.
        use_timeslot: submit to the timeslot queue.
        timeout: seconds to wait for results in ``result()`` (``None``: no limit).
    """

    shots: int = attrs.field(default=1024, converter=_shots)
    calibration_set_id: str | None = attrs.field(default=None, converter=_uuid_text)
    qubit_mapping: Mapping[str, str] | None = attrs.field(default=None, converter=_mapping)
    heralding_mode: str = attrs.field(default="none", converter=_choice)
    move_gate_validation: str = attrs.field(default="strict", converter=_choice)
    move_gate_frame_tracking: str = attrs.field(default="full", converter=_choice)
    dd_mode: str = attrs.field(default="disabled", converter=_choice)
    dd_strategy: Any = None
    active_reset_cycles: int | None = attrs.field(default=None, converter=_cycles)
    max_circuit_duration_over_t2: float | None = attrs.field(default=None, converter=_ratio)
    use_timeslot: bool = attrs.field(default=False, converter=_timeslot)
    timeout: float | None = attrs.field(default=None, converter=_timeout)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The accepted option names."""
        return tuple(a.name for a in attrs.fields(cls))

    @classmethod
    def from_kwargs(cls, base: RunOptions | None = None, **kwargs: Any) -> RunOptions:
        """Validate option names and values, on top of ``base``.

        iqm-client's ``CircuitCompilationOptions`` may be given as ``circuit_compilation_options``
        or ``compiler_options``; its fields then apply (flat names given too win).

        Raises:
            UnknownOptionError: an option name that is not accepted (the message lists them).
            ConfigurationError: a value of the wrong type, out of range or not one of the
                choices (the message names the option).
        """
        for alias in COMPILATION_OPTION_NAMES:
            compiled = kwargs.pop(alias, None)
            if compiled is not None:
                kwargs = {**cls.compilation_fields(compiled, alias), **kwargs}
        valid = cls.names()
        unknown = sorted(set(kwargs) - set(valid))
        if unknown:
            raise UnknownOptionError(
                f"unknown run option(s) {unknown}; valid options are: "
                f"{', '.join((*valid, *COMPILATION_OPTION_NAMES))}"
            )
        try:
            opts = attrs.evolve(base, **kwargs) if base is not None else cls(**kwargs)
        except ConfigurationError:
            raise
        except (TypeError, ValueError) as exc:  # a converter refusing a value
            raise ConfigurationError(f"run options {sorted(kwargs)}: {exc}") from None
        opts.check()
        return opts

    @staticmethod
    def compilation_fields(
        options: Any, name: str = "circuit_compilation_options"
    ) -> dict[str, Any]:
        """The flat option values of iqm-client's ``CircuitCompilationOptions`` (or a mapping
        with its field names).

        Raises:
            ConfigurationError: ``options`` is neither.
        """
        if dataclasses.is_dataclass(options) and not isinstance(options, type):
            values = {f: getattr(options, f) for f in _COMPILATION_FIELDS if hasattr(options, f)}
        elif isinstance(options, Mapping):
            values = dict(options)
        else:
            raise ConfigurationError(
                f"option {name}={options!r} must be iqm-client's CircuitCompilationOptions"
            )
        return {k: _choice(v) for k, v in values.items()}

    def check(self) -> None:
        """Raise :class:`ConfigurationError` for a value the server would refuse (types are
        checked when the options are made)."""
        if not 1 <= self.shots <= MAX_SHOTS:
            raise ConfigurationError(
                f"option shots={self.shots} is out of range; use 1 to {MAX_SHOTS:,}"
            )
        for name, choices in _CHOICES.items():
            value = getattr(self, name)
            if not isinstance(value, str) or value not in choices:
                raise ConfigurationError(
                    f"option {name}={value!r} is not one of {', '.join(map(repr, choices))}"
                )
        if self.timeout is not None and not (self.timeout > 0 and math.isfinite(self.timeout)):
            raise ConfigurationError(f"option timeout={self.timeout!r} must be positive seconds")
        if self.active_reset_cycles is not None and self.active_reset_cycles < 0:
            raise ConfigurationError(
                f"option active_reset_cycles={self.active_reset_cycles} must be >= 0"
            )
        ratio = self.max_circuit_duration_over_t2
        if ratio is not None and not (ratio >= 0 and math.isfinite(ratio)):
            raise ConfigurationError(
                f"option max_circuit_duration_over_t2={ratio!r} must be a number >= 0"
            )

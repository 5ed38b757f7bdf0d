"""Run options passed through to the server, checked by name and value before submission."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from iqm_bridge.core.errors import ConfigurationError, UnknownOptionError

__all__ = ["RunOptions"]

_CHOICES: dict[str, tuple[str, ...]] = {
    "heralding_mode": ("none", "zeros"),
    "move_gate_validation": ("strict", "allow_prx", "none"),
    "move_gate_frame_tracking": ("full", "no_detuning_correction", "none"),
    "dd_mode": ("disabled", "enabled"),
}

MAX_SHOTS = 10_000_000


@attrs.frozen(slots=True)
class RunOptions:
    """What a job asks of the server besides its circuits.

    Attributes:
        shots: repetitions of every circuit (>= 1).
        calibration_set_id: a calibration set UUID, or ``None`` for the server's default.
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

    shots: int = 1024
    calibration_set_id: str | None = None
    qubit_mapping: Mapping[str, str] | None = None
    heralding_mode: str = "none"
    move_gate_validation: str = "strict"
    move_gate_frame_tracking: str = "full"
    dd_mode: str = "disabled"
    dd_strategy: Any = None
    active_reset_cycles: int | None = None
    max_circuit_duration_over_t2: float | None = None
    use_timeslot: bool = False
    timeout: float | None = None

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The accepted option names."""
        return tuple(a.name for a in attrs.fields(cls))

    @classmethod
    def from_kwargs(cls, base: RunOptions | None = None, **kwargs: Any) -> RunOptions:
        """Validate option names and values, on top of ``base``.

        Raises:
            UnknownOptionError: an option name that is not accepted (the message lists them).
            ConfigurationError: a value out of range or not one of the choices.
        """
        valid = cls.names()
        unknown = sorted(set(kwargs) - set(valid))
        if unknown:
            raise UnknownOptionError(
                f"unknown run option(s) {unknown}; valid options are: {', '.join(valid)}"
            )
        opts = attrs.evolve(base, **kwargs) if base is not None else cls(**kwargs)
        opts.check()
        return opts

    def check(self) -> None:
        """Raise :class:`ConfigurationError` for a value the server would refuse."""
        if isinstance(self.shots, bool) or not isinstance(self.shots, int):
            raise ConfigurationError(f"option shots={self.shots!r} must be a whole number")
        if not 1 <= self.shots <= MAX_SHOTS:
            raise ConfigurationError(
                f"option shots={self.shots} is out of range; use 1 to {MAX_SHOTS:,}"
            )
        for name, choices in _CHOICES.items():
            value = str(getattr(self, name))
            if value not in choices:
                raise ConfigurationError(
                    f"option {name}={value!r} is not one of {', '.join(map(repr, choices))}"
                )
        if self.timeout is not None and not self.timeout > 0:
            raise ConfigurationError(f"option timeout={self.timeout!r} must be positive seconds")
        if self.active_reset_cycles is not None and self.active_reset_cycles < 0:
            raise ConfigurationError(
                f"option active_reset_cycles={self.active_reset_cycles} must be >= 0"
            )

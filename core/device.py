"""The quantum computer as the compiler sees it: qubits, resonators, natives on loci.

A :class:`Device` is built from the server's dynamic quantum architecture (iqm-client's
``DynamicQuantumArchitecture`` model or its JSON form). It answers "may native X act on
these components?" and carries optional calibration figures the compiler uses for placement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["Calibration", "Device", "GateSpec"]

SYMMETRIC_NATIVES = frozenset({"cz"})
"""Natives whose locus order does not matter."""

UNCALIBRATED_NATIVES = frozenset({"barrier", "delay", "reset"})
"""Natives that need no calibration: any existing component may be their locus."""


@attrs.frozen(slots=True)
class GateSpec:
    """One native gate's calibrated implementations on a device.

    Attributes:
        implementations: implementation name -> loci it is calibrated on.
        default_implementation: the implementation used unless overridden.
        override_default_implementation: locus -> implementation used there instead.
    """

    implementations: Mapping[str, tuple[tuple[str, ...], ...]]
    default_implementation: str
    override_default_implementation: Mapping[tuple[str, ...], str] = attrs.field(factory=dict)

    @property
    def loci(self) -> frozenset[tuple[str, ...]]:
        """Every locus on which some implementation exists."""
        return frozenset(locus for loci in self.implementations.values() for locus in loci)


@attrs.frozen(slots=True)
class Calibration:
    """Calibration figures used for placement, readout mitigation and the noise model.

    Each mapping may be partial; missing entries mean "unknown".

    Attributes:
        prx_fidelity: qubit -> single-qubit gate fidelity.
        cz_fidelity: sorted qubit pair -> CZ fidelity.
        readout_fidelity: qubit -> readout fidelity.
        t1: qubit -> T1 in seconds.
        t2: qubit -> T2 in seconds.
        readout_error_0_to_1: qubit -> P(read 1 | prepared 0) (IQM's ``error_0_to_1``).
        readout_error_1_to_0: qubit -> P(read 0 | prepared 1) (IQM's ``error_1_to_0``).
        move_fidelity: (qubit, resonator) -> MOVE fidelity.
        durations: (native, locus) -> its duration in seconds (from the calibration set).
        frequency: qubit -> drive frequency in Hz (from the calibration set).
    """

    prx_fidelity: Mapping[str, float] = attrs.field(factory=dict)
    cz_fidelity: Mapping[tuple[str, str], float] = attrs.field(factory=dict)
    readout_fidelity: Mapping[str, float] = attrs.field(factory=dict)
    t1: Mapping[str, float] = attrs.field(factory=dict)
    t2: Mapping[str, float] = attrs.field(factory=dict)
    readout_error_0_to_1: Mapping[str, float] = attrs.field(factory=dict)
    readout_error_1_to_0: Mapping[str, float] = attrs.field(factory=dict)
    move_fidelity: Mapping[tuple[str, str], float] = attrs.field(factory=dict)
    durations: Mapping[tuple[str, tuple[str, ...]], float] = attrs.field(factory=dict)
    frequency: Mapping[str, float] = attrs.field(factory=dict)

    def duration(self, gate: str, locus: tuple[str, ...] | None = None) -> float | None:
        """The served duration of ``gate`` on ``locus`` (either order for a pair), or the median
        over the loci where it is served when ``locus`` is ``None`` or unknown; ``None`` when the
        calibration has no duration for the gate."""
        if locus is not None:
            found = self.durations.get((gate, locus))
            if found is None and len(locus) == 2:
                found = self.durations.get((gate, (locus[1], locus[0])))
            if found is not None:
                return found
        values = sorted(v for (g, _), v in self.durations.items() if g == gate)
        return values[len(values) // 2] if values else None

    @classmethod
    def from_quality_metrics(cls, observations: Iterable[Any]) -> Calibration:
        """Per-qubit and per-coupler figures from the observations of a quality-metric set
        (and of a calibration set: durations and drive frequencies).

        Reads the observation names IQM servers publish (``dut_field``):
        ``characterization.model.QB1.t1_time`` / ``t2_time``,
        ``metrics.rb.prx.<impl>.QB1.fidelity``, ``metrics.irb.cz.<impl>.QB1__QB2.fidelity``,
        ``metrics.irb.move.<impl>.QB1__CR1.fidelity``, ``metrics.ssro.measure.<impl>.QB1.fidelity``,
        ``...QB1.error_0_to_1`` and ``...QB1.error_1_to_0``; from a calibration set
        ``gates.<gate>.<impl>.<locus>.duration`` and ``controllers.QB1.drive.frequency``;
        others and invalid ones are ignored.

        Args:
            observations: iqm-client's observation models, or dicts with ``dut_field`` and
                ``value`` (and optionally ``invalid``).
        """
        out: dict[str, dict[Any, float]] = {f.name: {} for f in attrs.fields(cls)}
        for obs in observations:
            get = obs.get if isinstance(obs, Mapping) else lambda k, o=obs: getattr(o, k, None)
            if get("invalid"):
                continue
            try:
                value = float(get("value"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            parts = str(get("dut_field") or "").split(".")
            if len(parts) < 4 or not math.isfinite(value):
                continue
            if parts[0] == "characterization" and parts[-1] in {"t1_time", "t2_time"}:
                out["t1" if parts[-1] == "t1_time" else "t2"][parts[-2]] = value
                continue
            if parts[0] == "gates" and parts[-1] == "duration" and len(parts) == 5:
                out["durations"][(parts[1], tuple(parts[3].split("__")))] = value
                continue
            if parts[0] == "controllers" and parts[-2:] == ["drive", "frequency"]:
                out["frequency"][parts[1]] = value
                continue
            if parts[0] != "metrics" or len(parts) < 6:
                continue
            kind, gate, locus, what = parts[1], parts[2], tuple(parts[-2].split("__")), parts[-1]
            if kind == "ssro" and gate == "measure" and len(locus) == 1:
                field = {
                    "fidelity": "readout_fidelity",
                    "error_0_to_1": "readout_error_0_to_1",
                    "error_1_to_0": "readout_error_1_to_0",
                }.get(what)
                if field is not None:
                    out[field][locus[0]] = value
            elif what != "fidelity":
                continue
            elif kind == "rb" and gate == "prx" and len(locus) == 1:
                out["prx_fidelity"][locus[0]] = value
            elif kind == "irb" and gate == "cz" and len(locus) == 2:
                out["cz_fidelity"][tuple(sorted(locus))] = value
            elif kind == "irb" and gate == "move" and len(locus) == 2:
                out["move_fidelity"][locus] = value
        return cls(**out)

    @property
    def empty(self) -> bool:
        """Whether no figure at all is known."""
        return not any(getattr(self, f.name) for f in attrs.fields(Calibration))


@attrs.frozen(slots=True)
class Device:
    """A quantum computer's qubits, resonators and native gates.

    Attributes:
        name: the quantum computer's name (alias).
        qubits: qubit names in the server's order (this order defines qubit indices).
        resonators: computational resonator names (empty for square lattices).
        gates: native name -> :class:`GateSpec`.
        calibration_set_id: the calibration set the architecture belongs to.
        calibration: optional figures for placement; ``None`` when not served.
    """

    name: str
    qubits: tuple[str, ...]
    resonators: tuple[str, ...]
    gates: Mapping[str, GateSpec]
    calibration_set_id: str | None = None
    calibration: Calibration | None = None
    _loci: Mapping[str, frozenset[tuple[str, ...]]] = attrs.field(
        init=False, eq=False, hash=False, repr=False
    )
    _components: frozenset[str] = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        loci = {}
        for name, spec in self.gates.items():
            gate_loci = set(spec.loci)
            if name in SYMMETRIC_NATIVES:
                gate_loci |= {tuple(reversed(locus)) for locus in spec.loci}
            loci[name] = frozenset(gate_loci)
        object.__setattr__(self, "_loci", loci)
        object.__setattr__(self, "_components", frozenset(self.qubits) | set(self.resonators))

    @classmethod
    def from_architecture(
        cls, architecture: Any, name: str = "device", calibration: Calibration | None = None
    ) -> Device:
        """Build a device from a ``DynamicQuantumArchitecture`` model or its JSON dict.

        Args:
            architecture: iqm-client's model, or the dict the server sends.
            name: the quantum computer's name.
            calibration: optional calibration figures.
        """
        data = architecture if isinstance(architecture, Mapping) else architecture.model_dump()
        gates: dict[str, GateSpec] = {}
        for gate_name, info in data["gates"].items():
            impls = {
                impl: tuple(tuple(locus) for locus in impl_info["loci"])
                for impl, impl_info in info["implementations"].items()
            }
            overrides_raw = info.get("override_default_implementation") or {}
            overrides = {
                (tuple(k.split(",")) if isinstance(k, str) else tuple(k)): v
                for k, v in overrides_raw.items()
            }
            gates[gate_name] = GateSpec(impls, info["default_implementation"], overrides)
        cal_id = data.get("calibration_set_id")
        return cls(
            name=name,
            qubits=tuple(data["qubits"]),
            resonators=tuple(data.get("computational_resonators") or ()),
            gates=gates,
            calibration_set_id=str(cal_id) if cal_id is not None else None,
            calibration=calibration,
        )

    def to_architecture_dict(self) -> dict[str, Any]:
        """The JSON form of the dynamic quantum architecture this device describes."""
        return {
            "calibration_set_id": self.calibration_set_id,
            "qubits": list(self.qubits),
            "computational_resonators": list(self.resonators),
            "gates": {
                name: {
                    "implementations": {
                        impl: {"loci": [list(locus) for locus in loci]}
                        for impl, loci in spec.implementations.items()
                    },
                    "default_implementation": spec.default_implementation,
                    "override_default_implementation": {
                        ",".join(locus): impl
                        for locus, impl in spec.override_default_implementation.items()
                    },
                }
                for name, spec in self.gates.items()
            },
        }

    @property
    def components(self) -> frozenset[str]:
        """All qubits and resonators."""
        return self._components

    @property
    def native_names(self) -> frozenset[str]:
        """Names of the calibrated natives (plus barrier, delay and reset, always allowed)."""
        return frozenset(self.gates) | UNCALIBRATED_NATIVES

    def has_component(self, name: str) -> bool:
        """Whether ``name`` is a qubit or resonator of this device."""
        return name in self._components

    def supports(self, gate: str, locus: Iterable[str]) -> bool:
        """Whether native ``gate`` may act on ``locus``.

        ``measure`` is factorizable: each component only needs a ``measure`` locus of its own.
        Uncalibrated natives (barrier, delay, reset) only need existing components.
        """
        loc = tuple(locus)
        if gate in UNCALIBRATED_NATIVES:
            return all(c in self._components for c in loc)
        loci = self._loci.get(gate)
        if loci is None:
            return False
        if gate == "measure":
            return all((c,) in loci for c in loc)
        return loc in loci

    def loci(self, gate: str) -> frozenset[tuple[str, ...]]:
        """The loci native ``gate`` is calibrated on (both orders for symmetric gates)."""
        return self._loci.get(gate, frozenset())

    @property
    def coupling_edges(self) -> tuple[tuple[str, str], ...]:
        """Pairs of components joined by a two-component native (cz or move), sorted."""
        edges: set[tuple[str, str]] = set()
        for gate in ("cz", "move"):
            spec = self.gates.get(gate)
            if spec is None:
                continue
            for locus in spec.loci:
                if len(locus) == 2:
                    a, b = sorted(locus)
                    edges.add((a, b))
        return tuple(sorted(edges))

    def spanning_tree(
        self, root: str | None = None
    ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """A breadth-first spanning tree over :attr:`coupling_edges`, from ``root`` (default:
        the first qubit).

        Returns:
            The components reached, in breadth-first order, and the tree's edges as
            (parent, child) pairs in the same order: a GHZ state spreads along them with one
            two-qubit gate per edge.

        Raises:
            ValueError: ``root`` is not a component of this device.
        """
        start = self.qubits[0] if root is None else root
        if not self.has_component(start):
            raise ValueError(f"{start!r} is not a qubit or resonator of {self.name}")
        neighbours: dict[str, list[str]] = {}
        for a, b in self.coupling_edges:
            neighbours.setdefault(a, []).append(b)
            neighbours.setdefault(b, []).append(a)
        order, tree, seen = [start], [], {start}
        for node in order:
            for other in neighbours.get(node, ()):
                if other not in seen:
                    seen.add(other)
                    order.append(other)
                    tree.append((node, other))
        return tuple(order), tuple(tree)

    def qubit_index(self, name: str) -> int:
        """Index of a component: qubits in server order, then resonators."""
        order = self.qubits + self.resonators
        return order.index(name)

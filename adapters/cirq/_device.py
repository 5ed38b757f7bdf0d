"""``IQMDevice``: an IQM quantum computer's architecture as a ``cirq.Device``.

Qubits are ``cirq.NamedQubit`` s with the IQM names (``QB1``...); computational resonators
(``CR1``) are ``NamedQubit`` s too, so one type covers lattices and resonator stars and names
match the server's. Decomposition and routing are the core compiler's passes; this module only
translates circuits and names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import cirq
import networkx as nx

from iqm_bridge.adapters.cirq._convert import from_native, to_ir
from iqm_bridge.adapters.cirq._gates import IQMMoveGate
from iqm_bridge.core import (
    DEFAULT_LEVEL,
    CircuitValidationError,
    Device,
    DuplicateMeasurementKeyError,
    Gate,
    GateSpec,
    LocusNotSupportedError,
    QubitNotOnDeviceError,
    UnsupportedOperationError,
    decompose,
    lower,
)
from iqm_bridge.core import compile as compile_circuit

__all__ = [
    "Adonis",
    "Aphrodite",
    "Apollo",
    "IQMDevice",
    "IQMDeviceMetadata",
    "decompose_circuit",
    "has_move",
    "restricted",
]

# IQM native -> the cirq gate types that express it (as the official package has them)
_NATIVE_TYPES: dict[str, tuple[type[cirq.Gate], ...]] = {
    "prx": (cirq.PhasedXPowGate, cirq.XPowGate, cirq.YPowGate),
    "cz": (cirq.CZPowGate,),
    "move": (IQMMoveGate,),
    "measure": (cirq.MeasurementGate,),
    "reset": (cirq.ResetChannel,),
    "delay": (cirq.WaitGate,),
}


def _name(qubit: cirq.Qid) -> str | None:
    name = getattr(qubit, "name", None)
    return name if isinstance(name, str) else None


def _native_of(op: cirq.Operation) -> str | None:
    """The IQM native ``op`` is, or None (a CZ power other than 1 is not native)."""
    op = op.untagged
    if isinstance(op, cirq.ClassicallyControlledOperation):
        return "cc_prx" if _native_of(op.without_classical_controls()) == "prx" else None
    gate = op.gate
    if isinstance(gate, cirq.CZPowGate) and gate.exponent != 1:
        return None
    return next((n for n, types in _NATIVE_TYPES.items() if isinstance(gate, types)), None)


def has_move(circuit: Any) -> bool:
    """Whether an IR circuit holds a MOVE."""
    return any(isinstance(op, Gate) and op.name == "move" for op in circuit.operations)


def decompose_circuit(circuit: cirq.AbstractCircuit) -> cirq.Circuit:
    """``circuit`` in IQM natives on its own qubits: lowered and fused (final Z rotations,
    which no measurement sees, dropped). A circuit that already holds MOVEs is lowered gate by
    gate instead, so its MOVEs stay where they are."""
    conv = to_ir(circuit)
    native = lower(conv.circuit) if has_move(conv.circuit) else decompose(conv.circuit)
    return from_native(native, conv.qubits, conv.native_keys)


def restricted(device: Device, qubits: Iterable[str]) -> Device:
    """``device`` with only the given qubits (and every resonator) and the loci among them.

    Raises:
        QubitNotOnDeviceError: a name the device does not have.
    """
    names = list(qubits)
    unknown = [q for q in names if not device.has_component(q)]
    if unknown:
        raise QubitNotOnDeviceError(f"qubit_subset names {unknown}, not qubits of {device.name}")
    keep = set(names) | set(device.resonators)

    def inside(loci: Iterable[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
        return tuple(locus for locus in loci if keep.issuperset(locus))

    gates = {
        name: GateSpec(
            {impl: inside(loci) for impl, loci in spec.implementations.items()},
            spec.default_implementation,
            {k: v for k, v in spec.override_default_implementation.items() if keep.issuperset(k)},
        )
        for name, spec in device.gates.items()
    }
    return attrs.evolve(device, qubits=tuple(q for q in device.qubits if q in keep), gates=gates)


@cirq.value_equality
class IQMDeviceMetadata(cirq.DeviceMetadata):
    """Qubits, coupling graph, native gate set and loci of an IQM quantum computer.

    Args:
        device: the core device (``IQMSampler(...).device.core_device``).
        architecture: iqm-client's ``DynamicQuantumArchitecture`` it came from, if any.

    Attributes:
        device: the core device.
        gateset: the natives as a ``cirq.Gateset``.
        operations: cirq gate type -> the loci (tuples of qubits) it is calibrated on.
        resonator_set: the computational resonators.
    """

    QUBIT_NAME_PREFIX = "QB"

    def __init__(self, device: Device, *, architecture: Any = None) -> None:
        qubits = [cirq.NamedQubit(q) for q in device.qubits]
        resonators = [cirq.NamedQubit(r) for r in device.resonators]
        graph = nx.Graph()
        graph.add_nodes_from(qubits + resonators)
        graph.add_edges_from(
            (cirq.NamedQubit(a), cirq.NamedQubit(b)) for a, b in device.coupling_edges
        )
        super().__init__(qubits, graph)
        self.device = device
        self.resonator_set = frozenset(resonators)
        natives = [n for n in _NATIVE_TYPES if n in device.native_names]
        self.gateset = cirq.Gateset(*(t for n in natives for t in _NATIVE_TYPES[n]))
        self.operations: dict[type[cirq.Gate], list[tuple[cirq.Qid, ...]]] = {
            t: [tuple(map(cirq.NamedQubit, locus)) for locus in sorted(device.gates[n].loci)]
            for n in natives
            if n in device.gates
            for t in _NATIVE_TYPES[n]
        }
        self._architecture = architecture

    @classmethod
    def from_architecture(cls, architecture: Any) -> IQMDeviceMetadata:
        """The metadata of iqm-client's ``DynamicQuantumArchitecture`` (or its JSON dict)."""
        return cls(Device.from_architecture(architecture), architecture=architecture)

    @classmethod
    def from_qubit_indices(
        cls, qubit_count: int, connectivity_indices: Iterable[Iterable[int]], name: str = "device"
    ) -> IQMDeviceMetadata:
        """A lattice of ``QB1``...``QB<qubit_count>`` with CZ on the given index pairs."""
        edges = [tuple(f"QB{i}" for i in sorted(pair)) for pair in connectivity_indices]
        if any(len(e) != 2 for e in edges):
            raise CircuitValidationError("connectivity_indices must be pairs of qubit indices")
        singles = tuple((f"QB{i}",) for i in range(1, qubit_count + 1))
        loci = {"prx": singles, "cz": tuple(edges), "measure": singles}
        gates = {g: GateSpec({"default": locus}, "default") for g, locus in loci.items()}
        return cls(Device(name, tuple(q for (q,) in singles), (), gates))

    @property
    def architecture(self) -> Any:
        """iqm-client's ``DynamicQuantumArchitecture`` (None for a static device)."""
        if self._architecture is None and self.device.calibration_set_id is not None:
            from iqm.iqm_client import DynamicQuantumArchitecture

            data = self.device.to_architecture_dict()
            self._architecture = DynamicQuantumArchitecture.model_validate(data)
        return self._architecture

    def _value_equality_values_(self) -> Any:
        return (*super()._value_equality_values_(), self.gateset, self.resonator_set)


class IQMDevice(cirq.Device):
    """An IQM quantum computer's qubits, couplings and natives, for cirq.

    Natives in cirq form: ``cirq.PhasedXPowGate`` (and ``XPowGate``/``YPowGate``) for ``prx``,
    ``cirq.CZ`` for ``cz``, :class:`IQMMoveGate` for ``move``, ``cirq.measure``,
    ``cirq.ResetChannel``, ``cirq.WaitGate`` and a classically controlled prx for ``cc_prx``.

    Args:
        metadata: the device's :class:`IQMDeviceMetadata`, or a core device (``IQMSampler``
            builds one from the server).

    Attributes:
        core_device: the core :class:`~iqm_bridge.core.device.Device` this wraps.
        name: the quantum computer's name.
        qubits: the qubits, in the server's order.
        resonators: the computational resonators (empty on square lattices).
        supported_operations: cirq gate type -> the loci it is calibrated on.
    """

    def __init__(self, metadata: IQMDeviceMetadata | Device) -> None:
        if isinstance(metadata, Device):
            metadata = IQMDeviceMetadata(metadata)
        self._metadata = metadata
        self.core_device = self._device = metadata.device
        self.name = self._device.name
        self.qubits = tuple(cirq.NamedQubit(q) for q in self._device.qubits)
        self.resonators = tuple(cirq.NamedQubit(r) for r in self._device.resonators)
        self.supported_operations = metadata.operations

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {len(self.qubits)} qubits)"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._metadata == other._metadata  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._metadata))

    @property
    def metadata(self) -> IQMDeviceMetadata:
        """Qubits, coupling graph (cz and move loci), gate set and loci."""
        return self._metadata

    @classmethod
    def get_qubit_index(cls, qubit: cirq.Qid) -> int:
        """The number in an IQM qubit's name (``QB7`` -> 7)."""
        return int(str(_name(qubit))[len(IQMDeviceMetadata.QUBIT_NAME_PREFIX) :])

    def get_qubit(self, index: int) -> cirq.NamedQubit:
        """The device qubit with 1-based ``index`` (``get_qubit(1)`` is ``QB1``)."""
        return self.qubits[index - 1]

    # validation -----------------------------------------------------------------------------
    def _names(self, op: cirq.Operation) -> tuple[str, ...]:
        names = tuple(_name(q) for q in op.qubits)
        for q, name in zip(op.qubits, names, strict=True):
            if name is None or not self._device.has_component(name):
                raise QubitNotOnDeviceError(
                    f"{op!r} acts on {q!r}, which is not a component of {self.name} (its qubits "
                    f"are cirq.NamedQubit('QB1')...; route the circuit with route_circuit)"
                )
        return names  # type: ignore[return-value]

    def is_native_operation(self, op: cirq.Operation) -> bool:
        """Whether ``op`` is a native of this device (on any locus)."""
        native = _native_of(op)
        return native is not None and native in self._device.native_names

    def has_valid_operation_targets(self, op: cirq.Operation) -> bool:
        """Whether ``op`` is a native calibrated on exactly its qubits (CZ in either order)."""
        native = _native_of(op)
        names = tuple(_name(q) for q in op.qubits)
        return native is not None and None not in names and self._device.supports(native, names)  # type: ignore[arg-type]

    def check_qubit_connectivity(self, operation: cirq.Operation) -> None:
        """Raise ``LocusNotSupportedError`` (a ``ValueError``) for a multi-qubit ``operation``
        whose qubits are not coupled for it."""
        if len(operation.qubits) >= 2 and not self.has_valid_operation_targets(operation):
            raise LocusNotSupportedError(
                f"{operation!r}: {self.name} does not couple {list(operation.qubits)} for it; "
                "route the circuit with device.route_circuit"
            )

    def validate_operation(self, operation: cirq.Operation) -> None:
        """Raise unless ``operation`` is a native the device runs on that locus.

        Raises:
            QubitNotOnDeviceError: a qubit that is not one of the device's.
            UnsupportedOperationError: not a native (decompose the circuit first).
            LocusNotSupportedError: a native not calibrated on those qubits.
        """
        locus = self._names(operation)
        native = _native_of(operation)
        if isinstance(operation.untagged.gate, cirq.IdentityGate):
            return
        if native is None or native not in self._device.native_names:
            raise UnsupportedOperationError(
                f"{operation!r} is not a native operation of {self.name} (natives: "
                "PhasedXPowGate, CZ, IQMMoveGate, measure, reset); decompose it with "
                "device.decompose_circuit"
            )
        if not self._device.supports(native, locus):
            raise LocusNotSupportedError(
                f"native {native!r} on {locus}: {self.name} has no calibrated {native!r} there; "
                "route the circuit with device.route_circuit or pick coupled qubits"
            )

    def validate_circuit(self, circuit: cirq.AbstractCircuit) -> None:
        """Raise unless every operation is a native on a calibrated locus, every measurement
        key is used once, and every MOVE pair brings its state back (:meth:`validate_moves`).

        Raises:
            DuplicateMeasurementKeyError: a key measured twice (the sampler itself runs
                repeated keys as cirq records; the device check is the official one).
        """
        seen: set[str] = set()
        for op in circuit.all_operations():
            self.validate_operation(op)
            if cirq.is_measurement(op):
                key = cirq.measurement_key_name(op)
                if key in seen:
                    raise DuplicateMeasurementKeyError(
                        f"measurement key {key!r} is measured more than once; use one key per "
                        "measurement"
                    )
                seen.add(key)
        self.validate_moves(circuit)

    def validate_moves(self, circuit: cirq.AbstractCircuit) -> None:
        """Raise unless every MOVE acts on (qubit, resonator) and the state moved into a
        resonator is moved back out, by a MOVE on the same qubit, before the circuit ends.

        Raises:
            LocusNotSupportedError: a MOVE not on (qubit, resonator).
            CircuitValidationError: a MOVE that would swap two qubits' states through the
                resonator, or a state left in a resonator.
        """
        held: dict[cirq.Qid, cirq.Qid] = {}  # resonator -> the qubit whose state it holds
        for op in circuit.all_operations():
            if not isinstance(op.gate, IQMMoveGate):
                continue
            qubit, resonator = op.qubits
            if qubit not in self.qubits or resonator not in self.resonators:
                raise LocusNotSupportedError(
                    f"{op!r}: an IQMMoveGate acts on (qubit, resonator) of {self.name}, whose "
                    f"resonators are {list(self.resonators)}"
                )
            inside = held.pop(resonator, None)
            if inside is None:
                held[resonator] = qubit
            elif inside != qubit:
                raise CircuitValidationError(
                    f"{op!r}: {resonator} holds the state of {inside}; move it back to {inside} "
                    f"before moving {qubit} in"
                )
        if held:
            raise CircuitValidationError(
                "the circuit ends with a qubit state in a resonator ("
                + ", ".join(f"{q} in {r}" for r, q in held.items())
                + "); move it back with a second IQMMoveGate"
            )

    # passes ---------------------------------------------------------------------------------
    def decompose_operation(self, operation: cirq.Operation) -> cirq.OP_TREE:
        """``operation`` as natives with the same unitary (up to a global phase)."""
        if self.is_native_operation(operation):
            return operation
        conv = to_ir(cirq.Circuit(operation))
        return list(
            from_native(lower(conv.circuit), conv.qubits, conv.native_keys).all_operations()
        )

    def decompose_circuit(self, circuit: cirq.AbstractCircuit) -> cirq.Circuit:
        """The circuit in natives on the same qubits (lowered and fused, no routing).

        Measurement keys and sympy parameters are kept; final Z rotations, which no
        measurement sees, are dropped. A circuit holding MOVEs (a routed one on a resonator
        star) is lowered gate by gate, keeping its MOVEs.

        Raises:
            UnsupportedOperationError: a gate with no translation.
        """
        return decompose_circuit(circuit)

    def route_circuit(
        self,
        circuit: cirq.AbstractCircuit,
        *,
        initial_mapper: cirq.AbstractInitialMapper | None = None,
        qubit_subset: Sequence[cirq.Qid] | None = None,
        initial_mapping: Mapping[cirq.Qid, cirq.Qid] | None = None,
        level: int = DEFAULT_LEVEL,
        seed: int | None = None,
    ) -> tuple[cirq.Circuit, dict[cirq.Qid, cirq.Qid], dict[cirq.Qid, cirq.Qid]]:
        """Place, route (SWAPs on lattices, MOVEs on stars), lower and fuse a circuit.

        Args:
            circuit: any supported cirq circuit on logical qubits.
            initial_mapper: a cirq initial mapper giving circuit qubit -> device qubit.
            qubit_subset: route on these device qubits only.
            initial_mapping: circuit qubit -> device qubit (instead of ``initial_mapper``);
                ``None`` for both lets the compiler choose.
            level: compiler optimisation level, 0 to 3.
            seed: seed for layout and routing.

        Returns:
            The native circuit on device qubits; the initial mapping (circuit qubit -> device
            qubit); the final mapping, device qubit -> device qubit, from where each circuit
            qubit starts to where its state ends (the identity without SWAPs).

        Raises:
            CircuitValidationError: the circuit does not fit the device (or the subset).
        """
        conv = to_ir(circuit)
        names = {q: n for n, q in conv.qubits.items()}
        if initial_mapper is not None:
            initial_mapping = initial_mapper.initial_mapping(circuit)
        layout = None
        if initial_mapping is not None:
            unknown = [q for q in initial_mapping if q not in names]
            if unknown:
                raise CircuitValidationError(
                    f"the initial mapping names {unknown}, not in the circuit"
                )
            layout = {names[q]: str(_name(p) or p) for q, p in initial_mapping.items()}
        device = self._device
        if qubit_subset is not None:
            device = restricted(device, [str(_name(q) or q) for q in qubit_subset])
        result = compile_circuit(
            conv.circuit, device, seed=seed, level=level, initial_layout=layout
        )
        routed = from_native(result.circuit, {}, conv.native_keys)
        start = result.initial_layout
        initial = {conv.qubits[n]: cirq.NamedQubit(p) for n, p in start.items()}
        final = {
            cirq.NamedQubit(start[n]): cirq.NamedQubit(p) for n, p in result.final_layout.items()
        }
        return routed, initial, final


def _lattice(rows: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """CZ index pairs of a square lattice given as (first column, length) per row, numbered
    row by row: neighbours in a row and in a column are coupled."""
    cells: dict[tuple[int, int], int] = {}
    for r, (start, length) in enumerate(rows):
        for c in range(start, start + length):
            cells[(r, c)] = len(cells) + 1
    return [
        (n, cells[(r + dr, c + dc)])
        for (r, c), n in cells.items()
        for dr, dc in ((0, 1), (1, 0))
        if (r + dr, c + dc) in cells
    ]


class Adonis(IQMDevice):
    """IQM's static 5-qubit star: QB3 coupled to QB1, QB2, QB4 and QB5 (offline design)."""

    def __init__(self) -> None:
        pairs = ((1, 3), (2, 3), (3, 4), (3, 5))
        super().__init__(IQMDeviceMetadata.from_qubit_indices(5, pairs, "Adonis"))


class Apollo(IQMDevice):
    """IQM's static 20-qubit square lattice (the coupling map of Garnet)."""

    def __init__(self) -> None:
        rows = ((1, 2), (0, 5), (0, 5), (0, 5), (1, 3))
        super().__init__(IQMDeviceMetadata.from_qubit_indices(20, _lattice(rows), "Apollo"))


class Aphrodite(IQMDevice):
    """IQM's static 54-qubit square lattice."""

    def __init__(self) -> None:
        rows = ((4, 2), (2, 5), (1, 7), (0, 8), (0, 9), (1, 8), (1, 7), (2, 5), (3, 3))
        super().__init__(IQMDeviceMetadata.from_qubit_indices(54, _lattice(rows), "Aphrodite"))

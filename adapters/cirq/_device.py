"""``IQMDevice``: the server's architecture as a ``cirq.Device``.

Qubits are ``cirq.NamedQubit`` s with the IQM names (``QB1``...); computational resonators
(``CR1``) are ``NamedQubit`` s too. NamedQubits rather than GridQubits because the same type then
covers lattices and resonator stars alike, and names match the server's.
"""

from __future__ import annotations

from collections.abc import Mapping

import cirq
import networkx as nx

from iqm_bridge.adapters.cirq._convert import from_native, to_ir
from iqm_bridge.adapters.cirq._gates import IQMMoveGate
from iqm_bridge.core import (
    DEFAULT_LEVEL,
    CircuitValidationError,
    Device,
    LocusNotSupportedError,
    QubitNotOnDeviceError,
    UnsupportedOperationError,
    decompose,
)
from iqm_bridge.core import compile as compile_circuit

__all__ = ["IQMDevice"]


def _is_prx(gate: cirq.Gate | None) -> bool:
    return isinstance(gate, cirq.PhasedXPowGate | cirq.XPowGate | cirq.YPowGate)


class IQMDevice(cirq.Device):
    """An IQM quantum computer's qubits, couplings and natives, for cirq.

    Natives in cirq form: ``cirq.PhasedXPowGate`` (and ``XPowGate``/``YPowGate``) for ``prx``,
    ``cirq.CZ`` for ``cz``, :class:`IQMMoveGate` for ``move``, ``cirq.measure``,
    ``cirq.ResetChannel``, and a classically controlled prx for ``cc_prx``.

    Args:
        device: the core device (``IQMSampler(...).device`` builds one from the server).
    """

    def __init__(self, device: Device) -> None:
        self._device = device
        self._qubits = tuple(cirq.NamedQubit(q) for q in device.qubits)
        self._resonators = tuple(cirq.NamedQubit(r) for r in device.resonators)
        graph = nx.Graph()
        graph.add_nodes_from(self._qubits + self._resonators)
        graph.add_edges_from(
            (cirq.NamedQubit(a), cirq.NamedQubit(b)) for a, b in device.coupling_edges
        )
        self._metadata = cirq.DeviceMetadata(self._qubits + self._resonators, graph)

    def __repr__(self) -> str:
        return f"IQMDevice({self._device.name!r}, {len(self._qubits)} qubits)"

    @property
    def core_device(self) -> Device:
        """The core :class:`~iqm_bridge.core.device.Device` this wraps."""
        return self._device

    @property
    def name(self) -> str:
        """The quantum computer's name."""
        return self._device.name

    @property
    def qubits(self) -> tuple[cirq.NamedQubit, ...]:
        """The qubits, in the server's order."""
        return self._qubits

    @property
    def resonators(self) -> tuple[cirq.NamedQubit, ...]:
        """The computational resonators (empty on square lattices)."""
        return self._resonators

    @property
    def metadata(self) -> cirq.DeviceMetadata:
        """Qubits and resonators, with the coupling graph (edges of cz and move loci)."""
        return self._metadata

    # validation -----------------------------------------------------------------------------
    def _names(self, op: cirq.Operation) -> tuple[str, ...]:
        names = []
        for q in op.qubits:
            name = q.name if isinstance(q, cirq.NamedQubit) else None
            if name is None or not self._device.has_component(name):
                raise QubitNotOnDeviceError(
                    f"{op!r} acts on {q!r}, which is not a component of {self.name} (its qubits "
                    f"are cirq.NamedQubit('QB1')...; route the circuit with route_circuit)"
                )
            names.append(name)
        return tuple(names)

    def validate_operation(self, operation: cirq.Operation) -> None:
        """Raise unless ``operation`` is a native the device runs on that locus.

        Raises:
            QubitNotOnDeviceError: a qubit that is not one of the device's.
            UnsupportedOperationError: not a native (decompose the circuit first).
            LocusNotSupportedError: a native not calibrated on those qubits.
        """
        op = operation.untagged if isinstance(operation, cirq.TaggedOperation) else operation
        locus = self._names(op)
        gate = op.gate
        native: str | None = None
        if isinstance(op, cirq.ClassicallyControlledOperation):
            if _is_prx(op.without_classical_controls().gate):
                native = "cc_prx"
        elif _is_prx(gate):
            native = "prx"
        elif isinstance(gate, cirq.CZPowGate) and gate.exponent == 1:
            native = "cz"
        elif isinstance(gate, IQMMoveGate):
            native = "move"
        elif isinstance(gate, cirq.MeasurementGate):
            native = "measure"
        elif isinstance(gate, cirq.ResetChannel | cirq.IdentityGate | cirq.WaitGate):
            return
        if native is None:
            raise UnsupportedOperationError(
                f"{op!r} is not a native operation of {self.name} (natives: PhasedXPowGate, CZ, "
                "IQMMoveGate, measure, reset); decompose it with device.decompose_circuit"
            )
        if not self._device.supports(native, locus):
            raise LocusNotSupportedError(
                f"native {native!r} on {locus}: {self.name} has no calibrated {native!r} there; "
                "route the circuit with device.route_circuit or pick coupled qubits"
            )

    def validate_circuit(self, circuit: cirq.AbstractCircuit) -> None:
        """Raise unless every operation is a native on a calibrated locus."""
        for op in circuit.all_operations():
            self.validate_operation(op)

    # passes ---------------------------------------------------------------------------------
    def decompose_circuit(self, circuit: cirq.AbstractCircuit) -> cirq.Circuit:
        """The circuit in natives on the same qubits (lowered and fused, no routing).

        Measurement keys and sympy parameters are kept; final Z rotations, which no
        measurement sees, are dropped.

        Raises:
            UnsupportedOperationError: a gate with no translation.
        """
        conv = to_ir(circuit)
        return from_native(decompose(conv.circuit), conv.qubits, conv.native_keys)

    def route_circuit(
        self,
        circuit: cirq.AbstractCircuit,
        *,
        initial_mapping: Mapping[cirq.Qid, cirq.NamedQubit] | None = None,
        level: int = DEFAULT_LEVEL,
        seed: int | None = None,
    ) -> tuple[cirq.Circuit, dict[cirq.Qid, cirq.NamedQubit], dict[cirq.Qid, cirq.NamedQubit]]:
        """Place, route (SWAPs on lattices, MOVEs on stars), lower and fuse a circuit.

        Args:
            circuit: any supported cirq circuit on logical qubits.
            initial_mapping: circuit qubit -> device qubit; ``None`` lets the compiler choose.
            level: compiler optimisation level, 0 to 3.
            seed: seed for layout and routing.

        Returns:
            The native circuit on device qubits, the initial mapping and the final mapping
            (circuit qubit -> device qubit holding it at the end).

        Raises:
            CircuitValidationError: the circuit does not fit the device.
        """
        conv = to_ir(circuit)
        names = {q: n for n, q in conv.qubits.items()}
        layout = None
        if initial_mapping is not None:
            layout = {}
            for q, phys in initial_mapping.items():
                if q not in names:
                    raise CircuitValidationError(f"initial_mapping names {q!r}, not in the circuit")
                layout[names[q]] = str(phys.name if isinstance(phys, cirq.NamedQubit) else phys)
        result = compile_circuit(
            conv.circuit, self._device, seed=seed, level=level, initial_layout=layout
        )
        routed = from_native(result.circuit, {}, conv.native_keys)
        initial = {conv.qubits[n]: cirq.NamedQubit(p) for n, p in result.initial_layout.items()}
        final = {conv.qubits[n]: cirq.NamedQubit(p) for n, p in result.final_layout.items()}
        return routed, initial, final

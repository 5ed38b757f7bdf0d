"""The qiskit ``Target`` of an IQM device, and the MOVE gate of resonator machines.

Qubit indices follow the device's qubit order; computational resonators come last (as in
qiskit-iqm), so ``index_to_qubit_name`` covers both.

On a star machine (qubits coupled only through a computational resonator) the default target
has no resonator: it offers a "fictional" CZ between every pair of qubits that can meet in the
resonator (one has a CZ to it, the other a MOVE), in both directions. qiskit then transpiles as
for an all-to-all machine, and iqm-bridge's scheduling stage (or ``backend.run``) turns each
qubit-qubit CZ into MOVE / CZ / MOVE. The *real* target (``get_real_target()``, also
``target_with_resonators``) is the device as it is: resonators as qubits, CZ only on
calibrated loci, and MOVE.

Every instruction carries the served calibration's error (``1 - fidelity``) and duration, and
every qubit its T1, T2 and drive frequency, so qiskit's noise-aware layout passes and
``plot_error_map(backend)`` see the machine's real numbers. Where the calibration set gives no
duration, :data:`DEFAULT_DURATIONS` stands in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from qiskit.circuit import Delay, Gate, IfElseOp, Parameter, Reset
from qiskit.circuit.library import CZGate, IGate, Measure, RGate
from qiskit.providers import QubitProperties
from qiskit.transpiler import InstructionProperties, Target

from iqm_bridge.core import Calibration, Device, GateSpec

__all__ = ["DEFAULT_DURATIONS", "IQMTarget", "MoveGate", "build_target", "fictional_cz_pairs"]

DEFAULT_DURATIONS: Mapping[str, float] = {
    "prx": 20e-9,
    "cz": 40e-9,
    "move": 80e-9,
    "measure": 1.5e-6,
}
"""Seconds per native, typical of IQM's machines, for a calibration set without durations."""


class MoveGate(Gate):  # type: ignore[misc]
    """IQM's MOVE: moves a qubit's state into an empty computational resonator and back.

    Qiskit name ``"move"``, acting on (qubit, resonator). On the states it is used on (the
    resonator empty before the first MOVE of a pair) it acts as a SWAP.

    Args:
        label: an optional label.
    """

    def __init__(self, label: str | None = None) -> None:
        super().__init__("move", 2, [], label=label)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray[Any, Any]:
        mat = np.array(
            [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=dtype or complex
        )
        return mat


class IQMTarget(Target):  # type: ignore[misc]
    """A qiskit ``Target`` that remembers the device it describes.

    iqm-bridge's scheduling stage reads :attr:`device` and :attr:`components` to hand the
    transpiled circuit to the core. Both survive pickling and deep copies (qiskit pickles
    targets to transpile in parallel).

    Attributes:
        device: the core device.
        components: component name of each qiskit index.
        with_resonators: whether the resonators are qubits of this target (the real target).
    """

    device: Device
    components: tuple[str, ...]
    with_resonators: bool

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state["iqm_bridge"] = (self.device, self.components, self.with_resonators)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.device, self.components, self.with_resonators = state.pop("iqm_bridge")
        super().__setstate__(state)

    @property
    def physical_qubits(self) -> list[str]:
        """Component names by qiskit index."""
        return list(self.components)

    def restrict_to_qubits(self, qubits: Sequence[int | str]) -> IQMTarget:
        """The target of only these components (indices or names), re-indexed from 0.

        Circuits transpiled for it run with ``qubit_index_to_name`` naming the same
        components (as with qiskit-iqm).
        """
        keep = {self.components[q] if isinstance(q, int) else str(q) for q in qubits}
        return build_target(restrict(self.device, keep), with_resonators=self.with_resonators)


def restrict(device: Device, keep: set[str]) -> Device:
    """``device`` with only the components in ``keep`` and the gate loci among them."""
    gates = {}
    for name, spec in device.gates.items():
        impls = {
            impl: tuple(locus for locus in loci if set(locus) <= keep)
            for impl, loci in spec.implementations.items()
        }
        overrides = {
            locus: impl
            for locus, impl in spec.override_default_implementation.items()
            if set(locus) <= keep
        }
        if any(impls.values()):
            gates[name] = GateSpec(impls, spec.default_implementation, overrides)
    return Device(
        device.name,
        tuple(q for q in device.qubits if q in keep),
        tuple(r for r in device.resonators if r in keep),
        gates,
        device.calibration_set_id,
        device.calibration,
    )


def fictional_cz_pairs(device: Device) -> dict[tuple[str, str], tuple[str, str, str]]:
    """Qubit pairs (both orders) that can interact through a resonator ``r``: each maps to
    ``(a, b, r)`` with CZ(a, r) and MOVE(b, r) calibrated (the first such way found)."""
    pairs: dict[tuple[str, str], tuple[str, str, str]] = {}
    cz = device.loci("cz")
    move = device.loci("move")
    for res in device.resonators:
        cz_side = [q for q in device.qubits if (q, res) in cz]
        move_side = [q for q in device.qubits if (q, res) in move]
        for a in cz_side:
            for b in move_side:
                if a != b:
                    pairs.setdefault((a, b), (a, b, res))
                    pairs.setdefault((b, a), (a, b, res))
    return pairs


def _errors(calibration: Calibration | None) -> dict[str, Mapping[Any, float]]:
    """Per native, its error rate by locus (``1 - fidelity``)."""
    cal = calibration or Calibration()
    return {
        "prx": {(q,): 1.0 - f for q, f in cal.prx_fidelity.items()},
        "measure": {(q,): 1.0 - f for q, f in cal.readout_fidelity.items()},
        "cz": {pair: 1.0 - f for pair, f in cal.cz_fidelity.items()},
        "move": {locus: 1.0 - f for locus, f in cal.move_fidelity.items()},
    }


def build_target(device: Device, *, with_resonators: bool = False) -> IQMTarget:
    """The qiskit transpilation target of ``device``.

    Args:
        device: the core device.
        with_resonators: the real target: the computational resonators as qubits (indices
            after the qubits), CZ only on calibrated loci, and MOVE; otherwise (the default)
            resonators are left out and star machines get fictional qubit-qubit CZs.
    """
    components = device.qubits + (device.resonators if with_resonators else ())
    index = {name: i for i, name in enumerate(components)}
    errors = _errors(device.calibration)
    cal = device.calibration or Calibration()
    qubit_props = [
        QubitProperties(t1=cal.t1.get(q), t2=cal.t2.get(q), frequency=cal.frequency.get(q))
        for q in device.qubits
    ]
    qubit_props += [QubitProperties() for _ in components[len(device.qubits) :]]
    target = IQMTarget(
        description=f"IQM {device.name}",
        num_qubits=len(components),
        qubit_properties=qubit_props,
    )
    target.device, target.components, target.with_resonators = device, components, with_resonators

    def props(gate: str, locus: tuple[str, ...]) -> InstructionProperties:
        key = tuple(sorted(locus)) if gate == "cz" else locus
        duration = cal.duration(gate, locus) or DEFAULT_DURATIONS[gate]
        return InstructionProperties(duration, errors[gate].get(key))

    def loci(gate: str) -> dict[tuple[int, ...], InstructionProperties]:
        return {
            tuple(index[c] for c in locus): props(gate, locus)
            for locus in device.loci(gate)
            if all(c in index for c in locus)
        }

    qubit_idx = [(index[q],) for q in device.qubits]
    if "prx" in device.gates:
        target.add_instruction(RGate(Parameter("theta"), Parameter("phi")), loci("prx"))
    target.add_instruction(IGate(), dict.fromkeys(qubit_idx))
    if "measure" in device.gates:
        target.add_instruction(Measure(), loci("measure"))
    target.add_instruction(Reset(), dict.fromkeys(qubit_idx))
    target.add_instruction(Delay(0), dict.fromkeys(qubit_idx))
    cz = loci("cz")  # device.loci lists both orders of a cz
    if not with_resonators and device.resonators:
        cz = {k: v for k, v in cz.items() if all(i < len(device.qubits) for i in k)}
        for (q1, q2), (a, b, res) in fictional_cz_pairs(device).items():
            # MOVE(b, r) CZ(a, r) MOVE(b, r): its duration and error compose the three
            p_cz, p_move = props("cz", (a, res)), props("move", (b, res))
            error = None
            if p_cz.error is not None and p_move.error is not None:
                error = 1.0 - (1.0 - p_move.error) ** 2 * (1.0 - p_cz.error)
            cz[(index[q1], index[q2])] = InstructionProperties(
                2 * p_move.duration + p_cz.duration, error
            )
    if cz:
        target.add_instruction(CZGate(), cz)
    if with_resonators and "move" in device.gates:
        target.add_instruction(MoveGate(), loci("move"))
    if "cc_prx" in device.gates:
        target.add_instruction(IfElseOp, name="if_else")
    return target

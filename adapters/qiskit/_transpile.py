"""qiskit's transpiler for IQM machines: a scheduling stage that finishes circuits in the core.

``qiskit.transpile(circuit, backend)`` lays out, routes and translates the circuit onto the
backend's target as usual; its last stage, the scheduling plugin ``iqm_bridge`` (registered
under ``qiskit.transpiler.scheduling``, and the backend's default), hands the result to the
core compiler on the same qubits, which merges every run of single-qubit gates into at most one
``r`` (Z rotations become frame changes that cost nothing) and, on star machines, turns each
qubit-qubit CZ into MOVE / CZ / MOVE through the resonator. The circuit comes back as qiskit
instructions on the same clbits, with the resonator as an extra qubit when MOVEs were added.

Final Z rotations that no measurement sees are kept (merged into the qubit's last ``r`` when
only CZs follow it) unless asked to drop them, so the transpiled circuit stays equivalent to
the input up to a global phase, as qiskit's primitives need when they append basis changes.
Circuits that already contain MOVEs, and angles that are not affine in their parameters, are
left as qiskit made them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from qiskit import QuantumCircuit
from qiskit.circuit import (
    Barrier,
    Delay,
    IfElseOp,
    ParameterExpression,
    QuantumRegister,
    Reset,
)
from qiskit.circuit.library import CZGate, Measure, RGate, RZGate
from qiskit.converters import circuit_to_dag, dag_to_circuit
from qiskit.dagcircuit import DAGCircuit
from qiskit.synthesis import OneQubitEulerDecomposer
from qiskit.transpiler import Layout, PassManager
from qiskit.transpiler.basepasses import TransformationPass
from qiskit.transpiler.passmanager_config import PassManagerConfig
from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager
from qiskit.transpiler.preset_passmanagers.plugin import PassManagerStagePlugin

from iqm_bridge.adapters.qiskit._convert import to_ir
from iqm_bridge.adapters.qiskit._target import IQMTarget, MoveGate, build_target, restrict
from iqm_bridge.core import Device, GateSpec, UnboundParameterError, compile
from iqm_bridge.core.ir import Barrier as IRBarrier
from iqm_bridge.core.ir import Circuit, Conditional, Gate
from iqm_bridge.core.ir import Delay as IRDelay
from iqm_bridge.core.ir import Measure as IRMeasure
from iqm_bridge.core.parameters import Expression, ParamValue

__all__ = [
    "PLUGIN_NAME",
    "IQMNativeCircuit",
    "IQMSchedulingPlugin",
    "optimize_single_qubit_gates",
    "transpile_to_IQM",
]

logger = logging.getLogger(__name__)

PLUGIN_NAME = "iqm_bridge"
"""The scheduling plugin's name (``qiskit.transpile(..., scheduling_method=PLUGIN_NAME)``)."""

_RR = OneQubitEulerDecomposer("RR")


def _qiskit_angle(value: ParamValue, params: Mapping[str, Any]) -> Any:
    if not isinstance(value, Expression):
        return float(value)
    out: Any = value.constant
    for name, coef in value.terms:
        out = out + coef * params[name]
    return out


def _rz_as_r(angle: Any) -> list[RGate]:
    """RZ(angle) = R(pi, angle/2) R(-pi, 0), in circuit order."""
    return [RGate(-math.pi, 0.0), RGate(math.pi, angle / 2)]


def _frame_into(ops: list[list[Any]], qubit: Any, frame: Any) -> None:
    """Apply RZ(``frame``) at the end of ``qubit``: merged into its last ``r`` when only CZs
    (which commute with it) follow, else as two ``r``; nothing after a final measurement."""
    last = [i for i, (_, qargs, _) in enumerate(ops) if qubit in qargs]
    tail = [i for i in last if ops[i][0].name not in ("barrier", "delay")]
    if tail and ops[tail[-1]][0].name in ("measure", "reset"):
        return  # no outcome depends on a Z rotation after the last measurement
    for i in reversed(last):
        op = ops[i][0]
        if op.name == "cz":
            continue
        numeric = not isinstance(frame, ParameterExpression) and not any(
            isinstance(p, ParameterExpression) for p in op.params
        )
        if op.name == "r" and numeric:
            merged = _RR(RZGate(frame).to_matrix() @ op.to_matrix())
            ops[i : i + 1] = [[inst.operation, (qubit,), ()] for inst in merged.data]
            return
        break
    ops.extend([g, (qubit,), ()] for g in _rz_as_r(frame))


class IQMNativeCircuit(TransformationPass):  # type: ignore[misc]
    """Finish a circuit transpiled onto an IQM target in the core compiler, on the same qubits.

    Args:
        target: the iqm-bridge target the circuit was transpiled for (its device and the
            component name of each qubit index).
        level: the core compiler's optimisation level; 0 only inserts MOVEs (stars).
        drop_final_rz: drop final Z rotations (they change no measured outcome, but change the
            circuit's unitary).
        ignore_barriers: remove barriers first, so runs merge across them.
        route_moves: on a star machine, turn qubit-qubit CZs into MOVE / CZ / MOVE
            (``False``: they stay, and ``backend.run`` routes them).
    """

    def __init__(
        self,
        target: IQMTarget,
        level: int = 1,
        *,
        drop_final_rz: bool = False,
        ignore_barriers: bool = False,
        route_moves: bool = True,
    ) -> None:
        super().__init__()
        self.device: Device = target.device if route_moves else _flattened(target)
        self.components: tuple[str, ...] = target.components
        self.level = level
        self.drop_final_rz = drop_final_rz
        self.ignore_barriers = ignore_barriers

    def run(self, dag: DAGCircuit) -> DAGCircuit:
        """Fuse single-qubit runs and insert MOVEs; see the module docstring."""
        counts = dag.count_ops()
        resonators = set(self.device.resonators)
        star = bool(resonators) and not resonators & set(self.components)
        if not counts or "move" in counts or (self.level == 0 and not star):
            return dag
        circuit = dag_to_circuit(dag, copy_operations=False)
        try:
            ir, layout = to_ir(circuit, self.components, symbolic=True)
        except UnboundParameterError as exc:
            logger.info("left as qiskit made it: %s", exc)
            return dag
        ops = ir.operations
        if self.ignore_barriers:
            ops = tuple(op for op in ops if not isinstance(op, IRBarrier))
        if any(q in resonators for op in ops for q in op.qubits):
            return dag  # written on the real target's resonators: as qiskit made it
        qubits = tuple(q for q in ir.qubits if q not in resonators)
        ir = Circuit(qubits, ops, ir.name, ir.metadata)
        result = compile(ir, self.device, level=self.level, initial_layout={q: q for q in qubits})
        if any(a != b for a, b in result.final_layout.items()):
            logger.info("left as qiskit made it: the core moved qubits %s", result.final_layout)
            return dag
        return self._to_dag(dag, circuit, result, layout.clbit_of_key)

    def _to_dag(
        self, dag: DAGCircuit, circuit: QuantumCircuit, result: Any, clbit_of_key: dict[str, int]
    ) -> DAGCircuit:
        new = dag.copy_empty_like()
        native: Circuit = result.circuit
        wire = dict(zip(self.components, new.qubits, strict=False))
        used = {q for op in native.operations for q in op.qubits}
        extra = [c for c in self.device.resonators if c in used and c not in wire]
        if extra:
            new.add_qreg(QuantumRegister(len(extra), "resonators"))
            wire.update(zip(extra, new.qubits[-len(extra) :], strict=True))
        clbits = new.clbits
        params = {p.name: p for p in circuit.parameters}
        ops: list[list[Any]] = []
        for op in native.operations:
            qargs = tuple(wire[q] for q in op.qubits)
            if isinstance(op, Gate):
                if op.name == "prx":
                    angle, phase = (_qiskit_angle(p, params) for p in op.params)
                    ops.append([RGate(angle, phase), qargs, ()])
                else:
                    ops.append([CZGate() if op.name == "cz" else MoveGate(), qargs, ()])
            elif isinstance(op, IRMeasure):
                ops.extend([Measure(), (q,), (clbits[clbit_of_key[op.key]],)] for q in qargs)
            elif isinstance(op, Conditional):
                bit = clbits[clbit_of_key[op.key]]
                body = QuantumCircuit(list(qargs), [bit])
                angle, phase = (_qiskit_angle(p, params) for p in op.gate.params)
                body.append(RGate(angle, phase), list(qargs))
                ops.append([IfElseOp((bit, op.value), body), qargs, (bit,)])
            elif isinstance(op, IRBarrier):
                ops.append([Barrier(len(qargs)), qargs, ()])
            elif isinstance(op, IRDelay):
                ops.extend([Delay(op.duration, unit="s"), (q,), ()] for q in qargs)
            else:
                ops.extend([Reset(), (q,), ()] for q in qargs)
        if not self.drop_final_rz:
            for q, frame in result.report.dropped_frames.items():
                if q in wire and q not in self.device.resonators:  # no r on a resonator
                    _frame_into(ops, wire[q], _qiskit_angle(frame, params))
        for op, qargs, cargs in ops:
            new.apply_operation_back(op, qargs, cargs, check=False)
        if extra:
            self._extend_layouts(new, len(dag.qubits), len(extra))
        return new

    def _extend_layouts(self, new: DAGCircuit, n_qubits: int, n_extra: int) -> None:
        """Give the added resonator wires a place in qiskit's layouts (they never move)."""
        layout = self.property_set["layout"]
        if layout is not None:
            layout = layout.copy()
            added = new.qregs["resonators"]
            layout.add_register(added)
            indices = self.property_set["original_qubit_indices"]
            for i, bit in enumerate(added):
                layout.add(bit, n_qubits + i)
                if indices is not None:
                    indices[bit] = n_qubits + i
            self.property_set["layout"] = layout
        final = self.property_set["final_layout"]
        if final is not None:
            mapping = {new.qubits[i]: i for i in range(n_qubits + n_extra)}
            for bit, phys in final.get_virtual_bits().items():
                mapping[new.qubits[new.find_bit(bit).index]] = phys
            self.property_set["final_layout"] = Layout(mapping)


def _flattened(target: IQMTarget) -> Device:
    """The target's device with its fictional qubit-qubit CZs as real ones, no resonators."""
    device = restrict(target.device, set(target.device.qubits))
    index = target.components
    pairs = tuple((index[a], index[b]) for a, b in target.qargs_for_operation_name("cz"))
    gates = dict(device.gates)
    gates["cz"] = GateSpec({"fictional": pairs}, "fictional")
    return attrs.evolve(device, gates=gates)


class IQMSchedulingPlugin(PassManagerStagePlugin):  # type: ignore[misc]
    """The ``iqm_bridge`` scheduling stage: :class:`IQMNativeCircuit` on an iqm-bridge target
    (nothing on any other target)."""

    def pass_manager(
        self, pass_manager_config: PassManagerConfig, optimization_level: int | None = None
    ) -> PassManager:
        """The stage for the target in ``pass_manager_config``."""
        target = pass_manager_config.target
        if not isinstance(target, IQMTarget):
            return PassManager([])
        level = 2 if optimization_level is None else optimization_level
        return PassManager([IQMNativeCircuit(target, level)])


_RUN_ONLY = ("callback", "num_processes", "output_name")


def transpile_to_IQM(  # noqa: N802 - the official name
    circuit: QuantumCircuit,
    backend: Any,
    *,
    initial_layout: Any = None,
    perform_move_routing: bool = True,
    optimize_single_qubits: bool = True,
    ignore_barriers: bool = False,
    remove_final_rzs: bool = False,
    existing_moves_handling: Any = None,
    restrict_to_qubits: Sequence[int | str] | None = None,
    **qiskit_transpiler_kwargs: Any,
) -> QuantumCircuit:
    """Transpile ``circuit`` for an IQM backend in one call (qiskit-iqm's signature).

    ``qiskit.transpile(circuit, backend)`` does the same with the defaults; this function
    also takes qiskit-iqm's switches.

    Args:
        circuit: the circuit.
        backend: an iqm-bridge ``IQMBackend``.
        initial_layout: as for ``qiskit.transpile``.
        perform_move_routing: insert MOVEs on star machines (``False``: fictional qubit-qubit
            CZs stay, and ``backend.run`` routes them).
        optimize_single_qubits: merge each run of single-qubit gates into one ``r``.
        ignore_barriers: merge across barriers (they are removed).
        remove_final_rzs: drop final Z rotations (they change no measured outcome).
        existing_moves_handling: accepted for compatibility; a circuit with MOVEs is laid out
            on the real target (resonators included) and its MOVEs are kept.
        restrict_to_qubits: transpile onto these components only (indices or names); run
            the result with ``qubit_index_to_name`` naming them.
        **qiskit_transpiler_kwargs: more ``qiskit.transpile`` arguments
            (``optimization_level``, ``seed_transpiler``, ...).

    Returns:
        The transpiled circuit.

    Raises:
        ValueError: MOVEs in the circuit and ``perform_move_routing`` without
            ``existing_moves_handling`` (as qiskit-iqm).
    """
    has_moves = "move" in circuit.count_ops()
    if has_moves and perform_move_routing and existing_moves_handling is None:
        raise ValueError(
            "the circuit contains MOVE gates: pass existing_moves_handling (they are kept), or "
            "perform_move_routing=False"
        )
    target = backend.get_real_target() if has_moves else backend.target
    if restrict_to_qubits is not None:
        target = target.restrict_to_qubits(list(restrict_to_qubits))
    if has_moves and initial_layout is None:
        initial_layout = list(range(circuit.num_qubits))  # MOVEs name their components
    kwargs = qiskit_transpiler_kwargs
    run_args = {k: kwargs.pop(k) for k in _RUN_ONLY if k in kwargs}
    manager = generate_preset_pass_manager(target=target, initial_layout=initial_layout, **kwargs)
    if kwargs.get("scheduling_method") is None:
        level = kwargs.get("optimization_level")
        level = 2 if level is None else level
        manager.scheduling = PassManager(
            IQMNativeCircuit(
                target,
                level if optimize_single_qubits else 0,
                drop_final_rz=remove_final_rzs,
                ignore_barriers=ignore_barriers,
                route_moves=perform_move_routing,
            )
        )
    out = manager.run(
        circuit, callback=run_args.get("callback"), num_processes=run_args.get("num_processes")
    )
    if run_args.get("output_name"):
        out.name = run_args["output_name"]
    return out


def _all_to_all(n: int) -> IQMTarget:
    names = tuple(f"QB{i + 1}" for i in range(n))
    pairs = tuple((a, b) for a in names for b in names if a < b)
    singles = tuple((q,) for q in names)
    loci = {"prx": singles, "cc_prx": singles, "measure": singles, "cz": pairs}
    gates = {name: GateSpec({"default": on}, "default") for name, on in loci.items()}
    return build_target(Device("any", names, (), gates))


def optimize_single_qubit_gates(
    circuit: QuantumCircuit, drop_final_rz: bool = False, ignore_barriers: bool = False
) -> QuantumCircuit:
    """Merge each run of single-qubit gates of a transpiled circuit into at most one ``r``.

    qiskit-iqm's function of the same name: ``qiskit.transpile(circuit, backend)`` already
    does this (at optimisation levels 1-3); this is for circuits transpiled otherwise.

    Args:
        circuit: a circuit of ``r``, ``cz``, measurements, resets, barriers, delays and
            ``if_else``.
        drop_final_rz: drop final Z rotations (they change no measured outcome).
        ignore_barriers: merge across barriers (they are removed).

    Returns:
        The optimised circuit, equal to the input up to a global phase (and the dropped final
        Z rotations, if asked).
    """
    target = _all_to_all(circuit.num_qubits)
    fuse = IQMNativeCircuit(target, 1, drop_final_rz=drop_final_rz, ignore_barriers=ignore_barriers)
    out = dag_to_circuit(fuse.run(circuit_to_dag(circuit)))
    out._layout = circuit.layout
    return out

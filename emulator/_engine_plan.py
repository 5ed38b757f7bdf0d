"""Which engine simulates each circuit of a job, what the job will cost, and running it.

Every circuit gets the cheapest engine that simulates it *exactly* under the served noise
model (the same Pauli model in every engine, so the choice changes speed, never results):

- ``batch``: noise-free circuits of one shape with terminal measurements (at most 16
  components), as one stacked state-vector array; cost ~ circuits x ops x 2**n.
- ``stabilizer``: Clifford circuits, noisy or not, at any width (stim); ~ ops x shots.
- ``density``: noisy circuits with terminal measurements and few components: the exact
  distribution once, every shot sampled from it; ~ ops x 4**n, independent of the shots.
- ``statevector``: noise-free circuits, mid-circuit measurement, reset and feedback
  included (branches split only where shots diverge); ~ ops x 2**n.
- ``mps``: noise-free circuits with terminal measurements whose entanglement, bounded from
  the circuit before it runs, fits an exact matrix-product state in the budget (any
  width); ~ ops x bond**3.
- ``trajectories``: noisy circuits no other engine runs: the state-vector engine with
  Pauli errors sampled per shot (shots with one history share a branch); ~ ops x 2**n x
  branches.

Before a job runs, :func:`plan_job` estimates every circuit's time and peak memory (from the
engine's measured cost per element, see docs/emulator.md) and the memory of the results and
of the measurement artifact the server renders. A job over the server's memory budget or time
limit, or with a circuit no engine can simulate faithfully within them, is refused at
submission with a 4xx that names the limit and how to raise it: never a silent approximation,
never a ``MemoryError`` halfway through.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from iqm_bridge.emulator._circuits import Limits, ParsedJob, RequestError
from iqm_bridge.emulator._engine_density import density_obstacle, run_density
from iqm_bridge.emulator._engine_mps import bond_bound, mps_cost, mps_obstacle, run_mps
from iqm_bridge.emulator._engine_stabilizer import (
    clifford_values,
    run_stabilizer,
    stabilizer_obstacle,
)
from iqm_bridge.emulator._simulator import (
    NativeCircuit,
    NoiseModel,
    Op,
    deferrable_measures,
    run_batch,
    run_circuit,
)

__all__ = ["CircuitPlan", "JobPlan", "format_bytes", "plan_job", "run_plan"]

logger = logging.getLogger(__name__)

# Measured costs on the reference machine (2 cores; docs/emulator.md, "Engines"): seconds per
# element touched by one operation, plus a fixed cost per operation.
_SV_PER_AMP = 5e-10
_SV_PER_OP = 5e-6
_TRAJ_PER_AMP = 1.5e-8
_TRAJ_PER_OP = 1.2e-4
_DM_PER_ELEMENT = 1e-8
_DM_PER_OP = 3e-5
_STIM_PER_SHOT_OP = 1e-9
_STIM_PER_OP = 1e-5
_STIM_PER_CIRCUIT = 1.5e-3
_PER_SAMPLED_BIT = 1e-8
_PER_CIRCUIT = 1e-4

_ARTIFACT_COPIES = 6
"""Copies of the measurements text a job's completion and downloads hold at once (rendered
buffer, text, stored copy, the text read back, the encoded response, counts work), measured:
a 5 x 1,000,000-shot, 20-bit job peaked at 2.2 GB resident with a 210 MB text."""

_BATCH_MAX_QUBITS = 16

_NO_NOISE = NoiseModel()


@dataclass(frozen=True)
class CircuitPlan:
    """The engine chosen for one circuit and its estimated cost.

    Attributes:
        engine: ``batch``, ``stabilizer``, ``density``, ``statevector``, ``mps`` or
            ``trajectories``.
        seconds: estimated simulation time.
        memory: estimated peak bytes while it is simulated.
        noise: the noise model it runs with (``None``: ideal).
    """

    engine: str
    seconds: float
    memory: int
    noise: NoiseModel | None


@dataclass(frozen=True)
class JobPlan:
    """Per-circuit plans and the whole job's estimate.

    Attributes:
        circuits: one plan per circuit, in job order.
        seconds: estimated time of the whole job.
        memory: estimated peak bytes (simulation, results and the measurement artifact).
    """

    circuits: tuple[CircuitPlan, ...]
    seconds: float
    memory: int

    def summary(self) -> str:
        """One line: engines used, estimated time and memory."""
        engines: dict[str, int] = {}
        for plan in self.circuits:
            engines[plan.engine] = engines.get(plan.engine, 0) + 1
        used = ", ".join(f"{name} x{count}" for name, count in engines.items())
        return f"engines {used}; about {self.seconds:.3g} s and {format_bytes(self.memory)}"


def format_bytes(size: float) -> str:
    """``size`` bytes in MB or GB, for messages."""
    if size >= 1e9:
        return f"{size / 1e9:.3g} GB"
    return f"{size / 1e6:.3g} MB"


def _structure_ops(circuit: NativeCircuit) -> Sequence[Op]:
    """The circuit's operations, or its shape's (same structure, no numbers: no copies)."""
    return circuit.shape.ops if circuit.shape is not None else circuit.ops


def _bits(circuit: NativeCircuit) -> int:
    return sum(len(op.targets) for op in _structure_ops(circuit) if op.kind == "measure")


def _artifact_bytes(circuit: NativeCircuit, shots: int) -> int:
    """Size of the circuit's part of the ``measurements`` text: ``[0,1,...],`` per row."""
    rows = sum(2 * len(op.targets) + 2 for op in _structure_ops(circuit) if op.kind == "measure")
    return shots * rows + 16 * len(circuit.keys) + 4


def _expected_branches(circuit: NativeCircuit, noise: NoiseModel, shots: int) -> float:
    """Mean number of distinct branches per operation of the trajectory engine."""
    names = circuit.components
    deferred = deferrable_measures(circuit)
    hazard = 0.0
    total = 0.0
    for i, op in enumerate(circuit.ops):
        t = op.targets
        if op.kind in ("prx", "cc_prx"):
            hazard += noise.prx.get(names[t[0]], 0.0)
        elif op.kind == "cz":
            hazard += noise.two_qubit.get((names[t[0]], names[t[1]]), 0.0)
        elif op.kind == "move":
            hazard += noise.move.get((names[t[0]], names[t[1]]), 0.0)
        elif op.kind == "delay":
            hazard += sum(sum(noise.idle(names[c], op.duration)) for c in t)
        elif op.kind == "reset" or (op.kind == "measure" and not deferred[i]):
            hazard += 0.5 * len(t)  # a collapse (or a readout flip) may split a branch
        total += 1.0 + shots * (1.0 - math.exp(-hazard))
    return total / max(1, len(circuit.ops))


def _branches(circuit: NativeCircuit) -> bool:
    """Whether the state-vector engine splits branches (collapse, reset or feedback)."""
    ops = _structure_ops(circuit)
    deferred = deferrable_measures(circuit.shape if circuit.shape is not None else circuit)
    return any(
        op.kind in ("reset", "cc_prx") or (op.kind == "measure" and not deferred[i])
        for i, op in enumerate(ops)
    )


def _dense_itemsize(n: int) -> int:
    return 16 if n < 16 else 8


class _Budget:
    """The server's limits as this module applies them."""

    def __init__(self, limits: Limits) -> None:
        self.memory = limits.memory_budget
        self.seconds = limits.max_seconds
        self.max_qubits = limits.max_qubits


def _options(
    circuit: NativeCircuit,
    shots: int,
    noise: NoiseModel | None,
    group: int,
    budget: _Budget,
    stim_reason: str | None,
) -> tuple[list[CircuitPlan], list[str]]:
    """Every engine that can run ``circuit`` exactly, with its cost, and why others cannot.

    ``stim_reason`` is :func:`stabilizer_obstacle`'s answer for the circuit.
    """
    n = len(circuit.components)
    ops = len(circuit.shape.ops if circuit.shape is not None else circuit.ops)
    bits = _bits(circuit)
    sample = shots * bits * _PER_SAMPLED_BIT
    plans: list[CircuitPlan] = []
    why: list[str] = []
    if stim_reason is None:
        seconds = _STIM_PER_CIRCUIT + ops * _STIM_PER_OP + shots * ops * _STIM_PER_SHOT_OP + sample
        memory = min(shots * max(bits, 1), 1 << 25) * 2 + ops * 256 + (1 << 20)
        plans.append(CircuitPlan("stabilizer", seconds, memory, noise))
    else:
        why.append(f"not Clifford ({stim_reason})")
    dense = 1 << n
    itemsize = _dense_itemsize(n)
    if noise is None:
        shape = circuit.shape
        if group > 1 and shape is not None and n <= _BATCH_MAX_QUBITS and shape.plan() is not None:
            seconds = _PER_CIRCUIT + ops * (_SV_PER_OP / group + dense * _SV_PER_AMP) + sample
            plans.append(CircuitPlan("batch", seconds, (1 << 20) * 16 * 3, noise))
        memory = dense * (itemsize + 24)  # state, probabilities, cumulative sums
        seconds = _PER_CIRCUIT + ops * (_SV_PER_OP + dense * _SV_PER_AMP) + sample
        if _branches(circuit):
            # collapses split branches as errors do (chunks bound the memory, see below)
            branches = _expected_branches(circuit, _NO_NOISE, shots)
            chunk = max(1, min(shots, _max_amplitudes(budget) >> n))
            memory = min(chunk, shots + 1) * dense * itemsize * 3
            seconds = _PER_CIRCUIT + ops * (_TRAJ_PER_OP + dense * branches * _TRAJ_PER_AMP)
            seconds += sample
        if memory <= budget.memory:
            plans.append(CircuitPlan("statevector", seconds, memory, noise))
        else:
            why.append(f"a {n}-component state vector needs {format_bytes(memory)}")
        mps_reason = mps_obstacle(circuit)
        if mps_reason is None:
            memory, seconds = mps_cost(circuit, shots)
            if memory <= budget.memory:
                plans.append(CircuitPlan("mps", _PER_CIRCUIT + seconds + sample, memory, noise))
            else:
                bond = 1 << max(bond_bound(circuit), default=0)
                why.append(
                    f"its entanglement bounds an exact matrix-product state at bond "
                    f"dimension {bond} ({format_bytes(memory)})"
                )
        else:
            why.append(f"no exact matrix-product state ({mps_reason})")
        return plans, why
    dm_reason = density_obstacle(circuit)
    if dm_reason is None:
        elements = 1 << (2 * n)
        memory = elements * 16 * 4
        seconds = _PER_CIRCUIT + ops * (_DM_PER_OP / group + elements * _DM_PER_ELEMENT) + sample
        if memory <= budget.memory:
            plans.append(CircuitPlan("density", seconds, memory, noise))
        else:
            why.append(f"a {n}-component density matrix needs {format_bytes(memory)}")
    else:
        why.append(f"not density-matrix friendly ({dm_reason})")
    # trajectories: branches of at most max_amplitudes amplitudes at once (see _run_one)
    per_branch = dense * itemsize * 3
    if per_branch <= budget.memory:
        branches = _expected_branches(circuit, noise, shots)
        chunk = max(1, min(shots, _max_amplitudes(budget) >> n))
        memory = min(chunk, shots + 1) * per_branch
        seconds = _PER_CIRCUIT + ops * (_TRAJ_PER_OP + dense * branches * _TRAJ_PER_AMP) + sample
        plans.append(CircuitPlan("trajectories", seconds, memory, noise))
    else:
        why.append(f"a {n}-component state vector per trajectory needs {format_bytes(per_branch)}")
    return plans, why


def _max_amplitudes(budget: _Budget) -> int:
    """Most amplitudes the trajectory engine holds at once: a third of the budget."""
    return max(1 << 10, budget.memory // (8 * 3 * 3))


def plan_job(parsed: ParsedJob, noise: Sequence[NoiseModel | None], limits: Limits) -> JobPlan:
    """Choose each circuit's engine and estimate the job; refuse what cannot run.

    Args:
        parsed: the validated job.
        noise: the noise model of each circuit (``None``: ideal).
        limits: the server's limits (``max_qubits``, ``memory_budget``, ``max_seconds``).

    Raises:
        RequestError: 400 naming the circuit and the limit, if a circuit is wider than
            ``max_qubits``, if no engine can simulate it exactly within the memory budget, or
            if the job as a whole (simulation, results and the measurement artifact) needs
            more memory than the budget or more time than ``max_seconds``.
    """
    budget = _Budget(limits)
    shots = parsed.shots
    circuits = parsed.circuits
    sizes: dict[tuple[object, int], int] = {}
    for circuit, model in zip(circuits, noise, strict=True):
        if circuit.shape is not None:  # batch and density engines run a shape together
            sizes[(circuit.shape, id(model))] = sizes.get((circuit.shape, id(model)), 0) + 1
    # the Clifford test of every circuit of one shape at once, on the stacked numbers
    clifford = np.zeros(len(circuits), dtype=bool)
    members: dict[object, list[int]] = {}
    for index, circuit in enumerate(circuits):
        if circuit.shape is not None and circuit.values is not None:
            members.setdefault(circuit.shape, []).append(index)
    for shape, indices in members.items():
        stacked = np.stack([circuits[i].values for i in indices])  # type: ignore[misc]
        clifford[indices] = clifford_values(shape, stacked)  # type: ignore[arg-type]
    per_shape: dict[tuple[object, int], tuple[str, bool]] = {}
    options_of: dict[tuple[object, int, int, bool], tuple[list[CircuitPlan], list[str]]] = {}
    plans: list[CircuitPlan] = []
    results = 0
    artifact = 0
    peak = 0
    seconds = 0.0
    for index, (circuit, model) in enumerate(zip(circuits, noise, strict=True)):
        n = len(circuit.components)
        if budget.max_qubits is not None and n > budget.max_qubits:
            raise RequestError(
                400, "too_many_qubits",
                f"circuit {circuit.name!r} acts on {n} qubits/resonators, but this emulator "
                f"simulates at most {budget.max_qubits} (max_qubits); start it with a larger "
                "limit (Emulator(max_qubits=N) or 'serve --max-qubits N') or use fewer qubits",
            )  # fmt: skip
        group = sizes.get((circuit.shape, id(model)), 1)
        shape = circuit.shape
        if shape is None or circuit.values is None:
            stim_reason = stabilizer_obstacle(circuit, model)
            options, why = _options(circuit, shots, model, group, budget, stim_reason)
        else:
            # circuits of one shape differ only in their numbers: the structural answers
            # are computed once per shape, the Clifford test on the numbers at once
            structural = per_shape.get((shape, id(model)))
            if structural is None:
                structural = per_shape[(shape, id(model))] = (
                    stabilizer_obstacle(shape, model) or "",
                    any(op.kind == "delay" for op in shape.ops),
                )
            stim_reason = structural[0] or (None if clifford[index] else "not Clifford")
            key = (shape, id(model), group, stim_reason is None)
            known = None if structural[1] else options_of.get(key)
            if known is None:
                known = options_of[key] = _options(
                    circuit, shots, model, group, budget, stim_reason
                )
            options, why = known
        if not options:
            precise = stabilizer_obstacle(circuit, model)
            why = [f"not Clifford ({precise})" if w == "not Clifford (not Clifford)" else w
                   for w in why]  # fmt: skip
            raise RequestError(
                400, "not_simulable",
                f"circuit {circuit.name!r} ({n} qubits/resonators, noise "
                f"{'on' if model is not None else 'off'}) cannot be simulated exactly within "
                f"the server's memory budget of {format_bytes(budget.memory)}: "
                f"{'; '.join(why)}. Use Clifford gates only (any width), switch noise off for "
                "it, use fewer qubits, or raise the budget (Emulator(memory_budget=BYTES) or "
                "'serve --memory-budget BYTES')",
            )  # fmt: skip
        best = min(options, key=lambda p: p.seconds)
        plans.append(best)
        seconds += best.seconds
        results += shots * _bits(circuit)
        artifact += _artifact_bytes(circuit, shots)
        peak = max(peak, best.memory)
    memory = peak + results + artifact * _ARTIFACT_COPIES
    plan = JobPlan(tuple(plans), seconds, memory)
    if memory > budget.memory:
        raise RequestError(
            400, "over_memory_budget",
            f"the job needs about {format_bytes(memory)} ({len(circuits)} circuits x {shots} "
            f"shots: {format_bytes(artifact)} of measurement results, "
            f"{format_bytes(peak)} to simulate the largest circuit), over the server's memory "
            f"budget of {format_bytes(budget.memory)}; submit fewer shots or circuits per job, "
            "or raise the budget (Emulator(memory_budget=BYTES) or 'serve --memory-budget "
            "BYTES')",
        )  # fmt: skip
    if budget.seconds is not None and seconds > budget.seconds:
        raise RequestError(
            400, "over_time_limit",
            f"the job would take about {seconds:.3g} s to simulate ({plan.summary()}), over "
            f"the server's limit of {budget.seconds:g} s; submit fewer shots or circuits, use "
            "Clifford gates or fewer noisy qubits, or raise the limit "
            "(Emulator(limits=Limits(max_seconds=S)))",
        )  # fmt: skip
    return plan


def run_plan(
    parsed: ParsedJob, plan: JobPlan, rng: np.random.Generator, limits: Limits
) -> list[dict[str, np.ndarray]]:
    """Simulate a planned job; circuits of one shape on a batching engine run together."""
    circuits = parsed.circuits
    shots = parsed.shots
    budget = _Budget(limits)
    groups: dict[tuple[object, str, int], list[int]] = {}
    for index, (circuit, cplan) in enumerate(zip(circuits, plan.circuits, strict=True)):
        if cplan.engine in ("batch", "density") and circuit.shape is not None:
            key = (circuit.shape, cplan.engine, id(cplan.noise))
            groups.setdefault(key, []).append(index)
    results: list[dict[str, np.ndarray] | None] = [None] * len(circuits)
    for index, (circuit, cplan) in enumerate(zip(circuits, plan.circuits, strict=True)):
        if results[index] is not None:
            continue
        engine = cplan.engine
        members = [index]
        if engine in ("batch", "density") and circuit.shape is not None:
            members = groups[(circuit.shape, engine, id(cplan.noise))]
        batch = [circuits[i] for i in members]
        if engine == "batch":
            outs = (
                run_batch(batch, shots, rng)
                if len(batch) > 1
                else [run_circuit(circuit, shots, rng)]
            )
        elif engine == "density":
            outs = run_density(batch, shots, rng, cplan.noise)
        elif engine == "stabilizer":
            outs = [run_stabilizer(circuit, shots, rng, cplan.noise)]
        elif engine == "mps":
            outs = [run_mps(circuit, shots, rng)]
        else:
            outs = [
                run_circuit(
                    circuit, shots, rng, cplan.noise, max_amplitudes=_max_amplitudes(budget)
                )
            ]
        for i, out in zip(members, outs, strict=True):
            results[i] = out
    return [r for r in results if r is not None]

"""``qiskit.transpile`` onto our backend against the official backend, on the same emulator.

For each of seven circuits from ``qiskit.circuit.library`` (QFT, EfficientSU2, QuantumVolume,
a GHZ-like ring graph state, a Grover iteration, a ripple-carry adder, IQP), each measured
on every qubit, and for each optimisation level 1-3, one figure
``transpile.<machine>.<circuit>.L<level>.r``: the number of single-qubit gates in
``qiskit.transpile(qc, backend, optimization_level=level, seed_transpiler=1)`` with our
backend (``iqm_bridge.adapters.qiskit.IQMProvider(url).get_backend()``) over the same number
with the official one (``iqm.qiskit_iqm.IQMProvider(url).get_backend()``), both against one
noiseless emulator started here; goal <= 1.0. Machines: garnet (20-qubit square lattice) and
deneb (6 qubits around a computational resonator, where both backends also insert MOVEs; the
8-qubit ring is left out there).

Also ``transpile.garnet.random20.L<level>.time``: the wall time of that ``qiskit.transpile``
call on qiskit's ``random_circuit(20, 50, max_operands=2, seed=7)`` (measured), ours over the
official backend's, the median of 5 runs taken in turns after one warm-up run each; inside
the timer is the whole ``transpile`` call (qiskit's stages and each backend's scheduling
stage), outside it building the circuit and the backends. Goal <= 1.5: our stage hands the
circuit to the core compiler and back, which costs more than a qiskit pass alone.

What is counted: the ``r`` instructions of the transpiled circuit (the only single-qubit
gate either backend emits; measurements, barriers, ``cz`` and ``move`` are not single-qubit
gates). The note gives both CZ (and MOVE) counts. Nothing is timed: the figure is a count,
and both backends are built, and the emulators started, before anything is counted.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable
from functools import cache
from typing import Any

from _common import Figure, interleaved_medians

LEVELS = (1, 2, 3)
SEED = 1


def _measured(qc: Any) -> Any:
    from qiskit import QuantumCircuit

    out = QuantumCircuit(qc.num_qubits)
    out.compose(qc, inplace=True)
    out.measure_all()
    return out


def _qft() -> Any:
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import QFTGate

    qc = QuantumCircuit(6)
    qc.h(range(6))
    qc.append(QFTGate(6), range(6))
    return qc


def _efficient_su2() -> Any:
    import numpy as np
    from qiskit.circuit.library import efficient_su2

    qc = efficient_su2(6, reps=2)
    values = np.random.default_rng(7).uniform(-np.pi, np.pi, qc.num_parameters)
    return qc.assign_parameters(values)


def _quantum_volume() -> Any:
    from qiskit.circuit.library import quantum_volume

    return quantum_volume(5, seed=3)


def _ghz_ring() -> Any:
    import numpy as np
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import GraphStateGate

    n = 8
    adjacency = np.zeros((n, n), dtype=int)
    for i in range(n):
        adjacency[i, (i + 1) % n] = adjacency[(i + 1) % n, i] = 1
    qc = QuantumCircuit(n)
    qc.append(GraphStateGate(adjacency), range(n))
    return qc


def _grover() -> Any:
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import grover_operator

    oracle = QuantumCircuit(4)
    oracle.x([0, 2])
    oracle.h(3)
    oracle.mcx([0, 1, 2], 3)
    oracle.h(3)
    oracle.x([0, 2])
    qc = QuantumCircuit(4)
    qc.h(range(4))
    qc.compose(grover_operator(oracle), inplace=True)
    return qc


def _adder() -> Any:
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import CDKMRippleCarryAdder

    adder = CDKMRippleCarryAdder(2, kind="half")
    qc = QuantumCircuit(adder.num_qubits)
    qc.x([0, 3])  # a = 1, b = 2
    qc.compose(adder, inplace=True)
    return qc


def _iqp() -> Any:
    from qiskit.circuit.library import iqp

    return iqp([[6, 5, 3, 1], [5, 4, 5, 2], [3, 5, 1, 7], [1, 2, 7, 3]])


CIRCUITS: dict[str, Callable[[], Any]] = {
    "qft6": _qft,
    "efficient_su2_6": _efficient_su2,
    "quantum_volume5": _quantum_volume,
    "ghz_ring8": _ghz_ring,
    "grover4": _grover,
    "adder2": _adder,
    "iqp4": _iqp,
}


MACHINES = ("garnet", "deneb")


@cache
def _backends(machine: str) -> tuple[Any, Any]:
    """(ours, official): both backends on one noiseless emulator of ``machine``."""
    from iqm.qiskit_iqm import IQMProvider as OfficialProvider

    from iqm_bridge.adapters.qiskit import IQMProvider
    from iqm_bridge.emulator import Emulator

    emulator = Emulator(machine=machine, noise=False, seed=1)
    url = emulator.start()
    atexit.register(emulator.stop)
    return IQMProvider(url).get_backend(), OfficialProvider(url).get_backend()


def _counts(qc: Any, backend: Any, level: int) -> tuple[int, str]:
    from qiskit import transpile

    ops = transpile(qc, backend, optimization_level=level, seed_transpiler=SEED).count_ops()
    two = f"cz {ops.get('cz', 0)}" + (f" move {ops['move']}" if "move" in ops else "")
    return ops.get("r", 0), two


def single_qubit_gates() -> list[Figure]:
    """Single-qubit gates after ``qiskit.transpile``, ours over the official backend's."""
    figures = []
    for machine in MACHINES:
        ours, official = _backends(machine)
        for name, make in CIRCUITS.items():
            qc = _measured(make())
            if qc.num_qubits > ours.num_qubits:
                continue
            for level in LEVELS:
                figures.append(_figure(machine, name, qc, level, ours, official))
    return figures


def _figure(machine: str, name: str, qc: Any, level: int, ours: Any, official: Any) -> Figure:
    r_ours, two_ours = _counts(qc, ours, level)
    r_official, two_official = _counts(qc, official, level)
    return Figure(
        f"transpile.{machine}.{name}.L{level}.r",
        r_ours,
        r_official,
        goal=1.0,
        unit="gates",
        note=f"{two_ours} vs {two_official}",
        against="iqm.qiskit_iqm's backend, same emulator and transpile call",
    )


def transpile_time() -> list[Figure]:
    """Wall time of ``qiskit.transpile`` of a wide random circuit, ours over the official's."""
    from qiskit import transpile
    from qiskit.circuit.random import random_circuit

    ours, official = _backends("garnet")
    qc = _measured(random_circuit(20, 50, max_operands=2, seed=7))
    figures = []
    for level in LEVELS:
        t_ours, t_official = interleaved_medians(
            [
                lambda b=b, lv=level: transpile(qc, b, optimization_level=lv, seed_transpiler=SEED)
                for b in (ours, official)
            ],
            repeat=5,
        )
        figures.append(
            Figure(
                f"transpile.garnet.random20.L{level}.time",
                t_ours,
                t_official,
                goal=1.5,
                note="20 qubits, depth 50, measured",
                against="iqm.qiskit_iqm's backend, same transpile call, interleaved runs",
            )
        )
    return figures


BENCHMARKS = [single_qubit_gates, transpile_time]

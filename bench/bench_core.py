"""Foundation figures: wire serialisation and the cost of importing the core.

- ``serialize_20q_1000gates``: inside the timer, a native 20-qubit, 1,000-gate circuit to
  iqm-client's ``Circuit`` model; ours from our IR (``to_iqm_circuit``), the anchor from the
  same circuit in qiskit (qiskit-iqm's ``serialize_instructions``, what its
  ``serialize_circuit`` calls). Outside: building both circuits.
- ``import_core_*``: inside, ``import iqm_bridge.core`` in a fresh interpreter; the anchor
  ``import iqm.qiskit_iqm``, taken in turns with ours. Outside: starting the interpreter.
  The absolute 0.3 s is a target (nothing else imports our core), printed as one.
"""

from __future__ import annotations

import random

from _common import Figure, Target, interleaved_import_times, interleaved_medians


def _native_pair(n_qubits: int = 20, n_gates: int = 1000, seed: int = 5):  # type: ignore[no-untyped-def]
    """The same 20-qubit, 1000-gate native circuit in our IR and in qiskit (r + cz)."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit.circuit.library import RGate

    from iqm_bridge.core import Circuit, Gate, Measure
    from iqm_bridge.core.keys import KeyMap, Register

    rng = random.Random(seed)
    qubits = [f"QB{i + 1}" for i in range(n_qubits)]
    qr, cr = QuantumRegister(n_qubits, "q"), ClassicalRegister(n_qubits, "c")
    qc = QuantumCircuit(qr, cr)
    ops = []
    for _ in range(n_gates):
        if rng.random() < 0.7:
            q, a, p = rng.randrange(n_qubits), rng.uniform(0, 3), rng.uniform(0, 6)
            ops.append(Gate("prx", (qubits[q],), (a, p)))
            qc.append(RGate(a, p), [q])
        else:
            q = rng.randrange(n_qubits - 1)
            ops.append(Gate("cz", (qubits[q], qubits[q + 1])))
            qc.cz(q, q + 1)
    reg = Register("c", n_qubits)
    for i, q in enumerate(qubits):
        ops.append(Measure((q,), KeyMap.encode(reg, 0, i)))
        qc.measure(i, i)
    return Circuit(qubits, ops), qc


def serialize_20q_1000_gates() -> Figure:
    """Ours: native IR -> iqm-client models. Anchor: qiskit-iqm's serialize_circuit."""
    from iqm.qiskit_iqm.qiskit_to_iqm import serialize_instructions

    from iqm_bridge.core.submit.serialize import to_iqm_circuit

    ours_circuit, qc = _native_pair()
    index = {i: f"QB{i + 1}" for i in range(qc.num_qubits)}
    ours, anchor = interleaved_medians(
        [lambda: to_iqm_circuit(ours_circuit), lambda: serialize_instructions(qc, index)],
        repeat=21,
    )
    return Figure(
        "serialize_20q_1000gates",
        ours,
        anchor,
        goal=0.5,
        against="qiskit-iqm serialize_instructions of the same circuit",
    )


def import_core() -> list[Figure | Target]:
    """``import iqm_bridge.core`` in a fresh process vs ``import iqm.qiskit_iqm``."""
    ours, anchor = interleaved_import_times(["iqm_bridge.core", "iqm.qiskit_iqm"])
    return [
        Figure(
            "import_core_vs_qiskit_iqm",
            ours,
            anchor,
            goal=0.1,
            against="import iqm.qiskit_iqm in a fresh interpreter",
        ),
        Target("import_core_absolute", ours, 0.3, note="under 0.3 s"),
    ]


BENCHMARKS = [serialize_20q_1000_gates, import_core]

"""Oracle comparisons for the qiskit adapter tests: qiskit-aer counts with shot-noise bounds."""

from __future__ import annotations

import math
import re

from qiskit import QuantumCircuit, transpile

ORACLE_SHOTS = 20_000


def aer_counts(circuit: QuantumCircuit, shots: int = ORACLE_SHOTS) -> dict[str, int]:
    """Ideal counts from qiskit-aer, in qiskit's key layout."""
    from qiskit_aer import AerSimulator

    sim = AerSimulator()
    result = sim.run(transpile(circuit, sim), shots=shots, seed_simulator=7).result()
    return dict(result.get_counts())


def _shape(key: str) -> str:
    return re.sub("[01]", "b", key)


def assert_counts_match(ours: dict[str, int], reference: dict[str, int]) -> None:
    """Same key layout as the reference, and every outcome's frequency within 4 sigma.

    The bound combines the binomial standard errors of both samples, plus a floor of a few
    counts for outcomes the reference saw rarely.
    """
    n1, n2 = sum(ours.values()), sum(reference.values())
    shapes = {_shape(k) for k in reference}
    for key in ours:
        assert _shape(key) in shapes, f"key {key!r} has another layout than aer's {shapes}"
    for key in set(ours) | set(reference):
        p = ours.get(key, 0) / n1
        q = reference.get(key, 0) / n2
        m = (p * n1 + q * n2) / (n1 + n2)
        sigma = math.sqrt(m * (1 - m) * (1 / n1 + 1 / n2)) + 3 / n1
        assert abs(p - q) <= 4 * sigma, (
            f"outcome {key!r}: ours {p:.4f} vs aer {q:.4f} (4 sigma = {4 * sigma:.4f})\n"
            f"ours={ours}\naer={reference}"
        )

"""Helpers of the compatibility suite: shot statistics, standard circuits, job polling.

Tolerances: a count ``k`` of an outcome with probability ``p`` in ``n`` shots is binomial with
mean ``n p`` and standard deviation ``sigma = sqrt(n p (1 - p))``; checks allow ``Z`` sigma
(``Z = 5``: a false alarm about once in 1.7 million checks). The emulators are noiseless, so an
outcome of probability 0 must never appear and one of probability 1 must be every shot.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

Z = 5.0


def sigma(shots: int, p: float) -> float:
    """Standard deviation of a binomial count with ``shots`` trials and probability ``p``."""
    return math.sqrt(shots * p * (1.0 - p))


def assert_count(count: int, shots: int, p: float, what: str = "") -> None:
    """Assert ``count`` is within ``Z`` sigma of ``shots * p`` (exact for p in {0, 1})."""
    expected = shots * p
    tolerance = Z * sigma(shots, p)
    assert abs(count - expected) <= tolerance, (
        f"{what}: {count} of {shots} shots, expected {expected:.1f} +- {tolerance:.1f} "
        f"(p={p:.4f}, {Z} sigma)"
    )


def assert_distribution(counts: Mapping[Any, int], expected: Mapping[Any, float]) -> None:
    """Assert observed counts follow ``expected`` probabilities (outcome -> p).

    Outcomes missing from ``expected`` have probability 0 and must not appear.
    """
    shots = sum(counts.values())
    unexpected = {k: v for k, v in counts.items() if expected.get(k, 0.0) == 0.0 and v}
    assert not unexpected, f"outcomes of probability 0 observed: {unexpected} in {dict(counts)}"
    for outcome, p in expected.items():
        assert_count(counts.get(outcome, 0), shots, p, what=f"outcome {outcome!r}")


def assert_ghz_counts(counts: Mapping[str, int], n: int) -> None:
    """Assert qiskit counts of an ``n``-qubit GHZ state: half all-zeros, half all-ones."""
    assert_distribution(counts, {"0" * n: 0.5, "1" * n: 0.5})


def ghz(n: int, *, measure: bool = True) -> Any:
    """An ``n``-qubit GHZ circuit (h, then a chain of cx), measured with ``measure_all``."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n, name=f"ghz{n}")
    qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    if measure:
        qc.measure_all()
    return qc


def wait_until(predicate: Callable[[], bool], attempts: int = 300, pause: float = 0.1) -> bool:
    """Poll ``predicate`` up to ``attempts`` times, ``pause`` seconds apart; its last value.

    Bounded by a number of polls, not a deadline: no test asserts on elapsed time.
    """
    for _ in range(attempts):
        if predicate():
            return True
        time.sleep(pause)
    return predicate()


def client_for(url: str) -> Any:
    """An unmodified iqm-client ``IQMClient`` for the server at ``url``."""
    from iqm.iqm_client import IQMClient

    return IQMClient.from_url(url)


def server_architecture(url: str) -> Any:
    """The server's default dynamic quantum architecture, read with the unmodified iqm-client."""
    return client_for(url).get_dynamic_quantum_architecture(None)


def qiskit_backend(flavour: Any, url: str, **kwargs: Any) -> Any:
    """``IQMProvider(url).get_backend(**kwargs)`` of the flavour (the documented entry point)."""
    return flavour.qiskit.IQMProvider(url).get_backend(**kwargs)


def transpiled(circuit: Any, backend: Any, **kwargs: Any) -> Any:
    """``qiskit.transpile`` for ``backend`` with a fixed seed (deterministic layouts)."""
    from qiskit import transpile

    kwargs.setdefault("seed_transpiler", 1)
    return transpile(circuit, backend, **kwargs)


def cz_edges(architecture: Any) -> set[frozenset[str]]:
    """The undirected CZ couplings of a dynamic quantum architecture, as name pairs."""
    return {frozenset(locus) for locus in architecture.gates["cz"].loci}


def cirq_sampler(flavour: Any, url: str, **kwargs: Any) -> Any:
    """``IQMSampler(url, **kwargs)`` of the flavour."""
    return flavour.cirq.IQMSampler(url, **kwargs)


def qb(*names: str) -> Any:
    """``cirq.NamedQubit`` s with IQM names (one qubit for one name, else a tuple)."""
    import cirq

    qubits = tuple(cirq.NamedQubit(name) for name in names)
    return qubits[0] if len(qubits) == 1 else qubits


def histogram_of(result: Any, key: str) -> dict[str, int]:
    """A cirq result's outcomes under ``key`` as bitstrings (first measured qubit first)."""
    rows = result.measurements[key]
    counts: dict[str, int] = {}
    for row in rows.tolist():
        bits = "".join(str(int(b)) for b in row)
        counts[bits] = counts.get(bits, 0) + 1
    return counts


def assert_is(value: Any, cls: type) -> None:
    """Assert ``value`` is an instance of ``cls``, naming both types when it is not."""
    assert isinstance(value, cls), (
        f"expected an instance of {cls.__module__}.{cls.__qualname__}, got "
        f"{type(value).__module__}.{type(value).__qualname__}: {value!r:.120}"
    )

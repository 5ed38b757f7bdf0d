"""The backend inside qiskit's ecosystem: primitives, copies, result serialisation.

Qiskit's ``BackendEstimatorV2`` calls ``backend.run(..., memory=True)`` (``BackendSamplerV2``
is left out: it reads memory as hex and so fails on the official backend, whose memory is
bitstrings);
qiskit-ibm-runtime's local mode and PennyLane-Qiskit deep-copy the backend; results travel as
``Result.to_dict()``. The official backend supports all of these.
"""

from __future__ import annotations

import copy
import pickle
import warnings

import pytest
from _compat_helpers import assert_distribution, assert_ghz_counts, ghz, qiskit_backend, transpiled

pytestmark = pytest.mark.compat

SHOTS = 1000


def test_backend_estimator_v2_on_a_bell_pair(flavour, garnet_url):
    """<ZZ> of a Bell pair is exactly 1 on a noiseless machine; <XX> is 1 too."""
    from qiskit import QuantumCircuit
    from qiskit.primitives import BackendEstimatorV2
    from qiskit.quantum_info import SparsePauliOp

    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    backend = qiskit_backend(flavour, garnet_url)
    circuit = transpiled(qc, backend)
    observables = [SparsePauliOp(p).apply_layout(circuit.layout) for p in ("ZZ", "XX")]
    estimator = BackendEstimatorV2(backend=backend, options={"default_precision": 0.05})
    evs = estimator.run([(circuit, observables)]).result()[0].data.evs
    assert evs.tolist() == pytest.approx([1.0, 1.0])


def test_memory_true_gives_per_shot_memory(flavour, garnet_url):
    """qiskit's own ``memory=True`` run option (the official backend warns but complies)."""
    backend = qiskit_backend(flavour, garnet_url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        job = backend.run(transpiled(ghz(2), backend), shots=50, memory=True)
    memory = job.result().get_memory()
    assert len(memory) == 50
    assert set(memory) <= {"00", "11"}


def test_deep_copied_backend_runs(flavour, garnet_url):
    """What qiskit-ibm-runtime's local mode does: copy the backend, run transpiled circuits."""
    backend = qiskit_backend(flavour, garnet_url)
    clone = copy.deepcopy(backend)
    assert clone.num_qubits == backend.num_qubits
    counts = clone.run(transpiled(ghz(3), backend), shots=SHOTS).result().get_counts()
    assert_ghz_counts(counts, 3)


def test_pickled_backend_runs(flavour, garnet_url):
    backend = qiskit_backend(flavour, garnet_url)
    clone = pickle.loads(pickle.dumps(backend))
    counts = clone.run(transpiled(ghz(3), backend), shots=SHOTS).result().get_counts()
    assert_ghz_counts(counts, 3)


def test_result_round_trips_through_a_dict(flavour, garnet_url):
    from qiskit.result import Result

    backend = qiskit_backend(flavour, garnet_url)
    result = backend.run(transpiled(ghz(3), backend), shots=200).result()
    again = Result.from_dict(result.to_dict())
    assert again.get_counts() == result.get_counts()
    assert again.get_memory() == result.get_memory()


def test_counts_feed_qiskit_marginals(flavour, garnet_url):
    """``marginal_counts`` over a GHZ result: each single bit is 50/50."""
    from qiskit.result import marginal_counts

    backend = qiskit_backend(flavour, garnet_url)
    counts = backend.run(transpiled(ghz(3), backend), shots=SHOTS).result().get_counts()
    assert_distribution(marginal_counts(counts, [1]), {"0": 0.5, "1": 0.5})

"""Readout-error mitigation from Qiskit: the backend option, quasi-distributions on results, and
IQM's ``EstimatorV2`` / ``SamplerV2``, against the emulator's real readout noise.

The reference for "readout error switched off" is the same circuit on the same emulator with
``metadata["emulator_noise"] = {"readout": False}`` on every circuit it runs (gate and idle
noise stay on).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from _readout import GARNET_CHAIN
from _readout import readout_off as stamp_readout_off
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from iqm_bridge.adapters.qiskit import EstimatorV2, IQMBackend, IQMProvider, SamplerV2

CHAIN = GARNET_CHAIN


@pytest.fixture(scope="module")
def noisy_url() -> Iterator[str]:
    from iqm_bridge.emulator import Emulator

    with Emulator(machine="garnet", noise=True, seed=777) as url:
        yield url


def _backend(url: str, readout_off: bool = False) -> IQMBackend:
    backend = IQMProvider(url, journal=None).get_backend()
    if readout_off:
        stamp_readout_off(backend.connection)
    return backend


def _ghz_on_chain(backend: IQMBackend) -> QuantumCircuit:
    """A 10-qubit GHZ on a chain of coupled qubits, written in the backend's qubit indices."""
    idx = [backend.qubit_name_to_index(q) for q in CHAIN]
    qc = QuantumCircuit(backend.num_qubits)
    qc.h(idx[0])
    for a, b in zip(idx, idx[1:], strict=False):
        qc.cx(a, b)
    return qc


@pytest.mark.slow
def test_ghz10_parity_from_the_estimator_matches_readout_free(noisy_url: str) -> None:
    """<Z...Z> of a 10-qubit GHZ from ``EstimatorV2``: mitigated within 4 sigma of the
    readout-free value, raw outside that band.

    Sigma combines the two estimates' ``stds`` (standard errors of the per-shot estimators,
    as the estimator reports them). Raw readout scales the parity by prod(1 - p10 - p01),
    about 0.6 on this chain; without mitigation the first check fails.
    """
    precision = 0.012  # about 7,000 shots
    backend = _backend(noisy_url)
    qc = _ghz_on_chain(backend)
    label = ["I"] * backend.num_qubits
    for q in CHAIN:
        label[backend.qubit_name_to_index(q)] = "Z"
    parity = SparsePauliOp("".join(reversed(label)))
    mitigated = EstimatorV2(backend, options={"mitigation": "readout"})
    raw = EstimatorV2(backend)
    reference = EstimatorV2(_backend(noisy_url, readout_off=True))
    (m,) = mitigated.run([(qc, parity)], precision=precision).result()
    (r,) = raw.run([(qc, parity)], precision=precision).result()
    (ref,) = reference.run([(qc, parity)], precision=precision).result()
    ev = {k: float(x.data.evs) for k, x in (("m", m), ("r", r), ("ref", ref))}
    sd = {k: float(x.data.stds) for k, x in (("m", m), ("r", r), ("ref", ref))}
    band = 4 * math.hypot(sd["m"], sd["ref"])
    assert abs(ev["m"] - ev["ref"]) < band, (ev, sd)
    assert abs(ev["r"] - ev["ref"]) > 4 * math.hypot(sd["r"], sd["ref"]) + band, (ev, sd)


def test_quasi_distributions_on_results_and_from_the_sampler(noisy_url: str) -> None:
    """A prepared |1>: raw counts leak to 0 by P(0|1); the mitigated quasi-probability of 1
    is 1 within 4 sigma (sigma from the binomial leak through the inverse confusion matrix,
    plus about 1e-3 of gate error). A run without mitigation has no quasi-distribution."""
    shots = 4000
    backend = _backend(noisy_url)
    qc = QuantumCircuit(backend.num_qubits, 1)
    qc.x(0)
    qc.measure(0, 0)
    result = backend.run(qc, shots=shots, mitigation="readout").result()
    leak = result.get_counts().get("0", 0) / shots
    assert leak > 0
    quasi = result.get_quasi_distribution()
    sigma = math.sqrt(leak * (1 - leak) / shots) / (1 - 2 * leak)
    assert abs(quasi.get(1, 0.0) - 1.0) < 4 * sigma + 1e-3
    assert math.isclose(sum(quasi.values()), 1.0, abs_tol=1e-9)
    from qiskit.exceptions import QiskitError

    with pytest.raises(QiskitError, match="mitigation='readout'"):
        backend.run(qc, shots=10).result().get_quasi_distribution()
    (pub,) = SamplerV2(backend, options={"mitigation": "readout"}).run([qc], shots=shots).result()
    assert sum(pub.data.c.get_counts().values()) == shots
    (dist,) = pub.metadata["quasi_dists"]
    assert abs(dist.get(1, 0.0) - 1.0) < 4 * sigma + 1e-3


def test_the_estimator_agrees_with_exact_values_noise_off(emulator_url: str) -> None:
    """Noise off: the estimate falls within 4 reported sigmas of the exact value (Bell
    state: <ZZ> = <XX> = 1, <ZI> = 0, <YY> = -1), and the reported sigma is the one the
    shot statistics give."""
    backend = IQMProvider(emulator_url, journal=None).get_backend()
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    obs = SparsePauliOp.from_list([("ZZ", 1.0), ("XX", 0.5), ("ZI", 2.0), ("YY", -1.0)])
    (res,) = EstimatorV2(backend).run([(qc, obs)], precision=0.02).result()
    exact = 1.0 + 0.5 + 0.0 + 1.0
    # ZZ, XX and YY read the same parity on every shot; only 2 <ZI> fluctuates, with
    # standard error 2 / sqrt(shots), which is what the estimator reports
    assert abs(float(res.data.evs) - exact) <= 4 * float(res.data.stds)
    assert float(res.data.stds) == pytest.approx(2 / math.sqrt(res.metadata["shots"]), rel=0.05)

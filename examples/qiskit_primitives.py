"""Qiskit's backend primitives (SamplerV2, EstimatorV2) on an IQM backend.

Runs on the embedded emulator when no server URL is configured. The primitives send the
circuits to backend.run, which compiles circuits that are not yet native.
"""

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2
from qiskit.quantum_info import SparsePauliOp, Statevector

from iqm_bridge.adapters.qiskit import IQMProvider

backend = IQMProvider().get_backend()

theta = Parameter("theta")
circuit = QuantumCircuit(2)
circuit.ry(theta, 0)
circuit.cx(0, 1)

# Sampler: bitstring counts for two parameter values in one job.
measured = circuit.measure_all(inplace=False)
sampler = BackendSamplerV2(backend=backend)
result = sampler.run([(measured, [[0.5], [2.0]])], shots=2000).result()
for i, value in enumerate([0.5, 2.0]):
    print(f"theta={value}: {result[0].data.meas.get_counts(i)}")

# Estimator: <ZZ> and <XX>, compared with the exact statevector values.
observables = [SparsePauliOp("ZZ"), SparsePauliOp("XX")]
estimator = BackendEstimatorV2(backend=backend)
evs = estimator.run([(circuit, observables, [1.2])], precision=0.02).result()[0].data.evs
exact = Statevector(circuit.assign_parameters([1.2]))
for obs, ev in zip(observables, np.asarray(evs), strict=True):
    ideal = float(np.real(exact.expectation_value(obs)))
    print(f"<{obs.paulis[0]}> = {ev:+.3f}  (exact {ideal:+.3f})")

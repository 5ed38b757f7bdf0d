"""A Bell pair and a GHZ state on an IQM quantum computer, through Qiskit's backend.run.

With no server URL (and no IQM_SERVER_URL set) the backend is the embedded emulator of a
20-qubit IQM Garnet, noise included, so this runs without an account. To use a real machine:
IQMProvider("https://<your IQM server>", token="...").
"""

from qiskit import QuantumCircuit, transpile

from iqm_bridge.adapters.qiskit import IQMProvider

backend = IQMProvider().get_backend()
print(f"backend: {backend.name}, {backend.num_qubits} qubits")

# A Bell pair, written with standard gates: backend.run compiles it for the device.
bell = QuantumCircuit(2, 2, name="bell")
bell.h(0)
bell.cx(0, 1)
bell.measure([0, 1], [0, 1])
print("Bell counts:", backend.run(bell, shots=1000).result().get_counts())

# A 5-qubit GHZ state, transpiled by qiskit for the device first (then sent as it is).
ghz = QuantumCircuit(5, name="ghz")
ghz.h(0)
for q in range(1, 5):
    ghz.cx(q - 1, q)
ghz.measure_all()
native = transpile(ghz, backend, optimization_level=3, seed_transpiler=1)
counts = backend.run(native, shots=1000).result().get_counts()
top = sorted(counts.items(), key=lambda kv: -kv[1])[:4]
print("GHZ counts (most frequent):", dict(top))

"""Submit a job, keep only its id, and fetch the results again with a new backend.

On a real server the second half could run in another process, days later: the id is all it
needs (the measurement layout travels with the job). Here both halves share the embedded
emulator, which lives as long as this process.
"""

from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

from iqm_bridge.adapters.qiskit import IQMProvider

q = QuantumRegister(2, "q")
flag = ClassicalRegister(1, "flag")
out = ClassicalRegister(2, "out")
circuit = QuantumCircuit(q, flag, out, name="feedback")
circuit.h(0)
circuit.measure(0, flag[0])
with circuit.if_test((flag[0], 1)):  # mid-circuit measurement and classical feedback
    circuit.x(1)
circuit.measure(q, out)

job = IQMProvider().get_backend().run(circuit, shots=500)
job_id = job.job_id()
print("submitted job", job_id, "status", job.status().name)

# ... later, with nothing but the id:
again = IQMProvider().get_backend().retrieve_job(job_id)
result = again.result(timeout=60)
print("counts:", result.get_counts())
print("same as the original job:", result.get_counts() == job.result().get_counts())

"""A Bell pair with Cirq on the embedded IQM emulator: no URL, no account.

Run: python examples/bell_cirq.py  (set IQM_SERVER_URL to use a real IQM server instead)
"""

import cirq

from iqm_bridge.adapters.cirq import IQMSampler

a, b = cirq.LineQubit.range(2)
bell = cirq.Circuit(cirq.H(a), cirq.CNOT(a, b), cirq.measure(a, b, key="bell"))

sampler = IQMSampler()  # IQM_SERVER_URL if set, else the embedded emulator
result = sampler.run(bell, repetitions=1000)

counts = result.histogram(key="bell")
print(f"Bell pair on {sampler.device.name}: {dict(counts)}")
print(f"job {result.metadata.job_id}, calibration set {result.metadata.calibration_set_id}")
# 00 (0) and 11 (3) dominate; 01 and 10 only come from the emulated hardware noise
assert counts[0] + counts[3] > 0.8 * 1000

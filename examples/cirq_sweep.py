"""A 50-point parameter sweep in Cirq, sent to the IQM emulator as ONE job.

The circuit is compiled once (symbols kept) and bound per sweep point.
Run: python examples/cirq_sweep.py
"""

import cirq
import sympy

from iqm_bridge.adapters.cirq import IQMSampler

theta, phi = sympy.Symbol("theta"), sympy.Symbol("phi")
a, b = cirq.LineQubit.range(2)
circuit = cirq.Circuit(
    cirq.rx(theta).on(a),
    cirq.CNOT(a, b),
    cirq.Z(b) ** (phi / sympy.pi),
    cirq.H(b),
    cirq.measure(a, b, key="m"),
)
sweep = cirq.Linspace("theta", 0, 3.14159, 10) * cirq.Linspace("phi", 0, 3.14159, 5)

sampler = IQMSampler()
results = sampler.run_sweep(circuit, sweep, repetitions=500)

print(f"{len(results)} sweep points in job(s) {sorted({str(r.metadata.job_id) for r in results})}")
for r in results[::10]:
    p1 = r.measurements["m"][:, 0].mean()
    print(f"theta={r.params['theta']:.3f} phi={r.params['phi']:.3f}  P(a=1)={p1:.3f}")
assert len({r.metadata.job_id for r in results}) == 1

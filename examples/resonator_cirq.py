"""GHZ on a resonator star machine (deneb): the compiler routes through the resonator with MOVEs.

Uses IQM_SERVER_URL if set; otherwise starts a deneb emulator here (or set
IQM_BRIDGE_EMULATOR_MACHINE=deneb to get the embedded one).
Run: python examples/resonator_cirq.py
"""

import os

import cirq

from iqm_bridge.adapters.cirq import IQMMoveGate, IQMSampler
from iqm_bridge.emulator import Emulator

q = cirq.LineQubit.range(4)
ghz = cirq.Circuit(
    cirq.H(q[0]), [cirq.CNOT(q[0], q[i]) for i in range(1, 4)], cirq.measure(*q, key="ghz")
)


def main(url: str | None) -> None:
    sampler = IQMSampler(url)
    device = sampler.device
    print(
        f"{device.name}: qubits {[str(x) for x in device.qubits]}, resonators "
        f"{[str(r) for r in device.resonators]}"
    )
    routed, initial, _ = device.route_circuit(ghz)
    moves = sum(isinstance(op.gate, IQMMoveGate) for op in routed.all_operations())
    print(f"routed: {moves} MOVEs, layout { ({str(k): str(v) for k, v in initial.items()}) }")
    counts = sampler.run(ghz, repetitions=1000).histogram(key="ghz")
    print(f"GHZ counts: {dict(counts)}")
    assert counts[0] + counts[15] > 0.7 * 1000


if os.environ.get("IQM_SERVER_URL") or os.environ.get("IQM_BRIDGE_EMULATOR_MACHINE") == "deneb":
    main(None)
else:
    with Emulator(machine="deneb", noise=True, seed=7) as emulator_url:
        main(emulator_url)

"""A Bell state on the ``"iqm"`` PennyLane device, using the embedded emulator (no URL).

python examples/bell_pennylane.py
"""

from __future__ import annotations

import pennylane as qml


def run(shots: int = 1000) -> dict[str, int]:
    """Prepare (|00> + |11>)/sqrt(2) and return the measured counts."""
    dev = qml.device("iqm", wires=2)  # no url: IQM_SERVER_URL, else the embedded emulator

    @qml.qnode(dev, shots=shots)
    def bell() -> dict[str, int]:
        qml.Hadamard(wires=0)
        qml.CNOT(wires=[0, 1])
        return qml.counts()

    return {str(k): int(v) for k, v in bell().items()}


if __name__ == "__main__":
    print(run())

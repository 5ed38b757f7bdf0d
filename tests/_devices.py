"""Devices for compiler tests: a 20-qubit square lattice (Garnet's coupling map) and a star.

Both come with calibration figures so calibration-aware placement has something to prefer.
"""

from __future__ import annotations

import random

from iqm_bridge.core.device import Calibration, Device

GARNET_EDGES = [
    (1, 2),
    (1, 4),
    (2, 5),
    (3, 4),
    (3, 8),
    (4, 5),
    (4, 9),
    (5, 6),
    (5, 10),
    (6, 7),
    (6, 11),
    (7, 12),
    (8, 9),
    (8, 13),
    (9, 10),
    (9, 14),
    (10, 11),
    (10, 15),
    (11, 12),
    (11, 16),
    (12, 17),
    (13, 14),
    (14, 15),
    (14, 18),
    (15, 16),
    (15, 19),
    (16, 17),
    (16, 20),
    (18, 19),
    (19, 20),
]


def _gate(loci: list[list[str]], impl: str) -> dict[str, object]:
    return {
        "implementations": {impl: {"loci": loci}},
        "default_implementation": impl,
        "override_default_implementation": {},
    }


def lattice_device(seed: int = 1, calibrated: bool = True) -> Device:
    """A 20-qubit device with Garnet's square-lattice coupling map."""
    qubits = [f"QB{i}" for i in range(1, 21)]
    cz = [[f"QB{a}", f"QB{b}"] for a, b in GARNET_EDGES]
    arch = {
        "calibration_set_id": "26c5e70f-bea0-43af-bd37-6212ec7d04cb",
        "qubits": qubits,
        "computational_resonators": [],
        "gates": {
            "prx": _gate([[q] for q in qubits], "drag_gaussian"),
            "cc_prx": _gate([[q] for q in qubits], "prx_composite"),
            "cz": _gate(cz, "tgss"),
            "measure": _gate([[q] for q in qubits], "constant"),
        },
    }
    cal = None
    if calibrated:
        rng = random.Random(seed)
        cal = Calibration(
            prx_fidelity={q: 0.999 - 0.002 * rng.random() for q in qubits},
            cz_fidelity={(a, b): 0.995 - 0.01 * rng.random() for a, b in cz},
            readout_fidelity={q: 0.98 - 0.03 * rng.random() for q in qubits},
        )
    return Device.from_architecture(arch, name="lattice20", calibration=cal)


def star_device(num_qubits: int = 6, calibrated: bool = True) -> Device:
    """A star device: qubits around one computational resonator ``CR1`` (like Deneb)."""
    qubits = [f"QB{i}" for i in range(1, num_qubits + 1)]
    arch = {
        "calibration_set_id": "3f0b0b36-7b5e-4c1a-9d6e-0c3a5e2d9f11",
        "qubits": qubits,
        "computational_resonators": ["CR1"],
        "gates": {
            "prx": _gate([[q] for q in qubits], "drag_gaussian"),
            "cc_prx": _gate([[q] for q in qubits], "prx_composite"),
            "cz": _gate([[q, "CR1"] for q in qubits], "tgss"),
            "move": _gate([[q, "CR1"] for q in qubits], "tgss_crf"),
            "measure": _gate([[q] for q in qubits], "constant"),
        },
    }
    cal = None
    if calibrated:
        cal = Calibration(
            prx_fidelity={q: 0.999 - 0.0003 * i for i, q in enumerate(qubits)},
            cz_fidelity={(q, "CR1"): 0.99 - 0.001 * i for i, q in enumerate(qubits)},
            readout_fidelity={q: 0.97 for q in qubits},
        )
    return Device.from_architecture(arch, name="star6", calibration=cal)


# --------------------------------------------------------------------------------------------
# equivalence checks shared by the compiler tests


def _expected_state(psi, logical, final_layout, physical):  # type: ignore[no-untyped-def]
    import numpy as np

    n = len(logical)
    tensor = psi.reshape((2,) * n)
    extra = len(physical) - n
    full = np.tensordot(tensor, _zero(extra), axes=0) if extra else tensor
    # axes of `full`: logical qubits in order, then the idle physical qubits
    idle = [p for p in physical if p not in set(final_layout.values())]
    axis_of = {final_layout[q]: i for i, q in enumerate(logical)}
    for k, p in enumerate(idle):
        axis_of[p] = n + k
    perm = [axis_of[p] for p in physical]
    return np.transpose(full, perm).reshape(-1)


def _zero(k):  # type: ignore[no-untyped-def]
    import numpy as np

    z = np.zeros((2,) * k, dtype=np.complex128)
    z[(0,) * k] = 1.0
    return z


def assert_equivalent(circuit, result, atol: float = 1e-7, values=None) -> None:  # type: ignore[no-untyped-def]
    """The compiled circuit prepares the input's state up to the final permutation and phase.

    ``values`` binds symbolic dropped frames (for results bound from a template).
    """
    import numpy as np
    from _statevector import apply_gate, statevector

    from iqm_bridge.core.ir import Gate

    psi = statevector(circuit)
    native = result.circuit
    physical = list(native.qubits)
    index = {q: i for i, q in enumerate(physical)}
    state = statevector(native, physical).reshape((2,) * len(physical))
    for q, f in result.report.dropped_frames.items():
        angle = f.bind(values) if hasattr(f, "bind") else f
        state = apply_gate(state, Gate("rz", (q,), (float(angle),)), index)
    got = state.reshape(-1)
    want = _expected_state(psi, list(circuit.qubits), result.final_layout, physical)
    overlap = abs(np.vdot(want, got))
    assert overlap > 1 - atol, f"overlap {overlap}"


def assert_same_distribution(circuit, result, atol: float = 1e-7) -> None:  # type: ignore[no-untyped-def]
    """Measurement outcomes (by key) have the same probabilities before and after compiling."""
    from _statevector import distribution

    want = distribution(circuit)
    got = distribution(result.circuit)
    keys = set(want) | set(got)
    for k in keys:
        assert abs(want.get(k, 0.0) - got.get(k, 0.0)) < atol, (k, want.get(k), got.get(k))

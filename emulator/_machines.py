"""The catalogue of emulated quantum computers.

Each machine is a core :class:`~iqm_bridge.core.device.Device` with a
:class:`~iqm_bridge.core.device.Calibration`, plus the few extra figures the server publishes
as quality metrics (gate durations, drive frequencies, MOVE fidelities). Every number is
drawn from a generator seeded by the machine's name, so a machine never changes between runs,
and its calibration set id is a ``uuid5`` of the name.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from iqm_bridge.core.device import Calibration, Device, GateSpec

__all__ = ["MACHINE_NAMES", "Machine", "get_machine"]

_NAMESPACE = uuid.UUID("6f1c1c3e-8a44-4c55-9a0b-5b0e6ad1e2a7")

GARNET_COUPLERS = (
    (1, 2), (1, 4), (2, 5), (3, 4), (3, 8), (4, 5), (4, 9), (5, 6), (5, 10), (6, 7),
    (6, 11), (7, 12), (8, 9), (8, 13), (9, 10), (9, 14), (10, 11), (10, 15), (11, 12),
    (11, 16), (12, 17), (13, 14), (14, 15), (14, 18), (15, 16), (15, 19), (16, 17),
    (16, 20), (18, 19), (19, 20),
)  # fmt: skip
"""IQM Garnet's published coupling map (qubit numbers)."""

MACHINE_NAMES = ("garnet", "emerald", "deneb", "adonis")
"""Names (and quantum-computer aliases) of the machines in the catalogue."""

PRX_DURATION = 20e-9
CZ_DURATION = 40e-9
MOVE_DURATION = 80e-9
MEASURE_DURATION = 1.5e-6


@dataclass(frozen=True, eq=False)
class Machine:
    """One emulated quantum computer.

    Attributes:
        name: the alias clients use (``garnet``, ...).
        display_name: the human name served in the quantum-computer list.
        device: qubits, resonators, natives and loci (and the calibration).
        move_fidelity: ``(qubit, resonator)`` -> MOVE fidelity (star machines only).
        frequency: qubit -> drive frequency in Hz (published as a metric).
        dut_label: the chip label served with the calibration data.
        readout_errors: qubit -> ``(P(read 1 | 0), P(read 0 | 1))``; their mean is one minus
            the qubit's readout fidelity, and ``P(0|1)`` is the larger, as relaxation during
            the readout pulse makes it on real chips.
    """

    name: str
    display_name: str
    device: Device
    move_fidelity: dict[tuple[str, str], float] = field(default_factory=dict)
    frequency: dict[str, float] = field(default_factory=dict)
    dut_label: str = "M000-W0-EMU0001"
    readout_errors: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Stable quantum-computer UUID."""
        return str(uuid.uuid5(_NAMESPACE, f"qc:{self.name}"))

    @property
    def calibration_set_id(self) -> str:
        """Stable calibration set UUID (``uuid5`` of the name)."""
        assert self.device.calibration_set_id is not None
        return self.device.calibration_set_id

    @property
    def metrics_set_id(self) -> str:
        """Stable quality-metric set UUID."""
        return str(uuid.uuid5(_NAMESPACE, f"metrics:{self.name}"))

    @property
    def calibration(self) -> Calibration:
        """The calibration figures the noise model uses."""
        assert self.device.calibration is not None
        return self.device.calibration

    def architecture(self) -> dict[str, object]:
        """The dynamic quantum architecture JSON."""
        return self.device.to_architecture_dict()

    def static_architecture(self) -> dict[str, object]:
        """The static quantum architecture JSON (one list item)."""
        return {
            "dut_label": self.dut_label,
            "qubits": list(self.device.qubits),
            "computational_resonators": list(self.device.resonators),
            "connectivity": [list(edge) for edge in self.device.coupling_edges],
        }


def _square_patch(row_lengths: Iterable[int]) -> list[tuple[int, int]]:
    """Couplers of a square lattice patch whose centred rows have the given lengths."""
    rows = list(row_lengths)
    width = max(rows)
    cells: dict[tuple[int, int], int] = {}
    number = 0
    for r, length in enumerate(rows):
        start = (width - length) // 2
        for c in range(start, start + length):
            number += 1
            cells[(r, c)] = number
    edges = []
    for (r, c), n in cells.items():
        for dr, dc in ((0, 1), (1, 0)):
            other = cells.get((r + dr, c + dc))
            if other is not None:
                edges.append((n, other))
    return sorted(edges)


def _spec(impl: str, loci: Iterable[tuple[str, ...]]) -> GateSpec:
    return GateSpec({impl: tuple(loci)}, impl, {})


def _build(
    name: str,
    display_name: str,
    qubits: tuple[str, ...],
    couplers: Iterable[tuple[str, str]],
    resonators: tuple[str, ...] = (),
    cc_prx: bool = True,
) -> Machine:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    couplers = [tuple(c) for c in couplers]
    singles = tuple((q,) for q in qubits)
    gates: dict[str, GateSpec] = {"prx": _spec("drag_gaussian", singles)}
    if cc_prx:
        gates["cc_prx"] = _spec("prx_composite", singles)
    if resonators:
        gates["cz"] = _spec("tgss", couplers)
        gates["move"] = _spec("tgss_crf", couplers)
    else:
        gates["cz"] = _spec("tgss", couplers)
    gates["measure"] = _spec("constant", singles)
    n = len(qubits)
    t1 = rng.uniform(30e-6, 60e-6, n)
    t2 = rng.uniform(10e-6, 30e-6, n)
    readout = rng.uniform(0.95, 0.99, n)
    prx = rng.uniform(0.9985, 0.9995, n)
    cz = rng.uniform(0.98, 0.995, len(couplers))
    move = rng.uniform(0.985, 0.995, len(couplers))
    freq = rng.uniform(4.0e9, 4.8e9, n)
    # a generator of its own, so the figures drawn above stay what they always were
    asym = np.random.default_rng([zlib.crc32(name.encode()), 1]).uniform(0.3, 0.7, n)
    readout_errors = {
        q: (float((1 - f) * (1 - a)), float((1 - f) * (1 + a)))
        for q, f, a in zip(qubits, readout, asym, strict=True)
    }
    calibration = Calibration(
        prx_fidelity={q: float(f) for q, f in zip(qubits, prx, strict=True)},
        cz_fidelity={
            tuple(sorted(c)): float(f)  # type: ignore[misc]
            for c, f in zip(couplers, cz, strict=True)
        },
        readout_fidelity={q: float(f) for q, f in zip(qubits, readout, strict=True)},
        t1={q: float(v) for q, v in zip(qubits, t1, strict=True)},
        t2={q: float(v) for q, v in zip(qubits, t2, strict=True)},
    )
    device = Device(
        name=name,
        qubits=qubits,
        resonators=resonators,
        gates=gates,
        calibration_set_id=str(uuid.uuid5(_NAMESPACE, f"calset:{name}")),
        calibration=calibration,
    )
    return Machine(
        name=name,
        display_name=display_name,
        device=device,
        move_fidelity=(
            {c: float(f) for c, f in zip(couplers, move, strict=True)} if resonators else {}  # type: ignore[misc]
        ),
        frequency={q: float(f) for q, f in zip(qubits, freq, strict=True)},
        dut_label=f"M{zlib.crc32(name.encode()) % 1000:03d}-W0-{name.upper()}",
        readout_errors=readout_errors,
    )


@cache
def get_machine(name: str) -> Machine:
    """The catalogue machine called ``name``.

    Raises:
        KeyError: unknown name; the message lists the known ones.
    """
    if name == "garnet":
        qubits = tuple(f"QB{i}" for i in range(1, 21))
        couplers = [(f"QB{a}", f"QB{b}") for a, b in GARNET_COUPLERS]
        return _build(name, "IQM Garnet (emulated)", qubits, couplers)
    if name == "emerald":
        edges = _square_patch((3, 5, 7, 9, 9, 9, 7, 5))
        qubits = tuple(f"QB{i}" for i in range(1, 55))
        couplers = [(f"QB{a}", f"QB{b}") for a, b in edges]
        return _build(name, "IQM Emerald (emulated)", qubits, couplers)
    if name == "deneb":
        qubits = tuple(f"QB{i}" for i in range(1, 7))
        couplers = [(q, "CR1") for q in qubits]
        return _build(name, "IQM Deneb (emulated)", qubits, couplers, resonators=("CR1",))
    if name == "adonis":
        qubits = tuple(f"QB{i}" for i in range(1, 6))
        couplers = [("QB1", "QB3"), ("QB2", "QB3"), ("QB3", "QB4"), ("QB3", "QB5")]
        return _build(name, "IQM Adonis (emulated)", qubits, couplers, cc_prx=False)
    raise KeyError(f"unknown machine {name!r}; choose one of {', '.join(MACHINE_NAMES)}")

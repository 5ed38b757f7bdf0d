"""Estimated success probability: how likely a native circuit runs without any error.

The estimate is the product of

* the served fidelity of every native gate on its locus (``prx`` and ``cc_prx`` per qubit,
  ``cz`` per coupler, ``move`` per qubit-resonator pair),
* the readout fidelity of every measured qubit, and
* for each qubit, the chance that it survives its idle time: the circuit is scheduled as soon
  as possible with a duration per native (the calibration set's, where it serves them), and a
  qubit idles between its first and its last
  operation whenever it is not busy (and not parked in a resonator). Idling for ``t`` costs
  ``(1 - exp(-t/T1)) / 4 + (1 - exp(-t/T2)) / 2``, the error of Pauli-twirled thermal
  relaxation (the emulator's idle noise), where the calibration gives T1 and T2.

A figure the calibration leaves out takes a documented default (:data:`DEFAULT_FIDELITY`,
:data:`DEFAULT_DURATION`), so a device without calibration data still ranks circuits by their
gate counts and depth. The same function scores our compilations and anyone else's (the
benchmarks convert qiskit's output to the IR and call it), so the comparison is like for like.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from iqm_bridge.core.device import Calibration, Device
from iqm_bridge.core.ir import Barrier, Circuit, Conditional, Delay, Gate, Measure, Reset

__all__ = [
    "DEFAULT_DURATION",
    "DEFAULT_FIDELITY",
    "estimated_success",
    "idle_cost",
    "idle_error",
    "idle_times",
    "log_success",
    "qubit_errors",
]

DEFAULT_FIDELITY: Mapping[str, float] = {
    "prx": 0.999,
    "cz": 0.99,
    "move": 0.99,
    "measure": 0.98,
}
"""Fidelity assumed for a native (or readout) the calibration does not cover."""

DEFAULT_DURATION: Mapping[str, float] = {
    "prx": 20e-9,
    "cc_prx": 20e-9,
    "cz": 40e-9,
    "move": 80e-9,
    "measure": 1.5e-6,
    "reset": 1.52e-6,
}
"""Duration in seconds of each native when the device serves none: IQM's typical figures
(the emulator serves exactly these). A reset is a measurement and a conditional pulse."""


def idle_error(seconds: float, t1: float | None, t2: float | None) -> float:
    """Error probability of a qubit idling ``seconds`` (0 when T1 or T2 is unknown).

    Args:
        seconds: idle time.
        t1: energy relaxation time in seconds.
        t2: dephasing time in seconds.
    """
    if seconds <= 0.0 or not t1 or not t2:
        return 0.0
    relax = -math.expm1(-seconds / t1) / 4.0
    dephase = -math.expm1(-seconds / t2) / 2.0
    return min(1.0, relax + dephase)


def _neglog(fidelity: float) -> float:
    return -math.log(max(fidelity, 1e-12))


def _two_qubit_fidelity(cal: Calibration | None, name: str, a: str, b: str) -> float:
    if cal is None:
        return DEFAULT_FIDELITY[name]
    if name == "move":
        table = cal.move_fidelity
        fid = table.get((a, b), table.get((b, a)))
    else:
        cz = cal.cz_fidelity
        fid = cz.get((a, b), cz.get((b, a)))
    return DEFAULT_FIDELITY[name] if fid is None or not 0.0 < fid <= 1.0 else fid


def _one_qubit_fidelity(table: Mapping[str, float] | None, q: str, default: float) -> float:
    fid = table.get(q) if table is not None else None
    return default if fid is None or not 0.0 < fid <= 1.0 else fid


def qubit_errors(device: Device, qubit: str) -> tuple[float, float]:
    """``-log`` of ``qubit``'s single-qubit gate fidelity and of its readout fidelity."""
    cal = device.calibration
    prx = _one_qubit_fidelity(
        cal.prx_fidelity if cal is not None else None, qubit, DEFAULT_FIDELITY["prx"]
    )
    ro = _one_qubit_fidelity(
        cal.readout_fidelity if cal is not None else None, qubit, DEFAULT_FIDELITY["measure"]
    )
    return _neglog(prx), _neglog(ro)


def idle_cost(device: Device, qubit: str, seconds: float) -> float:
    """``-log`` of the chance that ``qubit`` idles ``seconds`` without error."""
    cal = device.calibration
    if cal is None:
        return 0.0
    err = idle_error(seconds, cal.t1.get(qubit), cal.t2.get(qubit))
    return _neglog(1.0 - err) if err > 0.0 else 0.0


def idle_times(
    circuit: Circuit, device: Device, durations: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Per qubit, the seconds it idles between its first and its last operation when the
    circuit runs as soon as possible (time parked in a resonator excluded)."""
    dur = dict(DEFAULT_DURATION)
    cal = device.calibration
    if cal is not None:  # the served durations (median over loci) where the server gives them
        dur.update({g: d for g in dur if (d := cal.duration(g)) is not None})
    if durations:
        dur.update(durations)
    free: dict[str, float] = {}
    first: dict[str, float] = {}
    busy: dict[str, float] = {}
    parked: dict[str, float] = {}
    parked_since: dict[str, float] = {}
    resonators = set(device.resonators)
    for op in circuit.operations:
        qubits = op.qubits
        start = max((free.get(q, 0.0) for q in qubits), default=0.0)
        if isinstance(op, Barrier):
            for q in qubits:
                if q in free:
                    free[q] = start
            continue
        gate = op.gate if isinstance(op, Conditional) else op
        if isinstance(gate, Gate):
            if isinstance(op, Conditional):
                seconds = dur.get("cc_prx", dur["prx"])
            else:
                seconds = dur.get(gate.name, dur["prx"] if len(qubits) == 1 else dur["cz"])
        elif isinstance(op, Measure):
            seconds = dur["measure"]
        elif isinstance(op, Reset):
            seconds = dur["reset"]
        elif isinstance(op, Delay):
            # a delay is idling the user asked for: it counts as idle time, not as busy time
            for q in qubits:
                first.setdefault(q, start)
                free[q] = start + op.duration
            continue
        else:  # pragma: no cover - Operation is a closed union
            seconds = 0.0
        end = start + seconds
        for q in qubits:
            first.setdefault(q, start)
            free[q] = end
            busy[q] = busy.get(q, 0.0) + seconds
        if isinstance(gate, Gate) and gate.name == "move":
            q, r = (qubits[1], qubits[0]) if qubits[0] in resonators else qubits
            if r in resonators:
                # the state leaves the qubit on the first MOVE of a pair and comes back on the
                # second; the empty qubit cannot decohere meanwhile
                if q in parked_since:
                    parked[q] = parked.get(q, 0.0) + start - parked_since.pop(q)
                else:
                    parked_since[q] = end
    return {
        q: max(0.0, free[q] - begin - busy.get(q, 0.0) - parked.get(q, 0.0))
        for q, begin in first.items()
        if q not in resonators
    }


def log_success(
    circuit: Circuit,
    device: Device,
    *,
    durations: Mapping[str, float] | None = None,
) -> float:
    """``-log`` of :func:`estimated_success` (additive, so passes can compare parts).

    Args:
        circuit: a native circuit on the device's component names.
        device: the device whose calibration scores it.
        durations: native name -> seconds, overriding :data:`DEFAULT_DURATION`.
    """
    cal = device.calibration
    prx_table = cal.prx_fidelity if cal is not None else None
    ro_table = cal.readout_fidelity if cal is not None else None
    cost = 0.0
    for op in circuit.operations:
        gate = op.gate if isinstance(op, Conditional) else op
        qubits = op.qubits
        if isinstance(gate, Gate):
            if len(qubits) == 1:
                cost += _neglog(_one_qubit_fidelity(prx_table, qubits[0], DEFAULT_FIDELITY["prx"]))
            else:
                # any two-qubit native other than a move costs as much as a cz
                name = "move" if gate.name == "move" else "cz"
                cost += _neglog(_two_qubit_fidelity(cal, name, qubits[0], qubits[1]))
        elif isinstance(op, Measure):
            for q in qubits:
                cost += _neglog(_one_qubit_fidelity(ro_table, q, DEFAULT_FIDELITY["measure"]))
    if cal is not None and cal.t1 and cal.t2:
        for q, idle in idle_times(circuit, device, durations).items():
            cost += idle_cost(device, q, idle)
    return cost


def estimated_success(
    circuit: Circuit,
    device: Device,
    *,
    durations: Mapping[str, float] | None = None,
) -> float:
    """The probability that ``circuit`` runs on ``device`` without a gate, readout or idle
    error, from the device's calibration (see the module docstring).

    Args:
        circuit: a native circuit on the device's component names.
        device: the device whose calibration scores it.
        durations: native name -> seconds, overriding :data:`DEFAULT_DURATION`.

    Returns:
        A probability in ``(0, 1]``.
    """
    return math.exp(-log_success(circuit, device, durations=durations))

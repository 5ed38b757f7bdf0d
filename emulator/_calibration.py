"""What the emulator derives from a machine's calibration: noise model and metric sets.

The quality metrics are served as observations whose ``dut_field`` names follow the pattern
iqm-client's ``ObservationFinder`` reads (``characterization.model.QB1.t1_time``,
``metrics.rb.prx.drag_gaussian.QB1.fidelity``, ``metrics.irb.cz.tgss.QB1__QB2.fidelity``,
``metrics.ssro.measure.constant.QB1.fidelity``, ``gates.cz.tgss.QB1__QB2.duration``), so
``get_backend(use_metrics=True)`` sees the same figures the noise model uses. Readout errors
are served both ways IQM names them: the asymmetric ``...QB1.error_0_to_1`` (P(1|0)) and
``...QB1.error_1_to_0`` (P(0|1)), and the symmetric ``...QB1.fidelity``, which is
``1 - (error_0_to_1 + error_1_to_0) / 2``.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

from iqm_bridge.emulator._machines import (
    CZ_DURATION,
    MEASURE_DURATION,
    MOVE_DURATION,
    PRX_DURATION,
    Machine,
)
from iqm_bridge.emulator._simulator import NoiseModel

__all__ = ["calibration_set", "noise_model", "noise_model_without", "quality_metric_set"]

_CREATED = "2026-01-01T00:00:00+00:00"
_ENDED = "2026-01-01T00:10:00+00:00"


@cache
def noise_model(machine: Machine) -> NoiseModel:
    """The Pauli-twirled noise model implied by ``machine``'s calibration."""
    cal = machine.calibration
    depol = NoiseModel.depolarizing_probability
    two: dict[tuple[str, str], float] = {}
    for pair, fid in cal.cz_fidelity.items():
        a, b = pair
        two[(a, b)] = two[(b, a)] = depol(fid, 2)
    move_two: dict[tuple[str, str], float] = {}
    for pair, fid in machine.move_fidelity.items():
        move_two[pair] = depol(fid, 2)
    return NoiseModel(
        prx={q: depol(f, 1) for q, f in cal.prx_fidelity.items()},
        two_qubit=two,
        readout=dict(machine.readout_errors),
        t1=dict(cal.t1),
        t2=dict(cal.t2),
        move=move_two,
    )


_SOURCE_FIELDS = {
    "prx": ("prx",),
    "cz": ("two_qubit",),
    "move": ("move",),
    "readout": ("readout",),
    "idle": ("t1", "t2"),
}


@cache
def noise_model_without(machine: Machine, sources: tuple[str, ...]) -> NoiseModel:
    """``machine``'s noise model with the named sources (``prx``, ``cz``, ``move``,
    ``readout``, ``idle``) switched off; one object per combination, so circuits that ask
    for the same one still run together."""
    if not sources:
        return noise_model(machine)
    empty = {field: {} for source in sources for field in _SOURCE_FIELDS[source]}
    return dataclasses.replace(noise_model(machine), **empty)


def _locus_name(locus: tuple[str, ...]) -> str:
    return "__".join(locus)


def _observations(machine: Machine, kind: str) -> list[dict[str, Any]]:
    device = machine.device
    cal = machine.calibration
    fields: list[tuple[str, float, str]] = []
    if kind == "calibration-set":
        for q in device.qubits:
            fields.append((f"controllers.{q}.drive.frequency", machine.frequency[q], "Hz"))
        durations = {"prx": PRX_DURATION, "cz": CZ_DURATION, "move": MOVE_DURATION,
                     "measure": MEASURE_DURATION, "cc_prx": PRX_DURATION}  # fmt: skip
        for gate, spec in device.gates.items():
            for impl, loci in spec.implementations.items():
                for locus in loci:
                    fields.append(
                        (f"gates.{gate}.{impl}.{_locus_name(locus)}.duration",
                         durations.get(gate, PRX_DURATION), "s")
                    )  # fmt: skip
    else:
        for q in device.qubits:
            fields.append((f"characterization.model.{q}.t1_time", cal.t1[q], "s"))
            fields.append((f"characterization.model.{q}.t2_time", cal.t2[q], "s"))
            fields.append((f"metrics.rb.prx.drag_gaussian.{q}.fidelity", cal.prx_fidelity[q], ""))
            e01, e10 = machine.readout_errors[q]
            fields.append((f"metrics.ssro.measure.constant.{q}.error_0_to_1", e01, ""))
            fields.append((f"metrics.ssro.measure.constant.{q}.error_1_to_0", e10, ""))
            fields.append(
                (f"metrics.ssro.measure.constant.{q}.fidelity", 1.0 - (e01 + e10) / 2, "")
            )
        cz = device.gates.get("cz")
        if cz is not None:
            for locus in cz.loci:
                fid = cal.cz_fidelity[tuple(sorted(locus))]  # type: ignore[index]
                fields.append((f"metrics.irb.cz.tgss.{_locus_name(locus)}.fidelity", fid, ""))
        move = device.gates.get("move")
        if move is not None:
            for locus in move.loci:
                fid = machine.move_fidelity[locus]  # type: ignore[index]
                fields.append((f"metrics.irb.move.tgss_crf.{_locus_name(locus)}.fidelity", fid, ""))
    base = 1 if kind == "calibration-set" else 100_000
    return [
        {
            "observation_id": base + i,
            "dut_label": machine.dut_label,
            "dut_field": name,
            "value": value,
            "unit": unit,
            "uncertainty": None,
            "invalid": False,
            "source": {"type": "specification_source"},
            "tags": [],
            "created_timestamp": _CREATED,
            "modified_timestamp": _CREATED,
            "observation_set_ids": [],
        }
        for i, (name, value, unit) in enumerate(sorted(fields))
    ]


@cache
def calibration_set(machine: Machine) -> dict[str, Any]:
    """The calibration set (E10): drive frequencies and gate durations."""
    return {
        "observation_set_id": machine.calibration_set_id,
        "observation_set_type": "calibration-set",
        "describes_id": None,
        "invalid": False,
        "dut_label": machine.dut_label,
        "created_timestamp": _CREATED,
        "end_timestamp": _ENDED,
        "observations": _observations(machine, "calibration-set"),
    }


@cache
def quality_metric_set(machine: Machine) -> dict[str, Any]:
    """The quality metric set (E11): T1, T2 and gate/readout fidelities."""
    return {
        "observation_set_id": machine.metrics_set_id,
        "observation_set_type": "quality-metric-set",
        "describes_id": machine.calibration_set_id,
        "invalid": False,
        "dut_label": machine.dut_label,
        "created_timestamp": _CREATED,
        "end_timestamp": _ENDED,
        "observations": _observations(machine, "quality-metric-set"),
    }

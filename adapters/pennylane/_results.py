"""Bit arrays from the server -> PennyLane results (per measurement, per shot-vector bin)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pennylane.exceptions import DeviceError
from pennylane.measurements import (
    CountsMP,
    ExpectationMP,
    ProbabilityMP,
    SampleMP,
    VarianceMP,
)
from pennylane.tape import QuantumScript
from pennylane.transforms.dynamic_one_shot import gather_mcm

from iqm_bridge.adapters.pennylane._mcm import pauli_letters
from iqm_bridge.adapters.pennylane._translate import MCM_REGISTER, RESULT_REGISTER, Translation
from iqm_bridge.core.keys import MeasurementBits

__all__ = ["NotComputed", "tape_results"]


class NotComputed:
    """Stands for a Jacobian that was not computed because no backward pass was recorded."""

    def _fail(self, *_: Any, **__: Any) -> Any:
        raise DeviceError(
            "this Jacobian was not computed: the forward pass ran outside a gradient "
            "computation; differentiate the QNode (qml.grad, loss.backward()) to get it"
        )

    __array__ = _fail
    __getitem__ = _fail
    __len__ = _fail
    __iter__ = _fail
    __mul__ = __rmul__ = __add__ = __radd__ = _fail


def _empty(mp: Any) -> Any:
    """A measurement's result when postselection kept no shot (as PennyLane reports it)."""
    if isinstance(mp, SampleMP):
        return np.empty((0,) if mp.obs is not None or len(mp.wires) == 1 else (0, len(mp.wires)))
    if isinstance(mp, CountsMP):
        return {}
    if isinstance(mp, ProbabilityMP):
        return np.full(2 ** len(mp.wires), np.nan)
    return np.nan


def _pauli_values(obs: Any, samples: np.ndarray[Any, Any], tr: Translation) -> Any:
    """Per-shot eigenvalues of a sum of commuting Pauli words, from parities (vectorised)."""
    if obs is None or pauli_letters(obs) is None:
        return None
    column = {w: i for i, w in enumerate(tr.measured)}
    values = np.zeros(len(samples))
    for word, coeff in obs.pauli_rep.items():
        c = float(np.real(coeff))
        if not len(word):
            values += c
            continue
        cols = [column[w] for w in word]
        parity = samples[:, cols].sum(axis=1) & 1
        values += c * (1 - 2 * parity)
    return values


def _bin_result(
    tape: QuantumScript,
    tr: Translation,
    samples: np.ndarray[Any, Any],
    mcm_bits: np.ndarray[Any, Any] | None,
    valid: np.ndarray[Any, Any] | None,
    postselect_mode: str | None,
) -> Any:
    out = []
    kept = samples if valid is None else samples[valid]
    for mp in tape.measurements:
        if getattr(mp, "mv", None) is not None:
            assert mcm_bits is not None
            mcm_map = {m: mcm_bits[:, k : k + 1] for k, m in enumerate(tr.mcms)}
            is_valid = np.ones(len(mcm_bits), dtype=bool) if valid is None else valid
            if not is_valid.any():
                out.append(_empty(mp))
                continue
            out.append(gather_mcm(mp, mcm_map, is_valid, postselect_mode=postselect_mode))
        elif len(kept) == 0:
            out.append(_empty(mp))
        elif (
            isinstance(mp, ExpectationMP | VarianceMP)
            and (values := _pauli_values(mp.obs, kept, tr)) is not None
        ):
            out.append(np.float64(values.mean() if isinstance(mp, ExpectationMP) else values.var()))
        else:
            out.append(mp.process_samples(kept, wire_order=tr.measured))
    return out[0] if len(out) == 1 else tuple(out)


def tape_results(
    tape: QuantumScript, tr: Translation, bits: MeasurementBits, postselect_mode: str | None
) -> Any:
    """The tape's result in PennyLane's shape: per bin of a shot vector, per measurement.

    The job ran with the most shots of its batch; a tape asking for fewer uses the first ones.
    """
    total = tape.shots.total_shots
    samples = bits.register(RESULT_REGISTER)[:total].astype(np.int64)
    mcm_bits = None
    valid = None
    if tr.mcms:
        mcm_bits = bits.register(MCM_REGISTER)[:total].astype(np.int64)
        for k, m in enumerate(tr.mcms):
            if m.postselect is not None:
                hit = mcm_bits[:, k] == int(m.postselect)
                valid = hit if valid is None else valid & hit
    results = []
    for lower, upper in tape.shots.bins():
        results.append(
            _bin_result(
                tape,
                tr,
                samples[lower:upper],
                None if mcm_bits is None else mcm_bits[lower:upper],
                None if valid is None else valid[lower:upper],
                postselect_mode,
            )
        )
    if tape.shots.has_partitioned_shots:
        return tuple(results)
    return results[0]

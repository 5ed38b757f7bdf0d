"""IQM's Qiskit primitives: ``SamplerV2`` and ``EstimatorV2`` with readout mitigation.

Qiskit's generic ``BackendSamplerV2`` / ``BackendEstimatorV2`` work on an :class:`IQMBackend`
too. These differ in two ways: every pub of a ``run`` call, at every parameter point (and for
the estimator, every qubit-wise-commuting group of Pauli terms), goes out as ONE job through the
core's door, each pub with its own shots; and with ``options={"mitigation": "readout"}`` the
estimator's values (and the sampler's ``quasi_dists`` metadata) are readout-mitigated, with
standard errors from the core's estimators (``iqm_bridge.core.mitigation``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.primitives import (
    BaseEstimatorV2,
    BaseSamplerV2,
    DataBin,
    PrimitiveResult,
    PubResult,
    SamplerPubResult,
)
from qiskit.primitives.containers import BitArray
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.primitives.primitive_job import PrimitiveJob

from iqm_bridge.core import (
    Executor,
    PauliTerm,
    Program,
    estimate_sum,
    group_qubit_wise,
    measure_in_basis,
    quasi_distribution,
)

if TYPE_CHECKING:
    from iqm_bridge.adapters.qiskit._backend import IQMBackend

__all__ = ["EstimatorV2", "SamplerV2"]


def _options(given: Mapping[str, Any] | None, defaults: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(given or {}) - set(defaults))
    if unknown:
        from iqm_bridge.core import UnknownOptionError

        raise UnknownOptionError(
            f"unknown primitive option(s) {unknown}; valid options are: {', '.join(defaults)}"
        )
    return {**defaults, **(given or {})}


def _run_all(backend: IQMBackend, jobs: list[tuple[QuantumCircuit, int]], mitigation: Any) -> Any:
    """Run (circuit, shots) pairs as one job through the door; results in order."""
    names = backend.physical_qubits
    programs = [
        Program(p.circuit, p.keymap, placement=p.placement, shots=shots, info=p.info)
        for p, shots in ((backend._program(c, names), s) for c, s in jobs)
    ]
    executor = Executor(backend.connection, mitigation=mitigation)
    return [group[0] for group in executor.submit(programs).result()]


def _clbit_table(result: Any) -> np.ndarray[Any, Any]:
    clbits = result.info.get("clbits")
    table = result.bits.memory()
    return table if clbits is None else table[:, list(clbits)]


def _clbit_errors(result: Any) -> Any:
    """The result's readout errors in clbit order.

    Raises:
        MitigationError: the run was mitigated but a classical bit was never measured.
    """
    errs = result.readout
    if errs is None:
        from iqm_bridge.core import MitigationError

        raise MitigationError(
            f"circuit {result.name!r} has classical bits no measurement writes; they cannot be "
            "readout-mitigated"
        )
    clbits = result.info.get("clbits")
    return errs if clbits is None else errs.subset([errs.qubits[c] for c in clbits])


class SamplerV2(BaseSamplerV2):  # type: ignore[misc]
    """Qiskit's ``SamplerV2`` for IQM backends: all pubs in one job.

    Args:
        backend: the :class:`IQMBackend`.
        options: ``default_shots`` (1024) and ``mitigation`` (``None``, ``"readout"``,
            ``"calibration"``, ``"circuits"``); with mitigation each pub result's metadata has
            ``quasi_dists``: per parameter point, the mitigated quasi-probabilities of the
            outcomes of all classical bits (key: their integer, clbit 0 least significant).
    """

    def __init__(self, backend: IQMBackend, *, options: Mapping[str, Any] | None = None) -> None:
        self._backend = backend
        self.options = _options(options, {"default_shots": 1024, "mitigation": None})

    @property
    def backend(self) -> IQMBackend:
        """The backend the primitive runs on."""
        return self._backend

    def run(self, pubs: Iterable[Any], *, shots: int | None = None) -> PrimitiveJob:
        """Sample every pub; one job for the whole call."""
        coerced = [SamplerPub.coerce(p, shots or self.options["default_shots"]) for p in pubs]
        job = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs: list[SamplerPub]) -> PrimitiveResult:
        jobs, shapes = [], []
        for pub in pubs:
            bound = pub.parameter_values.bind_all(pub.circuit)
            shapes.append(bound.shape)
            jobs += [(c, pub.shots) for c in bound.reshape(-1)]
        results = _run_all(self._backend, jobs, self.options["mitigation"])
        out, pos = [], 0
        for pub, shape in zip(pubs, shapes, strict=True):
            size = int(np.prod(shape, dtype=int))
            mine, pos = results[pos : pos + size], pos + size
            tables = [_clbit_table(r) for r in mine]
            arrays, start = {}, 0
            for creg in pub.circuit.cregs:
                cols = [pub.circuit.find_bit(b).index for b in creg]
                stacked = np.stack([t[:, cols] for t in tables]).reshape(*shape, -1, len(cols))
                arrays[creg.name] = BitArray.from_bool_array(stacked.astype(bool), order="little")
                start += len(cols)
            meta: dict[str, Any] = {"shots": pub.shots, "circuit_metadata": pub.circuit.metadata}
            if self.options["mitigation"] is not None:
                meta["quasi_dists"] = [
                    {
                        int(s, 2): float(v)
                        for s, v in quasi_distribution(t, _clbit_errors(r)).as_dict().items()
                    }
                    for t, r in zip(tables, mine, strict=True)
                ]
            out.append(SamplerPubResult(DataBin(**arrays, shape=shape), metadata=meta))
        return PrimitiveResult(out, metadata={"version": 2})


class EstimatorV2(BaseEstimatorV2):  # type: ignore[misc]
    """Qiskit's ``EstimatorV2`` for IQM backends: all pubs, points and measurement bases in one
    job; readout-mitigated expectation values with ``options={"mitigation": "readout"}``.

    Each pub's Pauli terms are measured in qubit-wise-commuting groups; a pub of precision
    ``p`` runs ``ceil(1 / p**2)`` shots. ``stds`` are the standard errors of the estimates
    (covariance between the terms of one group included, groups independent).

    Args:
        backend: the :class:`IQMBackend`.
        options: ``default_precision`` (0.015625) and ``mitigation`` (``None``,
            ``"readout"``, ``"calibration"``, ``"circuits"``).
    """

    def __init__(self, backend: IQMBackend, *, options: Mapping[str, Any] | None = None) -> None:
        self._backend = backend
        self.options = _options(options, {"default_precision": 0.015625, "mitigation": None})

    @property
    def backend(self) -> IQMBackend:
        """The backend the primitive runs on."""
        return self._backend

    def run(self, pubs: Iterable[Any], *, precision: float | None = None) -> PrimitiveJob:
        """Estimate every pub; one job for the whole call."""
        p = precision or self.options["default_precision"]
        coerced = [EstimatorPub.coerce(pub, p) for pub in pubs]
        job = PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs: list[EstimatorPub]) -> PrimitiveResult:
        names = self._backend.physical_qubits
        plans, programs = [], []
        for pub in pubs:
            shots = math.ceil(1.0 / pub.precision**2)
            bound = pub.parameter_values.bind_all(pub.circuit)
            labels = {t for i in np.ndindex(pub.observables.shape) for t in pub.observables[i]}
            groups = group_qubit_wise([_term(label, 1.0, names) for label in sorted(labels)])
            start = len(programs)
            for circuit in bound.reshape(-1):
                base = self._backend._program(
                    circuit.remove_final_measurements(inplace=False), names
                )
                programs += [attrs.evolve(measure_in_basis(base, g), shots=shots) for g in groups]
            plans.append((pub, bound.shape, groups, start, shots))
        mitigated = self.options["mitigation"] is not None
        executor = Executor(self._backend.connection, mitigation=self.options["mitigation"])
        results = [group[0] for group in executor.submit(programs).result()]
        out = []
        for pub, shape, groups, start, shots in plans:
            full = np.broadcast_shapes(shape, pub.observables.shape)
            evs, stds = np.zeros(full), np.zeros(full)
            obs_dims = len(pub.observables.shape)
            for index in np.ndindex(full):
                point = np.ravel_multi_index(index[len(full) - len(shape) :], shape) if shape else 0
                obs = pub.observables[index[len(full) - obs_dims :]]
                terms = [_term(label, float(np.real(c)), names) for label, c in obs.items()]
                value = sum(t.coefficient for t in terms if not t.paulis)
                var = 0.0
                for g, basis in enumerate(groups):
                    res = results[start + point * len(groups) + g]
                    est = estimate_sum(res, basis, terms, mitigated=mitigated)
                    value, var = value + est.value, var + est.stderr**2
                evs[index], stds[index] = value, math.sqrt(var)
            meta = {"target_precision": pub.precision, "shots": shots, "mitigated": mitigated}
            out.append(PubResult(DataBin(evs=evs, stds=stds, shape=full), metadata=meta))
        return PrimitiveResult(out, metadata={"version": 2})


def _term(label: str, coefficient: float, names: Sequence[str]) -> PauliTerm:
    """A qiskit Pauli label (qubit 0 rightmost) as a core term on the device's qubit names."""
    return PauliTerm(coefficient, {names[q]: p for q, p in enumerate(reversed(label)) if p != "I"})

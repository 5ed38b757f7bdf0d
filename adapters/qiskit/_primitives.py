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
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from qiskit.circuit import ClassicalRegister, QuantumCircuit
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
from qiskit.quantum_info import PauliList

from iqm_bridge.core import Executor, Program, quasi_distribution
from iqm_bridge.core.mitigation import weighted_sum

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
        plans, jobs = [], []
        for pub in pubs:
            shots = math.ceil(1.0 / pub.precision**2)
            bound = pub.parameter_values.bind_all(pub.circuit)
            terms = sorted(
                {t for i in np.ndindex(pub.observables.shape) for t in pub.observables[i]}
            )
            groups = PauliList([t for t in terms if set(t) != {"I"}]).group_qubit_wise_commuting()
            start = len(jobs)
            for circuit in bound.reshape(-1):
                bare = circuit.remove_final_measurements(inplace=False)
                jobs += [(_measured(bare, group), shots) for group in groups]
            plans.append((pub, bound.shape, groups, start, shots))
        results = _run_all(self._backend, jobs, self.options["mitigation"])
        mitigated = self.options["mitigation"] is not None
        out = []
        for pub, shape, groups, start, shots in plans:
            full = np.broadcast_shapes(shape, pub.observables.shape)
            evs, stds = np.zeros(full), np.zeros(full)
            for index in np.ndindex(full):
                point = np.ravel_multi_index(index[-len(shape) :], shape) if shape else 0
                obs = pub.observables[
                    index[-len(pub.observables.shape) :] if pub.observables.shape else ()
                ]
                value, var = float(np.real(obs.get("I" * pub.circuit.num_qubits, 0.0))), 0.0
                for g, group in enumerate(groups):
                    res = results[start + point * len(groups) + g]
                    table = _clbit_table(res)
                    first = table.shape[1] - len(_active(group))  # the "obs" register is last
                    active = _active(group)
                    terms = [
                        (
                            float(np.real(obs[label])),
                            [first + active.index(q) for q in _support(label)],
                        )
                        for label in (p.to_label() for p in group)
                        if label in obs
                    ]
                    if terms:
                        errors = _clbit_errors(res) if mitigated else None
                        est = weighted_sum(table, terms, errors)
                        value += est.value
                        var += est.stderr**2
                evs[index], stds[index] = value, math.sqrt(var)
            meta = {"target_precision": pub.precision, "shots": shots, "mitigated": mitigated}
            out.append(PubResult(DataBin(evs=evs, stds=stds, shape=full), metadata=meta))
        return PrimitiveResult(out, metadata={"version": 2})


def _support(label: str) -> list[int]:
    """The qubits a Pauli label acts on (qiskit labels: qubit 0 rightmost)."""
    return [q for q, c in enumerate(reversed(label)) if c != "I"]


def _active(group: PauliList) -> list[int]:
    return sorted({q for p in group for q in _support(p.to_label())})


def _measured(circuit: QuantumCircuit, group: PauliList) -> QuantumCircuit:
    """``circuit`` with the basis changes of a qubit-wise-commuting group and a measurement of
    its qubits (in increasing order) into a new register."""
    basis: dict[int, str] = {}
    for p in group:
        for q in _support(p.to_label()):
            basis[q] = p.to_label()[::-1][q]
    active = sorted(basis)
    out = circuit.copy()
    creg = ClassicalRegister(len(active), "obs")
    out.add_register(creg)
    for q in active:
        if basis[q] == "X":
            out.h(q)
        elif basis[q] == "Y":
            out.sdg(q)
            out.h(q)
    out.measure(active, creg)
    return out

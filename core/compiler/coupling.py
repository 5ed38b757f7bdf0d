"""The coupling map: a square-lattice device's qubits as placement and routing see them.

Qubits joined by a calibrated ``cz``, the all-pairs distances and, when the device serves
calibration data, an error cost per qubit and per coupler (``-log`` of the fidelity).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs
import rustworkx as rx

from iqm_bridge.core.device import Device

__all__ = ["CouplingMap", "coupling_map"]

_DEFAULT_CZ_ERROR = 0.01
_DEFAULT_1Q_ERROR = 0.001
_DEFAULT_READOUT_ERROR = 0.02


@attrs.frozen(slots=True, eq=False)
class CouplingMap:
    """The qubits of a square-lattice device as the router sees them.

    Attributes:
        qubits: physical qubit names; index ``i`` in the other fields refers to ``qubits[i]``.
        neighbors: for each qubit, the qubits it shares a ``cz`` with.
        dist: all-pairs shortest-path distances (``len(qubits)`` when disconnected).
        edge_cost: ``(i, j)`` (both orders) -> ``-log`` of the CZ fidelity.
        qubit_cost: per qubit, ``-log`` of its single-qubit and readout fidelities.
        graph: the undirected rustworkx graph (node index = qubit index).
    """

    qubits: tuple[str, ...]
    neighbors: tuple[tuple[int, ...], ...]
    dist: tuple[tuple[int, ...], ...]
    edge_cost: Mapping[tuple[int, int], float]
    qubit_cost: tuple[float, ...]
    graph: rx.PyGraph

    @property
    def index(self) -> dict[str, int]:
        """Qubit name -> index."""
        return {q: i for i, q in enumerate(self.qubits)}


def _neglog(fid: float | None, default_err: float) -> float:
    if fid is None or not 0.0 < fid <= 1.0:
        return -math.log1p(-default_err)
    return -math.log(max(fid, 1e-9))


def _device_key(device: Device) -> tuple[object, ...]:
    return (device.name, device.qubits, device.coupling_edges, id(device.calibration))


_CACHE: dict[tuple[object, ...], CouplingMap] = {}


def coupling_map(device: Device) -> CouplingMap:
    """The coupling map of a device's qubits (cached per device layout and calibration).

    Only qubits with a calibrated ``prx`` (when the device lists ``prx`` at all) are used;
    resonators are left out (MOVE routing handles them).
    """
    key = _device_key(device)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    prx = device.loci("prx")
    qubits = tuple(q for q in device.qubits if not prx or (q,) in prx)
    index = {q: i for i, q in enumerate(qubits)}
    graph = rx.PyGraph()
    graph.add_nodes_from(range(len(qubits)))
    neighbors: list[set[int]] = [set() for _ in qubits]
    cal = device.calibration
    edge_cost: dict[tuple[int, int], float] = {}
    for locus in device.loci("cz"):
        if len(locus) != 2 or locus[0] not in index or locus[1] not in index:
            continue
        a, b = index[locus[0]], index[locus[1]]
        if b in neighbors[a]:
            continue
        neighbors[a].add(b)
        neighbors[b].add(a)
        graph.add_edge(a, b, None)
        fid = None
        if cal is not None:
            fid = cal.cz_fidelity.get(
                (locus[0], locus[1]), cal.cz_fidelity.get((locus[1], locus[0]))
            )
        cost = _neglog(fid, _DEFAULT_CZ_ERROR)
        edge_cost[(a, b)] = edge_cost[(b, a)] = cost
    qubit_cost = []
    for q in qubits:
        prx_f = cal.prx_fidelity.get(q) if cal is not None else None
        ro_f = cal.readout_fidelity.get(q) if cal is not None else None
        qubit_cost.append(_neglog(prx_f, _DEFAULT_1Q_ERROR) + _neglog(ro_f, _DEFAULT_READOUT_ERROR))
    n = len(qubits)
    dist: tuple[tuple[int, ...], ...] = ()
    if n:
        raw = rx.distance_matrix(graph, null_value=float(n))
        dist = tuple(tuple(int(x) for x in row) for row in raw.tolist())
    cmap = CouplingMap(
        qubits=qubits,
        neighbors=tuple(tuple(sorted(s)) for s in neighbors),
        dist=dist,
        edge_cost=edge_cost,
        qubit_cost=tuple(qubit_cost),
        graph=graph,
    )
    if len(_CACHE) > 32:
        _CACHE.clear()
    _CACHE[key] = cmap
    return cmap

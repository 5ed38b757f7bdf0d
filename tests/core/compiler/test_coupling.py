"""The coupling map: qubits, couplers, distances and error costs from the device."""

from __future__ import annotations

import math

from _devices import lattice_device

from iqm_bridge.core.compiler.coupling import coupling_map


def test_distances_neighbours_and_costs_follow_the_device() -> None:
    device = lattice_device()
    cmap = coupling_map(device)
    idx = cmap.index
    assert cmap.qubits == device.qubits
    for a, b in device.coupling_edges:
        assert idx[b] in cmap.neighbors[idx[a]] and cmap.dist[idx[a]][idx[b]] == 1
        cz = device.calibration.cz_fidelity
        fid = cz.get((a, b), cz.get((b, a)))
        assert math.isclose(cmap.edge_cost[(idx[a], idx[b])], -math.log(fid))
    # QB1 and QB20 are at opposite corners of the 20-qubit lattice
    assert cmap.dist[idx["QB1"]][idx["QB20"]] > 4
    assert coupling_map(device) is cmap  # cached per device


def test_an_uncalibrated_device_gets_default_costs() -> None:
    cmap = coupling_map(lattice_device(calibrated=False))
    assert len(set(cmap.edge_cost.values())) == 1 and len(set(cmap.qubit_cost)) == 1

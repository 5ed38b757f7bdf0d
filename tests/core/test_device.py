"""The device model: natives on loci, and the calibration figures read from a server."""

from __future__ import annotations

import pytest

from iqm_bridge.core import Calibration

OBSERVATIONS = [
    {"dut_field": "characterization.model.QB1.t1_time", "value": 5e-5},
    {"dut_field": "characterization.model.QB1.t2_time", "value": 3e-5},
    {"dut_field": "metrics.rb.prx.drag_gaussian.QB1.fidelity", "value": 0.999},
    {"dut_field": "metrics.irb.cz.tgss.QB2__QB1.fidelity", "value": 0.99},
    {"dut_field": "metrics.irb.move.tgss_crf.QB1__CR1.fidelity", "value": 0.98},
    {"dut_field": "metrics.ssro.measure.constant.QB1.fidelity", "value": 0.97},
    {"dut_field": "metrics.ssro.measure.constant.QB1.error_0_to_1", "value": 0.01},
    {"dut_field": "metrics.ssro.measure.constant.QB1.error_1_to_0", "value": 0.05},
    {"dut_field": "gates.cz.tgss.QB1__QB2.duration", "value": 4e-8},
    {"dut_field": "gates.cz.tgss.QB2__QB3.duration", "value": 6e-8},
    {"dut_field": "gates.prx.drag_gaussian.QB1.duration", "value": 2e-8},
    {"dut_field": "controllers.QB1.drive.frequency", "value": 4.5e9},
    {"dut_field": "metrics.rb.prx.drag_gaussian.QB2.fidelity", "value": 0.5, "invalid": True},
    {"dut_field": "not.a.known.field", "value": 1.0},
    {"dut_field": "metrics.rb.prx.drag_gaussian.QB3.fidelity", "value": "n/a"},
]


def test_quality_metrics_and_calibration_set_are_read() -> None:
    cal = Calibration.from_quality_metrics(OBSERVATIONS)
    assert cal.t1 == {"QB1": 5e-5} and cal.t2 == {"QB1": 3e-5}
    assert cal.prx_fidelity == {"QB1": 0.999}  # QB2's invalid and QB3's unreadable are skipped
    assert cal.cz_fidelity == {("QB1", "QB2"): 0.99}  # sorted pair
    assert cal.move_fidelity == {("QB1", "CR1"): 0.98}
    assert cal.readout_fidelity == {"QB1": 0.97}
    assert (cal.readout_error_0_to_1, cal.readout_error_1_to_0) == ({"QB1": 0.01}, {"QB1": 0.05})
    assert cal.frequency == {"QB1": 4.5e9}
    assert not cal.empty and Calibration().empty


def test_durations_by_locus_either_order_or_median() -> None:
    cal = Calibration.from_quality_metrics(OBSERVATIONS)
    assert cal.duration("cz", ("QB2", "QB1")) == pytest.approx(4e-8)
    assert cal.duration("cz", ("QB9", "QB8")) == pytest.approx(6e-8)  # the median of 4 and 6
    assert cal.duration("prx") == pytest.approx(2e-8)
    assert cal.duration("move") is None


def test_spanning_tree_reaches_every_qubit_once_over_real_couplers() -> None:
    from _devices import GARNET_EDGES, lattice_device

    from iqm_bridge.core.compiler.coupling import coupling_map

    device = lattice_device()
    order, tree = device.spanning_tree("QB5")
    assert order[0] == "QB5" and sorted(order) == sorted(device.qubits)
    assert len(tree) == len(order) - 1
    couplers = {frozenset((f"QB{a}", f"QB{b}")) for a, b in GARNET_EDGES}
    reached = {"QB5"}
    for parent, child in tree:  # each edge is a coupler, from a reached qubit to a new one
        assert frozenset((parent, child)) in couplers
        assert parent in reached and child not in reached
        reached.add(child)
    # breadth first: a qubit's depth in the tree is its coupling distance from the root
    depth = {"QB5": 0}
    for parent, child in tree:
        depth[child] = depth[parent] + 1
    assert depth["QB1"] == 2 and depth["QB20"] == 4  # QB5-QB4-QB1; QB5-QB10-QB15-QB16-QB20
    cmap = coupling_map(device)
    root = cmap.index["QB5"]
    assert all(depth[q] == cmap.dist[root][cmap.index[q]] for q in device.qubits)
    with pytest.raises(ValueError, match="QB99"):
        device.spanning_tree("QB99")

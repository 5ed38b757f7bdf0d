"""The pictures: device layouts recovered from coupling graphs, plots, and the docs hook."""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import pytest

from iqm_bridge.core.device import Calibration, Device, GateSpec
from iqm_bridge.core.errors import ConfigurationError, MissingDependencyError
from iqm_bridge.visualization import METRICS, device_layout, plot_device, plot_histogram

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

catalogue = importlib.import_module("iqm_bridge.emulator._machines")


@pytest.fixture(autouse=True)
def _close_figures() -> None:
    yield
    plt.close("all")


def lattice_device(edges: list[tuple[str, str]], name: str = "custom") -> Device:
    qubits = tuple(sorted({q for e in edges for q in e}, key=lambda q: int(q[2:])))
    gates = {
        "prx": GateSpec({"drag": tuple((q,) for q in qubits)}, "drag"),
        "cz": GateSpec({"tgss": tuple(edges)}, "tgss"),
    }
    return Device(name=name, qubits=qubits, resonators=(), gates=gates)


@pytest.mark.parametrize("name", ["garnet", "emerald", "adonis"])
def test_lattices_are_drawn_on_their_grid(name: str) -> None:
    device = catalogue.get_machine(name).device
    pos = device_layout(device)
    assert set(pos) == set(device.qubits)
    assert len(set(pos.values())) == len(pos), "two qubits share a position"
    for a, b in device.coupling_edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        assert abs(xa - xb) + abs(ya - yb) == pytest.approx(1.0), (a, b)
    assert all(float(x).is_integer() and float(y).is_integer() for x, y in pos.values())


def test_garnet_reads_in_qubit_order() -> None:
    pos = device_layout(catalogue.get_machine("garnet").device)
    rows: dict[float, list[str]] = {}
    for q, (_, y) in pos.items():
        rows.setdefault(y, []).append(q)
    top_down = [sorted(rows[y], key=lambda q: pos[q][0]) for y in sorted(rows, reverse=True)]
    numbers = [[int(q[2:]) for q in row] for row in top_down]
    assert numbers == [[1, 2], [3, 4, 5, 6, 7], [8, 9, 10, 11, 12], [13, 14, 15, 16, 17],
                       [18, 19, 20]]  # fmt: skip


def test_emerald_rows_come_back() -> None:
    pos = device_layout(catalogue.get_machine("emerald").device)
    row_lengths = {}
    for _, y in pos.values():
        row_lengths[y] = row_lengths.get(y, 0) + 1
    assert [row_lengths[y] for y in sorted(row_lengths, reverse=True)] == [3, 5, 7, 9, 9, 9, 7, 5]


def test_star_machines_put_the_resonator_in_the_centre() -> None:
    device = catalogue.get_machine("deneb").device
    pos = device_layout(device)
    assert pos["CR1"] == (0.0, 0.0)
    for q in device.qubits:
        assert math.hypot(*pos[q]) == pytest.approx(1.0)
    angles = sorted(math.atan2(pos[q][1], pos[q][0]) for q in device.qubits)
    gaps = [b - a for a, b in zip(angles, angles[1:], strict=False)]
    assert gaps == pytest.approx([2 * math.pi / 6] * 5)


def test_a_graph_that_is_no_lattice_falls_back_to_rings() -> None:
    triangle = lattice_device([("QB1", "QB2"), ("QB2", "QB3"), ("QB1", "QB3"), ("QB3", "QB4")])
    pos = device_layout(triangle)
    assert set(pos) == {"QB1", "QB2", "QB3", "QB4"}
    assert len(set(pos.values())) == 4
    assert pos["QB3"] == (0.0, 0.0)  # the best-connected qubit is the centre


def test_an_uncoupled_qubit_still_gets_a_place() -> None:
    edges = [("QB1", "QB2"), ("QB2", "QB3")]
    device = lattice_device(edges)
    gates = dict(device.gates)
    gates["prx"] = GateSpec({"drag": (("QB1",), ("QB2",), ("QB3",), ("QB9",))}, "drag")
    lonely = Device("lonely", ("QB1", "QB2", "QB3", "QB9"), (), gates)
    pos = device_layout(lonely)
    assert len(set(pos.values())) == 4


@pytest.mark.parametrize("metric", [*METRICS, None])
def test_plot_device_colours_by_each_metric(metric: str | None) -> None:
    device = catalogue.get_machine("garnet").device
    ax = plot_device(device, metric)
    assert ax.get_title().startswith("garnet")
    colourbars = [a for a in ax.figure.axes if a is not ax]
    assert len(colourbars) == (0 if metric is None else 1)
    if metric is not None:
        assert METRICS[metric][1] in ax.get_title()
        assert colourbars[0].get_ylabel() == METRICS[metric][1]
        low, high = colourbars[0].get_ylim()
        values = list(getattr(device.calibration, metric).values())
        scale = 1e6 if metric in {"t1", "t2"} else 1.0
        assert low == pytest.approx(min(values) * scale)
        assert high == pytest.approx(max(values) * scale)
    labels = {t.get_text() for t in ax.texts}
    assert set(device.qubits) <= labels


def test_plot_device_draws_into_given_axes_and_marks_missing_calibration() -> None:
    device = catalogue.get_machine("deneb").device
    bare = Device(device.name, device.qubits, device.resonators, device.gates)
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_device(device, "cz_fidelity", ax=left) is left
    assert plot_device(bare, "t1", ax=right) is right
    assert "no calibration data" in right.get_title()
    assert "CR1" in {t.get_text() for t in left.texts}


def test_plot_device_refuses_an_unknown_metric() -> None:
    device = catalogue.get_machine("adonis").device
    with pytest.raises(ConfigurationError, match="unknown calibration metric 'fidelity'"):
        plot_device(device, "fidelity")


def test_partial_calibration_draws_unknowns_grey() -> None:
    device = lattice_device([("QB1", "QB2"), ("QB2", "QB3")])
    partial = Device(
        device.name, device.qubits, (), device.gates, calibration=Calibration(t1={"QB1": 3e-5})
    )
    ax = plot_device(partial, "t1")
    assert "no calibration data" not in ax.get_title()


def test_plot_histogram_sorts_and_groups_the_rest() -> None:
    counts = {"11": 500, "00": 480, "01": 12, "10": 8}
    ax = plot_histogram(counts)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["00", "01", "10", "11"]
    assert [p.get_height() for p in ax.patches] == [480, 12, 8, 500]
    assert ax.get_title() == "1000 shots"

    top = plot_histogram(counts, top=2, title="two")
    assert [t.get_text() for t in top.get_xticklabels()] == ["00", "11", "other"]
    assert [p.get_height() for p in top.patches] == [480, 500, 20]
    assert top.get_title() == "two"

    # cirq's histograms have integer keys
    ints = plot_histogram({0: 3, 3: 5})
    assert [t.get_text() for t in ints.get_xticklabels()] == ["0", "3"]
    with pytest.raises(ConfigurationError, match="top=0"):
        plot_histogram(counts, top=0)


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'iqm-bridge\[plot\]'"):
        plot_histogram({"0": 1})
    with pytest.raises(MissingDependencyError, match="matplotlib"):
        plot_device(catalogue.get_machine("adonis").device)


def test_the_docs_hook_draws_every_picture() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs"))
    try:
        hooks = importlib.import_module("_hooks")
    finally:
        sys.path.pop(0)
    pictures = hooks.device_pictures()
    assert set(pictures) == set(hooks.DEVICE_PICTURES)
    for data in pictures.values():
        assert data.startswith(b"\x89PNG")

"""Placement: layouts for circuits that almost fit, and the post-routing move onto good qubits."""

from __future__ import annotations

from _devices import assert_same_distribution, lattice_device

from iqm_bridge.core.compiler import compile
from iqm_bridge.core.compiler.coupling import coupling_map
from iqm_bridge.core.compiler.placement import perfect_layout, prefix_layouts, remap_for_success
from iqm_bridge.core.compiler.success import estimated_success
from iqm_bridge.core.compiler.validation import validate_native
from iqm_bridge.core.device import Calibration, Device
from iqm_bridge.core.ir import Circuit, Gate, Measure, relabel

LATTICE = lattice_device()
CMAP = coupling_map(LATTICE)


def _ghz(n: int) -> Circuit:
    names = [f"q{i}" for i in range(n)]
    ops = [Gate("h", (names[0],))] + [Gate("cx", (names[i], names[i + 1])) for i in range(n - 1)]
    return Circuit(tuple(names), (*ops, Measure(tuple(names), "m")))


def test_prefix_layout_fits_all_but_the_last_link_of_a_chain_too_long() -> None:
    """A 20-chain cannot lie on the 9 + 11 lattice; 19 links of it can, and the last pair
    ends two steps apart (one SWAP). Fails if the candidates are ranked by calibration alone
    (checked: the leftover pair then lands 4-6 steps apart)."""
    chain = [(i, i + 1) for i in range(19)]
    assert perfect_layout(20, chain, [0] * 20, CMAP) is None
    layouts = prefix_layouts(20, chain, [0] * 20, CMAP)
    assert layouts
    for layout in layouts:
        assert sorted(layout) == list(range(20))
        assert all(CMAP.dist[layout[a]][layout[b]] == 1 for a, b in chain[:18])
    assert CMAP.dist[layouts[0][18]][layouts[0][19]] == 2


def test_ghz20_on_the_lattice_needs_one_cz_beyond_its_chain() -> None:
    """19 CNOTs and one SWAP that becomes a single extra CZ (merged or through a qubit
    still in |0>). Was 35 CZ before prefix layouts and cheap SWAPs (checked)."""
    result = compile(_ghz(20), LATTICE)
    assert result.report.cz_count <= 21
    validate_native(result.circuit, LATTICE)


def test_ghz_on_a_smaller_chain_keeps_its_outcomes() -> None:
    circuit = _ghz(8)
    result = compile(circuit, LATTICE)
    assert result.report.cz_count == 7
    assert_same_distribution(circuit, result)


def _two_couplers_device() -> Device:
    """The lattice with CZ fidelity 0.99 everywhere and one qubit with a far better
    readout than the rest."""
    base = lattice_device(calibrated=False)
    cz = {tuple(locus): 0.99 for locus in base.loci("cz") if locus[0] < locus[1]}
    readout = {q: 0.90 for q in base.qubits}
    readout["QB10"] = 0.999
    cal = Calibration(
        prx_fidelity={q: 0.999 for q in base.qubits},
        cz_fidelity=cz,  # type: ignore[arg-type]
        readout_fidelity=readout,
    )
    return Device.from_architecture(base.to_architecture_dict(), name="lattice", calibration=cal)


def test_remap_moves_a_measured_qubit_onto_the_best_readout() -> None:
    """Only readout differs between qubits: the measured qubit must end on QB10. Fails if the
    post-layout ignores readout (checked: every embedding then scores the same)."""
    device = _two_couplers_device()
    cmap = coupling_map(device)
    circuit = Circuit(
        ("QB1", "QB2"),
        (
            Gate("prx", ("QB1",), (1.0, 0.0)),
            Gate("cz", ("QB1", "QB2")),
            Gate("prx", ("QB1",), (1.0, 0.0)),
            Measure(("QB1",), "m"),
        ),
    )
    mapping = remap_for_success(circuit, device, cmap)
    assert mapping is not None
    assert mapping["QB1"] == "QB10"
    moved = Circuit(
        tuple(mapping[q] for q in circuit.qubits),
        tuple(relabel(op, mapping) for op in circuit.operations),
    )
    validate_native(moved, device)
    assert estimated_success(moved, device) > estimated_success(circuit, device)
    # already where it is best: nothing to do
    assert remap_for_success(moved, device, cmap) is None


def test_compiled_circuit_ends_on_the_best_readout() -> None:
    device = _two_couplers_device()
    circuit = Circuit.from_operations(
        [Gate("h", ("a",)), Gate("cx", ("a", "b")), Gate("h", ("a",)), Measure(("a",), "m")]
    )
    result = compile(circuit, device)
    assert result.final_layout["a"] == "QB10"
    assert any(p.name == "post-layout" for p in result.report.passes)
    assert_same_distribution(circuit, result)


def test_a_given_layout_is_kept() -> None:
    device = _two_couplers_device()
    circuit = Circuit.from_operations(
        [Gate("h", ("a",)), Gate("cx", ("a", "b")), Measure(("a",), "m")]
    )
    result = compile(circuit, device, initial_layout={"a": "QB1", "b": "QB2"})
    assert result.initial_layout == {"a": "QB1", "b": "QB2"}

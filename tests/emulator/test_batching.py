"""Per-batch shortcuts against the slow paths they replace.

A batch of circuits of one structure is validated once (later circuits only have their
numbers checked), simulated as one stacked state array, and rendered to JSON as bytes; the
counts artifact is derived from the stored measurements text. Each shortcut is checked here
against the instruction-by-instruction validation, the branching simulator and the reference
renderers.
"""

from __future__ import annotations

import json
import math
import pathlib
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iqm_bridge.emulator._circuits import (
    Limits,
    RequestError,
    _native_model,
    _validate_circuit,
    parse_job,
)
from iqm_bridge.emulator._machines import get_machine
from iqm_bridge.emulator._results import (
    counts_from_measurements,
    counts_json,
    measurements_json,
)
from iqm_bridge.emulator._simulator import final_state, run_batch, run_circuit

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _emulator_helpers import cz, job_body, measure, move, prx  # noqa: E402

GARNET = get_machine("garnet")


def _sweep(points: list[tuple[float, float]], shots: int = 100) -> str:
    circuits = [
        [prx("QB1", a, b), prx("QB2", b, a), cz("QB1", "QB2"), prx("QB2", a, 0.3),
         {"name": "delay", "locus": ["QB1"], "args": {"duration": 1e-7}},
         {"name": "barrier", "locus": ["QB1", "QB2"], "args": {}},
         measure("m", "QB1", "QB2"), measure("n", "QB3")]
        for a, b in points
    ]  # fmt: skip
    return job_body(*circuits, shots=shots)


def _reference(body: str, machine: Any = GARNET) -> list[Any]:
    """Every circuit validated on its own, instruction by instruction (or its error)."""
    job = _native_model().model_validate_json(body)
    out: list[Any] = []
    for index, circuit in enumerate(job.circuits):
        try:
            native = _validate_circuit(circuit, index, machine, Limits(), None, "strict")[0]
            out.append((native.name, native.components, native.ops, native.keys))
        except RequestError as exc:
            return [exc.message]
    return out


def _parsed(body: str, machine: Any = GARNET) -> list[Any]:
    try:
        job = parse_job(body.encode(), machine, Limits())
    except RequestError as exc:
        return [exc.message]
    return [(c.name, c.components, c.ops, c.keys) for c in job.circuits]


def test_same_structure_circuits_share_one_shape_and_keep_their_numbers() -> None:
    points = [(0.1 * i, 0.2 * i) for i in range(6)]
    job = parse_job(_sweep(points).encode(), GARNET, Limits())
    assert len({id(c.shape) for c in job.circuits}) == 1
    got = [(c.name, c.components, c.ops, c.keys) for c in job.circuits]
    assert got == _reference(_sweep(points))


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(numbers, numbers), min_size=1, max_size=4),
    st.sampled_from(["angle", "phase", "duration"]),
    numbers,
)
def test_cached_structure_reports_the_same_errors_as_full_validation(
    points: list[tuple[Any, Any]], which: str, duration: Any
) -> None:
    circuits = [[prx("QB1", 0.5, 0.5), measure("m", "QB1")]]  # structure validated first
    for a, b in points:
        inst = prx("QB1", a, b)
        delay = {"name": "delay", "locus": ["QB1", "QB2"], "args": {"duration": duration}}
        if which == "duration":
            inst = prx("QB1", 0.5, 0.5)
        circuits.append([inst, measure("m", "QB1")] if which != "duration" else [inst, delay,
                        measure("m", "QB1")])  # fmt: skip
    try:
        body = json.dumps({"circuits": [{"name": f"c{i}", "instructions": c}
                                        for i, c in enumerate(circuits)], "shots": 10})  # fmt: skip
    except ValueError:
        return  # not JSON (an int too long to print)
    assert _parsed(body) == _reference(body)


def test_idle_delay_durations_are_still_checked() -> None:
    idle = {"name": "delay", "locus": ["QB7"], "args": {"duration": 1e-6}}
    bad = {"name": "delay", "locus": ["QB7"], "args": {"duration": -1.0}}
    body = job_body([idle, prx("QB1"), measure("m", "QB1")], [bad, prx("QB1"), measure("m", "QB1")])
    with pytest.raises(RequestError, match="negative duration"):
        parse_job(body.encode(), GARNET, Limits())


def test_structures_differing_only_in_keys_or_loci_are_validated_separately() -> None:
    body = job_body(
        [prx("QB1"), measure("a", "QB1")],
        [prx("QB1"), measure("a", "QB1"), measure("a", "QB2")],
    )
    with pytest.raises(RequestError, match="'a' is used twice"):
        parse_job(body.encode(), GARNET, Limits())
    body = job_body([cz("QB1", "QB2"), measure("a", "QB1")], [cz("QB1", "QB3")])
    with pytest.raises(RequestError, match="not calibrated on QB1, QB3"):
        parse_job(body.encode(), GARNET, Limits())


def test_move_structures_on_a_star_machine() -> None:
    star = get_machine("deneb")
    good = [prx("QB1"), move("QB1", "CR1"), move("QB1", "CR1"), measure("m", "QB1")]
    open_pair = [prx("QB1"), move("QB1", "CR1"), measure("m", "QB2")]
    body = job_body(good, good, open_pair)
    assert _parsed(body, star) == _reference(body, star)


def _states(circuits: list[Any]) -> list[np.ndarray]:
    return [np.abs(final_state(c.__class__(c.name, c.components, tuple(
        op for op in c.ops if op.kind != "measure")))) ** 2 for c in circuits]  # fmt: skip


def test_batch_follows_the_born_rule_of_every_circuit() -> None:
    rng = np.random.default_rng(4)
    points = [tuple(rng.uniform(-4, 4, 2)) for _ in range(8)]
    job = parse_job(_sweep(points, shots=4000).encode(), GARNET, Limits())
    circuits = list(job.circuits)
    results = run_batch(circuits, 4000, np.random.default_rng(1))
    for circuit, probs, result in zip(circuits, _states(circuits), results, strict=True):
        assert list(result) == ["m", "n"]
        assert result["m"].shape == (4000, 2) and result["n"].shape == (4000, 1)
        assert result["m"].dtype == np.uint8 and not result["n"].any()
        # components are (QB1, QB2, QB3); final_state puts component 0 most significant
        index = (result["m"][:, 0].astype(int) << 2) + (result["m"][:, 1].astype(int) << 1)
        counts = np.bincount(index, minlength=8)
        sigma = np.sqrt(4000 * probs * (1 - probs)) + 1.0
        assert np.all(np.abs(counts - 4000 * probs) <= 5 * sigma), circuit.name


def test_batch_with_many_outcomes_and_few_shots_samples_by_search() -> None:
    # 10 components, 3 shots: 1024 outcomes > 4 x shots, so the search sampler runs
    qubits = [f"QB{i}" for i in (1, 2, 4, 5, 6, 7, 9, 10, 11, 12)]
    circuit = [prx(q, math.pi) for q in qubits] + [measure("m", *qubits)]
    job = parse_job(job_body(circuit, circuit, shots=3).encode(), GARNET, Limits())
    for result in run_batch(list(job.circuits), 3, np.random.default_rng(0)):
        assert result["m"].tolist() == [[1] * 10] * 3


def test_batch_is_reproducible_and_close_to_the_branching_simulator() -> None:
    job = parse_job(_sweep([(1.0, 0.4), (2.0, 0.1)], shots=3000).encode(), GARNET, Limits())
    circuits = list(job.circuits)
    a = run_batch(circuits, 3000, np.random.default_rng(5))
    b = run_batch(circuits, 3000, np.random.default_rng(5))
    assert all(np.array_equal(x[k], y[k]) for x, y in zip(a, b, strict=True) for k in x)
    for circuit, batched in zip(circuits, a, strict=True):
        single = run_circuit(circuit, 3000, np.random.default_rng(6))
        for key in single:
            diff = abs(single[key].mean(axis=0) - batched[key].mean(axis=0))
            assert np.all(diff < 5 * np.sqrt(0.25 / 3000) * 2)


def test_batch_refuses_mixed_or_unbatchable_shapes() -> None:
    body = job_body([prx("QB1"), measure("m", "QB1"), prx("QB1"), measure("k", "QB1")])
    job = parse_job(body.encode(), GARNET, Limits())
    assert job.circuits[0].shape.plan() is None  # mid-circuit measurement
    with pytest.raises(ValueError, match="one batchable shape"):
        run_batch(list(job.circuits), 10, np.random.default_rng(0))


@pytest.mark.parametrize("width", [0, 1, 2, 5, 13, 70])
def test_measurements_json_is_the_json_of_the_rows(width: int) -> None:
    rng = np.random.default_rng(width)
    results = [
        {"a": rng.integers(0, 2, (7, width), dtype=np.uint8), 'q"k': rng.integers(0, 2, (7, 1))},
        {},
    ]
    text = measurements_json(results)
    assert json.loads(text) == [{k: v.tolist() for k, v in r.items()} for r in results]


def _reference_counts(results: list[dict[str, np.ndarray]]) -> list[dict[str, Any]]:
    out = []
    for circuit in results:
        keys = list(circuit)
        counts: dict[str, int] = {}
        if keys:
            bits = np.concatenate([circuit[k] for k in keys], axis=1)
            for row in sorted("".join(map(str, r)) for r in bits.tolist()):
                counts[row] = counts.get(row, 0) + 1
        out.append({"measurement_keys": keys, "counts": counts})
    return out


@pytest.mark.parametrize("widths", [(1,), (3, 2), (0,), (12, 12), (40, 30)])
def test_counts_from_stored_measurements_match_the_reference(widths: tuple[int, ...]) -> None:
    rng = np.random.default_rng(sum(widths))
    results = [
        {f"k{i}": rng.integers(0, 2, (50, w), dtype=np.uint8) for i, w in enumerate(widths)},
        {"z": np.zeros((50, 1), dtype=np.uint8)},
    ]
    expected = _reference_counts(results)
    assert json.loads(counts_json(results)) == expected
    text = counts_from_measurements(measurements_json(results))
    assert text == counts_json(results)
    assert list(json.loads(text)[0]["counts"]) == list(expected[0]["counts"])  # same order

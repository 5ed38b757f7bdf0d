"""Job handles: one status rule for a job in parts, and results cut to each circuit's shots."""

from __future__ import annotations

import pytest

from iqm_bridge.core import Circuit, Gate, KeyMap, Measure, Register
from iqm_bridge.core.submit.jobs import JobStatus, Part, PollPolicy, keymap_of
from iqm_bridge.core.wire import REGISTERS_METADATA_KEY

W, P, C, F, X = (
    JobStatus.WAITING,
    JobStatus.PROCESSING,
    JobStatus.COMPLETED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)


@pytest.mark.parametrize(
    ("parts", "overall"),
    [
        ([C, C], C),
        ([W, W], W),
        ([C, W], P),
        ([P, W], P),
        ([C, F], F),
        ([X, P], X),
        ([F, X], F),
    ],
)
def test_one_status_rule(parts: list[JobStatus], overall: JobStatus) -> None:
    assert JobStatus.combine(parts) is overall


def test_polling_grows_to_its_cap() -> None:
    pauses = PollPolicy(first=0.01, cap=0.05, growth=2.0).intervals()
    assert [round(next(pauses), 3) for _ in range(5)] == [0.01, 0.02, 0.04, 0.05, 0.05]


def test_a_part_rebuilds_key_maps_with_unmeasured_registers() -> None:
    a, b = Register("a", 1), Register("b", 2)
    key = KeyMap.encode(a, 0, 0)
    c = Circuit(("QB1",), [Gate("prx", ("QB1",), (1.0, 0.0)), Measure(("QB1",), key)], "c")
    c = Circuit(c.qubits, c.operations, c.name, {REGISTERS_METADATA_KEY: [["a", 1], ["b", 2]]})
    km = keymap_of(c)
    assert km.registers == (a, b)
    part = Part.of("job", [c], shots=[5])
    assert (
        part.shots == (5,) and part.widths == ({key: 1},) and part.columns == (("QB1", None, None),)
    )

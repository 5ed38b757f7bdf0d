"""The names iqm-bridge puts on the wire are distinct and namespaced."""

from __future__ import annotations

import iqm_bridge.core.wire as wire


def test_metadata_keys_are_distinct_and_namespaced() -> None:
    keys = [getattr(wire, name) for name in wire.__all__ if name.endswith("_METADATA_KEY")]
    assert len(set(keys)) == len(keys)
    for key in keys:
        # the emulator's noise switch is read by the emulator only, hence its own name
        assert key.startswith("iqm_bridge_") or key == wire.NOISE_METADATA_KEY


def test_the_emulator_reads_the_same_names() -> None:
    from iqm_bridge.emulator import _circuits

    assert _circuits.SUBMISSION_METADATA_KEY is wire.SUBMISSION_METADATA_KEY

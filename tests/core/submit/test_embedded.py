"""The embedded default: which machine it serves, chosen by the environment."""

from __future__ import annotations

import pytest

from iqm_bridge.core.submit.embedded import embedded_machine


def test_the_machine_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IQM_BRIDGE_EMULATOR_MACHINE", raising=False)
    assert embedded_machine() == "garnet"
    monkeypatch.setenv("IQM_BRIDGE_EMULATOR_MACHINE", " Deneb ")
    assert embedded_machine() == "deneb"

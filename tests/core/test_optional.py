"""Optional frameworks fail politely, with the install command that fits the installation."""

from __future__ import annotations

import pytest

from iqm_bridge.core import MissingDependencyError, optional, require


def test_a_missing_module_names_the_extra() -> None:
    with pytest.raises(MissingDependencyError, match=r"\[nope\]") as info:
        require("no_such_module_here", "nope")
    assert isinstance(info.value, ImportError)


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        (None, "pip install 'iqm-bridge[qiskit]'"),
        (("/src/iqm", True), "pip install -e '/src/iqm[qiskit]'"),
        (("/src/iqm", False), "pip install '/src/iqm[qiskit]'"),
    ],
)
def test_the_hint_follows_how_iqm_bridge_was_installed(
    monkeypatch: pytest.MonkeyPatch, source: tuple[str, bool] | None, hint: str
) -> None:
    monkeypatch.setattr(optional, "_source_checkout", lambda: source)
    assert optional.install_hint("qiskit") == hint

"""Fixtures of the command-line tests: a private journal and a QASM file."""

from __future__ import annotations

from pathlib import Path

import pytest
from _cli_helpers import GHZ_QASM2


@pytest.fixture
def journal_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh journal file that the CLI (IQM_BRIDGE_JOURNAL) and the test share."""
    path = tmp_path / "journal.sqlite3"
    monkeypatch.setenv("IQM_BRIDGE_JOURNAL", str(path))
    for var in ("IQM_SERVER_URL", "IQM_TOKEN", "IQM_TOKENS_FILE", "IQM_QUANTUM_COMPUTER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("IQM_BRIDGE_EMULATOR_MACHINE", "garnet")
    return path


@pytest.fixture
def ghz_file(tmp_path: Path) -> Path:
    path = tmp_path / "ghz.qasm"
    path.write_text(GHZ_QASM2, encoding="utf-8")
    return path

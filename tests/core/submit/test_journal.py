"""The job journal: every job id kept, ambiguous submissions too, and busy files tolerated."""

from __future__ import annotations

import pathlib
import pickle

import pytest

from iqm_bridge.core import Journal
from iqm_bridge.core.submit.journal import AMBIGUOUS, default_journal


def test_record_status_and_prefixless_lookup(tmp_path: pathlib.Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    journal.record("job-1", "http://h", "garnet", 2, 100)
    journal.record("submission:abc", "embedded:garnet", None, 1, 10, status=AMBIGUOUS)
    journal.set_status("job-1", "completed")
    entries = {e.job_id: e for e in journal.entries()}
    assert entries["job-1"].status == "completed" and entries["job-1"].num_circuits == 2
    assert entries["submission:abc"].status == AMBIGUOUS
    assert journal.get("nope") is None


def test_a_journal_copies_without_its_connection(tmp_path: pathlib.Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3", lock_wait=0.5)
    journal.record("job-1", "http://h", None, 1, 1)
    copied = pickle.loads(pickle.dumps(journal))
    assert copied.path == journal.path and copied.lock_wait == 0.5
    assert [e.job_id for e in copied.entries()] == ["job-1"]


def test_the_setting_chooses_the_file(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IQM_BRIDGE_JOURNAL", "off")
    assert default_journal() is None
    monkeypatch.setenv("IQM_BRIDGE_JOURNAL", str(tmp_path / "x.sqlite3"))
    journal = default_journal()
    assert journal is not None and journal.path == tmp_path / "x.sqlite3"

"""A local journal of submitted jobs, so results survive a crash of the submitting process.

Every job id is written to a small SQLite file before ``run`` returns. ``iqm-bridge jobs list``
reads it, and ``retrieve`` rebuilds a job from an id found there. The file lives in the user's
data directory; ``IQM_BRIDGE_JOURNAL`` sets another path, or ``off`` to keep no journal.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

from iqm_bridge.core.errors import ConfigurationError

__all__ = [
    "AMBIGUOUS",
    "EMBEDDED_URL_PREFIX",
    "Journal",
    "JournalBusyError",
    "JournalEntry",
    "default_journal",
]

logger = logging.getLogger(__name__)

EMBEDDED_URL_PREFIX = "embedded:"
"""Journal URLs of jobs made on the embedded emulator: ``embedded:<machine>``. Its port
changes from process to process, so a later process reaches such a job by starting the
embedded emulator again (it keeps its jobs in a per-user database)."""

LOCK_WAIT = 1.0
"""Seconds a journal write waits for another process's lock before it gives up with a
warning (the job itself is not affected)."""

AMBIGUOUS = "ambiguous"
"""Status of a journal entry for a submission whose answer was lost: the entry's id is
``submission:<submission id>``, the circuit metadata the server-side job would carry."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    quantum_computer TEXT,
    submitted_at REAL NOT NULL,
    num_circuits INTEGER NOT NULL,
    shots INTEGER NOT NULL,
    status TEXT NOT NULL,
    label TEXT
)
"""


@attrs.frozen(slots=True)
class JournalEntry:
    """One submitted job as the journal remembers it."""

    job_id: str
    url: str
    quantum_computer: str | None
    submitted_at: float
    num_circuits: int
    shots: int
    status: str
    label: str | None = None


class Journal:
    """The journal file (created on first write).

    Args:
        path: the SQLite file.
    """

    def __init__(self, path: str | os.PathLike[str], lock_wait: float = LOCK_WAIT) -> None:
        self.path = Path(path)
        self.lock_wait = lock_wait
        self._lock = threading.Lock()
        self._con: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def __getstate__(self) -> dict[str, object]:
        # a copy (deepcopy, pickle) opens its own connection on first use
        return {"path": self.path, "lock_wait": self.lock_wait}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["path"], state["lock_wait"])  # type: ignore[misc]

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # one connection per journal, in WAL mode with NORMAL sync: a commit survives the
        # process being killed (it is in the WAL file) without an fsync per job
        with self._lock:
            if self._con is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    con = sqlite3.connect(
                        self.path, timeout=self.lock_wait, check_same_thread=False
                    )
                    con.execute("PRAGMA journal_mode=WAL")
                    con.execute("PRAGMA synchronous=NORMAL")
                    con.execute(_SCHEMA)
                except sqlite3.DatabaseError as exc:
                    raise self._unusable(exc) from None
                self._con = con
            try:
                yield self._con
                self._con.commit()
            except sqlite3.DatabaseError as exc:
                self._con.rollback()
                raise self._unusable(exc) from None
            except BaseException:
                self._con.rollback()
                raise

    def _unusable(self, exc: sqlite3.DatabaseError) -> Exception:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return JournalBusyError(
                f"the job journal {self.path} is locked by another process (waited "
                f"{self.lock_wait} s)"
            )
        return ConfigurationError(
            f"the job journal {self.path} cannot be read ({exc}); move the file away (a new "
            "one is made on the next job) or point IQM_BRIDGE_JOURNAL at another file"
        )

    def close(self) -> None:
        """Close the journal's database connection (it reopens on the next use)."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def record(
        self,
        job_id: str,
        url: str,
        quantum_computer: str | None,
        num_circuits: int,
        shots: int,
        label: str | None = None,
        status: str = "submitted",
    ) -> None:
        """Remember a submitted job (status ``submitted``, or :data:`AMBIGUOUS`)."""
        with self._db() as con:
            con.execute(
                "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    url,
                    quantum_computer,
                    time.time(),
                    num_circuits,
                    shots,
                    status,
                    label,
                ),
            )

    def set_status(self, job_ids: str | Iterable[str], status: str) -> None:
        """Update the last known status of one or several jobs (one transaction)."""
        ids = [job_ids] if isinstance(job_ids, str) else list(job_ids)
        with self._db() as con:
            con.executemany(
                "UPDATE jobs SET status = ? WHERE job_id = ?", [(status, i) for i in ids]
            )

    def entries(self, limit: int | None = None) -> list[JournalEntry]:
        """Jobs, newest first."""
        if not self.path.exists():
            return []
        with self._db() as con:
            sql = "SELECT * FROM jobs ORDER BY submitted_at DESC"
            rows = con.execute(sql + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
        return [JournalEntry(*row) for row in rows]

    def get(self, job_id: str) -> JournalEntry | None:
        """The entry of one job, or ``None``."""
        if not self.path.exists():
            return None
        with self._db() as con:
            row = con.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return JournalEntry(*row) if row else None


class JournalBusyError(ConfigurationError):
    """Another process holds the journal's lock for longer than :data:`LOCK_WAIT`."""


def default_journal() -> Journal | None:
    """The journal configured by ``IQM_BRIDGE_JOURNAL`` (``off`` for none), else the default
    file in the user's data directory."""
    setting = os.environ.get("IQM_BRIDGE_JOURNAL", "").strip()
    if setting.lower() in {"off", "0", "false", "no"}:
        return None
    if setting:
        return Journal(setting)
    from platformdirs import user_data_dir

    return Journal(Path(user_data_dir("iqm-bridge")) / "jobs.sqlite3")

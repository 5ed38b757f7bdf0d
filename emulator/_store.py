"""SQLite storage of jobs, so that a restarted server answers finished jobs identically.

Results are stored as the exact JSON text the artifact endpoints return, so a restarted
server serves byte-identical answers. One connection is shared by the event loop and the
worker thread behind a lock; the file is opened in WAL mode so commits stay cheap.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["JobRecord", "JobStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    owner TEXT NOT NULL,
    qc TEXT NOT NULL,
    status TEXT NOT NULL,
    payload BLOB NOT NULL,
    options TEXT NOT NULL,
    calibration_set_id TEXT,
    timeline TEXT NOT NULL,
    errors TEXT NOT NULL,
    measurements TEXT,
    counts TEXT
)
"""


_SUBMISSIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    owner TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    PRIMARY KEY (owner, submission_id)
)
"""


@dataclass(frozen=True)
class JobRecord:
    """One stored job."""

    seq: int
    id: str
    owner: str
    qc: str
    status: str
    payload: bytes
    options: dict[str, Any]
    calibration_set_id: str | None
    timeline: list[dict[str, str]]
    errors: list[dict[str, str]]
    measurements: str | None
    counts: str | None


class JobStore:
    """Jobs in an SQLite database (a file, or ``":memory:"``)."""

    def __init__(self, path: str = ":memory:") -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._db.execute(_SUBMISSIONS_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def create(
        self,
        job_id: str,
        owner: str,
        qc: str,
        payload: bytes,
        options: dict[str, Any],
        calibration_set_id: str | None,
        timeline: list[dict[str, str]],
        submission_id: str | None = None,
    ) -> str | None:
        """Store a new waiting job, unless its client submission id was seen before.

        The job row and the submission id are written in one transaction, so a crash can
        never leave one without the other.

        Returns:
            ``None`` if the job was stored, else the id of the job the same owner's earlier
            submission with ``submission_id`` created (nothing is stored then).
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if submission_id is not None:
                    row = self._db.execute(
                        "SELECT job_id FROM submissions WHERE owner = ? AND submission_id = ?",
                        (owner, submission_id),
                    ).fetchone()
                    if row is not None:
                        self._db.execute("COMMIT")
                        return str(row[0])
                    self._db.execute(
                        "INSERT INTO submissions (owner, submission_id, job_id) VALUES (?, ?, ?)",
                        (owner, submission_id, job_id),
                    )
                self._db.execute(
                    "INSERT INTO jobs (id, owner, qc, status, payload, options,"
                    " calibration_set_id, timeline, errors)"
                    " VALUES (?, ?, ?, 'waiting', ?, ?, ?, ?, '[]')",
                    (
                        job_id,
                        owner,
                        qc,
                        payload,
                        json.dumps(options),
                        calibration_set_id,
                        json.dumps(timeline),
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return None

    def claim_submission(self, owner: str, submission_id: str, job_id: str) -> str:
        """Tie a client's submission id to ``job_id`` unless it is tied already.

        Returns:
            The job id the submission belongs to: ``job_id`` for a new submission, the earlier
            job's id for a resent one.
        """
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO submissions (owner, submission_id, job_id) VALUES (?, ?, ?)",
                (owner, submission_id, job_id),
            )
            row = self._db.execute(
                "SELECT job_id FROM submissions WHERE owner = ? AND submission_id = ?",
                (owner, submission_id),
            ).fetchone()
        return str(row[0])

    def get(self, job_id: str) -> JobRecord | None:
        """The job with ``job_id``, or ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT seq, id, owner, qc, status, payload, options, calibration_set_id,"
                " timeline, errors, measurements, counts FROM jobs WHERE id = ?",
                (job_id,),
            ).fetchone()
        if row is None:
            return None
        return JobRecord(
            seq=row[0],
            id=row[1],
            owner=row[2],
            qc=row[3],
            status=row[4],
            payload=bytes(row[5]),
            options=json.loads(row[6]),
            calibration_set_id=row[7],
            timeline=json.loads(row[8]),
            errors=json.loads(row[9]),
            measurements=row[10],
            counts=row[11],
        )

    def update(
        self,
        job_id: str,
        status: str,
        timeline: list[dict[str, str]],
        errors: list[dict[str, str]] | None = None,
        measurements: str | None = None,
        counts: str | None = None,
        only_if: tuple[str, ...] | None = None,
    ) -> bool:
        """Set a job's status (and results); with ``only_if``, only from those statuses.

        Returns:
            whether a row was changed.
        """
        sql = "UPDATE jobs SET status = ?, timeline = ?, errors = ?"
        params: list[Any] = [status, json.dumps(timeline), json.dumps(errors or [])]
        if measurements is not None:
            sql += ", measurements = ?, counts = ?"
            params += [measurements, counts]
        sql += " WHERE id = ?"
        params.append(job_id)
        if only_if:
            sql += f" AND status IN ({', '.join('?' for _ in only_if)})"
            params += list(only_if)
        with self._lock:
            cur = self._db.execute(sql, params)
            return cur.rowcount > 0

    def set_counts(self, job_id: str, counts: str) -> None:
        """Store a completed job's ``measurement_counts`` (computed on first request)."""
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET counts = ? WHERE id = ? AND counts IS NULL", (counts, job_id)
            )

    def delete(self, job_id: str) -> bool:
        """Remove a job; return whether it existed."""
        with self._lock:
            return self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount > 0

    def unfinished(self) -> list[str]:
        """Ids of waiting or processing jobs, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM jobs WHERE status IN ('waiting', 'processing') ORDER BY seq"
            ).fetchall()
        return [r[0] for r in rows]

    def count(self, owner: str | None = None) -> int:
        """Number of stored jobs (of one owner, if given)."""
        with self._lock:
            if owner is None:
                row = self._db.execute("SELECT COUNT(*) FROM jobs").fetchone()
            else:
                row = self._db.execute(
                    "SELECT COUNT(*) FROM jobs WHERE owner = ?", (owner,)
                ).fetchone()
        return int(row[0])

    def ids(self) -> list[str]:
        """All job ids, oldest first."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT id FROM jobs ORDER BY seq")]

"""SQLite storage of jobs, so that a restarted server answers finished jobs identically.

Results are stored as the exact JSON text the artifact endpoints return, so a restarted
server serves byte-identical answers. One connection is shared by the event loop and the
worker thread behind a lock; the file is opened in WAL mode with a busy timeout, so several
servers (in one process or in several) can share it.

Sharing a file needs two more things, both here:

* **Who runs a job.** Every job row names the server that queued it. A server holds an
  exclusive ``flock`` on a lock file of its own (``<db>.servers/<server id>.lock``) for as long
  as it lives; the operating system drops the lock when the process ends, however it ends.
  Another server may take over (*adopt*) an unfinished job only when that lock is free, and
  only with one conditional ``UPDATE``, so a job queued by a live server is never run twice,
  and one left behind by a dead server is picked up exactly once.
* **How big the file gets.** A :class:`Retention` keeps the newest finished jobs up to a
  number and a size and deletes older ones (unfinished jobs are never deleted); freed pages go
  back to the file system through SQLite's incremental vacuum.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iqm_bridge.core.errors import ConfigurationError

try:  # POSIX; elsewhere every other server counts as alive (nothing is ever run twice)
    import fcntl
except ImportError:  # pragma: no cover - not on the supported platforms
    fcntl = None  # type: ignore[assignment]

__all__ = ["JobRecord", "JobStore", "Resent", "Retention"]

logger = logging.getLogger(__name__)

_BUSY_TIMEOUT_S = 30.0
"""How long a statement waits for another connection's write lock before failing."""

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
    counts TEXT,
    server TEXT,
    size INTEGER NOT NULL DEFAULT 0
)
"""

_SUBMISSIONS_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    owner TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    digest TEXT,
    PRIMARY KEY (owner, submission_id)
)
"""

_INDEXES = (
    "CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, seq)",
    "CREATE INDEX IF NOT EXISTS submissions_by_job ON submissions (job_id)",
)

# columns added since the first schema, so a file written by an older emulator opens
_ADDED_COLUMNS = {
    "jobs": (("server", "TEXT"), ("size", "INTEGER NOT NULL DEFAULT 0")),
    "submissions": (("digest", "TEXT"),),
}


@dataclass(frozen=True)
class JobRecord:
    """One stored job.

    Attributes:
        server: id of the server that queued (and runs) the job; ``None`` in files written
            before servers had ids.
    """

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
    server: str | None = None


@dataclass(frozen=True)
class Resent:
    """The job an earlier submission with the same client submission id created.

    Attributes:
        job_id: that job's id.
        digest: the digest of that submission's payload (``None`` if it was stored by an
            emulator that kept no digests).
    """

    job_id: str
    digest: str | None


@dataclass(frozen=True)
class Retention:
    """How many finished jobs a job file keeps: the newest ones, within both limits.

    Unfinished jobs are never deleted, and the newest finished job is kept whatever its size.

    Attributes:
        max_jobs: most finished jobs kept.
        max_bytes: most bytes of payloads and results kept for finished jobs.
    """

    max_jobs: int = 2000
    max_bytes: int = 512 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.max_jobs < 1 or self.max_bytes < 1:
            raise ValueError(
                f"a retention keeps at least one job and one byte, got max_jobs={self.max_jobs},"
                f" max_bytes={self.max_bytes}"
            )


class _Leases:
    """Liveness of the servers sharing one job file, through one lock file per server."""

    def __init__(self, db: str) -> None:
        self.dir = Path(db + ".servers")
        self._fd: int | None = None
        self._path: Path | None = None

    def hold(self, server_id: str) -> None:
        """Take this server's lock (held until :meth:`release` or the process ends)."""
        if fcntl is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{server_id}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh id: nobody else holds it
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd, self._path = fd, path

    def release(self) -> None:
        """Give this server's lock back and remove its file."""
        if self._fd is None or self._path is None:
            return
        with contextlib.suppress(OSError):
            self._path.unlink()
        os.close(self._fd)  # closing the descriptor drops the lock
        self._fd = self._path = None

    def alive(self, server_id: str | None) -> bool:
        """Whether the server with ``server_id`` still runs (holds its lock)."""
        if server_id is None:
            return False  # written before servers had ids: nobody owns it any more
        if fcntl is None:
            return True
        path = self.dir / f"{server_id}.lock"
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False  # released, or cleaned up after its server died
        except OSError:
            return True  # cannot tell: never risk running a job twice
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return True
        else:
            with contextlib.suppress(OSError):
                path.unlink()  # the process that held it is gone
            return False
        finally:
            os.close(fd)


class JobStore:
    """Jobs in an SQLite database (a file, or ``":memory:"``).

    Args:
        path: the database file (created if missing), or ``":memory:"``.

    Attributes:
        server_id: this store's server id, written into the jobs it queues.

    Raises:
        ConfigurationError: the file cannot be opened or is not a job database.
    """

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.server_id = uuid.uuid4().hex
        self.bytes_written = 0
        self._lock = threading.Lock()
        self._memory = path == ":memory:" or path.startswith("file::memory:")
        self._leases = None if self._memory else _Leases(path)
        try:
            self._db = sqlite3.connect(
                path, timeout=_BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise ConfigurationError(_open_error(path, exc)) from None
        try:
            self._setup()
            if self._leases is not None:
                self._leases.hold(self.server_id)
        except (sqlite3.Error, OSError) as exc:
            self._db.close()
            raise ConfigurationError(_open_error(path, exc)) from None

    def _setup(self) -> None:
        db = self._db
        if not self._memory:
            # before the first table exists; a no-op on an existing file
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(_SCHEMA)
            db.execute(_SUBMISSIONS_SCHEMA)
            for table, columns in _ADDED_COLUMNS.items():
                have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                for name, decl in columns:
                    if name not in have:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
            for sql in _INDEXES:
                db.execute(sql)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @property
    def shared(self) -> bool:
        """Whether other servers may use the same database (it is a file)."""
        return not self._memory

    def close(self) -> None:
        """Close the database and release this server's lock."""
        with self._lock:
            self._db.close()
            if self._leases is not None:
                self._leases.release()

    def alive(self, server_id: str | None) -> bool:
        """Whether the server with ``server_id`` still runs (this server always does)."""
        if server_id == self.server_id:
            return True
        if self._leases is None:
            return False
        return self._leases.alive(server_id)

    # ------------------------------------------------------------------ writing
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
        digest: str | None = None,
    ) -> Resent | None:
        """Store a new waiting job of this server, unless its submission id was seen before.

        The job row and the submission id are written in one transaction, so a crash can
        never leave one without the other.

        Args:
            job_id: the new job's id.
            owner: the token the job belongs to.
            qc: the machine's name.
            payload: the request body.
            options: the job's options (stored as JSON).
            calibration_set_id: the calibration set the job runs on.
            timeline: the job's first timeline entries.
            submission_id: the client's submission id, if it sent one.
            digest: the digest of the submission's payload, stored with the submission id.

        Returns:
            ``None`` if the job was stored, else the job the same owner's earlier submission
            with ``submission_id`` created (nothing is stored then).
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if submission_id is not None:
                    row = self._db.execute(
                        "SELECT job_id, digest FROM submissions"
                        " WHERE owner = ? AND submission_id = ?",
                        (owner, submission_id),
                    ).fetchone()
                    if row is not None:
                        self._db.execute("COMMIT")
                        return Resent(str(row[0]), row[1])
                    self._db.execute(
                        "INSERT INTO submissions (owner, submission_id, job_id, digest)"
                        " VALUES (?, ?, ?, ?)",
                        (owner, submission_id, job_id, digest),
                    )
                self._db.execute(
                    "INSERT INTO jobs (id, owner, qc, status, payload, options,"
                    " calibration_set_id, timeline, errors, server, size)"
                    " VALUES (?, ?, ?, 'waiting', ?, ?, ?, ?, '[]', ?, ?)",
                    (
                        job_id,
                        owner,
                        qc,
                        payload,
                        json.dumps(options),
                        calibration_set_id,
                        json.dumps(timeline),
                        self.server_id,
                        len(payload),
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return None

    def adopt(self, job_id: str, previous: str | None) -> bool:
        """Make this server the runner of an unfinished job whose server was ``previous``.

        Only one of several servers adopting the same job at once succeeds.

        Returns:
            whether this server now owns the job.
        """
        with self._lock:
            cur = self._db.execute(
                "UPDATE jobs SET server = ? WHERE id = ? AND server IS ?"
                " AND status IN ('waiting', 'processing')",
                (self.server_id, job_id, previous),
            )
            return cur.rowcount > 0

    def get(self, job_id: str) -> JobRecord | None:
        """The job with ``job_id``, or ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT seq, id, owner, qc, status, payload, options, calibration_set_id,"
                " timeline, errors, measurements, counts, server FROM jobs WHERE id = ?",
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
            server=row[12],
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
        added = 0
        if measurements is not None:
            added = len(measurements) + len(counts or "")
            sql += ", measurements = ?, counts = ?, size = size + ?"
            params += [measurements, counts, added]
        sql += " WHERE id = ?"
        params.append(job_id)
        if only_if:
            sql += f" AND status IN ({', '.join('?' for _ in only_if)})"
            params += list(only_if)
        with self._lock:
            cur = self._db.execute(sql, params)
            changed = cur.rowcount > 0
            if changed:
                self.bytes_written += added
            return changed

    def set_counts(self, job_id: str, counts: str) -> None:
        """Store a completed job's ``measurement_counts`` (computed on first request)."""
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET counts = ?, size = size + ? WHERE id = ? AND counts IS NULL",
                (counts, len(counts), job_id),
            )

    def delete(self, job_id: str) -> bool:
        """Remove a job; return whether it existed."""
        with self._lock:
            return self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount > 0

    def prune(self, retention: Retention) -> int:
        """Delete the finished jobs beyond ``retention`` (oldest first), and their submissions.

        Returns:
            how many jobs were deleted.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._db.execute(
                    "DELETE FROM jobs WHERE seq IN ("
                    " SELECT seq FROM ("
                    "  SELECT seq, ROW_NUMBER() OVER w AS n, SUM(size) OVER w AS total FROM jobs"
                    "  WHERE status IN ('completed', 'failed', 'cancelled')"
                    "  WINDOW w AS (ORDER BY seq DESC))"
                    " WHERE n > ? OR (n > 1 AND total > ?))",
                    (retention.max_jobs, retention.max_bytes),
                )
                deleted = cur.rowcount
                if deleted:
                    self._db.execute(
                        "DELETE FROM submissions WHERE job_id NOT IN (SELECT id FROM jobs)"
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            if deleted and not self._memory:
                self._db.execute("PRAGMA incremental_vacuum").fetchall()
            self.bytes_written = 0
        if deleted:
            logger.info("deleted %d finished jobs beyond the retention limit", deleted)
        return deleted

    # ------------------------------------------------------------------ reading
    def unfinished(self) -> list[tuple[str, str | None]]:
        """``(job id, server id)`` of every waiting or processing job, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, server FROM jobs WHERE status IN ('waiting', 'processing') ORDER BY seq"
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

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


def _open_error(path: str, exc: BaseException) -> str:
    reason = str(exc) or type(exc).__name__
    return (
        f"cannot open the emulator's job database {path!r} ({reason}); give a writable file "
        "(its folder must exist) that is an emulator job database or does not exist yet, "
        "or ':memory:' to keep no jobs"
    )

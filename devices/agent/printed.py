"""The durable record of print jobs, so a job prints at most once, even across restarts.

A job is *claimed* (row ``printing``) before a byte goes to the printer and marked
``printed`` after the cut, and only then acknowledged. A failed job's claim is released so
a re-sent job can print. A claim left ``printing`` means the agent died mid-job: the
ticket may or may not be on paper, so it is never printed again (at most once) and is
acknowledged as failed ("interrupted").

Kept apart from the device spool (``devices/spool.py``): this is one tiny table the print
path reads on every job.
"""

from __future__ import annotations

import enum
import sqlite3
import threading
import time
from pathlib import Path

FILE_NAME = "printed-jobs.sqlite3"
#: Job ids older than this are forgotten; the server never re-sends jobs that old.
KEEP_SECONDS = 30 * 24 * 3600


class Claim(enum.Enum):
    NEW = "new"  #: ours to print
    PRINTED = "printed"  #: already on paper: acknowledge, do not print
    INTERRUPTED = "printing"  #: a previous run died while printing it


class PrintedJobs:
    """SQLite file ``spool_dir/printed-jobs.sqlite3``; safe to use from several threads."""

    def __init__(self, spool_dir: str | Path) -> None:
        directory = Path(spool_dir)
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / FILE_NAME
        self._lock = threading.Lock()
        # Autocommit: each statement is durable on return, which is the whole point.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS printed_jobs ("
            " job_id TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at REAL NOT NULL)"
        )
        self._db.execute(
            "DELETE FROM printed_jobs WHERE updated_at < ?", (time.time() - KEEP_SECONDS,)
        )

    def claim(self, job_id: str) -> Claim:
        """Claim ``job_id`` for printing; or say why it must not be printed."""
        with self._lock:
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO printed_jobs (job_id, state, updated_at) "
                "VALUES (?, 'printing', ?)",
                (job_id, time.time()),
            ).rowcount
            if inserted:
                return Claim.NEW
            (state,) = self._db.execute(
                "SELECT state FROM printed_jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
        return Claim(state)

    def lookup(self, job_id: str) -> Claim | None:
        """What is recorded about ``job_id`` (None: nothing, it may be printed)."""
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM printed_jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
        return Claim(row[0]) if row else None

    def mark_printed(self, job_id: str) -> None:
        """The ticket is on paper; call before acknowledging."""
        with self._lock:
            self._db.execute(
                "UPDATE printed_jobs SET state = 'printed', updated_at = ? WHERE job_id = ?",
                (time.time(), job_id),
            )

    def release(self, job_id: str) -> None:
        """Printing failed cleanly: forget the claim so a re-sent job may print."""
        with self._lock:
            self._db.execute(
                "DELETE FROM printed_jobs WHERE job_id = ? AND state = 'printing'", (job_id,)
            )

    def close(self) -> None:
        """Close the database; idempotent."""
        with self._lock:
            self._db.close()

"""SQLite's WAL checkpoints run in a background thread, not in the request whose commit
fills the WAL (server/db.py, `Database.checkpoint_in_background`); the WAL stays bounded
whether that thread keeps up or stops."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from server.db import FALLBACK_AUTOCHECKPOINT_PAGES, Database

PAGE = 4096


def write(database: Database, commits: int) -> None:
    """`commits` transactions through the pool (as requests do), each about one page."""
    for _ in range(commits):
        with database.engine.begin() as conn:
            conn.execute(text("INSERT INTO filler (data) VALUES (randomblob(3000))"))


def make(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB)"))
    return database


def test_requests_leave_the_checkpoint_to_the_thread(tmp_path):
    database = make(tmp_path)
    checkpointer = database.checkpoint_in_background(1.0, start=False)
    assert checkpointer is not None
    with database.engine.connect() as conn:
        assert (
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
            == FALLBACK_AUTOCHECKPOINT_PAGES
        )

    write(database, 1500)  # past SQLite's default of 1,000 pages: no request checkpointed
    busy, frames, copied = checkpointer.checkpoint()
    assert (busy, copied) == (0, frames) and frames > 1500

    write(database, 10)  # the WAL, all copied, is started over by the next writer
    _, frames, _ = checkpointer.checkpoint()
    assert frames < 100
    database.dispose()


def test_wal_stays_bounded_when_the_thread_stops(tmp_path):
    database = make(tmp_path)
    database.checkpoint_in_background(1.0, fallback_pages=200, start=False)  # never runs
    write(database, 1200)
    wal = Path(f"{tmp_path / 'wal.sqlite3'}-wal")
    assert wal.stat().st_size < 400 * PAGE  # a request checkpointed at 200 pages
    database.dispose()


def test_the_thread_checkpoints_by_itself(tmp_path):
    database = make(tmp_path)
    checkpointer = database.checkpoint_in_background(0.01)
    write(database, 300)
    seen = checkpointer.rounds
    deadline = time.monotonic() + 30
    while checkpointer.rounds < seen + 2 and time.monotonic() < deadline:
        time.sleep(0.005)  # polling the thread's own count of rounds, not a guess
    # a round that began after the last write copied the whole WAL
    busy, frames, copied = checkpointer.last
    assert busy == 0 and copied == frames > 0
    database.dispose()

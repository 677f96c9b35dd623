"""Engine, sessions, and the transactional outbox.

Services append real-time events to ``session.info["outbox"]``; they never emit. When the
transaction commits, the registered sinks receive the outbox; on rollback it is discarded,
so a display never shows a ticket the database does not have.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session, sessionmaker

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxMessage:
    """One real-time event to send after commit."""

    event: str
    payload: dict[str, Any]
    #: Socket.IO room names (e.g. "centre:1", "station:3"); empty means nobody.
    rooms: tuple[str, ...] = ()
    namespace: str = "/hall"
    extra: dict[str, Any] = field(default_factory=dict)


OutboxSink = Callable[[list[OutboxMessage]], None]


def outbox(session: Session) -> list[OutboxMessage]:
    """The pending outbox of `session`'s current transaction."""
    return session.info.setdefault("outbox", [])


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return False
    return monkey.is_module_patched("threading")


#: WAL pages (4 KiB) after which a request connection checkpoints by itself although the
#: background thread is on: only when that thread stopped or lags far behind.
FALLBACK_AUTOCHECKPOINT_PAGES = 20_000


class Database:
    """One engine and session factory per app; SQLite gets write-safe transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        #: Set by `dispose()`: background tasks that use this database stop.
        self.disposed = False
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        green = _gevent_patched()
        if green:
            # Greenlets get connections first come, first served (server/fair_pool.py).
            from server.fair_pool import FairQueuePool, TurnTakingQueuePool

            kwargs["poolclass"] = TurnTakingQueuePool if self.is_sqlite else FairQueuePool
        if self.is_sqlite:
            if green:
                # sqlite3 blocks in C while waiting for a lock, which would freeze every
                # greenlet: one connection, handed out cooperatively by the pool, instead.
                kwargs.update(pool_size=1, max_overflow=0, pool_timeout=30)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            # Recycle instead of pinging: a ping is one more round trip on every request.
            kwargs.update(pool_size=10, max_overflow=20, pool_recycle=1800)
        self.engine: Engine = create_engine(url, **kwargs)
        #: SQLite: `PRAGMA wal_autocheckpoint` of new connections (None: SQLite's 1,000).
        self.autocheckpoint_pages: int | None = None
        self.checkpointer: WalCheckpointer | None = None
        if self.is_sqlite:
            _make_sqlite_transactional(self.engine, self)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.session = scoped_session(self.session_factory)
        self._sinks: list[OutboxSink] = []
        event.listen(self.session_factory, "after_commit", self._after_commit)
        event.listen(self.session_factory, "after_soft_rollback", self._after_rollback)

    def add_outbox_sink(self, sink: OutboxSink) -> None:
        self._sinks.append(sink)

    def _after_commit(self, session: Session) -> None:
        messages = session.info.pop("outbox", [])
        if not messages:
            return
        for sink in self._sinks:
            try:
                sink(list(messages))
            except Exception:  # an emit failure must not undo a committed ticket
                logger.exception("outbox sink failed for %d message(s)", len(messages))

    def _after_rollback(self, session: Session, previous_transaction: object) -> None:
        session.info.pop("outbox", None)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error (CLI, agent, tests)."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def checkpoint_in_background(
        self,
        interval_seconds: float,
        *,
        fallback_pages: int = FALLBACK_AUTOCHECKPOINT_PAGES,
        start: bool = True,
    ) -> WalCheckpointer | None:
        """SQLite: checkpoint the WAL in a native thread every `interval_seconds`, not in the
        request whose commit fills it past 1,000 pages (SQLite's default): that request
        waited for the checkpoint's fsync. Request connections keep an automatic checkpoint
        at `fallback_pages` (the WAL stays bounded if this thread stops or lags). Call
        before serving: pooled connections are closed so that new ones get the setting.
        None for PostgreSQL or a database in memory."""
        path = self.engine.url.database
        if not self.is_sqlite or not path or path == ":memory:" or path.startswith("file:"):
            return None
        self.autocheckpoint_pages = fallback_pages
        self.engine.dispose()
        self.checkpointer = WalCheckpointer(path, interval_seconds)
        if start:
            self.checkpointer.start()
        return self.checkpointer

    def dispose(self) -> None:
        self.disposed = True
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.session.remove()
        self.engine.dispose()


def _native(module: str, name: str) -> Any:
    """The function before gevent's monkey-patching (a real thread, a real sleep)."""
    import importlib

    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return getattr(importlib.import_module(module), name)
    return monkey.get_original(module, name)


class WalCheckpointer:
    """PASSIVE checkpoints of one SQLite file from a native OS thread with its own
    connection. PASSIVE never waits for a lock and never blocks a writer; sqlite3 releases
    the GIL while it copies and fsyncs, so under gevent the hub (every request) runs on.
    Once a checkpoint has copied the whole WAL, the next writer starts it over from the
    beginning: the file stays the size a few intervals of writes need."""

    def __init__(self, path: str, interval_seconds: float) -> None:
        self.path = path
        self.interval = interval_seconds
        #: Checkpoints run so far, and the last one's (busy, WAL frames, frames copied).
        self.rounds = 0
        self.last: tuple[int, int, int] | None = None
        self._connection: Any = None  # sqlite3.Connection (imported only for SQLite)
        self._stopped = False
        self._running = False

    def checkpoint(self) -> tuple[int, int, int]:
        if self._connection is None:
            import sqlite3

            self._connection = sqlite3.connect(
                self.path, timeout=0, isolation_level=None, check_same_thread=False
            )
        row = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.last = (int(row[0]), int(row[1]), int(row[2]))
        self.rounds += 1
        return self.last

    def start(self) -> None:
        if not self._running:
            self._running = True
            _native("_thread", "start_new_thread")(self._loop, ())

    def stop(self) -> None:
        self._stopped = True

    def _loop(self) -> None:
        import sqlite3

        sleep = _native("time", "sleep")
        try:
            while not self._stopped:
                sleep(self.interval)
                try:
                    self.checkpoint()
                except sqlite3.Error:  # the file gone, or unreadable for a moment: again
                    logger.exception("WAL checkpoint failed (%s)", self.path)
                    self._close()
        finally:
            self._close()
            self._running = False

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _make_sqlite_transactional(engine: Engine, database: Database) -> None:
    """SQLite ignores FOR UPDATE: take the write lock at BEGIN so two writers serialise."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if database.autocheckpoint_pages is not None:  # checkpoints in the background
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(database.autocheckpoint_pages)}")
            # after a burst, the WAL file shrinks back when it is started over
            cursor.execute(f"PRAGMA journal_size_limit={64 * 1024 * 1024}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

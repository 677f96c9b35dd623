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


class Database:
    """One engine and session factory per app; SQLite gets write-safe transactions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
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
        if self.is_sqlite:
            _make_sqlite_transactional(self.engine)
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

    def dispose(self) -> None:
        self.session.remove()
        self.engine.dispose()


def _make_sqlite_transactional(engine: Engine) -> None:
    """SQLite ignores FOR UPDATE: take the write lock at BEGIN so two writers serialise."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

"""Durable store-and-forward for what citizens press while the server is unreachable.

A rating pressed during a network outage must not be lost, and must not count twice.
:class:`Spool` keeps items in a SQLite file (WAL, ``synchronous=FULL``: a committed
``put`` survives a killed process and a power cut); every item gets an idempotency key
(uuid4 hex) that travels with it, so the server can drop a repeat.

:class:`Forwarder` delivers pending items strictly in insertion order through a
``send(item) -> bool`` callable. A failed item is retried with capped back-off and
nothing behind it is sent first: a rating must not overtake the ticket event it refers
to. An item is marked delivered only after ``send`` returned True and is never offered
again after that; if the process dies between the two, the item is sent once more on
restart and the server's key check makes that harmless (at-least-once on the wire,
exactly-once in effect).

``send`` returns True once the server has taken responsibility for the item, including
a permanent rejection it reported (log it: retrying cannot help and would block every
item behind it); False, or an exception, means "try again later".
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devices.serial.backoff import Backoff

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: never reused, so order holds
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX IF NOT EXISTS spool_pending ON spool (seq) WHERE delivered_at IS NULL;
"""


@dataclass(frozen=True, slots=True)
class SpoolItem:
    """One stored item; ``key`` is its idempotency key, ``created_at`` aware UTC."""

    seq: int
    key: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime


class Spool:
    """The spool file. Thread-safe; one process at a time should forward from it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: each statement is its own durable transaction.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def put(self, kind: str, payload: Mapping[str, Any]) -> str:
        """Store an item durably and return its idempotency key."""
        key = uuid.uuid4().hex
        body = json.dumps(dict(payload), ensure_ascii=False, separators=(",", ":"))
        created_at = datetime.now(UTC).isoformat()
        with self._lock:
            self._db.execute(
                "INSERT INTO spool (key, kind, payload, created_at) VALUES (?, ?, ?, ?)",
                (key, kind, body, created_at),
            )
        for listener in list(self._listeners):
            listener()
        return key

    def pending(self, limit: int | None = None) -> list[SpoolItem]:
        """Items not yet delivered, oldest first."""
        sql = (
            "SELECT seq, key, kind, payload, created_at FROM spool"
            " WHERE delivered_at IS NULL ORDER BY seq LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(sql, (-1 if limit is None else limit,)).fetchall()
        return [_item(row) for row in rows]

    def pending_count(self) -> int:
        with self._lock:
            (count,) = self._db.execute(
                "SELECT count(*) FROM spool WHERE delivered_at IS NULL"
            ).fetchone()
        return count

    def mark_delivered(self, key: str) -> bool:
        """Mark an item delivered; False if it was unknown or already delivered."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE spool SET delivered_at = ? WHERE key = ? AND delivered_at IS NULL",
                (datetime.now(UTC).isoformat(), key),
            )
        return cursor.rowcount == 1

    def purge_delivered(self, older_than: timedelta) -> int:
        """Delete delivered items older than ``older_than``; returns how many."""
        cutoff = (datetime.now(UTC) - older_than).isoformat()
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM spool WHERE delivered_at IS NOT NULL AND delivered_at < ?",
                (cutoff,),
            )
        return cursor.rowcount

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` (on the putting thread) after every put."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _item(row: tuple[int, str, str, str, str]) -> SpoolItem:
    seq, key, kind, payload, created_at = row
    return SpoolItem(seq, key, kind, json.loads(payload), datetime.fromisoformat(created_at))


class Forwarder:
    """Delivers a spool's items in order on one named thread, retrying with back-off."""

    def __init__(
        self,
        spool: Spool,
        send: Callable[[SpoolItem], bool],
        *,
        retry_initial: float = 1.0,
        retry_max: float = 60.0,
        poll_interval: float = 30.0,
        name: str = "spool-forwarder",
    ) -> None:
        """``poll_interval`` bounds how long an idle forwarder sleeps without a put."""
        self.spool = spool
        self.name = name
        self.poll_interval = poll_interval
        self._send = send
        self._backoff = Backoff(retry_initial, retry_max)
        self._cv = threading.Condition()
        self._new_items = False
        self._woken = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._last_error: str | None = None

    @property
    def healthy(self) -> bool:
        """True while the forwarding thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name}: already started")
        self.spool.subscribe(self._on_put)
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Retry now, skipping the back-off (call it when the server connection is back)."""
        with self._cv:
            self._woken = True
            self._cv.notify_all()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread (after the ``send`` in progress, if any). Idempotent."""
        self.spool.unsubscribe(self._on_put)
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                logger.warning("%s: still inside send() after %.0f s", self.name, timeout)

    def _on_put(self) -> None:
        with self._cv:
            self._new_items = True
            self._cv.notify_all()

    def _run(self) -> None:
        failures = 0
        while not self._stopping:
            with self._cv:
                self._new_items = False
            head = self.spool.pending(limit=1)
            if not head:
                self._wait(lambda: self._new_items or self._woken, self.poll_interval)
                continue
            item = head[0]
            if self._deliver(item):
                if failures:
                    logger.info("%s: delivering again after %d failure(s)", self.name, failures)
                failures = 0
                self._backoff.reset()
                self.spool.mark_delivered(item.key)
                continue
            failures += 1
            if failures == 1:  # one warning per outage, not one per retry
                logger.warning(
                    "%s: cannot deliver %s %s (%s); %d item(s) waiting, retrying",
                    self.name,
                    item.kind,
                    item.key,
                    self._last_error or "send returned False",
                    self.spool.pending_count(),
                )
            if self._wait(lambda: self._woken, self._backoff.next()):
                self._backoff.reset()

    def _deliver(self, item: SpoolItem) -> bool:
        self._last_error = None
        try:
            return bool(self._send(item))
        except Exception as exc:
            self._last_error = f"{type(exc).__name__}: {exc}"
            logger.debug("%s: send failed for %s", self.name, item.key, exc_info=True)
            return False

    def _wait(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait for ``condition`` (or close) up to ``timeout``; True if woken explicitly."""
        with self._cv:
            self._cv.wait_for(lambda: self._stopping or condition(), timeout)
            woken, self._woken = self._woken, False
        return woken

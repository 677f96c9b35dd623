"""A connection pool for the gevent worker that serves greenlets in the order they ask.

Why: in the gunicorn gevent worker a greenlet runs until it blocks on I/O. A request on
SQLite never blocks (sqlite3 works in C without yielding), so after answering, the greenlet
of a keep-alive connection whose next request is already in its socket buffer handles that
request at once, and the next, without the event loop ever polling the other sockets.
Requests that arrived meanwhile wait until that greenlet's buffer happens to be empty:
under `wrk -c16` the checkout itself never waited (p99.9 0.04 ms), but the gap between two
requests of one connection reached 0.7 s at p99 and 1.6 s at worst, and the busiest
connection got 5.7 times as many tickets as the least busy one.

What: connections are handed out strictly first come, first served. A returned connection
goes directly to the longest waiter: a greenlet that asks at the same moment (a keep-alive
connection's next request) queues behind it instead of taking the connection back first,
which SQLAlchemy's queue (a ``threading.Condition``, patched by gevent) allows. On SQLite a
greenlet also lets the event loop run one iteration, sockets polled, before it queues
(`next_loop_iteration`), so the greenlets whose requests arrived meanwhile get to the
pool too, and requests take turns.

Only for the gevent worker: every waiter is a greenlet of one thread.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from sqlalchemy import exc
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool


class FifoGate:
    """At most `size` holders (None: no limit); waiters are served in arrival order, each
    release handing the place directly to the longest waiter."""

    def __init__(self, size: int | None) -> None:
        self.free = size
        self.waiters: deque[Any] = deque()  # gevent.event.Event, one per waiting greenlet

    def acquire(self, timeout: float | None) -> bool:
        """True once the caller holds a place; False after `timeout` seconds."""
        if self.free is None:
            return True
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return True
        from gevent.event import Event

        turn = Event()
        self.waiters.append(turn)
        try:
            turn.wait(timeout)
        except BaseException:  # killed or timed out from outside while waiting
            self._give_up(turn)
            raise
        if turn.is_set():
            return True
        self._give_up(turn)
        return False

    def _give_up(self, turn: Any) -> None:
        if turn.is_set():  # the place was handed over meanwhile: pass it on
            self.release()
        else:
            self.waiters.remove(turn)

    def release(self) -> None:
        if self.free is None:
            return
        if self.waiters:
            self.waiters.popleft().set()  # the place goes to them, never back to `free`
        else:
            self.free += 1


def next_loop_iteration() -> None:
    """Let the loop poll the sockets and run the other runnable greenlets, then resume;
    greenlets that call this resume in the order they called it.

    ``gevent.sleep(0)`` does not poll: greenlets that sleep with 0 in turn can keep the
    sockets waiting. ``gevent.sleep(1e-6)`` arms a timer due 1 µs from now, for which
    libev's poll blocks at least 1 ms when nothing else is ready (0.1-0.4 ms a call,
    measured). A 0 s timer from the current time is due before the next poll, which then
    does not block (2 µs a call); the current time, not the loop's cached one, orders the
    timers as they were armed.
    """
    from gevent import get_hub

    hub = get_hub()
    hub.loop.update_now()
    with hub.loop.timer(0) as turn:
        hub.wait(turn)


class FairQueuePool(QueuePool):
    """QueuePool whose checkouts pass a FIFO gate sized to the pool's limit."""

    #: Let the event loop run once before queueing (for drivers that never yield).
    yield_first = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unlimited = self._max_overflow == -1
        self._gate = FifoGate(None if unlimited else self.size() + self._max_overflow)
        self._inside: set[Any] = set()

    def _do_get(self) -> ConnectionPoolEntry:
        from gevent import getcurrent

        me = getcurrent()
        if me in self._inside:  # QueuePool._do_get retrying itself: already through
            return super()._do_get()
        if self.yield_first:
            next_loop_iteration()
        if not self._gate.acquire(self._timeout):
            raise exc.TimeoutError(
                f"QueuePool limit of size {self.size()} overflow {self._max_overflow} "
                f"reached, connection timed out, timeout {self._timeout:.2f}",
                code="3o7r",
            )
        self._inside.add(me)
        try:
            return super()._do_get()
        except BaseException:
            self._gate.release()
            raise
        finally:
            self._inside.discard(me)

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        try:
            super()._do_return_conn(record)
        finally:
            self._gate.release()


class TurnTakingQueuePool(FairQueuePool):
    """FairQueuePool for SQLite, whose requests never wait for I/O: every checkout first
    lets the loop poll the sockets, so requests that arrived meanwhile queue up too.

    PostgreSQL does not need it: psycopg yields while it waits for each query's result.
    """

    yield_first = True

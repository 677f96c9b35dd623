"""The head of a counter's lines: which ticket a counter takes next, atomically.

Concurrency (two counters never get the same ticket):
- the chosen ticket is taken with ``FOR UPDATE SKIP LOCKED`` (and its status is re-checked
  by the store's update);
- the service's interleave counter (in its numbering row) moves by compare-and-set, so two
  counters choosing from the same service at once are serialized and the second one
  chooses again with the first one's result;
- SQLite holds the database write lock from ``BEGIN IMMEDIATE`` instead (``FOR UPDATE``
  is not rendered there).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, exists, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from server.domain.lifecycle import TicketStatus
from server.domain.queueing import Line, PriorityPolicy, ServiceQueueState, after_call, choose_line
from server.models import CounterService, NumberSequence, Ticket
from server.services.queue import lock_sequence

_T = Ticket.__table__
_WAITING = TicketStatus.WAITING.value


def line_waiting(is_priority: bool) -> Any:
    """EXISTS: someone waits in the (priority or normal) line of the counter's service."""
    return exists().where(
        _T.c.service_id == CounterService.service_id,
        _T.c.day == bindparam("day"),
        _T.c.status == _WAITING,
        _T.c.is_priority.is_(is_priority),
    )


_LINE_FLAGS = select(
    exists().where(
        _T.c.service_id == bindparam("service_id"),
        _T.c.day == bindparam("day"),
        _T.c.status == _WAITING,
        _T.c.is_priority.is_(True),
    ),
    exists().where(
        _T.c.service_id == bindparam("service_id"),
        _T.c.day == bindparam("day"),
        _T.c.status == _WAITING,
        _T.c.is_priority.is_(False),
    ),
)
_LOCK_INTERLEAVE = (
    select(NumberSequence.normal_since_priority)
    .where(
        NumberSequence.service_id == bindparam("service_id"),
        NumberSequence.day == bindparam("day"),
    )
    .with_for_update()
)
# Compare-and-set: the interleave counter moves only from the value the choice was made
# with. On PostgreSQL a concurrent call on the same service makes this wait for its commit
# and then match nothing, and the choice is made again under the row's lock.
_SET_INTERLEAVE = (
    update(NumberSequence)
    .where(
        NumberSequence.service_id == bindparam("b_service_id"),
        NumberSequence.day == bindparam("b_day"),
        NumberSequence.normal_since_priority.is_not_distinct_from(bindparam("b_old")),
    )
    .values(normal_since_priority=bindparam("b_value"))
    .execution_options(synchronize_session=False)
)
_HEAD_OF_LINE = (
    select(_T)
    .where(
        and_(
            _T.c.service_id == bindparam("service_id"),
            _T.c.day == bindparam("day"),
            _T.c.status == _WAITING,
            _T.c.is_priority == bindparam("is_priority"),
        )
    )
    .order_by(_T.c.queued_at, _T.c.id)
    .limit(1)
    .with_for_update(skip_locked=True)
)


@dataclass(frozen=True)
class CounterLine:
    """One service the counter serves, in the counter's order, with who is waiting."""

    service_id: int
    position: int
    name: str
    active: bool
    policy: str
    interleave_every: int
    priority_waiting: bool
    normal_waiting: bool
    #: The service's numbering row for the day exists (it carries the interleave counter).
    has_sequence: bool
    normal_since_priority: int | None


def expire_loaded(session: Session, model: type, ident: Any) -> None:
    """Expire `model`'s row `ident` if this session holds it (Core wrote behind its back)."""
    obj = session.identity_map.get(identity_key(model, ident))
    if obj is not None:
        session.expire(obj)


def take_head(session: Session, line: CounterLine, day: date) -> dict[str, Any] | None:
    """Choose the service's line by its policy and take (lock) its first ticket.

    Optimistic first: the head is taken with SKIP LOCKED and the interleave counter moved
    by compare-and-set, with no wait on the service. When another counter moved the
    counter meanwhile, the choice is made again under the numbering row's lock. On
    PostgreSQL both writes run in a savepoint that is rolled back if they come to nothing
    (a failed compare-and-set may still hold the row's lock), so a counter moving on to
    its next service never holds a lock another counter waits for: counters serving the
    same services in different orders cannot deadlock. SQLite runs one writer at a time.
    """
    conn = session.connection()
    params = {"service_id": line.service_id, "day": day}
    if not line.has_sequence:  # no numbering row yet (tickets added another way)
        lock_sequence(session, line.service_id, day)
    normal_since = line.normal_since_priority
    waiting = (line.priority_waiting, line.normal_waiting)
    for _attempt in range(3):
        chosen = _choose(line, normal_since, waiting)
        if chosen is None:
            return None
        head = _head(conn, params, chosen)
        if head is None:
            # The flags were read a moment ago; another counter may have emptied the line.
            waiting = tuple(conn.execute(_LINE_FLAGS, params).one())
            continue
        after = after_call(normal_since, chosen)
        if after == normal_since:
            return head
        with _savepoint(session) as savepoint:
            if _move_interleave(session, line, day, normal_since, after):
                return head
            savepoint.rollback()
        break
    with _savepoint(session) as savepoint:
        normal_since = conn.execute(_LOCK_INTERLEAVE, params).scalar_one()
        chosen = _choose(line, normal_since, tuple(conn.execute(_LINE_FLAGS, params).one()))
        head = _head(conn, params, chosen) if chosen is not None else None
        if head is None:
            savepoint.rollback()  # let go of the numbering row before the next service
            return None
        after = after_call(normal_since, chosen)
        if after != normal_since:
            _move_interleave(session, line, day, normal_since, after)
        return head


class _NoSavepoint:
    def rollback(self) -> None:
        pass


@contextmanager
def _savepoint(session: Session) -> Iterator[Any]:
    """A savepoint on PostgreSQL; nothing on SQLite (one writer holds the database)."""
    if session.get_bind().dialect.name != "postgresql":
        yield _NoSavepoint()
        return
    with session.begin_nested() as savepoint:
        session.connection()  # emits SAVEPOINT now: the statements run on the connection
        yield savepoint


def _choose(line: CounterLine, normal_since: int | None, waiting: tuple[Any, ...]) -> Line | None:
    return choose_line(
        ServiceQueueState(
            policy=PriorityPolicy(line.policy),
            interleave_every=line.interleave_every,
            normal_since_priority=normal_since,
            priority_waiting=bool(waiting[0]),
            normal_waiting=bool(waiting[1]),
        )
    )


def _head(conn: Any, params: dict[str, Any], chosen: Line) -> dict[str, Any] | None:
    head = (
        conn.execute(_HEAD_OF_LINE, {**params, "is_priority": chosen is Line.PRIORITY})
        .mappings()
        .first()
    )
    return dict(head) if head is not None else None


def _move_interleave(
    session: Session, line: CounterLine, day: date, old: int | None, new: int | None
) -> bool:
    moved = (
        session.connection()
        .execute(
            _SET_INTERLEAVE,
            {"b_service_id": line.service_id, "b_day": day, "b_old": old, "b_value": new},
        )
        .rowcount
    )
    expire_loaded(session, NumberSequence, (line.service_id, day))
    return moved == 1

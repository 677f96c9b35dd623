"""Call next: the counter's next ticket, the hottest path after issuing.

Every statement is a prebuilt Core statement on the session's connection; the counter, its
ordered services, their policies and which of their lines have people waiting come back in
one round trip. A call is typically nine statements on PostgreSQL (counter, release the
ticket still at the counter: lock + update + event, head of line, interleave counter when
it moves, update ticket, update counter, event) plus the waiting counts for the displays.

Concurrency (two counters never get the same ticket):
- the chosen ticket is taken with ``FOR UPDATE SKIP LOCKED`` and its status re-checked by
  the update;
- the service's interleave counter (in its numbering row) moves by compare-and-set, so two
  counters choosing from the same service at once are serialized and the second one
  chooses again with the first one's result;
- SQLite holds the database write lock from ``BEGIN IMMEDIATE`` instead (``FOR UPDATE``
  is not rendered there).
The "who is waiting" flags are read with the counter: a line found empty is looked at
again, so a stale flag costs one more statement, never a wrong or double call.

Rows the session already holds (a test's Counter, say) are expired after the Core writes,
so ORM code running later in the same session sees the new state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from server.db import OutboxMessage, outbox
from server.domain.clock import DEFAULT_TIMEZONE, local_day
from server.domain.errors import NoTicketWaiting
from server.domain.queueing import Line, PriorityPolicy, ServiceQueueState, after_call, choose_line
from server.domain.tickets import TicketAction, TicketStatus, next_status
from server.models import (
    Centre,
    Counter,
    CounterService,
    NumberSequence,
    Service,
    Ticket,
    User,
)
from server.models.centre import counter_label
from server.services import events
from server.services.views import counter_dict, ticket_view

_T = Ticket.__table__
_WAITING = TicketStatus.WAITING.value


def _line_waiting(is_priority: bool) -> Any:
    return exists().where(
        _T.c.service_id == CounterService.service_id,
        _T.c.day == bindparam("day"),
        _T.c.status == _WAITING,
        _T.c.is_priority.is_(is_priority),
    )


_COUNTER_LINES = (
    select(
        Counter.id,
        Counter.centre_id,
        Counter.number,
        Counter.name,
        Counter.zone,
        Counter.status,
        Counter.status_reason,
        Counter.staff_id,
        Counter.current_ticket_id,
        Centre.timezone,
        User.full_name,
        User.username,
        CounterService.service_id,
        CounterService.position,
        Service.name.label("service_name"),
        Service.active.label("service_active"),
        Service.priority_policy,
        Service.interleave_every,
        _line_waiting(True).label("priority_waiting"),
        _line_waiting(False).label("normal_waiting"),
        NumberSequence.day.label("sequence_day"),
        NumberSequence.normal_since_priority,
    )
    .join(Centre, Centre.id == Counter.centre_id)
    .outerjoin(User, User.id == Counter.staff_id)
    .outerjoin(CounterService, CounterService.counter_id == Counter.id)
    .outerjoin(Service, Service.id == CounterService.service_id)
    .outerjoin(
        NumberSequence,
        and_(
            NumberSequence.service_id == CounterService.service_id,
            NumberSequence.day == bindparam("day"),
        ),
    )
    .where(Counter.id == bindparam("counter_id"))
    .order_by(CounterService.position)
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
_LOCK_TICKET = select(_T).where(_T.c.id == bindparam("ticket_id")).with_for_update()
_FINISH_TICKET = (
    update(_T)
    .where(_T.c.id == bindparam("ticket_id"))
    .values(status=bindparam("b_status"), finished_at=bindparam("b_now"))
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
_CALL_TICKET = (
    update(_T)
    .where(_T.c.id == bindparam("ticket_id"), _T.c.status == _WAITING)
    .values(
        status=TicketStatus.CALLED.value,
        called_at=bindparam("b_now"),
        counter_id=bindparam("b_counter_id"),
        staff_id=bindparam("b_staff_id"),
        call_count=bindparam("b_call_count"),
    )
)
_SET_CURRENT = (
    update(Counter.__table__)
    .where(Counter.__table__.c.id == bindparam("b_counter_id"))
    .values(current_ticket_id=bindparam("ticket_id"))
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


@dataclass
class CounterState:
    """The counter's row, its centre's time zone, staff name and ordered lines."""

    id: int
    centre_id: int
    number: int
    name: str
    zone: str
    status: str
    status_reason: str
    staff_id: int | None
    staff_name: str | None
    current_ticket_id: int | None
    timezone: str
    lines: list[CounterLine]

    @property
    def label(self) -> str:
        return counter_label(self.number, self.name)


def load_counter_state(session: Session, counter_id: int, day_of: datetime) -> CounterState | None:
    """The counter with its lines for the local day of `day_of` (one statement)."""
    # The day depends on the centre's time zone, which this statement also reads: the
    # default zone gives the day; a centre elsewhere is read again with its own day.
    state = _read_counter(session, counter_id, local_day(day_of, DEFAULT_TIMEZONE))
    if state is not None and state.timezone != DEFAULT_TIMEZONE:
        state = _read_counter(session, counter_id, local_day(day_of, state.timezone))
    return state


def _read_counter(session: Session, counter_id: int, day: date) -> CounterState | None:
    rows = (
        session.connection().execute(_COUNTER_LINES, {"counter_id": counter_id, "day": day}).all()
    )
    if not rows:
        return None
    first = rows[0]
    return CounterState(
        id=first.id,
        centre_id=first.centre_id,
        number=first.number,
        name=first.name,
        zone=first.zone,
        status=first.status,
        status_reason=first.status_reason,
        staff_id=first.staff_id,
        staff_name=(first.full_name or first.username) if first.staff_id is not None else None,
        current_ticket_id=first.current_ticket_id,
        timezone=first.timezone,
        lines=[
            CounterLine(
                service_id=r.service_id,
                position=r.position,
                name=r.service_name,
                active=bool(r.service_active),
                policy=r.priority_policy,
                interleave_every=r.interleave_every,
                priority_waiting=bool(r.priority_waiting),
                normal_waiting=bool(r.normal_waiting),
                has_sequence=r.sequence_day is not None,
                normal_since_priority=r.normal_since_priority,
            )
            for r in rows
            if r.service_id is not None
        ],
    )


def _expire_loaded(session: Session, model: type, ident: Any) -> None:
    """Expire `model`'s row `ident` if this session holds it (Core wrote behind its back)."""
    obj = session.identity_map.get(identity_key(model, ident))
    if obj is not None:
        session.expire(obj)


def _detached_ticket(
    row: dict[str, Any], counter: CounterState, service_name: str | None
) -> Ticket:
    """A Ticket not attached to the session, carrying what views and callers read."""
    ticket = Ticket(**row)
    ticket.service = Service(
        id=row["service_id"],
        centre_id=counter.centre_id,
        name=service_name or "",
        centre=Centre(id=counter.centre_id, timezone=counter.timezone),
    )
    if row["counter_id"] is not None:
        ticket.counter = Counter(
            id=row["counter_id"],
            centre_id=counter.centre_id,
            number=counter.number,
            name=counter.name,
        )
    return ticket


def _emit(session: Session, event: str, payload: dict[str, Any], *rooms: str) -> None:
    outbox(session).append(OutboxMessage(event, payload, rooms))


def call_next(
    session: Session,
    *,
    counter_id: int,
    now: datetime,
    actor: Any,
    authorize: Callable[[CounterState], None] | None = None,
) -> Ticket:
    """Give the counter the next ticket under its services' order and priority policies.

    `authorize` (the API's permission check) sees the counter before anything changes.
    Returns a detached Ticket (id, number, status, service and counter names) of the call.
    """
    from server.services.tickets import NotFound, record_event, waiting_counts

    session.flush()  # pending ORM changes must be visible to the Core statements below
    counter = load_counter_state(session, counter_id, now)
    if counter is None:
        raise NotFound(f"Không tìm thấy quầy số {counter_id}.", f"counter {counter_id} not found")
    if authorize is not None:
        authorize(counter)
    conn = session.connection()
    centre_room = events.centre_room(counter.centre_id)
    day = local_day(now, counter.timezone)
    names = {line.service_id: line.name for line in counter.lines}

    if counter.current_ticket_id is not None:
        _release(session, counter, names, now, actor, record_event)

    # A free counter is taken by whoever calls; a supervisor calling at a staff member's
    # counter acts for them and does not take the counter away.
    staff_id = counter.staff_id
    if staff_id is None and actor.staff_id is not None:
        staff_id = actor.staff_id
    for line in counter.lines:
        if not line.active or not (line.priority_waiting or line.normal_waiting):
            continue
        row = _take_head(session, line, day)
        if row is None:
            continue
        before = row["status"]
        row.update(
            status=next_status(TicketStatus(before), TicketAction.CALL).value,
            called_at=now,
            counter_id=counter.id,
            staff_id=staff_id if staff_id is not None else actor.staff_id,
            call_count=row["call_count"] + 1,
        )
        conn.execute(
            _CALL_TICKET,
            {
                "ticket_id": row["id"],
                "b_now": now,
                "b_counter_id": counter.id,
                "b_staff_id": row["staff_id"],
                "b_call_count": row["call_count"],
            },
        )
        _expire_loaded(session, Ticket, row["id"])
        _seat(session, counter, row["id"], staff_id, now)
        record_event(session, row, TicketAction.CALL.value, before, now, actor)
        ticket = _detached_ticket(row, counter, names.get(row["service_id"]))
        _emit(
            session,
            events.TICKET_CALLED,
            {"ticket": ticket_view(ticket, timezone=counter.timezone), "recall": False},
            centre_room,
        )
        _emit_counter(session, counter, row)
        counts = waiting_counts(session, counter.centre_id, day)
        _emit(
            session,
            events.QUEUE_UPDATED,
            {
                "centre_id": counter.centre_id,
                "services": [{"id": sid, "waiting": n} for sid, n in sorted(counts.items())],
            },
            centre_room,
        )
        return ticket
    if counter.current_ticket_id is not None:
        conn.execute(_SET_CURRENT, {"b_counter_id": counter.id, "ticket_id": None})
        _expire_loaded(session, Counter, counter.id)
        counter.current_ticket_id = None
    _emit_counter(session, counter, None)
    raise NoTicketWaiting(
        f"Không có công dân nào đang chờ các dịch vụ của {counter.label}.",
        f"nobody is waiting for the services of counter {counter.number}",
    )


def _release(
    session: Session,
    counter: CounterState,
    names: dict[int, str],
    now: datetime,
    actor: Any,
    record_event: Callable[..., None],
) -> None:
    """Finish the ticket still at the counter: pressing Next means the citizen was served."""
    conn = session.connection()
    found = conn.execute(_LOCK_TICKET, {"ticket_id": counter.current_ticket_id}).mappings().first()
    if found is None or found["status"] not in (
        TicketStatus.CALLED.value,
        TicketStatus.SERVING.value,
    ):
        return
    row = dict(found)
    before = row["status"]
    row["status"] = next_status(TicketStatus(before), TicketAction.FINISH).value
    row["finished_at"] = now
    conn.execute(_FINISH_TICKET, {"ticket_id": row["id"], "b_status": row["status"], "b_now": now})
    _expire_loaded(session, Ticket, row["id"])
    record_event(session, row, TicketAction.FINISH.value, before, now, actor, auto=True)
    ticket = _detached_ticket(row, counter, names.get(row["service_id"]))
    _emit(
        session,
        events.TICKET_UPDATED,
        {"ticket": ticket_view(ticket, timezone=counter.timezone)},
        events.centre_room(counter.centre_id),
    )


def _take_head(session: Session, line: CounterLine, day: date) -> dict[str, Any] | None:
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
        from server.services.tickets import lock_sequence

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
    _expire_loaded(session, NumberSequence, (line.service_id, day))
    return moved == 1


def _seat(
    session: Session, counter: CounterState, ticket_id: int, staff_id: int | None, now: datetime
) -> None:
    """Make the ticket the counter's current one, opening the counter if need be."""
    if counter.status == "open" and staff_id == counter.staff_id:
        session.connection().execute(
            _SET_CURRENT, {"b_counter_id": counter.id, "ticket_id": ticket_id}
        )
        _expire_loaded(session, Counter, counter.id)
    else:
        # Status or staff changes: through the ORM, whose flush hook writes counter_events.
        row: Counter = session.get(Counter, counter.id, populate_existing=True)
        row.current_ticket_id = ticket_id
        row.staff_id = staff_id
        if row.status != "open":
            row.status, row.status_reason, row.status_since = "open", "", now
        session.flush()
        counter.status, counter.status_reason = row.status, row.status_reason
    counter.staff_id = staff_id
    counter.current_ticket_id = ticket_id
    if staff_id is not None and counter.staff_name is None:
        user = session.get(User, staff_id)
        counter.staff_name = (user.full_name or user.username) if user else None


def _emit_counter(session: Session, counter: CounterState, current: dict[str, Any] | None) -> None:
    view = counter_dict(
        id=counter.id,
        centre_id=counter.centre_id,
        number=counter.number,
        name=counter.label,
        zone=counter.zone,
        status=counter.status,
        status_reason=counter.status_reason,
        staff_id=counter.staff_id,
        staff_name=counter.staff_name,
        services=[
            {"id": line.service_id, "name": line.name, "position": line.position}
            for line in counter.lines
        ],
        current=current,
    )
    _emit(
        session,
        events.COUNTER_UPDATED,
        {"counter": view},
        events.centre_room(counter.centre_id),
        events.counter_room(counter.id),
    )

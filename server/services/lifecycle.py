"""The one store of the ticket lifecycle: load under locks, ask the domain, write back.

Every counter and ticket operation (call next, call a ticket, recall, start, finish,
no-show, requeue, transfer; open, pause, close a counter) goes through `_run`:

1. **Lock, counter first, then tickets** (docs/lifecycle.md). The counter row is locked
   (``SELECT … FOR UPDATE``) before any ticket, by every path, finish included: two
   presses at one counter run one after the other, and no two paths take the same two
   locks in opposite orders. A ticket command locks the ticket's counter, then the
   ticket, and refuses if the ticket moved to another counter in between. SQLite takes
   the database write lock at ``BEGIN IMMEDIATE`` instead (``FOR UPDATE`` is not
   rendered there).
2. **Decide**: `server.domain.lifecycle.decide` returns the new state and its events.
3. **Write**: Core statements on the session's connection (the hot paths), one UPDATE per
   changed row, the ``ticket_events`` trail, ``counter_events`` when a counter's duty
   changes, and the real-time events appended to the transaction's outbox.

ORM objects the session already holds for the rows written are expired, so later ORM code
in the same request reads the new state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.orm import Session

from server.db import OutboxMessage, outbox
from server.domain import lifecycle as domain
from server.domain.actors import SYSTEM, Actor
from server.domain.clock import DEFAULT_TIMEZONE, local_day
from server.domain.errors import DomainError, InvalidRequest, NotFound
from server.domain.lifecycle import (
    CounterMoved,
    CounterStatus,
    Hall,
    Outcome,
    Resolution,
    Rules,
    TicketAction,
    TicketMoved,
    TicketState,
    TicketStatus,
)
from server.models import (
    Centre,
    Counter,
    CounterEvent,
    CounterService,
    NumberSequence,
    Service,
    Ticket,
    User,
)
from server.models.base import detached
from server.models.centre import counter_label
from server.services import events
from server.services.lines import CounterLine, expire_loaded, line_waiting, take_head
from server.services.queue import queue_payload, waiting_counts
from server.services.report_rollups import invalidate_if_past
from server.services.trail import record_events
from server.services.views import broadcast_ticket_view, counter_dict

_T = Ticket.__table__
_C = Counter.__table__


class TicketMovedMeanwhile(DomainError):
    code = "ticket_moved"


class OtherLane(DomainError):
    """A bulk filers' lane ticket called at a counter not assigned to that lane."""

    code = "other_lane"
    http_status = 409


def _refuse_other_lane(session: Session, counter_id: int, service_id: int) -> None:
    """A ticket of a bulk filers' lane is called only at a counter serving that lane."""
    lane = session.execute(
        select(Service.name).where(Service.id == service_id, Service.bulk_lane.is_(True))
    ).scalar_one_or_none()
    if lane is None:
        return
    assigned = session.execute(
        select(CounterService.counter_id).where(
            CounterService.counter_id == counter_id, CounterService.service_id == service_id
        )
    ).first()
    if assigned is None:
        raise OtherLane(
            f"Số này thuộc luồng «{lane}» (tổ chức, doanh nghiệp nộp nhiều hồ sơ): chỉ quầy "
            "được gán luồng này mới gọi được.",
            f"this number is in the bulk filers' lane {lane!r}: only the counters assigned "
            "to that lane call it",
        )


_COUNTER_LINES = (
    select(
        _C.c.id,
        _C.c.centre_id,
        _C.c.number,
        _C.c.name,
        _C.c.zone,
        _C.c.status,
        _C.c.status_reason,
        _C.c.status_since,
        _C.c.staff_id,
        _C.c.current_ticket_id,
        _C.c.station_id,
        Centre.timezone,
        Centre.settings,
        User.full_name,
        User.username,
        CounterService.service_id,
        CounterService.position,
        Service.name.label("service_name"),
        Service.active.label("service_active"),
        Service.priority_policy,
        Service.interleave_every,
        line_waiting(True).label("priority_waiting"),
        line_waiting(False).label("normal_waiting"),
        NumberSequence.day.label("sequence_day"),
        NumberSequence.normal_since_priority,
    )
    .join(Centre, Centre.id == _C.c.centre_id)
    .outerjoin(User, User.id == _C.c.staff_id)
    .outerjoin(CounterService, CounterService.counter_id == _C.c.id)
    .outerjoin(Service, Service.id == CounterService.service_id)
    .outerjoin(
        NumberSequence,
        and_(
            NumberSequence.service_id == CounterService.service_id,
            NumberSequence.day == bindparam("day"),
        ),
    )
    .where(_C.c.id == bindparam("counter_id"))
    .order_by(CounterService.position)
)
_LOCK_COUNTER = select(_C.c.id).where(_C.c.id == bindparam("counter_id")).with_for_update()
_PEEK_TICKET = select(_T.c.counter_id, _T.c.centre_id).where(_T.c.id == bindparam("ticket_id"))
_LOCK_TICKET = (
    select(_T, Service.name.label("service_name"))
    .join(Service, Service.id == _T.c.service_id)
    .where(_T.c.id == bindparam("ticket_id"))
    .with_for_update(of=_T)
)
_MUTABLE = (
    "status",
    "service_id",
    "counter_id",
    "staff_id",
    "call_count",
    "transfer_count",
    "called_at",
    "started_at",
    "finished_at",
    "outcome",
)
_UPDATE_TICKET = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"), _T.c.status == bindparam("b_from"))
    .values({name: bindparam(f"b_{name}") for name in _MUTABLE})
)
_UPDATE_COUNTER = (
    update(_C)
    .where(_C.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        status_reason=bindparam("b_status_reason"),
        status_since=bindparam("b_status_since"),
        staff_id=bindparam("b_staff_id"),
        current_ticket_id=bindparam("b_current_ticket_id"),
    )
)
_INSERT_COUNTER_EVENT = insert(CounterEvent)
_STAFF_NAME = select(User.full_name, User.username).where(User.id == bindparam("user_id"))
_HELD_ELSEWHERE = select(_C.c.number, _C.c.name).where(
    _C.c.centre_id == bindparam("centre_id"),
    _C.c.staff_id == bindparam("staff_id"),
    _C.c.id != bindparam("counter_id"),
    _C.c.status != CounterStatus.CLOSED.value,
)


@dataclass
class CounterRow:
    """The counter's row, its centre's time zone and rules, staff name and ordered lines."""

    id: int
    centre_id: int
    number: int
    name: str
    zone: str
    status: str
    status_reason: str
    status_since: datetime | None
    staff_id: int | None
    staff_name: str | None
    current_ticket_id: int | None
    timezone: str
    rules: Rules
    lines: list[CounterLine]
    #: The station its rating pad and keypad hang off (server/services/stations.py).
    station_id: int | None = None

    @property
    def label(self) -> str:
        return counter_label(self.number, self.name)

    def state(self) -> domain.CounterState:
        return domain.CounterState(
            id=self.id,
            number=self.number,
            label=self.label,
            status=CounterStatus(self.status),
            staff_id=self.staff_id,
            current_ticket_id=self.current_ticket_id,
            status_reason=self.status_reason,
            status_since=self.status_since,
        )


# --- reading and locking -----------------------------------------------------------------


def load_counter(
    session: Session, counter_id: int, day_of: datetime, *, lock: bool = False
) -> CounterRow | None:
    """The counter with its lines for the local day of `day_of`, locked if `lock`."""
    conn = session.connection()
    locking = lock and conn.dialect.name == "postgresql"
    if locking and conn.execute(_LOCK_COUNTER, {"counter_id": counter_id}).first() is None:
        return None
    # The day depends on the centre's time zone, which this statement also reads: the
    # default zone gives the day; a centre elsewhere is read again with its own day.
    row = _read_counter(session, counter_id, local_day(day_of, DEFAULT_TIMEZONE))
    if row is not None and row.timezone != DEFAULT_TIMEZONE:
        row = _read_counter(session, counter_id, local_day(day_of, row.timezone))
    return row


def _read_counter(session: Session, counter_id: int, day: date) -> CounterRow | None:
    rows = (
        session.connection().execute(_COUNTER_LINES, {"counter_id": counter_id, "day": day}).all()
    )
    if not rows:
        return None
    first = rows[0]
    return CounterRow(
        id=first.id,
        centre_id=first.centre_id,
        number=first.number,
        name=first.name,
        zone=first.zone,
        status=first.status,
        status_reason=first.status_reason,
        status_since=first.status_since,
        staff_id=first.staff_id,
        staff_name=(first.full_name or first.username) if first.staff_id is not None else None,
        current_ticket_id=first.current_ticket_id,
        station_id=first.station_id,
        timezone=first.timezone,
        rules=Rules.from_settings(first.settings),
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


def _lock_ticket(session: Session, ticket_id: int) -> dict[str, Any] | None:
    found = session.connection().execute(_LOCK_TICKET, {"ticket_id": ticket_id}).mappings()
    row = found.first()
    return dict(row) if row is not None else None


def _state(row: Mapping[str, Any]) -> TicketState:
    return TicketState(
        id=row["id"],
        number=row["display_number"],
        service_id=row["service_id"],
        status=TicketStatus(row["status"]),
        counter_id=row["counter_id"],
        staff_id=row["staff_id"],
        call_count=row["call_count"],
        transfer_count=row["transfer_count"],
        called_at=row["called_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
    )


def _counter_not_found(counter_id: int) -> NotFound:
    return NotFound(f"Không tìm thấy quầy số {counter_id}.", f"counter {counter_id} not found")


def _ticket_not_found(ticket_id: int) -> NotFound:
    return NotFound(f"Không tìm thấy phiếu số {ticket_id}.", f"ticket {ticket_id} not found")


# --- the run: lock, decide, write ---------------------------------------------------------


@dataclass
class _Run:
    """What one operation loaded: the counter (if any) and the ticket rows, by id."""

    session: Session
    now: datetime
    actor: Actor
    counter: CounterRow | None
    rows: dict[int, dict[str, Any]]
    timezone: str = DEFAULT_TIMEZONE
    #: Detached Tickets of the rows, once written (`_detached`).
    built: dict[int, Ticket] = field(default_factory=dict)

    def hall(self) -> Hall:
        return Hall(
            self.counter.state() if self.counter else None,
            {ident: _state(row) for ident, row in self.rows.items()},
        )

    def add_ticket(self, ticket_id: int) -> dict[str, Any]:
        if ticket_id not in self.rows:
            row = _lock_ticket(self.session, ticket_id)
            if row is None:
                raise _ticket_not_found(ticket_id)
            self.rows[ticket_id] = row
        return self.rows[ticket_id]


def _begin(session: Session, counter_id: int | None, now: datetime, actor: Actor) -> _Run:
    session.flush()  # pending ORM changes must be visible to the Core statements below
    counter = None
    if counter_id is not None:
        counter = load_counter(session, counter_id, now, lock=True)
        if counter is None:
            raise _counter_not_found(counter_id)
    run = _Run(session, now, actor, counter, {})
    if counter is not None:
        run.timezone = counter.timezone
        if counter.current_ticket_id is not None:
            run.add_ticket(counter.current_ticket_id)
    return run


def _begin_on_ticket(session: Session, ticket_id: int, now: datetime, actor: Actor) -> _Run:
    """Lock the ticket's counter (if it is at one), then the ticket."""
    session.flush()
    peek = session.connection().execute(_PEEK_TICKET, {"ticket_id": ticket_id}).first()
    if peek is None:
        raise _ticket_not_found(ticket_id)
    run = _begin(session, peek.counter_id, now, actor)
    row = run.add_ticket(ticket_id)
    if row["counter_id"] != peek.counter_id:
        raise TicketMovedMeanwhile(
            f"Phiếu {row['display_number']} vừa được quầy khác xử lý; hãy tải lại và thử lại.",
            f"ticket {row['display_number']} moved to another counter meanwhile; retry",
        )
    if run.counter is None:
        run.timezone = _centre_timezone(session, peek.centre_id)
    return run


def _centre_timezone(session: Session, centre_id: int) -> str:
    zone = (
        session.connection()
        .execute(select(Centre.timezone).where(Centre.id == centre_id))
        .scalar_one_or_none()
    )
    return zone or DEFAULT_TIMEZONE


def _write(run: _Run, before: Hall, decision: domain.Decision) -> None:
    """Write `decision` and queue its real-time events."""
    conn = run.session.connection()
    after = decision.hall
    updates: list[dict[str, Any]] = []
    changed: list[tuple[int, TicketState, dict[str, Any]]] = []
    for ident, ticket in after.tickets.items():
        old = before.tickets.get(ident)
        if ticket == old:
            continue
        changes = _ticket_changes(ticket)
        updates.append(
            {"b_id": ident, "b_from": old.status.value if old else ticket.status.value}
            | {f"b_{k}": v for k, v in changes.items()}
        )
        if old is not None and ticket.service_id != old.service_id:  # a transfer
            changes["service_name"] = conn.execute(
                select(Service.name).where(Service.id == ticket.service_id)
            ).scalar_one()
        changed.append((ident, ticket, changes))
    if updates:
        # One statement for all of them (a call releases one ticket and calls another):
        # executemany, one round trip on PostgreSQL (psycopg's pipeline).
        written = conn.execute(_UPDATE_TICKET, updates if len(updates) > 1 else updates[0])
        if written.rowcount != len(updates):  # the lock makes this impossible
            number = ", ".join(ticket.number for _, ticket, _ in changed)
            raise TicketMovedMeanwhile(
                f"Phiếu {number} vừa thay đổi; hãy thử lại.",
                f"ticket {number} changed meanwhile; retry",
            )
    for ident, _, changes in changed:
        run.rows[ident].update(changes)
        expire_loaded(run.session, Ticket, ident)
    counter = run.counter
    if counter is not None and after.counter is not None and after.counter != before.counter:
        state = after.counter
        conn.execute(
            _UPDATE_COUNTER,
            {
                "b_id": state.id,
                "b_status": state.status.value,
                "b_status_reason": state.status_reason,
                "b_status_since": state.status_since,
                "b_staff_id": state.staff_id,
                "b_current_ticket_id": state.current_ticket_id,
            },
        )
        expire_loaded(run.session, Counter, state.id)
        if state.staff_id is not None and state.staff_id != counter.staff_id:
            counter.staff_name = _staff_name(run.session, state.staff_id)
        counter.status, counter.status_reason = state.status.value, state.status_reason
        counter.status_since, counter.staff_id = state.status_since, state.staff_id
        counter.current_ticket_id = state.current_ticket_id
    _trail(run, decision)
    _announce(run, decision)


def _ticket_changes(ticket: TicketState) -> dict[str, Any]:
    return {
        "status": ticket.status.value,
        "service_id": ticket.service_id,
        "counter_id": ticket.counter_id,
        "staff_id": ticket.staff_id,
        "call_count": ticket.call_count,
        "transfer_count": ticket.transfer_count,
        "called_at": ticket.called_at,
        "started_at": ticket.started_at,
        "finished_at": ticket.finished_at,
        "outcome": ticket.outcome.value if ticket.outcome else None,
    }


def _staff_name(session: Session, user_id: int) -> str | None:
    row = session.connection().execute(_STAFF_NAME, {"user_id": user_id}).first()
    return (row.full_name or row.username) if row else None


def _trail(run: _Run, decision: domain.Decision) -> None:
    """``ticket_events`` for every ticket move, ``counter_events`` for every duty change."""
    moves = []
    for event in decision.events:
        if isinstance(event, TicketMoved):
            row = run.rows[event.ticket.id]
            data = {k: (v.value if isinstance(v, Outcome) else v) for k, v in event.data.items()}
            moves.append((row, event.action.value, event.from_status.value, data))
        elif event.duty_changed and run.counter is not None:
            run.session.connection().execute(
                _INSERT_COUNTER_EVENT,
                {
                    "centre_id": run.counter.centre_id,
                    "counter_id": event.counter.id,
                    "staff_id": (
                        event.counter.staff_id
                        if event.counter.staff_id is not None
                        else event.from_staff_id
                    ),
                    "from_status": event.from_status.value,
                    "status": event.counter.status.value,
                    "reason": event.counter.status_reason,
                    "at": run.now,
                },
            )
    record_events(run.session, moves, run.now, run.actor)
    # A ticket of an earlier day moved (after midnight): its day's roll-up is stale.
    invalidate_if_past(
        run.session,
        {(row["centre_id"], row["day"]) for row, *_ in moves if "day" in row},
        run.now,
        run.timezone,
    )


def _detached(run: _Run, row: Mapping[str, Any]) -> Ticket:
    """A Ticket not attached to the session, carrying what views and callers read (built
    once per run and ticket: the event's view and the caller read the same final row)."""
    built = run.built.get(row["id"])
    if built is not None:
        return built
    values = {k: v for k, v in row.items() if k != "service_name"}
    centre = detached(Centre, id=row["centre_id"], timezone=run.timezone)
    values["service"] = detached(
        Service,
        id=row["service_id"],
        centre_id=row["centre_id"],
        name=row["service_name"],
        centre=centre,
    )
    counter = run.counter
    if row["counter_id"] is not None and counter is not None and counter.id == row["counter_id"]:
        values["counter"] = detached(
            Counter,
            id=counter.id,
            centre_id=counter.centre_id,
            number=counter.number,
            name=counter.name,
        )
    built = run.built[row["id"]] = detached(Ticket, **values)
    return built


_TICKET_EVENT = {
    TicketAction.CALL: events.TICKET_CALLED,
    TicketAction.RECALL: events.TICKET_RECALLED,
}


def _announce(run: _Run, decision: domain.Decision) -> None:
    """Queue the real-time events: tickets in order, then the counter, then the lines."""
    box = outbox(run.session)
    centre_id = run.counter.centre_id if run.counter else None
    for event in decision.events:
        if not isinstance(event, TicketMoved):
            continue
        row = run.rows[event.ticket.id]
        centre_id = row["centre_id"]
        payload: dict[str, Any] = {
            "ticket": broadcast_ticket_view(_detached(run, row), timezone=run.timezone)
        }
        name = _TICKET_EVENT.get(event.action, events.TICKET_UPDATED)
        if name != events.TICKET_UPDATED:
            payload["recall"] = event.action is TicketAction.RECALL
        box.append(
            OutboxMessage(
                name,
                payload,
                (events.centre_room(centre_id),),
                extra={"public_code": row["public_code"]},  # for the ticket's own followers
            )
        )
    counter = run.counter
    # The counter's view carries its current ticket's status: a start changes it too.
    if counter is not None and any(
        isinstance(e, CounterMoved)
        or (isinstance(e, TicketMoved) and e.ticket.id == counter.current_ticket_id)
        for e in decision.events
    ):
        box.append(counter_message(counter, run.rows.get(counter.current_ticket_id)))
    if decision.queue_changed and centre_id is not None:
        day = local_day(run.now, run.timezone)
        stamps: dict[int, int] = {}
        counts = waiting_counts(run.session, centre_id, day, stamps)
        box.append(
            OutboxMessage(
                events.QUEUE_UPDATED,
                queue_payload(centre_id, day, counts, stamps),
                (events.centre_room(centre_id),),
            )
        )


def counter_message(counter: CounterRow, current: Mapping[str, Any] | None) -> OutboxMessage:
    """``counter.updated`` for the centre and the counter's own room."""
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
    return OutboxMessage(
        events.COUNTER_UPDATED,
        {"counter": view},
        (events.centre_room(counter.centre_id), events.counter_room(counter.id)),
    )


def _run(run: _Run, command: domain.Command, principal: int | None) -> Ticket | None:
    before = run.hall()
    rules = run.counter.rules if run.counter else Rules()
    decision = domain.decide(before, command, run.now, rules)
    _write(run, before, decision)
    return _detached(run, run.rows[principal]) if principal is not None else None


# --- calling -----------------------------------------------------------------------------


def call_next(
    session: Session,
    *,
    counter_id: int,
    now: datetime,
    actor: Actor = SYSTEM,
    resolve: Resolution | None = None,
    resolve_for: int | None = None,
    authorize: Callable[[CounterRow], None] | None = None,
) -> Ticket:
    """Give the counter the next ticket under its services' order and priority policies.

    `resolve` says what happened to the ticket still at the counter, `resolve_for` which
    ticket that answer is about (see `server.domain.lifecycle.CallNext`); `authorize` (the API's permission check) sees the counter
    before anything changes. Returns a detached Ticket (id, number, status, service and
    counter names) of the call.
    """
    run = _begin(session, counter_id, now, actor)
    counter = run.counter
    assert counter is not None
    if authorize is not None:
        authorize(counter)
    # Refuse (the current ticket was only called, say) before taking anyone from a line.
    domain.release_current(run.hall(), resolve, now, counter.rules, resolve_for)
    day = local_day(now, counter.timezone)
    candidate = None
    for line in counter.lines:
        if not line.active or not (line.priority_waiting or line.normal_waiting):
            continue
        head = take_head(session, line, day)
        if head is not None:
            head["service_name"] = line.name
            run.rows[head["id"]] = head
            candidate = head["id"]
            break
    command = domain.CallNext(candidate, actor.staff_id, resolve, resolve_for)
    ticket = _run(run, command, candidate)
    assert ticket is not None
    return ticket


def call_ticket(
    session: Session,
    *,
    counter_id: int,
    ticket_id: int,
    now: datetime,
    actor: Actor = SYSTEM,
    resolve: Resolution | None = None,
    resolve_for: int | None = None,
    authorize: Callable[[CounterRow], None] | None = None,
) -> Ticket:
    """Call a specific ticket (a waiting one out of turn, or a no-show who came back)."""
    run = _begin(session, counter_id, now, actor)
    counter = run.counter
    assert counter is not None
    if authorize is not None:
        authorize(counter)
    row = run.add_ticket(ticket_id)
    if row["centre_id"] != counter.centre_id:
        raise InvalidRequest("Phiếu không thuộc trung tâm này.", "ticket belongs to another centre")
    _refuse_other_lane(session, counter.id, row["service_id"])
    command = domain.CallTicket(ticket_id, actor.staff_id, resolve, resolve_for)
    ticket = _run(run, command, ticket_id)
    assert ticket is not None
    return ticket


# --- transitions of one ticket -------------------------------------------------------------

#: A permission check on the locked rows: the ticket's counter (None: in a line) and ticket.
TicketCheck = Callable[[CounterRow | None, Mapping[str, Any]], None]


def _on_ticket(
    session: Session,
    ticket_id: int,
    command: domain.Command,
    now: datetime,
    actor: Actor,
    authorize: TicketCheck | None = None,
) -> Ticket:
    run = _begin_on_ticket(session, ticket_id, now, actor)
    if authorize is not None:
        authorize(run.counter, run.rows[ticket_id])
    ticket = _run(run, command, ticket_id)
    assert ticket is not None
    return ticket


def recall(
    session: Session,
    *,
    ticket_id: int,
    now: datetime,
    actor: Actor = SYSTEM,
    authorize: TicketCheck | None = None,
) -> Ticket:
    """Call the same ticket again (announced again); it stays called."""
    return _on_ticket(session, ticket_id, domain.Recall(ticket_id), now, actor, authorize)


def start(
    session: Session,
    *,
    ticket_id: int,
    now: datetime,
    actor: Actor = SYSTEM,
    authorize: TicketCheck | None = None,
) -> Ticket:
    """The citizen arrived at the counter: service time starts."""
    return _on_ticket(session, ticket_id, domain.Start(ticket_id), now, actor, authorize)


def finish(
    session: Session,
    *,
    ticket_id: int,
    now: datetime,
    actor: Actor = SYSTEM,
    outcome: Outcome = Outcome.SERVED,
    authorize: TicketCheck | None = None,
) -> Ticket:
    """Service done with `outcome`; the counter is free and the rating pad may rate it."""
    command = domain.Finish(ticket_id, outcome)
    return _on_ticket(session, ticket_id, command, now, actor, authorize)


def mark_no_show(
    session: Session,
    *,
    ticket_id: int,
    now: datetime,
    actor: Actor = SYSTEM,
    authorize: TicketCheck | None = None,
) -> Ticket:
    """The citizen did not come to the counter after being called."""
    return _on_ticket(session, ticket_id, domain.MarkNoShow(ticket_id), now, actor, authorize)


def requeue(
    session: Session,
    *,
    ticket_id: int,
    now: datetime,
    actor: Actor = SYSTEM,
    authorize: TicketCheck | None = None,
) -> Ticket:
    """Put a no-show back in line at its original place (issue time)."""
    return _on_ticket(session, ticket_id, domain.Requeue(ticket_id), now, actor, authorize)


def cancel(
    session: Session,
    *,
    ticket_id: int,
    now: datetime,
    actor: Actor = SYSTEM,
) -> Ticket:
    """Take a waiting number back before its call (a remote or booked number of a day the
    centre closed): it leaves its line; its holder is told by the caller."""
    return _on_ticket(session, ticket_id, domain.Cancel(ticket_id), now, actor)


def transfer(
    session: Session,
    *,
    ticket_id: int,
    service_id: int,
    now: datetime,
    actor: Actor = SYSTEM,
    authorize: TicketCheck | None = None,
) -> Ticket:
    """Move the ticket to another service's line, keeping its place by issue time."""
    target = session.get(Service, service_id)
    if target is None:
        raise NotFound(
            f"Không tìm thấy dịch vụ số {service_id}.", f"service {service_id} not found"
        )

    def same_centre(counter: CounterRow | None, row: Mapping[str, Any]) -> None:
        if authorize is not None:
            authorize(counter, row)
        if target.centre_id != row["centre_id"]:
            raise InvalidRequest(
                "Không thể chuyển sang dịch vụ của trung tâm khác.",
                "service belongs to another centre",
            )

    command = domain.Transfer(ticket_id, service_id)
    return _on_ticket(session, ticket_id, command, now, actor, same_centre)


# --- the counter ---------------------------------------------------------------------------


COUNTER_STATUSES = tuple(s.value for s in CounterStatus)


def set_counter_status(
    session: Session,
    counter: Counter | int,
    status: str,
    reason: str = "",
    *,
    now: datetime,
    staff_id: int | None = None,
    actor: Actor | str = SYSTEM,
) -> CounterRow:
    """Open (the caller becomes its staff), pause with a reason, or close (frees the counter)."""
    if status not in COUNTER_STATUSES:
        raise ValueError(f"unknown counter status {status!r}")
    if isinstance(actor, str):
        actor = Actor(actor)
    counter_id = counter if isinstance(counter, int) else counter.id
    run = _begin(session, counter_id, now, actor)
    row = run.counter
    assert row is not None
    command: domain.Command
    if status == CounterStatus.OPEN.value:
        holds_other = None
        if staff_id is not None:
            other = (
                session.connection()
                .execute(
                    _HELD_ELSEWHERE,
                    {"centre_id": row.centre_id, "staff_id": staff_id, "counter_id": row.id},
                )
                .first()
            )
            holds_other = counter_label(other.number, other.name) if other else None
        command = domain.OpenCounter(staff_id, holds_other)
    elif status == CounterStatus.PAUSED.value:
        command = domain.PauseCounter(reason)
    else:
        command = domain.CloseCounter()
    _run(run, command, None)
    return replace(row)

"""Ticket operations: issue, call next, recall, start, finish, no-show, requeue, transfer.

Each takes an open session and `now`, loads and locks rows, asks the domain, writes the
ticket and its `ticket_events` row, and appends real-time events to the outbox.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.db import OutboxMessage, outbox
from server.domain.clock import local_day
from server.domain.errors import DomainError, IllegalTransition
from server.domain.numbering import Allocation, NumberRange, allocate_number, format_number
from server.domain.tickets import ACTIVE_STATUSES, TicketAction, TicketStatus, next_status
from server.models import (
    Centre,
    Counter,
    Field,
    NumberSequence,
    PriorityCategory,
    Service,
    Station,
    Ticket,
    TicketEvent,
)
from server.services import events
from server.services.views import counter_view, ticket_view


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class InvalidRequest(DomainError):
    code = "invalid_request"
    http_status = 422


@dataclass(frozen=True)
class Actor:
    """Who did it: a staff member, a station, or the system."""

    name: str
    staff_id: int | None = None


SYSTEM = Actor("system")


def _get(session: Session, model: type, ident: int, what_vi: str, what_en: str) -> Any:
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"Không tìm thấy {what_vi} số {ident}.", f"{what_en} {ident} not found")
    return row


# Hot-path statements are built once, with bind parameters: building a statement costs
# more than running it on SQLite.
_BUMP_NUMBER = (
    update(NumberSequence)
    .where(
        NumberSequence.service_id == bindparam("b_service_id"),
        NumberSequence.day == bindparam("b_day"),
        NumberSequence.cycle == 0,
        NumberSequence.last_number.is_not(None),
        NumberSequence.last_number >= bindparam("range_start"),
        NumberSequence.last_number < bindparam("range_end"),
    )
    .values(last_number=NumberSequence.last_number + 1)
    .returning(NumberSequence.last_number)
    .execution_options(synchronize_session=False)
)
_WAITING_COUNTS = (
    select(Ticket.service_id, func.count())
    .where(
        Ticket.centre_id == bindparam("centre_id"),
        Ticket.day == bindparam("day"),
        Ticket.status == TicketStatus.WAITING.value,
    )
    .group_by(Ticket.service_id)
)
_INSERT_EVENT = insert(TicketEvent)
_INSERT_TICKET = insert(Ticket).returning(Ticket.id)
_ISSUE_CONTEXT = (
    select(
        Service.id,
        Service.centre_id,
        Service.field_id,
        Service.name,
        Service.prefix,
        Service.range_start,
        Service.range_end,
        Service.active,
        Centre.name.label("centre_name"),
        Centre.subtitle.label("centre_subtitle"),
        Centre.timezone,
        Field.name.label("field_name"),
        PriorityCategory.centre_id.label("category_centre_id"),
        PriorityCategory.active.label("category_active"),
        PriorityCategory.name.label("category_name"),
        Station.centre_id.label("station_centre_id"),
        Station.has_printer.label("station_has_printer"),
    )
    .join(Centre, Centre.id == Service.centre_id)
    .join(Field, Field.id == Service.field_id)
    .outerjoin(PriorityCategory, PriorityCategory.id == bindparam("category_id"))
    .outerjoin(Station, Station.id == bindparam("station_id"))
    .where(Service.id == bindparam("service_id"))
)


def lock_sequence(session: Session, service_id: int, day: date) -> NumberSequence:
    """The (service, day) numbering row, created if absent and locked until commit."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(NumberSequence)
        .values(service_id=service_id, day=day, last_number=None, cycle=0)
        .on_conflict_do_nothing()
    )
    stmt = select(NumberSequence).where(
        NumberSequence.service_id == service_id, NumberSequence.day == day
    )
    if dialect == "postgresql":
        stmt = stmt.with_for_update()
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


def record_event(
    session: Session,
    ticket: Mapping[str, Any],
    kind: str,
    from_status: str | None,
    now: datetime,
    actor: Actor,
    **data: Any,
) -> None:
    """Append the transition to `ticket_events`; `ticket` is the row after the change."""
    # A Core insert: the trail is append-only and never read back in the same request,
    # so the ORM's unit of work would only add cost on the hottest paths.
    session.connection().execute(
        _INSERT_EVENT,
        {
            "ticket_id": ticket["id"],
            "centre_id": ticket["centre_id"],
            "service_id": ticket["service_id"],
            "kind": kind,
            "from_status": from_status,
            "to_status": ticket["status"],
            "at": now,
            "actor": actor.name,
            "counter_id": ticket["counter_id"],
            # The civil servant serving the ticket (evaluation); `actor` says who pressed.
            "staff_id": ticket["staff_id"] if ticket["staff_id"] is not None else actor.staff_id,
            "data": data,
        },
    )


def _record(
    session: Session,
    ticket: Ticket,
    kind: str,
    from_status: str | None,
    now: datetime,
    actor: Actor,
    **data: Any,
) -> None:
    row = {
        "id": ticket.id,
        "centre_id": ticket.centre_id,
        "service_id": ticket.service_id,
        "status": ticket.status,
        "counter_id": ticket.counter_id,
        "staff_id": ticket.staff_id,
    }
    record_event(session, row, kind, from_status, now, actor, **data)


def waiting_counts(session: Session, centre_id: int, day: date) -> dict[int, int]:
    """Waiting tickets per service id for the centre's day."""
    # Core statements run on the session's connection directly: same transaction, without
    # the ORM execution layer (measurably cheaper on the hot paths). Pending ORM changes
    # (a requeued ticket, say) must reach the database before we count.
    session.flush()
    rows = session.connection().execute(_WAITING_COUNTS, {"centre_id": centre_id, "day": day})
    return {service_id: count for service_id, count in rows}


def _emit_queue(
    session: Session, centre: Centre, now: datetime, counts: dict[int, int] | None = None
) -> dict[int, int]:
    if counts is None:
        counts = waiting_counts(session, centre.id, local_day(now, centre.timezone))
    outbox(session).append(
        OutboxMessage(
            events.QUEUE_UPDATED,
            {
                "centre_id": centre.id,
                "services": [{"id": sid, "waiting": n} for sid, n in sorted(counts.items())],
            },
            (events.centre_room(centre.id),),
        )
    )
    return counts


def _emit_ticket(
    session: Session, event: str, ticket: Ticket, centre: Centre, **extra: Any
) -> None:
    payload = {"ticket": ticket_view(ticket, timezone=centre.timezone), **extra}
    outbox(session).append(OutboxMessage(event, payload, (events.centre_room(centre.id),)))


def _emit_counter(session: Session, counter: Counter, current: Ticket | None) -> None:
    outbox(session).append(
        OutboxMessage(
            events.COUNTER_UPDATED,
            {"counter": counter_view(counter, current)},
            (events.centre_room(counter.centre_id), events.counter_room(counter.id)),
        )
    )


# --- issuing ---------------------------------------------------------------------------


def _next_number(session: Session, service: Service, day: date) -> Allocation:
    """Allocate the service's next number for `day` under the (service, day) row lock.

    Fast path, one statement: on the first pass of the day a number is simply the last
    one plus one (the domain's rule for fresh numbers). Anything else (first ticket of the
    day, end of the range, after a wrap) goes through `allocate_number` with the row locked.
    """
    fast = (
        session.connection()
        .execute(
            _BUMP_NUMBER,
            {
                "b_service_id": service.id,
                "b_day": day,
                "range_start": service.range_start,
                "range_end": service.range_end,
            },
        )
        .scalar_one_or_none()
    )
    if fast is not None:
        return Allocation(fast, 0)
    sequence = lock_sequence(session, service.id, day)

    def is_active(n: int) -> bool:
        return (
            session.execute(
                select(Ticket.id).where(
                    Ticket.issued_service_id == service.id,
                    Ticket.day == day,
                    Ticket.number == n,
                    Ticket.status.in_([s.value for s in ACTIVE_STATUSES]),
                )
            ).first()
            is not None
        )

    allocation = allocate_number(
        NumberRange(service.range_start, service.range_end),
        sequence.last_number,
        sequence.cycle,
        is_active,
    )
    sequence.last_number = allocation.number
    sequence.cycle = allocation.cycle
    return allocation


def _waiting_in_service(
    session: Session, service_id: int, day: date, *, priority_only: bool
) -> int:
    conditions = [
        Ticket.service_id == service_id,
        Ticket.day == day,
        Ticket.status == TicketStatus.WAITING.value,
    ]
    if priority_only:
        conditions.append(Ticket.is_priority.is_(True))
    return session.execute(select(func.count()).where(*conditions)).scalar_one()


@dataclass(frozen=True)
class IssuedTicket:
    ticket: Ticket
    waiting_ahead: int
    print_job_id: str | None
    timezone: str = "Asia/Ho_Chi_Minh"


def issue_ticket(
    session: Session,
    *,
    service_id: int,
    now: datetime,
    priority_category_id: int | None = None,
    station_id: int | None = None,
    actor: Actor = SYSTEM,
    qr_base_url: str = "",
    request_id: str | None = None,
) -> IssuedTicket:
    """Hand out the next number of the service's range for the centre's local day.

    With `request_id` (the kiosk's idempotency key) a repeated request returns the ticket
    the first one created, so a lost response and a tap on "retry" never give two tickets.
    """
    if request_id is not None:
        existing = session.execute(
            select(Ticket).where(Ticket.request_id == request_id)
        ).scalar_one_or_none()
        if existing is not None:
            return _already_issued(session, existing)
    # Service, centre, field, priority category and station in one round trip, as detached
    # objects: issuing is the hottest path and none of them changes here.
    context = (
        session.connection()
        .execute(
            _ISSUE_CONTEXT,
            {
                "service_id": service_id,
                "category_id": priority_category_id,
                "station_id": station_id,
            },
        )
        .first()
    )
    if context is None:
        raise NotFound(
            f"Không tìm thấy dịch vụ số {service_id}.", f"service {service_id} not found"
        )
    centre = Centre(
        id=context.centre_id,
        name=context.centre_name,
        subtitle=context.centre_subtitle,
        timezone=context.timezone,
    )
    service = Service(
        id=context.id,
        centre_id=context.centre_id,
        field_id=context.field_id,
        name=context.name,
        prefix=context.prefix,
        range_start=context.range_start,
        range_end=context.range_end,
        active=context.active,
    )
    service.centre = centre
    service.field = Field(id=context.field_id, name=context.field_name)
    if not service.active:
        raise InvalidRequest(
            f"Dịch vụ «{service.name}» hiện không nhận phiếu.", f"service {service_id} is inactive"
        )
    category: PriorityCategory | None = None
    if priority_category_id is not None:
        if context.category_centre_id != centre.id or not context.category_active:
            raise InvalidRequest(
                "Đối tượng ưu tiên không hợp lệ.",
                f"priority category {priority_category_id} does not exist in this centre",
            )
        category = PriorityCategory(
            id=priority_category_id, centre_id=centre.id, name=context.category_name
        )
    station: Station | None = None
    if station_id is not None:
        if context.station_centre_id != centre.id:
            raise InvalidRequest(
                "Điểm thiết bị không hợp lệ.", f"station {station_id} does not exist in this centre"
            )
        station = Station(
            id=station_id, centre_id=centre.id, has_printer=bool(context.station_has_printer)
        )

    day = local_day(now, centre.timezone)
    allocation = _next_number(session, service, day)

    values = {
        "centre_id": centre.id,
        "issued_service_id": service.id,
        "service_id": service.id,
        "day": day,
        "number": allocation.number,
        "cycle": allocation.cycle,
        "display_number": format_number(allocation.number, service.prefix),
        "public_code": secrets.token_urlsafe(12),
        "is_priority": category is not None,
        "priority_category_id": category.id if category else None,
        "status": TicketStatus.WAITING.value,
        "issued_at": now,
        "queued_at": now,
        "station_id": station.id if station else None,
        "call_count": 0,
        "transfer_count": 0,
        "request_id": request_id,
    }
    # Issuing is the hottest write: a Core insert instead of the ORM's unit of work. The
    # returned Ticket is a detached copy for views and payloads; load it to change it.
    ticket_id = session.connection().execute(_INSERT_TICKET, values).scalar_one()
    ticket = Ticket(id=ticket_id, **values)
    ticket.service = service
    ticket.priority_category = category
    _record(session, ticket, TicketAction.ISSUE.value, None, now, actor, station_id=station_id)

    counts = waiting_counts(session, centre.id, day)
    if category is not None:
        in_line = _waiting_in_service(session, service.id, day, priority_only=True)
    else:
        in_line = counts.get(service.id, 1)
    waiting_ahead = max(0, in_line - 1)  # everyone already in the line was queued before now

    print_job_id = None
    if station is not None and station.has_printer:
        from server.services.printing import create_print_job  # avoid an import cycle

        print_job_id = create_print_job(
            session, ticket, station, waiting_ahead=waiting_ahead, now=now, qr_base_url=qr_base_url
        )

    _emit_ticket(session, events.TICKET_ISSUED, ticket, centre, waiting_ahead=waiting_ahead)
    _emit_queue(session, centre, now, counts)
    return IssuedTicket(ticket, waiting_ahead, print_job_id, centre.timezone)


def _already_issued(session: Session, ticket: Ticket) -> IssuedTicket:
    from server.models import PrintJob

    job_id = (
        session.execute(
            select(PrintJob.job_id).where(PrintJob.ticket_id == ticket.id).order_by(PrintJob.id)
        )
        .scalars()
        .first()
    )
    centre = session.get(Centre, ticket.centre_id)
    return IssuedTicket(ticket, waiting_ahead_of(session, ticket), job_id, centre.timezone)


# --- calling ---------------------------------------------------------------------------


def _release_current(
    session: Session, counter: Counter, now: datetime, actor: Actor, centre: Centre
) -> None:
    """Finish the ticket still at the counter: pressing Next means the citizen was served."""
    if counter.current_ticket_id is None:
        return
    current = session.get(Ticket, counter.current_ticket_id, with_for_update=True)
    counter.current_ticket_id = None
    if current is None or current.status not in (
        TicketStatus.CALLED.value,
        TicketStatus.SERVING.value,
    ):
        return
    before = current.status
    current.status = next_status(TicketStatus(before), TicketAction.FINISH).value
    current.finished_at = now
    _record(session, current, TicketAction.FINISH.value, before, now, actor, auto=True)
    _emit_ticket(session, events.TICKET_UPDATED, current, centre)


def _take_for_counter(
    session: Session, ticket: Ticket, counter: Counter, now: datetime, actor: Actor
) -> None:
    before = ticket.status
    ticket.status = next_status(TicketStatus(before), TicketAction.CALL).value
    ticket.called_at = now
    ticket.counter_id = counter.id
    ticket.counter = counter
    # A free counter is taken by whoever calls; a supervisor calling at a staff member's
    # counter acts for them and does not take the counter away.
    if counter.staff_id is None and actor.staff_id is not None:
        counter.staff_id = actor.staff_id
    ticket.staff_id = counter.staff_id if counter.staff_id is not None else actor.staff_id
    ticket.call_count += 1
    counter.current_ticket_id = ticket.id
    if counter.status != "open":
        counter.status, counter.status_reason, counter.status_since = "open", "", now
    session.flush()
    _record(session, ticket, TicketAction.CALL.value, before, now, actor)


def call_next(
    session: Session,
    *,
    counter_id: int,
    now: datetime,
    actor: Actor = SYSTEM,
    authorize: Callable[[Any], None] | None = None,
) -> Ticket:
    """Give the counter the next ticket under its services' order and priority policies.

    Atomic: two counters never get the same ticket (see `server.services.calling`).
    Returns a Ticket detached from the session.
    """
    from server.services.calling import call_next as call  # the hot path, Core only

    return call(session, counter_id=counter_id, now=now, actor=actor, authorize=authorize)


def call_ticket(
    session: Session, *, counter_id: int, ticket_id: int, now: datetime, actor: Actor = SYSTEM
) -> Ticket:
    """Call a specific ticket (a waiting one out of turn, or a no-show who came back)."""
    counter: Counter = _get(session, Counter, counter_id, "quầy", "counter")
    ticket: Ticket = _get(session, Ticket, ticket_id, "phiếu", "ticket")
    session.refresh(ticket, with_for_update=True)
    if ticket.centre_id != counter.centre_id:
        raise InvalidRequest("Phiếu không thuộc trung tâm này.", "ticket belongs to another centre")
    next_status(TicketStatus(ticket.status), TicketAction.CALL)  # refuse before side effects
    centre = counter.centre
    if counter.current_ticket_id != ticket.id:
        _release_current(session, counter, now, actor, centre)
    _take_for_counter(session, ticket, counter, now, actor)
    _emit_ticket(session, events.TICKET_CALLED, ticket, centre, recall=False)
    _emit_counter(session, counter, ticket)
    _emit_queue(session, centre, now)
    return ticket


# --- transitions on a ticket at a counter ------------------------------------------------


def _locked_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket: Ticket = _get(session, Ticket, ticket_id, "phiếu", "ticket")
    session.refresh(ticket, with_for_update=True)
    return ticket


def recall(session: Session, *, ticket_id: int, now: datetime, actor: Actor = SYSTEM) -> Ticket:
    """Call the same ticket again (announced again); it stays called."""
    ticket = _locked_ticket(session, ticket_id)
    before = ticket.status
    ticket.status = next_status(TicketStatus(before), TicketAction.RECALL).value
    ticket.call_count += 1
    ticket.called_at = now
    _record(session, ticket, TicketAction.RECALL.value, before, now, actor)
    centre = session.get(Centre, ticket.centre_id)
    _emit_ticket(session, events.TICKET_RECALLED, ticket, centre, recall=True)
    return ticket


def _leave_counter(session: Session, ticket: Ticket) -> Counter | None:
    counter = session.get(Counter, ticket.counter_id) if ticket.counter_id else None
    if counter is not None and counter.current_ticket_id == ticket.id:
        counter.current_ticket_id = None
        return counter
    return None


def _simple_transition(
    session: Session, ticket_id: int, action: TicketAction, now: datetime, actor: Actor
) -> Ticket:
    ticket = _locked_ticket(session, ticket_id)
    before = ticket.status
    ticket.status = next_status(TicketStatus(before), action).value
    if action is TicketAction.START:
        ticket.started_at = now
    elif action is TicketAction.FINISH:
        ticket.finished_at = now
    centre = session.get(Centre, ticket.centre_id)
    counter = None
    if action in (TicketAction.FINISH, TicketAction.NO_SHOW):
        counter = _leave_counter(session, ticket)
    elif ticket.counter_id:
        counter = session.get(Counter, ticket.counter_id)
    _record(session, ticket, action.value, before, now, actor)
    _emit_ticket(session, events.TICKET_UPDATED, ticket, centre)
    if counter is not None:
        current = (
            session.get(Ticket, counter.current_ticket_id) if counter.current_ticket_id else None
        )
        _emit_counter(session, counter, current)
    return ticket


def start(session: Session, *, ticket_id: int, now: datetime, actor: Actor = SYSTEM) -> Ticket:
    """The citizen arrived at the counter: service time starts."""
    return _simple_transition(session, ticket_id, TicketAction.START, now, actor)


def finish(session: Session, *, ticket_id: int, now: datetime, actor: Actor = SYSTEM) -> Ticket:
    """Service done; the counter is free and the rating pad may rate this ticket."""
    return _simple_transition(session, ticket_id, TicketAction.FINISH, now, actor)


def mark_no_show(
    session: Session, *, ticket_id: int, now: datetime, actor: Actor = SYSTEM
) -> Ticket:
    """The citizen did not come to the counter after being called."""
    return _simple_transition(session, ticket_id, TicketAction.NO_SHOW, now, actor)


def requeue(session: Session, *, ticket_id: int, now: datetime, actor: Actor = SYSTEM) -> Ticket:
    """Put a no-show back in line at its original place (issue time)."""
    ticket = _simple_transition(session, ticket_id, TicketAction.REQUEUE, now, actor)
    ticket.counter_id = None
    centre = session.get(Centre, ticket.centre_id)
    _emit_queue(session, centre, now)
    return ticket


def transfer(
    session: Session, *, ticket_id: int, service_id: int, now: datetime, actor: Actor = SYSTEM
) -> Ticket:
    """Move the ticket to another service's line, keeping its place by issue time."""
    ticket = _locked_ticket(session, ticket_id)
    target: Service = _get(session, Service, service_id, "dịch vụ", "service")
    if target.centre_id != ticket.centre_id:
        raise InvalidRequest(
            "Không thể chuyển sang dịch vụ của trung tâm khác.", "service belongs to another centre"
        )
    if target.id == ticket.service_id:
        raise IllegalTransition(
            "Phiếu đã ở dịch vụ này.", f"ticket is already in service {service_id}"
        )
    before = ticket.status
    new_status = next_status(TicketStatus(before), TicketAction.TRANSFER)
    counter = _leave_counter(session, ticket)
    from_service = ticket.service_id
    ticket.status = new_status.value
    ticket.service_id = target.id
    ticket.service = target
    ticket.counter_id = None
    ticket.transfer_count += 1
    # The target line's numbering row must exist so call_next can lock it.
    lock_sequence(session, target.id, ticket.day)
    session.flush()
    _record(
        session,
        ticket,
        TicketAction.TRANSFER.value,
        before,
        now,
        actor,
        from_service_id=from_service,
        to_service_id=target.id,
    )
    centre = session.get(Centre, ticket.centre_id)
    _emit_ticket(session, events.TICKET_UPDATED, ticket, centre)
    if counter is not None:
        _emit_counter(session, counter, None)
    _emit_queue(session, centre, now)
    return ticket


def waiting_ahead_of(session: Session, ticket: Ticket) -> int:
    """People in the same line before this ticket (0 once it is called)."""
    if ticket.status != TicketStatus.WAITING.value:
        return 0
    conditions = [
        Ticket.service_id == ticket.service_id,
        Ticket.day == ticket.day,
        Ticket.status == TicketStatus.WAITING.value,
        (Ticket.queued_at < ticket.queued_at)
        | ((Ticket.queued_at == ticket.queued_at) & (Ticket.id < ticket.id)),
    ]
    if ticket.is_priority:
        conditions.append(Ticket.is_priority.is_(True))
    return session.execute(select(func.count()).where(*conditions)).scalar_one()

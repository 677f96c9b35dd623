"""Who waits: the waiting counts of a centre's day, the people ahead of a ticket, the
(service, day) numbering row, and the `queue.updated` event the displays follow."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.db import OutboxMessage, outbox
from server.domain.clock import local_day
from server.domain.lifecycle import TicketStatus
from server.models import Centre, NumberSequence, Service, Ticket
from server.services import events

#: The lines' waiting counts, kept on the numbering rows by triggers on `tickets`
#: (migration d5e6f7a8b9c0): a look-up of the centre's rows of the day, not a count of its
#: waiting tickets (which grew ~0.25 ms per 1,000 waiting, on every call and issue).
#: Every line of the day that has a row, with its version (`waiting_version`, bumped with
#: each change of `waiting`): a line at 0 is listed too, so its version travels.
_WAITING_COUNTS = (
    select(NumberSequence.service_id, NumberSequence.waiting, NumberSequence.waiting_version)
    .join(Service, Service.id == NumberSequence.service_id)
    .where(Service.centre_id == bindparam("centre_id"), NumberSequence.day == bindparam("day"))
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


def waiting_counts(
    session: Session, centre_id: int, day: date, stamps: dict[int, int] | None = None
) -> dict[int, int]:
    """Waiting tickets per service id for the centre's day (lines with nobody left out).
    `stamps`, when given, receives every line's version of that count (lines at 0 too)."""
    # Core statements run on the session's connection directly: same transaction, without
    # the ORM execution layer (measurably cheaper on the hot paths). Pending ORM changes
    # (a requeued ticket, say) must reach the database before we count.
    session.flush()
    rows = session.connection().execute(_WAITING_COUNTS, {"centre_id": centre_id, "day": day})
    counts = {}
    for service_id, count, version in rows:
        if count > 0:
            counts[service_id] = count
        if stamps is not None:
            stamps[service_id] = int(version)
    return counts


def queue_payload(
    centre_id: int, day: date, counts: dict[int, int], stamps: dict[int, int]
) -> dict:
    """`queue.updated`: the waiting count of every line (unlisted: nobody), and each line's
    version of it (`stamps`, per `day`: a page keeps a line's count unless the event's
    version is at least the one it shows — two events may arrive out of order from two
    processes behind Redis)."""
    return {
        "centre_id": centre_id,
        "services": [{"id": sid, "waiting": n} for sid, n in sorted(counts.items())],
        "day": day.isoformat(),
        "stamps": {str(sid): v for sid, v in sorted(stamps.items())},
    }


def emit_queue(
    session: Session,
    centre: Centre,
    now: datetime,
    counts: dict[int, int] | None = None,
    stamps: dict[int, int] | None = None,
) -> dict[int, int]:
    day = local_day(now, centre.timezone)
    if counts is None or stamps is None:
        stamps = {}
        counts = waiting_counts(session, centre.id, day, stamps)
    outbox(session).append(
        OutboxMessage(
            events.QUEUE_UPDATED,
            queue_payload(centre.id, day, counts, stamps),
            (events.centre_room(centre.id),),
        )
    )
    return counts


def waiting_in_service(session: Session, service_id: int, day: date, *, priority_only: bool) -> int:
    conditions = [
        Ticket.service_id == service_id,
        Ticket.day == day,
        Ticket.status == TicketStatus.WAITING.value,
    ]
    if priority_only:
        conditions.append(Ticket.is_priority.is_(True))
    return session.execute(select(func.count()).where(*conditions)).scalar_one()


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

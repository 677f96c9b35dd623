"""What a screen needs to show the truth right now: the snapshot sent on (re)connect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from server.domain.clock import local_day, to_local, utcnow
from server.domain.errors import NotFound
from server.domain.lifecycle import Rules
from server.models import Centre, Counter, CounterService, Field, Service, Ticket, TicketEvent
from server.services.queue import waiting_counts
from server.services.views import counter_view, service_view


def centre_or_404(session: Session, centre_id: int) -> Centre:
    centre = session.get(Centre, centre_id)
    if centre is None:
        raise NotFound(f"Không tìm thấy trung tâm số {centre_id}.", f"centre {centre_id} not found")
    return centre


def recent_calls(session: Session, centre: Centre, now: datetime, limit: int = 10) -> list[dict]:
    """The latest calls and recalls of the day, newest first."""
    day_start = datetime.combine(local_day(now, centre.timezone), datetime.min.time())
    day_start = day_start.replace(tzinfo=to_local(now, centre.timezone).tzinfo)
    rows = session.execute(
        select(TicketEvent, Ticket, Counter)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .join(Counter, Counter.id == TicketEvent.counter_id)
        .where(
            TicketEvent.centre_id == centre.id,
            TicketEvent.kind.in_(["call", "recall"]),
            TicketEvent.at >= day_start,
        )
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "ticket_id": ticket.id,
            "number": ticket.display_number,
            "counter_id": counter.id,
            "counter_number": counter.number,
            "counter_name": counter.label,
            "service_id": event.service_id,
            "recall": event.kind == "recall",
            "at": to_local(event.at, centre.timezone).isoformat(),
        }
        for event, ticket, counter in rows
    ]


def counters_with_current(
    session: Session, centre_id: int
) -> tuple[list[Counter], dict[int, Ticket]]:
    """The centre's counters (services loaded, in order) and their current tickets by id."""
    counters = (
        session.execute(
            select(Counter)
            .where(Counter.centre_id == centre_id)
            .options(selectinload(Counter.service_links).selectinload(CounterService.service))
            .order_by(Counter.number)
        )
        .scalars()
        .all()
    )
    current_ids = [c.current_ticket_id for c in counters if c.current_ticket_id]
    if not current_ids:
        return list(counters), {}
    rows = session.execute(select(Ticket).where(Ticket.id.in_(current_ids))).scalars()
    return list(counters), {t.id: t for t in rows}


def snapshot(session: Session, centre_id: int, now: datetime) -> dict[str, Any]:
    """Counters with their current ticket, waiting counts, recent calls: the whole hall."""
    centre = centre_or_404(session, centre_id)
    day = local_day(now, centre.timezone)
    stamps: dict[int, int] = {}
    counts = waiting_counts(session, centre.id, day, stamps)
    counters, current = counters_with_current(session, centre.id)
    services = (
        session.execute(
            select(Service)
            .where(Service.centre_id == centre.id, Service.active.is_(True))
            .options(selectinload(Service.counter_links).selectinload(CounterService.counter))
            .order_by(Service.position, Service.id)
        )
        .scalars()
        .all()
    )
    fields = (
        session.execute(
            select(Field).where(Field.centre_id == centre.id).order_by(Field.position, Field.id)
        )
        .scalars()
        .all()
    )
    by_field: dict[int, int] = {}
    for s in services:
        by_field[s.field_id] = by_field.get(s.field_id, 0) + counts.get(s.id, 0)
    calls = recent_calls(session, centre, now)
    return {
        "centre": {
            "id": centre.id,
            "code": centre.code,
            "name": centre.name,
            "subtitle": centre.subtitle,
            "notice": (centre.settings or {}).get("notice", ""),
            # Calls (the call and its recalls) after which "call next" marks a citizen
            # absent without asking (docs/lifecycle.md): the counter page says so.
            "max_calls": Rules.from_settings(centre.settings).max_calls,
        },
        "server_time": to_local(now, centre.timezone).isoformat(),
        "counters": [counter_view(c, current.get(c.current_ticket_id)) for c in counters],
        "services": [service_view(s, counts.get(s.id, 0)) for s in services],
        "fields": [
            {"id": f.id, "name": f.name, "name_en": f.name_en, "waiting": by_field.get(f.id, 0)}
            for f in fields
            if f.active
        ],
        "recent_calls": calls,
        "latest_call": calls[0] if calls else None,
        # The versions of the waiting counts above (queue.updated's `day` and `stamps`): an
        # event older than the snapshot does not undo it.
        "waiting_day": day.isoformat(),
        "waiting_stamps": {str(sid): v for sid, v in sorted(stamps.items())},
    }


def catalog(session: Session, centre_id: int, now: datetime | None = None) -> dict[str, Any]:
    """What the kiosk offers: fields with their services, and the priority categories.

    Each service says whether it issues at `now` (its hours, cut-off and daily cap:
    `availability`, server.services.hours), so the kiosk greys out the closed and full."""
    from server.models import PriorityCategory, Procedure
    from server.services.hours import service_availability

    centre = centre_or_404(session, centre_id)
    fields = (
        session.execute(
            select(Field)
            .where(Field.centre_id == centre.id, Field.active.is_(True))
            .options(selectinload(Field.services))
            .order_by(Field.position, Field.id)
        )
        .scalars()
        .all()
    )
    categories = (
        session.execute(
            select(PriorityCategory)
            .where(PriorityCategory.centre_id == centre.id, PriorityCategory.active.is_(True))
            .order_by(PriorityCategory.position, PriorityCategory.id)
        )
        .scalars()
        .all()
    )
    offered = [s for f in fields for s in f.services if s.active]
    available = service_availability(session, centre, offered, now or utcnow())
    remote_only = bool((centre.settings or {}).get("remote_only"))
    if remote_only:  # the kiosk checks citizens in; numbers come from phones (docs/remote.md)
        closed = {
            "state": "remote_only",
            "open": False,
            "next_opening": None,
            "message": "Trung tâm chỉ cấp số thứ tự qua điện thoại. Quý khách đã có số vui "
            "lòng chọn «Đã có mã từ điện thoại» và nhập mã xác nhận.",
            "message_en": "This centre gives numbers by phone only. With a number, choose "
            "«A code from your phone» and type your code.",
            "opens": "",
            "opens_en": "",
        }
        available = {service_id: dict(closed) for service_id in available}
    # How many procedures each service files: the kiosk offers their papers lists.
    procedures = dict(
        session.execute(
            select(Procedure.service_id, func.count())
            .where(Procedure.centre_id == centre.id, Procedure.active.is_(True))
            .group_by(Procedure.service_id)
        ).all()
    )
    return {
        "centre": {
            "id": centre.id,
            "name": centre.name,
            "subtitle": centre.subtitle,
            "remote_only": remote_only,
        },
        "fields": [
            {
                "id": f.id,
                "name": f.name,
                "name_en": f.name_en,
                "services": [
                    {
                        "id": s.id,
                        "name": s.name,
                        "name_en": s.name_en,
                        "availability": available[s.id],
                        "procedures": procedures.get(s.id, 0),
                        "bulk_lane": bool(s.bulk_lane),
                    }
                    for s in f.services
                    if s.active
                ],
            }
            for f in fields
            if any(s.active for s in f.services)
        ],
        "priority_categories": [
            {"id": c.id, "code": c.code, "name": c.name, "name_en": c.name_en} for c in categories
        ],
    }

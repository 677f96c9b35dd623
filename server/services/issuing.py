"""Issuing a ticket: the next number of the service's range for the centre's local day."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, insert, select
from sqlalchemy.orm import Session

from server.db import OutboxMessage, outbox
from server.domain.actors import SYSTEM, Actor
from server.domain.clock import local_day
from server.domain.errors import InvalidRequest, NotFound
from server.domain.hours import DailyCapReached
from server.domain.lifecycle import TicketAction, TicketStatus
from server.domain.numbering import format_number
from server.domain.remote import RemoteNotAllowed, RemoteOnly
from server.models import (
    Centre,
    CentreClosure,
    Field,
    NumberSequence,
    PriorityCategory,
    Service,
    Station,
    Ticket,
)
from server.models.base import detached
from server.services import events, hours, wait_estimates
from server.services.issue_keys import IssueKey
from server.services.numbering import next_number
from server.services.queue import (
    emit_queue,
    waiting_counts,
    waiting_in_service,
)
from server.services.trail import record_event
from server.services.views import broadcast_ticket_view

# Hot-path statements are built once, with bind parameters: building a statement costs
# more than running it on SQLite.
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
        Service.opening_hours,
        Service.issue_cutoff,
        Service.daily_cap,
        Service.remote_issuing,
        Centre.opening_hours.label("centre_hours"),
        Centre.settings.label("centre_settings"),
        Centre.name.label("centre_name"),
        Centre.subtitle.label("centre_subtitle"),
        Centre.timezone,
        Field.name.label("field_name"),
        PriorityCategory.centre_id.label("category_centre_id"),
        PriorityCategory.active.label("category_active"),
        PriorityCategory.name.label("category_name"),
        Station.centre_id.label("station_centre_id"),
        Station.has_printer.label("station_has_printer"),
        Station.kind.label("station_kind"),
        # A closure (/admin/closures) within a day of now's UTC date, whatever the centre's
        # zone: rare, and then the closure is read exactly (hours.closure_refusal).
        exists()
        .where(
            CentreClosure.centre_id == Service.centre_id,
            CentreClosure.day.between(bindparam("closure_from"), bindparam("closure_to")),
        )
        .label("closure_near"),
    )
    .join(Centre, Centre.id == Service.centre_id)
    .join(Field, Field.id == Service.field_id)
    .outerjoin(PriorityCategory, PriorityCategory.id == bindparam("category_id"))
    .outerjoin(Station, Station.id == bindparam("station_id"))
    .where(Service.id == bindparam("service_id"))
)


def emit_ticket(session: Session, event: str, ticket: Ticket, centre: Centre, **extra: Any) -> None:
    payload = {"ticket": broadcast_ticket_view(ticket, timezone=centre.timezone), **extra}
    outbox(session).append(
        OutboxMessage(
            event,
            payload,
            (events.centre_room(centre.id),),
            extra={"public_code": ticket.public_code},  # for the ticket's own followers
        )
    )


@dataclass(frozen=True)
class IssuedTicket:
    ticket: Ticket
    waiting_ahead: int
    print_job_id: str | None
    timezone: str = "Asia/Ho_Chi_Minh"
    #: The wait estimate's view (server.services.wait_estimates.estimate_view).
    estimate: dict[str, Any] | None = None
    #: The labels of the counters that serve the ticket's service.
    counters: tuple[str, ...] = ()


def issue_ticket(
    session: Session,
    *,
    service_id: int,
    now: datetime,
    priority_category_id: int | None = None,
    station_id: int | None = None,
    actor: Actor = SYSTEM,
    qr_base_url: str = "",
    key: IssueKey | None = None,
    remote: bool = False,
    appointment: str | None = None,
    citizen_name: str | None = None,
) -> IssuedTicket:
    """Hand out the next number of the service's range for the centre's local day.

    `key` (the kiosk's Idempotency-Key, server.services.issue_keys) is stored with the
    ticket under its unique constraint: the caller looks for the key's ticket first, and a
    request racing another with the same key fails on the constraint at the commit.
    `remote`: taken from a phone (server.services.remote): only for a service that allows
    it; a centre switched to remote-only numbering refuses every other ticket.
    `appointment`: a booking checked in (server.services.appointments): "on_time" joins
    the priority line, outside the hours' and the cap's refusals (its slot was booked
    within them); "late" is a walk-in (hours and cap apply). Neither is refused by a
    remote-only centre.
    `citizen_name`: printed on the ticket (the citizen chose so after scanning their ID
    card, server.services.id_cards).
    """
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
                "closure_from": now.date() - timedelta(days=1),
                "closure_to": now.date() + timedelta(days=1),
            },
        )
        .first()
    )
    if context is None:
        raise NotFound(
            f"Không tìm thấy dịch vụ số {service_id}.", f"service {service_id} not found"
        )
    centre = detached(
        Centre,
        id=context.centre_id,
        name=context.centre_name,
        subtitle=context.centre_subtitle,
        timezone=context.timezone,
    )
    service = detached(
        Service,
        id=context.id,
        centre_id=context.centre_id,
        field_id=context.field_id,
        name=context.name,
        prefix=context.prefix,
        range_start=context.range_start,
        range_end=context.range_end,
        active=context.active,
        centre=centre,
        field=detached(Field, id=context.field_id, name=context.field_name),
    )
    if not service.active:
        raise InvalidRequest(
            f"Dịch vụ «{service.name}» hiện không nhận phiếu.", f"service {service_id} is inactive"
        )
    rules = hours.rules_for(
        context.centre_hours, context.opening_hours, context.issue_cutoff, context.daily_cap
    )
    if context.closure_near:
        # A closed day stops every number: walk-ins, phones and check-ins alike.
        closed_today = hours.closure_refusal(session, rules, now, centre.timezone, centre.id)
        if closed_today is not None:
            raise closed_today.error()
    if remote and not context.remote_issuing:
        raise remote_not_allowed(service.name, service_id)
    if not remote and appointment is None and (context.centre_settings or {}).get("remote_only"):
        raise RemoteOnly(
            "Trung tâm chỉ cấp số thứ tự qua điện thoại. Quý khách đã có số vui lòng nhập mã "
            "xác nhận để báo đã đến; chưa có số vui lòng lấy số trên điện thoại.",
            f"centre {centre.id} issues remote numbers only",
        )
    category: PriorityCategory | None = None
    if priority_category_id is not None:
        if context.category_centre_id != centre.id or not context.category_active:
            raise InvalidRequest(
                "Đối tượng ưu tiên không hợp lệ.",
                f"priority category {priority_category_id} does not exist in this centre",
            )
        category = detached(
            PriorityCategory,
            id=priority_category_id,
            centre_id=centre.id,
            name=context.category_name,
        )
    station: Station | None = None
    if station_id is not None:
        if context.station_centre_id != centre.id:
            raise InvalidRequest(
                "Điểm thiết bị không hợp lệ.", f"station {station_id} does not exist in this centre"
            )
        if context.station_kind != "kiosk":  # a counter's slip printer never prints tickets
            raise InvalidRequest(
                "Điểm thiết bị này không phải kiosk lấy số.", f"station {station_id} is not a kiosk"
            )
        station = detached(
            Station,
            id=station_id,
            centre_id=centre.id,
            has_printer=bool(context.station_has_printer),
        )

    # Hours, cut-off and cap: refused before a number is taken (the cap on the locked row).
    on_time = appointment == "on_time"
    closed = None if on_time else hours.refusal(session, rules, now, centre.timezone, service.name)
    if closed is not None:
        raise closed.error()
    day = local_day(now, centre.timezone)
    try:
        allocation = next_number(session, service, day, None if on_time else rules.daily_cap)
    except DailyCapReached:
        raise hours.full(session, rules, now, centre.timezone, service.name).error() from None

    values = {
        "centre_id": centre.id,
        "issued_service_id": service.id,
        "service_id": service.id,
        "day": day,
        "number": allocation.number,
        "cycle": allocation.cycle,
        "display_number": format_number(allocation.number, service.prefix),
        "public_code": secrets.token_urlsafe(12),
        "is_priority": category is not None or on_time,
        "priority_category_id": category.id if category else None,
        "status": TicketStatus.WAITING.value,
        "issued_at": now,
        "queued_at": now,
        "station_id": station.id if station else None,
        "call_count": 0,
        "transfer_count": 0,
        "request_id": key.digest(day) if key else None,
        "request_fingerprint": key.fingerprint if key else None,
        "origin": "appointment" if appointment else "remote" if remote else None,
    }
    # Issuing is the hottest write: a Core insert instead of the ORM's unit of work. The
    # returned Ticket is a detached copy for views and payloads; load it to change it.
    ticket_id = session.connection().execute(_INSERT_TICKET, values).scalar_one()
    ticket = detached(Ticket, id=ticket_id, service=service, priority_category=category, **values)
    record_event(
        session,
        values | {"id": ticket_id, "counter_id": None, "staff_id": None},
        TicketAction.ISSUE.value,
        None,
        now,
        actor,
        station_id=station_id,
    )

    stamps: dict[int, int] = {}
    counts = waiting_counts(session, centre.id, day, stamps)
    if values["is_priority"]:
        in_line = waiting_in_service(session, service.id, day, priority_only=True)
    else:
        in_line = counts.get(service.id, 1)
    waiting_ahead = max(0, in_line - 1)  # everyone already in the line was queued before now
    hall = wait_estimates.hall_state(session, centre.id, centre.timezone, now, counts)
    estimate = wait_estimates.estimate_view(
        hall.wait(service.id, waiting_ahead, priority=values["is_priority"])
    )

    print_job_id = None
    if station is not None and station.has_printer:
        from server.services.printing import create_print_job  # avoid an import cycle

        print_job_id = create_print_job(
            session,
            ticket,
            station,
            waiting_ahead=waiting_ahead,
            now=now,
            qr_base_url=qr_base_url,
            estimate=estimate,
            counters=hall.serving.get(service.id, ()),
            citizen_name=citizen_name,
        )

    emit_ticket(session, events.TICKET_ISSUED, ticket, centre, waiting_ahead=waiting_ahead)
    emit_queue(session, centre, now, counts, stamps)
    return IssuedTicket(
        ticket,
        waiting_ahead,
        print_job_id,
        centre.timezone,
        estimate,
        hall.serving.get(service.id, ()),
    )


def remote_not_allowed(service_name: str, service_id: int) -> RemoteNotAllowed:
    return RemoteNotAllowed(
        f"Dịch vụ «{service_name}» không cấp số qua điện thoại: quý khách vui lòng lấy "
        "số tại kiosk của Trung tâm.",
        f"service {service_id} does not issue remote numbers",
    )


def check_issuable(session: Session, service: Service, centre: Centre, now: datetime) -> None:
    """Refuse, as `issue_ticket(remote=True)` would, a remote number that could not be
    issued now: inactive, the centre closed today, no remote numbers, outside the hours or
    past the cut-off, the day's cap reached. Reads only: asked before a one-time code is
    texted (server.services.remote.check_can_take), so a citizen who cannot get a number
    anyway is not sent one. The cap is read, not locked: issuing checks it again."""
    if not service.active:
        raise InvalidRequest(
            f"Dịch vụ «{service.name}» hiện không nhận phiếu.", f"service {service.id} is inactive"
        )
    rules = hours.service_rules(service, centre)
    closed_today = hours.closure_refusal(session, rules, now, centre.timezone, centre.id)
    if closed_today is not None:
        raise closed_today.error()
    if not service.remote_issuing:
        raise remote_not_allowed(service.name, service.id)
    closed = hours.refusal(session, rules, now, centre.timezone, service.name)
    if closed is not None:
        raise closed.error()
    if rules.daily_cap is not None:
        issued = session.execute(
            select(NumberSequence.issued).where(
                NumberSequence.service_id == service.id,
                NumberSequence.day == local_day(now, centre.timezone),
            )
        ).scalar_one_or_none()
        if (issued or 0) >= rules.daily_cap:
            raise hours.full(session, rules, now, centre.timezone, service.name).error()

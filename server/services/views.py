"""Plain-dict views of rows, shared by the API, the snapshot and the outbox payloads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.domain.clock import to_local
from server.models import Counter, Service, Ticket


def iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def ticket_view(ticket: Ticket, *, timezone: str = "Asia/Ho_Chi_Minh") -> dict[str, Any]:
    counter = ticket.counter
    return {
        "id": ticket.id,
        "number": ticket.display_number,
        "number_value": ticket.number,
        "service_id": ticket.service_id,
        "service_name": ticket.service.name if ticket.service else None,
        "issued_service_id": ticket.issued_service_id,
        "status": ticket.status,
        "is_priority": ticket.is_priority,
        "priority_category_id": ticket.priority_category_id,
        "issued_at": iso(to_local(ticket.issued_at, timezone)),
        "called_at": iso(ticket.called_at and to_local(ticket.called_at, timezone)),
        "started_at": iso(ticket.started_at and to_local(ticket.started_at, timezone)),
        "finished_at": iso(ticket.finished_at and to_local(ticket.finished_at, timezone)),
        "staff_id": ticket.staff_id,
        "counter_id": ticket.counter_id,
        "counter_number": counter.number if counter else None,
        "counter_name": counter.label if counter else None,
        "call_count": ticket.call_count,
        "outcome": ticket.outcome,
        # "appointment" (a booking checked in: the counter shows «Đặt lịch»), "remote", None.
        "origin": ticket.origin,
        "booked": ticket.origin == "appointment",
        "public_code": ticket.public_code,
    }


def broadcast_ticket_view(ticket: Ticket, *, timezone: str = "Asia/Ho_Chi_Minh") -> dict[str, Any]:
    """A ticket as sent to a centre's room: everything but its public code, which is the
    key of the citizen's /t/ page (anyone on the hall's Wi-Fi may join a centre's room)."""
    view = ticket_view(ticket, timezone=timezone)
    del view["public_code"]
    return view


def service_view(service: Service, waiting: int = 0) -> dict[str, Any]:
    return {
        "id": service.id,
        "centre_id": service.centre_id,
        "field_id": service.field_id,
        "code": service.code,
        "name": service.name,
        "name_en": service.name_en,
        "prefix": service.prefix,
        "range_start": service.range_start,
        "range_end": service.range_end,
        "priority_policy": service.priority_policy,
        "interleave_every": service.interleave_every,
        "waiting": waiting,
        "counters": sorted(link.counter.number for link in service.counter_links),
    }


def counter_view(counter: Counter, current: Ticket | None = None) -> dict[str, Any]:
    return counter_dict(
        id=counter.id,
        centre_id=counter.centre_id,
        number=counter.number,
        name=counter.label,
        zone=counter.zone,
        status=counter.status,
        status_reason=counter.status_reason,
        staff_id=counter.staff_id,
        staff_name=counter.staff.full_name or counter.staff.username if counter.staff else None,
        services=[
            {"id": link.service_id, "name": link.service.name, "position": link.position}
            for link in counter.service_links
        ],
        current=(
            {
                "id": current.id,
                "display_number": current.display_number,
                "status": current.status,
                "service_id": current.service_id,
            }
            if current is not None
            else None
        ),
    )


def counter_dict(
    *,
    id: int,
    centre_id: int,
    number: int,
    name: str,
    zone: str,
    status: str,
    status_reason: str,
    staff_id: int | None,
    staff_name: str | None,
    services: list[dict[str, Any]],
    current: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A counter's view from plain values; `current` has the ticket's id, display_number,
    status and service_id (a row or a dict)."""
    return {
        "id": id,
        "centre_id": centre_id,
        "number": number,
        "name": name,
        "zone": zone,
        "status": status,
        "status_reason": status_reason,
        "staff_id": staff_id,
        "staff_name": staff_name,
        "services": services,
        "current_ticket": (
            {
                "id": current["id"],
                "number": current["display_number"],
                "status": current["status"],
                "service_id": current["service_id"],
            }
            if current is not None
            else None
        ),
    }

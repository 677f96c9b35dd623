"""Opening, pausing and closing a counter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain.errors import CounterBusy
from server.models import Counter, Ticket
from server.services.tickets import _emit_counter

COUNTER_STATUSES = ("open", "paused", "closed")


def set_counter_status(
    session: Session,
    counter: Counter,
    status: str,
    reason: str = "",
    *,
    now: datetime,
    staff_id: int | None = None,
    actor: str = "system",
) -> Counter:
    """Open (the caller becomes its staff), pause with a reason, or close (frees the counter)."""
    if status not in COUNTER_STATUSES:
        raise ValueError(f"unknown counter status {status!r}")
    current = session.get(Ticket, counter.current_ticket_id) if counter.current_ticket_id else None
    if status == "closed" and current is not None:
        raise CounterBusy(
            f"{counter.label} đang phục vụ phiếu {current.display_number}: hãy kết thúc trước khi đóng quầy.",
            f"counter {counter.number} still has ticket {current.display_number}",
        )
    if status == "open" and staff_id is not None and counter.staff_id not in (None, staff_id):
        raise CounterBusy(
            f"{counter.label} đang do cán bộ khác phụ trách.",
            f"counter {counter.number} is held by another staff member",
        )
    if status == "open" and staff_id is not None:
        held = session.execute(
            select(Counter).where(
                Counter.centre_id == counter.centre_id,
                Counter.staff_id == staff_id,
                Counter.id != counter.id,
                Counter.status != "closed",
            )
        ).scalar_one_or_none()
        if held is not None:
            raise CounterBusy(
                f"Bạn đang phụ trách {held.label}: hãy đóng quầy đó trước khi mở {counter.label}.",
                f"staff member already holds counter {held.number}",
            )
    if counter.status != status:
        counter.status_since = now
    counter.status = status
    counter.status_reason = reason if status == "paused" else ""
    if status == "open" and staff_id is not None:
        counter.staff_id = staff_id
    elif status == "closed":
        counter.staff_id = None
    session.flush()
    _emit_counter(session, counter, current)
    return counter

"""Opening, pausing and closing a counter."""

from __future__ import annotations

from datetime import datetime

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

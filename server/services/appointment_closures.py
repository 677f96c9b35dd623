"""A centre's closed days and the calendar's days off cancel the bookings of those days,
each with a notice for the citizen (rules and API: docs/appointments.md).

The notices: an `appointment_notices` row with `sent_at` NULL per cancelled booking, and an
`appointment.cancelled` event in the transaction's outbox; a booking made with consent to
messages also gets its message queued in the notification outbox (server.notify.bookings),
and the notice is marked sent once the gateway took it. Nothing is sent from here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.domain.actors import Actor
from server.domain.appointments import BookingStatus
from server.domain.clock import to_local
from server.domain.errors import NotFound
from server.models import (
    Appointment,
    AppointmentNotice,
    Centre,
    CentreClosure,
    RemoteNumber,
    Ticket,
)
from server.notify import bookings as booking_messages
from server.notify import texts
from server.services.appointments import cancel_rows

logger = logging.getLogger(__name__)


def close_day(
    session: Session, *, centre_id: int, day: date, reason: str, now: datetime
) -> list[Appointment]:
    """Mark `day` closed at the centre: no slots; its bookings and holds are cancelled,
    each booking with a notice for the citizen (appointment_notices)."""
    centre = session.get(Centre, centre_id)
    if centre is None:
        raise NotFound(f"Không tìm thấy trung tâm số {centre_id}.", f"centre {centre_id} not found")
    if (
        session.execute(
            select(CentreClosure.id).where(
                CentreClosure.centre_id == centre_id, CentreClosure.day == day
            )
        ).first()
        is None
    ):
        session.add(CentreClosure(centre_id=centre_id, day=day, reason=reason, created_at=now))
        session.flush()
    cancelled = cancel_for_closed_days(session, [day], now, centre_id=centre_id, reason=reason)
    if day == to_local(now, centre.timezone).date():
        cancel_numbers_not_in_hall(session, centre_id=centre_id, day=day, now=now)
    # Citizens already holding a number of that day who turned notifications on are told
    # too (docs/notifications.md); a booking's notice waits for its own contact.
    from server.notify.store import notify_closure

    notify_closure(session, centre_id=centre_id, day=day, reason=reason, now=now)
    return cancelled


def cancel_numbers_not_in_hall(
    session: Session, *, centre_id: int, day: date, now: datetime
) -> list[int]:
    """A closure declared for today: the numbers taken from a phone whose holders have not
    checked in at the kiosk and that wait, never called, are cancelled (ticket status
    `cancelled`, trail `cancel`): their holders may not have set out yet, and those who
    turned messages on are told (notify_closure). Today's bookings not checked in are
    cancelled with their notices (cancel_for_closed_days). Tickets of citizens in the hall
    — walk-ins, checked-in phone numbers and bookings — are left to the supervisor.
    Returns the tickets cancelled."""
    from server.services import lifecycle

    ids = list(
        session.execute(
            select(Ticket.id)
            .join(RemoteNumber, RemoteNumber.ticket_id == Ticket.id)
            .where(
                Ticket.centre_id == centre_id,
                Ticket.day == day,
                Ticket.status == "waiting",
                Ticket.called_at.is_(None),
                RemoteNumber.checked_in_at.is_(None),
            )
            .order_by(Ticket.id)
        ).scalars()
    )
    for ticket_id in ids:
        lifecycle.cancel(session, ticket_id=ticket_id, now=now, actor=Actor("closure"))
    if ids:
        logger.info("closure of %s today cancelled %d phone numbers not in the hall", day, len(ids))
    return ids


def reopen_day(session: Session, *, centre_id: int, day: date) -> bool:
    """Lift a closure (cancelled bookings stay cancelled: their citizens were told)."""
    return bool(
        session.execute(
            delete(CentreClosure).where(
                CentreClosure.centre_id == centre_id, CentreClosure.day == day
            )
        ).rowcount
    )


def cancel_for_closed_days(
    session: Session,
    days: Iterable[date],
    now: datetime,
    *,
    centre_id: int | None = None,
    reason: str = "",
) -> list[Appointment]:
    """Cancel the bookings and holds of `days` (one centre's, or every centre's when the
    calendar gained days off), with a notice per booking. The hook for notifications: a
    `appointment_notices` row with sent_at NULL and an `appointment.cancelled` event."""
    days = sorted(set(days))
    if not days:
        return []
    query = select(Appointment).where(
        Appointment.day.in_(days),
        Appointment.status.in_([BookingStatus.BOOKED.value, BookingStatus.HELD.value]),
    )
    if centre_id is not None:
        query = query.where(Appointment.centre_id == centre_id)
    rows = list(session.execute(query.with_for_update()).scalars())
    cancelled = cancel_rows(session, rows, now, reason="closure")
    for row in cancelled:
        if not row.code:
            continue
        start = _local_start(session, row)
        why_vi = f" ({reason})" if reason else ""
        notice = AppointmentNotice(
            appointment_id=row.id,
            kind="cancelled_closure",
            message_vi=f"Trung tâm nghỉ ngày {start:%d/%m/%Y}{why_vi}: lịch hẹn {row.code} "
            f"lúc {start:%H:%M} đã bị hủy. Quý khách vui lòng đặt lịch khác.",
            message_en=f"The centre is closed on {start:%d/%m/%Y}{why_vi}: appointment "
            f"{row.code} at {start:%H:%M} is cancelled. Please book another time.",
            created_at=now,
        )
        session.add(notice)
        # Booked with consent to messages: the notice goes out through the outbox (its
        # sent_at is set once the gateway took it, server.notify.delivery).
        booking_messages.tell(
            session,
            row,
            "cancelled_closure",
            now,
            text=texts.booking_closure(notice.message_vi, notice.message_en),
        )
    session.flush()
    if cancelled:
        logger.info("closure of %s cancelled %d appointments", days, len(cancelled))
    return cancelled


def cancel_for_days_off(session: Session, schedule: Any, now: datetime) -> list[Appointment]:
    """The working calendar's `schedule` (a YearSchedule just saved) closes its days off in
    every centre: their bookings from today on are cancelled, with a notice naming the day."""
    from server.domain.calendar import to_local as national_local

    today = national_local(now).date()  # the calendar is Việt Nam's
    names = {d.date: d.name for d in schedule.days_off if d.date >= today}
    if not names:
        return []
    booked_days = session.execute(
        select(Appointment.day)
        .where(
            Appointment.day.in_(list(names)),
            Appointment.status.in_([BookingStatus.BOOKED.value, BookingStatus.HELD.value]),
        )
        .distinct()
    ).scalars()
    cancelled: list[Appointment] = []
    for day in sorted(booked_days):
        cancelled += cancel_for_closed_days(session, [day], now, reason=names[day] or "ngày nghỉ")
    return cancelled


def _local_start(session: Session, row: Appointment) -> datetime:
    centre = session.get(Centre, row.centre_id)
    return to_local(row.slot_start, centre.timezone)

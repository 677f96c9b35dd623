"""A booking on the day (rules: server.domain.appointments.arrival): the check-in at the
kiosk that merges it into the live line, and the day's figures for the reports (bookings,
check-ins, no-shows). docs/appointments.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain.actors import Actor
from server.domain.appointments import (
    ARRIVAL_WINDOW_MINUTES,
    Arrival,
    BookingClosed,
    BookingStatus,
    arrival,
)
from server.domain.clock import to_local
from server.domain.errors import InvalidRequest, NotFound
from server.models import Appointment, Centre, Station, Ticket
from server.services.appointments import by_code

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppointmentCheckIn:
    ticket: Ticket
    appointment: Appointment
    first_time: bool
    print_job_id: str | None
    arrival: str


def check_in(
    session: Session,
    *,
    code: str,
    now: datetime,
    station_id: int | None = None,
    centre_id: int | None = None,
    qr_base_url: str = "",
) -> AppointmentCheckIn:
    """The citizen with a booking has come: a ticket merged into the live line by the
    arrival rule (server.domain.appointments.arrival). Checking in again answers the same
    ticket without printing it again."""
    from server.services.issuing import issue_ticket

    station = session.get(Station, station_id) if station_id is not None else None
    if station_id is not None and (station is None or station.kind != "kiosk"):
        raise InvalidRequest("Điểm thiết bị không hợp lệ.", f"station {station_id} is not a kiosk")
    centre_id = station.centre_id if station is not None else centre_id
    row = by_code(session, code, lock=True)  # a second check-in waits, then answers the same
    if centre_id is not None and row.centre_id != centre_id:
        raise NotFound(
            "Lịch hẹn này không thuộc trung tâm này.", "the appointment is at another centre"
        )
    if row.status == BookingStatus.CHECKED_IN.value and row.ticket is not None:
        return AppointmentCheckIn(row.ticket, row, False, None, row.arrival or "")
    if row.status != BookingStatus.BOOKED.value:
        raise BookingClosed(
            "Lịch hẹn này đã bị hủy: quý khách vui lòng lấy số tại kiosk.",
            "this appointment was cancelled: take a number at the kiosk",
            details={"status": row.status},
        )
    centre = session.get(Centre, row.centre_id)
    local_start = to_local(row.slot_start, centre.timezone)
    how = arrival(local_start, to_local(now, centre.timezone))
    issued = issue_ticket(
        session,
        service_id=row.service_id,
        now=now,
        station_id=station.id if station is not None and station.has_printer else None,
        actor=Actor("appointment"),
        qr_base_url=qr_base_url,
        appointment=how.value,
    )
    row.status = BookingStatus.CHECKED_IN.value
    row.checked_in_at = now
    row.arrival = how.value
    row.ticket_id = issued.ticket.id
    session.flush()
    ticket = session.get(Ticket, issued.ticket.id)
    logger.info("appointment checked in (%s): ticket %s", how.value, ticket.display_number)
    return AppointmentCheckIn(ticket, row, True, issued.print_job_id, how.value)


def day_figures(
    session: Session, centre_ids: Iterable[int], start: date, end: date, now: datetime
) -> dict[date, dict[str, int]]:
    """Per local day in [start, end]: bookings made for it (booked, checked in or later
    cancelled by the citizen or a closure), check-ins (on time, late), and no-shows (booked,
    never checked in, the slot's check-in window over)."""
    over = now - timedelta(minutes=ARRIVAL_WINDOW_MINUTES)
    rows = session.execute(
        select(
            Appointment.day, Appointment.status, Appointment.arrival, Appointment.slot_start
        ).where(
            Appointment.centre_id.in_(list(centre_ids)),
            Appointment.day >= start,
            Appointment.day <= end,
            Appointment.code.is_not(None),
        )
    ).all()
    out: dict[date, dict[str, int]] = {}
    for day, status, how, slot_start in rows:
        figures = out.setdefault(
            day,
            {"bookings": 0, "cancelled": 0, "checked_in": 0, "on_time": 0, "late": 0, "no_show": 0},
        )
        figures["bookings"] += 1
        if status == BookingStatus.CANCELLED.value:
            figures["cancelled"] += 1
        elif status == BookingStatus.CHECKED_IN.value:
            figures["checked_in"] += 1
            figures[how if how in (Arrival.ON_TIME, Arrival.LATE) else "on_time"] += 1
        elif status == BookingStatus.BOOKED.value and slot_start < over:
            figures["no_show"] += 1
    return out

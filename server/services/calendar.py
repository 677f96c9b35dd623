"""The centre's working calendar: the shipped yearly schedules plus the administrator's
overrides stored in `calendar_years` (one row replaces one whole year)."""

from __future__ import annotations

import logging
import re
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain.calendar import (
    CalendarDataError,
    WorkingCalendar,
    YearSchedule,
    default_calendar,
)
from server.domain.errors import DomainError
from server.models import CalendarYear

logger = logging.getLogger(__name__)

DEFAULT_CUTOFF = time(15, 0)
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class InvalidCalendarData(DomainError):
    code = "invalid_calendar_data"
    http_status = 422


def working_calendar(session: Session) -> WorkingCalendar:
    """The shipped calendar with every stored override applied."""
    calendar = default_calendar()
    for row in session.execute(select(CalendarYear).order_by(CalendarYear.year)).scalars():
        try:
            calendar = calendar.with_schedule(YearSchedule.from_dict(row.data))
        except CalendarDataError:
            # Validated when saved; a row broken by hand must not stop the centre.
            logger.exception("stored calendar for %s is invalid: using the shipped one", row.year)
    return calendar


def year_schedule(session: Session, year: int) -> tuple[YearSchedule, str]:
    """The schedule in force for `year` and where it comes from: database | shipped |
    generated (Labour Code rules, no official data loaded)."""
    row = session.get(CalendarYear, year)
    if row is not None:
        try:
            return YearSchedule.from_dict(row.data), "database"
        except CalendarDataError:
            logger.exception("stored calendar for %s is invalid", year)
    calendar = default_calendar()
    if year in calendar.loaded_schedules:
        return calendar.loaded_schedules[year], "shipped"
    try:
        return calendar.schedule_for(year), "generated"
    except CalendarDataError as exc:
        raise InvalidCalendarData(f"Không có lịch cho năm {year}: {exc}", str(exc)) from exc


def save_year_schedule(
    session: Session, year: int, data: dict[str, Any], *, now: datetime, actor: str
) -> YearSchedule:
    """Validate and store an administrator's schedule for `year` (the TOML format as JSON).

    The year in the body, when given, must be the year of the address. Raises
    InvalidCalendarData (HTTP 422) with the CalendarDataError message.
    """
    data = dict(data)
    data.setdefault("year", year)
    if data["year"] != year:
        raise InvalidCalendarData(
            f"Năm trong dữ liệu ({data['year']}) khác năm {year} của địa chỉ.",
            f"the body's year {data['year']!r} is not {year}",
        )
    try:
        schedule = YearSchedule.from_dict(data)
        # Also the calendar-level checks (a make-up day must be a weekly rest day).
        default_calendar().with_schedule(schedule)
    except CalendarDataError as exc:
        raise InvalidCalendarData(f"Lịch năm {year} không hợp lệ: {exc}", str(exc)) from exc
    row = session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year, data={}, updated_at=now)
        session.add(row)
    row.data = schedule.to_dict()
    row.updated_at = now
    row.updated_by = actor[:80]
    session.flush()
    logger.info("calendar %s saved by %s (%d days off)", year, actor, len(schedule.days_off))
    from server.services.appointment_closures import cancel_for_days_off

    cancel_for_days_off(session, schedule, now)
    return schedule


def delete_year_schedule(session: Session, year: int) -> bool:
    """Drop the override: the shipped file (or the Labour Code rules) applies again."""
    row = session.get(CalendarYear, year)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def parse_cutoff(value: str | None) -> time | None:
    """ "15:00" → time(15, 0); empty → None. InvalidCalendarData for anything else."""
    if value is None or value == "":
        return None
    match = _HHMM.match(value.strip())
    if not match:
        raise InvalidCalendarData(
            f"Giờ chốt «{value}» không hợp lệ: dùng dạng HH:MM, ví dụ 15:00.",
            f"cutoff {value!r} is not HH:MM (e.g. 15:00)",
        )
    return time(int(match.group(1)), int(match.group(2)))


def centre_cutoff(settings: dict[str, Any] | None) -> time:
    """The centre's cut-off for procedures that have one (settings["cutoff_time"])."""
    return parse_cutoff((settings or {}).get("cutoff_time")) or DEFAULT_CUTOFF

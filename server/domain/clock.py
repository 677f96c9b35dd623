"""Local time for a centre. Every "today" in the system is the centre's local day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def utcnow() -> datetime:
    """Aware UTC now; the only clock read in the server (tests pass `now` explicitly)."""
    return datetime.now(UTC)


def local_day(now: datetime, timezone: str = DEFAULT_TIMEZONE) -> date:
    """The centre's calendar day at instant `now` (turns at local midnight, not UTC)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(timezone)).date()


def to_local(moment: datetime, timezone: str = DEFAULT_TIMEZONE) -> datetime:
    """Convert an instant to the centre's local time (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(timezone))


def start_of_local_day(now: datetime, timezone: str = DEFAULT_TIMEZONE) -> datetime:
    """The instant the centre's local day of `now` began (local midnight), in UTC."""
    zone = ZoneInfo(timezone)
    day = local_day(now, timezone)
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)

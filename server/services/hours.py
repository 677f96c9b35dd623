"""Opening hours, cut-offs and daily caps from the database (rules: server.domain.hours).

Issuing asks `refusal` before it allocates a number (the cap itself is checked on the
locked numbering row, server.services.numbering); the kiosk's catalogue asks
`service_availability` to grey out the services that do not issue now.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain.calendar import (
    CalendarDataError,
    WorkingCalendar,
    YearSchedule,
    default_calendar,
)
from server.domain.clock import to_local
from server.domain.errors import InvalidRequest
from server.domain.hours import (
    Availability,
    IssuingRules,
    OpeningHours,
    availability,
    closed_day,
    parse_hhmm,
)
from server.models import CalendarYear, Centre, CentreClosure, NumberSequence, Service

#: How far ahead closures are read to say when a closed centre opens again.
_CLOSURES_AHEAD = timedelta(days=60)


def closures_from(session: Session, centre_id: int, day: date) -> dict[date, str]:
    """The centre's closed days (/admin/closures) from `day` on, with their reasons."""
    return dict(
        session.execute(
            select(CentreClosure.day, CentreClosure.reason).where(
                CentreClosure.centre_id == centre_id,
                CentreClosure.day >= day,
                CentreClosure.day <= day + _CLOSURES_AHEAD,
            )
        ).all()
    )


def closure_refusal(
    session: Session, rules: IssuingRules, now: datetime, timezone: str, centre_id: int
) -> Availability | None:
    """The refusal when the centre is closed today (an administrator's closure), else None.
    Issuing asks this only when its context query saw a closure near today."""
    local_now = to_local(now, timezone)
    closures = closures_from(session, centre_id, local_now.date())
    if local_now.date() not in closures:
        return None
    return closed_day(local_now, rules, _calendar(session, rules, local_now), closures)


def rules_for(
    centre_hours: Mapping[str, Any] | None,
    service_hours: Mapping[str, Any] | None,
    cutoff: str | None,
    daily_cap: int | None,
) -> IssuingRules:
    """The stored columns as rules; a service's own hours replace its centre's."""
    hours = OpeningHours.from_json(service_hours) or OpeningHours.from_json(centre_hours)
    return IssuingRules(hours, parse_hhmm(cutoff) if cutoff else None, daily_cap)


def service_rules(service: Service, centre: Centre) -> IssuingRules:
    return rules_for(
        centre.opening_hours, service.opening_hours, service.issue_cutoff, service.daily_cap
    )


def calendar_for(session: Session, year: int) -> WorkingCalendar:
    """The working calendar with the administrator's schedules of `year` and the next one
    (the only ones an opening within the next weeks can fall in). One small query."""
    calendar = default_calendar()
    rows = session.execute(
        select(CalendarYear.data).where(CalendarYear.year.in_((year, year + 1)))
    ).scalars()
    for data in rows:
        # Validated when saved; server.services.calendar logs a row broken by hand.
        with contextlib.suppress(CalendarDataError):
            calendar = calendar.with_schedule(YearSchedule.from_dict(data))
    return calendar


def refusal(
    session: Session, rules: IssuingRules, now: datetime, timezone: str, service_name: str
) -> Availability | None:
    """Why the service may not issue at `now` by its hours and cut-off (None: it may)."""
    if not rules.limits_time:
        return None
    local_now = to_local(now, timezone)
    state = availability(
        local_now, rules, _calendar(session, rules, local_now), service_name=service_name
    )
    return None if state.is_open else state


def full(
    session: Session, rules: IssuingRules, now: datetime, timezone: str, service_name: str
) -> Availability:
    """The cap was reached: the refusal, saying when the service issues again."""
    from server.domain.hours import full as full_day

    local_now = to_local(now, timezone)
    return full_day(
        local_now, rules, _calendar(session, rules, local_now), service_name=service_name
    )


def _calendar(session: Session, rules: IssuingRules, local_now: datetime) -> WorkingCalendar:
    # Without hours the calendar plays no part: no query.
    return calendar_for(session, local_now.year) if rules.hours is not None else default_calendar()


def service_availability(
    session: Session, centre: Centre, services: Iterable[Service], now: datetime
) -> dict[int, dict[str, Any]]:
    """Per service id: its availability view (state, open, next_opening, messages) and its
    cap (daily_cap, remaining today). Three queries at most: the centre's closures, then
    none more when nothing is limited."""
    services = list(services)
    rules = {s.id: service_rules(s, centre) for s in services}
    local_now = to_local(now, centre.timezone)
    # A closed day (/admin/closures) closes every service, whatever its hours.
    closures = closures_from(session, centre.id, local_now.date()) if services else {}
    if local_now.date() in closures:
        calendar = (
            calendar_for(session, local_now.year)
            if any(r.hours is not None for r in rules.values())
            else default_calendar()
        )
        return {
            s.id: closed_day(local_now, rules[s.id], calendar, closures).view()  # type: ignore[union-attr]
            for s in services
        }
    limited = [s for s in services if rules[s.id].limits_time or rules[s.id].daily_cap]
    if not limited:
        return {s.id: Availability("open").view() for s in services}
    calendar = (
        calendar_for(session, local_now.year)
        if any(r.hours is not None for r in rules.values())
        else default_calendar()
    )
    issued: dict[int, int] = {}
    if any(r.daily_cap is not None for r in rules.values()):
        issued = dict(
            session.execute(
                select(NumberSequence.service_id, NumberSequence.issued).where(
                    NumberSequence.service_id.in_([s.id for s in services]),
                    NumberSequence.day == local_now.date(),
                )
            ).all()
        )
    out = {}
    for service in services:
        rule = rules[service.id]
        done = issued.get(service.id, 0) or 0
        view = availability(
            local_now, rule, calendar, service_name=service.name, issued_today=done
        ).view()
        if rule.daily_cap is not None:
            view["daily_cap"] = rule.daily_cap
            view["remaining"] = max(0, rule.daily_cap - done)
        out[service.id] = view
    return out


# --- administration ----------------------------------------------------------------------


def hours_value(value: Any) -> dict[str, Any] | None:
    """What an administrator sent (text like "T2-T6 07:30-11:30, 13:30-17:00" or the JSON
    form) as the stored JSON; empty → None. InvalidRequest (422) with the reason."""
    hours = OpeningHours.coerce(value)
    return hours.to_json() if hours is not None else None


def hours_text(stored: Mapping[str, Any] | None) -> str:
    """The stored JSON in the administrator's text form ("" for none)."""
    try:
        hours = OpeningHours.from_json(stored)
    except InvalidRequest:
        return ""
    return hours.to_text() if hours else ""


def cutoff_value(value: Any) -> str | None:
    """ "15:00" → "15:00" (normalised), empty → None."""
    if value in (None, ""):
        return None
    moment: time = parse_hhmm(str(value), what="giờ chốt cấp số")
    return f"{moment:%H:%M}"

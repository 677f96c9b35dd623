"""Appointments (lịch hẹn), pure rules: the bookable slots of a service and how a citizen
who arrives with a booking joins the live line.

Slots come from the service's opening hours (its own, else its centre's; cut-off
applied), the working-day calendar (days off closed, make-up days worked), the centre's
own closed days, and the capacity: the counters serving the service each take one
citizen per slot of `minutes`. A slot fits whole inside one opening period.

The arrival rule (docs/appointments.md): within ±`window` minutes of the slot's start the
citizen is on time and the ticket joins the priority line (ahead of walk-ins of the same
service, by the service's priority policy); later on the same day, a walk-in; earlier, refused
with the moment from which the code checks in.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from server.domain.calendar import WorkingCalendar
from server.domain.errors import DomainError, InvalidRequest
from server.domain.hours import IssuingRules, plan_day

#: Minutes per citizen when neither the service nor the centre sets one.
DEFAULT_SLOT_MINUTES = 15
#: How long a chosen slot is held while the citizen fills the form.
HOLD_MINUTES = 5
#: On time: within this many minutes either side of the slot's start.
ARRIVAL_WINDOW_MINUTES = 10
#: How far ahead a slot may be booked (days, today included).
DEFAULT_HORIZON_DAYS = 14
#: Confirmation codes: ten digits (typed on the kiosk's keypad, or scanned from the QR).
CODE_DIGITS = 10


class SlotUnavailable(DomainError):
    """Every seat of the slot is taken (or held), or the slot is not bookable."""

    code = "slot_full"


class SlotNotBookable(DomainError):
    code = "slot_not_bookable"
    http_status = 422


class HoldExpired(DomainError):
    code = "hold_expired"


class BookingClosed(DomainError):
    """The booking can no longer be changed, cancelled or checked in (cancelled, done,
    its day past)."""

    code = "booking_closed"


class TooEarly(DomainError):
    code = "check_in_too_early"


class BookingQuotaReached(DomainError):
    code = "booking_quota_reached"
    http_status = 429


class BookingStatus(StrEnum):
    HELD = "held"
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # a hold nobody confirmed


#: Statuses that occupy a seat.
SEATED = frozenset({BookingStatus.HELD, BookingStatus.BOOKED, BookingStatus.CHECKED_IN})


@dataclass(frozen=True)
class Slot:
    """One bookable slot: local start and end, and how many citizens it takes."""

    start: datetime
    end: datetime
    capacity: int


def slots_of_day(
    day: date,
    rules: IssuingRules,
    calendar: WorkingCalendar,
    *,
    minutes: int,
    counters: int,
    tzinfo,
    closed_days: Collection[date] = (),
) -> list[Slot]:
    """The slots of `day` for a service. None without opening hours (a booking needs a
    time the centre keeps), on a day off or a centre's closed day, or with no counter."""
    if minutes < 1:
        raise ValueError("minutes per citizen must be at least 1")
    if rules.hours is None or counters < 1 or day in closed_days:
        return []
    out = []
    for start, end in plan_day(day, rules, calendar).windows:
        minute = start
        while minute + minutes <= end:
            begin = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tzinfo)
            out.append(Slot(begin, begin + timedelta(minutes=minutes), counters))
            minute += minutes
    return out


def bookable_slots(
    local_now: datetime,
    rules: IssuingRules,
    calendar: WorkingCalendar,
    *,
    minutes: int,
    counters: int,
    closed_days: Collection[date] = (),
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> Iterator[tuple[date, list[Slot]]]:
    """Per day from today for `horizon_days`: the slots that start after `local_now`."""
    if local_now.tzinfo is None:
        raise ValueError("local_now must be timezone-aware (the centre's zone)")
    for offset in range(horizon_days):
        day = local_now.date() + timedelta(days=offset)
        slots = slots_of_day(
            day,
            rules,
            calendar,
            minutes=minutes,
            counters=counters,
            tzinfo=local_now.tzinfo,
            closed_days=closed_days,
        )
        yield day, [s for s in slots if s.start > local_now]


def find_slot(slots: list[Slot], start: datetime) -> Slot:
    """The slot starting at `start` (SlotNotBookable otherwise, with the reason)."""
    for slot in slots:
        if slot.start == start:
            return slot
    raise SlotNotBookable(
        f"Không có khung giờ hẹn lúc {start:%H:%M} ngày {start:%d/%m/%Y}: quý khách vui lòng "
        "chọn một khung giờ trong danh sách.",
        f"no bookable slot starts at {start.isoformat()}: choose one from the list",
        details={"start": start.isoformat()},
    )


class Arrival(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"


def arrival(
    slot_start: datetime, local_now: datetime, window: int = ARRIVAL_WINDOW_MINUTES
) -> Arrival:
    """How a citizen with a booking for `slot_start` arrives at `local_now` (both local).

    On time within ±`window` minutes; late later that day (a walk-in); TooEarly before the
    window; BookingClosed on another day (a booking is for its day only)."""
    opens = slot_start - timedelta(minutes=window)
    if local_now.date() != slot_start.date():
        if local_now.date() < slot_start.date():
            raise TooEarly(
                f"Lịch hẹn của quý khách là {slot_start:%H:%M} ngày {slot_start:%d/%m/%Y}. "
                f"Mời quý khách quay lại từ {opens:%H:%M} ngày đó để xác nhận.",
                f"Your appointment is at {slot_start:%H:%M} on {slot_start:%d/%m/%Y}. "
                f"Please check in from {opens:%H:%M} that day.",
                details={"check_in_from": opens.isoformat()},
            )
        raise BookingClosed(
            f"Lịch hẹn {slot_start:%H:%M} ngày {slot_start:%d/%m/%Y} đã qua. Quý khách vui "
            "lòng đặt lịch mới hoặc lấy số tại kiosk.",
            f"The appointment at {slot_start:%H:%M} on {slot_start:%d/%m/%Y} has passed: "
            "book again or take a number at the kiosk.",
        )
    if local_now < opens:
        raise TooEarly(
            f"Quý khách đến sớm: lịch hẹn lúc {slot_start:%H:%M}. Mời quý khách xác nhận "
            f"từ {opens:%H:%M}.",
            f"You are early: the appointment is at {slot_start:%H:%M}. Please check in from "
            f"{opens:%H:%M}.",
            details={"check_in_from": opens.isoformat()},
        )
    if local_now <= slot_start + timedelta(minutes=window):
        return Arrival.ON_TIME
    return Arrival.LATE


def new_code() -> str:
    """A confirmation code: ten random digits (10^10: unguessable at the look-up limit)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def check_code(code: str) -> str:
    """The code as typed or scanned (spaces and dashes dropped), or InvalidRequest."""
    cleaned = "".join(ch for ch in (code or "") if ch not in " -")
    if not cleaned.isdigit() or len(cleaned) != CODE_DIGITS:
        raise InvalidRequest(
            f"Mã lịch hẹn gồm {CODE_DIGITS} chữ số.",
            f"the appointment code is {CODE_DIGITS} digits",
        )
    return cleaned


# --- counters shared by bookable services ----------------------------------------------------

#: Past this many services booked at one moment, the pool's total alone bounds the room
#: (2^n subsets otherwise; a centre has a handful of bookable services).
_SUBSETS_UP_TO = 10


@dataclass(frozen=True)
class Booked:
    """A seat held in the pool: its service and its time."""

    service_id: int
    start: datetime
    end: datetime


def shared_room(
    service_id: int,
    start: datetime,
    end: datetime,
    booked: Collection[Booked],
    serving: dict[int, frozenset[int]],
) -> int:
    """How many more citizens of `service_id` the counters can take over [start, end) when
    their minutes are shared by bookable services (`serving`: service → the counters that
    serve it, for the services that share counters with this one, itself included).

    A counter serves one citizen at a time, whatever the service: at every moment of the
    slot, for every set S of services, the bookings of S covering that moment must fit the
    counters serving some service of S (Hall's condition for seating citizens at counters).
    The room is the least slack over the moments a booking starts within the slot and the
    sets S that include this service. Without sharing this is the service's own counters
    minus its bookings, as before."""
    moments = {start} | {b.start for b in booked if start < b.start < end}
    room = len(serving.get(service_id, ()))
    for moment in moments:
        load: dict[int, int] = {}
        for b in booked:
            if b.start <= moment < b.end:
                load[b.service_id] = load.get(b.service_id, 0) + 1
        others = sorted(s for s in load if s != service_id)
        if len(others) > _SUBSETS_UP_TO:
            groups: list[tuple[int, ...]] = [(), tuple(others)]
        else:
            groups = [
                tuple(s for i, s in enumerate(others) if mask >> i & 1)
                for mask in range(1 << len(others))
            ]
        for group in groups:
            members = (service_id, *group)
            counters = frozenset().union(*(serving.get(s, frozenset()) for s in members))
            room = min(room, len(counters) - sum(load.get(s, 0) for s in members))
    return max(0, room)

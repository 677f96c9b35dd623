"""Appointment slots and the arrival rule (server.domain.appointments), on the real
calendar: hours with a lunch break, cut-off, days off, make-up Saturdays, closures,
capacity from the counters and minutes per citizen."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.domain.appointments import (
    Arrival,
    BookingClosed,
    SlotNotBookable,
    TooEarly,
    arrival,
    bookable_slots,
    check_code,
    find_slot,
    new_code,
    slots_of_day,
)
from server.domain.calendar import default_calendar
from server.domain.errors import InvalidRequest
from server.domain.hours import IssuingRules, OpeningHours

HN = ZoneInfo("Asia/Ho_Chi_Minh")
CALENDAR = default_calendar()
HOURS = OpeningHours.parse("T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30")
RULES = IssuingRules(HOURS)


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=HN)


def slots(day: date, rules: IssuingRules = RULES, minutes: int = 15, counters: int = 2, **kw):
    return slots_of_day(day, rules, CALENDAR, minutes=minutes, counters=counters, tzinfo=HN, **kw)


def test_a_working_days_slots_fill_each_period_whole_with_the_counters_as_capacity():
    day = slots(date(2026, 11, 25), minutes=20, counters=3)  # a Wednesday
    starts = [s.start.time() for s in day]
    # 07:30-11:30 is 12 slots of 20 minutes; 13:30-17:00 is 10 (210 minutes, 10 whole).
    assert len(day) == 12 + 10
    assert starts[0] == time(7, 30) and starts[11] == time(11, 10) and starts[12] == time(13, 30)
    assert starts[-1] == time(16, 30) and day[-1].end.time() == time(16, 50)
    assert {s.capacity for s in day} == {3}
    assert all(s.end - s.start == timedelta(minutes=20) for s in day)


def test_no_slots_without_hours_counters_or_on_days_off_and_closures():
    wednesday = date(2026, 11, 25)
    assert slots(wednesday, IssuingRules(None)) == []
    assert slots(wednesday, counters=0) == []
    assert slots(wednesday, closed_days={wednesday}) == []
    assert slots(date(2026, 11, 24)) == []  # Ngày Văn hóa Việt Nam: a day off in 2026
    assert slots(date(2026, 11, 29)) == []  # Sunday
    assert len(slots(date(2026, 11, 28))) == 16  # Saturday morning: 4 hours of 15 minutes
    # A make-up Saturday works the hours of the weekday it replaces (a Friday's).
    assert len(slots(date(2026, 1, 10))) == 16 + 14


def test_the_cut_off_ends_the_bookable_periods():
    day = slots(date(2026, 11, 25), IssuingRules(HOURS, cutoff=time(15, 0)))
    assert day[-1].end.time() == time(15, 0)


def test_bookable_slots_start_after_now_within_the_horizon():
    days = list(
        bookable_slots(
            at(2026, 11, 25, 9, 5), RULES, CALENDAR, minutes=30, counters=1, horizon_days=3
        )
    )
    assert [d for d, _ in days] == [date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)]
    assert days[0][1][0].start == at(2026, 11, 25, 9, 30)
    with pytest.raises(ValueError):
        list(bookable_slots(datetime(2026, 11, 25, 9), RULES, CALENDAR, minutes=30, counters=1))
    listed = days[1][1]
    assert find_slot(listed, at(2026, 11, 26, 8, 0)).start == at(2026, 11, 26, 8, 0)
    with pytest.raises(SlotNotBookable):
        find_slot(listed, at(2026, 11, 26, 8, 10))  # not on the grid
    with pytest.raises(SlotNotBookable):
        find_slot(listed, at(2026, 11, 26, 12, 0))  # lunch


def test_arrival_on_time_within_ten_minutes_late_after_early_refused_with_when():
    slot = at(2026, 11, 26, 9, 0)
    assert arrival(slot, at(2026, 11, 26, 8, 50)) is Arrival.ON_TIME
    assert arrival(slot, at(2026, 11, 26, 9, 10)) is Arrival.ON_TIME
    assert arrival(slot, at(2026, 11, 26, 9, 11)) is Arrival.LATE
    assert arrival(slot, at(2026, 11, 26, 16, 0)) is Arrival.LATE
    with pytest.raises(TooEarly) as early:
        arrival(slot, at(2026, 11, 26, 8, 49))
    assert "từ 08:50" in early.value.message_vi and "from 08:50" in early.value.message_en
    assert early.value.details["check_in_from"] == at(2026, 11, 26, 8, 50).isoformat()
    with pytest.raises(TooEarly) as day_before:
        arrival(slot, at(2026, 11, 25, 9, 0))
    assert "26/11/2026" in day_before.value.message_vi
    with pytest.raises(BookingClosed):
        arrival(slot, at(2026, 11, 27, 8, 55))


def test_codes_are_ten_random_digits_and_typed_codes_are_cleaned():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200 and all(len(c) == 10 and c.isdigit() for c in codes)
    assert check_code("012 345-6789") == "0123456789"
    for bad in ("123456", "abcdefghij", "", "01234567890"):
        with pytest.raises(InvalidRequest):
            check_code(bad)


def test_counters_shared_by_bookable_services_are_counted_once():
    from server.domain.appointments import Booked, shared_room

    a, b = 1, 2
    nine, quarter, half = at(2026, 11, 26, 9), at(2026, 11, 26, 9, 15), at(2026, 11, 26, 9, 30)
    both = {a: frozenset({10, 11}), b: frozenset({10, 11})}  # two counters serve both
    assert shared_room(a, nine, quarter, [], both) == 2
    assert shared_room(a, nine, quarter, [Booked(b, nine, quarter)], both) == 1
    assert shared_room(a, nine, quarter, [Booked(b, nine, quarter)] * 2, both) == 0
    # B's 30-minute booking from 09:00 covers A's 09:15 slot; one ending at 09:15 does not.
    assert shared_room(a, quarter, half, [Booked(b, nine, half)] * 2, both) == 0
    assert shared_room(a, quarter, half, [Booked(b, nine, quarter)] * 2, both) == 2
    # A booking starting inside the slot counts from its start.
    assert shared_room(a, nine, half, [Booked(b, quarter, half)] * 2, both) == 0
    # X serves A and B, Y only B: B's citizen can sit at Y, so A still has X ...
    mixed = {a: frozenset({10}), b: frozenset({10, 11})}
    assert shared_room(a, nine, quarter, [Booked(b, nine, quarter)], mixed) == 1
    # ... but not once B fills both counters, nor when A's one counter is taken by A.
    assert shared_room(a, nine, quarter, [Booked(b, nine, quarter)] * 2, mixed) == 0
    assert shared_room(b, nine, quarter, [Booked(a, nine, quarter)], mixed) == 1
    assert (
        shared_room(b, nine, quarter, [Booked(a, nine, quarter), Booked(b, nine, quarter)], mixed)
        == 0
    )

"""Working calendar: deadlines hand-checked against the 2026–2027 schedules (docs/calendar.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from server.domain.calendar import (
    LOCAL_TZ,
    CalendarDataError,
    DayOff,
    LabourCodeRules,
    MakeUpDay,
    WorkingCalendar,
    YearSchedule,
    default_calendar,
    hung_kings_day,
    labour_code_schedule,
    parse_year_schedule,
    seeded_schedules,
    tet_date,
    to_local,
)

CUTOFF = time(15, 0)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return default_calendar()


def at(day: str, clock: str = "10:00") -> datetime:
    """A naive local date-time, as staff would type it."""
    return datetime.fromisoformat(f"{day}T{clock}")


# (received at, n working days, cutoff, expected appointment day, why)
# Weekdays: 2026-01-01 Thu, 2026-02-17 Tue (mùng 1), 2026-04-26 Sun (Giỗ Tổ),
# 2026-09-02 Wed, 2027-02-06 Sat (mùng 1), 2027-04-16 Fri, 2027-09-02 Thu, 2028-09-02 Sat.
DEADLINES = [
    # ordinary weeks
    (at("2026-03-02"), 1, None, "2026-03-03", "Mon 10:00, n=1 -> Tue"),
    (at("2026-03-02", "16:00"), 1, CUTOFF, "2026-03-04", "Mon after cutoff -> Wed"),
    (at("2026-03-02", "16:00"), 1, None, "2026-03-03", "no cutoff: late hour still counts"),
    (at("2026-03-02", "14:59"), 1, CUTOFF, "2026-03-03", "one minute before cutoff"),
    (at("2026-03-02", "15:00"), 0, CUTOFF, "2026-03-03", "exactly at cutoff, same-day -> Tue"),
    (at("2026-03-07"), 1, None, "2026-03-10", "Sat: deemed Mon, Mon not counted -> Tue"),
    (at("2026-03-08", "23:59"), 0, None, "2026-03-09", "Sun, same-day procedure -> Mon"),
    (at("2026-03-06"), 5, None, "2026-03-13", "Fri + 5 -> next Fri"),
    (at("2026-03-02"), 15, None, "2026-03-23", "three whole weeks"),
    (at("2026-03-02"), 0, None, "2026-03-02", "same day"),
    # New Year 2026: Thu 1/1 holiday, Fri 2/1 swapped, Sat 10/1 worked
    (at("2025-12-31"), 1, None, "2026-01-05", "Wed 31/12 -> Mon 5/1 over 4 days off"),
    (at("2025-12-31"), 0, None, "2025-12-31", "31/12 itself is a working day"),
    (at("2025-12-30"), 2, None, "2026-01-05", "Tue 30/12 + 2: Wed 31, Mon 5"),
    (at("2026-01-02"), 1, None, "2026-01-06", "received on swapped day: deemed Mon 5 -> Tue 6"),
    (at("2026-01-09"), 1, None, "2026-01-10", "make-up Saturday 10/1 is a working day"),
    (at("2026-01-10", "09:00"), 0, None, "2026-01-10", "same day on the make-up Saturday"),
    (at("2026-01-10", "09:00"), 1, None, "2026-01-12", "make-up Sat + 1 -> Mon"),
    (at("2026-01-08", "16:00"), 1, CUTOFF, "2026-01-10", "Thu after cutoff: Fri, then Sat 10"),
    (at("2026-01-11"), 1, None, "2026-01-13", "ordinary Sunday after the make-up day"),
    # Tết 2026: Mon 16/2 – Fri 20/2 off
    (at("2026-02-13"), 1, None, "2026-02-23", "Fri before Tết -> Mon after"),
    (at("2026-02-12"), 3, None, "2026-02-24", "Thu + 3: Fri 13, Mon 23, Tue 24"),
    (at("2026-02-13", "16:00"), 1, CUTOFF, "2026-02-24", "Fri after cutoff: deemed Mon 23"),
    (at("2026-02-17"), 0, None, "2026-02-23", "mùng 1, same-day -> Mon 23"),
    (at("2026-02-18"), 1, None, "2026-02-24", "received during Tết -> Tue 24"),
    (at("2026-02-09"), 5, None, "2026-02-23", "Mon 9 + 5 spans Tết"),
    # Giỗ Tổ (Sun 26/4, compensated Mon 27/4), 30/4 Thu, 1/5 Fri
    (at("2026-04-24"), 1, None, "2026-04-28", "Fri -> Tue (Mon 27 compensatory)"),
    (at("2026-04-26", "09:00"), 1, None, "2026-04-29", "on Giỗ Tổ: deemed Tue 28 -> Wed 29"),
    (at("2026-04-29"), 1, None, "2026-05-04", "Wed 29/4 -> Mon 4/5"),
    (at("2026-04-28"), 2, None, "2026-05-04", "Tue 28 + 2: Wed 29, Mon 4"),
    (at("2026-04-29", "15:00"), 0, CUTOFF, "2026-05-04", "at cutoff before 30/4"),
    (at("2026-04-29", "14:59"), 0, CUTOFF, "2026-04-29", "before cutoff, same day"),
    (at("2026-04-23"), 5, None, "2026-05-05", "Thu 23/4 + 5: Fri, Tue, Wed, Mon, Tue"),
    # National Day 2026: Sat 22/8 worked, Mon 31/8 swapped, Tue 1/9 + Wed 2/9 holidays
    (at("2026-08-21"), 1, None, "2026-08-22", "Fri -> make-up Sat 22/8"),
    (at("2026-08-22", "16:00"), 0, CUTOFF, "2026-08-24", "make-up Sat after cutoff -> Mon"),
    (at("2026-08-28"), 1, None, "2026-09-03", "Fri 28/8 -> Thu 3/9"),
    (at("2026-08-28", "16:00"), 1, CUTOFF, "2026-09-04", "after cutoff: deemed Thu 3/9"),
    (at("2026-09-01"), 0, None, "2026-09-03", "received on 1/9 -> Thu 3/9"),
    (at("2026-08-27"), 3, None, "2026-09-04", "Thu 27 + 3: Fri 28, Thu 3, Fri 4"),
    # Ngày Văn hóa Việt Nam
    (at("2026-11-23"), 1, None, "2026-11-25", "Mon 23/11 -> Wed (24/11 off)"),
    # 2027 (Labour Code derivation): New Year Fri, Tết Thu 4/2 – Wed 10/2
    (at("2026-12-31"), 1, None, "2027-01-04", "Thu 31/12 -> Mon 4/1 (1/1 Fri)"),
    (at("2027-02-03"), 1, None, "2027-02-11", "Wed before Tết -> Thu 11/2"),
    (at("2027-02-03"), 2, None, "2027-02-12", "Wed + 2: Thu 11, Fri 12"),
    (at("2027-02-03", "15:30"), 0, CUTOFF, "2027-02-11", "after cutoff before Tết"),
    (at("2027-02-06"), 1, None, "2027-02-12", "on mùng 1: deemed Thu 11 -> Fri 12"),
    (at("2027-02-09"), 0, None, "2027-02-11", "on a compensatory day -> Thu 11"),
    (at("2027-04-15"), 1, None, "2027-04-19", "Thu -> Mon (Giỗ Tổ Fri 16/4)"),
    (at("2027-04-29"), 1, None, "2027-05-04", "Thu 29/4 -> Tue 4/5 (1/5 Sat, Mon 3 bù)"),
    (at("2027-04-29"), 0, None, "2027-04-29", "29/4 is an ordinary Thursday"),
    (at("2027-09-01"), 1, None, "2027-09-06", "Wed 1/9 -> Mon 6/9 (2/9 Thu + 3/9 Fri)"),
    (at("2027-09-01"), 0, None, "2027-09-01", "1/9/2027 is not the adjacent day"),
    (at("2027-11-23"), 1, None, "2027-11-25", "Tue -> Thu (24/11 Wed off)"),
    # 2028, no data: generated rules with weekend compensation
    (at("2027-12-31"), 1, None, "2028-01-04", "1/1/2028 Sat, compensated Mon 3/1"),
    (at("2028-04-28"), 1, None, "2028-05-03", "30/4 Sun -> bù Tue 2/5 (Mon 1/5 holiday)"),
    (at("2028-08-31"), 1, None, "2028-09-05", "2/9 Sat: Fri 1/9 + bù Mon 4/9"),
]


@pytest.mark.parametrize(
    ("received_at", "n", "cutoff", "expected", "why"),
    DEADLINES,
    ids=[f"{r[0]:%Y-%m-%d %H:%M}+{r[1]}{'c' if r[2] else ''}" for r in DEADLINES],
)
def test_appointment_day_matches_hand_checked_table(cal, received_at, n, cutoff, expected, why):
    assert cal.add_working_days(received_at, n, cutoff) == date.fromisoformat(expected), why


def test_table_is_large_enough_and_every_deadline_is_a_working_day(cal):
    assert len(DEADLINES) >= 40
    for _, _, _, expected, _ in DEADLINES:
        assert cal.is_working_day(date.fromisoformat(expected))


# --- lunar dates and generated holidays ----------------------------------------------


@pytest.mark.parametrize(
    ("year", "tet", "gio_to"),
    [
        (2026, date(2026, 2, 17), date(2026, 4, 26)),
        (2027, date(2027, 2, 6), date(2027, 4, 16)),
    ],
)
def test_lunar_holidays_fall_on_the_known_days(year, tet, gio_to):
    assert tet_date(year) == tet
    assert hung_kings_day(year) == gio_to


def test_lunar_weekdays_are_the_ones_the_brief_names():
    assert tet_date(2026).strftime("%a") == "Tue"
    assert hung_kings_day(2026).strftime("%a") == "Sun"
    assert tet_date(2027).strftime("%a") == "Sat"
    assert hung_kings_day(2027).strftime("%a") == "Fri"


def test_lunar_conversion_out_of_supported_range_is_a_clear_error():
    with pytest.raises(CalendarDataError, match="lunar"):
        tet_date(2200)


def test_seeded_2027_is_exactly_the_labour_code_derivation():
    seeded = seeded_schedules()[2027]
    assert seeded.status == "unconfirmed"
    assert seeded.dates_off == labour_code_schedule(2027).dates_off
    assert not seeded.make_up_working_days


def test_official_2026_differs_from_the_rules_only_by_the_announced_swaps(cal):
    rules_only = WorkingCalendar()
    differing = {
        day
        for offset in range(365)
        if cal.is_working_day(day := date(2026, 1, 1) + timedelta(days=offset))
        != rules_only.is_working_day(day)
    }
    assert differing == {date(2026, 1, 2), date(2026, 1, 10), date(2026, 8, 22), date(2026, 8, 31)}


def test_generated_schedule_compensates_each_weekend_holiday_on_a_distinct_day():
    schedule = labour_code_schedule(2027)
    compensatory = {d.date: d for d in schedule.days_off if d.kind == "compensatory"}
    assert set(compensatory) == {date(2027, 2, 9), date(2027, 2, 10), date(2027, 5, 3)}


@pytest.mark.parametrize(
    ("year", "neighbour"),
    [
        (2021, date(2021, 9, 3)),  # Thu 2/9 -> Fri 3/9, as decided
        (2022, date(2022, 9, 1)),  # Fri -> Thu 1/9
        (2024, date(2024, 9, 3)),  # Mon -> Tue 3/9
        (2025, date(2025, 9, 1)),  # Tue -> Mon 1/9
        (2026, date(2026, 9, 1)),  # Wed -> Tue 1/9
    ],
)
def test_national_day_neighbour_follows_past_government_decisions(year, neighbour):
    assert neighbour in labour_code_schedule(year).dates_off


def test_culture_day_can_be_switched_off_in_the_rules():
    calendar = WorkingCalendar(rules=LabourCodeRules(culture_day_since=None))
    assert calendar.is_working_day(date(2028, 11, 24))
    assert not WorkingCalendar().is_working_day(date(2028, 11, 24))
    assert WorkingCalendar().is_working_day(date(2025, 11, 24))  # not a holiday before 2026


# --- single days -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-01-01", False),
        ("2026-01-02", False),
        ("2026-01-10", True),  # make-up Saturday
        ("2026-01-17", False),  # ordinary Saturday
        ("2026-02-16", False),
        ("2026-02-23", True),
        ("2026-04-27", False),
        ("2026-08-22", True),
        ("2026-08-31", False),
        ("2026-09-03", True),
        ("2027-02-11", True),
        ("2027-05-03", False),
    ],
)
def test_is_working_day(cal, day, working):
    assert cal.is_working_day(date.fromisoformat(day)) is working


def test_next_working_day_is_strictly_after(cal):
    assert cal.next_working_day(date(2026, 3, 2)) == date(2026, 3, 3)
    assert cal.next_working_day(date(2026, 2, 13)) == date(2026, 2, 23)
    assert cal.next_working_day(date(2026, 1, 9)) == date(2026, 1, 10)


# --- time zones ----------------------------------------------------------------------


def test_aware_datetimes_are_converted_to_local_time(cal):
    # 03:00 UTC is 10:00 in Hà Nội; 08:30 UTC is 15:30, after the cutoff.
    assert cal.add_working_days(datetime(2026, 3, 2, 3, 0, tzinfo=UTC), 1) == date(2026, 3, 3)
    late = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert cal.add_working_days(late, 1, CUTOFF) == date(2026, 3, 4)


def test_utc_sunday_evening_is_local_monday_morning(cal):
    received = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # Mon 2/3 03:00 local
    assert to_local(received).date() == date(2026, 3, 2)
    assert cal.add_working_days(received, 1) == date(2026, 3, 3)


def test_naive_datetimes_are_local_and_other_zones_convert():
    assert to_local(datetime(2026, 3, 2, 10, 0)).tzinfo is LOCAL_TZ
    tokyo = datetime(2026, 3, 2, 12, 0, tzinfo=timezone(timedelta(hours=9)))
    assert to_local(tokyo).hour == 10


def test_a_bare_date_counts_as_received_before_the_cutoff(cal):
    assert cal.add_working_days(date(2026, 3, 2), 1, CUTOFF) == date(2026, 3, 3)


def test_aware_cutoff_is_rejected(cal):
    with pytest.raises(ValueError, match="cutoff"):
        cal.add_working_days(at("2026-03-02"), 1, time(15, 0, tzinfo=UTC))


def test_negative_n_is_rejected(cal):
    with pytest.raises(ValueError, match="n must be"):
        cal.add_working_days(at("2026-03-02"), -1)


def test_deemed_receipt_day(cal):
    assert cal.deemed_receipt_day(at("2026-03-02")) == date(2026, 3, 2)
    assert cal.deemed_receipt_day(at("2026-03-02", "15:00"), CUTOFF) == date(2026, 3, 3)
    assert cal.deemed_receipt_day(at("2026-02-14")) == date(2026, 2, 23)


# --- between and lateness ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        ("2026-03-02", "2026-03-02", 0),
        ("2026-03-02", "2026-03-03", 1),
        ("2026-03-02", "2026-03-09", 5),
        ("2026-03-09", "2026-03-02", -5),
        ("2026-02-13", "2026-02-23", 1),  # across Tết
        ("2026-01-09", "2026-01-12", 2),  # make-up Saturday counts
        ("2026-08-28", "2026-09-03", 1),
    ],
)
def test_working_days_between(cal, start, end, count):
    assert cal.working_days_between(date.fromisoformat(start), date.fromisoformat(end)) == count


def test_between_inverts_add_for_every_day_of_2026_and_2027(cal):
    day = date(2026, 1, 1)
    while day < date(2028, 1, 1):
        if cal.is_working_day(day):
            for n in (0, 1, 3, 7):
                assert cal.working_days_between(day, cal.add_working_days(day, n)) == n
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("due", "returned", "expected"),
    [
        ("2026-03-04", "2026-03-03", "early"),
        ("2026-03-04", "2026-03-04", "on_time"),
        ("2026-03-04", "2026-03-05", "late"),
        ("2026-03-06", "2026-03-07", "late"),  # Saturday after a Friday deadline
        ("2026-02-17", "2026-02-23", "on_time"),  # due on mùng 1 means Mon 23/2
        ("2026-02-17", "2026-02-13", "early"),
        ("2026-02-17", "2026-02-24", "late"),
    ],
)
def test_classify_return(cal, due, returned, expected):
    assert cal.classify_return(date.fromisoformat(due), date.fromisoformat(returned)) == expected


def test_classify_return_takes_a_local_datetime(cal):
    # 17:30 UTC on 3/3 is already 4/3 in Hà Nội: late for a 3/3 deadline.
    returned = datetime(2026, 3, 3, 17, 30, tzinfo=UTC)
    assert cal.classify_return(date(2026, 3, 3), returned) == "late"
    assert cal.classify_return(date(2026, 3, 4), returned) == "on_time"


# --- loading, overriding and bad data --------------------------------------------------

EXTRA_SWAP_2026 = """
year = 2026
status = "official"
sources = ["test"]

[[days_off]]
date = 2026-11-23
name = "Nghỉ hoán đổi"
kind = "swapped"

[[days_off]]
date = 2026-11-24
name = "Ngày Văn hóa Việt Nam"

[[make_up_working_days]]
date = 2026-11-28
name = "Làm bù cho thứ Hai 23/11"
replaces = 2026-11-23
"""


def test_loaded_year_replaces_the_seeded_one(cal):
    edited = cal.with_schedule(parse_year_schedule(EXTRA_SWAP_2026))
    assert not edited.is_working_day(date(2026, 11, 23))
    assert edited.is_working_day(date(2026, 11, 28))
    # The whole year is replaced: the seeded Tết days are gone from this test schedule.
    assert edited.is_working_day(date(2026, 2, 16))
    # The original calendar is untouched, and other years keep their data.
    assert cal.is_working_day(date(2026, 11, 23))
    assert edited.schedule_for(2027) is cal.schedule_for(2027)


def test_a_year_without_data_uses_the_labour_code():
    calendar = WorkingCalendar([parse_year_schedule(EXTRA_SWAP_2026)])
    assert calendar.schedule_for(2028).status == "generated"
    assert not calendar.is_working_day(date(2028, 1, 26))  # mùng 1 Tết 2028, Wed


def test_loaded_data_can_make_a_rules_holiday_a_working_day():
    # An empty official year means: only weekends are off.
    calendar = WorkingCalendar([YearSchedule(year=2030)])
    assert calendar.is_working_day(date(2030, 1, 1))


def test_schedule_round_trips_through_its_dict_form():
    for schedule in seeded_schedules().values():
        assert YearSchedule.from_dict(schedule.to_dict()) == schedule


def test_seeded_files_say_what_is_unconfirmed():
    seeded = seeded_schedules()
    assert seeded[2026].status == "partial"
    culture_day = next(d for d in seeded[2026].days_off if d.date == date(2026, 11, 24))
    assert culture_day.confirmed is False
    assert all(m.replaces for m in seeded[2026].make_up_working_days)


def _day(day: str, **extra) -> dict:
    return {"date": day, "name": "x", **extra}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"days_off": []}, "'year' must be an integer"),
        ({"year": "2026"}, "'year' must be an integer"),
        ({"year": 2026, "day_off": []}, "unknown key"),
        ({"year": 2026, "days_off": [_day("2026-02-30")]}, "expected a date"),
        ({"year": 2026, "days_off": [_day("2027-01-01")]}, "is not in 2026"),
        ({"year": 2026, "days_off": [_day("2026-05-01"), _day("2026-05-01")]}, "listed twice"),
        ({"year": 2026, "days_off": [_day("2026-05-01", kind="bonus")]}, "unknown kind"),
        ({"year": 2026, "days_off": [{"date": "2026-05-01"}]}, "'name' must be"),
        ({"year": 2026, "days_off": [_day("2026-05-01", confirmed="yes")]}, "'confirmed'"),
        ({"year": 2026, "days_off": [_day("2026-05-01", when="x")]}, "unknown key"),
        ({"year": 2026, "days_off": "2026-05-01"}, "must be a list"),
        ({"year": 2026, "status": "maybe"}, "unknown status"),
        (
            {
                "year": 2026,
                "days_off": [_day("2026-08-22")],
                "make_up_working_days": [_day("2026-08-22")],
            },
            "both a day off and a make-up",
        ),
    ],
)
def test_bad_schedule_data_raises_a_clear_error(data, message):
    with pytest.raises(CalendarDataError, match=message):
        YearSchedule.from_dict(data)


def test_invalid_toml_is_a_calendar_data_error():
    with pytest.raises(CalendarDataError, match="not valid TOML"):
        parse_year_schedule("year = ")


def test_make_up_day_on_a_weekday_is_rejected_by_the_calendar():
    schedule = YearSchedule(
        year=2026, make_up_working_days=(MakeUpDay(date(2026, 8, 21), "Friday?"),)
    )
    with pytest.raises(CalendarDataError, match="not a weekly rest day"):
        WorkingCalendar([schedule])


def test_two_schedules_for_one_year_are_rejected():
    one = YearSchedule(year=2026, days_off=(DayOff(date(2026, 1, 1), "Tết Dương lịch"),))
    with pytest.raises(CalendarDataError, match="two schedules"):
        WorkingCalendar([one, YearSchedule(year=2026)])


def test_rules_must_leave_a_working_weekday():
    with pytest.raises(CalendarDataError, match="weekly_rest_days"):
        LabourCodeRules(weekly_rest_days=frozenset(range(7)))

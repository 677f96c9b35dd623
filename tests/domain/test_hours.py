"""Opening hours, cut-offs and daily caps (server.domain.hours) on the real calendar."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from server.domain.calendar import default_calendar
from server.domain.errors import InvalidRequest
from server.domain.hours import (
    CentreClosed,
    DailyCapReached,
    IssuingRules,
    OpeningHours,
    OutsideOpeningHours,
    availability,
    closed_day,
)

HN = ZoneInfo("Asia/Ho_Chi_Minh")
CALENDAR = default_calendar()
HOURS = OpeningHours.parse("T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30")
WITH_HOURS = IssuingRules(HOURS)


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=HN)


def state(moment: datetime, rules: IssuingRules = WITH_HOURS, issued: int = 0):
    return availability(moment, rules, CALENDAR, service_name="Chứng thực", issued_today=issued)


def test_the_text_form_round_trips_and_groups_weekdays():
    assert HOURS.to_text() == "T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30"
    assert HOURS.to_json()["sat"] == [["07:30", "11:30"]]
    assert "sun" not in HOURS.to_json()
    assert OpeningHours.from_json(HOURS.to_json()) == HOURS
    assert OpeningHours.parse("mon-fri 08:00-12:00") == OpeningHours.parse("T2-T6 08:00-12:00")
    assert OpeningHours.parse("  ") is None


@pytest.mark.parametrize(
    "text",
    [
        "T2-T6 11:30-07:30",
        "T2 07:30-11:30, 11:00-12:00",
        "T2 07:30-11:30; T2 13:30-17:00",
        "T9 07:30-11:30",
        "T2-T6",
        "T2 7h30-11h30",
        "T6-T2 07:30-11:30",
    ],
)
def test_malformed_hours_are_refused_with_a_reason(text):
    with pytest.raises(InvalidRequest) as caught:
        OpeningHours.parse(text)
    assert caught.value.message_vi.startswith("Giờ làm việc không hợp lệ")


def test_open_inside_a_period_closed_at_lunch_until_the_afternoon():
    assert state(at(2026, 11, 25, 9, 0)).is_open  # Wednesday morning
    lunch = state(at(2026, 11, 25, 12, 15))
    assert lunch.state == "closed"
    assert lunch.next_opening == at(2026, 11, 25, 13, 30)
    assert "Ngoài giờ làm việc" in lunch.message_vi and "13:30 hôm nay" in lunch.message_vi
    assert state(at(2026, 11, 25, 11, 30)).state == "closed"  # the end is not inside
    assert state(at(2026, 11, 25, 7, 30)).is_open


def test_evening_points_to_the_next_morning_and_saturday_afternoon_to_monday():
    evening = state(at(2026, 11, 25, 17, 0))
    assert evening.next_opening == at(2026, 11, 26, 7, 30)
    assert "07:30 ngày mai (thứ Năm, 26/11/2026)" in evening.message_vi
    friday = state(at(2026, 11, 27, 18, 0))
    assert friday.next_opening == at(2026, 11, 28, 7, 30)  # Saturday morning is open
    assert state(at(2026, 11, 28, 10, 0)).is_open
    saturday = state(at(2026, 11, 28, 14, 0))
    assert saturday.next_opening == at(2026, 11, 30, 7, 30)
    assert "thứ Hai, 30/11/2026" in saturday.message_vi
    assert "Monday 30/11/2026" in saturday.message_en


def test_an_official_day_off_is_closed_and_named():
    holiday = state(at(2026, 11, 24, 9, 0))  # Ngày Văn hóa Việt Nam, a Tuesday
    assert holiday.state == "day_off"
    assert "Ngày Văn hóa Việt Nam" in holiday.message_vi
    assert holiday.next_opening == at(2026, 11, 25, 7, 30)
    # Quốc khánh: Mon 31/8 (swapped), Tue 1/9, Wed 2/9 off; Thursday opens.
    assert state(at(2026, 8, 31, 9, 0)).next_opening == at(2026, 9, 3, 7, 30)


def test_a_make_up_saturday_keeps_the_hours_of_the_day_it_replaces():
    # Sat 10/01/2026 is worked for Fri 02/01: open in the afternoon, like a Friday.
    assert state(at(2026, 1, 10, 14, 0)).is_open
    assert state(at(2026, 1, 2, 9, 0)).state == "day_off"


def test_the_cut_off_ends_issuing_for_the_day():
    rules = IssuingRules(HOURS, cutoff=time(15, 0))
    assert state(at(2026, 11, 25, 14, 59), rules).is_open
    late = state(at(2026, 11, 25, 15, 0), rules)
    assert late.state == "cutoff"
    assert late.next_opening == at(2026, 11, 26, 7, 30)
    assert "chỉ cấp số đến 15:00" in late.message_vi
    # After closing time it is simply closed.
    assert state(at(2026, 11, 25, 17, 30), rules).state == "closed"
    # A cut-off without hours: any day, until the cut-off.
    alone = IssuingRules(cutoff=time(15, 0))
    assert state(at(2026, 11, 29, 10, 0), alone).is_open  # a Sunday
    assert state(at(2026, 11, 29, 15, 30), alone).next_opening == at(2026, 11, 30, 0, 0)


def test_a_cut_off_before_the_afternoon_keeps_the_service_closed_after_lunch():
    rules = IssuingRules(HOURS, cutoff=time(11, 0))
    lunch = state(at(2026, 11, 25, 12, 0), rules)
    assert lunch.next_opening == at(2026, 11, 26, 7, 30)


def test_the_daily_cap_refuses_until_the_next_opening_day():
    rules = IssuingRules(HOURS, daily_cap=40)
    assert state(at(2026, 11, 25, 9, 0), rules, issued=39).is_open
    full = state(at(2026, 11, 25, 9, 0), rules, issued=40)
    assert full.state == "full"
    assert "hết số hôm nay" in full.message_vi
    assert full.next_opening == at(2026, 11, 26, 7, 30)
    error = full.error()
    assert isinstance(error, DailyCapReached)
    assert error.http_status == 409
    assert error.details == {"reason": "full", "next_opening": "2026-11-26T07:30:00+07:00"}


def test_no_hours_issues_at_any_time():
    assert state(at(2026, 11, 29, 3, 0), IssuingRules()).is_open
    closed = state(at(2026, 11, 29, 3, 0))
    assert isinstance(closed.error(), OutsideOpeningHours)
    assert closed.error().details["reason"] == "closed"


def test_a_closed_day_without_hours_says_the_next_day_that_is_not_closed():
    closures = {at(2026, 11, 25, 0).date(): "", at(2026, 11, 26, 0).date(): "Bầu cử"}
    assert closed_day(at(2026, 11, 24, 9), IssuingRules(), CALENDAR, closures) is None
    closed = closed_day(at(2026, 11, 25, 9), IssuingRules(), CALENDAR, closures)
    assert (
        closed.message_vi
        == "Hôm nay trung tâm nghỉ. Mời quý khách quay lại vào thứ Sáu, 27/11/2026."
    )
    assert closed.message_en == "The centre is closed today. Please come back on Friday 27/11/2026."
    error = closed.error()
    assert isinstance(error, CentreClosed) and error.http_status == 409
    assert error.details == {
        "reason": "closure",
        "closure_reason": "",
        "next_opening": "2026-11-27T00:00:00+07:00",
    }
    tomorrow = closed_day(at(2026, 11, 26, 9), IssuingRules(), CALENDAR, closures)
    assert tomorrow.message_vi == (
        "Hôm nay trung tâm nghỉ: Bầu cử. Mời quý khách quay lại ngày mai (thứ Sáu, 27/11/2026)."
    )
    assert tomorrow.view()["closure_reason"] == "Bầu cử" and not tomorrow.view()["open"]

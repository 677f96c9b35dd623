from datetime import UTC, datetime

import pytest

from server.domain.clock import local_day
from server.domain.errors import NumberRangeExhausted
from server.domain.numbering import NumberRange, allocate_number, format_number


def never_active(n: int) -> bool:
    return False


def test_first_number_of_the_day_is_the_range_start():
    a = allocate_number(NumberRange(1001, 1999), None, 0, never_active)
    assert (a.number, a.cycle) == (1001, 0)


def test_numbers_follow_each_other_within_the_range():
    a = allocate_number(NumberRange(1001, 1999), 1041, 0, never_active)
    assert (a.number, a.cycle) == (1042, 0)


def test_fresh_numbers_are_not_checked_for_activity():
    calls = []
    allocate_number(NumberRange(1, 9), 3, 0, lambda n: calls.append(n) or True)
    assert calls == []


def test_exhausted_range_wraps_to_the_start_in_a_new_cycle():
    a = allocate_number(NumberRange(1001, 1003), 1003, 0, never_active)
    assert (a.number, a.cycle) == (1001, 1)


def test_wrap_skips_numbers_still_active():
    active = {1001, 1002}
    a = allocate_number(NumberRange(1001, 1005), 1005, 0, active.__contains__)
    assert (a.number, a.cycle) == (1003, 1)


def test_after_a_wrap_every_number_is_checked():
    active = {1004}
    a = allocate_number(NumberRange(1001, 1005), 1003, 1, active.__contains__)
    assert (a.number, a.cycle) == (1005, 1)


def test_all_numbers_active_is_a_clear_error():
    with pytest.raises(NumberRangeExhausted) as info:
        allocate_number(NumberRange(1, 3), 3, 0, lambda n: True)
    assert "hết số" in info.value.message_vi


@pytest.mark.parametrize("start,end", [(5, 4), (-1, 3), (1, 10000)])
def test_invalid_ranges_are_refused(start, end):
    with pytest.raises(ValueError):
        NumberRange(start, end)


def test_format_number_pads_and_prefixes():
    assert format_number(7) == "0007"
    assert format_number(1023, "A") == "A1023"


def test_local_day_turns_at_hanoi_midnight_not_utc():
    # 16:59 UTC is 23:59 in Hà Nội; 17:00 UTC is already the next local day.
    assert local_day(datetime(2026, 11, 26, 16, 59, tzinfo=UTC)).day == 26
    assert local_day(datetime(2026, 11, 26, 17, 0, tzinfo=UTC)).day == 27


def test_local_day_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        local_day(datetime(2026, 11, 26, 12, 0))

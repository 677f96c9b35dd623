"""Ticket numbers: per service, per local day, from the service's range.

A number is never reused within a day; when the range is exhausted the sequence wraps to
the start (a new cycle), skipping numbers still active (waiting, called or serving), so two
citizens in the hall never hold the same number.

:func:`allocate_number` is the rule, written as plainly as possible; it is the
specification the database's one-statement search (``server/services/numbering.py``) is
tested against. :func:`fresh_number` and :func:`cycle_after` split it into the part that
needs no look at the hall and the cycle of a number found after the last one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from server.domain.errors import NumberRangeExhausted

#: A service whose range is this full (active numbers / range size) alerts the supervisor.
RANGE_ALERT_RATIO = 0.9
#: Seconds a kiosk waits before offering a refused service again (numbers free up as
#: counters serve).
EXHAUSTED_RETRY_AFTER = 60


@dataclass(frozen=True)
class NumberRange:
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end <= 9999:
            raise ValueError(
                f"invalid number range {self.start}-{self.end}: need 0 <= start <= end <= 9999"
            )

    @property
    def size(self) -> int:
        return self.end - self.start + 1

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int) and self.start <= number <= self.end


@dataclass(frozen=True)
class Allocation:
    number: int
    cycle: int


def allocate_number(
    number_range: NumberRange,
    last_number: int | None,
    cycle: int,
    is_active: Callable[[int], bool],
    *,
    service_name: str = "",
) -> Allocation:
    """Next number after `last_number` (None: first of the day) in `cycle`.

    `is_active(n)` says whether n is still held by a waiting/called/serving ticket of the
    same service and day; such numbers are skipped after a wrap.
    """
    if last_number is None:
        return Allocation(number_range.start, 0)
    n, c = last_number, cycle
    for _ in range(number_range.size):
        n += 1
        if not number_range.start <= n <= number_range.end:
            n, c = number_range.start, c + 1
        # The first pass of the day hands out fresh numbers; after a wrap, a number still
        # held by someone in the hall is skipped.
        if c == 0 or not is_active(n):
            return Allocation(n, c)
    raise range_exhausted(number_range, service_name)


def fresh_number(number_range: NumberRange, last_number: int | None, cycle: int) -> int | None:
    """The next number when it needs no look at the hall (the first of the day, or the
    first pass of the day going on), else None: search the free numbers."""
    if last_number is None:
        return number_range.start
    if cycle == 0 and last_number + 1 in number_range:
        return last_number + 1
    return None


def cycle_after(number_range: NumberRange, last_number: int, cycle: int, number: int) -> int:
    """The cycle of `number`, the first free number after `last_number` in scan order
    (`last_number + 1` … end, then start … `last_number`): one more when the scan
    wrapped to reach it."""
    wrapped = last_number + 1 not in number_range or number <= last_number
    return cycle + 1 if wrapped else cycle


def range_exhausted(
    number_range: NumberRange, service_name: str = "", service_id: int | None = None
) -> NumberRangeExhausted:
    """The refusal when every number of the range is held, worded for the citizen at the
    kiosk and the guide at the help desk."""
    name_vi = f"«{service_name}» " if service_name else "này "
    name_en = f"'{service_name}' " if service_name else ""
    return NumberRangeExhausted(
        f"Dịch vụ {name_vi}tạm hết số thứ tự: cả {number_range.size} số đều đang có người "
        "chờ hoặc đang được phục vụ. Quý khách vui lòng chờ ít phút rồi lấy số lại, hoặc "
        "liên hệ cán bộ hướng dẫn.",
        f"service {name_en}has no free number: all {number_range.size} numbers "
        f"({number_range.start}-{number_range.end}) are held by citizens waiting or being "
        "served today; try again in a few minutes, or ask the guide at the help desk",
        details={
            "service_id": service_id,
            "service_name": service_name or None,
            "range_start": number_range.start,
            "range_end": number_range.end,
            "retry_after_seconds": EXHAUSTED_RETRY_AFTER,
        },
    )


def range_used(held: int, number_range: NumberRange) -> float:
    """The share of the range held today (active numbers / range size)."""
    return min(1.0, held / number_range.size)


def format_number(number: int, prefix: str = "", width: int = 4) -> str:
    """The number as printed and shown: optional letter prefix, zero-padded digits."""
    return f"{prefix}{number:0{width}d}"

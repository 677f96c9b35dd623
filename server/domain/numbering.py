"""Ticket numbers: per service, per local day, from the service's range.

A number is never reused within a day; when the range is exhausted the sequence wraps to
the start (a new cycle), skipping numbers still active (waiting, called or serving), so two
citizens in the hall never hold the same number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from server.domain.errors import NumberRangeExhausted


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


@dataclass(frozen=True)
class Allocation:
    number: int
    cycle: int


def allocate_number(
    number_range: NumberRange,
    last_number: int | None,
    cycle: int,
    is_active: Callable[[int], bool],
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
    raise NumberRangeExhausted(
        "Đã hết số thứ tự của dịch vụ này trong ngày, vui lòng liên hệ cán bộ hướng dẫn.",
        f"every number {number_range.start}-{number_range.end} is still active today",
    )


def format_number(number: int, prefix: str = "", width: int = 4) -> str:
    """The number as printed and shown: optional letter prefix, zero-padded digits."""
    return f"{prefix}{number:0{width}d}"

"""Opening hours, issuing cut-offs and daily caps: when a service hands out numbers.

Pure rules over the centre's local wall-clock time (the caller converts `now` with the
centre's time zone) and the working-day calendar (`server.domain.calendar`):

- **Opening hours** are weekly periods per weekday, e.g. Mon–Fri 07:30–11:30 and
  13:30–17:00, Saturday 07:30–11:30. A service may override its centre's hours. No hours
  at all (None) means the service issues at any time, as before hours existed.
- With hours, an official **day off** (holiday, compensatory or swapped day) is closed
  whatever the weekday; a **make-up working day** (a Saturday worked instead of a swapped
  weekday) keeps the hours of the weekday it replaces (Monday's when it names none).
- The **cut-off** (e.g. certification until 15:00) ends a service's issuing for the day at
  that time, inside or without opening hours.
- The **daily cap** is how many tickets a service hands out in one local day.

The text form an administrator types (`OpeningHours.parse`, `to_text`):
``T2-T6 07:30-11:30, 13:30-17:00; T7 07:30-11:30`` (T2 … T7, CN; or Mon … Sun).
See docs/hours.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from server.domain.calendar import WorkingCalendar
from server.domain.errors import DomainError, InvalidRequest

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS_VI = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
WEEKDAY_NAMES_VI = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
WEEKDAY_NAMES_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_ALIASES = {
    **{label.lower(): i for i, label in enumerate(DAY_LABELS_VI)},
    **{key: i for i, key in enumerate(DAY_KEYS)},
    "thu2": 0,
    "thu3": 1,
    "thu4": 2,
    "thu5": 3,
    "thu6": 4,
    "thu7": 5,
    "cn": 6,
}
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_PERIOD = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")
#: How far ahead the next opening is looked for (a centre closed for longer says none).
_LOOKAHEAD_DAYS = 60
END_OF_DAY = 24 * 60


class OutsideOpeningHours(DomainError):
    """The service does not issue now: outside its hours, a day off, or past its cut-off.
    `details`: reason (closed | day_off | cutoff), next_opening (local ISO time or None)."""

    code = "outside_opening_hours"
    http_status = 409


class CentreClosed(DomainError):
    """The centre is closed today (an administrator's closure, /admin/closures): no number
    from the kiosk or a phone. `details`: reason ("closure"), closure_reason (the
    administrator's words), next_opening (local ISO time or None)."""

    code = "centre_closed"
    http_status = 409


class DailyCapReached(DomainError):
    """The service handed out its daily cap of tickets today ("hết số hôm nay").
    `details`: daily_cap, next_opening (local ISO time or None)."""

    code = "daily_cap_reached"
    http_status = 409


def _hours_error(why_vi: str, why_en: str) -> InvalidRequest:
    return InvalidRequest(
        f"Giờ làm việc không hợp lệ: {why_vi}", f"invalid opening hours: {why_en}"
    )


def parse_hhmm(value: str, *, what: str = "giờ") -> time:
    """ "07:30" → time(7, 30); InvalidRequest otherwise."""
    match = _HHMM.match(str(value).strip())
    if not match:
        raise InvalidRequest(
            f"{what.capitalize()} «{value}» không hợp lệ: dùng dạng HH:MM, ví dụ 15:00.",
            f"{value!r} is not HH:MM (e.g. 15:00)",
        )
    return time(int(match.group(1)), int(match.group(2)))


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _hhmm(minutes: int) -> str:
    return "24:00" if minutes >= END_OF_DAY else f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class OpeningHours:
    """Weekly opening periods: `days[weekday]` is a sorted tuple of (start, end) minutes of
    the local day, Monday first; an empty tuple is a closed weekday."""

    days: tuple[tuple[tuple[int, int], ...], ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise _hours_error("cần đủ 7 ngày trong tuần.", "seven weekdays are needed")
        for weekday, periods in enumerate(self.days):
            previous_end = -1
            for start, end in periods:
                if not 0 <= start < end <= END_OF_DAY:
                    raise _hours_error(
                        f"{DAY_LABELS_VI[weekday]}: giờ mở phải trước giờ đóng.",
                        f"{DAY_KEYS[weekday]}: a period must start before it ends",
                    )
                if start < previous_end:
                    raise _hours_error(
                        f"{DAY_LABELS_VI[weekday]}: các buổi chồng lên nhau.",
                        f"{DAY_KEYS[weekday]}: periods overlap",
                    )
                previous_end = end

    # --- forms ---------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> OpeningHours | None:
        """The administrator's text form; empty → None (no hours: always issuing)."""
        text = (text or "").strip()
        if not text:
            return None
        days: list[list[tuple[int, int]] | None] = [None] * 7
        for clause in re.split(r"[;\n]+", text):
            clause = clause.strip()
            if not clause:
                continue
            spec, _, rest = clause.partition(" ")
            weekdays = _parse_days(spec)
            periods = _parse_periods(rest, spec)
            for weekday in weekdays:
                if days[weekday] is not None:
                    raise _hours_error(
                        f"{DAY_LABELS_VI[weekday]} được ghi hai lần.",
                        f"{DAY_KEYS[weekday]} is given twice",
                    )
                days[weekday] = periods
        return cls(tuple(tuple(sorted(p or ())) for p in days))

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> OpeningHours | None:
        """The stored form {"mon": [["07:30", "11:30"], …], …}; None/{} → None."""
        if not data:
            return None
        if not isinstance(data, Mapping):
            raise _hours_error("cần một bảng theo ngày.", "expected an object by weekday")
        unknown = set(data) - set(DAY_KEYS)
        if unknown:
            raise _hours_error(
                f"ngày không rõ: {', '.join(sorted(map(str, unknown)))}.",
                f"unknown days {sorted(map(str, unknown))}",
            )
        days = []
        for key in DAY_KEYS:
            periods = []
            for item in data.get(key) or ():
                if not isinstance(item, list | tuple) or len(item) != 2:
                    raise _hours_error(f"{key}: mỗi buổi là [mở, đóng].", f"{key}: [start, end]")
                periods.append((_clock_minutes(item[0]), _clock_minutes(item[1])))
            days.append(tuple(sorted(periods)))
        return cls(tuple(days))

    @classmethod
    def coerce(cls, value: Any) -> OpeningHours | None:
        """Text or stored JSON, as the admin API accepts either."""
        if value is None or isinstance(value, str):
            return cls.parse(value or "")
        return cls.from_json(value)

    def to_json(self) -> dict[str, list[list[str]]]:
        return {
            key: [[_hhmm(s), _hhmm(e)] for s, e in periods]
            for key, periods in zip(DAY_KEYS, self.days, strict=True)
            if periods
        }

    def to_text(self) -> str:
        """Runs of weekdays with the same periods: "T2-T6 07:30-11:30, 13:30-17:00; T7 …"."""
        clauses = []
        weekday = 0
        while weekday < 7:
            periods = self.days[weekday]
            last = weekday
            while last + 1 < 7 and self.days[last + 1] == periods:
                last += 1
            if periods:
                spec = DAY_LABELS_VI[weekday]
                if last > weekday:
                    spec += f"-{DAY_LABELS_VI[last]}"
                clauses.append(f"{spec} " + ", ".join(f"{_hhmm(s)}-{_hhmm(e)}" for s, e in periods))
            weekday = last + 1
        return "; ".join(clauses)


def _clock_minutes(value: Any) -> int:
    if value == "24:00":
        return END_OF_DAY
    return _minutes(parse_hhmm(str(value)))


def _parse_days(spec: str) -> list[int]:
    out: list[int] = []
    for token in spec.split(","):
        token = token.strip().lower()
        if not token:
            continue
        first, dash, last = token.partition("-")
        if first not in _DAY_ALIASES or (dash and last not in _DAY_ALIASES):
            raise _hours_error(
                f"«{spec}» không phải ngày trong tuần (dùng T2 … T7, CN).",
                f"{spec!r} is not a weekday (T2 … T7, CN or mon … sun)",
            )
        a = _DAY_ALIASES[first]
        b = _DAY_ALIASES[last] if dash else a
        if b < a:
            raise _hours_error(f"«{token}»: ngày đầu phải trước ngày cuối.", f"{token!r}: reversed")
        out.extend(range(a, b + 1))
    if not out:
        raise _hours_error("thiếu ngày trong tuần.", "a clause names no weekday")
    return out


def _parse_periods(text: str, spec: str) -> list[tuple[int, int]]:
    periods = []
    for part in text.split(","):
        if not part.strip():
            continue
        match = _PERIOD.match(part)
        if not match:
            raise _hours_error(
                f"«{part.strip()}» sau «{spec}»: dùng dạng 07:30-11:30.",
                f"{part.strip()!r} after {spec!r}: use 07:30-11:30",
            )
        periods.append((_clock_minutes(match.group(1)), _clock_minutes(match.group(2))))
    if not periods:
        raise _hours_error(f"«{spec}» thiếu giờ mở cửa.", f"{spec!r} has no periods")
    return periods


@dataclass(frozen=True)
class IssuingRules:
    """What limits a service's issuing: hours (the service's own, else its centre's; None:
    any time), the cut-off and the daily cap (None: none)."""

    hours: OpeningHours | None = None
    cutoff: time | None = None
    daily_cap: int | None = None

    @property
    def limits_time(self) -> bool:
        return self.hours is not None or self.cutoff is not None


@dataclass(frozen=True)
class DayPlan:
    """One local day: its issuing windows in minutes (cut-off applied), and why it is
    closed when it is (a day off's name)."""

    day: date
    windows: tuple[tuple[int, int], ...]
    day_off: str | None = None


def plan_day(day: date, rules: IssuingRules, calendar: WorkingCalendar) -> DayPlan:
    """The windows in which `rules` let a service issue on `day`."""
    if rules.hours is None:
        periods: tuple[tuple[int, int], ...] = ((0, END_OF_DAY),)
    else:
        schedule = calendar.schedule_for(day.year)
        if day in schedule.dates_off:
            name = next((d.name for d in schedule.days_off if d.date == day), "") or "ngày nghỉ"
            return DayPlan(day, (), name)
        weekday = day.weekday()
        if day in schedule.make_up_dates:
            make_up = next(m for m in schedule.make_up_working_days if m.date == day)
            weekday = make_up.replaces.weekday() if make_up.replaces else 0
        periods = rules.hours.days[weekday]
    if rules.cutoff is not None:
        limit = _minutes(rules.cutoff)
        periods = tuple((s, min(e, limit)) for s, e in periods if s < limit)
    return DayPlan(day, periods)


def next_opening(
    local_now: datetime, rules: IssuingRules, calendar: WorkingCalendar, *, after_today: bool
) -> datetime | None:
    """The first local moment after `local_now` at which issuing opens: later today (unless
    `after_today`, e.g. the cap is reached), else on a following day; None within 60 days."""
    minute = local_now.hour * 60 + local_now.minute
    today = local_now.date()
    for offset in range(0 if not after_today else 1, _LOOKAHEAD_DAYS + 1):
        day = today + timedelta(days=offset)
        for start, _end in plan_day(day, rules, calendar).windows:
            if offset == 0 and start <= minute:
                continue
            return datetime.combine(day, time(start // 60, start % 60), tzinfo=local_now.tzinfo)
    return None


@dataclass(frozen=True)
class Availability:
    """Whether a service issues at `local_now`: state open | closed | day_off | cutoff |
    full, the next opening when not open, and the messages (vi, en) for a citizen."""

    state: str
    next_opening: datetime | None = None
    message_vi: str = ""
    message_en: str = ""
    #: The next opening in words ("13:30 hôm nay"), for a short line on the kiosk.
    opens_vi: str = ""
    opens_en: str = ""
    #: state "closure": the administrator's reason for the closed day ("" for none).
    closure_reason: str = ""

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    def view(self) -> dict[str, Any]:
        extra = {"closure_reason": self.closure_reason} if self.state == "closure" else {}
        return {
            **extra,
            "state": self.state,
            "open": self.is_open,
            "next_opening": self.next_opening.isoformat() if self.next_opening else None,
            "message": self.message_vi,
            "message_en": self.message_en,
            "opens": self.opens_vi,
            "opens_en": self.opens_en,
        }

    def error(self) -> DomainError:
        """The refusal for a ticket asked for while not open."""
        details = {
            "reason": self.state,
            "next_opening": self.next_opening.isoformat() if self.next_opening else None,
        }
        if self.state == "closure":
            details["closure_reason"] = self.closure_reason
        cls = {"full": DailyCapReached, "closure": CentreClosed}.get(
            self.state, OutsideOpeningHours
        )
        return cls(self.message_vi, self.message_en, details=details)


def when_vi(moment: datetime | None, local_now: datetime) -> str:
    """ "07:30 hôm nay" / "07:30 ngày mai (thứ Hai, 07/12/2026)" / "07:30 thứ Hai, 07/12/2026"."""
    if moment is None:
        return ""
    clock = moment.strftime("%H:%M")
    days = (moment.date() - local_now.date()).days
    weekday = WEEKDAY_NAMES_VI[moment.weekday()]
    if days == 0:
        return f"{clock} hôm nay"
    if days == 1:
        return f"{clock} ngày mai ({weekday}, {moment:%d/%m/%Y})"
    return f"{clock} {weekday}, {moment:%d/%m/%Y}"


def when_en(moment: datetime | None, local_now: datetime) -> str:
    if moment is None:
        return ""
    clock = moment.strftime("%H:%M")
    days = (moment.date() - local_now.date()).days
    if days == 0:
        return f"{clock} today"
    if days == 1:
        return f"{clock} tomorrow ({WEEKDAY_NAMES_EN[moment.weekday()]} {moment:%d/%m/%Y})"
    return f"{clock} on {WEEKDAY_NAMES_EN[moment.weekday()]} {moment:%d/%m/%Y}"


def availability(
    local_now: datetime,
    rules: IssuingRules,
    calendar: WorkingCalendar,
    *,
    service_name: str,
    issued_today: int = 0,
) -> Availability:
    """Whether the service issues at `local_now` (a local, aware time), and if not, why and
    from when. Times are checked first, then the cap: a closed service says when it opens."""
    if local_now.tzinfo is None:
        raise ValueError("local_now must be timezone-aware (the centre's zone)")
    plan = plan_day(local_now.date(), rules, calendar)
    minute = local_now.hour * 60 + local_now.minute
    if not any(start <= minute < end for start, end in plan.windows):
        opening = next_opening(local_now, rules, calendar, after_today=False)
        opens = (when_vi(opening, local_now), when_en(opening, local_now))
        back_vi = f" Mời quý khách quay lại lúc {opens[0]}." if opening else ""
        back_en = f" Please come back at {opens[1]}." if opening else ""
        cutoff = rules.cutoff
        if plan.day_off is not None:
            return Availability(
                "day_off",
                opening,
                f"Hôm nay là ngày nghỉ ({plan.day_off}), ngoài giờ làm việc.{back_vi}",
                f"Today is a day off ({plan.day_off}): outside working hours.{back_en}",
                *opens,
            )
        if (
            cutoff is not None
            and minute >= _minutes(cutoff)
            and _open_at(plan_day(local_now.date(), IssuingRules(rules.hours), calendar), minute)
        ):
            return Availability(
                "cutoff",
                opening,
                f"Dịch vụ «{service_name}» chỉ cấp số đến {cutoff:%H:%M}, "
                f"nay đã ngoài giờ cấp số.{back_vi}",
                f"«{service_name}» issues numbers until {cutoff:%H:%M} only: "
                f"outside issuing hours.{back_en}",
                *opens,
            )
        return Availability(
            "closed",
            opening,
            f"Ngoài giờ làm việc.{back_vi}",
            f"Outside working hours.{back_en}",
            *opens,
        )
    if rules.daily_cap is not None and issued_today >= rules.daily_cap:
        return full(local_now, rules, calendar, service_name=service_name)
    return Availability("open")


def closed_day(
    local_now: datetime,
    rules: IssuingRules,
    calendar: WorkingCalendar,
    closures: Mapping[date, str],
) -> Availability | None:
    """The centre closed `local_now`'s day (`closures`: closed day → the administrator's
    reason): state "closure", saying when it issues again (the next opening on a day that is
    not closed). None when today is not closed."""
    today = local_now.date()
    if today not in closures:
        return None
    reason = closures[today] or ""
    opening: datetime | None = None
    moment = local_now
    for _ in range(_LOOKAHEAD_DAYS):
        opening = next_opening(moment, rules, calendar, after_today=True)
        if opening is None or opening.date() not in closures:
            break
        moment = opening
    if opening is not None and opening.date() in closures:
        opening = None
    if opening is not None and opening.time() == time(0):  # no hours: the whole next day
        opens = (_day_vi(opening.date(), today), _day_en(opening.date(), today))
        back_vi, back_en = f" Mời quý khách quay lại {opens[0]}.", f" Please come back {opens[1]}."
    else:
        opens = (when_vi(opening, local_now), when_en(opening, local_now))
        back_vi = f" Mời quý khách quay lại lúc {opens[0]}." if opening else ""
        back_en = f" Please come back at {opens[1]}." if opening else ""
    why_vi = f": {reason}" if reason else ""
    why_en = f" ({reason})" if reason else ""
    return Availability(
        "closure",
        opening,
        f"Hôm nay trung tâm nghỉ{why_vi}.{back_vi}",
        f"The centre is closed today{why_en}.{back_en}",
        *opens,
        closure_reason=reason,
    )


def _day_vi(day: date, today: date) -> str:
    name = f"{WEEKDAY_NAMES_VI[day.weekday()]}, {day:%d/%m/%Y}"
    return f"ngày mai ({name})" if (day - today).days == 1 else f"vào {name}"


def _day_en(day: date, today: date) -> str:
    name = f"{WEEKDAY_NAMES_EN[day.weekday()]} {day:%d/%m/%Y}"
    return f"tomorrow ({name})" if (day - today).days == 1 else f"on {name}"


def full(
    local_now: datetime, rules: IssuingRules, calendar: WorkingCalendar, *, service_name: str
) -> Availability:
    """The service handed out its cap today: when it issues again (its next day)."""
    opening = next_opening(local_now, rules, calendar, after_today=True)
    opens = (when_vi(opening, local_now), when_en(opening, local_now))
    back_vi = f" Mời quý khách quay lại lúc {opens[0]}." if opening else ""
    back_en = f" Please come back at {opens[1]}." if opening else ""
    return Availability(
        "full",
        opening,
        f"Dịch vụ «{service_name}» đã hết số hôm nay ({rules.daily_cap} số mỗi ngày).{back_vi}",
        f"«{service_name}» has no numbers left today ({rules.daily_cap} a day).{back_en}",
        *opens,
    )


def _open_at(plan: DayPlan, minute: int) -> bool:
    return any(start <= minute < end for start, end in plan.windows)

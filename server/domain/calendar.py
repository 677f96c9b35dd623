"""Working days and dossier deadlines for a Vietnamese public administration centre.

A working day is a day that is not a weekly rest day (Saturday, Sunday) and not an
official day off, or that is an official make-up working day. Which days are off in a
given year is *data*: a `YearSchedule` an administrator loads or edits (the government
decides the Tết days, the day next to 2/9 and the swapped days every year). For a year
without loaded data the calendar falls back to `labour_code_schedule`, generated from the
Labour Code 2019 Art. 111–112 with the lunar dates converted by `lunar_vn`.

Deadlines follow the Civil Code 2015 Arts. 147–148, see `WorkingCalendar.add_working_days`.
Everything is local time Asia/Ho_Chi_Minh. See docs/calendar.md for the rules and sources.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

DayOffKind = Literal["holiday", "compensatory", "swapped", "other"]
ScheduleStatus = Literal["official", "partial", "unconfirmed", "generated"]
ReturnClass = Literal["early", "on_time", "late"]

SATURDAY, SUNDAY = 5, 6

# Which neighbour of 2/9 the government gave, by weekday of 2/9 (Mon=0). Observed in the
# yearly decisions 2021–2026 (Thu→3/9, Fri→1/9, Mon→3/9, Tue→1/9, Wed→1/9, Sat→1/9): the
# second day is put next to the weekend. Sunday has not happened since 2021; +1 keeps the
# holiday block together with the compensatory Tuesday.
_NATIONAL_DAY_NEIGHBOUR = {0: +1, 1: -1, 2: -1, 3: +1, 4: -1, 5: -1, 6: +1}

_DAY_OFF_KEYS = {"date", "name", "kind", "source", "confirmed"}
_MAKE_UP_KEYS = {"date", "name", "replaces", "source", "confirmed"}
_SCHEDULE_KEYS = {"year", "status", "notes", "sources", "days_off", "make_up_working_days"}


class CalendarDataError(ValueError):
    """A yearly schedule (file, dict or rules) is malformed; the message says where."""


@dataclass(frozen=True)
class DayOff:
    """An official day off: a statutory holiday, a compensatory day (nghỉ bù) or a
    working day swapped for a make-up Saturday (nghỉ hoán đổi)."""

    date: date
    name: str
    kind: DayOffKind = "holiday"
    source: str = ""
    confirmed: bool = True


@dataclass(frozen=True)
class MakeUpDay:
    """A weekly rest day that is worked to make up for a swapped day off (ngày làm bù)."""

    date: date
    name: str
    replaces: date | None = None
    source: str = ""
    confirmed: bool = True


@dataclass(frozen=True)
class YearSchedule:
    """The complete official schedule of one calendar year.

    Loaded data replaces the Labour Code rules for its whole year, so it must list every
    day off that falls on a weekday. Every date must lie inside `year` (a New Year swap
    across 31/12 goes half in each year's schedule).
    """

    year: int
    days_off: tuple[DayOff, ...] = ()
    make_up_working_days: tuple[MakeUpDay, ...] = ()
    status: ScheduleStatus = "official"
    notes: str = ""
    sources: tuple[str, ...] = ()
    _off: frozenset[date] = field(init=False, repr=False, compare=False)
    _make_up: frozenset[date] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"schedule {self.year}"
        if self.status not in get_args(ScheduleStatus):
            raise CalendarDataError(f"{where}: unknown status {self.status!r}")
        for entries in (self.days_off, self.make_up_working_days):
            seen: set[date] = set()
            for entry in entries:
                if entry.date.year != self.year:
                    raise CalendarDataError(
                        f"{where}: {entry.date.isoformat()} ({entry.name}) is not in {self.year}"
                    )
                if entry.date in seen:
                    raise CalendarDataError(f"{where}: {entry.date.isoformat()} is listed twice")
                seen.add(entry.date)
        both = {d.date for d in self.days_off} & {m.date for m in self.make_up_working_days}
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise CalendarDataError(f"{where}: {listed} both a day off and a make-up working day")
        for day in self.days_off:
            if day.kind not in get_args(DayOffKind):
                raise CalendarDataError(f"{where}: {day.date}: unknown kind {day.kind!r}")
        # Precomputed because is_working_day is called for every day of every deadline.
        object.__setattr__(self, "_off", frozenset(d.date for d in self.days_off))
        object.__setattr__(self, "_make_up", frozenset(d.date for d in self.make_up_working_days))

    @property
    def dates_off(self) -> frozenset[date]:
        return self._off

    @property
    def make_up_dates(self) -> frozenset[date]:
        return self._make_up

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> YearSchedule:
        """Build from the serialised form (TOML table or JSON object); dates may be
        `date` objects or ISO strings. Unknown keys are errors, to catch typos."""
        if not isinstance(data, Mapping):
            raise CalendarDataError("a schedule must be a table/object")
        year = data.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2100:
            raise CalendarDataError(f"schedule: 'year' must be an integer 1900–2100, got {year!r}")
        where = f"schedule {year}"
        _reject_unknown(data, _SCHEDULE_KEYS, where)
        days_off = tuple(
            DayOff(
                date=_parse_date(item.get("date"), f"{where} days_off[{i}].date"),
                name=_text(item, "name", f"{where} days_off[{i}]", required=True),
                kind=_text(item, "kind", f"{where} days_off[{i}]") or "holiday",  # type: ignore[arg-type]
                source=_text(item, "source", f"{where} days_off[{i}]"),
                confirmed=_flag(item, f"{where} days_off[{i}]"),
            )
            for i, item in enumerate(_table_list(data, "days_off", _DAY_OFF_KEYS, where))
        )
        make_up = tuple(
            MakeUpDay(
                date=_parse_date(item.get("date"), f"{where} make_up_working_days[{i}].date"),
                name=_text(item, "name", f"{where} make_up_working_days[{i}]", required=True),
                replaces=(
                    None
                    if item.get("replaces") is None
                    else _parse_date(
                        item["replaces"], f"{where} make_up_working_days[{i}].replaces"
                    )
                ),
                source=_text(item, "source", f"{where} make_up_working_days[{i}]"),
                confirmed=_flag(item, f"{where} make_up_working_days[{i}]"),
            )
            for i, item in enumerate(
                _table_list(data, "make_up_working_days", _MAKE_UP_KEYS, where)
            )
        )
        sources = data.get("sources", [])
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            raise CalendarDataError(f"{where}: 'sources' must be a list of strings")
        notes = data.get("notes", "")
        if not isinstance(notes, str):
            raise CalendarDataError(f"{where}: 'notes' must be a string")
        return cls(
            year=year,
            days_off=days_off,
            make_up_working_days=make_up,
            status=data.get("status", "official"),
            notes=notes,
            sources=tuple(sources),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (ISO date strings); `from_dict(to_dict())` round-trips."""
        return {
            "year": self.year,
            "status": self.status,
            "notes": self.notes,
            "sources": list(self.sources),
            "days_off": [
                {
                    "date": d.date.isoformat(),
                    "name": d.name,
                    "kind": d.kind,
                    "source": d.source,
                    "confirmed": d.confirmed,
                }
                for d in self.days_off
            ],
            "make_up_working_days": [
                {
                    "date": m.date.isoformat(),
                    "name": m.name,
                    "replaces": m.replaces.isoformat() if m.replaces else None,
                    "source": m.source,
                    "confirmed": m.confirmed,
                }
                for m in self.make_up_working_days
            ],
        }


def parse_year_schedule(text: str) -> YearSchedule:
    """Parse one year's schedule from TOML text (the format of calendar_data/vn_YYYY.toml)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarDataError(f"schedule is not valid TOML: {exc}") from exc
    return YearSchedule.from_dict(data)


def seeded_schedules() -> dict[int, YearSchedule]:
    """The schedules shipped in server/domain/calendar_data/ (vn_YYYY.toml), by year."""
    folder = resources.files(__package__).joinpath("calendar_data")
    schedules: dict[int, YearSchedule] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith("vn_") and entry.name.endswith(".toml"):
            try:
                schedule = parse_year_schedule(entry.read_text(encoding="utf-8"))
            except CalendarDataError as exc:
                raise CalendarDataError(f"{entry.name}: {exc}") from exc
            schedules[schedule.year] = schedule
    return schedules


# --- Labour Code rules -------------------------------------------------------------------


@dataclass(frozen=True)
class LabourCodeRules:
    """What the default (generated) schedule assumes.

    `culture_day_since`: first year in which 24/11 (Ngày Văn hóa Việt Nam) is a paid
    holiday; None leaves it out. Reported as added by Resolution 28/2026/QH16 from
    1 Jul 2026 (text not read here: see docs/calendar.md).
    """

    weekly_rest_days: frozenset[int] = frozenset({SATURDAY, SUNDAY})
    culture_day_since: int | None = 2026

    def __post_init__(self) -> None:
        if not self.weekly_rest_days <= set(range(7)) or len(self.weekly_rest_days) >= 7:
            raise CalendarDataError("weekly_rest_days must be weekdays 0–6, not all seven")


def tet_date(year: int) -> date:
    """Mùng 1 Tết (1/1 lunar) of the lunar year that starts in solar `year`."""
    return _lunar_to_solar(1, 1, year)


def hung_kings_day(year: int) -> date:
    """Giỗ Tổ Hùng Vương, 10/3 lunar (the regular third month, never a leap one)."""
    return _lunar_to_solar(10, 3, year)


def labour_code_schedule(year: int, rules: LabourCodeRules | None = None) -> YearSchedule:
    """Days off of `year` generated from the Labour Code 2019 (Art. 112 holidays, Art. 111(3)
    compensation), without the government's yearly swaps.

    Tết is taken as the last two days of the old lunar year and the first three of the new
    one, the split used in most recent years (when mùng 1 is a Tuesday the government chose
    1 + 4 days, which leaves exactly the same working days). Holidays that fall on a weekly
    rest day each give a compensatory day on the next day that is neither a rest day nor a
    holiday.
    """
    rules = rules or LabourCodeRules()
    code = "Bộ luật Lao động 2019, Điều 112"
    tet = tet_date(year)
    holidays: list[DayOff] = [DayOff(date(year, 1, 1), "Tết Dương lịch", source=code)]
    for offset in range(-2, 3):
        day = tet + timedelta(days=offset)
        lunar = _solar_to_lunar(day)
        label = f"{lunar.day} tháng Chạp" if lunar.month == 12 else f"mùng {lunar.day}"
        holidays.append(DayOff(day, f"Tết Nguyên đán ({label})", source=code))
    holidays.append(DayOff(hung_kings_day(year), "Giỗ Tổ Hùng Vương (10/3 âm lịch)", source=code))
    holidays.append(DayOff(date(year, 4, 30), "Ngày Chiến thắng (30/4)", source=code))
    holidays.append(DayOff(date(year, 5, 1), "Ngày Quốc tế Lao động (1/5)", source=code))
    national_day = date(year, 9, 2)
    neighbour = national_day + timedelta(days=_NATIONAL_DAY_NEIGHBOUR[national_day.weekday()])
    holidays.append(DayOff(national_day, "Quốc khánh (2/9)", source=code))
    holidays.append(
        DayOff(neighbour, "Quốc khánh (ngày liền kề)", source=code + "; ngày liền kề: ước tính")
    )
    if rules.culture_day_since is not None and year >= rules.culture_day_since:
        holidays.append(
            DayOff(date(year, 11, 24), "Ngày Văn hóa Việt Nam (24/11)", source="NQ 28/2026/QH16")
        )
    holidays.sort(key=lambda d: d.date)

    taken = {d.date for d in holidays}
    compensatory: list[DayOff] = []
    for holiday in holidays:
        if holiday.date.weekday() not in rules.weekly_rest_days:
            continue
        day = holiday.date + timedelta(days=1)
        while day.weekday() in rules.weekly_rest_days or day in taken:
            day += timedelta(days=1)
        taken.add(day)
        compensatory.append(
            DayOff(
                day,
                f"Nghỉ bù {holiday.name} ({holiday.date:%d/%m})",
                kind="compensatory",
                source="Bộ luật Lao động 2019, Điều 111(3)",
            )
        )
    return YearSchedule(
        year=year,
        days_off=tuple(sorted(holidays + compensatory, key=lambda d: d.date)),
        status="generated",
        notes="Sinh tự động theo Bộ luật Lao động; chưa gồm ngày hoán đổi của Chính phủ.",
    )


# --- The calendar ------------------------------------------------------------------------


def to_local(moment: datetime) -> datetime:
    """`moment` in Asia/Ho_Chi_Minh. Naive values are taken as local wall-clock time
    (that is what staff type and what a receipt slip shows); aware ones are converted."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(LOCAL_TZ)


class WorkingCalendar:
    """Working-day arithmetic over loaded yearly schedules, with the Labour Code rules as
    the default for any year without one. Immutable; `with_schedule` returns a new one."""

    def __init__(
        self, schedules: Iterable[YearSchedule] = (), *, rules: LabourCodeRules | None = None
    ) -> None:
        self._rules = rules or LabourCodeRules()
        loaded: dict[int, YearSchedule] = {}
        for schedule in schedules:
            if schedule.year in loaded:
                raise CalendarDataError(f"two schedules for {schedule.year}")
            for make_up in schedule.make_up_working_days:
                if make_up.date.weekday() not in self._rules.weekly_rest_days:
                    raise CalendarDataError(
                        f"schedule {schedule.year}: make-up day {make_up.date.isoformat()} is "
                        "not a weekly rest day (a make-up working day must be one)"
                    )
            loaded[schedule.year] = schedule
        self._loaded = loaded
        self._generated: dict[int, YearSchedule] = {}

    @property
    def rules(self) -> LabourCodeRules:
        return self._rules

    @property
    def loaded_schedules(self) -> dict[int, YearSchedule]:
        return dict(self._loaded)

    def with_schedule(self, schedule: YearSchedule) -> WorkingCalendar:
        """A copy in which `schedule` replaces whatever was loaded for its year."""
        others = [s for year, s in self._loaded.items() if year != schedule.year]
        return WorkingCalendar([*others, schedule], rules=self._rules)

    def schedule_for(self, year: int) -> YearSchedule:
        """The loaded schedule of `year`, or the one generated from the Labour Code."""
        if year in self._loaded:
            return self._loaded[year]
        if year not in self._generated:
            self._generated[year] = labour_code_schedule(year, self._rules)
        return self._generated[year]

    def is_working_day(self, day: date) -> bool:
        day = _local_date(day)
        schedule = self.schedule_for(day.year)
        if day in schedule.make_up_dates:
            return True
        return day.weekday() not in self._rules.weekly_rest_days and day not in schedule.dates_off

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        day = _local_date(day) + timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def deemed_receipt_day(self, received_at: datetime | date, cutoff: time | None = None) -> date:
        """The working day on which a dossier counts as received.

        That is the local day of `received_at` when it is a working day and the time is
        before `cutoff` (or there is no cutoff); otherwise the next working day, as if the
        dossier had been handed in when that day opened. A bare `date` counts as received
        before any cutoff.
        """
        if cutoff is not None and cutoff.tzinfo is not None:
            raise ValueError("cutoff is a local wall-clock time and must be naive")
        if isinstance(received_at, datetime):
            local = to_local(received_at)
            day, after_cutoff = local.date(), cutoff is not None and local.time() >= cutoff
        else:
            day, after_cutoff = received_at, False
        if self.is_working_day(day) and not after_cutoff:
            return day
        return self.next_working_day(day)

    def add_working_days(
        self, received_at: datetime | date, n: int, cutoff: time | None = None
    ) -> date:
        """The appointment (return) date of a dossier with a legal time of `n` working days.

        Civil Code Arts. 147–148: the day of receipt is not counted; counting starts on the
        following day and the deadline is the n-th working day after the receipt day, so it
        never lands on a day off. "The receipt day" is `deemed_receipt_day`: a dossier
        received at/after `cutoff`, or on a day that is not a working day (weekend, holiday),
        counts as received on the next working day, which is itself not counted.
        `n == 0` ("same day" procedures) returns the deemed receipt day.

        Examples (cutoff 15:00): Mon 10:00, n=1 → Tue; Mon 16:00, n=1 → Wed;
        Sat, n=1 → Tue (deemed received Mon); Mon 16:00, n=0 → Tue.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        day = self.deemed_receipt_day(received_at, cutoff)
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end; negative (−count of end < d <= start) when
        end is before start. So `working_days_between(r, add_working_days(r, n)) == n` for a
        working receipt day r, and `working_days_between(due, returned)` is the lateness."""
        start, end = _local_date(start), _local_date(end)
        sign = 1
        if end < start:
            start, end, sign = end, start, -1
        count = 0
        day = start + timedelta(days=1)
        while day <= end:
            count += self.is_working_day(day)
            day += timedelta(days=1)
        return sign * count

    def classify_return(self, due: date, returned: date | datetime) -> ReturnClass:
        """Early, on time or late, comparing the day of return with the appointment day.

        A due date on a day off is read as the next working day (Civil Code Art. 148), so
        returning then is on time; returning on any later day, even a weekend, is late.
        """
        due = _local_date(due)
        effective_due = due if self.is_working_day(due) else self.next_working_day(due)
        returned_day = _local_date(returned)
        if returned_day < effective_due:
            return "early"
        return "on_time" if returned_day == effective_due else "late"


@cache
def default_calendar() -> WorkingCalendar:
    """The calendar with the shipped schedules (2026, 2027, …) and default rules."""
    return WorkingCalendar(seeded_schedules().values())


# --- helpers -----------------------------------------------------------------------------


def _local_date(value: date) -> date:
    return to_local(value).date() if isinstance(value, datetime) else value


# lunar_vn is imported only here: the generated schedule is needed only for a year without
# loaded data, and the worker keeps every module it imports (tests/server/test_worker_footprint).


def _lunar_to_solar(day: int, month: int, year: int) -> date:
    from lunar_vn import LunarDate, lunar_to_solar

    try:
        return lunar_to_solar(LunarDate(day, month, year))
    except ValueError as exc:
        raise CalendarDataError(f"cannot convert lunar {day}/{month}/{year}: {exc}") from exc


def _solar_to_lunar(day: date) -> Any:
    from lunar_vn import solar_to_lunar

    return solar_to_lunar(day)


def _reject_unknown(item: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise CalendarDataError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _table_list(
    data: Mapping[str, Any], key: str, allowed: set[str], where: str
) -> list[Mapping[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list):
        raise CalendarDataError(f"{where}: '{key}' must be a list of tables")
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise CalendarDataError(f"{where}: {key}[{i}] must be a table with a date and name")
        _reject_unknown(item, allowed, f"{where} {key}[{i}]")
    return items


def _parse_date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        raise CalendarDataError(f"{where}: expected a date, got a date-time {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CalendarDataError(f"{where}: expected a date YYYY-MM-DD, got {value!r}")


def _text(item: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = item.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise CalendarDataError(f"{where}: '{key}' must be a {'non-empty ' * required}string")
    return value


def _flag(item: Mapping[str, Any], where: str) -> bool:
    value = item.get("confirmed", True)
    if not isinstance(value, bool):
        raise CalendarDataError(f"{where}: 'confirmed' must be true or false")
    return value

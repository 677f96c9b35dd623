"""The province reports read roll-ups (docs/reports.md, "Roll-ups"): a small province's
halls served through the real services over days across a month's end, and the roll-up
figures must equal the direct computation from every ticket — for closed months, partial
months with today live, a year with its months, a range and a day — and again after
events arrive late for a past day (a ticket finished after midnight, a pad's press
delivered days later). A box delivering a day late is in tests/server/test_sync.py."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from server.domain.actors import Actor
from server.domain.lifecycle import Outcome
from server.models import (
    Dossier,
    Procedure,
    Rating,
    ReportRollupDay,
    ReportRollupMonth,
    Ticket,
)
from server.services import issuing
from server.services import lifecycle as ops
from server.services.auth import create_user
from server.services.province_reports import ReportCache, build_province_report
from server.services.ratings import record_rating
from server.services.report_rollups import bucket_of, hist_percentile
from server.services.reports import percentile, period_for
from tests.server.factories import create_centre, create_counter, create_service

TODAY = date(2026, 11, 3)  # a Tuesday
NOW = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)  # 15:00 in Hà Nội
DAYS = (date(2026, 10, 29), date(2026, 10, 30), date(2026, 11, 2), TODAY)


def at(day: date, minutes: float) -> datetime:
    """`minutes` after 07:30 Hà Nội time (UTC+7) on `day`."""
    start = datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC)
    return start + timedelta(minutes=minutes)


def hall_day(session, hall: dict, day: date, n: int, rng: random.Random) -> None:
    """Two lines, each with its counter: tickets issued 5 minutes apart, called after up to
    ~5 minutes (seconds drawn), then served (some with another outcome), no-show, or
    transferred to a third service nobody calls; half the served rated."""
    for lane, (service, counter) in enumerate(hall["lanes"]):
        actor = hall["actors"][lane]
        ops.set_counter_status(session, counter, "open", now=at(day, lane), staff_id=actor.staff_id)
        for i in range(n):
            t0 = 5 * i + lane
            ticket = issuing.issue_ticket(session, service_id=service, now=at(day, t0)).ticket
            called = t0 + rng.randint(0, 280) / 60
            ops.call_next(session, counter_id=counter, now=at(day, called), actor=actor)
            fate = rng.random()
            if fate < 0.1:
                ops.mark_no_show(session, ticket_id=ticket.id, now=at(day, called + 1 / 6))
            elif fate < 0.2:
                ops.transfer(
                    session,
                    ticket_id=ticket.id,
                    service_id=hall["elsewhere"],
                    now=at(day, called + 1 / 6),
                )
            else:
                if fate < 0.6:
                    ops.start(session, ticket_id=ticket.id, now=at(day, called + 1 / 6))
                outcome = Outcome.SUPPLEMENT if fate > 0.9 else Outcome.SERVED
                ops.finish(session, ticket_id=ticket.id, now=at(day, called + 0.5), outcome=outcome)
                if rng.random() < 0.5:
                    _rate(session, hall, ticket.id, counter, rng.randint(1, 5), at(day, t0 + 4))


def _rate(session, hall, ticket_id, counter, level, when: datetime, now=None) -> None:
    record_rating(
        session,
        counter_id=counter,
        raw_key=str(level),
        level=level,
        pressed_at=when,
        idempotency_key=uuid.uuid4().hex,
        now=now or when,
        ticket_id=ticket_id,
    )


def _dossier(session, centre_id: int, procedure_id: int, received: datetime, timing: str | None):
    ready = received + timedelta(days=1, hours=2) if timing else None
    session.add(
        Dossier(
            centre_id=centre_id,
            code=f"HS-{uuid.uuid4().hex[:12]}",
            procedure_id=procedure_id,
            applicant_name="Công dân",
            received_at=received,
            working_days=1,
            due_date=received.date() + timedelta(days=1),
            appointment_at=received + timedelta(days=1),
            status="result_ready" if timing else "received",
            result_ready_at=ready,
            result_timing=timing,
        )
    )


@pytest.fixture
def province(database, demo):
    """Three centres (one provincial) over DAYS, today's tickets included; dossiers."""
    rng = random.Random(13)
    halls = []
    with database.transaction() as session:
        procedure_id = session.execute(select(Procedure.id).limit(1)).scalar_one()
        for k in range(3):
            centre = create_centre(session, name=f"Trung tâm {k}")
            centre.kind = "provincial" if k == 2 else "commune"
            a = create_service(session, centre, range_start=1001, range_end=1999)
            b = create_service(session, centre, range_start=2001, range_end=2999)
            c = create_service(session, centre, range_start=3001, range_end=3999)
            ca, cb = create_counter(session, centre, [a]), create_counter(session, centre, [b])
            staff = [
                create_user(
                    session,
                    username=f"cb{uuid.uuid4().hex[:6]}",
                    password="mat-khau-1",
                    role="staff",
                    centre_id=centre.id,
                )
                for _ in range(2)
            ]
            hall = {
                "centre": centre.id,
                "lanes": [(a.id, ca.id), (b.id, cb.id)],
                "elsewhere": c.id,
                "actors": [Actor(f"user:{u.username}", u.id) for u in staff],
            }
            halls.append(hall)
            for day in DAYS:
                hall_day(session, hall, day, 6 + k, rng)
                for j, timing in enumerate(("on_time", "early", "late", None)[: 2 + k]):
                    _dossier(session, centre.id, procedure_id, at(day, 60 + j), timing)
    return halls


def _rounded(value):
    """Floats to 6 decimals (a mean is a sum in another order: equal to ~1e-12)."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


PERIODS = (
    ("month", date(2026, 10, 1), None),  # closed: the month's roll-up
    ("month", TODAY, None),  # closed days and today live
    ("year", TODAY, None),  # its months: October's roll-up, November's days, today
    ("range", date(2026, 10, 29), TODAY),
    ("day", date(2026, 11, 2), None),  # yesterday: closed
    ("week", TODAY, None),
)


def _both(database, now=NOW) -> list[tuple[dict, dict]]:
    out = []
    for kind, anchor, end in PERIODS:
        period = period_for(kind, anchor, end)
        with database.transaction() as s:
            rolled = build_province_report(s, period, now=now)
        with database.transaction() as s:
            direct = build_province_report(s, period, now=now, source="direct")
        out.append((_rounded(rolled), _rounded(direct)))
    return out


def _assert_same(pairs: list[tuple[dict, dict]]) -> None:
    for (kind, anchor, _), (rolled, direct) in zip(PERIODS, pairs, strict=True):
        for part in ("groups", "months"):
            got, want = _rows(rolled, part), _rows(direct, part)
            diff = {
                key: {k: (v, want[key].get(k)) for k, v in row.items() if v != want[key].get(k)}
                for key, row in got.items()
                if row != want.get(key)
            }
            assert got == want, (kind, anchor, part, diff)
        assert rolled == direct


def _rows(report: dict, part: str) -> dict:
    if part == "groups":
        return {(None, r["id"]): r for g in report["groups"] for r in g["rows"]}
    return {
        (m["month"], r["id"]): r for m in report["months"] for g in m["groups"] for r in g["rows"]
    }


def _row(report: dict, centre_id: int) -> dict:
    return next(r for g in report["groups"] for r in g["rows"] if r["id"] == centre_id)


def test_roll_ups_equal_the_direct_computation_also_after_late_events(database, province, backend):
    first = _both(database)
    _assert_same(first)
    # Not empty figures: every kind of figure is there to compare.
    year = first[2][0]
    row = _row(year, province[0]["centre"])
    assert row["issued"] == 4 * 12 and row["served"] > 0 and row["ratings_total"] > 0
    assert row["wait_median"] is not None and row["dossiers_resolved"] > 0
    assert len(year["months"]) == 12
    centre_ids = [h["centre"] for h in province]
    with database.transaction() as s:
        rolled_days = set(
            s.execute(
                select(ReportRollupDay.centre_id, ReportRollupDay.day).where(
                    ReportRollupDay.centre_id.in_(centre_ids)
                )
            ).all()
        )
        months = s.scalars(
            select(ReportRollupMonth.month).where(ReportRollupMonth.centre_id == centre_ids[0])
        ).all()
    # Closed days are rolled (today is not), October is a stored month.
    assert {(c, d) for c in centre_ids for d in DAYS[:3]} <= rolled_days
    assert not any(d == TODAY for _, d in rolled_days)
    assert date(2026, 10, 1) in months

    # Late events for past days, through the real services:
    hall = province[0]
    with database.transaction() as s:
        # a ticket of yesterday, still at the counter, finished just after midnight …
        service, counter = hall["lanes"][0]
        ticket = issuing.issue_ticket(s, service_id=service, now=at(DAYS[2], 600)).ticket
        ops.call_next(s, counter_id=counter, now=at(DAYS[2], 601), actor=hall["actors"][0])
        ops.start(s, ticket_id=ticket.id, now=at(DAYS[2], 602))
    before = _row(_both(database)[4][0], hall["centre"])  # yesterday rolled with it serving
    with database.transaction() as s:
        ops.finish(s, ticket_id=ticket.id, now=at(TODAY, -445))  # 00:05 today
        # … and a pad's press of 30 October delivered only now (an unrated ticket of that day)
        rated = set(s.scalars(select(Rating.ticket_id).where(Rating.ticket_id.is_not(None))))
        late = s.scalars(
            select(Ticket)
            .where(
                Ticket.centre_id == hall["centre"],
                Ticket.day == DAYS[1],
                Ticket.status == "done",
                Ticket.id.not_in(rated),
            )
            .order_by(Ticket.id)
        ).first()
        _rate(s, hall, late.id, late.counter_id, 5, at(DAYS[1], 400), now=NOW)
    after = _both(database)
    _assert_same(after)
    yesterday = _row(after[4][0], hall["centre"])
    assert yesterday["served"] == before["served"] + 1
    october = _row(after[0][0], hall["centre"])
    assert october["ratings_total"] == _row(first[0][0], hall["centre"])["ratings_total"] + 1

    # Today is live: a ticket issued now counts at once.
    with database.transaction() as s:
        issuing.issue_ticket(s, service_id=hall["lanes"][1][0], now=NOW)
    live = _both(database, now=NOW + timedelta(minutes=1))
    _assert_same(live)
    assert (
        _row(live[1][0], hall["centre"])["issued"]
        == _row(after[1][0], hall["centre"])["issued"] + 1
    )
    _check_the_cache(database, province, NOW + timedelta(minutes=5))


def test_a_histogram_median_is_within_a_minute_of_the_exact_one():
    rng = random.Random(5)
    for n in (1, 2, 3, 10, 101, 1000):
        waits = [rng.random() * rng.random() * 2700 for _ in range(n)]
        hist: list[int] = []
        for w in waits:
            m = bucket_of(w)
            hist.extend([0] * (m + 1 - len(hist)))
            hist[m] += 1
        ordered = sorted(waits)
        for q in (0.5, 0.9):
            assert abs(hist_percentile(hist, q) - percentile(ordered, q)) < 60
    assert hist_percentile([], 0.5) is None
    assert hist_percentile([0, 2], 0.5) == 90.0  # two waits in 60-120 s: at 75 and 105


def _check_the_cache(database, province, start: datetime) -> None:
    """The API's ReportCache (docs/province.md): today's figures reused for at most 60 s
    by the app's clock and said so («cập nhật lúc»), the closed days' sums reused while
    their roll-ups stand: a late event for a past day shows at once. (Run at the end of
    the test above, on its province: a fixture less.)"""
    cache = ReportCache()
    month = period_for("month", TODAY)
    hall = province[0]

    def report(now: datetime, **kw) -> dict:
        with database.transaction() as s:
            return _rounded(build_province_report(s, month, now=now, **kw))

    first = report(start, cache=cache)
    assert first == report(start, source="direct")
    assert first["today_as_of"] == "15:05"
    assert report(start, cache=cache) == first  # from the cache, equal

    # A ticket issued today: within the minute the report is today's as of 15:05 …
    with database.transaction() as s:
        issuing.issue_ticket(s, service_id=hall["lanes"][1][0], now=start + timedelta(seconds=5))
    within = report(start + timedelta(seconds=60), cache=cache)
    assert within == first
    fresh = report(start + timedelta(seconds=60), source="direct")
    assert _row(fresh, hall["centre"])["issued"] == _row(first, hall["centre"])["issued"] + 1
    # … after it, computed again and equal to the direct computation.
    later = report(start + timedelta(seconds=61), cache=cache)
    assert later == report(start + timedelta(seconds=61), source="direct")
    assert later["today_as_of"] == "15:06"
    assert _row(later, hall["centre"])["issued"] == _row(fresh, hall["centre"])["issued"]

    # A pad's press of yesterday delivered now (within today's minute): the day's roll-up is
    # dropped, rolled again, and the closed days' sum read again at once.
    with database.transaction() as s:
        rated = set(s.scalars(select(Rating.ticket_id).where(Rating.ticket_id.is_not(None))))
        late = s.scalars(
            select(Ticket)
            .where(
                Ticket.centre_id == hall["centre"],
                Ticket.day == DAYS[2],
                Ticket.status == "done",
                Ticket.id.not_in(rated),
            )
            .order_by(Ticket.id)
        ).first()
        _rate(s, hall, late.id, late.counter_id, 4, at(DAYS[2], 400), now=start)
    now = start + timedelta(seconds=70)
    after = report(now, cache=cache)
    assert after == report(now, source="direct")
    assert (
        _row(after, hall["centre"])["ratings_total"]
        == _row(later, hall["centre"])["ratings_total"] + 1
    )
    # The next local day is a new key: nothing of the cached today is reused.
    tomorrow = datetime(2026, 11, 3, 17, 0, 30, tzinfo=UTC)  # 00:00:30 on the 4th
    assert report(tomorrow, cache=cache) == report(tomorrow, source="direct")
    with pytest.raises(ValueError):
        ReportCache(61)

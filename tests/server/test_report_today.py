"""Today's figures kept incrementally (server/services/report_today.py, docs/province.md):
a finished ticket is folded once into today's roll-up rows, the rest is added live. After a
seeded random sequence of issues, calls, starts, finishes, no-shows, requeues, transfers and
ratings through the real services, with folds at random points, the figures equal the
from-scratch computation (report_rollups.compute_days) — on SQLite and PostgreSQL; and
concurrent folds on PostgreSQL fold each ticket once."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.domain.actors import Actor
from server.domain.errors import DomainError
from server.domain.lifecycle import Outcome
from server.models import ReportLiveTicket, Ticket, TicketEvent
from server.services import issuing, report_today
from server.services import lifecycle as ops
from server.services.auth import create_user
from server.services.ratings import record_rating
from server.services.report_rollups import Figures, compute_days
from tests.server.factories import create_centre, create_counter, create_service

TZ = "Asia/Ho_Chi_Minh"
TODAY = date(2026, 11, 3)
OPEN = datetime(2026, 11, 3, 0, 30, tzinfo=UTC)  # 07:30 in Hà Nội


def _halls(session, n: int = 2) -> list[dict]:
    halls = []
    for k in range(n):
        centre = create_centre(session, name=f"Trung tâm {k}")
        a = create_service(session, centre, range_start=1001, range_end=1999)
        b = create_service(session, centre, range_start=2001, range_end=2999)
        elsewhere = create_service(session, centre, range_start=3001, range_end=3999)
        counters = [create_counter(session, centre, [a, b]), create_counter(session, centre, [b])]
        staff = [
            create_user(
                session,
                username=f"cb{uuid.uuid4().hex[:6]}",
                password="mat-khau-1",
                role="staff",
                centre_id=centre.id,
            )
            for _ in counters
        ]
        actors = [Actor(f"user:{u.username}", u.id) for u in staff]
        for counter, actor in zip(counters, actors, strict=True):
            ops.set_counter_status(session, counter.id, "open", now=OPEN, staff_id=actor.staff_id)
        halls.append(
            {
                "centre": centre.id,
                "services": [a.id, b.id],
                "elsewhere": elsewhere.id,
                "counters": [c.id for c in counters],
                "actors": actors,
                "current": {c.id: None for c in counters},
            }
        )
    return halls


def _rounded(figures: dict) -> dict:
    out = {}
    for key, f in figures.items():
        v = f.values()
        if any(v[k] for k in v if k != "wait_hist") or any(v["wait_hist"]):
            out[key] = {k: round(x, 6) if isinstance(x, float) else x for k, x in v.items()}
            # A histogram may end in empty buckets on one side only.
            hist = list(out[key]["wait_hist"])
            while hist and not hist[-1]:
                hist.pop()
            out[key]["wait_hist"] = hist
    return out


def _compare(database, ids: list[int], now: datetime) -> dict:
    with database.transaction() as s:
        incremental = report_today.today_days(s, ids, TODAY, TODAY, TZ)
    with database.transaction() as s:
        scratch = compute_days(s, ids, TODAY, TODAY, TODAY, TZ)
    got, want = _rounded(incremental), _rounded(scratch)
    assert got == want, {k: (got.get(k), want.get(k)) for k in set(got) | set(want)}
    return got


def _step(session, hall: dict, rng: random.Random, now: datetime, done: list[int]) -> str:
    """One random action of the hall; returns its name (or "" when it did not apply)."""
    counter = rng.choice(hall["counters"])
    actor = hall["actors"][hall["counters"].index(counter)]
    current = hall["current"][counter]
    roll = rng.random()
    try:
        if roll < 0.3:
            issuing.issue_ticket(session, service_id=rng.choice(hall["services"]), now=now)
            return "issue"
        if current is None:
            ticket = ops.call_next(session, counter_id=counter, now=now, actor=actor)
            hall["current"][counter] = ticket.id if ticket is not None else None
            return "call"
        status = session.scalar(select(Ticket.status).where(Ticket.id == current))
        if roll < 0.4 and status == "called":
            ops.start(session, ticket_id=current, now=now, actor=actor)
            return "start"
        if roll < 0.47 and status == "called":
            ops.mark_no_show(session, ticket_id=current, now=now, actor=actor)
            hall["current"][counter] = None
            hall.setdefault("no_shows", []).append(current)
            return "no_show"
        if roll < 0.5:
            ops.transfer(
                session,
                ticket_id=current,
                service_id=rng.choice([*hall["services"], hall["elsewhere"]]),
                now=now,
                actor=actor,
            )
            hall["current"][counter] = None
            return "transfer"
        if roll < 0.55 and status == "called":
            ops.recall(session, ticket_id=current, now=now, actor=actor)
            return "recall"
        outcome = rng.choice([Outcome.SERVED] * 5 + [Outcome.SUPPLEMENT, Outcome.LEFT])
        ops.finish(session, ticket_id=current, now=now, actor=actor, outcome=outcome)
        hall["current"][counter] = None
        done.append(current)
        if rng.random() < 0.5:
            record_rating(
                session,
                counter_id=counter,
                raw_key="4",
                level=rng.randint(1, 5),
                pressed_at=now,
                idempotency_key=uuid.uuid4().hex,
                now=now,
                ticket_id=current,
            )
        return "finish"
    except DomainError:
        hall["current"][counter] = None if roll >= 0.3 else hall["current"][counter]
        return ""


def _requeue(session, hall: dict, rng: random.Random, now: datetime) -> str:
    if not hall.get("no_shows"):
        return ""
    ticket_id = hall["no_shows"].pop(rng.randrange(len(hall["no_shows"])))
    try:
        ops.requeue(session, ticket_id=ticket_id, now=now)
    except DomainError:
        return ""
    return "requeue"


def test_incremental_today_equals_the_computation_from_scratch(database, backend):
    rng = random.Random(1313)
    with database.transaction() as s:
        halls = _halls(s)
    ids = [h["centre"] for h in halls]
    now = OPEN
    done: list[int] = []
    seen: set[str] = set()
    folds = 0
    for i in range(180):
        now += timedelta(seconds=rng.randint(5, 150))
        hall = rng.choice(halls)
        with database.transaction() as s:
            action = _requeue(s, hall, rng, now) if rng.random() < 0.05 else ""
            action = action or _step(s, hall, rng, now, done)
        seen.add(action)
        if rng.random() < 0.08 or i == 179:
            _compare(database, ids, now)
            folds += 1
    assert {"issue", "call", "start", "finish", "no_show", "transfer", "recall"} <= seen
    assert folds >= 8 and len(done) >= 15
    with database.transaction() as s:
        folded = set(s.scalars(select(ReportLiveTicket.ticket_id)))
    # Every finished ticket is folded (the last compare folded them all), nothing else.
    assert folded == set(done)
    # A fold with nothing new finished changes nothing.
    figures = _compare(database, ids, now)
    assert figures == _compare(database, ids, now)
    assert sum(f["issued"] for f in figures.values()) == _issued(database, ids)


def _issued(database, ids: list[int]) -> int:
    with database.transaction() as s:
        return s.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.centre_id.in_(ids), Ticket.day == TODAY)
        )


@pytest.mark.postgres  # SQLite serialises every transaction (BEGIN IMMEDIATE)
def test_concurrent_folds_fold_each_ticket_once(database, backend):
    """Three threads fold while a fourth finishes tickets: no ticket folded twice, no fold's
    rows lost (a read-modify-write of today's rows without the lock would lose some)."""
    with database.transaction() as s:
        halls = _halls(s, 1)
    hall = halls[0]
    ids = [hall["centre"]]
    now = OPEN
    with database.transaction() as s:
        tickets = [
            issuing.issue_ticket(
                s, service_id=hall["services"][k % 2], now=now + timedelta(seconds=k)
            ).ticket.id
            for k in range(30)
        ]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def finisher() -> None:
        try:
            barrier.wait()
            clock = now + timedelta(minutes=5)
            for _ in range(len(tickets)):
                clock += timedelta(seconds=20)
                with database.transaction() as s:
                    counter = hall["counters"][0]
                    actor = hall["actors"][0]
                    ticket = ops.call_next(s, counter_id=counter, now=clock, actor=actor)
                    ops.finish(s, ticket_id=ticket.id, now=clock + timedelta(seconds=9))
        except BaseException as exc:
            errors.append(exc)

    def folder() -> None:
        try:
            barrier.wait()
            for _ in range(10):
                with database.transaction() as s:
                    report_today.today_days(s, ids, TODAY, TODAY, TZ)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=finisher)] + [
        threading.Thread(target=folder) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with database.transaction() as s:
        finished = s.scalar(
            select(func.count())
            .select_from(TicketEvent)
            .where(TicketEvent.centre_id == hall["centre"], TicketEvent.kind == "finish")
        )
        stored = report_today.stored(s, ids, TODAY)
    folded = Figures()
    for f in stored.values():
        folded.add(f)
    # What the folds stored before the last finish: each folded ticket counted once.
    with database.transaction() as s:
        marked = s.scalar(select(func.count()).select_from(ReportLiveTicket))
    assert folded.counts["served"] == marked
    assert folded.counts["issued"] == marked
    assert finished == 30
    _compare(database, ids, now)
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(ReportLiveTicket)) == 30

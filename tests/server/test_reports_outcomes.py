"""Reports and scorecards count from outcomes: one ticket per way a visit can end.

At counter 1 (canbo1), one morning: 1001 served, 1002 needs a supplement, 1003 redirected,
1004 left before the end, 1005 called and never came (the counter said so at Next), 1006
called three times and never came (Next marked it absent by itself). Only 1001 is served.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from server.domain.actors import Actor
from server.domain.lifecycle import Outcome, Resolution
from server.models import User
from server.services import issuing
from server.services import lifecycle as ops
from server.services.report_export import to_csv
from server.services.reports import build_report, period_for
from server.services.scorecards import build_scorecards

DAY = date(2026, 11, 25)
T0 = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)  # 08:30 in Hà Nội
LIVE = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
FOLDED = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def morning(database, demo):
    with database.transaction() as s:
        staff = s.execute(select(User).where(User.username == "canbo1")).scalar_one()
        actor = Actor("user:canbo1", staff.id)
        ids = [issuing.issue_ticket(s, service_id=1, now=at(i)).ticket.id for i in range(6)]
    minute = 10.0

    def step(operation, **kw):
        nonlocal minute
        minute += 3
        with database.transaction() as s:
            return operation(s, now=at(minute), actor=actor, **kw)

    for ticket_id, outcome in zip(ids[:4], list(Outcome), strict=True):
        step(ops.call_next, counter_id=1)
        step(ops.start, ticket_id=ticket_id)
        step(ops.finish, ticket_id=ticket_id, outcome=outcome)
    step(ops.call_next, counter_id=1)  # 1005: called, never came
    step(ops.call_next, counter_id=1, resolve=Resolution.NO_SHOW, resolve_for=ids[4])
    step(ops.recall, ticket_id=ids[5])
    step(ops.recall, ticket_id=ids[5])
    with database.transaction() as s:  # a third press after two recalls: absent
        issuing.issue_ticket(s, service_id=1, now=at(minute))
    step(ops.call_next, counter_id=1)
    return staff.id


def figures(row):
    keys = ("served", "supplement", "redirected", "left", "no_show")
    return {k: row[k] for k in keys}


EXPECTED = {"served": 1, "supplement": 1, "redirected": 1, "left": 1, "no_show": 2}


@pytest.mark.parametrize("now", [LIVE, FOLDED], ids=["live", "folded"])
def test_the_report_counts_each_outcome_once_and_absent_citizens_never_as_served(
    database, morning, now
):
    with database.transaction() as s:
        report = build_report(s, [1], period_for("day", DAY), "staff", now=now)
    assert figures(report["total"]) == EXPECTED
    [row] = [r for r in report["rows"] if r["key"] == morning]
    assert figures(row) == EXPECTED
    # Every visit that ended at the counter took the counter's time: 3 minutes each.
    assert report["total"]["service_median"] == pytest.approx(180)


def test_scorecards_and_the_csv_carry_the_outcomes(database, morning):
    with database.transaction() as s:
        cards = build_scorecards(s, [1], period_for("day", DAY), now=LIVE)
    [card] = [c for c in cards["cards"] if c["key"] == morning]
    assert figures(card) == EXPECTED
    text = to_csv(cards).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.split("\n", 1)[1])))  # after the title
    mine = next(r for r in rows if r["Đã phục vụ"] == "1")
    assert (mine["Hẹn bổ sung hồ sơ"], mine["Hướng dẫn sang nơi khác"]) == ("1", "1")
    assert (mine["Công dân đã về"], mine["Vắng mặt"]) == ("1", "2")

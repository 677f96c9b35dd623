"""Scorecards against the hand-worked day in test_reports_scenario."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server.models import CounterEvent
from server.services.reports import period_for
from server.services.scorecards import build_scorecards, duty_by_staff
from tests.server.test_reports_scenario import DAY, build_day, local

LATER = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def day(database):
    with database.transaction() as session:
        return build_day(session)


def _cards(database, day, by="staff"):
    with database.transaction() as session:
        return build_scorecards(session, [day.centre_id], period_for("day", DAY), by=by, now=LATER)


def test_counter_status_changes_leave_a_trail(database, day):
    with database.transaction() as session:
        rows = session.execute(
            select(CounterEvent.status, CounterEvent.reason, CounterEvent.at, CounterEvent.staff_id)
            .where(CounterEvent.counter_id == day.counter_1, CounterEvent.at >= local("08:00"))
            .order_by(CounterEvent.at)
        ).all()
    assert [(r.status, r.reason, r.at) for r in rows] == [
        ("open", "", local("08:55")),
        ("paused", "Họp giao ban", local("09:30")),
        ("open", "", local("09:45")),
        ("closed", "", local("10:00")),
    ]
    assert {r.staff_id for r in rows} == {day.huong}  # a close keeps who held the counter


def test_on_duty_time_and_pauses_by_reason(database, day):
    with database.transaction() as session:
        duty = duty_by_staff(session, [day.centre_id], local("00:00"), local("23:59"))
    assert duty[day.huong]["on_duty_seconds"] == 65 * 60  # 08:55 → 10:00
    assert duty[day.huong]["paused_seconds"] == 15 * 60
    assert duty[day.huong]["pauses"] == {"Họp giao ban": {"count": 1, "seconds": 900.0}}
    assert duty[day.minh]["on_duty_seconds"] == 30 * 60


def test_a_shift_open_at_the_period_start_counts_from_the_start(database, day):
    with database.transaction() as session:
        duty = duty_by_staff(session, [day.centre_id], local("09:00"), local("09:40"))
    assert duty[day.huong]["on_duty_seconds"] == 40 * 60
    assert duty[day.huong]["paused_seconds"] == 10 * 60


def test_staff_scorecards(database, day):
    cards = {c["label"]: c for c in _cards(database, day)["cards"]}
    huong, minh = cards["Nguyễn Thị Hương"], cards["Trần Văn Minh"]
    assert (huong["served"], huong["no_show"], huong["transferred"]) == (3, 0, 0)
    assert huong["service_median"] == pytest.approx(240)
    assert huong["service_p90"] == pytest.approx(288)
    assert huong["ratings"] == {"5": 1, "4": 1, "3": 0, "2": 1, "1": 0}
    assert huong["satisfaction_index"] == pytest.approx(66.7)
    assert huong["on_duty_seconds"] == 3900
    assert huong["pauses"] == [{"reason": "Họp giao ban", "count": 1, "seconds": 900.0}]
    assert (minh["served"], minh["no_show"], minh["transferred"]) == (0, 1, 1)
    assert minh["on_duty_seconds"] == 1800


def test_agency_scorecards_add_up_their_staff(database, day):
    cards = {c["label"]: c for c in _cards(database, day, by="agency")["cards"]}
    assert cards["Phòng Tư pháp"]["served"] == 3
    assert cards["Phòng Tư pháp"]["on_duty_seconds"] == 3900
    assert cards["Văn phòng đăng ký đất đai"]["no_show"] == 1
    assert cards["Văn phòng đăng ký đất đai"]["on_duty_seconds"] == 1800


def test_low_ratings_open_down_to_ticket_counter_service_and_time(database, day):
    low = _cards(database, day)["low_ratings"]
    assert len(low) == 1
    (row,) = low
    assert row["level"] == 2
    assert row["level_label"] == "Không hài lòng"
    assert row["ticket_id"] == day.tickets["A2"]
    assert row["ticket_number"] == "1002"
    assert row["counter_id"] == day.counter_1
    assert row["service_name"] == "Dịch vụ A"
    assert row["staff_name"] == "Nguyễn Thị Hương"
    assert row["pressed_at"].startswith("2026-11-25T09:15")
    assert row["finished_at"].startswith("2026-11-25T09:14")


def test_a_call_that_reopens_a_paused_counter_is_on_the_trail(database, day):
    from server.models import Counter
    from server.services import issuing
    from server.services import lifecycle as ops
    from server.services.lifecycle import set_counter_status

    with database.transaction() as session:
        counter = session.get(Counter, day.counter_2)
        set_counter_status(session, counter, "open", now=local("11:00"), staff_id=day.minh)
        set_counter_status(session, counter, "paused", "Nghỉ giải lao", now=local("11:10"))
        issuing.issue_ticket(session, service_id=day.service_b, now=local("11:15"))
        ops.call_next(
            session,
            counter_id=counter.id,
            now=local("11:20"),
            actor=ops.Actor("user:minh", day.minh),
        )
        rows = session.execute(
            select(CounterEvent.status, CounterEvent.from_status, CounterEvent.at)
            .where(CounterEvent.counter_id == day.counter_2, CounterEvent.at >= local("11:00"))
            .order_by(CounterEvent.id)
        ).all()
        duty = duty_by_staff(session, [day.centre_id], local("11:00"), local("11:30"))
    assert [(r.status, r.from_status, r.at) for r in rows] == [
        ("open", "closed", local("11:00")),
        ("paused", "open", local("11:10")),
        ("open", "paused", local("11:20")),
    ]
    assert duty[day.minh]["paused_seconds"] == 600
    assert duty[day.minh]["on_duty_seconds"] == 1800

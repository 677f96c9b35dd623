"""Report figures against the hand-worked day in test_reports_scenario."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from server.models import Rating, ReportDay, ReportTicketFact, Ticket
from server.services.reports import build_report, percentile, period_for
from tests.server.test_reports_scenario import DAY, build_day

SAME_DAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # the day is live (not folded)
WEEK_LATER = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # the day is settled and stored


@pytest.fixture
def day(database):
    with database.transaction() as session:
        return build_day(session)


def _report(database, scenario, by, now, kind="day", anchor=DAY):
    with database.transaction() as session:
        return build_report(session, [scenario.centre_id], period_for(kind, anchor), by, now=now)


def _rows(report):
    return {row["label"]: row for row in report["rows"]}


def test_percentile_interpolates_like_percentile_cont():
    assert percentile([60, 120, 120, 540], 0.5) == 120
    assert percentile([60, 120, 120, 540], 0.9) == pytest.approx(414)
    assert percentile([240, 240, 300], 0.9) == pytest.approx(288)
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7


@pytest.mark.parametrize("now", [SAME_DAY, WEEK_LATER], ids=["live", "folded"])
def test_day_totals_match_the_hand_worked_day(database, day, now):
    total = _report(database, day, "service", now)["total"]
    assert (total["issued"], total["served"], total["no_show"], total["transferred"]) == (
        4,
        3,
        1,
        1,
    )
    # waits 60, 120, 120, 540 s
    assert total["wait_mean"] == pytest.approx(210)
    assert total["wait_median"] == pytest.approx(120)
    assert total["wait_p90"] == pytest.approx(414)
    # service times 300, 240, 240 s
    assert total["service_mean"] == pytest.approx(260)
    assert total["service_median"] == pytest.approx(240)
    assert total["service_p90"] == pytest.approx(288)
    assert total["ratings"] == {"5": 1, "4": 1, "3": 0, "2": 1, "1": 0}
    assert total["ratings_total"] == 3
    assert total["satisfaction_index"] == pytest.approx(66.7)
    assert total["rating_mean"] == pytest.approx(11 / 3)


def test_settled_days_are_stored_once_and_read_back(database, day):
    first = _report(database, day, "service", WEEK_LATER)
    with database.transaction() as session:
        assert session.query(ReportTicketFact).count() == 4
        assert session.query(ReportDay).filter_by(centre_id=day.centre_id).count() == 1
    again = _report(database, day, "service", WEEK_LATER)
    assert again["rows"] == first["rows"]
    live = _report(database, day, "service", SAME_DAY)
    assert live["rows"] == first["rows"]


def test_by_service_attributes_issue_and_wait_to_the_line_of_issue(database, day):
    rows = _rows(_report(database, day, "service", SAME_DAY))
    a, b = rows["Dịch vụ A"], rows["Dịch vụ B"]
    assert (a["issued"], a["served"], a["no_show"], a["transferred"]) == (2, 3, 0, 0)
    assert a["wait_median"] == pytest.approx(330)  # 120 and 540
    assert a["service_median"] == pytest.approx(240)  # 300, 240, 240
    assert (b["issued"], b["served"], b["no_show"], b["transferred"]) == (2, 0, 1, 1)
    assert b["wait_mean"] == pytest.approx(90)  # 60 and 120
    assert b["service_median"] is None
    assert a["ratings"] == {"5": 1, "4": 1, "3": 0, "2": 1, "1": 0}  # B2 was rated in A


def test_by_staff_and_agency(database, day):
    report = _report(database, day, "staff", SAME_DAY)
    assert report["issued_attributed"] is False
    rows = _rows(report)
    huong, minh = rows["Nguyễn Thị Hương"], rows["Trần Văn Minh"]
    assert (huong["served"], huong["no_show"], huong["transferred"]) == (3, 0, 0)
    assert huong["service_mean"] == pytest.approx(260)
    assert (minh["served"], minh["no_show"], minh["transferred"]) == (0, 1, 1)
    assert huong["satisfaction_index"] == pytest.approx(66.7)
    assert minh["ratings_total"] == 0
    agencies = _rows(_report(database, day, "agency", SAME_DAY))
    assert agencies["Phòng Tư pháp"]["served"] == 3
    assert agencies["Văn phòng đăng ký đất đai"]["no_show"] == 1


def test_by_counter_field_centre_and_day(database, day):
    counters = _report(database, day, "counter", SAME_DAY)["rows"]
    served = {r["key"]: r["served"] for r in counters}
    assert served[day.counter_1] == 3
    assert sum(r["no_show"] for r in counters if r["key"] == day.counter_2) == 1
    fields = _report(database, day, "field", SAME_DAY)["rows"]
    assert sorted(r["issued"] for r in fields) == [2, 2]  # A and B each have a field
    centre = _report(database, day, "centre", SAME_DAY)["rows"]
    assert [(r["key"], r["issued"], r["served"]) for r in centre] == [(day.centre_id, 4, 3)]
    days = _report(database, day, "day", WEEK_LATER, kind="month")["rows"]
    assert [(r["key"], r["label"], r["issued"]) for r in days] == [("2026-11-25", "25/11/2026", 4)]


def test_busiest_hours_heat_map_counts_arrivals_by_local_weekday_and_hour(database, day):
    heat = _report(database, day, "service", SAME_DAY, kind="week")["heatmap"]
    assert heat[2][9] == 4  # Wednesday, 09:00–09:59 local
    assert sum(map(sum, heat)) == 4


def test_a_period_without_the_day_is_empty(database, day):
    report = _report(database, day, "service", WEEK_LATER, anchor=date(2026, 11, 24))
    assert report["rows"] == []
    assert report["total"]["issued"] == 0
    assert report["total"]["wait_median"] is None


@pytest.mark.parametrize(
    ("kind", "anchor", "start", "end", "label"),
    [
        ("day", date(2026, 2, 3), "2026-02-03", "2026-02-03", "Ngày 03/02/2026"),
        ("week", date(2026, 11, 25), "2026-11-23", "2026-11-29", "Từ 23/11/2026 đến 29/11/2026"),
        ("month", date(2024, 2, 10), "2024-02-01", "2024-02-29", "Tháng 2/2024"),
        ("quarter", date(2026, 8, 1), "2026-07-01", "2026-09-30", "Quý 3/2026"),
        ("year", date(2026, 5, 5), "2026-01-01", "2026-12-31", "Năm 2026"),
    ],
)
def test_periods(kind, anchor, start, end, label):
    period = period_for(kind, anchor)
    assert (period.start.isoformat(), period.end.isoformat(), period.label_vi()) == (
        start,
        end,
        label,
    )


def test_range_must_be_ordered_and_bounded():
    from server.domain.errors import InvalidRequest

    assert period_for("range", date(2026, 1, 1), date(2026, 1, 31)).days == 31
    with pytest.raises(InvalidRequest):
        period_for("range", date(2026, 2, 1), date(2026, 1, 1))
    with pytest.raises(InvalidRequest):
        period_for("range", date(2020, 1, 1), date(2026, 1, 1))
    with pytest.raises(InvalidRequest):
        period_for("fortnight", date(2026, 1, 1))


def test_a_moment_before_the_hour_or_midnight_counts_in_it_not_the_next(database, day):
    """PostgreSQL's cast to integer rounds: a press at 23:59:59.7 fell on the next day and an
    arrival at 08:59:59.6 in the 09:00 hour (SQLite truncates, so only PostgreSQL failed)."""
    from datetime import timedelta

    from tests.server.test_reports_scenario import local

    with database.transaction() as session:
        late = local("23:59") + timedelta(seconds=59.7)
        ticket = session.get(Ticket, day.tickets["A1"])
        session.add(
            Rating(
                centre_id=day.centre_id,
                counter_id=ticket.counter_id,
                ticket_id=None,  # the citizen at the counter just before midnight
                staff_id=ticket.staff_id,
                service_id=ticket.service_id,
                raw_key="3",
                level=3,
                scale=5,
                criterion="overall",
                source="pad",
                pressed_at=late,
                received_at=late,
                idempotency_key="late-on-the-day",
            )
        )
        from server.services import issuing

        issuing.issue_ticket(
            session, service_id=day.service_a, now=local("08:59") + timedelta(seconds=59.6)
        )
    days = _report(database, day, "day", WEEK_LATER, kind="month")["rows"]
    assert [(r["key"], r["ratings"]["3"]) for r in days] == [("2026-11-25", 1)]
    heat = _report(database, day, "service", SAME_DAY, kind="week")["heatmap"]
    assert (heat[2][8], heat[2][9]) == (1, 4)

"""Ticket operations through real sessions and commits (SQLite, and PostgreSQL with --pg)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.domain.actors import Actor
from server.domain.errors import CurrentNotStarted, IllegalTransition, NoTicketWaiting
from server.domain.lifecycle import Resolution
from server.models import Ticket, TicketEvent
from server.services import issuing, queue
from server.services import lifecycle as ops
from tests.server.factories import create_category, create_centre, create_counter, create_service

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội


def tick(n: int) -> datetime:
    return T0 + timedelta(seconds=n)


@pytest.fixture
def hall(database):
    """One centre: services A and B; counter 1 serves A then B; counter 2 serves B only."""
    with database.transaction() as s:
        centre = create_centre(s)
        a = create_service(s, centre, name="Hộ tịch", range_start=1001, range_end=1999)
        b = create_service(s, centre, name="Chứng thực", range_start=2001, range_end=2999)
        c1 = create_counter(s, centre, [a, b], number=1)
        c2 = create_counter(s, centre, [b], number=2)
        cat = create_category(s, centre)
        return {"centre": centre.id, "a": a.id, "b": b.id, "c1": c1.id, "c2": c2.id, "cat": cat.id}


def issue(database, service_id, at, **kw):
    with database.transaction() as s:
        t = issuing.issue_ticket(s, service_id=service_id, now=at, **kw).ticket
        return t.id, t.display_number


def call(database, counter_id, at, **kw):
    """Next at the counter; the citizen still there (if any) was served."""
    kw.setdefault("resolve", Resolution.SERVED)
    with database.transaction() as s:
        t = ops.call_next(s, counter_id=counter_id, now=at, **kw)
        return t.id, t.display_number


def test_numbers_run_per_service_from_its_range(database, hall):
    assert [issue(database, hall["a"], tick(i))[1] for i in range(3)] == ["1001", "1002", "1003"]
    assert issue(database, hall["b"], tick(5))[1] == "2001"


def test_numbering_restarts_at_local_midnight_not_utc(database, hall):
    before = datetime(2026, 11, 25, 16, 59, tzinfo=UTC)  # 23:59 local
    after = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # 00:00 local, next day
    assert issue(database, hall["a"], before)[1] == "1001"
    assert issue(database, hall["a"], before + timedelta(seconds=30))[1] == "1002"
    assert issue(database, hall["a"], after)[1] == "1001"


def test_wrapped_range_skips_numbers_still_in_the_hall(database, hall):
    with database.transaction() as s:
        from server.models import Centre

        centre = s.get(Centre, hall["centre"])
        small = create_service(s, centre, range_start=1, range_end=3)
        counter = create_counter(s, centre, [small])
        small_id, counter_id = small.id, counter.id
    numbers = [issue(database, small_id, tick(i))[1] for i in range(3)]
    assert numbers == ["0001", "0002", "0003"]
    # 0001 is served and done; 0002 and 0003 still wait.
    call(database, counter_id, tick(10))
    with database.transaction() as s:
        current = s.execute(select(Ticket).where(Ticket.status == "called")).scalar_one()
        ops.finish(s, ticket_id=current.id, now=tick(11))
    assert issue(database, small_id, tick(12))[1] == "0001"
    with pytest.raises(Exception) as info:
        issue(database, small_id, tick(13))
    assert getattr(info.value, "code", "") == "number_range_exhausted"


def test_counter_serves_its_services_in_order_then_by_issue_time(database, hall):
    b1 = issue(database, hall["b"], tick(0))
    a1 = issue(database, hall["a"], tick(1))
    a2 = issue(database, hall["a"], tick(2))
    # Counter 1 serves A before B, even though B's ticket is older.
    assert call(database, hall["c1"], tick(10)) == a1
    assert call(database, hall["c1"], tick(11)) == a2
    assert call(database, hall["c1"], tick(12)) == b1
    with pytest.raises(NoTicketWaiting):
        call(database, hall["c1"], tick(13))


def test_strict_priority_goes_first(database, hall):
    with database.transaction() as s:
        from server.models import Service

        s.get(Service, hall["a"]).priority_policy = "strict"
    n1 = issue(database, hall["a"], tick(0))
    p1 = issue(database, hall["a"], tick(1), priority_category_id=hall["cat"])
    assert call(database, hall["c1"], tick(5)) == p1
    assert call(database, hall["c1"], tick(6)) == n1


def test_interleave_calls_one_priority_after_every_three_normal(database, hall):
    normals = [issue(database, hall["a"], tick(i)) for i in range(7)]
    prios = [
        issue(database, hall["a"], tick(10 + i), priority_category_id=hall["cat"]) for i in range(3)
    ]
    order = [call(database, hall["c1"], tick(100 + i)) for i in range(10)]
    # The first priority ticket of the day is due at once, then 3 normal : 1 priority.
    assert order == [prios[0], *normals[:3], prios[1], *normals[3:6], prios[2], normals[6]]


def test_every_transition_is_in_the_event_trail_with_actor_counter_and_staff(database, hall, demo):
    tid, _ = issue(database, hall["a"], tick(0))
    actor = Actor("user:canbo1", staff_id=1)
    call(database, hall["c1"], tick(1), actor=actor)
    with database.transaction() as s:
        ops.recall(s, ticket_id=tid, now=tick(2), actor=actor)
        ops.start(s, ticket_id=tid, now=tick(3), actor=actor)
        ops.finish(s, ticket_id=tid, now=tick(4), actor=actor)
    with database.transaction() as s:
        rows = (
            s.execute(
                select(TicketEvent).where(TicketEvent.ticket_id == tid).order_by(TicketEvent.id)
            )
            .scalars()
            .all()
        )
        trail = [(e.kind, e.from_status, e.to_status) for e in rows]
        assert trail == [
            ("issue", None, "waiting"),
            ("call", "waiting", "called"),
            ("recall", "called", "called"),
            ("start", "called", "serving"),
            ("finish", "serving", "done"),
        ]
        assert all(e.counter_id == hall["c1"] and e.staff_id == 1 for e in rows[1:])
        assert rows[1].actor == "user:canbo1"
        assert [e.at for e in rows] == [tick(i) for i in range(5)]


def test_illegal_transition_changes_nothing(database, hall):
    tid, _ = issue(database, hall["a"], tick(0))
    with pytest.raises(IllegalTransition), database.transaction() as s:
        ops.finish(s, ticket_id=tid, now=tick(1))
    with database.transaction() as s:
        assert s.get(Ticket, tid).status == "waiting"
        assert (
            s.execute(select(TicketEvent).where(TicketEvent.ticket_id == tid))
            .scalars()
            .all()[-1]
            .kind
            == "issue"
        )


def test_no_show_can_be_put_back_in_line_and_called_again(database, hall):
    first = issue(database, hall["a"], tick(0))
    second = issue(database, hall["a"], tick(1))
    call(database, hall["c1"], tick(2))
    with database.transaction() as s:
        ops.mark_no_show(s, ticket_id=first[0], now=tick(3))
        ops.requeue(s, ticket_id=first[0], now=tick(4))
    # Back at its original place: ahead of the later ticket.
    assert call(database, hall["c1"], tick(5)) == first
    assert call(database, hall["c1"], tick(6)) == second


def test_transfer_keeps_the_place_by_issue_time(database, hall):
    early_a = issue(database, hall["a"], tick(0))
    b1 = issue(database, hall["b"], tick(5))
    call(database, hall["c1"], tick(6))  # counter 1 takes early_a
    with database.transaction() as s:
        moved = ops.transfer(s, ticket_id=early_a[0], service_id=hall["b"], now=tick(7))
        assert moved.status == "waiting"
        assert moved.issued_at == tick(0)
        assert moved.display_number == "1001"  # the citizen keeps the printed number
    # In B's line the transferred ticket is ahead of b1 (issued earlier).
    assert call(database, hall["c2"], tick(8)) == early_a
    assert call(database, hall["c2"], tick(9)) == b1


def _finish_event(database, ticket_id):
    with database.transaction() as s:
        return s.execute(
            select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "finish"
            )
        ).scalar_one()


def test_next_finishes_the_ticket_being_served_as_served(database, hall):
    first = issue(database, hall["a"], tick(0))
    issue(database, hall["a"], tick(1))
    call(database, hall["c1"], tick(2))
    with database.transaction() as s:
        ops.start(s, ticket_id=first[0], now=tick(3))
    call(database, hall["c1"], tick(4), resolve=None)
    with database.transaction() as s:
        done = s.get(Ticket, first[0])
        assert (done.status, done.outcome, done.finished_at) == ("done", "served", tick(4))
    auto = _finish_event(database, first[0])
    assert (auto.outcome, auto.data) == ("served", {"auto": True, "outcome": "served"})


def test_next_never_counts_a_citizen_only_called_as_served(database, hall):
    first = issue(database, hall["a"], tick(0))
    second = issue(database, hall["a"], tick(1))
    call(database, hall["c1"], tick(2))
    with pytest.raises(CurrentNotStarted):
        call(database, hall["c1"], tick(3), resolve=None)
    with database.transaction() as s:
        assert s.get(Ticket, first[0]).status == "called"
        assert s.get(Ticket, second[0]).status == "waiting"
    # The counter says the citizen never came: a no-show, listed and recallable.
    call(database, hall["c1"], tick(4), resolve=Resolution.NO_SHOW)
    with database.transaction() as s:
        absent = s.get(Ticket, first[0])
        assert (absent.status, absent.outcome, absent.counter_id) == ("no_show", None, hall["c1"])
        assert s.get(Ticket, second[0]).status == "called"


def test_next_after_the_recalls_marks_the_citizen_absent(database, hall):
    first = issue(database, hall["a"], tick(0))
    issue(database, hall["a"], tick(1))
    call(database, hall["c1"], tick(2))
    for i in (3, 4):
        with database.transaction() as s:
            ops.recall(s, ticket_id=first[0], now=tick(i))
    call(database, hall["c1"], tick(5), resolve=None)
    with database.transaction() as s:
        assert s.get(Ticket, first[0]).status == "no_show"


@pytest.mark.parametrize("resolve", ["served", "supplement", "redirected", "left"])
def test_next_with_the_counters_answer_records_the_outcome(database, hall, resolve):
    first = issue(database, hall["a"], tick(0))
    issue(database, hall["a"], tick(1))
    call(database, hall["c1"], tick(2))
    call(database, hall["c1"], tick(3), resolve=Resolution(resolve))
    with database.transaction() as s:
        assert s.get(Ticket, first[0]).outcome == resolve
    assert _finish_event(database, first[0]).outcome == resolve


def test_next_with_nobody_waiting_keeps_the_current_ticket(database, hall):
    first = issue(database, hall["a"], tick(0))
    call(database, hall["c1"], tick(1))
    with pytest.raises(NoTicketWaiting):
        call(database, hall["c1"], tick(2))
    with database.transaction() as s:
        assert s.get(Ticket, first[0]).status == "called"


def test_call_specific_ticket_out_of_turn(database, hall):
    issue(database, hall["a"], tick(0))
    later = issue(database, hall["a"], tick(1))
    with database.transaction() as s:
        t = ops.call_ticket(s, counter_id=hall["c1"], ticket_id=later[0], now=tick(2))
        assert (t.status, t.counter_id) == ("called", hall["c1"])


def test_centres_are_independent(database, hall):
    with database.transaction() as s:
        other = create_centre(s)
        svc = create_service(s, other, range_start=1001, range_end=1999)
        other_service = svc.id
    assert issue(database, hall["a"], tick(0))[1] == "1001"
    assert issue(database, other_service, tick(1))[1] == "1001"
    with database.transaction() as s:
        assert queue.waiting_counts(s, hall["centre"], tick(0).date()) == {hall["a"]: 1}


def test_outbox_is_sent_after_commit_and_dropped_on_rollback(database, hall):
    sent: list = []
    database.add_outbox_sink(lambda messages: sent.extend(messages))
    issue(database, hall["a"], tick(0))
    assert [m.event for m in sent] == ["ticket.issued", "queue.updated"]
    sent.clear()
    with pytest.raises(RuntimeError), database.transaction() as s:
        issuing.issue_ticket(s, service_id=hall["a"], now=tick(1))
        raise RuntimeError("simulated failure before commit")
    assert sent == []
    with database.transaction() as s:
        assert s.execute(select(Ticket)).scalars().all()[-1].display_number == "1001"


def test_waiting_counts_sent_after_a_requeue_include_the_ticket(database, hall):
    sent: list = []
    database.add_outbox_sink(lambda messages: sent.extend(messages))
    first = issue(database, hall["a"], tick(0))
    call(database, hall["c1"], tick(1))
    with database.transaction() as s:
        ops.mark_no_show(s, ticket_id=first[0], now=tick(2))
    sent.clear()
    with database.transaction() as s:
        ops.requeue(s, ticket_id=first[0], now=tick(3))
    queue = [m for m in sent if m.event == "queue.updated"][-1]
    assert queue.payload["services"] == [{"id": hall["a"], "waiting": 1}]

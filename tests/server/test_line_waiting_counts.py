"""The lines' waiting counts kept on the numbering rows (triggers on `tickets`, migration
d5e6f7a8b9c0) stay equal to a count of the waiting tickets through every move, and under
presses and issues racing each other, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select

from server.domain.clock import local_day, utcnow
from server.models import Centre, NumberSequence, Ticket, TicketEvent
from server.services.queue import waiting_counts
from tests.server.test_counter_races import issue, login, together

HT1, HT2, CT1 = 1, 2, 3  # demo services: counter 1 serves HT1 and HT2, counter 2 HT1 and CT1


def assert_counts_exact(database) -> dict[int, int]:
    """Every (line, day) row says as many as there are waiting tickets; returns today's."""
    with database.transaction() as s:
        truth = {
            (service_id, day): n
            for service_id, day, n in s.execute(
                select(Ticket.service_id, Ticket.day, func.count())
                .where(Ticket.status == "waiting")
                .group_by(Ticket.service_id, Ticket.day)
            )
        }
        kept = {
            (service_id, day): n
            for service_id, day, n in s.execute(
                select(NumberSequence.service_id, NumberSequence.day, NumberSequence.waiting).where(
                    NumberSequence.waiting != 0
                )
            )
        }
        assert kept == truth
        centre = s.get(Centre, 1)
        today = local_day(utcnow(), centre.timezone)
        counts = waiting_counts(s, centre.id, today)
        assert counts == {sid: n for (sid, day), n in truth.items() if day == today}
        return counts


def post(client, url: str, headers: dict, **body: Any) -> dict:
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_counts_follow_every_move(client, database, demo):
    staff = login(client, "canbo1")
    first, second, *_ = issue(client, 5, HT1)
    issue(client, 2, HT2)
    assert assert_counts_exact(database) == {HT1: 5, HT2: 2}

    called = post(client, "/api/v1/counters/1/call-next", staff)  # call next
    assert called["id"] == first
    assert assert_counts_exact(database) == {HT1: 4, HT2: 2}

    post(client, "/api/v1/counters/1/call-next", staff, resolve="no_show", current_ticket_id=first)
    assert assert_counts_exact(database) == {HT1: 3, HT2: 2}  # first: no-show; second called

    post(client, f"/api/v1/tickets/{first}/requeue", staff)  # back in line
    assert assert_counts_exact(database) == {HT1: 4, HT2: 2}

    post(client, f"/api/v1/tickets/{second}/no-show", staff)
    post(client, "/api/v1/counters/1/call", staff, ticket_id=second)  # a no-show came back
    assert assert_counts_exact(database) == {HT1: 4, HT2: 2}

    post(client, f"/api/v1/tickets/{second}/transfer", staff, service_id=CT1)  # called → line
    assert assert_counts_exact(database) == {HT1: 4, HT2: 2, CT1: 1}
    post(client, f"/api/v1/tickets/{first}/transfer", staff, service_id=HT2)  # line → line
    assert assert_counts_exact(database) == {HT1: 3, HT2: 3, CT1: 1}

    post(client, "/api/v1/counters/1/call", staff, ticket_id=first)  # out of turn
    post(client, f"/api/v1/tickets/{first}/start", staff)
    post(client, f"/api/v1/tickets/{first}/finish", staff, outcome="left")
    assert assert_counts_exact(database) == {HT1: 3, HT2: 2, CT1: 1}

    with database.transaction() as s:  # a waiting ticket removed (a purge, by hand)
        s.execute(delete(TicketEvent).where(TicketEvent.ticket_id == second))
        s.execute(delete(Ticket).where(Ticket.id == second))
    assert assert_counts_exact(database) == {HT1: 3, HT2: 2}


def test_counts_exact_when_issues_and_calls_race(app, client, database, demo):
    # counters 1 and 2 share HT1, 1 and 6 HT2, 2, 3 and 7 CT1: each presses twice (the
    # second press is told its first ticket is still called) while kiosks issue
    counters = (1, 2, 3, 6, 7)
    staff = {n: login(client, f"canbo{n}") for n in counters}
    issue(client, 4, HT1)
    issue(client, 2, HT2)
    issue(client, 2, CT1)

    def press(c, i: int) -> Any:
        if i >= 2 * len(counters):  # a kiosk issuing meanwhile
            return c.post("/api/v1/tickets", json={"service_id": (HT1, HT2, CT1)[i % 3]})
        counter = counters[i % len(counters)]
        return c.post(f"/api/v1/counters/{counter}/call-next", headers=staff[counter])

    results = together(app, 2 * len(counters) + 6, press)
    assert {r.status_code for r in results} <= {200, 201, 409}, [r.get_json() for r in results]
    counts = assert_counts_exact(database)
    calls = sum(r.status_code == 200 for r in results)
    assert calls == len(counters)
    assert sum(counts.values()) == 8 + 6 - calls


def test_migration_counts_the_tickets_already_waiting(client, database, demo):
    from alembic import command

    from server.migrate import alembic_config, upgrade

    staff = login(client, "canbo1")
    issue(client, 3, HT1)
    ticket = post(client, "/api/v1/counters/1/call-next", staff)
    post(client, f"/api/v1/tickets/{ticket['id']}/transfer", staff, service_id=CT1)
    database.session.remove()
    command.downgrade(alembic_config(database.engine), "e4f6a8b0c2d1")
    with database.engine.begin() as conn:  # a line with waiting tickets but no numbering row
        conn.execute(delete(NumberSequence.__table__).where(NumberSequence.service_id == CT1))
    upgrade(database.engine)
    assert assert_counts_exact(database) == {HT1: 2, CT1: 1}
    post(client, "/api/v1/counters/1/call-next", staff)  # and the triggers are back
    assert assert_counts_exact(database) == {HT1: 1, CT1: 1}


def test_queue_updated_versions_order_each_lines_count_under_racing_writers(
    app, client, database, demo
):
    """Each line's count in `queue.updated` travels with its version (number_sequences.
    waiting_version, bumped by the triggers in the writing transaction): under racing calls
    and issues, one version never carries two counts, the newest is the line's count now,
    and the events applied in any order — newest first here, as two processes behind Redis
    may deliver them — leave a page that keeps the newer version (lib/hall.js LineStamps)
    showing the truth, as the snapshot does."""
    from tests.server.test_realtime import sio

    hall = sio(app, "/hall")
    hall.emit("subscribe", {"centre_id": demo.centre_id}, namespace="/hall")
    hall.get_received("/hall")
    test_counts_exact_when_issues_and_calls_race(app, client, database, demo)
    truth = assert_counts_exact(database)
    events = [m["args"][0] for m in hall.get_received("/hall") if m["name"] == "queue.updated"]
    assert len(events) >= 10
    today = events[-1]["day"]
    seen: dict[int, dict[int, int]] = {}  # line → version → count
    for e in events:
        assert e["day"] == today
        counts = {s["id"]: s["waiting"] for s in e["services"]}
        for key, version in e["stamps"].items():
            seen.setdefault(int(key), {}).setdefault(version, counts.get(int(key), 0))
            assert seen[int(key)][version] == counts.get(int(key), 0), (key, version)
    for line, versions in seen.items():
        assert versions[max(versions)] == truth.get(line, 0)
        assert len(versions) > 1 or line not in (HT1, HT2, CT1)

    def page(order: list[dict]) -> dict[int, int]:
        shown: dict[int, tuple[int, int]] = {}  # line → (version, count)
        for e in order:
            counts = {s["id"]: s["waiting"] for s in e["services"]}
            for key, version in e["stamps"].items():
                if int(key) not in shown or version >= shown[int(key)][0]:
                    shown[int(key)] = (version, counts.get(int(key), 0))
        return {line: n for line, (_, n) in shown.items() if n}

    assert page(list(reversed(events))) == page(events) == truth
    hall.emit("subscribe", {"centre_id": demo.centre_id}, namespace="/hall")
    snap = hall.get_received("/hall")[0]["args"][0]
    assert snap["waiting_day"] == today
    assert {int(k): v for k, v in snap["waiting_stamps"].items()} == {
        line: max(versions) for line, versions in seen.items()
    }

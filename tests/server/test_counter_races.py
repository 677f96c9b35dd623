"""One command at a time per counter, through the real API, on SQLite and PostgreSQL.

Presses that arrive together (a double click, the keypad and the screen, twenty impatient
taps) call exactly one ticket; the others are told, with a 409 naming the counter and the
number being called. Counters sharing services never take the same ticket, and a finish
racing a call never finishes a ticket twice.
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from server.models import Counter, Station, Ticket, TicketEvent
from server.services.auth import issue_station_token

SERVICE_HT1 = 1  # demo: "Khai sinh, kết hôn, khai tử", served by counters 1 and 2


def login(client, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/token", json={"username": username, "password": "tthcc-canbo"}
    )
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def issue(client, n: int, service_id: int = SERVICE_HT1) -> list[int]:
    ids = []
    for _ in range(n):
        response = client.post("/api/v1/tickets", json={"service_id": service_id})
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


def together(app, n: int, press: Callable[[Any, int], Any]) -> list[Any]:
    """Run `press(test_client, i)` in `n` threads released at the same instant."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        client = app.test_client()
        try:
            barrier.wait(timeout=30)
            results[i] = press(client, i)
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    return results


def called_now(database) -> list[Ticket]:
    with database.transaction() as s:
        return list(
            s.execute(select(Ticket).where(Ticket.status == "called").order_by(Ticket.id))
            .scalars()
            .all()
        )


def call_events(database) -> int:
    with database.transaction() as s:
        return s.execute(
            select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "call")
        ).scalar_one()


@pytest.mark.parametrize("serving", [False, True], ids=["idle counter", "citizen being served"])
def test_twenty_presses_at_once_call_exactly_one_ticket(app, client, database, demo, serving):
    headers = login(client, "canbo1")
    issue(client, 6)
    if serving:  # the counter is serving a citizen: the presses also race to finish it
        first = client.post("/api/v1/counters/1/call-next", headers=headers).get_json()
        client.post(f"/api/v1/tickets/{first['id']}/start", headers=headers)
    before = call_events(database)

    results = together(
        app,
        20,
        lambda c, i: c.post("/api/v1/counters/1/call-next", headers=headers),
    )

    codes = Tally(r.status_code for r in results)
    assert codes == {200: 1, 409: 19}, codes
    winner = next(r.get_json() for r in results if r.status_code == 200)
    for r in results:
        if r.status_code == 409:
            body = r.get_json()
            assert body["error"] == "current_not_started"
            assert body["message"].startswith(f"Quầy 1 đang gọi số {winner['number']}.")
    assert [t.id for t in called_now(database)] == [winner["id"]]
    assert call_events(database) == before + 1
    with database.transaction() as s:
        assert s.get(Counter, 1).current_ticket_id == winner["id"]
        if serving:
            done = s.get(Ticket, first["id"])
            assert (done.status, done.outcome) == ("done", "served")


def test_keypad_and_screen_at_once_call_one_ticket(app, client, database, demo):
    headers = login(client, "canbo1")
    with database.transaction() as s:
        station = s.execute(select(Station).where(Station.code == "COUNTERS-1")).scalar_one()
        token = issue_station_token(s, station)
    issue(client, 3)
    socketio = app.extensions["socketio"]
    keypad = socketio.test_client(app, namespace="/station", auth={"token": token})
    assert keypad.is_connected("/station")
    barrier = threading.Barrier(2)
    outcome: dict[str, Any] = {}

    def press_key() -> None:
        barrier.wait(timeout=30)
        outcome["keypad"] = keypad.emit(
            "counter.command",
            {"counter_id": 1, "operation": "next"},
            namespace="/station",
            callback=True,
        )

    def press_screen() -> None:
        barrier.wait(timeout=30)
        outcome["screen"] = app.test_client().post("/api/v1/counters/1/call-next", headers=headers)

    threads = [threading.Thread(target=press_key), threading.Thread(target=press_screen)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    keypad_ok = outcome["keypad"]["ok"]
    screen_ok = outcome["screen"].status_code == 200
    assert keypad_ok != screen_ok, outcome  # exactly one of them called
    if keypad_ok:
        assert outcome["screen"].get_json()["error"] == "current_not_started"
    else:
        assert outcome["keypad"]["error"] == "current_not_started"
        assert outcome["keypad"]["board_text"]  # the LED board flashes the refusal
    assert len(called_now(database)) == 1


def test_counters_sharing_a_service_never_take_the_same_ticket(app, client, database, demo):
    staff = {1: login(client, "canbo1"), 2: login(client, "canbo2")}
    issue(client, 8)

    def press(c, counter_id: int) -> Any:
        return c.post(f"/api/v1/counters/{counter_id}/call-next", headers=staff[counter_id])

    results = together(app, 20, lambda c, i: press(c, 1 + i % 2))
    ok = [r.get_json() for r in results if r.status_code == 200]
    assert {r.status_code for r in results} <= {200, 409}
    by_counter = Tally(t["counter_id"] for t in ok)
    assert all(n == 1 for n in by_counter.values()), by_counter
    assert len({t["id"] for t in ok}) == len(ok)  # no ticket called twice
    called = called_now(database)
    assert len(called) == len(ok) and {t.counter_id for t in called} == set(by_counter)


def test_finish_racing_next_finishes_the_ticket_once(app, client, database, demo):
    headers = login(client, "canbo1")
    issue(client, 4)
    current = client.post("/api/v1/counters/1/call-next", headers=headers).get_json()

    def press(c, i: int) -> Any:
        if i % 2:
            return c.post(f"/api/v1/tickets/{current['id']}/finish", headers=headers)
        return c.post(
            "/api/v1/counters/1/call-next",
            json={"resolve": "served", "current_ticket_id": current["id"]},
            headers=headers,
        )

    results = together(app, 10, press)
    assert {r.status_code for r in results} <= {200, 409}
    with database.transaction() as s:
        finishes = s.execute(
            select(func.count())
            .select_from(TicketEvent)
            .where(TicketEvent.ticket_id == current["id"], TicketEvent.kind == "finish")
        ).scalar_one()
        assert finishes == 1
        assert s.get(Ticket, current["id"]).status == "done"
    assert len(called_now(database)) == 1  # one next succeeded; the others were told

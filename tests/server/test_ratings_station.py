"""The station namespace beyond printing: station.config and counter states on connect,
rating.submit (exactly once, permanent vs retry refusals), counter.command from keypads,
counter.updated to LED boards, presence. Flask-SocketIO's test client on the real app."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask_socketio import SocketIOTestClient
from sqlalchemy import func, select, update

from server.models import Centre, Rating, Station, Ticket, TicketEvent, User
from server.services.auth import issue_station_token

NS = "/station"


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def counters_token(database, demo) -> str:
    with database.transaction() as s:
        station = s.execute(select(Station).where(Station.code == "COUNTERS-1")).scalar_one()
        return issue_station_token(s, station)


def connect(app, token: str) -> SocketIOTestClient:
    client = app.extensions["socketio"].test_client(app, namespace=NS, auth={"token": token})
    assert client.is_connected(NS)
    return client


def hall(app, centre_id: int) -> SocketIOTestClient:
    client = app.extensions["socketio"].test_client(app, namespace="/hall")
    client.emit("subscribe", {"centre_id": centre_id}, namespace="/hall")
    client.get_received("/hall")
    return client


def received(client, name: str, namespace: str = NS) -> list[dict]:
    return [r["args"][0] for r in client.get_received(namespace) if r["name"] == name]


def submission(**overrides) -> dict:
    now = datetime.now(UTC)
    return {
        "key": uuid.uuid4().hex,
        "counter_id": 1,
        "raw_key": "5",
        "level": 5,
        "scale": 5,
        "pressed_at": now.isoformat(),
        "clock_offset": 0.0,
        **overrides,
    }


def test_an_agent_gets_its_config_and_every_counter_on_connect(
    app, database, demo, client, counters_token, staff_token
):
    with database.transaction() as s:
        centre = s.get(Centre, demo.centre_id)
        centre.settings = {**centre.settings, "rating_scale": 3}
    client.post("/api/v1/tickets", json={"service_id": 1})
    client.post("/api/v1/counters/1/call-next", headers=auth(staff_token))
    agent = connect(app, counters_token)
    events = agent.get_received(NS)
    assert events[0]["name"] == "station.config"
    config = events[0]["args"][0]
    assert (config["station"], config["rating_scale"]) == ("COUNTERS-1", 3)
    counters = [e["args"][0]["counter"] for e in events if e["name"] == "counter.updated"]
    assert [c["number"] for c in counters] == [1, 2, 3, 4, 5, 6, 7]
    assert counters[0]["current_ticket"]["number"] == "1001"
    assert counters[1]["current_ticket"] is None


def test_a_rating_is_stored_once_and_the_hall_thanks_the_citizen(
    app, database, demo, client, counters_token, staff_token
):
    client.post("/api/v1/tickets", json={"service_id": 1})
    ticket = client.post("/api/v1/counters/1/call-next", headers=auth(staff_token)).get_json()
    client.post(f"/api/v1/tickets/{ticket['id']}/finish", headers=auth(staff_token))
    lobby = hall(app, demo.centre_id)
    agent = connect(app, counters_token)
    item = submission(raw_key="1", level=1)
    ack = agent.emit("rating.submit", item, namespace=NS, callback=True)
    assert ack["ok"] is True and "duplicate" not in ack
    again = agent.emit("rating.submit", item, namespace=NS, callback=True)
    assert again == {**ack, "duplicate": True}
    assert ack["ticket_number"] == ticket["number"]
    recorded = received(lobby, "rating.recorded", "/hall")
    assert len(recorded) == 1
    rating = recorded[0]["rating"]
    assert (rating["ticket_id"], rating["counter_id"], rating["level"]) == (ticket["id"], 1, 1)
    assert rating["label"] == "Rất không hài lòng"
    assert "staff_id" not in rating  # the lobby learns the counter, not who was rated
    assert recorded[0]["thank_you"] == "Cảm ơn quý khách đã đánh giá!"
    with database.transaction() as s:
        assert s.execute(select(func.count()).select_from(Rating)).scalar_one() == 1
        stored = s.execute(select(Rating)).scalar_one()
        assert (stored.source, stored.scale, stored.raw_key) == ("pad", 5, "1")
        assert stored.station_id is not None


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"key": "x"}, "key"),
        ({"counter_id": "1"}, "counter_id"),
        ({"level": 7}, "level"),
        ({"raw_key": ""}, "raw_key"),
        ({"pressed_at": "hôm qua"}, "pressed_at"),
        ({"pressed_at": "2026-11-25T09:00:00"}, "zone"),
        ({"scale": 6}, "scale"),
        ({"counter_id": 999}, "counter 999"),
        ({"criterion": "Thái độ"}, "criterion"),
        ({"clock_offset": "5 phút"}, "clock_offset"),
    ],
)
def test_bad_submissions_are_refused_for_good(app, demo, counters_token, overrides, needle):
    agent = connect(app, counters_token)
    ack = agent.emit("rating.submit", submission(**overrides), namespace=NS, callback=True)
    assert ack["ok"] is False and not ack.get("retry")  # the spool moves on
    assert needle in ack["message"]


def test_a_counter_of_another_centre_is_refused(app, database, demo, counters_token):
    from tests.server.factories import create_centre, create_counter, create_service

    with database.transaction() as s:
        other = create_centre(s)
        foreign = create_counter(s, other, [create_service(s, other)]).id
    agent = connect(app, counters_token)
    ack = agent.emit("rating.submit", submission(counter_id=foreign), namespace=NS, callback=True)
    assert ack["ok"] is False and "centre" in ack["message"]


def login(client, username: str) -> str:
    response = client.post(
        "/api/v1/auth/token", json={"username": username, "password": "tthcc-canbo"}
    )
    return response.get_json()["token"]


def staff_id(database, username: str) -> int:
    with database.transaction() as s:
        return s.execute(select(User.id).where(User.username == username)).scalar_one()


def test_a_press_delivered_15_s_late_rates_the_citizen_who_pressed_it(
    app, database, demo, client, counters_token, staff_token
):
    # Citizen A (Hộ tịch 1, canbo1) is served at counter 1 and presses the pad on the way
    # out; the link stalls; canbo2 takes the counter over and calls B (Hộ tịch 2). The
    # press reaches the server 15 s after it was pressed.
    a = client.post("/api/v1/tickets", json={"service_id": 1}).get_json()
    b = client.post("/api/v1/tickets", json={"service_id": 2}).get_json()
    assert client.post("/api/v1/counters/1/call-next", headers=auth(staff_token)).status_code == 200
    client.post(f"/api/v1/tickets/{a['id']}/finish", headers=auth(staff_token))
    client.post("/api/v1/counters/1/status", json={"status": "closed"}, headers=auth(staff_token))
    other = login(client, "canbo2")
    client.post("/api/v1/counters/1/status", json={"status": "open"}, headers=auth(other))
    called = client.post("/api/v1/counters/1/call-next", headers=auth(other)).get_json()
    assert called["id"] == b["id"]
    now = datetime.now(UTC)
    with database.transaction() as s:  # the same story, spread over the last 40 s
        for ticket_id, kind, column, seconds in (
            (a["id"], "call", "called_at", 40),
            (a["id"], "finish", "finished_at", 20),
            (b["id"], "call", "called_at", 10),
        ):
            at = now - timedelta(seconds=seconds)
            s.execute(update(Ticket).where(Ticket.id == ticket_id).values({column: at}))
            s.execute(
                update(TicketEvent)
                .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == kind)
                .values(at=at)
            )
    pressed_at = now - timedelta(seconds=15)
    agent = connect(app, counters_token)
    # `sent_at` as an older agent sent it, just before the link stalled: ignored.
    item = submission(
        raw_key="2", level=2, pressed_at=pressed_at.isoformat(), sent_at=pressed_at.isoformat()
    )
    ack = agent.emit("rating.submit", item, namespace=NS, callback=True)
    assert (ack["ok"], ack["ticket_number"]) == (True, a["number"])
    canbo1 = staff_id(database, "canbo1")
    with database.transaction() as s:
        rating = s.execute(select(Rating)).scalar_one()
        assert (rating.ticket_id, rating.service_id) == (a["id"], 1)
        assert rating.staff_id == canbo1
        assert rating.pressed_at == pressed_at
        assert rating.received_at - rating.pressed_at >= timedelta(seconds=15)


def test_a_press_on_no_ticket_goes_to_the_staff_at_the_counter_when_it_was_pressed(
    app, database, demo, client, counters_token, staff_token
):
    import time

    client.post("/api/v1/counters/1/status", json={"status": "open"}, headers=auth(staff_token))
    time.sleep(0.2)
    pressed_at = datetime.now(UTC)  # nobody at the counter: an unattached counter rating
    time.sleep(0.2)
    client.post("/api/v1/counters/1/status", json={"status": "closed"}, headers=auth(staff_token))
    other = login(client, "canbo2")
    client.post("/api/v1/counters/1/status", json={"status": "open"}, headers=auth(other))
    agent = connect(app, counters_token)
    item = submission(pressed_at=pressed_at.isoformat())
    assert agent.emit("rating.submit", item, namespace=NS, callback=True)["ok"] is True
    canbo1 = staff_id(database, "canbo1")
    with database.transaction() as s:
        rating = s.execute(select(Rating)).scalar_one()
        assert rating.ticket_id is None
        assert rating.staff_id == canbo1


def test_the_heartbeat_answers_with_the_servers_clock(app, demo, counters_token):
    agent = connect(app, counters_token)
    before = datetime.now(UTC).timestamp()
    ack = agent.emit(
        "station.heartbeat",
        {"clock_offset": 300.0, "round_trip": 0.002},
        namespace=NS,
        callback=True,
    )
    after = datetime.now(UTC).timestamp()
    assert ack["ok"] is True and before <= ack["server_time"] <= after


def test_a_keypad_key_delivered_late_is_refused_and_the_board_says_press_again(
    app, client, demo, counters_token, staff_token
):
    client.post("/api/v1/counters/1/status", json={"status": "open"}, headers=auth(staff_token))
    waiting = client.post("/api/v1/tickets", json={"service_id": 1}).get_json()
    agent = connect(app, counters_token)
    late = datetime.now(UTC) - timedelta(seconds=15)
    command = {"counter_id": 1, "operation": "next", "clock_offset": -42.5}
    ack = agent.emit(
        "counter.command", {**command, "pressed_at": late.isoformat()}, namespace=NS, callback=True
    )
    assert (ack["ok"], ack["error"], ack["board_text"]) == (False, "stale_command", "Bấm lại")
    assert "trễ 15 giây" in ack["message"] and "bấm lại" in ack["message"]
    assert "15 s" in ack["message_en"]
    shown = client.get(f"/api/v1/tickets/{waiting['id']}", headers=auth(staff_token))
    assert shown.get_json()["status"] == "waiting"
    assert received(agent, "counter.result")[-1]["error"] == "stale_command"

    # Pressed a moment ago: carried out. With no clock measured yet the server cannot tell
    # how late a key is, and carries it out too.
    fresh = datetime.now(UTC) - timedelta(seconds=1)
    ack = agent.emit(
        "counter.command", {**command, "pressed_at": fresh.isoformat()}, namespace=NS, callback=True
    )
    assert ack["ok"] is True and ack["ticket"]["id"] == waiting["id"]
    unmeasured = {**command, "operation": "recall", "clock_offset": None}
    ack = agent.emit(
        "counter.command",
        {**unmeasured, "pressed_at": late.isoformat()},
        namespace=NS,
        callback=True,
    )
    assert ack["ok"] is True


def test_keypad_next_calls_a_ticket_and_every_station_sees_the_counter(
    app, client, demo, counters_token, staff_token
):
    client.post("/api/v1/counters/1/status", json={"status": "open"}, headers=auth(staff_token))
    client.post("/api/v1/tickets", json={"service_id": 1})
    agent = connect(app, counters_token)
    other_agent = connect(app, demo.kiosk_token)
    agent.get_received(NS)
    other_agent.get_received(NS)

    ack = agent.emit(
        "counter.command", {"counter_id": 1, "operation": "next"}, namespace=NS, callback=True
    )
    assert ack["ok"] is True and ack["ticket"]["number"] == "1001"
    for station in (agent, other_agent):
        updates = received(station, "counter.updated")
        assert updates[-1]["counter"]["id"] == 1
        assert updates[-1]["counter"]["current_ticket"]["number"] == "1001"
    ticket = client.get(f"/api/v1/tickets/{ack['ticket']['id']}", headers=auth(staff_token))
    ticket = ticket.get_json()
    assert ticket["status"] == "called" and ticket["counter_number"] == 1
    # Called for the staff member holding the counter: the rating will credit them.
    assert client.get("/api/v1/counters/1").get_json()["staff_id"] is not None

    ack = agent.emit(
        "counter.command", {"counter_id": 1, "operation": "finish"}, namespace=NS, callback=True
    )
    assert ack["ok"] is True and ack["ticket"]["status"] == "done"
    update = received(agent, "counter.updated")[-1]
    assert update["counter"]["current_ticket"] is None  # the board blanks

    refused = agent.emit(
        "counter.command", {"counter_id": 1, "operation": "recall"}, namespace=NS, callback=True
    )
    assert (refused["ok"], refused["error"]) == (False, "no_current_ticket")
    nobody = agent.emit(
        "counter.command", {"counter_id": 1, "operation": "next"}, namespace=NS, callback=True
    )
    assert (nobody["ok"], nobody["error"], nobody["board_text"]) == (
        False,
        "no_ticket_waiting",
        "Hết số",
    )
    results = received(agent, "counter.result")
    assert [r["ok"] for r in results] == [False, False]  # also sent as an event, for emitters


def test_keypad_commands_are_checked(app, demo, counters_token):
    agent = connect(app, counters_token)
    for payload, error in (
        ({"counter_id": 1, "operation": "dance"}, "invalid_request"),
        ({"counter_id": "1", "operation": "next"}, "invalid_request"),
        ({"counter_id": 999, "operation": "next"}, "not_found"),
    ):
        ack = agent.emit("counter.command", payload, namespace=NS, callback=True)
        assert (ack["ok"], ack["error"]) == (False, error), ack


def test_closing_a_counter_blanks_its_board(app, client, demo, counters_token, staff_token):
    client.post("/api/v1/counters/2/status", json={"status": "open"}, headers=auth(staff_token))
    agent = connect(app, counters_token)
    agent.get_received(NS)
    client.post("/api/v1/counters/2/status", json={"status": "closed"}, headers=auth(staff_token))
    update = received(agent, "counter.updated")[-1]["counter"]
    assert (update["id"], update["status"], update["current_ticket"]) == (2, "closed", None)


def test_presence_reaches_the_supervisors(app, demo, counters_token):
    lobby = hall(app, demo.centre_id)
    agent = connect(app, counters_token)
    agent.disconnect(namespace=NS)
    presence = received(lobby, "station.status", "/hall")
    assert [(p["station"], p["online"]) for p in presence] == [
        ("COUNTERS-1", True),
        ("COUNTERS-1", False),
    ]

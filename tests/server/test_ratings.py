"""Ratings: recorded against the right ticket, staff and service, exactly once; the HTTP API;
the supervisors' station list. Real commits on SQLite (and PostgreSQL with --pg)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.domain.actors import Actor
from server.domain.lifecycle import Resolution
from server.models import Centre, Feedback, Rating, User
from server.services import issuing
from server.services import lifecycle as ops
from server.services.ratings import record_rating

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội, a Wednesday


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def key() -> str:
    return uuid.uuid4().hex


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def staff(database, username: str = "canbo1") -> Actor:
    with database.transaction() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one()
        return Actor(f"user:{username}", user.id)


def serve(database, *, counter_id: int = 1, service_id: int = 1, called: float, finished=None):
    """Issue a ticket, call it at the counter (as canbo1) and maybe finish it; its id."""
    actor = staff(database)
    with database.transaction() as s:
        issuing.issue_ticket(s, service_id=service_id, now=at(called - 60))
    with database.transaction() as s:
        # Next: the citizen still at the counter (if any) was served.
        ticket = ops.call_next(
            s, counter_id=counter_id, now=at(called), actor=actor, resolve=Resolution.SERVED
        )
        ticket_id = ticket.id
    if finished is not None:
        with database.transaction() as s:
            ops.finish(s, ticket_id=ticket_id, now=at(finished), actor=actor)
    return ticket_id


def press(database, level: int, seconds: float, *, counter_id: int = 1, k: str | None = None):
    with database.transaction() as s:
        result = record_rating(
            s,
            counter_id=counter_id,
            raw_key=str(level),
            level=level,
            pressed_at=at(seconds),
            idempotency_key=k or key(),
            now=at(seconds + 0.2),
        )
        r = result.rating
        return result.duplicate, {
            "id": r.id,
            "ticket_id": r.ticket_id,
            "staff_id": r.staff_id,
            "service_id": r.service_id,
            "counted": r.replaced_by_id is None,
            "replaced_id": result.replaced.id if result.replaced else None,
        }


@pytest.fixture
def sent(database):
    """Every outbox message sent after a commit."""
    messages = []
    database.add_outbox_sink(messages.extend)
    return messages


# --- the rules, through the service and real commits -------------------------------------


def test_a_press_after_finish_rates_that_ticket_with_its_staff_and_service(database, demo, sent):
    ticket_id = serve(database, called=0, finished=300)
    duplicate, rating = press(database, 5, 303)
    assert not duplicate
    assert rating["ticket_id"] == ticket_id
    assert rating["staff_id"] == staff(database).staff_id
    assert rating["service_id"] == 1 and rating["counted"]
    recorded = [m for m in sent if m.event == "rating.recorded"]
    assert len(recorded) == 1
    payload = recorded[0].payload
    assert payload["rating"]["ticket_number"] == "1001"
    assert payload["rating"]["counter_number"] == 1
    assert payload["rating"]["label"] == "Rất hài lòng"
    assert payload["thank_you"] == "Cảm ơn quý khách đã đánh giá!"
    assert set(recorded[0].rooms) == {f"centre:{demo.centre_id}", "counter:1"}


def test_next_then_a_press_rates_the_citizen_who_just_left(database, demo):
    first = serve(database, called=0)
    second = serve(database, called=300)  # Next: finishes `first`, calls `second`
    assert press(database, 4, 305)[1]["ticket_id"] == first
    # Minutes later, the one being served rates.
    assert press(database, 3, 600)[1]["ticket_id"] == second


def test_second_press_within_ten_seconds_replaces_later_presses_are_unattached(database, demo):
    ticket_id = serve(database, called=0, finished=300)
    _, first = press(database, 1, 301)
    _, second = press(database, 4, 306)
    _, third = press(database, 5, 320)
    assert second["ticket_id"] == ticket_id and second["replaced_id"] == first["id"]
    assert third["ticket_id"] is None and third["counted"]  # kept, as a counter rating
    assert third["staff_id"] == staff(database).staff_id
    with database.transaction() as s:
        rows = {r.id: r for r in s.execute(select(Rating)).scalars()}
        assert len(rows) == 3  # nothing a citizen pressed is dropped
        assert rows[first["id"]].replaced_by_id == second["id"]
        counted = [
            r for r in rows.values() if r.ticket_id == ticket_id and r.replaced_by_id is None
        ]
        assert [r.level for r in counted] == [4]


def test_the_database_allows_one_counted_rating_per_ticket_and_criterion(database, demo):
    ticket_id = serve(database, called=0, finished=300)
    _, first = press(database, 5, 301)
    with pytest.raises(IntegrityError), database.transaction() as s:
        copy = s.get(Rating, first["id"])
        s.add(
            Rating(
                centre_id=copy.centre_id,
                counter_id=copy.counter_id,
                ticket_id=ticket_id,
                raw_key="4",
                level=4,
                scale=5,
                criterion="overall",
                source="pad",
                pressed_at=at(302),
                received_at=at(302),
                idempotency_key=key(),
            )
        )


def test_a_repeated_key_is_stored_once_and_announced_once(database, demo, sent):
    serve(database, called=0, finished=300)
    k = key()
    assert press(database, 2, 301, k=k)[0] is False
    duplicate, again = press(database, 2, 301, k=k)
    assert duplicate is True and again["ticket_id"] is not None
    with database.transaction() as s:
        assert s.execute(select(func.count()).select_from(Rating)).scalar_one() == 1
    assert len([m for m in sent if m.event == "rating.recorded"]) == 1


def test_the_replace_window_and_rating_window_are_centre_settings(database, demo):
    with database.transaction() as s:
        centre = s.get(Centre, demo.centre_id)
        centre.settings = {
            **centre.settings,
            "rating_replace_seconds": 2,
            "rating_window_seconds": 30,
        }
    ticket_id = serve(database, called=0, finished=300)
    press(database, 5, 301)
    assert press(database, 3, 304)[1]["ticket_id"] is None  # 3 s > 2 s
    assert press(database, 3, 340)[1]["ticket_id"] is None  # 40 s after the finish
    assert ticket_id


def test_a_press_at_an_idle_counter_is_kept_unattached_with_the_counters_staff(database, demo):
    _, rating = press(database, 3, 10, counter_id=2)
    assert rating["ticket_id"] is None and rating["service_id"] is None and rating["counted"]


def test_a_lowest_rating_opens_a_follow_up_case(database, demo):
    ticket_id = serve(database, called=0, finished=300)
    _, rating = press(database, 1, 302)
    staff_id = staff(database).staff_id
    with database.transaction() as s:
        case = s.execute(select(Feedback).where(Feedback.rating_id == rating["id"])).scalar_one()
        assert case.ticket_id == ticket_id and case.counter_id == 1
        assert case.staff_id == staff_id


def test_invalid_ratings_are_refused(database, demo):
    from server.domain.errors import InvalidRequest

    for kwargs in (
        {"level": 6},
        {"level": 0},
        {"raw_key": ""},
        {"idempotency_key": "short"},
        {"criterion": "Không"},
        {"scale": 7},
        {"source": "phone"},
    ):
        args = {
            "counter_id": 1,
            "raw_key": "5",
            "level": 5,
            "pressed_at": at(0),
            "idempotency_key": key(),
            "now": at(0),
            **kwargs,
        }
        with pytest.raises(InvalidRequest), database.transaction() as s:
            record_rating(s, **args)


# --- HTTP: POST/GET /api/v1/ratings --------------------------------------------------------


@pytest.fixture
def counters_token(database, demo) -> str:
    from server.models import Station
    from server.services.auth import issue_station_token

    with database.transaction() as s:
        station = s.execute(select(Station).where(Station.code == "COUNTERS-1")).scalar_one()
        return issue_station_token(s, station)


def served_now(client, staff_token: str) -> dict:
    """A ticket called and finished at counter 1 just now (through the API)."""
    client.post("/api/v1/tickets", json={"service_id": 1})
    ticket = client.post("/api/v1/counters/1/call-next", headers=auth(staff_token)).get_json()
    client.post(f"/api/v1/tickets/{ticket['id']}/finish", headers=auth(staff_token))
    return ticket


def test_http_rating_from_a_station_is_stored_once(client, demo, staff_token, counters_token):
    ticket = served_now(client, staff_token)
    body = {"key": key(), "counter_id": 1, "level": 4, "raw_key": "4"}
    first = client.post("/api/v1/ratings", json=body, headers=auth(counters_token))
    assert first.status_code == 201, first.get_json()
    rating = first.get_json()
    assert (rating["ticket_id"], rating["ticket_number"], rating["source"]) == (
        ticket["id"],
        ticket["number"],
        "pad",
    )
    assert rating["label"] == "Hài lòng" and rating["duplicate"] is False
    again = client.post("/api/v1/ratings", json=body, headers=auth(counters_token))
    assert again.status_code == 200
    assert again.get_json()["id"] == rating["id"] and again.get_json()["duplicate"] is True


def test_http_rating_from_staff_is_a_web_rating_of_a_named_ticket_and_criterion(
    client, demo, staff_token
):
    ticket = served_now(client, staff_token)
    body = {"key": key(), "counter_id": 1, "level": 2, "ticket_id": ticket["id"]}
    for criterion in ("overall", "attitude"):
        r = client.post(
            "/api/v1/ratings",
            json={**body, "key": key(), "criterion": criterion},
            headers=auth(staff_token),
        )
        assert r.status_code == 201, r.get_json()
        assert (r.get_json()["criterion"], r.get_json()["source"]) == (criterion, "web")
        assert r.get_json()["ticket_id"] == ticket["id"] and r.get_json()["counted"]


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"counter_id": 1, "level": 5}, 422, "key"),
        ({"key": "k" * 10, "counter_id": 1, "level": 9}, 422, "level"),
        ({"key": "k" * 10, "counter_id": 1, "level": "năm"}, 422, "level"),
        ({"key": "k" * 10, "counter_id": 999, "level": 5}, 404, "quầy"),
        ({"key": "k" * 10, "counter_id": 1, "level": 5, "ticket_id": 999}, 422, "Phiếu"),
    ],
)
def test_http_invalid_ratings_get_a_clear_message(client, demo, staff_token, body, status, needle):
    response = client.post("/api/v1/ratings", json=body, headers=auth(staff_token))
    assert response.status_code == status, response.get_json()
    assert needle in response.get_json()["message"]


def test_http_rating_needs_a_station_or_a_user_of_the_centre(client, demo, database):
    body = {"key": key(), "counter_id": 1, "level": 5}
    assert client.post("/api/v1/ratings", json=body).status_code == 401
    assert client.post("/api/v1/ratings", json=body, headers=auth("not-a-token")).status_code == 401
    from server.models import Station
    from server.services.auth import issue_station_token
    from tests.server.factories import create_centre

    with database.transaction() as s:
        other = create_centre(s)
        station = Station(centre_id=other.id, code="K-X", kind="counter")
        s.add(station)
        s.flush()
        foreign = issue_station_token(s, station)
    assert client.post("/api/v1/ratings", json=body, headers=auth(foreign)).status_code == 403


def test_supervisors_list_the_low_ratings_staff_may_not(client, demo, staff_token):
    served_now(client, staff_token)
    for level in (1, 5):
        client.post(
            "/api/v1/ratings",
            json={"key": key(), "counter_id": 2, "level": level},
            headers=auth(staff_token),
        )
    assert client.get("/api/v1/ratings", headers=auth(staff_token)).status_code == 403
    supervisor = client.post(
        "/api/v1/auth/token", json={"username": "giamsat", "password": "tthcc-giamsat"}
    ).get_json()["token"]
    low = client.get("/api/v1/ratings?max_level=2", headers=auth(supervisor)).get_json()
    assert [r["level"] for r in low] == [1]
    assert len(client.get("/api/v1/ratings", headers=auth(supervisor)).get_json()) == 2


def test_openapi_documents_ratings_and_stations(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"post", "get"} <= set(spec["paths"]["/api/v1/ratings"])
    assert "get" in spec["paths"]["/api/v1/stations"]
    schemas = spec["components"]["schemas"]
    assert "idempotency" in schemas["RatingCreate"]["properties"]["key"]["description"].lower()


# --- supervisors: stations, device states, failed prints ----------------------------------


def supervisor_token(client) -> str:
    return client.post(
        "/api/v1/auth/token", json={"username": "giamsat", "password": "tthcc-giamsat"}
    ).get_json()["token"]


def test_stations_show_device_faults_and_failed_prints_until_reprinted(app, client, demo):
    ticket = client.post(
        "/api/v1/tickets",
        json={"service_id": 1, "station_id": demo.kiosk_station_id},
        headers={"Authorization": f"Bearer {demo.kiosk_token}"},
    ).get_json()
    agent = app.extensions["socketio"].test_client(
        app, namespace="/station", auth={"token": demo.kiosk_token}
    )
    agent.emit(
        "device.status",
        {"device": "kiosk-printer", "kind": "printer", "state": "error", "reason": "paper out"},
        namespace="/station",
    )
    agent.emit(
        "print.ack",
        {"job_id": ticket["print_job_id"], "status": "failed", "reason": "paper out"},
        namespace="/station",
    )
    token = supervisor_token(client)
    stations = client.get("/api/v1/stations", headers=auth(token)).get_json()
    kiosk = next(s for s in stations if s["code"] == "KIOSK-1")
    assert kiosk["online"] is True and kiosk["last_seen_at"]
    assert kiosk["devices"][0]["name"] == "kiosk-printer"
    assert (kiosk["devices"][0]["state"], kiosk["devices"][0]["reason"]) == ("error", "paper out")
    assert kiosk["faults"] == 1
    assert [f["ticket_id"] for f in kiosk["failed_prints"]] == [ticket["id"]]

    reprint = client.post(f"/api/v1/tickets/{ticket['id']}/reprint", headers=auth(token))
    assert reprint.status_code == 200
    kiosk = next(
        s
        for s in client.get("/api/v1/stations", headers=auth(token)).get_json()
        if s["code"] == "KIOSK-1"
    )
    assert kiosk["failed_prints"] == []  # the reprint is pending, not failed
    agent.disconnect(namespace="/station")
    kiosk = next(
        s
        for s in client.get("/api/v1/stations", headers=auth(token)).get_json()
        if s["code"] == "KIOSK-1"
    )
    assert kiosk["online"] is False


def test_stations_are_for_supervisors(client, demo, staff_token):
    assert client.get("/api/v1/stations").status_code == 401
    assert client.get("/api/v1/stations", headers=auth(staff_token)).status_code == 403


def test_supervisor_device_page_offers_a_login_and_loads_its_script(client, demo):
    page = client.get("/supervisor/devices")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="login"' in html and "js/staff/devices.js" in html
    assert f'data-centre-id="{demo.centre_id}"' in html
    assert client.get("/supervisor/devices?centre=999").status_code == 404
    assert client.get("/assets/js/staff/devices.js").status_code == 200


def test_a_late_press_rates_who_was_at_the_counter_even_after_a_transfer(database, demo):
    """Pressed while A was being served; A was transferred to another service before the
    press arrived. The trail, not A's row (no counter, another service now), decides."""
    actor = staff(database)
    a = serve(database, called=0)
    with database.transaction() as s:
        ops.start(s, ticket_id=a, now=at(30), actor=actor)
    with database.transaction() as s:
        ops.transfer(s, ticket_id=a, service_id=3, now=at(100), actor=actor)
    _, rating = press(database, 4, 60)
    assert (rating["ticket_id"], rating["service_id"]) == (a, 1)
    assert rating["staff_id"] == actor.staff_id


def test_a_late_press_rates_the_recalled_citizen_from_the_first_call(database, demo):
    """A recall moves the ticket's called_at; a press between the call and the recall,
    delivered after it, still rates that citizen."""
    actor = staff(database)
    a = serve(database, called=0)
    with database.transaction() as s:
        ops.recall(s, ticket_id=a, now=at(90), actor=actor)
    _, rating = press(database, 5, 45)
    assert rating["ticket_id"] == a

"""Stations hold only what their devices need (issue 11, item 3), from outside through the
real app on SQLite and PostgreSQL.

- Printing a ticket needs a kiosk's credential: its agent's token or its provisioned page's
  cookie (an administrator's code exchanged once). A URL parameter or a body's station_id
  alone prints nowhere.
- A counters station's rating pads and keypads speak only for the counters bound to it
  (admin: the counter's station).
- Issuing is rate-limited per kiosk and per address.
A revoked token drops the agent's live connection: tests/server/test_station_revocation.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from server.models import Counter, PrintJob, Rating, Station
from server.services.auth import issue_station_token
from tests.server.factories import provision_kiosk


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def print_jobs(database) -> int:
    with database.transaction() as s:
        return s.execute(select(func.count()).select_from(PrintJob)).scalar_one()


def station_id(database, code: str) -> int:
    with database.transaction() as s:
        return s.execute(select(Station.id).where(Station.code == code)).scalar_one()


def token_of(database, code: str) -> str:
    with database.transaction() as s:
        station = s.execute(select(Station).where(Station.code == code)).scalar_one()
        return issue_station_token(s, station)


def hall(app, client=None):
    return app.extensions["socketio"].test_client(app, namespace="/hall", flask_test_client=client)


# --- the kiosk: printing needs its credential -------------------------------------------


def test_an_anonymous_caller_prints_nowhere(client, database, demo, backend):
    r = client.post("/api/v1/tickets", json={"service_id": 1, "station_id": demo.kiosk_station_id})
    assert r.status_code == 403
    assert "chưa được kích hoạt" in r.get_json()["message"]
    assert "/kiosk/provision" in r.get_json()["message_en"]
    # Without naming a station: a ticket on screen, no print job anywhere.
    r = client.post("/api/v1/tickets", json={"service_id": 1})
    assert r.status_code == 201 and r.get_json()["print_job_id"] is None
    assert print_jobs(database) == 0


def test_an_anonymous_caller_prints_no_papers_list(client, database, demo, backend):
    from server.models import Procedure

    with database.transaction() as s:
        procedure_id = s.execute(select(Procedure.id).limit(1)).scalar_one()
    body = {"station_id": demo.kiosk_station_id}
    r = client.post(f"/api/v1/procedures/{procedure_id}/print", json=body)
    assert r.status_code == 403 and "chưa được kích hoạt" in r.get_json()["message"]
    r = client.post(
        f"/api/v1/procedures/{procedure_id}/print",
        json=body,
        headers=auth(token_of(database, "COUNTERS-1")),
    )
    assert r.status_code == 403
    assert print_jobs(database) == 0
    r = provision_kiosk(client).post(f"/api/v1/procedures/{procedure_id}/print", json=body)
    assert r.status_code == 202


def test_only_a_kiosk_station_issues_tickets(client, database, demo, backend):
    counters = auth(token_of(database, "COUNTERS-1"))
    r = client.post("/api/v1/tickets", json={"service_id": 1}, headers=counters)
    assert r.status_code == 403 and "not a kiosk" in r.get_json()["message_en"]
    display = auth(token_of(database, "DISPLAY-1"))
    r = client.post("/api/v1/tickets", json={"service_id": 1}, headers=display)
    assert r.status_code == 403
    assert print_jobs(database) == 0


def test_a_provisioned_kiosk_page_prints_on_its_own_printer_only(client, database, demo, backend):
    with database.transaction() as s:
        other = Station(centre_id=demo.centre_id, code="KIOSK-2", kind="kiosk", has_printer=True)
        s.add(other)
        s.flush()
        other_id = other.id
    page = client.get("/kiosk/provision?code=tthcc-demo-kiosk&print_timeout=5&station=99")
    assert page.status_code == 302 and page.headers["Location"] == "/kiosk/?print_timeout=5"
    cookie = page.headers["Set-Cookie"]
    assert "tthcc_kiosk=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The page knows its station from the credential, whatever the URL says.
    html = client.get("/kiosk/?centre=1&station=99").get_data(as_text=True)
    assert f'"station_id": {demo.kiosk_station_id}' in html
    r = client.post("/api/v1/tickets", json={"service_id": 1, "station_id": other_id})
    assert r.status_code == 403 and "own printer" in r.get_json()["message_en"]
    r = client.post("/api/v1/tickets", json={"service_id": 1})  # its own, unasked
    assert r.status_code == 201 and r.get_json()["print_job_id"]
    with database.transaction() as s:
        job = s.execute(select(PrintJob)).scalar_one()
        assert job.station_id == demo.kiosk_station_id


def test_a_provisioning_code_works_once_and_expires(app, client, database, demo, backend):
    from datetime import timedelta

    from server.domain.clock import utcnow
    from server.services.kiosks import issue_code

    with database.transaction() as s:
        kiosk = s.get(Station, demo.kiosk_station_id)
        code = issue_code(s, kiosk, utcnow())
        stale = issue_code(s, kiosk, utcnow() - timedelta(hours=25))
    assert client.get(f"/kiosk/provision?code={code}").status_code == 302
    # Used up: a second PC gets the refusal page, not a kiosk.
    second = app.test_client()
    refused = second.get(f"/kiosk/provision?code={code}")
    assert refused.status_code == 403 and "hết hạn" in refused.get_data(as_text=True)
    assert second.get(f"/kiosk/provision?code={stale}").status_code == 403
    r = second.post("/api/v1/tickets", json={"service_id": 1, "station_id": kiosk.id})
    assert r.status_code == 403
    # The provisioned PC restarting on its used-up address still opens its kiosk page.
    assert client.get(f"/kiosk/provision?code={code}").status_code == 302


def test_an_admin_issues_a_code_and_revoking_the_station_ends_the_kiosk(
    client, database, demo, admin_token, backend
):
    r = client.post(
        f"/api/v1/admin/stations/{demo.kiosk_station_id}/kiosk-code", headers=auth(admin_token)
    )
    assert r.status_code == 200 and r.get_json()["url"].startswith("/kiosk/provision?code=")
    counters_id = station_id(database, "COUNTERS-1")
    r2 = client.post(f"/api/v1/admin/stations/{counters_id}/kiosk-code", headers=auth(admin_token))
    assert r2.status_code == 422  # not a kiosk
    kiosk_pc = client.application.test_client()
    assert kiosk_pc.get(r.get_json()["url"]).status_code == 302
    assert kiosk_pc.post("/api/v1/tickets", json={"service_id": 1}).get_json()["print_job_id"]
    client.delete(
        f"/api/v1/admin/stations/{demo.kiosk_station_id}/token", headers=auth(admin_token)
    )
    r = kiosk_pc.post(
        "/api/v1/tickets", json={"service_id": 1, "station_id": demo.kiosk_station_id}
    )
    assert r.status_code == 403


def test_a_station_room_is_for_its_provisioned_kiosk_only(app, client, demo, backend):
    anonymous = hall(app)
    ack = anonymous.emit(
        "subscribe",
        {"centre_id": demo.centre_id, "station_id": demo.kiosk_station_id},
        namespace="/hall",
        callback=True,
    )
    assert ack["ok"] is False and "provisioned" in ack["message_en"]
    kiosk = hall(app, provision_kiosk(client))
    ack = kiosk.emit(
        "subscribe",
        {"centre_id": demo.centre_id, "station_id": demo.kiosk_station_id},
        namespace="/hall",
        callback=True,
    )
    assert ack == {"ok": True}
    # Its own room only: another station's id is refused even with the credential.
    ack = kiosk.emit(
        "subscribe",
        {"centre_id": demo.centre_id, "station_id": 3},
        namespace="/hall",
        callback=True,
    )
    assert ack["ok"] is False


def test_a_kiosk_station_operates_no_counter(client, demo, backend):
    kiosk = auth(demo.kiosk_token)
    r = client.post("/api/v1/counters/1/call-next", headers=kiosk)
    assert r.status_code == 403
    r = client.post(
        "/api/v1/ratings",
        json={"counter_id": 1, "level": 5, "key": "kiosk-pad-0001"},
        headers=kiosk,
    )
    assert r.status_code == 403 and "not bound" in r.get_json()["message_en"]


# --- the counters station: only its bound counters --------------------------------------


def submission(counter_id: int) -> dict:
    return {
        "key": uuid.uuid4().hex,
        "counter_id": counter_id,
        "raw_key": "5",
        "level": 5,
        "scale": 5,
        "pressed_at": datetime.now(UTC).isoformat(),
        "clock_offset": 0.0,
    }


def test_a_counters_station_speaks_only_for_its_bound_counters(
    app, client, database, demo, admin_token, backend
):
    token = token_of(database, "COUNTERS-1")
    with database.transaction() as s:  # the demo binds every counter: unbind counter 2
        s.get(Counter, 2).station_id = None
    agent = app.extensions["socketio"].test_client(app, namespace="/station", auth={"token": token})
    assert agent.is_connected("/station")
    ack = agent.emit("rating.submit", submission(2), namespace="/station", callback=True)
    assert ack["ok"] is False and ack["error"] == "counter_not_bound"
    assert "không gắn" in ack["message_vi"]
    ack = agent.emit(
        "counter.command",
        {"counter_id": 2, "operation": "next"},
        namespace="/station",
        callback=True,
    )
    assert ack["ok"] is False and ack["error"] == "counter_not_bound"
    assert ack["board_text"] == "Chưa gắn"
    r = client.post(
        "/api/v1/ratings",
        json={"counter_id": 2, "level": 5, "key": "pad-http-0002"},
        headers=auth(token),
    )
    assert r.status_code == 403 and r.get_json()["error"] == "counter_not_bound"
    r = client.post("/api/v1/counters/2/call-next", headers=auth(token))
    assert r.status_code == 403
    with database.transaction() as s:
        assert s.execute(select(func.count()).select_from(Rating)).scalar_one() == 0
    # An administrator binds it (API): the same press is taken.
    r = client.patch(
        "/api/v1/admin/counters/2",
        json={"station_id": station_id(database, "COUNTERS-1")},
        headers=auth(admin_token),
    )
    assert r.status_code == 200, r.get_json()
    ack = agent.emit(
        "counter.command",
        {"counter_id": 2, "operation": "next"},
        namespace="/station",
        callback=True,
    )
    assert ack.get("error") != "counter_not_bound"


# --- rate limits on issuing ------------------------------------------------------------


@pytest.fixture
def low_limits(monkeypatch):
    monkeypatch.setenv("TTHCC_ISSUE_RATE_LIMIT", "3 per minute")
    monkeypatch.setenv("TTHCC_KIOSK_ISSUE_RATE_LIMIT", "4 per minute")


def test_issuing_is_limited_per_address_and_per_kiosk(low_limits, app, client, demo, backend):
    def issue(c, **kw):
        return c.post("/api/v1/tickets", json={"service_id": 1}, **kw).status_code

    assert [issue(client) for _ in range(4)] == [201, 201, 201, 429]
    r = client.post("/api/v1/tickets", json={"service_id": 1})
    assert r.get_json()["error"] == "too_many_requests" and "Lấy số" in r.get_json()["message"]
    # Another address is counted apart.
    other = {"environ_base": {"REMOTE_ADDR": "10.0.0.9"}}
    assert issue(client, **other) == 201
    # A kiosk is counted per kiosk, not per address (behind the same address as above).
    kiosk = provision_kiosk(app.test_client())
    assert [issue(kiosk) for _ in range(5)] == [201, 201, 201, 201, 429]
    assert issue(client, headers=auth(demo.kiosk_token)) == 429  # the same kiosk's agent

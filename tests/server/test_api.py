"""The HTTP API contract: tickets, counters, auth, errors, OpenAPI."""

from __future__ import annotations

import pytest


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def issue(client, service_id=1, headers=None, **extra):
    response = client.post(
        "/api/v1/tickets", json={"service_id": service_id, **extra}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def kiosk(demo) -> dict:
    """The demo kiosk agent's credential: only a kiosk prints its tickets."""
    return {"Authorization": f"Bearer {demo.kiosk_token}"}


def test_services_list_waiting_counts_and_counters(client, demo):
    issue(client, 1)
    issue(client, 1)
    services = client.get("/api/v1/services").get_json()
    assert len(services) >= 8
    first = next(s for s in services if s["id"] == 1)
    assert first["waiting"] == 2
    assert first["counters"] == [1, 2]
    assert first["name"] == "Khai sinh, kết hôn, khai tử"


def test_issue_ticket_returns_the_contract_fields(client, demo):
    body = issue(client, 1, kiosk(demo), station_id=demo.kiosk_station_id)
    for key in ("id", "number", "service_id", "status", "issued_at", "waiting_ahead"):
        assert key in body
    assert (body["number"], body["status"], body["waiting_ahead"]) == ("1001", "waiting", 0)
    assert body["print_status"] == "pending"
    assert issue(client, 1)["waiting_ahead"] == 1
    fetched = client.get(f"/api/v1/tickets/{body['id']}", headers=kiosk(demo)).get_json()
    assert fetched["number"] == "1001"
    assert (
        client.get(f"/api/v1/tickets/public/{body['public_code']}").get_json()["id"] == body["id"]
    )


def test_priority_ticket_takes_a_category_from_data(client, demo):
    categories = client.get("/api/v1/catalog").get_json()["priority_categories"]
    assert [c["code"] for c in categories][:3] == [
        "nguoi_cao_tuoi",
        "nguoi_khuyet_tat",
        "phu_nu_co_thai",
    ]
    body = issue(client, 1, priority_category=categories[0]["id"])
    assert body["is_priority"] is True


@pytest.mark.parametrize(
    "payload,status,needle",
    [
        ({}, 422, "service_id"),
        ({"service_id": "một"}, 422, "service_id"),
        ({"service_id": 1, "priority_category": 999}, 422, "ưu tiên"),
        ({"service_id": 999}, 404, "dịch vụ"),
        # naming a station without a kiosk's credential (test_station_least_privilege.py)
        ({"service_id": 1, "station_id": 999}, 403, "kích hoạt"),
    ],
)
def test_bad_ticket_requests_get_a_clear_4xx(client, demo, payload, status, needle):
    response = client.post("/api/v1/tickets", json=payload)
    assert response.status_code == status
    assert needle in response.get_json()["message"]


def test_malformed_json_is_a_400_with_a_message(client, demo):
    response = client.post("/api/v1/tickets", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.get_json()["message"]


def test_counter_operations_require_login(client, demo):
    response = client.post("/api/v1/counters/1/call-next")
    assert response.status_code == 401
    assert "đăng nhập" in response.get_json()["message"]


def test_wrong_password_is_refused(client, demo):
    response = client.post("/api/v1/auth/token", json={"username": "canbo1", "password": "sai"})
    assert response.status_code == 401
    assert client.post("/api/v1/counters/1/call-next", headers=auth("forged")).status_code == 401


def test_full_counter_cycle_over_http(client, demo, staff_token):
    ticket = issue(client, 1)
    called = client.post("/api/v1/counters/1/call-next", headers=auth(staff_token))
    assert called.status_code == 200
    assert called.get_json()["id"] == ticket["id"]
    assert called.get_json()["counter_number"] == 1
    for action, status in (("recall", "called"), ("start", "serving"), ("finish", "done")):
        r = client.post(f"/api/v1/tickets/{ticket['id']}/{action}", headers=auth(staff_token))
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["status"] == status
    counter = client.get("/api/v1/counters/1").get_json()
    assert counter["current_ticket"] is None
    assert [s["position"] for s in counter["services"]] == [0, 1]


def test_nobody_waiting_and_illegal_transitions_are_409(client, demo, staff_token):
    r = client.post("/api/v1/counters/1/call-next", headers=auth(staff_token))
    assert r.status_code == 409
    assert r.get_json()["error"] == "no_ticket_waiting"
    ticket = issue(client, 1)
    r = client.post(f"/api/v1/tickets/{ticket['id']}/finish", headers=auth(staff_token))
    assert r.status_code == 409
    assert r.get_json()["error"] == "illegal_transition"
    assert r.get_json()["message"].startswith("Không thể")


def test_transfer_and_call_specific_number(client, demo, staff_token):
    first = issue(client, 1)
    client.post("/api/v1/counters/1/call-next", headers=auth(staff_token))
    r = client.post(
        f"/api/v1/tickets/{first['id']}/transfer", json={"service_id": 3}, headers=auth(staff_token)
    )
    assert r.status_code == 200
    assert (r.get_json()["service_id"], r.get_json()["status"]) == (3, "waiting")
    assert r.get_json()["issued_at"] == first["issued_at"]
    r = client.post("/api/v1/counters/1/call", json={"number": "1001"}, headers=auth(staff_token))
    assert r.status_code == 200
    assert r.get_json()["id"] == first["id"]
    r = client.post("/api/v1/counters/1/call", json={"number": "9998"}, headers=auth(staff_token))
    assert r.status_code == 404


def test_staff_cannot_operate_a_counter_held_by_someone_else(client, demo, staff_token):
    other = client.post(
        "/api/v1/auth/token", json={"username": "canbo2", "password": "tthcc-canbo"}
    ).get_json()["token"]
    assert (
        client.post(
            "/api/v1/counters/1/status", json={"status": "open"}, headers=auth(staff_token)
        ).status_code
        == 200
    )
    r = client.post("/api/v1/counters/1/call-next", headers=auth(other))
    assert r.status_code == 403
    assert "Quầy 1" in r.get_json()["message"]


def test_admin_token_may_operate_any_counter(client, demo, staff_token, admin_token):
    client.post("/api/v1/counters/1/status", json={"status": "open"}, headers=auth(staff_token))
    issue(client, 1)
    assert client.post("/api/v1/counters/1/call-next", headers=auth(admin_token)).status_code == 200


def test_counters_list_their_ordered_services(client, demo):
    counters = client.get("/api/v1/counters").get_json()
    assert len(counters) >= 6
    assert all(c["services"] for c in counters)
    five = next(c for c in counters if c["number"] == 5)
    assert [s["position"] for s in five["services"]] == [0, 1, 2, 3]  # XD, KD, DD, DN


def test_unknown_ids_are_404_json(client, demo):
    for url in ("/api/v1/tickets/999999", "/api/v1/counters/999", "/api/v1/centres/77/snapshot"):
        r = client.get(url)
        assert r.status_code == 404 and r.get_json()["message"]


def test_openapi_document_is_valid_and_documents_the_contract(client, demo):
    from openapi_spec_validator import validate

    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    paths = spec["paths"]
    for path in (
        "/api/v1/services",
        "/api/v1/tickets",
        "/api/v1/tickets/{ticket_id}",
        "/api/v1/counters",
        "/api/v1/counters/{counter_id}",
        "/api/v1/counters/{counter_id}/call-next",
        "/api/v1/tickets/{ticket_id}/recall",
        "/api/v1/tickets/{ticket_id}/start",
        "/api/v1/tickets/{ticket_id}/finish",
        "/api/v1/tickets/{ticket_id}/no-show",
        "/api/v1/tickets/{ticket_id}/transfer",
        "/api/v1/auth/token",
    ):
        assert path in paths, path
    assert "201" in paths["/api/v1/tickets"]["post"]["responses"]
    for path in ("/api/v1/tickets", "/api/v1/remote-tickets", "/api/v1/appointments"):
        post = paths[path]["post"]
        assert "200" in post["responses"], path
        assert any(p["name"] == "Idempotency-Key" for p in post["parameters"]), path


def test_session_cookie_login_works_for_pages(client, demo):
    r = client.post("/api/v1/auth/login", json={"username": "canbo1", "password": "tthcc-canbo"})
    assert r.status_code == 200
    issue(client, 1)
    assert client.post("/api/v1/counters/1/call-next").status_code == 200


def test_home_page_links_every_page(client, demo):
    html = client.get("/").get_data(as_text=True)
    for href in ("/kiosk/", "/counter", "/display/", "/admin"):
        assert href in html
    assert "PHƯỜNG KINH BẮC" in html


def token_for(client, username, password="tthcc-canbo"):
    return client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}
    ).get_json()["token"]


def test_supervisor_calling_at_a_staff_counter_does_not_take_it(client, demo, staff_token):
    client.post("/api/v1/counters/1/status", json={"status": "open"}, headers=auth(staff_token))
    supervisor = token_for(client, "giamsat", "tthcc-giamsat")
    issue(client, 1)
    issue(client, 1)
    called = client.post("/api/v1/counters/1/call-next", headers=auth(supervisor)).get_json()
    assert called["staff_id"] == client.get("/api/v1/counters/1").get_json()["staff_id"]
    # The staff member keeps their counter and can go on calling.
    body = {"resolve": "served", "current_ticket_id": called["id"]}
    response = client.post("/api/v1/counters/1/call-next", json=body, headers=auth(staff_token))
    assert response.status_code == 200, response.get_json()


def test_the_question_about_a_citizen_only_called_names_the_ticket(client, demo, staff_token):
    """The counter page asks about the ticket the server asks about, and answers with its id."""
    issue(client, 1)
    issue(client, 1)
    called = client.post("/api/v1/counters/1/call-next", headers=auth(staff_token)).get_json()
    client.post(f"/api/v1/tickets/{called['id']}/recall", headers=auth(staff_token))
    r = client.post("/api/v1/counters/1/call-next", headers=auth(staff_token))
    assert r.status_code == 409
    body = r.get_json()
    assert body["error"] == "current_not_started"
    assert (body["current_ticket_id"], body["current_number"]) == (called["id"], called["number"])
    assert (body["call_count"], body["max_calls"]) == (2, 3)
    answer = {"resolve": "no_show", "current_ticket_id": body["current_ticket_id"]}
    r = client.post("/api/v1/counters/1/call-next", json=answer, headers=auth(staff_token))
    assert r.status_code == 200
    shown = client.get(f"/api/v1/tickets/{called['id']}", headers=auth(staff_token))
    assert shown.get_json()["status"] == "no_show"


def test_staff_cannot_hold_two_counters(client, demo, staff_token):
    assert (
        client.post(
            "/api/v1/counters/1/status", json={"status": "open"}, headers=auth(staff_token)
        ).status_code
        == 200
    )
    r = client.post("/api/v1/counters/6/status", json={"status": "open"}, headers=auth(staff_token))
    assert r.status_code == 409
    assert "Quầy 1" in r.get_json()["message"]
    client.post("/api/v1/counters/1/status", json={"status": "closed"}, headers=auth(staff_token))
    assert (
        client.post(
            "/api/v1/counters/6/status", json={"status": "open"}, headers=auth(staff_token)
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    "method,url,body,status,code",
    [
        ("post", "/api/v1/counters/1/call-next", None, 401, "unauthorized"),
        ("post", "/api/v1/tickets", {"service_id": "x"}, 422, "invalid_input"),
        ("get", "/api/v1/no-such-thing", None, 404, "not_found"),
    ],
)
def test_every_error_body_has_code_and_both_messages(client, demo, method, url, body, status, code):
    r = (
        getattr(client, method)(url, json=body)
        if body is not None
        else getattr(client, method)(url)
    )
    payload = r.get_json()
    assert r.status_code == status
    assert payload["error"] == code
    assert payload["message"] and payload["message_en"]
    assert " / " not in payload["message"]


def test_forbidden_counter_error_is_split_into_vietnamese_and_english(client, demo, staff_token):
    client.post("/api/v1/counters/1/status", json={"status": "open"}, headers=auth(staff_token))
    r = client.post("/api/v1/counters/1/call-next", headers=auth(token_for(client, "canbo2")))
    assert r.get_json()["error"] == "forbidden"
    assert r.get_json()["message"].startswith("Quầy 1")
    assert "someone else" in r.get_json()["message_en"]


def test_logout_revokes_the_bearer_token_and_me_tells_who(client, demo, staff_token):
    me = client.get("/api/v1/auth/me", headers=auth(staff_token))
    assert me.status_code == 200 and me.get_json()["user"]["username"] == "canbo1"
    assert client.post("/api/v1/auth/logout", headers=auth(staff_token)).status_code == 204
    assert client.get("/api/v1/auth/me", headers=auth(staff_token)).status_code == 401


def test_todays_tickets_can_be_listed_by_status(client, demo, staff_token):
    first = issue(client, 1)
    issue(client, 1)
    client.post("/api/v1/counters/1/call-next", headers=auth(staff_token))
    client.post(f"/api/v1/tickets/{first['id']}/no-show", headers=auth(staff_token))
    listed = client.get("/api/v1/tickets/today?status=no_show", headers=auth(staff_token))
    assert listed.status_code == 200
    assert [t["id"] for t in listed.get_json()] == [first["id"]]
    assert client.get("/api/v1/tickets/today").status_code == 401


def test_a_retried_ticket_request_returns_the_same_ticket(client, demo):
    first = issue(
        client, 1, kiosk(demo), station_id=demo.kiosk_station_id, request_id="kiosk1-0001-abcd"
    )
    again = client.post(
        "/api/v1/tickets",
        json={
            "service_id": 1,
            "station_id": demo.kiosk_station_id,
            "request_id": "kiosk1-0001-abcd",
        },
        headers=kiosk(demo),
    )
    assert again.status_code == 200, again.get_json()  # a replay, not a new ticket
    again = again.get_json()
    assert again["id"] == first["id"] and again["number"] == first["number"]
    assert again["print_job_id"] == first["print_job_id"]
    assert issue(client, 1, request_id="kiosk1-0002-abcd")["number"] == "1002"
    bad = client.post("/api/v1/tickets", json={"service_id": 1, "request_id": "x"})
    assert bad.status_code == 422 and "request_id" in bad.get_json()["message"]


def test_expired_tokens_and_deactivated_users_are_refused(client, demo, database):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from server.models import ApiToken, User
    from server.services.auth import hash_token

    expiring = token_for(client, "canbo3")
    deactivated = token_for(client, "canbo4")
    for token in (expiring, deactivated):
        assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 200
    with database.transaction() as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_token(expiring))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        s.execute(update(User).where(User.username == "canbo4").values(active=False))
    for token in (expiring, deactivated):
        response = client.post("/api/v1/counters/3/call-next", headers=auth(token))
        assert response.status_code == 401, response.json
        assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 401

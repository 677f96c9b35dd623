"""A full number range through the API: the kiosk's 503, and the supervisor's alert
before it comes to that (docs/api.md, "A full number range")."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from server.models import Centre, Ticket
from tests.server.factories import create_counter, create_service


@pytest.fixture
def small_service(database, demo) -> int:
    """A service of the demo centre with ten numbers, 0001-0010, served by a counter."""
    with database.transaction() as s:
        centre = s.get(Centre, demo.centre_id)
        service = create_service(s, centre, name="Chứng thực bản sao", range_start=1, range_end=10)
        create_counter(s, centre, [service], number=99)
        return service.id


@pytest.fixture
def supervisor(client, demo) -> dict:
    token = client.post(
        "/api/v1/auth/token", json={"username": "giamsat", "password": "tthcc-giamsat"}
    ).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def issue(client, service_id: int):
    return client.post("/api/v1/tickets", json={"service_id": service_id})


def range_alerts(client, supervisor, service_id: int) -> list[dict]:
    overview = client.get("/api/v1/supervisor/overview", headers=supervisor).get_json()
    return [
        a
        for a in overview["alerts"]
        if a["kind"].startswith("number_range") and a["service_id"] == service_id
    ]


def test_a_full_range_is_a_json_503_the_kiosk_can_explain(client, small_service):
    for _ in range(10):
        assert issue(client, small_service).status_code == 201
    refused = issue(client, small_service)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "60"
    body = refused.get_json()
    assert body == {
        "code": 503,
        "status": "error",
        "error": "number_range_exhausted",
        "message": body["message"],
        "message_en": body["message_en"],
        "service_id": small_service,
        "service_name": "Chứng thực bản sao",
        "range_start": 1,
        "range_end": 10,
        "retry_after_seconds": 60,
    }
    assert body["message"].startswith("Dịch vụ «Chứng thực bản sao» tạm hết số thứ tự")
    assert "cán bộ hướng dẫn" in body["message"]
    assert "all 10 numbers (1-10)" in body["message_en"]


def test_the_supervisor_is_alerted_at_90_percent_and_when_full(
    client, small_service, supervisor, staff_token
):
    for _ in range(8):
        issue(client, small_service)
    assert range_alerts(client, supervisor, small_service) == []  # 80 %
    issue(client, small_service)
    (alert,) = range_alerts(client, supervisor, small_service)
    assert (alert["kind"], alert["severity"], alert["percent"]) == (
        "number_range_nearly_full",
        "warning",
        90,
    )
    assert alert["message"].startswith("Chứng thực bản sao: sắp hết số thứ tự (9/10 số")
    issue(client, small_service)
    (alert,) = range_alerts(client, supervisor, small_service)
    assert (alert["kind"], alert["severity"]) == ("number_range_exhausted", "danger")
    overview = client.get("/api/v1/supervisor/overview", headers=supervisor).get_json()
    row = next(s for s in overview["services"] if s["id"] == small_service)
    assert (row["numbers_held"], row["range_size"]) == (10, 10)


def test_numbers_given_back_lower_the_use_and_are_issued_again(
    client, database, small_service, supervisor
):
    for _ in range(10):
        issue(client, small_service)
    with database.transaction() as s:  # two citizens were served
        s.execute(
            update(Ticket)
            .where(Ticket.issued_service_id == small_service, Ticket.number.in_((3, 7)))
            .values(status="done")
        )
    assert range_alerts(client, supervisor, small_service) == []  # 80 % held again
    numbers = [issue(client, small_service).get_json()["number"] for _ in range(2)]
    assert numbers == ["0003", "0007"]  # after the wrap, the free ones, in order
    assert issue(client, small_service).status_code == 503

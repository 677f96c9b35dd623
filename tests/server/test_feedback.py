"""Feedback and petitions: consent for contact details, the supervisor's workflow, due
dates in working days and the overdue list, no personal data in logs, and the follow-up
case a lowest rating opens."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from server.domain.errors import IllegalTransition
from server.domain.feedback import FeedbackAction, FeedbackStatus, next_status
from server.models import Feedback, User

CONTACT = {"name": "Trần Thị Bình", "phone": "0912 345 678", "email": "binh@example.vn"}


def auth(client, username: str, password: str) -> dict:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


@pytest.fixture
def supervisor(client, demo) -> dict:
    return auth(client, "giamsat", "tthcc-giamsat")


def submit(client, **body):
    payload = {"about": "staff", "content": "Cán bộ quầy 3 hướng dẫn chưa rõ ràng.", **body}
    r = client.post("/api/v1/feedback", json=payload)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def stored(database, reference: str) -> Feedback:
    with database.transaction() as session:
        return session.execute(select(Feedback).where(Feedback.reference == reference)).scalar_one()


def test_domain_workflow_and_illegal_moves():
    s = FeedbackStatus
    assert next_status(s.RECEIVED, FeedbackAction.ASSIGN) is s.ASSIGNED
    assert next_status(s.ASSIGNED, FeedbackAction.ASSIGN) is s.ASSIGNED
    assert next_status(s.ASSIGNED, FeedbackAction.ANSWER) is s.ANSWERED
    assert next_status(s.ANSWERED, FeedbackAction.CLOSE) is s.CLOSED
    for status, action in [
        (s.RECEIVED, FeedbackAction.ANSWER),
        (s.RECEIVED, FeedbackAction.CLOSE),
        (s.CLOSED, FeedbackAction.ASSIGN),
        (s.ANSWERED, FeedbackAction.ANSWER),
    ]:
        with pytest.raises(IllegalTransition):
            next_status(status, action)


def test_no_contact_is_stored_without_consent(client, database, demo):
    receipt = submit(client, consent=False, contact=CONTACT, source="kiosk")
    assert receipt["contact_stored"] is False
    row = stored(database, receipt["reference"])
    assert row.contact_consent is False
    assert (row.contact_name, row.contact_phone, row.contact_email) == (None, None, None)
    assert row.source == "kiosk"


def test_contact_is_stored_with_consent(client, database, demo, supervisor):
    receipt = submit(client, consent=True, contact=CONTACT)
    assert receipt["contact_stored"] is True
    row = stored(database, receipt["reference"])
    assert (row.contact_name, row.contact_phone, row.contact_email) == (
        CONTACT["name"],
        CONTACT["phone"],
        CONTACT["email"],
    )
    view = client.get(f"/api/v1/feedback/{row.id}", headers=supervisor).get_json()
    assert view["contact"]["name"] == CONTACT["name"]


def test_personal_data_never_reaches_the_logs(client, demo, supervisor, caplog):
    caplog.set_level(logging.DEBUG)
    receipt = submit(client, consent=True, contact=CONTACT, content="Nội dung riêng tư XYZ123")
    submit(client, consent=False, contact=CONTACT)
    case = client.get("/api/v1/feedback", headers=supervisor).get_json()[0]
    client.post(
        f"/api/v1/feedback/{case['id']}/assign", json={"assignee_id": 1}, headers=supervisor
    )
    text = caplog.text
    assert receipt["reference"] in text  # logged by reference…
    for secret in (CONTACT["name"], CONTACT["phone"], CONTACT["email"], "XYZ123"):
        assert secret not in text  # …never by what identifies the citizen


def test_due_date_is_ten_working_days_after_receipt(client, demo):
    receipt = submit(client)
    # The default: 10 working days, counted by the centre's working calendar.
    from server.domain.calendar import default_calendar, to_local
    from server.domain.clock import utcnow

    expected = default_calendar().add_working_days(to_local(utcnow()), 10)
    assert receipt["due_date"] == expected.isoformat()


def test_submissions_are_validated(client, demo):
    assert client.post("/api/v1/feedback", json={"about": "staff"}).status_code == 422
    r = client.post("/api/v1/feedback", json={"about": "weather", "content": "Trời nóng quá ạ"})
    assert r.status_code == 422
    r = client.post("/api/v1/feedback", json={"about": "other", "content": "abc"})
    assert r.status_code == 422
    r = client.post(
        "/api/v1/feedback", json={"about": "other", "content": "Nội dung", "counter_id": 9999}
    )
    assert r.status_code == 422


def test_supervisor_workflow_received_assigned_answered_closed(client, database, demo, supervisor):
    receipt = submit(client)
    case = client.get("/api/v1/feedback", headers=supervisor).get_json()[0]
    assert case["reference"] == receipt["reference"]
    assert case["status"] == "received" and case["allowed_actions"] == ["assign"]
    with database.transaction() as session:
        canbo3 = session.execute(select(User).where(User.username == "canbo3")).scalar_one().id
    cid = case["id"]
    early = client.post(f"/api/v1/feedback/{cid}/answer", json={"answer": "x"}, headers=supervisor)
    assert early.status_code == 409
    r = client.post(
        f"/api/v1/feedback/{cid}/assign", json={"assignee_id": canbo3}, headers=supervisor
    )
    assert r.status_code == 200 and r.get_json()["status"] == "assigned"
    # the assignee answers with their own account
    staff = auth(client, "canbo3", "tthcc-canbo")
    r = client.post(
        f"/api/v1/feedback/{cid}/answer",
        json={"answer": "Trung tâm đã nhắc nhở cán bộ và xin lỗi ông/bà."},
        headers=staff,
    )
    assert r.status_code == 200 and r.get_json()["status"] == "answered"
    # another staff member may not act on it
    other = auth(client, "canbo1", "tthcc-canbo")
    assert client.get(f"/api/v1/feedback/{cid}", headers=other).status_code == 403
    assert client.post(f"/api/v1/feedback/{cid}/close", json={}, headers=staff).status_code == 403
    r = client.post(
        f"/api/v1/feedback/{cid}/close", json={"note": "Đã gọi lại"}, headers=supervisor
    )
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "closed" and body["allowed_actions"] == []
    assert [e["action"] for e in body["events"]] == ["receive", "assign", "answer", "close"]


def test_lists_need_a_supervisor(client, demo):
    assert client.get("/api/v1/feedback").status_code == 401
    staff = auth(client, "canbo1", "tthcc-canbo")
    assert client.get("/api/v1/feedback", headers=staff).status_code == 403
    assert client.get("/api/v1/feedback/overdue", headers=staff).status_code == 403


def test_overdue_list_has_unanswered_cases_past_their_due_date(client, database, demo, supervisor):
    from server.services.feedback import answer, assign, submit_feedback

    old = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)  # Thu 1/10/2026 09:00 local
    with database.transaction() as session:
        late = submit_feedback(
            session,
            centre_id=demo.centre_id,
            about="procedure",
            content="Phí quá cao ạ",
            source="web",
            now=old,
        )
        handled = submit_feedback(
            session,
            centre_id=demo.centre_id,
            about="procedure",
            content="Giấy tờ nhiều quá",
            source="web",
            now=old,
        )
        assign(session, feedback_id=handled.id, assignee_id=1, now=old, actor="test")
        answer(session, feedback_id=handled.id, text="Đã trả lời", now=old, actor="test")
        late_id, late_due = late.id, late.due_date
    assert late_due == date(2026, 10, 15)  # 10 working days: 2–15 October
    submit(client)  # a fresh one, not overdue
    overdue = client.get("/api/v1/feedback/overdue", headers=supervisor).get_json()
    assert [c["id"] for c in overdue] == [late_id]
    assert overdue[0]["overdue"] is True
    same = client.get("/api/v1/feedback?overdue=true", headers=supervisor).get_json()
    assert [c["id"] for c in same] == [late_id]


def test_due_days_are_configurable_per_centre(client, database, demo):
    from server.models import Centre
    from server.services.feedback import submit_feedback

    with database.transaction() as session:
        centre = session.get(Centre, demo.centre_id)
        centre.settings = {**centre.settings, "feedback_working_days": 3}
    with database.transaction() as session:
        case = submit_feedback(
            session,
            centre_id=demo.centre_id,
            about="other",
            content="Góp ý chung",
            source="web",
            now=datetime(2026, 11, 20, 2, 0, tzinfo=UTC),  # Fri
        )
        assert case.due_date == date(2026, 11, 26)  # Mon 23, Wed 25, Thu 26 (24/11 off)


def test_lowest_rating_opens_a_linked_case_once(client, database, demo, now):
    from server.services.feedback import open_case_for_low_rating
    from server.services.issuing import issue_ticket
    from server.services.lifecycle import call_next

    with database.transaction() as session:
        from server.models import Counter, Service

        service = session.execute(select(Service).where(Service.code == "HT1")).scalar_one()
        counter = session.execute(select(Counter).where(Counter.number == 1)).scalar_one()
        ticket = issue_ticket(session, service_id=service.id, now=now).ticket
        call_next(session, counter_id=counter.id, now=now)
        ticket_id, counter_id = ticket.id, counter.id
    rating = SimpleNamespace(
        id=4242,
        ticket_id=ticket_id,
        centre_id=None,
        counter_id=None,
        staff_id=None,
        recorded_at=now,
    )
    with database.transaction() as session:
        case = open_case_for_low_rating(session, rating)
        again = open_case_for_low_rating(session, rating)
        assert again.id == case.id
        assert (case.source, case.about, case.rating_id) == ("rating", "staff", 4242)
        assert case.ticket_id == ticket_id and case.counter_id == counter_id
        assert "Quầy 1" in case.content and case.status == "received"

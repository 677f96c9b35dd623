"""Public look-ups cannot be walked (issue 11, item 6): a dossier's name, procedure and
request need the applicant's phone digits; look-ups are rate-limited per address; ticket
codes are random."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.domain.actors import Actor
from server.services import dossiers as ops
from server.services.dossiers import Handler


@pytest.fixture
def received(database, demo):
    """Two dossiers received at counter 1: one with a phone, one without."""
    from sqlalchemy import select

    from server.models import Procedure, User

    with database.transaction() as session:
        staff = session.execute(select(User).where(User.username == "canbo1")).scalar_one()
        pid = session.execute(select(Procedure.id).where(Procedure.code == "1.001193")).scalar_one()
        handler = Handler(Actor("user:canbo1", staff.id), staff.full_name)
        at = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
        with_phone = ops.receive_dossier(
            session,
            procedure_id=pid,
            applicant_name="Nguyễn Văn An",
            applicant_phone="0912 345 678",
            now=at,
            handler=handler,
        ).code
        without = ops.receive_dossier(
            session, procedure_id=pid, applicant_name="Trần Thị Bình", now=at, handler=handler
        ).code
    return with_phone, without


def _lookup(client, **query):
    return client.get("/api/v1/dossiers/lookup", query_string=query)


def test_a_dossier_code_alone_tells_a_status_not_who_applied_or_for_what(client, received, backend):
    with_phone, _ = received
    for query in ({"code": with_phone}, {"code": with_phone, "phone_last4": "0000"}):
        body = _lookup(client, **query).get_json()
        assert body["status"] == "received" and body["verified"] is False
        assert body["code"] == with_phone and body["due_date"]
        for hidden in ("applicant", "procedure_name", "procedure_code", "request"):
            assert body[hidden] == "", hidden
        assert body["procedure_id"] is None
    body = _lookup(client, code=with_phone, phone_last4="5678").get_json()
    assert body["verified"] is True
    assert body["applicant"] == "Nguyễn V. A." and body["procedure_code"] == "1.001193"
    assert "applicant_phone" not in body
    assert _lookup(client, code=with_phone, phone_last4="56789").status_code == 422


def test_a_dossier_recorded_without_a_phone_has_no_factor_to_ask(client, received, backend):
    _, without = received
    body = _lookup(client, code=without).get_json()
    assert body["verified"] is True and body["applicant"] == "Trần T. B."


def test_dossier_lookups_are_rate_limited_per_address(client, received, backend):
    with_phone, _ = received
    statuses = [_lookup(client, code=f"{with_phone[:-4]}{n:04d}").status_code for n in range(1, 40)]
    assert statuses[:30].count(429) == 0
    assert statuses[30:] == [429] * 9
    body = _lookup(client, code=with_phone).get_json()
    assert body["error"] == "too_many_requests" and "Tra cứu quá nhiều lần" in body["message"]
    # another address is not held up
    other = client.get(
        "/api/v1/dossiers/lookup",
        query_string={"code": with_phone},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert other.status_code == 200


def test_ticket_codes_are_random_and_misses_are_rate_limited(client, demo, backend):
    codes = {
        client.post("/api/v1/tickets", json={"service_id": 1}).get_json()["public_code"]
        for _ in range(3)
    }
    assert len(codes) == 3 and all(len(c) >= 16 for c in codes)  # 96 random bits each
    code = codes.pop()
    # a phone following its ticket is never held up...
    assert all(client.get(f"/t/{code}").status_code == 200 for _ in range(40))
    assert all(client.get(f"/api/v1/tickets/public/{code}").status_code == 200 for _ in range(40))
    # ...but guessing is: 30 misses a minute, then 429
    misses = [client.get(f"/api/v1/tickets/public/guess{n:06d}").status_code for n in range(31)]
    assert misses[:30] == [404] * 30 and misses[30] == 429
    assert client.get("/t/guess-again").status_code == 429

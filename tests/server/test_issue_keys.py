"""Idempotency-Key on POST /api/v1/tickets (server.services.issue_keys): a retried press
answers the ticket it issued, once, with one print job, whoever else uses the same key."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from server.models import PrintJob, Station, Ticket
from server.services.auth import issue_station_token

KEY = "k-mk2x7f3a-0q9w8e7r6t"


def _post(client, key: str | None = KEY, headers=None, **body):
    headers = dict(headers or {})
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/api/v1/tickets", json={"service_id": 1, **body}, headers=headers)


def _kiosk(demo) -> dict:
    return {"Authorization": f"Bearer {demo.kiosk_token}"}


def _counts(database) -> tuple[int, int]:
    with database.transaction() as s:
        tickets = s.scalar(select(func.count()).select_from(Ticket))
        jobs = s.scalar(select(func.count()).select_from(PrintJob))
    return tickets, jobs


def _error(r, status: int, error: str) -> dict:
    body = r.get_json()
    assert (r.status_code, body["error"]) == (status, error), body
    assert body["message"] and body["message_en"]
    return body


def test_a_retried_press_answers_its_ticket_with_one_row_and_one_print_job(
    client, demo, database, clock
):
    first = _post(client, headers=_kiosk(demo), station_id=demo.kiosk_station_id)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert _counts(database) == (1, 1)
    for again in (
        _post(client, headers=_kiosk(demo), station_id=demo.kiosk_station_id),
        # a kiosk page loaded before the header sends the key in the body
        _post(client, None, headers=_kiosk(demo), station_id=demo.kiosk_station_id, request_id=KEY),
    ):
        assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
        a, b = first.get_json(), again.get_json()
        for name in ("id", "number", "public_code", "print_job_id", "counters", "service_name"):
            assert a[name] == b[name], name
        assert b["print_status"] == "pending"  # the job's own status, nothing printed twice
    assert _counts(database) == (1, 1)
    # The same key the next day is a new press: a new ticket.
    clock.set(clock.moment + timedelta(days=1))
    assert _post(client, headers=_kiosk(demo), station_id=demo.kiosk_station_id).status_code == 201
    assert _counts(database) == (2, 2)


def test_a_key_never_answers_another_callers_ticket(client, demo, database, clock):
    with database.transaction() as s:
        other = Station(centre_id=demo.centre_id, code="KIOSK-2", kind="kiosk", has_printer=True)
        s.add(other)
        s.flush()
        other_id, other_token = other.id, issue_station_token(s, other)
    mine = _post(client, headers=_kiosk(demo), station_id=demo.kiosk_station_id).get_json()
    theirs = _post(client, headers={"Authorization": f"Bearer {other_token}"}, station_id=other_id)
    anonymous = _post(client)  # the kiosk page of a centre without a provisioned kiosk
    assert theirs.status_code == 201 and anonymous.status_code == 201
    numbers = {mine["number"], theirs.get_json()["number"], anonymous.get_json()["number"]}
    assert len(numbers) == 3
    assert theirs.get_json()["public_code"] != mine["public_code"]
    assert _post(client).status_code == 200  # the anonymous caller's own retry
    assert _counts(database)[0] == 3


def test_a_key_reused_for_another_request_or_malformed_is_refused(client, demo, database, clock):
    assert _post(client, headers=_kiosk(demo)).status_code == 201
    for other in ({"service_id": 2}, {"priority_category": 1}):
        r = _post(client, headers=_kiosk(demo), **other)
        assert "Idempotency-Key" in _error(r, 422, "idempotency_key_reused")["message_en"]
    assert _counts(database)[0] == 1
    for bad in ("short-key", "x" * 65, "k-mk2x7f3a 0q9w8e7r6t", "k-mk2x7f3a/0q9w8e7r6t", ""):
        _error(_post(client, bad), 422, "invalid_idempotency_key")
    # Header and body naming two keys: which one did the caller mean?
    _error(_post(client, request_id="k-another-key-0123456"), 422, "invalid_idempotency_key")
    assert _post(client, None, request_id="short").status_code == 422
    assert _counts(database)[0] == 1


def test_eight_retries_racing_issue_one_ticket(app, demo, database, clock):
    """Eight requests with one key at the same moment (a retry while the first is still in
    flight): PostgreSQL makes the later ones wait on the unique index, then they answer the
    first one's ticket; SQLite serialises the writers."""
    threads, answers, lock = 8, [], threading.Lock()
    start = threading.Barrier(threads)

    def press() -> None:
        client = app.test_client()
        start.wait()
        r = _post(client, headers=_kiosk(demo), station_id=demo.kiosk_station_id)
        with lock:
            answers.append((r.status_code, r.get_json().get("id")))

    workers = [threading.Thread(target=press) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 7 + [201], answers
    assert len({ticket_id for _, ticket_id in answers}) == 1
    assert _counts(database) == (1, 1)

"""GET /api/v1/calendar/due-date against a hand-checked table, and the admin's yearly
schedules (GET/PUT/DELETE /api/v1/calendar/years/{year}) changing the answer."""

from __future__ import annotations

import pytest

# received_at (local), working days, cutoff, expected appointment day, why.
# Days off used below — 2026 (shipped, partial): Thu 1/1, Fri 2/1 (swapped, made up on
# Sat 10/1); Tết Mon 16 – Fri 20/2; Mon 27/4 (Giỗ Tổ on Sun 26/4); Thu 30/4, Fri 1/5;
# Mon 31/8 (swapped, made up on Sat 22/8), Tue 1/9, Wed 2/9; Tue 24/11.
# 2027 (Labour Code rules): Fri 1/1; Thu 4/2, Fri 5/2, Mon 8/2 – Wed 10/2 (Tết on the
# weekend, compensated); Fri 16/4; Fri 30/4, Mon 3/5 (1/5 on Sat); Thu 2/9, Fri 3/9; Wed 24/11.
TABLE = [
    ("2026-11-25T09:00", 0, None, "2026-11-25", "same day, working day"),
    ("2026-11-25T16:00", 0, "15:00", "2026-11-26", "same day after the cut-off"),
    ("2026-11-25T14:59", 0, "15:00", "2026-11-25", "one minute before the cut-off"),
    ("2026-11-23T10:00", 1, None, "2026-11-25", "Tue 24/11 is Ngày Văn hóa"),
    ("2026-11-20T16:00", 1, "15:00", "2026-11-25", "Fri after 15:00: deemed Mon, skip Tue"),
    ("2026-12-31T10:00", 1, None, "2027-01-04", "1/1/2027 off, across the year"),
    ("2026-12-30T10:00", 3, None, "2027-01-05", "Thu 31, Mon 4, Tue 5"),
    ("2026-01-02T10:00", 1, None, "2026-01-06", "received on a swapped day off: deemed Mon"),
    ("2026-01-09T10:00", 1, None, "2026-01-10", "the make-up Saturday is a working day"),
    ("2026-02-13T10:00", 1, None, "2026-02-23", "Tết 16–20/2"),
    ("2026-02-12T14:00", 3, None, "2026-02-24", "Fri 13, Mon 23, Tue 24"),
    ("2026-02-13T15:30", 0, "15:00", "2026-02-23", "same day after cut-off, before Tết"),
    ("2026-04-24T10:00", 1, None, "2026-04-28", "Mon 27/4 compensates Giỗ Tổ"),
    ("2026-04-29T10:00", 2, None, "2026-05-05", "30/4 and 1/5"),
    ("2026-04-29T15:00", 1, "15:00", "2026-05-05", "at the cut-off counts as after it"),
    ("2026-05-02T09:00", 1, None, "2026-05-05", "Saturday: deemed Mon 4/5"),
    ("2026-08-21T10:00", 1, None, "2026-08-22", "make-up Saturday 22/8"),
    ("2026-08-28T10:00", 1, None, "2026-09-03", "31/8 swapped, 1–2/9 National Day"),
    ("2026-08-28T10:00", 5, None, "2026-09-09", "3, 4, 7, 8, 9 September"),
    ("2027-02-03T10:00", 1, None, "2027-02-11", "Tết 2027: 4, 5, 8, 9, 10/2 off"),
    ("2027-02-01T09:00", 5, None, "2027-02-15", "2, 3, 11, 12, 15 February"),
    ("2027-04-15T10:00", 1, None, "2027-04-19", "Giỗ Tổ Fri 16/4/2027"),
    ("2027-04-29T16:00", 1, "15:00", "2027-05-05", "after cut-off Thu: 30/4, 3/5 off"),
    ("2027-09-01T10:00", 1, None, "2027-09-06", "2/9 and 3/9/2027"),
    ("2027-09-01T16:00", 0, "15:00", "2027-09-06", "same-day after cut-off before 2/9"),
    ("2026-11-25T20:00:00+00:00", 1, None, "2026-11-27", "an offset is converted: Thu 03:00"),
]


@pytest.mark.parametrize(("received", "days", "cutoff", "expected", "why"), TABLE)
def test_due_date_matches_the_hand_checked_table(client, received, days, cutoff, expected, why):
    params = {"received_at": received, "working_days": days}
    if cutoff:
        params["cutoff"] = cutoff
    r = client.get("/api/v1/calendar/due-date", query_string=params)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["due_date"] == expected, why
    assert body["working_days"] == days


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"received_at": "25/11/2026", "working_days": 1}, "received_at"),
        ({"received_at": "2026-11-25T09:00"}, "working_days"),
        ({"received_at": "2026-11-25T09:00", "working_days": -1}, "working_days"),
        ({"received_at": "2026-11-25T09:00", "working_days": "two"}, "working_days"),
        ({"received_at": "2026-11-25T09:00", "working_days": 1, "cutoff": "3pm"}, "cutoff"),
        ({"working_days": 1}, "received_at"),
    ],
)
def test_bad_input_is_422_with_a_clear_message(client, params, fragment):
    r = client.get("/api/v1/calendar/due-date", query_string=params)
    assert r.status_code == 422
    body = r.get_json()
    assert fragment in (body.get("message_en") or body["message"])
    assert body["message"]


def test_due_date_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/calendar/due-date"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"received_at", "working_days", "cutoff"} <= names


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_year_schedules_are_for_admins_only(client, staff_token):
    assert client.get("/api/v1/calendar/years/2026").status_code == 401
    r = client.get("/api/v1/calendar/years/2026", headers=_auth(staff_token))
    assert r.status_code == 403


def test_admin_edits_a_year_and_due_dates_follow(client, admin_token):
    headers = _auth(admin_token)
    r = client.get("/api/v1/calendar/years/2026", headers=headers)
    assert r.status_code == 200
    schedule = r.get_json()
    assert schedule["source"] == "shipped"
    assert any(d["date"] == "2026-11-24" for d in schedule["days_off"])

    # A decided swap: Mon 23/11 off, worked on Sat 14/11.
    schedule["days_off"].append(
        {"date": "2026-11-23", "name": "Nghỉ hoán đổi", "kind": "swapped", "source": "test"}
    )
    schedule["make_up_working_days"].append(
        {"date": "2026-11-14", "name": "Làm bù cho thứ Hai 23/11", "replaces": "2026-11-23"}
    )
    r = client.put("/api/v1/calendar/years/2026", json=schedule, headers=headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["source"] == "database"

    def due(received: str, days: int) -> str:
        q = {"received_at": received, "working_days": days}
        return client.get("/api/v1/calendar/due-date", query_string=q).get_json()["due_date"]

    assert due("2026-11-20T10:00", 1) == "2026-11-25"  # Mon 23 and Tue 24 off
    assert due("2026-11-13T10:00", 1) == "2026-11-14"  # the make-up Saturday
    assert client.get("/api/v1/calendar/years/2026", headers=headers).get_json()["source"] == (
        "database"
    )

    assert client.delete("/api/v1/calendar/years/2026", headers=headers).status_code == 204
    assert due("2026-11-20T10:00", 1) == "2026-11-23"
    assert client.delete("/api/v1/calendar/years/2026", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda s: s["days_off"].append({"date": "2027-01-01", "name": "x"}), "is not in 2026"),
        (lambda s: s["days_off"].append({"date": "2026-03-03"}), "'name'"),
        (lambda s: s.update(day_off=[]), "unknown key(s) day_off"),
        (lambda s: s["days_off"].append({"date": "2026-13-01", "name": "x"}), "YYYY-MM-DD"),
        (lambda s: s.update(year=2025), "2025"),
        (
            lambda s: s["make_up_working_days"].append({"date": "2026-03-04", "name": "Wed"}),
            "not a weekly rest day",
        ),
    ],
)
def test_invalid_schedules_are_422_with_the_calendar_message(client, admin_token, change, fragment):
    headers = _auth(admin_token)
    schedule = client.get("/api/v1/calendar/years/2026", headers=headers).get_json()
    change(schedule)
    r = client.put("/api/v1/calendar/years/2026", json=schedule, headers=headers)
    assert r.status_code == 422
    assert fragment in r.get_json()["message_en"]
    # nothing was stored
    assert client.get("/api/v1/calendar/years/2026", headers=headers).get_json()["source"] == (
        "shipped"
    )


def test_a_year_without_data_comes_from_the_labour_code(client, admin_token):
    r = client.get("/api/v1/calendar/years/2030", headers=_auth(admin_token))
    assert r.status_code == 200
    assert r.get_json()["source"] == "generated"
    assert r.get_json()["status"] == "generated"

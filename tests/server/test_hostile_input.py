"""Hostile input gets a 4xx with a bilingual JSON message, never a 500 (issue 11, item 5).

Each case here answered 500 before server/input_guard.py (SQLite: OverflowError past 2⁶³;
PostgreSQL: NumericValueOutOfRange past 2³¹−1 and "A string literal cannot contain NUL").
The app runs with PROPAGATE_EXCEPTIONS off, as in production, so a 500 is an answer here.
"""

from __future__ import annotations

import json

import pytest

from server.input_guard import MAX_DB_INT

HUGE = [MAX_DB_INT + 1, 2**64]


@pytest.fixture
def prod_client(app, demo):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.extensions["tthcc_limiter"].enabled = False
    return app.test_client()


def _bearer(client, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


@pytest.fixture
def admin_headers(prod_client) -> dict[str, str]:
    return _bearer(prod_client, "admin", "tthcc-admin")


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] and body["message"] and body["message_en"], body
    return body


@pytest.mark.parametrize("number", HUGE)
def test_ids_in_the_path_beyond_an_integer_column_are_404(prod_client, backend, number):
    for path in (
        f"/api/v1/tickets/{number}",
        f"/api/v1/counters/{number}",
        f"/api/v1/centres/{number}/catalog",
        f"/api/v1/procedures/{number}",
        f"/thu-tuc/{number}",
    ):
        assert_error(prod_client.get(path), 404)
    # the largest id the column holds is still looked up (and not found)
    assert_error(prod_client.get(f"/api/v1/tickets/{MAX_DB_INT}"), 404)


@pytest.mark.parametrize("number", HUGE)
def test_integers_beyond_an_integer_column_in_query_or_body_are_422(prod_client, backend, number):
    body = assert_error(prod_client.get(f"/api/v1/counters?centre_id={number}"), 422)
    assert "centre_id" in body["message_en"]
    body = assert_error(
        prod_client.post("/api/v1/ratings", json={"counter_id": number, "key": "5"}), 422
    )
    assert "counter_id" in body["message_en"]
    assert_error(prod_client.post("/api/v1/tickets", json={"service_id": number}), 422)
    # documented in the OpenAPI document, so clients (and schemathesis) know the bounds
    doc = prod_client.get("/api/v1/openapi.json").get_json()
    ticket_create = doc["components"]["schemas"]["TicketCreate"]["properties"]["service_id"]
    assert ticket_create["maximum"] == MAX_DB_INT
    [param] = doc["paths"]["/api/v1/tickets/{ticket_id}"]["parameters"]
    assert param["schema"]["maximum"] == MAX_DB_INT


@pytest.mark.parametrize("number", HUGE)
def test_pages_ignore_a_centre_number_beyond_an_integer_column(prod_client, backend, number):
    # ?centre= out of range is treated as absent: the default centre's page
    response = prod_client.get(f"/thu-tuc?centre={number}")
    assert response.status_code == 200
    assert "Thủ tục" in response.get_data(as_text=True)


def test_nul_characters_are_422_for_anonymous_callers(prod_client, backend):
    body = assert_error(prod_client.get("/api/v1/tickets/public/%00"), 422)
    assert "NUL" in body["message_en"]
    assert_error(
        prod_client.post("/api/v1/auth/token", json={"username": "admin\x00", "password": "x"}),
        422,
    )
    assert_error(
        prod_client.post(
            "/api/v1/feedback",
            json={"kind": "complaint", "content": "Quầy 3 \x00 chậm", "name": "A"},
        ),
        422,
    )
    assert_error(prod_client.get("/api/v1/procedures?q=a%00b"), 422)
    # an HTML form (the staff login page) refuses NUL the same way
    assert_error(
        prod_client.post("/supervisor/login", data={"username": "a\x00", "password": "b"}), 422
    )


def test_invalid_unicode_in_a_json_body_is_422(prod_client, backend):
    for raw in (
        b'{"username": "\\ud800", "password": "x"}',  # a lone surrogate escape
        b'{"username": "\xff\xfe", "password": "x"}',  # not UTF-8 at all
        b'{"\\udfff": 1, "username": "a", "password": "b"}',
    ):
        response = prod_client.post("/api/v1/auth/token", data=raw, content_type="application/json")
        assert_error(response, 422)


def test_deeply_nested_json_is_422_not_a_recursion_error(prod_client, backend, admin_headers):
    deep = "[" * 100_000 + "]" * 100_000
    body = '{"service_id": 1, "x": ' + deep + "}"
    assert_error(
        prod_client.post("/api/v1/tickets", data=body, content_type="application/json"), 422
    )
    nested: dict = {}
    for _ in range(40):
        nested = {"a": nested}
    response = prod_client.post(
        "/api/v1/admin/config/import",
        json={"config": nested, "code": "X"},
        headers=admin_headers,
    )
    assert "nested" in assert_error(response, 422)["message_en"]


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "42", "null", "true"])
def test_a_json_body_that_is_not_an_object_is_422(prod_client, backend, admin_headers, raw):
    for path in ("/api/v1/tickets", "/api/v1/auth/token", "/api/v1/admin/counters"):
        response = prod_client.post(
            path, data=raw, content_type="application/json", headers=admin_headers
        )
        assert_error(response, 422)
    response = prod_client.patch(
        "/api/v1/admin/counters/1", data=raw, content_type="application/json", headers=admin_headers
    )
    assert_error(response, 422)


def test_malformed_json_is_400(prod_client, backend):
    response = prod_client.post("/api/v1/tickets", data="{", content_type="application/json")
    assert_error(response, 400)


def test_a_body_over_the_limit_is_413_without_being_read(prod_client, backend, admin_headers):
    big = b'{"service_id": 1, "pad": "' + b"x" * (30 * 1024 * 1024) + b'"}'
    body = assert_error(
        prod_client.post("/api/v1/tickets", data=big, content_type="application/json"), 413
    )
    assert body["error"] == "payload_too_large"
    assert "quá lớn" in body["message"]
    # an import may be larger than an ordinary request (2 MiB here), up to its own limit
    padded = {"config": {"pad": "x" * (2 * 1024 * 1024)}, "code": "NEW"}
    response = prod_client.post("/api/v1/admin/config/import", json=padded, headers=admin_headers)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    huge = {"config": {"pad": "x" * (20 * 1024 * 1024)}, "code": "NEW"}
    response = prod_client.post("/api/v1/admin/config/import", json=huge, headers=admin_headers)
    assert_error(response, 413)


def test_every_error_is_json_with_both_languages(prod_client, backend):
    assert_error(prod_client.get("/no-such-page"), 404)
    assert_error(prod_client.get("/api/v1/no-such-thing"), 404)
    assert_error(prod_client.delete("/api/v1/centres"), 405)
    assert_error(prod_client.put("/api/v1/tickets/1"), 405)
    # a page form without its CSRF token is refused before routing: JSON too
    assert_error(prod_client.put("/thu-tuc"), 400)
    assert_error(prod_client.get("/api/v1/auth/me"), 401)


def test_a_taken_username_or_counter_number_is_409_naming_it(prod_client, backend, admin_headers):
    body = assert_error(
        prod_client.post(
            "/api/v1/admin/users",
            json={"username": "canbo1", "password": "12345678", "role": "staff"},
            headers=admin_headers,
        ),
        409,
    )
    assert "username" in body["message_en"] and "Tên đăng nhập" in body["message"]
    body = assert_error(
        prod_client.post(
            "/api/v1/admin/counters", json={"centre_id": 1, "number": 2}, headers=admin_headers
        ),
        409,
    )
    assert "number" in body["message_en"] and "Số quầy" in body["message"]
    # an update onto another row's code: the same
    body = assert_error(
        prod_client.patch("/api/v1/admin/counters/1", json={"number": 2}, headers=admin_headers),
        409,
    )
    assert "number" in body["message_en"]


def test_references_that_do_not_exist_are_422_naming_them(prod_client, backend, admin_headers):
    for station_id in (999_999, 2**40, 2**70):
        body = assert_error(
            prod_client.post(
                "/api/v1/admin/counters",
                json={"centre_id": 1, "number": 77, "station_id": station_id},
                headers=admin_headers,
            ),
            422,
        )
        assert "station_id" in body["message_en"]
    body = assert_error(
        prod_client.post(
            "/api/v1/admin/fields",
            json={"centre_id": 2**40, "code": "X", "name": "X"},
            headers=admin_headers,
        ),
        422,
    )
    assert "centre_id" in body["message_en"]


def test_an_unknown_time_zone_is_refused_for_a_centre(prod_client, backend, admin_headers):
    for zone in ("Mars/Olympus", "../../etc/passwd", "", "Asia/Ho_Chi_Minh\x00"):
        response = prod_client.patch(
            "/api/v1/admin/centres/1", json={"timezone": zone}, headers=admin_headers
        )
        assert response.status_code == 422, (zone, response.get_json())
    # the kiosk of that centre keeps working
    assert prod_client.get("/api/v1/centres/1/catalog").status_code == 200
    exported = prod_client.get(
        "/api/v1/admin/config/export?centre_id=1", headers=admin_headers
    ).get_json()
    exported["centre"]["timezone"] = "Nowhere/City"
    body = assert_error(
        prod_client.post(
            "/api/v1/admin/config/import",
            json={"config": exported, "code": "BN-NEW"},
            headers=admin_headers,
        ),
        422,
    )
    assert "timezone" in body["message_en"]
    ok = prod_client.patch(
        "/api/v1/admin/centres/1", json={"timezone": "Asia/Bangkok"}, headers=admin_headers
    )
    assert ok.status_code == 200 and ok.get_json()["timezone"] == "Asia/Bangkok"


def test_integrity_errors_name_their_columns_on_both_databases(database, backend):
    from sqlalchemy.exc import IntegrityError

    from server.db_errors import integrity_columns
    from server.models import Centre

    with database.transaction() as session:
        session.add(Centre(code="DUP", name="A"))
    session = database.session
    session.add(Centre(code="DUP", name="B"))
    with pytest.raises(IntegrityError) as caught:
        session.flush()
    session.rollback()
    assert integrity_columns(caught.value) == "code"


def test_the_error_body_has_no_stack_trace(prod_client, backend):
    response = prod_client.get("/api/v1/tickets/public/%00")
    assert "Traceback" not in json.dumps(response.get_json())

"""Admin pages: forms with CSRF tokens, the same audited services as the API."""

from __future__ import annotations

import io
import json
import re

import pytest


@pytest.fixture
def page(client, demo):
    html = client.get("/supervisor/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    r = client.post(
        "/supervisor/login",
        data={"username": "admin", "password": "tthcc-admin", "csrf_token": token},
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin")

    def post(path, **data):
        return client.post(path, data={"csrf_token": token, **data})

    post.client = client
    return post


def test_create_a_field_then_edit_it(page, demo):
    r = page("/admin/fields/new", centre_id=str(demo.centre_id), code="MT", name="Môi trường")
    assert r.status_code == 302
    edit_url = r.headers["Location"]
    html = page.client.get(edit_url).get_data(as_text=True)
    assert 'value="Môi trường"' in html
    # An unticked checkbox sends nothing: the field becomes inactive.
    r = page(edit_url, code="MT", name="Môi trường", position="9")
    assert r.status_code == 302
    rows = page.client.get("/admin/fields").get_data(as_text=True)
    assert "Môi trường" in rows
    audit = page.client.get("/admin/audit?entity=fields").get_data(as_text=True)
    assert "&#34;active&#34;: false" in audit or '"active": false' in audit


def test_a_form_error_is_shown_in_vietnamese(page, demo):
    r = page("/admin/fields/new", centre_id=str(demo.centre_id), code="", name="X")
    assert r.status_code == 422
    assert "bắt buộc" in r.get_data(as_text=True)


def test_counter_services_order_from_the_form(page, demo):
    services = page.client.get("/api/v1/services").get_json()
    a, b = services[0]["id"], services[4]["id"]
    r = page(
        "/admin/counters/new",
        centre_id=str(demo.centre_id),
        number="30",
        **{f"order_{b}": "1", f"order_{a}": "2"},
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    counter_id = int(r.headers["Location"].rsplit("/", 1)[1])
    counter = page.client.get(f"/api/v1/counters/{counter_id}").get_json()
    assert [s["id"] for s in counter["services"]] == [b, a]


def test_station_token_is_shown_once(page, demo):
    r = page(f"/admin/stations/{demo.kiosk_station_id}/token", action="issue")
    assert r.status_code == 200
    token = re.search(r'id="token">([^<]+)<', r.get_data(as_text=True)).group(1)
    assert len(token) > 20
    r = page(f"/admin/stations/{demo.kiosk_station_id}/token", action="revoke")
    assert r.status_code == 302


def test_config_download_and_import_from_a_file(page, demo):
    data = page.client.get(f"/admin/config/{demo.centre_id}.json").get_json()
    r = page.client.post(
        "/admin/config/import",
        data={
            "csrf_token": re.search(
                r'name="csrf_token" value="([^"]+)"',
                page.client.get("/admin/config").get_data(as_text=True),
            ).group(1),
            "code": "BN-DAPCAU",
            "subtitle": "PHƯỜNG ĐÁP CẦU",
            "file": (io.BytesIO(json.dumps(data).encode()), "config.json"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    centres = page.client.get("/api/v1/centres").get_json()
    assert any(c["code"] == "BN-DAPCAU" for c in centres)


def test_working_calendar_is_edited_and_audited(page, demo):
    html = page.client.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "Lịch làm việc năm 2027" in html
    current = page.client.get(
        "/api/v1/calendar/years/2027", headers={"Authorization": f"Bearer {_token(page)}"}
    ).get_json()
    current.pop("source")
    current["days_off"].append(
        {"date": "2027-12-24", "name": "Nghỉ thử", "kind": "holiday", "confirmed": False}
    )
    r = page("/admin/calendar", year="2027", action="save", data=json.dumps(current))
    assert r.status_code == 302, r.get_data(as_text=True)[-800:]
    html = page.client.get("/admin/calendar?year=2027").get_data(as_text=True)
    assert "Nghỉ thử" in html and "đã lưu bởi quản trị" in html
    audit = page.client.get("/admin/audit?entity=calendar").get_data(as_text=True)
    assert "Nghỉ thử" in audit
    r = page("/admin/calendar", year="2027", action="save", data="{not json")
    assert r.status_code == 422


def _token(page) -> str:
    r = page.client.post(
        "/api/v1/auth/token", json={"username": "admin", "password": "tthcc-admin"}
    )
    return r.get_json()["token"]


def test_a_province_viewer_reports_across_centres(client, demo, database):
    from server.services.auth import create_user

    with database.transaction() as session:
        create_user(session, username="tinh", password="xem-bao-cao-tinh", role="viewer")
    html = client.get("/supervisor/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    client.post(
        "/supervisor/login",
        data={"username": "tinh", "password": "xem-bao-cao-tinh", "csrf_token": token},
    )
    assert client.post("/api/v1/tickets", json={"service_id": 1}).status_code == 201
    r = client.get("/supervisor/reports?centre=all&period=day&by=centre")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Tất cả trung tâm" in html
    assert "/api/v1/reports/export?format=xlsx&period=day&amp;date=" in html  # no centre_id
    assert client.get("/supervisor/staff?centre=all").status_code == 200
    assert client.get("/admin").status_code == 403

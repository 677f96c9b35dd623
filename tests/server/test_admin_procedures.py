"""Administration of the procedure catalogue: create, edit, deactivate, each audited."""

from __future__ import annotations

import re

import pytest


def _audit(admin):
    return admin("GET", "/admin/audit?entity=procedures").get_json()


def _body(admin, **over):
    fields = admin("GET", "/admin/fields").get_json()
    services = admin("GET", "/admin/services").get_json()
    body = {
        "code": "9.999001",
        "name": "Cấp bản sao trích lục hộ tịch thử nghiệm",
        "field_id": fields[0]["id"],
        "service_id": services[0]["id"],
        "papers": [{"name": "Tờ khai", "originals": 1, "copies": 0}, {"name": "CCCD", "copies": 1}],
        "fee_text": "8.000 đồng/bản",
        "fee_amount": 8000,
        "processing_days": 3,
        "cutoff_15h": True,
        "legal_basis": "Luật Hộ tịch 2014",
        "result_place": "Bộ phận Một cửa",
        "agency": "UBND phường",
    }
    body.update(over)
    return body


def _public_names(client, q):
    r = client.get("/api/v1/procedures", query_string={"q": q})
    assert r.status_code == 200
    return [p["name"] for p in r.get_json()]


def test_create_update_deactivate_are_audited(admin, client, demo):
    r = admin("POST", "/admin/procedures", json=_body(admin))
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    pid = created["id"]
    assert created["centre_id"] == demo.centre_id and created["active"] is True
    assert created["papers"][1] == {"name": "CCCD", "originals": 1, "copies": 1, "note": ""}
    # The search folding column is written: found without diacritics, by its new name too.
    assert "Cấp bản sao trích lục hộ tịch thử nghiệm" in _public_names(client, "trich luc thu")
    detail = client.get(f"/api/v1/procedures/{pid}").get_json()
    assert detail["processing_text"] == "03 ngày làm việc" and detail["cutoff_15h"] is True

    r = admin("PATCH", f"/admin/procedures/{pid}", json={"name": "Trích lục đã đổi tên"})
    assert r.status_code == 200, r.get_json()
    # The old name is gone from the search (the tolerant search still finds "trích lục").
    assert "Cấp bản sao trích lục hộ tịch thử nghiệm" not in _public_names(client, "trich luc thu")
    assert _public_names(client, "thu nghiem") == []
    assert _public_names(client, "TRICH LUC DA DOI") == ["Trích lục đã đổi tên"]

    r = admin(
        "PUT", f"/admin/procedures/{pid}", json=_body(admin, same_day=True, processing_days=0)
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["same_day"] is True and r.get_json()["processing_days"] == 0

    assert admin("DELETE", f"/admin/procedures/{pid}").status_code == 204
    # Deactivated: gone from the public (the demo's own "trích lục" procedure remains).
    assert "Cấp bản sao trích lục hộ tịch thử nghiệm" not in _public_names(client, "trich luc thu")
    assert _public_names(client, "thu nghiem") == []
    listed = admin("GET", "/admin/procedures").get_json()
    assert any(p["id"] == pid and p["active"] is False for p in listed)  # the admin still sees it

    log = _audit(admin)
    assert [e["action"] for e in log[:4]] == ["deactivate", "update", "update", "create"]
    assert all(e["actor"] == "user:admin" and e["entity_id"] == pid for e in log[:4])
    assert log[0]["before"] == {"active": True} and log[0]["after"] == {"active": False}
    assert log[2]["before"] == {"name": "Cấp bản sao trích lục hộ tịch thử nghiệm"}
    assert log[2]["after"] == {"name": "Trích lục đã đổi tên"}
    assert log[1]["before"]["same_day"] is False and log[1]["after"]["same_day"] is True
    assert log[1]["after"]["processing_days"] == 0
    assert log[3]["before"] is None and log[3]["after"]["code"] == "9.999001"


@pytest.mark.parametrize(
    ("over", "key", "words"),
    [
        ({"code": ""}, "code", "Mã thủ tục"),
        ({"name": "   "}, "name", "Bắt buộc"),
        ({"processing_days": -1}, "processing_days", "0 đến 365"),
        ({"fee_amount": -5}, "fee_amount", "không được âm"),
        ({"papers": [{"copies": 1}]}, "papers", "Bắt buộc"),
        ({"papers": [{"name": "X", "copies": -1}]}, "papers", "bản sao"),
        ({"same_day": True, "processing_days": 5}, "processing_days", "trong ngày"),
        ({"field_id": None}, "field_id", ""),
    ],
)
def test_validation_is_422_with_a_message(admin, demo, over, key, words):
    r = admin("POST", "/admin/procedures", json=_body(admin, **over))
    assert r.status_code == 422, r.get_json()
    message = r.get_json()["message"]
    assert key in message and words in message


def test_references_and_duplicates_are_checked(admin, demo, database):
    from server.models import Centre, Field, Service

    with database.transaction() as session:
        other = Centre(code="KHAC", name="Trung tâm khác", timezone="Asia/Ho_Chi_Minh", settings={})
        session.add(other)
        session.flush()
        field = Field(centre_id=other.id, code="F", name="F", position=0)
        session.add(field)
        session.flush()
        service = Service(
            centre_id=other.id, field_id=field.id, code="S", name="S", range_start=1, range_end=9
        )
        session.add(service)
        session.flush()
        other_field, other_service = field.id, service.id
    r = admin("POST", "/admin/procedures", json=_body(admin, field_id=other_field))
    assert r.status_code == 422 and "Lĩnh vực" in r.get_json()["message"]
    r = admin("POST", "/admin/procedures", json=_body(admin, service_id=other_service))
    assert r.status_code == 422 and "Dịch vụ" in r.get_json()["message"]
    r = admin("POST", "/admin/procedures", json=_body(admin, code="1.001193"))
    assert r.status_code == 422 and "1.001193" in r.get_json()["message"]
    assert admin("PATCH", "/admin/procedures/999999", json={"name": "X"}).status_code == 404
    assert _audit(admin) == []


@pytest.mark.parametrize("who", ["staff", "supervisor", "anonymous"])
def test_only_admins(client, demo, who):
    headers = {}
    if who != "anonymous":
        username, password = {
            "staff": ("canbo1", "tthcc-canbo"),
            "supervisor": ("giamsat", "tthcc-giamsat"),
        }[who]
        r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
        headers = {"Authorization": f"Bearer {r.get_json()['token']}"}
    expected = 401 if who == "anonymous" else 403
    pid = client.get("/api/v1/procedures").get_json()[0]["id"]
    for method, path in (
        ("GET", "/admin/procedures"),
        ("POST", "/admin/procedures"),
        ("PUT", f"/admin/procedures/{pid}"),
        ("PATCH", f"/admin/procedures/{pid}"),
        ("DELETE", f"/admin/procedures/{pid}"),
    ):
        r = client.open("/api/v1" + path, method=method, headers=headers, json={"name": "X"})
        assert r.status_code == expected, (method, path, r.status_code)
    assert client.get(f"/api/v1/procedures/{pid}").get_json()["active"] is True


@pytest.fixture
def page(client, demo):
    html = client.get("/supervisor/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    r = client.post(
        "/supervisor/login",
        data={"username": "admin", "password": "tthcc-admin", "csrf_token": token},
    )
    assert r.status_code == 302

    def post(path, **data):
        return client.post(path, data={"csrf_token": token, **data})

    post.client = client
    return post


def test_pages_create_edit_and_deactivate(page, client, demo):
    listing = client.get("/admin/procedures").get_data(as_text=True)
    assert "Đăng ký khai sinh" in listing and 'id="rows"' in listing
    assert "Đăng ký khai sinh" in client.get("/admin/procedures?q=khai sinh").get_data(as_text=True)
    form = client.get("/admin/procedures/new").get_data(as_text=True)
    field_id = re.search(r'id="f-field_id" name="field_id">.*?value="(\d+)"', form, re.S).group(1)
    r = page(
        "/admin/procedures/new",
        code="9.888001",
        name="Thủ tục thêm từ trang",
        field_id=field_id,
        papers="Tờ khai | 1 | 0\nCCCD | 0 | 1 | bản chụp",
        processing_days="2",
        fee_amount="",
        active="1",
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    pid = int(r.headers["Location"].rsplit("/", 1)[1])
    detail = client.get(f"/api/v1/procedures/{pid}").get_json()
    assert detail["papers"][1] == {"name": "CCCD", "originals": 0, "copies": 1, "note": "bản chụp"}
    assert detail["processing_days"] == 2 and detail["fee_amount"] is None
    edit = client.get(f"/admin/procedures/{pid}").get_data(as_text=True)
    assert "CCCD | 0 | 1 | bản chụp" in edit and "Ngừng niêm yết" in edit

    r = page(
        f"/admin/procedures/{pid}",
        code="9.888001",
        name="Thủ tục đã sửa",
        field_id=field_id,
        processing_days="-3",
        active="1",
    )
    assert r.status_code == 422 and "0 đến 365" in r.get_data(as_text=True)
    r = page(
        f"/admin/procedures/{pid}",
        code="9.888001",
        name="Thủ tục đã sửa",
        field_id=field_id,
        same_day="1",
        active="1",
    )
    assert r.status_code == 302
    assert client.get(f"/api/v1/procedures/{pid}").get_json()["same_day"] is True
    assert "Thủ tục đã sửa" in [
        p["name"] for p in client.get("/api/v1/procedures?q=thu tuc da sua").get_json()
    ]
    r = page(f"/admin/procedures/{pid}/deactivate")
    assert r.status_code == 302
    assert "Thủ tục đã sửa" not in [
        p["name"] for p in client.get("/api/v1/procedures?q=thu tuc da sua").get_json()
    ]
    log = client.get("/api/v1/admin/audit?entity=procedures").get_json()
    assert [e["action"] for e in log] == ["deactivate", "update", "create"]
    assert log[1]["after"]["papers"] == [] and log[1]["after"]["same_day"] is True


def test_pages_are_for_admins_only(client, demo):
    assert client.get("/admin/procedures").status_code == 302  # to the login page

"""Administration API: CRUD with audit, passwords, station tokens, config export/import."""

from __future__ import annotations


def _audit(admin, entity=None):
    return admin("GET", "/admin/audit" + (f"?entity={entity}" if entity else "")).get_json()


def test_service_crud_is_audited_before_and_after(admin, demo):
    fields = admin("GET", "/admin/fields").get_json()
    body = {
        "centre_id": demo.centre_id,
        "field_id": fields[0]["id"],
        "code": "HT9",
        "name": "Dịch vụ thử",
        "prefix": "H",
        "range_start": 100,
        "range_end": 199,
        "priority_policy": "strict",
        "wait_threshold_minutes": 20,
    }
    r = admin("POST", "/admin/services", json=body)
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["interleave_every"] == 3 and created["active"] is True
    r = admin("PATCH", f"/admin/services/{created['id']}", json={"wait_threshold_minutes": 45})
    assert r.status_code == 200 and r.get_json()["wait_threshold_minutes"] == 45
    log = _audit(admin, "services")
    assert [e["action"] for e in log[:2]] == ["update", "create"]
    assert log[0]["before"] == {"wait_threshold_minutes": 20}
    assert log[0]["after"] == {"wait_threshold_minutes": 45}
    assert log[0]["actor"] == "user:admin"
    assert admin("DELETE", f"/admin/services/{created['id']}").status_code == 204
    assert _audit(admin, "services")[0]["action"] == "delete"


def test_validation_errors_are_422_in_vietnamese(admin, demo):
    fields = admin("GET", "/admin/fields").get_json()
    r = admin(
        "POST",
        "/admin/services",
        json={
            "centre_id": demo.centre_id,
            "field_id": fields[0]["id"],
            "code": "X",
            "name": "X",
            "range_start": 500,
            "range_end": 100,
        },
    )
    assert r.status_code == 422
    assert "Số đầu" in r.get_json()["message"]
    r = admin("POST", "/admin/services", json={"centre_id": demo.centre_id})
    assert r.status_code == 422
    r = admin(
        "POST", "/admin/fields", json={"centre_id": demo.centre_id, "code": "HT", "name": "Trùng"}
    )
    assert r.status_code == 409  # duplicate code in the centre, named
    assert "code" in r.get_json()["message_en"] and "Mã «HT»" in r.get_json()["message"]
    assert admin("GET", "/admin/nothing").status_code == 404


def test_a_service_with_tickets_cannot_be_deleted(admin, client, demo):
    services = admin("GET", "/admin/services").get_json()
    sid = services[0]["id"]
    assert client.post("/api/v1/tickets", json={"service_id": sid}).status_code == 201
    r = admin("DELETE", f"/admin/services/{sid}")
    assert r.status_code == 409
    assert "Đang dùng" in r.get_json()["message"]


def test_counter_services_keep_their_order(admin, demo):
    services = [s["id"] for s in admin("GET", "/admin/services").get_json()]
    r = admin(
        "POST",
        "/admin/counters",
        json={"centre_id": demo.centre_id, "number": 20, "services": [services[3], services[0]]},
    )
    assert r.status_code == 201, r.get_json()
    counter = r.get_json()
    assert counter["services"] == [services[3], services[0]]
    r = admin("PATCH", f"/admin/counters/{counter['id']}", json={"services": [services[0]]})
    assert r.get_json()["services"] == [services[0]]
    assert _audit(admin, "counters")[0]["after"] == {"services": [services[0]]}


def test_users_passwords_and_roles(admin, client, demo):
    r = admin(
        "POST",
        "/admin/users",
        json={
            "username": "canbo9",
            "full_name": "Cán bộ mới",
            "role": "staff",
            "centre_id": demo.centre_id,
            "password": "mat-khau-moi",
        },
    )
    assert r.status_code == 201, r.get_json()
    uid = r.get_json()["id"]
    assert "password" not in str(_audit(admin, "users")[0])
    login = client.post(
        "/api/v1/auth/token", json={"username": "canbo9", "password": "mat-khau-moi"}
    )
    token = login.get_json()["token"]
    assert (
        admin("POST", f"/admin/users/{uid}/password", json={"password": "short"}).status_code == 422
    )
    assert (
        admin(
            "POST", f"/admin/users/{uid}/password", json={"password": "mat-khau-khac"}
        ).status_code
        == 204
    )
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert _audit(admin, "users")[0]["action"] == "reset_password"
    assert admin("PATCH", f"/admin/users/{uid}", json={"role": "boss"}).status_code == 422


def test_station_tokens_issue_and_revoke(admin, client, demo):
    stations = admin("GET", "/admin/stations").get_json()
    display = next(s for s in stations if s["code"] == "DISPLAY-1")
    r = admin("POST", f"/admin/stations/{display['id']}/token")
    assert r.status_code == 200 and len(r.get_json()["token"]) > 20
    assert admin("GET", f"/admin/stations/{display['id']}").get_json()["token_active"] is True
    assert admin("DELETE", f"/admin/stations/{display['id']}/token").status_code == 204
    assert admin("GET", f"/admin/stations/{display['id']}").get_json()["token_active"] is False
    assert [e["action"] for e in _audit(admin, "stations")[:2]] == ["revoke_token", "issue_token"]


def test_rating_scale_and_notice_are_centre_settings(admin, client, demo):
    r = admin(
        "PATCH",
        f"/admin/centres/{demo.centre_id}",
        json={"rating_scale": 3, "notice": "Nghỉ trưa 11h30"},
    )
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["rating_scale"], r.get_json()["notice"]) == (3, "Nghỉ trưa 11h30")
    snap = client.get(f"/api/v1/centres/{demo.centre_id}/snapshot").get_json()
    assert snap["centre"]["notice"] == "Nghỉ trưa 11h30"
    assert (
        admin("PATCH", f"/admin/centres/{demo.centre_id}", json={"rating_scale": 7}).status_code
        == 422
    )


def test_config_export_then_import_makes_a_second_centre(admin, demo):
    r = admin("GET", f"/admin/config/export?centre_id={demo.centre_id}")
    assert r.status_code == 200
    assert "tthcc-config-BN-KINHBAC.json" in r.headers["Content-Disposition"]
    config = r.get_json()
    assert config["format"] == "tthcc-config"
    assert "users" not in config and all("token" not in s for s in config["stations"])
    r = admin(
        "POST",
        "/admin/config/import",
        json={"config": config, "code": "BN-VUNINH", "subtitle": "PHƯỜNG VŨ NINH"},
    )
    assert r.status_code == 201, r.get_json()
    new_id = r.get_json()["id"]
    again = admin("GET", f"/admin/config/export?centre_id={new_id}").get_json()
    for key in ("fields", "services", "priority_categories", "agencies", "counters", "stations"):
        assert again[key] == config[key], key
    assert again["centre"]["subtitle"] == "PHƯỜNG VŨ NINH"
    assert (
        admin(
            "POST", "/admin/config/import", json={"config": config, "code": "BN-VUNINH"}
        ).status_code
        == 422
    )
    assert (
        admin(
            "POST", "/admin/config/import", json={"config": {"format": "x"}, "code": "Y"}
        ).status_code
        == 422
    )
    assert _audit(admin, "centres")[0]["action"] == "import"


def test_a_centre_admin_administers_only_their_centre(admin, client, demo):
    other = admin(
        "POST", "/admin/centres", json={"code": "KHAC", "name": "Trung tâm khác"}
    ).get_json()
    r = admin(
        "POST",
        "/admin/users",
        json={
            "username": "qt-kb",
            "role": "admin",
            "centre_id": demo.centre_id,
            "password": "quan-tri-kb",
        },
    )
    assert r.status_code == 201
    token = client.post(
        "/api/v1/auth/token", json={"username": "qt-kb", "password": "quan-tri-kb"}
    ).get_json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    centres = client.get("/api/v1/admin/centres", headers=h).get_json()
    assert [c["id"] for c in centres] == [demo.centre_id]
    assert client.get(f"/api/v1/admin/centres/{other['id']}", headers=h).status_code == 404
    r = client.post(
        "/api/v1/admin/fields", headers=h, json={"centre_id": other["id"], "code": "Z", "name": "Z"}
    )
    assert r.status_code == 403
    r = client.post(
        "/api/v1/admin/users",
        headers=h,
        json={"username": "tinh", "role": "viewer", "password": "xem-bao-cao"},
    )
    assert r.status_code == 403

"""Failed logins, logins, token issue/revoke, role and password changes are in the audit
log (issue 11, item 7)."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.models import AuditEntry, Station


def _entries(database, **where) -> list[AuditEntry]:
    session = database.session
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, key) == value)
    rows = list(session.execute(stmt).scalars())
    session.rollback()
    return rows


def test_failed_logins_are_audited_with_the_name_tried_and_the_address(
    app, client, database, demo, backend
):
    client.post("/api/v1/auth/token", json={"username": "admin", "password": "guess-1"})
    client.post("/api/v1/auth/login", json={"username": "nobody", "password": "guess-2"})
    page = client.get("/supervisor/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(
        "/supervisor/login", data={"username": "giamsat", "password": "x", "csrf_token": csrf}
    )
    failed = _entries(database, action="login_failed")
    assert [(e.after["username"], e.after["via"]) for e in failed] == [
        ("admin", "token"),
        ("nobody", "session"),
        ("giamsat", "page"),
    ]
    assert all(e.actor == "anonymous" and e.after["ip"] == "127.0.0.1" for e in failed)
    assert all("guess" not in str(e.after) for e in failed)  # never the password tried
    # shown to the administrator
    admin = client.post(
        "/api/v1/auth/token", json={"username": "admin", "password": "tthcc-admin"}
    ).get_json()["token"]
    log = client.get(
        "/api/v1/admin/audit?entity=auth", headers={"Authorization": f"Bearer {admin}"}
    ).get_json()
    assert {"login_failed", "issue_token"} <= {e["action"] for e in log}


def test_tokens_issued_and_revoked_and_sessions_are_audited(client, database, demo, backend):
    token = client.post(
        "/api/v1/auth/token", json={"username": "canbo1", "password": "tthcc-canbo"}
    ).get_json()["token"]
    client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    client.post("/api/v1/auth/login", json={"username": "canbo2", "password": "tthcc-canbo"})
    client.post("/api/v1/auth/logout")
    actions = [(e.actor, e.action) for e in _entries(database, entity="auth")]
    assert actions == [
        ("user:canbo1", "issue_token"),
        ("user:canbo1", "revoke_token"),
        ("user:canbo2", "login"),
        ("user:canbo2", "logout"),
    ]


def test_password_and_role_changes_are_audited(client, database, demo, admin_token, backend):
    admin = {"Authorization": f"Bearer {admin_token}"}
    users = client.get("/api/v1/admin/users", headers=admin).get_json()
    canbo3 = next(u for u in users if u["username"] == "canbo3")
    client.patch(f"/api/v1/admin/users/{canbo3['id']}", json={"role": "supervisor"}, headers=admin)
    client.post(
        f"/api/v1/admin/users/{canbo3['id']}/password",
        json={"password": "reset-1234"},
        headers=admin,
    )
    token = client.post(
        "/api/v1/auth/token", json={"username": "canbo1", "password": "tthcc-canbo"}
    ).get_json()["token"]
    mine = {"Authorization": f"Bearer {token}"}
    client.post(
        "/api/v1/auth/password",
        json={"current_password": "nope-nope", "new_password": "a-new-password"},
        headers=mine,
    )
    client.post(
        "/api/v1/auth/password",
        json={"current_password": "tthcc-canbo", "new_password": "a-new-password"},
        headers=mine,
    )
    [role] = [e for e in _entries(database, entity="users", action="update")]
    assert role.entity_id == canbo3["id"]
    assert (role.before, role.after) == ({"role": "staff"}, {"role": "supervisor"})
    assert [e.entity_id for e in _entries(database, action="reset_password")] == [canbo3["id"]]
    own = _entries(database, entity="auth")
    assert [e.action for e in own if e.actor == "user:canbo1"][-2:] == [
        "change_password_refused",
        "change_password",
    ]


def test_station_tokens_from_the_admin_api_and_the_cli_are_audited(
    app, client, database, demo, admin_token, backend
):
    admin = {"Authorization": f"Bearer {admin_token}"}
    client.post(f"/api/v1/admin/stations/{demo.kiosk_station_id}/token", headers=admin)
    client.delete(f"/api/v1/admin/stations/{demo.kiosk_station_id}/token", headers=admin)
    session = database.session
    code = session.get(Station, demo.kiosk_station_id).code
    session.rollback()
    from server.cli import cli

    runner = app.test_cli_runner()  # runs our command group against this app
    assert runner.invoke(cli, ["station", "token", code]).exit_code == 0
    assert runner.invoke(cli, ["station", "revoke", code]).exit_code == 0
    rows = _entries(database, entity="stations")
    assert [(e.actor, e.action) for e in rows] == [
        ("user:admin", "issue_token"),
        ("user:admin", "revoke_token"),
        ("cli", "issue_token"),
        ("cli", "revoke_token"),
    ]

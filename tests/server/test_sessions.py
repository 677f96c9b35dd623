"""Sessions end on the server: a cookie copied before logout or a password change stops
working, and so do bearer tokens on a password change (issue 11, item 4)."""

from __future__ import annotations

import re

import pytest


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    """Another browser holding a copy of the cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def _api_login(client, username="canbo1", password="tthcc-canbo"):
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.get_json()
    return r


def _page_login(client, username="giamsat", password="tthcc-giamsat"):
    page = client.get("/supervisor/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post(
        "/supervisor/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert r.status_code == 302
    # the login starts a new session: the logout form carries the new CSRF token
    page = client.get("/supervisor").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_cookie_copied_before_api_logout_stops_working(app, client, demo, backend):
    _api_login(client)
    copy = _cookie(client)
    assert _replay(app, copy).get("/api/v1/auth/me").status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401
    assert _replay(app, copy).get("/api/v1/auth/me").status_code == 401


def test_a_cookie_copied_before_page_logout_stops_working(app, client, demo, backend):
    csrf = _page_login(client)
    copy = _cookie(client)
    assert _replay(app, copy).get("/supervisor").status_code == 200
    r = client.post("/supervisor/logout", data={"csrf_token": csrf})
    assert r.status_code == 302
    r = _replay(app, copy).get("/supervisor")
    assert r.status_code == 302 and "/supervisor/login" in r.headers["Location"]


def test_logging_out_one_browser_keeps_the_other_logged_in(app, demo, backend):
    counter_pc, phone = app.test_client(), app.test_client()
    _api_login(counter_pc)
    _api_login(phone)
    counter_pc.post("/api/v1/auth/logout")
    assert phone.get("/api/v1/auth/me").status_code == 200


def test_a_password_change_ends_every_session_and_token(app, client, demo, backend):
    other_browser = app.test_client()
    _api_login(other_browser)
    copy = _cookie(other_browser)
    token = client.post(
        "/api/v1/auth/token", json={"username": "canbo1", "password": "tthcc-canbo"}
    ).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    _api_login(client)
    r = client.post(
        "/api/v1/auth/password",
        json={"current_password": "wrong-one", "new_password": "a-new-password"},
    )
    assert r.status_code == 403 and r.get_json()["message_en"]
    r = client.post(
        "/api/v1/auth/password",
        json={"current_password": "tthcc-canbo", "new_password": "a-new-password"},
    )
    assert r.status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 200  # this browser: a fresh session
    assert other_browser.get("/api/v1/auth/me").status_code == 401
    assert _replay(app, copy).get("/api/v1/auth/me").status_code == 401
    assert app.test_client().get("/api/v1/auth/me", headers=bearer).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/token", json={"username": "canbo1", "password": "a-new-password"}
        ).status_code
        == 200
    )


def test_a_password_changed_with_a_bearer_token_ends_that_token_too(client, demo, backend):
    token = client.post(
        "/api/v1/auth/token", json={"username": "canbo1", "password": "tthcc-canbo"}
    ).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    r = client.post(
        "/api/v1/auth/password",
        json={"current_password": "tthcc-canbo", "new_password": "short"},
        headers=bearer,
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/auth/password",
        json={"current_password": "tthcc-canbo", "new_password": "another-password"},
        headers=bearer,
    )
    assert r.status_code == 204
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401


def test_an_admin_password_reset_ends_the_users_browser_sessions(
    app, client, demo, admin_token, backend
):
    staff = app.test_client()
    _api_login(staff)
    me = staff.get("/api/v1/auth/me").get_json()["user"]
    r = client.post(
        f"/api/v1/admin/users/{me['id']}/password",
        json={"password": "reset-by-admin"},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert r.status_code == 204
    assert staff.get("/api/v1/auth/me").status_code == 401


def test_a_deactivated_user_loses_the_session_at_once(app, client, demo, admin_token, backend):
    staff = app.test_client()
    _api_login(staff)
    me = staff.get("/api/v1/auth/me").get_json()["user"]
    client.patch(
        f"/api/v1/admin/users/{me['id']}",
        json={"active": False},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert staff.get("/api/v1/auth/me").status_code == 401


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_cookies_are_secure_when_the_public_url_is_https(
    tmp_path, demo, database_url, backend, scheme
):
    from server.app import create_app
    from server.config import Config

    app = create_app(
        Config.from_env(
            {},
            instance_path=tmp_path / "other",
            database_url=database_url,
            secret_key="s",
            testing=True,
            public_url=f"{scheme}://tthcc.example.vn",
        )
    )
    r = app.test_client().post(
        "/api/v1/auth/login",
        json={"username": "canbo1", "password": "tthcc-canbo"},
        base_url=f"{scheme}://tthcc.example.vn",
    )
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("Secure" in cookie) is (scheme == "https")
    hsts = r.headers.get("Strict-Transport-Security")
    assert (hsts is not None) is (scheme == "https")
    app.extensions["tthcc_db"].dispose()

"""Log in: bearer tokens for API clients, a session cookie for pages."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort

from server.api.schemas import LoginResponse, PasswordChange, TokenRequest, TokenResponse
from server.api.security import (
    audit_auth,
    bearer_token,
    log_in,
    log_out,
    refuse_login,
    require_user,
)
from server.domain.clock import utcnow
from server.runtime import db
from server.services.auth import TOKEN_LIFETIME, authenticate, change_password, issue_token

blp = Blueprint("auth", __name__, description="Staff authentication")


def _user_view(user) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "centre_id": user.centre_id,
    }


@blp.route("/auth/token")
class TokenView(MethodView):
    @blp.arguments(TokenRequest)
    @blp.response(200, TokenResponse)
    @blp.alt_response(401, description="Wrong username or password")
    def post(self, body: dict) -> dict:
        """Exchange username and password for a bearer token (12 h)."""
        session = db().session
        user = authenticate(session, body["username"], body["password"])
        if user is None:
            refuse_login(body["username"], "token")
            abort(401, message="Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password.")
        token = issue_token(session, user, utcnow())
        audit_auth("issue_token", user, how="bearer")
        session.commit()
        return {
            "token": token,
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "user": _user_view(user),
        }


@blp.route("/auth/login")
class LoginView(MethodView):
    @blp.arguments(TokenRequest)
    @blp.response(200, LoginResponse)
    @blp.alt_response(401, description="Wrong username or password")
    def post(self, body: dict) -> dict:
        """Log in with a session cookie (pages)."""
        user = authenticate(db().session, body["username"], body["password"])
        if user is None:
            refuse_login(body["username"], "session")
            abort(401, message="Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password.")
        log_in(user)
        return {"user": _user_view(user)}


@blp.route("/auth/logout")
class LogoutView(MethodView):
    @blp.response(204)
    def post(self) -> None:
        """End the session (on the server: a copy of the cookie stops working), and revoke
        the bearer token the request carries."""
        log_out()


@blp.route("/auth/password")
class PasswordView(MethodView):
    @require_user()  # above the parsing: an anonymous caller learns nothing about the body
    @blp.arguments(PasswordChange)
    @blp.response(204)
    @blp.alt_response(403, description="The current password is wrong")
    def post(self, body: dict) -> None:
        """Change your own password. Every session and bearer token of yours ends, on every
        device; a browser that changed it stays logged in with a new session."""
        session = db().session
        user = current_user._get_current_object()
        if authenticate(session, user.username, body["current_password"]) is None:
            audit_auth("change_password_refused", user)
            session.commit()
            abort(403, message="Mật khẩu hiện tại không đúng. / The current password is wrong.")
        with_cookie = bearer_token() is None
        change_password(session, user, body["new_password"])
        audit_auth("change_password", user)
        session.commit()
        if with_cookie:
            log_in(user)


@blp.route("/auth/me")
class MeView(MethodView):
    @blp.response(200, LoginResponse)
    @require_user()
    def get(self) -> dict:
        """Who the session cookie or bearer token belongs to (401 when it has expired)."""
        return {"user": _user_view(current_user)}

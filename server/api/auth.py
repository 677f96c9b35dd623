"""Log in: bearer tokens for API clients, a session cookie for pages."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user, login_user, logout_user
from flask_smorest import Blueprint, abort

from server.api.schemas import LoginResponse, TokenRequest, TokenResponse
from server.api.security import bearer_token, require_user
from server.domain.clock import utcnow
from server.runtime import db
from server.services.auth import TOKEN_LIFETIME, authenticate, issue_token, revoke_token

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
            abort(401, message="Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password.")
        token = issue_token(session, user, utcnow())
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
            abort(401, message="Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password.")
        login_user(user)
        return {"user": _user_view(user)}


@blp.route("/auth/logout")
class LogoutView(MethodView):
    @blp.response(204)
    def post(self) -> None:
        """End the session cookie, and revoke the bearer token the request carries."""
        token = bearer_token()
        if token:
            session = db().session
            revoke_token(session, token)
            session.commit()
        logout_user()


@blp.route("/auth/me")
class MeView(MethodView):
    @blp.response(200, LoginResponse)
    @require_user()
    def get(self) -> dict:
        """Who the session cookie or bearer token belongs to (401 when it has expired)."""
        return {"user": _user_view(current_user)}

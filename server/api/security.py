"""Who is calling: a staff session cookie, a staff bearer token, or a station token."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from flask_login import current_user
from flask_smorest import abort

from server.domain.clock import utcnow
from server.models import Counter, Role, Station, User
from server.runtime import db
from server.services.auth import station_for_token, user_for_token

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def load_user_from_request(req: Any) -> User | None:
    """Flask-Login request loader: a staff bearer token."""
    token = bearer_token()
    if token is None:
        return None
    return user_for_token(db().session, token, utcnow())


def current_station() -> Station | None:
    if "station" not in g:
        token = bearer_token()
        g.station = station_for_token(db().session, token) if token else None
    return g.station


def require_user(*roles: Role) -> Callable[[F], F]:
    """Refuse with 401 (not logged in) or 403 (wrong role) before the view runs."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                abort(401, message="Vui lòng đăng nhập. / Please log in (session or bearer token).")
            if roles and not current_user.has_role(*roles):
                abort(
                    403,
                    message="Bạn không có quyền thực hiện thao tác này. / Not allowed for your role.",
                )
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def can_operate_counter(counter: Counter) -> bool:
    """Admins and supervisors may operate any counter of their scope; staff a free or own one.

    A station (call keypad) may operate the counters of its centre.
    """
    if not current_user.is_authenticated:
        station = current_station()
        if station is None:
            return False
        return station.centre_id == counter.centre_id and station.token_revoked_at is None
    user: User = current_user  # type: ignore[assignment]
    if user.role == Role.ADMIN:
        return True
    if user.centre_id is not None and user.centre_id != counter.centre_id:
        return False
    if user.role == Role.SUPERVISOR:
        return True
    if user.role == Role.STAFF:
        return counter.staff_id in (None, user.id)
    return False


def require_counter_operator(counter: Counter) -> None:
    if not current_user.is_authenticated and current_station() is None:
        abort(401, message="Vui lòng đăng nhập. / Please log in (session or bearer token).")
    if not can_operate_counter(counter):
        abort(
            403,
            message=f"Quầy {counter.number} đang do cán bộ khác phụ trách. / "
            "This counter is operated by someone else.",
        )


def actor_name() -> tuple[str, int | None]:
    if current_user.is_authenticated:
        return f"user:{current_user.username}", current_user.id
    station = current_station()
    if station is not None:
        return f"station:{station.code}", None
    return "anonymous", None


#: Who may read reports, scorecards and the live supervision page.
READ_ROLES = (Role.SUPERVISOR, Role.ADMIN, Role.VIEWER)


def scoped_centre_ids(centre_id: int | None) -> list[int]:
    """The centres the current user may read, narrowed to `centre_id` when one is asked for.

    A user attached to a centre (staff, supervisor) sees only that centre: asking for
    another is refused with 403. A user with no centre (the administrator, a province
    viewer) sees every centre; with no `centre_id`, all of them.
    """
    user: User = current_user  # type: ignore[assignment]
    session = db().session
    if user.centre_id is not None:
        if centre_id is not None and centre_id != user.centre_id:
            abort(
                403,
                message="Bạn chỉ xem được số liệu của trung tâm mình. / "
                "You may only read your own centre.",
            )
        return [user.centre_id]
    if centre_id is not None:
        from server.services.hall import centre_or_404

        return [centre_or_404(session, centre_id).id]
    from sqlalchemy import select

    from server.models import Centre

    return list(session.execute(select(Centre.id).order_by(Centre.id)).scalars())


def require_centre_access(centre_id: int) -> None:
    """403 unless the current user may read `centre_id` (see scoped_centre_ids)."""
    scoped_centre_ids(centre_id)


# --- hardening: login rate limit, CSRF on forms, Origin check on cookie JSON writes ------

#: Failed logins allowed per client address (Flask-Limiter syntax); TTHCC_LOGIN_RATE_LIMIT.
DEFAULT_LOGIN_RATE_LIMIT = "10 per minute"
LOGIN_ENDPOINTS = ("auth.TokenView", "auth.LoginView", "web_supervisor.login")
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_hardening(app: Any) -> None:
    """Rate-limit failed logins, require CSRF tokens on HTML forms, and refuse cross-site
    JSON writes that ride on the session cookie.

    The JSON API is exempt from CSRF tokens: a bearer token cannot be sent by another
    site, and cookie-authenticated writes need the SameSite=Lax cookie *and* an Origin (or
    Referer) of this host when the browser sends one.
    """
    import os

    from flask import request
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address
    from flask_wtf.csrf import CSRFProtect

    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session
    csrf = CSRFProtect(app)
    config = app.config["TTHCC"]
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=config.redis_url or "memory://",
        default_limits=[],
        headers_enabled=False,
    )
    app.extensions["tthcc_limiter"] = limiter
    login_limit = limiter.shared_limit(
        os.environ.get("TTHCC_LOGIN_RATE_LIMIT", DEFAULT_LOGIN_RATE_LIMIT),
        scope="login",
        methods=["POST"],
        deduct_when=lambda response: response.status_code == 401,
        error_message="Đăng nhập sai quá nhiều lần, vui lòng thử lại sau ít phút. / "
        "Too many failed logins: try again in a few minutes.",
    )
    for endpoint in LOGIN_ENDPOINTS:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = login_limit(app.view_functions[endpoint])

    @app.before_request
    def _csrf_and_origin() -> None:
        if request.method not in _UNSAFE:
            return
        if not request.path.startswith("/api/"):
            csrf.protect()  # HTML forms: the token from {{ csrf_token() }}
            return
        if bearer_token() is not None or "session" not in request.cookies:
            return
        origin = request.headers.get("Origin") or request.headers.get("Referer")
        if origin is None:
            return  # not a browser: a cross-site page cannot send the cookie without one
        from urllib.parse import urlsplit

        if urlsplit(origin).netloc != request.host:
            abort(
                403,
                message="Yêu cầu từ trang khác bị từ chối. / Cross-site request refused.",
            )


#: Who may act on counters and tickets (a viewer only reads).
OPERATOR_ROLES = (Role.STAFF, Role.SUPERVISOR, Role.ADMIN)


def require_operator(view: F) -> F:
    """401 unless a user or a station token is calling; 403 for a user who only reads.

    Put it above the argument parsing, so an anonymous caller learns nothing about ids or
    bodies; the counter-level check (require_counter_operator) still follows in the view.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user.is_authenticated:
            if not current_user.has_role(*OPERATOR_ROLES):
                abort(
                    403,
                    message="Bạn không có quyền thực hiện thao tác này. / Not allowed for your role.",
                )
        elif current_station() is None:
            abort(401, message="Vui lòng đăng nhập. / Please log in (session or bearer token).")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]

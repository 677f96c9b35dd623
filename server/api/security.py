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


def audit_auth(action: str, user: User | None, *, username: str = "", how: str = "") -> None:
    """Record a login, a failed login, a logout or a token issued/revoked (not committed).

    Failed logins keep the name that was tried (cut to 80 characters) and the address."""
    from flask import request

    from server.services import audit

    after: dict[str, Any] = {"ip": request.remote_addr or ""}
    if how:
        after["via"] = how
    if user is None:
        after["username"] = username[:80]
    audit.record(
        db().session,
        user=user,
        entity="auth",
        action=action,
        now=utcnow(),
        entity_id=user.id if user is not None else None,
        centre_id=user.centre_id if user is not None else None,
        after=after,
        actor=None if user is not None else "anonymous",
    )


def refuse_login(username: str, how: str) -> None:
    """Audit a failed login (committed: the 401 that follows rolls nothing back)."""
    audit_auth("login_failed", None, username=username, how=how)
    db().session.commit()


def log_in(user: User) -> None:
    """Start a server-side session for `user` and keep its id in the signed cookie."""
    from flask import current_app
    from flask import session as cookie
    from flask_login import login_user

    from server.services.auth import start_session

    lifetime = current_app.permanent_session_lifetime
    csrf = cookie.get("csrf_token")  # a form opened before the login still submits
    cookie.clear()  # nothing else from before the login carries over (session fixation)
    if csrf:
        cookie["csrf_token"] = csrf
    sid = start_session(db().session, user, utcnow(), lifetime)
    audit_auth("login", user, how="session")
    db().session.commit()
    cookie["sid"] = sid
    cookie.permanent = True  # expires after PERMANENT_SESSION_LIFETIME without activity
    login_user(user)


def log_out() -> None:
    """End the cookie's server-side session (a copy of the cookie stops working) and the
    bearer token the request carries, if any."""
    from flask import session as cookie
    from flask_login import logout_user

    from server.services.auth import end_session, revoke_token

    session = db().session
    user = current_user._get_current_object() if current_user.is_authenticated else None
    sid = cookie.pop("sid", None)
    if sid:
        end_session(session, sid)
        if user is not None:
            audit_auth("logout", user, how="session")
    token = bearer_token()
    if token:
        revoke_token(session, token)
        if user is not None:
            audit_auth("revoke_token", user, how="bearer")
    session.commit()
    logout_user()


def user_from_session(user_id: str) -> User | None:
    """Flask-Login user loader: the cookie's session must still exist on the server."""
    from flask import current_app
    from flask import session as cookie

    from server.services.auth import user_for_session

    sid = cookie.get("sid")
    if not isinstance(sid, str) or not sid:
        return None
    user = user_for_session(db().session, sid, utcnow(), current_app.permanent_session_lifetime)
    return user if user is not None and str(user.id) == user_id else None


def current_station() -> Station | None:
    """The station calling: its agent's bearer token, or a provisioned kiosk page's cookie
    (services/kiosks.py)."""
    if "station" not in g:
        token = bearer_token()
        if token:
            g.station = station_for_token(db().session, token)
        else:
            g.station = kiosk_page_station()
    return g.station


def kiosk_page_station() -> Station | None:
    """The kiosk station whose page credential (HttpOnly cookie) the request carries."""
    from server.services.kiosks import COOKIE_NAME, station_for_page

    return station_for_page(db().session, request.cookies.get(COOKIE_NAME))


def kiosk_printer(asked: int | None) -> int | None:
    """The station whose printer may print for this request (a ticket, a papers list):
    only a kiosk station's own, and only for that kiosk (its agent's token or its
    provisioned page's cookie). None for a caller without a kiosk credential who asked for
    no station (a ticket on screen); 403 for anyone else naming a station."""
    caller = current_station()
    if caller is None:
        if asked is not None:
            abort(
                403,
                message="Ki-ốt này chưa được kích hoạt nên không in được phiếu: quản trị viên "
                "cấp mã kích hoạt, mở /kiosk/provision?code=… một lần trên máy ki-ốt. / "
                "This kiosk is not provisioned, so it cannot print: open "
                "/kiosk/provision?code=… once on the kiosk PC with a code from an administrator.",
            )
        return None
    if caller.kind != "kiosk":
        abort(
            403,
            message=f"Điểm thiết bị {caller.code} không phải ki-ốt lấy số nên không cấp phiếu. / "
            f"Station {caller.code} is not a kiosk: only a kiosk station issues tickets.",
        )
    if asked not in (None, caller.id):
        abort(
            403,
            message="Điểm thiết bị chỉ in trên máy in của mình. / "
            "A station prints only on its own printer.",
        )
    return caller.id


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

    A station (call keypad) may operate only the counters bound to it.
    """
    if not current_user.is_authenticated:
        from server.services.stations import may_use_counter

        station = current_station()
        return station is not None and may_use_counter(station, counter)
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
    if not current_user.is_authenticated:
        from server.services.stations import refuse_unbound_counter

        refuse_unbound_counter(current_station(), counter)  # 403 naming what to bind
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


#: Who may read the province board and the reports across centres: the administrator and
#: province viewers (the `viewer` role: read-only, every centre of the province).
PROVINCE_ROLES = (Role.ADMIN, Role.VIEWER)


def require_province_reader() -> None:
    """403 unless the current user reads the whole province (no centre of their own)."""
    if not current_user.has_role(*PROVINCE_ROLES) or current_user.centre_id is not None:
        abort(
            403,
            message="Chỉ quản trị và cán bộ theo dõi cấp tỉnh xem được bảng toàn tỉnh. / "
            "Only administrators and province viewers read the province board.",
        )


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
#: Public look-ups by a code, per client address (TTHCC_LOOKUP_RATE_LIMIT): walking
#: dossier codes or ticket codes is slowed down to a person's pace.
DEFAULT_LOOKUP_RATE_LIMIT = "30 per minute"
#: Public live waits (page and JSON) per client address (TTHCC_PUBLIC_RATE_LIMIT).
DEFAULT_PUBLIC_RATE_LIMIT = "60 per minute"
#: Tickets issued per kiosk station (its page's cookie or its agent's token;
#: TTHCC_KIOSK_ISSUE_RATE_LIMIT) and per address for every other caller
#: (TTHCC_ISSUE_RATE_LIMIT): a script cannot empty a service's number range.
DEFAULT_KIOSK_ISSUE_RATE_LIMIT = "30 per minute"
DEFAULT_ISSUE_RATE_LIMIT = "60 per minute"
#: Appointment holds and bookings per client address (TTHCC_BOOKING_RATE_LIMIT).
DEFAULT_BOOKING_RATE_LIMIT = "20 per minute"
#: One-time codes texted per client address (TTHCC_PHONE_CODE_RATE_LIMIT): each costs an
#: SMS; the limits per number are in server/domain/phone_check.py.
DEFAULT_PHONE_CODE_RATE_LIMIT = "5 per minute;30 per hour"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_hardening(app: Any) -> None:
    """Rate-limit failed logins, require CSRF tokens on HTML forms, and refuse cross-site
    JSON writes that ride on the session cookie.

    The JSON API is exempt from CSRF tokens: a bearer token cannot be sent by another
    site, and cookie-authenticated writes need the SameSite=Lax cookie *and* an Origin (or
    Referer) of this host when the browser sends one.
    """
    import contextlib
    import os

    from flask import request
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address
    from flask_wtf.csrf import CSRFProtect

    from server.rate_limit_storage import STORAGE_URI

    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session
    csrf = CSRFProtect(app)
    config = app.config["TTHCC"]
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=config.redis_url or STORAGE_URI,  # no timer thread per hit
        # Redis restarting must not turn logins into errors: count in memory meanwhile.
        in_memory_fallback_enabled=bool(config.redis_url),
        default_limits=[],
        headers_enabled=False,
    )
    app.extensions["tthcc_limiter"] = limiter
    # No limit applies to every request (no default or application limits): the check
    # flask-limiter runs before each request would find nothing, at ~2 % of a ticket's
    # issue. The limited routes below check in their decorators, which also arm the
    # deductions made after the response (deduct_when).
    with contextlib.suppress(ValueError):  # a flask-limiter that no longer registers it
        app.before_request_funcs.setdefault(None, []).remove(limiter._check_request_limit)
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
    rate = os.environ.get("TTHCC_LOOKUP_RATE_LIMIT", DEFAULT_LOOKUP_RATE_LIMIT)
    too_many = (
        "Tra cứu quá nhiều lần, vui lòng thử lại sau ít phút. / "
        "Too many look-ups: try again in a few minutes."
    )
    # Dossier codes are sequential: every look-up counts. Ticket codes are random (96 bits)
    # and phones behind one address follow their tickets: only misses count.
    every_lookup = limiter.shared_limit(rate, scope="dossier-lookup", error_message=too_many)
    missed_lookup = limiter.shared_limit(
        rate,
        scope="ticket-lookup",
        deduct_when=lambda response: response.status_code == 404,
        error_message=too_many,
    )
    kiosk_rate = os.environ.get("TTHCC_KIOSK_ISSUE_RATE_LIMIT", DEFAULT_KIOSK_ISSUE_RATE_LIMIT)
    address_rate = os.environ.get("TTHCC_ISSUE_RATE_LIMIT", DEFAULT_ISSUE_RATE_LIMIT)

    def issuer() -> str:
        station = current_station()
        return f"station:{station.id}" if station is not None else get_remote_address()

    issuing = limiter.limit(
        lambda: kiosk_rate if current_station() is not None else address_rate,
        key_func=issuer,
        scope="issue",
        methods=["POST"],
        error_message="Lấy số quá nhanh, vui lòng chờ một chút rồi thử lại. / "
        "Too many tickets in a short time: wait a moment and try again.",
    )
    # Live waits in public: every request counts, at a phone's pace of refreshing.
    public_read = limiter.shared_limit(
        os.environ.get("TTHCC_PUBLIC_RATE_LIMIT", DEFAULT_PUBLIC_RATE_LIMIT),
        scope="public-waits",
        error_message=too_many,
    )
    # Appointments: every hold and booking from an address counts (a script cannot fill
    # a day's slots); look-ups by the ten-digit code count their misses.
    booking = limiter.shared_limit(
        os.environ.get("TTHCC_BOOKING_RATE_LIMIT", DEFAULT_BOOKING_RATE_LIMIT),
        scope="booking",
        methods=["POST"],
        error_message="Đặt lịch quá nhiều lần, vui lòng thử lại sau ít phút. / "
        "Too many bookings: try again in a few minutes.",
    )
    # One-time codes by SMS: every request from an address counts (each may cost an SMS).
    phone_code = limiter.shared_limit(
        os.environ.get("TTHCC_PHONE_CODE_RATE_LIMIT", DEFAULT_PHONE_CODE_RATE_LIMIT),
        scope="phone-code",
        methods=["POST"],
        error_message="Yêu cầu mã xác nhận quá nhiều lần, vui lòng thử lại sau ít phút. / "
        "Too many codes asked for: try again in a few minutes.",
    )
    for endpoint, limit in (
        ("phone_checks.PhoneVerificationsView", phone_code),
        ("appointments.HoldsView", booking),
        ("appointments.AppointmentsView", booking),
        ("appointments.AppointmentView", missed_lookup),
        ("tickets.TicketsView", issuing),
        ("public_waits.CentreWaitsView", public_read),
        ("public_waits.NearView", public_read),
        ("public.waits_page", public_read),
        ("dossiers.LookupView", every_lookup),
        ("tickets.PublicTicketView", missed_lookup),
        ("web.ticket_status", missed_lookup),
        # Numbers from the phone: every request from an address counts (the quotas per
        # phone number cannot stop one address trying many numbers); check-in codes are
        # six digits: only misses count, so a kiosk checking citizens in is never slowed.
        ("remote.RemoteTicketsView", every_lookup),
        ("remote.CheckInView", missed_lookup),
        # Turning notifications on makes the server text a number: every request counts.
        ("notifications.TicketNotificationsView", every_lookup),
    ):
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = limit(app.view_functions[endpoint])

    @app.before_request
    def _csrf_and_origin() -> None:
        if request.method not in _UNSAFE:
            return
        if not request.path.startswith("/api/"):
            csrf.protect()  # HTML forms: the token from {{ csrf_token() }}
            return
        if bearer_token() is not None or not (
            "session" in request.cookies or "tthcc_kiosk" in request.cookies
        ):
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

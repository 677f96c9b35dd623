"""Pages for the centre's leadership and administrators, server-rendered with a session.

/supervisor            live hall (counters, lines, devices, alerts; JS + Socket.IO)
/supervisor/reports    reports with tables, bars, heat map, CSV/XLSX export
/supervisor/staff      staff / agency scorecards and low ratings to follow up
/supervisor/tickets/N  one ticket's trail (what happened to number 1023?)
/supervisor/login      log in (HTML form, CSRF-protected, rate-limited), for every staff page
/supervisor/devices    every station's agent and device (printer faults live), reprints
/supervisor/feedback   feedback cases; /supervisor/dossiers: overdue and due-soon dossiers
/supervisor/notifications  messages to citizens of one day per channel and trigger
/admin/...             configuration (role admin): see server/web/admin/
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from server.api.security import READ_ROLES, log_in, log_out, refuse_login
from server.domain.clock import local_day, to_local, utcnow
from server.domain.errors import InvalidRequest
from server.input_guard import db_int
from server.models import Centre, Counter, Role, Service, Ticket, TicketEvent, User
from server.runtime import db
from server.services.auth import authenticate
from server.services.reports import DIMENSION_VI, DIMENSIONS, RATING_LEVELS_VI, period_for
from server.web.common import PERIOD_VI, page_roles, requested_centre

bp = Blueprint("web_supervisor", __name__)


def page_centres() -> tuple[list[Centre], Centre]:
    """Centres the user may see, and the one chosen with ?centre= (403 outside scope)."""
    session = db().session
    if current_user.centre_id is not None:
        allowed = [session.get(Centre, current_user.centre_id)]
    else:
        allowed = list(session.execute(select(Centre).order_by(Centre.id)).scalars())
    if not allowed:
        abort(404)
    wanted = request.args.get("centre", type=db_int)
    if wanted is None:
        from flask import current_app

        code = current_app.config["TTHCC"].default_centre_code
        chosen = next((c for c in allowed if c.code == code), allowed[0])
    else:
        chosen = next((c for c in allowed if c.id == wanted), None)
        if chosen is None:
            abort(403)
    return allowed, chosen


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web_supervisor.live")


@bp.route("/supervisor/login", methods=["GET", "POST"])
def login() -> Any:
    """Log in with the session cookie (supervisors, administrators, viewers)."""
    error = None
    if request.method == "POST":
        user = authenticate(
            db().session, request.form.get("username", ""), request.form.get("password", "")
        )
        if user is None:
            refuse_login(request.form.get("username", ""), "page")
            error = "Sai tên đăng nhập hoặc mật khẩu."
            return render_template("supervisor/login.html", error=error), 401
        log_in(user)
        if user.role == Role.ADMIN and not request.args.get("next"):
            return redirect(url_for("web_admin_pages.admin_index"))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("supervisor/login.html", error=error)


@bp.post("/supervisor/logout")
def logout() -> Any:
    log_out()
    return redirect(url_for("web_supervisor.login"))


@bp.get("/supervisor")
@page_roles(*READ_ROLES)
def live() -> str:
    """The live hall: every counter, line and device, and the alerts (JS keeps it live)."""
    centres, centre = page_centres()
    return render_template("supervisor/live.html", centres=centres, centre=centre)


def _report_args(default_by: str) -> dict[str, Any]:
    from datetime import date

    def day(name: str) -> date | None:
        raw = request.args.get(name) or ""
        try:
            return date.fromisoformat(raw) if raw else None
        except ValueError:
            return None

    period = request.args.get("period", "month")
    by = request.args.get("by", default_by)
    return {
        "period": period if period in PERIOD_VI else "month",
        "date": day("date"),
        "to": day("to"),
        "by": by if by in DIMENSIONS else default_by,
    }


class AllCentres:
    """Stands for "every centre" in the report pages' headings and links."""

    id = "all"
    name = "Tất cả trung tâm"
    subtitle = ""

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone


def _compute(kind: str, default_by: str) -> tuple[dict, dict, list[Centre], Centre, str | None]:
    from server.services.reports import build_report
    from server.services.scorecards import build_scorecards

    if request.args.get("centre") == "all" and current_user.centre_id is None:
        # A province viewer's whole province: every centre, grouped as asked.
        centres = list(db().session.execute(select(Centre).order_by(Centre.id)).scalars())
        if not centres:
            abort(404)
        centre = AllCentres(centres[0].timezone)
        centre_ids = [c.id for c in centres]
    else:
        centres, centre = page_centres()
        centre_ids = [centre.id]
    args = _report_args(default_by)
    anchor = args["date"] or local_day(utcnow(), centre.timezone)
    error = None
    try:
        period = period_for(args["period"], anchor, args["to"])
    except InvalidRequest as exc:
        error = exc.message_vi
        period = period_for("month", anchor)
    session = db().session
    if kind == "scorecards":
        by = args["by"] if args["by"] in ("staff", "agency") else "staff"
        args["by"] = by
        result = build_scorecards(session, centre_ids, period, by=by, timezone=centre.timezone)
    else:
        result = build_report(session, centre_ids, period, args["by"], timezone=centre.timezone)
    session.commit()
    args["date"] = anchor
    return result, args, centres, centre, error


@bp.get("/supervisor/reports")
@page_roles(*READ_ROLES)
def reports() -> str:
    report, args, centres, centre, error = _compute("report", "service")
    return render_template(
        "supervisor/reports.html",
        report=report,
        args=args,
        centres=centres,
        centre=centre,
        error=error,
        periods=PERIOD_VI,
        dimensions=DIMENSION_VI,
        levels=RATING_LEVELS_VI,
    )


@bp.get("/supervisor/staff")
@page_roles(*READ_ROLES)
def staff() -> str:
    cards, args, centres, centre, error = _compute("scorecards", "staff")
    return render_template(
        "supervisor/staff.html",
        cards=cards,
        args=args,
        centres=centres,
        centre=centre,
        error=error,
        periods=PERIOD_VI,
        levels=RATING_LEVELS_VI,
    )


@bp.get("/supervisor/tickets/<int:ticket_id>")
@page_roles(*READ_ROLES)
def ticket_trail(ticket_id: int) -> str:
    """Every event of one ticket: who did what, where and when."""
    session = db().session
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        abort(404)
    if current_user.centre_id is not None and ticket.centre_id != current_user.centre_id:
        abort(403)
    centre = session.get(Centre, ticket.centre_id)
    events = session.execute(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    ).scalars()
    names = {
        "services": dict(session.execute(select(Service.id, Service.name)).all()),
        "counters": {c.id: c.label for c in session.execute(select(Counter)).scalars()},
        "staff": {u.id: u.full_name or u.username for u in session.execute(select(User)).scalars()},
    }
    rows = [
        {
            "at": to_local(e.at, centre.timezone),
            "kind": e.kind,
            "from": e.from_status,
            "to": e.to_status,
            "service": names["services"].get(e.service_id),
            "counter": names["counters"].get(e.counter_id),
            "staff": names["staff"].get(e.staff_id),
            "actor": e.actor,
        }
        for e in events
    ]
    return render_template(
        "supervisor/ticket.html", ticket=ticket, centre=centre, rows=rows, names=names
    )


@bp.get("/supervisor/devices")
def devices_page() -> str:
    """Supervisor: every station's agent and device (printer faults live), reprints.

    The page logs in with the session cookie (roles supervisor, admin) and reads
    ``GET /api/v1/stations``; ``device.status`` on /hall keeps it live.
    """
    centre = requested_centre()
    if centre is None:
        abort(404)
    return render_template("supervisor_devices.html", centre=centre)


@bp.get("/supervisor/feedback")
def feedback_page() -> str:
    """Supervisor: cases, overdue first; assign, answer, close (roles supervisor, admin)."""
    return render_template("public/supervisor_feedback.html", centre=requested_centre())


@bp.get("/supervisor/dossiers")
def dossiers_page() -> str:
    """Supervisor: overdue and due-soon dossiers; apology letters."""
    return render_template("public/supervisor_dossiers.html", centre=requested_centre())


@bp.get("/supervisor/notifications")
@page_roles(*READ_ROLES)
def notifications_page() -> str:
    """Messages to citizens of one local day (?date=YYYY-MM-DD, today by default) per
    channel and trigger: queued, sent, failed, retried (docs/notifications.md). Counts
    only, no phone number."""
    from datetime import UTC, date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from server.notify import store
    from server.runtime import now

    centres, centre = page_centres()
    today = local_day(now(), centre.timezone)
    error = None
    raw = request.args.get("date") or ""

    def bounds(day: date) -> tuple[datetime, datetime]:
        start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(centre.timezone))
        return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)

    try:
        day = date.fromisoformat(raw) if raw else today
        start_utc, end_utc = bounds(day)  # 0001-01-01 and 9999-12-31 have none in UTC
    except (ValueError, OverflowError):
        day, error = today, "Ngày không hợp lệ: chọn một ngày trong lịch. Đang hiển thị hôm nay."
        start_utc, end_utc = bounds(day)
    session = db().session
    rows = store.day_table(session, [centre.id], start_utc, end_utc)
    session.commit()
    totals = {
        key: sum(r[key] for r in rows)
        for key in ("queued", "sent", "failed", "retried", "waiting", "expired", "cancelled")
    }
    return render_template(
        "supervisor/notifications.html",
        centres=centres,
        centre=centre,
        day=day,
        rows=rows,
        totals=totals,
        error=error,
    )


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    """The logged-in user for every page's navigation bar."""
    return {"nav_user": current_user if current_user.is_authenticated else None}

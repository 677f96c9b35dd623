"""/admin/closures: a centre's closed days (beyond the calendar's days off). Closing a day
takes its appointment slots away and cancels its bookings, each with a notice for the
citizen (docs/appointments.md); the API is server/api/admin/closures.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from server.domain.clock import utcnow
from server.input_guard import db_int
from server.models import Centre, CentreClosure, Role
from server.runtime import db, now
from server.services import appointment_closures as closures
from server.services import audit
from server.web.common import page_roles

bp = Blueprint("web_admin_closures", __name__)


@bp.route("/admin/closures", methods=["GET", "POST"])
@page_roles(Role.ADMIN)
def closures_page() -> Any:
    """The centres' closed days from today on, and a form to close one more."""
    session = db().session
    error = None
    if request.method == "POST":
        centre = session.get(Centre, request.form.get("centre_id", type=db_int) or 0)
        try:
            day = date.fromisoformat(request.form.get("day") or "")
        except ValueError:
            day = None
        reason = (request.form.get("reason") or "").strip()[:200]
        if centre is None or day is None:
            error = "Chọn trung tâm và ngày nghỉ."
        elif day < now().date():
            error = "Ngày nghỉ đã qua."
        else:
            cancelled = closures.close_day(
                session, centre_id=centre.id, day=day, reason=reason, now=now()
            )
            audit.record(
                session,
                user=current_user,
                entity="closure",
                action="create",
                now=utcnow(),
                centre_id=centre.id,
                after={"day": day.isoformat(), "reason": reason, "cancelled": len(cancelled)},
            )
            session.commit()
            flash(
                f"Đã đóng cửa {centre.subtitle or centre.name} ngày {day:%d/%m/%Y}: hủy "
                f"{len(cancelled)} lịch hẹn (mỗi lịch có thông báo cho công dân).",
                "ok",
            )
            return redirect(url_for(".closures_page"))
    rows = session.execute(
        select(CentreClosure, Centre)
        .join(Centre, Centre.id == CentreClosure.centre_id)
        .where(CentreClosure.day >= now().date())
        .order_by(CentreClosure.day, Centre.id)
    ).all()
    centres = session.execute(select(Centre).order_by(Centre.id)).scalars().all()
    return render_template("admin/closures.html", rows=rows, centres=centres, error=error), (
        422 if error else 200
    )

"""What pages of several audiences share: the login gate, the centre a page is about, the
names of report periods. No blueprint here (server/access_policy.py lists those)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from server.input_guard import db_int
from server.models import Centre, Role
from server.runtime import db

PERIOD_VI = {
    "day": "Ngày",
    "week": "Tuần",
    "month": "Tháng",
    "quarter": "Quý",
    "year": "Năm",
    "range": "Khoảng ngày",
}


def page_roles(*roles: Role) -> Callable:
    """Pages: log in first (redirect back afterwards), then the role, else a 403 page."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("web_supervisor.login", next=request.full_path))
            if roles and not current_user.has_role(*roles):
                return render_template("supervisor/forbidden.html"), 403
            return view(*args, **kwargs)

        wrapper.page_roles = roles  # type: ignore[attr-defined]
        return wrapper

    return decorator


def requested_centre() -> Centre | None:
    """The centre of ``?centre=``, else the configured default centre, else the first."""
    session = db().session
    centre_id = request.args.get("centre", type=db_int)
    if centre_id is not None:
        return session.get(Centre, centre_id)
    code = current_app.config["TTHCC"].default_centre_code
    centre = session.execute(select(Centre).where(Centre.code == code)).scalar_one_or_none()
    return (
        centre or session.execute(select(Centre).order_by(Centre.id).limit(1)).scalar_one_or_none()
    )

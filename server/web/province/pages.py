"""The province's pages (issue 13, item 3), for administrators and province viewers.

/province           every centre now, most in need first; each row links to the centre's
                    live supervisor board (the page refreshes its table every 20 s)
/province/reports   the centres over a month (or any period), commune/ward centres ranked
                    apart from provincial units; CSV/XLSX from /api/v1/province/reports/export
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user

from server.api.province.board import board_now, province_report
from server.api.security import PROVINCE_ROLES
from server.web.common import PERIOD_VI, page_roles

bp = Blueprint("web_province", __name__)


def _province_reader() -> bool:
    return current_user.centre_id is None


@bp.get("/province")
@page_roles(*PROVINCE_ROLES)
def board() -> Any:
    """The province board."""
    if not _province_reader():
        return render_template("supervisor/forbidden.html"), 403
    return render_template("province/board.html", board=board_now(), centre=None)


@bp.get("/province/reports")
@page_roles(*PROVINCE_ROLES)
def reports() -> Any:
    """The province report: ?period= (default month) &date= a day in it &to= for a range."""
    if not _province_reader():
        return render_template("supervisor/forbidden.html"), 403

    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(request.args.get(name) or "")
        except ValueError:
            return None

    period = request.args.get("period", "month")
    args = {
        "period": period if period in PERIOD_VI else "month",
        "date": day("date"),
        "to": day("to"),
    }
    error = None
    try:
        report = province_report(args)
    except Exception as exc:  # an invalid range: say so, show this month
        from server.domain.errors import InvalidRequest

        if not isinstance(exc, InvalidRequest):
            raise
        error = exc.message_vi
        report = province_report({"period": "month", "date": args["date"], "to": None})
    return render_template(
        "province/reports.html",
        report=report,
        args=args,
        periods=PERIOD_VI,
        error=error,
        centre=None,
    )

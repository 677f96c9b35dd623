"""Reports, staff scorecards, their CSV/XLSX exports, and the live supervision overview.

Readers: supervisors (their centre), administrators and province viewers (any centre).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from server.api.public.centres import resolve_centre_id
from server.api.schemas import BaseSchema
from server.api.security import READ_ROLES, require_user, scoped_centre_ids
from server.domain.clock import local_day, utcnow
from server.models import Centre
from server.runtime import db
from server.services.report_export import to_csv, to_xlsx
from server.services.reports import DIMENSIONS, PERIOD_KINDS, build_report, period_for
from server.services.scorecards import build_scorecards
from server.services.supervision import overview

blp = Blueprint("reports", __name__, description="Reports, scorecards and live supervision")


class ReportQuery(BaseSchema):
    centre_id = fields.Integer(
        load_default=None,
        metadata={"description": "Default: the user's centre; all centres for a province viewer"},
    )
    period = fields.String(load_default="month", validate=validate.OneOf(PERIOD_KINDS))
    date = fields.Date(
        load_default=None, metadata={"description": "A day in the period (default: today)"}
    )
    to = fields.Date(load_default=None, metadata={"description": "Last day, for period=range"})
    by = fields.String(load_default="service", validate=validate.OneOf(DIMENSIONS))


class ScorecardQuery(ReportQuery):
    by = fields.String(load_default="staff", validate=validate.OneOf(["staff", "agency"]))


class ExportQuery(ReportQuery):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["csv", "xlsx"]))
    kind = fields.String(load_default="report", validate=validate.OneOf(["report", "scorecards"]))


class OverviewQuery(BaseSchema):
    centre_id = fields.Integer(load_default=None)


def _scope(args: dict) -> tuple[list[int], str, Any]:
    centre_ids = scoped_centre_ids(args["centre_id"])
    session = db().session
    first = session.get(Centre, centre_ids[0]) if centre_ids else None
    timezone = first.timezone if first else "Asia/Ho_Chi_Minh"
    anchor = args["date"] or local_day(utcnow(), timezone)
    return centre_ids, timezone, period_for(args["period"], anchor, args["to"])


def compute(args: dict, kind: str = "report") -> dict:
    centre_ids, timezone, period = _scope(args)
    session = db().session
    if kind == "scorecards":
        result = build_scorecards(session, centre_ids, period, by=args["by"], timezone=timezone)
        result["centres"] = [
            {"id": cid, "name": session.get(Centre, cid).name} for cid in centre_ids
        ]
    else:
        result = build_report(session, centre_ids, period, args["by"], timezone=timezone)
    session.commit()  # keep the facts of settled days folded on the way
    return result


@blp.route("/reports")
class ReportView(MethodView):
    @require_user(*READ_ROLES)
    @blp.arguments(ReportQuery, location="query")
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, args: dict) -> dict:
        """Issued, served, no-show, transferred, waiting/service times, ratings, heat map."""
        return compute(args)


@blp.route("/scorecards")
class ScorecardsView(MethodView):
    @require_user(*READ_ROLES)
    @blp.arguments(ScorecardQuery, location="query")
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, args: dict) -> dict:
        """One card per staff member (or agency): figures, on-duty time, pauses, low ratings."""
        return compute(args, "scorecards")


@blp.route("/reports/export")
class ReportExportView(MethodView):
    @require_user(*READ_ROLES)
    @blp.arguments(ExportQuery, location="query")
    @blp.response(200, content_type="application/octet-stream")
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, args: dict) -> Response:
        """The report (or scorecards) as CSV or XLSX with Vietnamese headers."""
        result = compute(args, args["kind"])
        title = "Báo cáo" if args["kind"] == "report" else "Đánh giá cán bộ"
        name = f"{'bao-cao' if args['kind'] == 'report' else 'danh-gia-can-bo'}-{result['by']}-" + (
            f"{result['period']['start']}_{result['period']['end']}"
        )
        if args["format"] == "csv":
            body, mime = to_csv(result, title), "text/csv; charset=utf-8"
        else:
            body = to_xlsx(result, title)
            mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body,
            mimetype=mime,
            headers={"Content-Disposition": f'attachment; filename="{name}.{args["format"]}"'},
        )


@blp.route("/supervisor/overview")
class OverviewView(MethodView):
    @require_user(*READ_ROLES)
    @blp.arguments(OverviewQuery, location="query")
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, args: dict) -> dict:
        """Counters, lines, devices and alerts of a centre, now (the supervisor page)."""
        centre_id = args["centre_id"]
        if centre_id is None:
            centre_id = scoped_centre_ids(None)[0] if _has_own_centre() else resolve_centre_id(None)
        scoped_centre_ids(centre_id)
        session = db().session
        result = overview(session, centre_id, utcnow(), online=_online_stations())
        session.rollback()
        return result


def _has_own_centre() -> bool:
    from flask_login import current_user

    return current_user.centre_id is not None


def _online_stations() -> set[int] | None:
    """Stations connected right now, when the devices' presence tracking is there."""
    try:
        from server.realtime import online_station_ids
    except ImportError:
        return None
    socketio = current_app.extensions.get("socketio")
    return online_station_ids(socketio) if socketio is not None else None

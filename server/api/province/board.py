"""The province board and the reports across centres (issue 13, item 3).

Readers: administrators and province viewers (role `viewer`, no centre of their own).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from server.api.schemas import BaseSchema
from server.api.security import PROVINCE_ROLES, require_province_reader, require_user
from server.domain.clock import local_day
from server.runtime import db, now
from server.services.province_board import build_board
from server.services.province_reports import ReportCache, build_province_report, sheets
from server.services.report_export import sheets_to_csv, sheets_to_xlsx
from server.services.reports import PERIOD_KINDS, period_for

blp = Blueprint("province", __name__, description="The province board and cross-centre reports")

#: The province's reports read days in this zone (every centre of a Vietnamese province).
PROVINCE_TIMEZONE = "Asia/Ho_Chi_Minh"


class ProvinceReportQuery(BaseSchema):
    period = fields.String(load_default="month", validate=validate.OneOf(PERIOD_KINDS))
    date = fields.Date(
        load_default=None, metadata={"description": "A day in the period (default: today)"}
    )
    to = fields.Date(load_default=None, metadata={"description": "Last day, for period=range"})


class ProvinceExportQuery(ProvinceReportQuery):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["csv", "xlsx"]))


def board_now() -> dict[str, Any]:
    session = db().session
    minutes = current_app.config["TTHCC"].province_offline_minutes
    board = build_board(session, now(), offline_minutes=minutes)
    session.rollback()
    board["offline_minutes"] = minutes
    return board


def province_report(args: dict) -> dict[str, Any]:
    anchor = args.get("date") or local_day(now(), PROVINCE_TIMEZONE)
    period = period_for(args.get("period") or "month", anchor, args.get("to"))
    session = db().session
    # Today's figures reused for up to a minute per process, the closed days' sums while
    # their roll-ups stand (province_reports.ReportCache); the report says as of when.
    cache = current_app.extensions.setdefault("tthcc_province_report_cache", ReportCache())
    report = build_province_report(
        session, period, timezone=PROVINCE_TIMEZONE, now=now(), cache=cache
    )
    session.commit()  # keep the facts of settled days folded on the way
    return report


@blp.route("/province/board")
class BoardView(MethodView):
    @require_user(*PROVINCE_ROLES)
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self) -> dict:
        """Every centre now, most in need first: waiting, longest wait, served today,
        satisfaction today, alerts, link state (the hub's view: last sign of life)."""
        require_province_reader()
        return board_now()


@blp.route("/province/reports")
class ProvinceReportView(MethodView):
    @require_user(*PROVINCE_ROLES)
    @blp.arguments(ProvinceReportQuery, location="query")
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, args: dict) -> dict:
        """Per centre over a period (default: this month), commune/ward centres ranked apart
        from provincial units: satisfaction, dossiers on time, waiting mean and median."""
        require_province_reader()
        return province_report(args)


@blp.route("/province/reports/export")
class ProvinceExportView(MethodView):
    @require_user(*PROVINCE_ROLES)
    @blp.arguments(ProvinceExportQuery, location="query")
    @blp.response(200, content_type="application/octet-stream")
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, args: dict) -> Response:
        """The province report as CSV or XLSX (one table or worksheet per kind of centre)."""
        require_province_reader()
        report = province_report(args)
        title = f"Báo cáo các trung tâm toàn tỉnh – {report['period']['label']}"
        name = f"bao-cao-toan-tinh-{report['period']['start']}_{report['period']['end']}"
        if args["format"] == "csv":
            body, mime = sheets_to_csv(title, sheets(report)), "text/csv; charset=utf-8"
        else:
            body = sheets_to_xlsx(title, sheets(report))
            mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            body,
            mimetype=mime,
            headers={"Content-Disposition": f'attachment; filename="{name}.{args["format"]}"'},
        )

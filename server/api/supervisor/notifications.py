"""The notifications report: messages sent, failed and pending (supervisors, admin,
province viewers). Citizens' side: server/api/public/notifications.py."""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from server.api.schemas import BaseSchema
from server.api.security import READ_ROLES, require_user, scoped_centre_ids
from server.notify import store
from server.runtime import db, now

blp = Blueprint("notification_reports", __name__, description="Notifications sent and failed")


class ReportQuery(BaseSchema):
    centre_id = fields.Integer(load_default=None)
    hours = fields.Integer(load_default=24, validate=validate.Range(min=1, max=24 * 31))


@blp.route("/notifications/report")
class ReportView(MethodView):
    @require_user(*READ_ROLES)
    @blp.arguments(ReportQuery, location="query")
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def get(self, args: dict) -> dict:
        """Messages by status (sent, failed, pending…), channel and kind; consents given."""
        centre_ids = scoped_centre_ids(args["centre_id"])
        return store.report(db().session, centre_ids, now() - timedelta(hours=args["hours"]))

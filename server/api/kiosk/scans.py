"""What the kiosk's barcode scanner read, for a keyboard-wedge scanner (the kiosk page
posts the keys it collected) and the citizen's answer to the consent screen.

A serial scanner's scans come through the station agent instead (``scanner.scan`` on
/station, server/realtime.py); both give the page the same answer (docs/privacy.md).
"""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import fields, validate

from server.api.schemas import BaseSchema
from server.api.security import current_station
from server.runtime import db, now
from server.services import id_cards

blp = Blueprint("scans", __name__, description="Kiosk scanner: ID card, check-in codes")

#: Longest scan accepted, in characters (an ID card's QR is ~100-250).
MAX_SCAN_CHARS = 1024


class ScanRequest(BaseSchema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=MAX_SCAN_CHARS))


def _kiosk_id() -> tuple[int, int]:
    """The calling kiosk (its agent's token or its provisioned page's cookie): (station,
    centre). 403 for anyone else: ID card data is read only at a kiosk of the centre."""
    station = current_station()
    if station is None or station.kind != "kiosk":
        abort(
            403,
            message="Chỉ ki-ốt đã được kích hoạt mới đọc được thẻ căn cước. / "
            "Only a provisioned kiosk reads ID cards.",
        )
    return station.id, station.centre_id


@blp.route("/scans")
class ScansView(MethodView):
    @blp.arguments(ScanRequest)
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, body: dict) -> dict:
        """A scan typed by a keyboard-wedge scanner into the kiosk page. An ID card is kept
        pending (its number only as a keyed hash) until the citizen agrees and takes a
        number with `id_scan` = `token`; a check-in code is returned for `/check-in`."""
        station_id, centre_id = _kiosk_id()
        session = db().session
        out = id_cards.receive_scan(
            session,
            text=body["text"],
            centre_id=centre_id,
            station_id=station_id,
            now=now(),
            key=current_app.config["SECRET_KEY"],
        )
        session.commit()
        return out


@blp.route("/scans/<string:token>/decline")
class DeclineView(MethodView):
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}, {"cookie": []}])
    def post(self, token: str) -> dict:
        """The citizen did not agree (or walked away): the pending scan is deleted now."""
        station_id, _ = _kiosk_id()
        session = db().session
        deleted = id_cards.decline(session, token=token[:64], station_id=station_id)
        session.commit()
        return {"ok": True, "deleted": deleted}

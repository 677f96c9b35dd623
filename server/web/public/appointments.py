"""Đặt lịch hẹn (/dat-lich): book, change or cancel a time at the centre from a phone, and
the QR code of a booking's confirmation code (docs/appointments.md). Data from the API
(server/api/public/appointments.py); script server/static/js/appointments.js."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from server.domain.appointments import ARRIVAL_WINDOW_MINUTES, CODE_DIGITS, HOLD_MINUTES
from server.models import Service
from server.runtime import db
from server.web.common import requested_centre

bp = Blueprint("appointments_pages", __name__, template_folder="templates")

_CODE = re.compile(rf"\d{{{CODE_DIGITS}}}")


@bp.get("/dat-lich")
def appointments_page() -> str:
    """The centre's services that take appointments; slots, hold and booking by script."""
    from server.notify.delivery import available_channels
    from server.services import phone_check

    centre = requested_centre()
    if centre is None:
        abort(404)
    services = (
        db()
        .session.execute(
            select(Service)
            .where(
                Service.centre_id == centre.id,
                Service.active.is_(True),
                Service.appointments.is_(True),
            )
            .order_by(Service.position, Service.id)
        )
        .scalars()
        .all()
    )
    return render_template(
        "public/appointments.html",
        centre=centre,
        services=services,
        hold_minutes=HOLD_MINUTES,
        window=ARRIVAL_WINDOW_MINUTES,
        digits=CODE_DIGITS,
        # Messages about the booking (docs/notifications.md) when an SMS gateway is set.
        sms_offered="sms" in available_channels(current_app.config["TTHCC"]),
        # With an SMS gateway, the number needs the code texted to it (docs/remote.md).
        **phone_check.page_context(current_app.config["TTHCC"]),
    )


@bp.get("/dat-lich/qr/<code>.png")
def appointment_qr(code: str):
    """The booking's code as a QR code: the kiosk's scanner types it into the check-in."""
    if not _CODE.fullmatch(code):
        abort(404)
    from kiosk.blueprint import _qr_png

    return _qr_png(code)

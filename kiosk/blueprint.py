"""The lobby kiosk page: choose a field, a service, optionally priority; get a ticket.

URL rules only, plus the QR image of a ticket's public page. The page itself talks to the
server's JSON API and Socket.IO from the browser: no SQL and no business rules here.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request

from server.input_guard import db_int

logger = logging.getLogger(__name__)

bp = Blueprint(
    "kiosk",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: Shape of a ticket's public code (``secrets.token_urlsafe``; the column holds 32).
PUBLIC_CODE = re.compile(r"[A-Za-z0-9_-]{8,32}")

#: Idle seconds before the page returns to its start screen, how long to wait for the
#: printer's answer, and how long one press retries a ticket whose answer was lost (the
#: same Idempotency-Key: docs/numbering.md); overridable per kiosk (and by tests) with
#: query parameters.
IDLE_RESULT_SECONDS = 20.0
IDLE_MENU_SECONDS = 60.0
PRINT_TIMEOUT_SECONDS = 8.0
RETRY_FOR_SECONDS = 10.0
TIMER_ARGS = ("idle", "idle_menu", "print_timeout", "retry_for")


def _seconds(name: str, default: float) -> float:
    value = request.args.get(name, type=float)
    if value is None or not 0.5 <= value <= 3600:
        return default
    return value


def provisioned_station() -> Any:
    """The kiosk station (a Station row) this browser was provisioned as (its HttpOnly
    cookie), or None.

    A ``?station=`` in the URL proves nothing and is ignored: an unprovisioned page shows
    tickets on screen (with their QR code) and prints nowhere."""
    from server.api.security import kiosk_page_station

    return kiosk_page_station()


def kiosk_config(**extra: object) -> dict:
    """What every kiosk page's script reads from its JSON block (kiosk-config)."""
    from flask import url_for

    kiosk = provisioned_station()
    centre = kiosk.centre_id if kiosk else request.args.get("centre", type=db_int)
    station = kiosk.id if kiosk else None
    return {
        "centre_id": centre,
        "station_id": station,
        "idle_menu": _seconds("idle_menu", IDLE_MENU_SECONDS),
        "idle_result": _seconds("idle", IDLE_RESULT_SECONDS),
        "print_timeout": _seconds("print_timeout", PRINT_TIMEOUT_SECONDS),
        "retry_for": _seconds("retry_for", RETRY_FOR_SECONDS),
        "qr_url": url_for("kiosk.ticket_qr", code="CODE"),
        # A procedure's /thu-tuc page as a QR code, when phones can reach this server.
        "procedure_qr_url": url_for("kiosk.procedure_qr", procedure_id=0).replace(
            "/0.png", "/ID.png"
        )
        if current_app.config["TTHCC"].phone_url
        else None,
        "home_url": url_for("kiosk.kiosk_page", centre=None if kiosk else centre),
        "procedures_url": url_for("kiosk.procedures_page"),
        **extra,
    }


@bp.get("/")
def kiosk_page() -> str:
    """The touchscreen page.

    A provisioned kiosk (its cookie, see :func:`provision`) prints on its station's
    printer; otherwise ?centre=ID picks the centre and tickets are shown on screen only.
    ?idle=S (result screen), ?idle_menu=S (other screens), ?print_timeout=S and
    ?retry_for=S tune its timers.
    """
    config = kiosk_config()
    return render_template(
        "kiosk/kiosk.html",
        config=config,
        centre_id=config["centre_id"],
        station_id=config["station_id"],
    )


#: How long a provisioned kiosk keeps its credential (it is revoked with the station's token).
KIOSK_COOKIE_SECONDS = 10 * 365 * 24 * 3600


@bp.get("/provision")
def provision() -> Response:
    """Make this browser a kiosk station: exchange the administrator's code (?code=, once)
    for the kiosk's credential, kept in an HttpOnly cookie, then open the kiosk page
    (the timer parameters carry over). An unknown, used or expired code: 403 page."""
    from flask import make_response, redirect, url_for

    from server.domain.clock import utcnow
    from server.runtime import db
    from server.services.kiosks import COOKIE_NAME, ProvisioningRefused, exchange_code

    session = db().session
    code = request.args.get("code", "")
    try:
        if not 1 <= len(code) <= 64:
            raise ProvisioningRefused("", "")
        station, token = exchange_code(session, code, utcnow())
        session.commit()
    except ProvisioningRefused:
        session.rollback()
        if provisioned_station() is not None:
            # A provisioned kiosk restarted on its (used-up) provisioning address.
            return redirect(url_for("kiosk.kiosk_page", **_timer_args()))
        return make_response(render_template("kiosk/provision_refused.html"), 403)
    response = redirect(url_for("kiosk.kiosk_page", **_timer_args()))
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=KIOSK_COOKIE_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        path="/",
    )
    logger.info("kiosk station %s provisioned from %s", station.code, request.remote_addr)
    return response


def _timer_args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k in TIMER_ARGS}


def public_ticket_url(code: str) -> str:
    """The page a phone opens from the QR: the same address as on the printed ticket."""
    base = current_app.config["TTHCC"].public_url or request.host_url
    return f"{base.rstrip('/')}/t/{code}"


@bp.get("/qr/<code>.png")
def ticket_qr(code: str) -> Response:
    """A PNG QR code of the ticket's public page, shown when the printer failed."""
    if not PUBLIC_CODE.fullmatch(code):
        abort(404)
    return _qr_png(public_ticket_url(code))


@bp.get("/qr/thu-tuc/<int:procedure_id>.png")
def procedure_qr(procedure_id: int) -> Response:
    """A PNG QR code of a procedure's public page (/thu-tuc/ID: its papers, fee, time),
    to read "what to bring" on a phone. 404 while phones cannot reach this server."""
    base = current_app.config["TTHCC"].phone_url
    if not base or procedure_id < 1:
        abort(404)
    return _qr_png(f"{base.rstrip('/')}/thu-tuc/{procedure_id}")


def _qr_png(data: str) -> Response:
    # Imported here: qrcode pulls in Pillow, which the server needs for nothing else.
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=2)
    qr.add_data(data)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buffer)
    response = Response(buffer.getvalue(), mimetype="image/png")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


from kiosk import dossiers, procedures  # noqa: E402, F401  (their routes are on this blueprint)

"""The lobby kiosk page: choose a field, a service, optionally priority; get a ticket.

URL rules only, plus the QR image of a ticket's public page. The page itself talks to the
server's JSON API and Socket.IO from the browser: no SQL and no business rules here.
"""

from __future__ import annotations

import io
import re

from flask import Blueprint, Response, abort, current_app, render_template, request

bp = Blueprint(
    "kiosk",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: Shape of a ticket's public code (``secrets.token_urlsafe``; the column holds 32).
PUBLIC_CODE = re.compile(r"[A-Za-z0-9_-]{8,32}")

#: Idle seconds before the page returns to its start screen, and how long to wait for the
#: printer's answer; overridable per kiosk (and by tests) with query parameters.
IDLE_RESULT_SECONDS = 20.0
IDLE_MENU_SECONDS = 60.0
PRINT_TIMEOUT_SECONDS = 8.0


def _seconds(name: str, default: float) -> float:
    value = request.args.get(name, type=float)
    if value is None or not 0.5 <= value <= 3600:
        return default
    return value


@bp.get("/")
def kiosk_page() -> str:
    """The touchscreen page.

    ?centre=ID&station=ID bind it to a centre and a kiosk station; ?idle=S (result screen),
    ?idle_menu=S (other screens) and ?print_timeout=S tune its timers.
    """
    return render_template(
        "kiosk/kiosk.html",
        centre_id=request.args.get("centre", type=int),
        station_id=request.args.get("station", type=int),
        idle_result=_seconds("idle", IDLE_RESULT_SECONDS),
        idle_menu=_seconds("idle_menu", IDLE_MENU_SECONDS),
        print_timeout=_seconds("print_timeout", PRINT_TIMEOUT_SECONDS),
    )


def public_ticket_url(code: str) -> str:
    """The page a phone opens from the QR: the same address as on the printed ticket."""
    base = current_app.config["TTHCC"].public_url or request.host_url
    return f"{base.rstrip('/')}/t/{code}"


@bp.get("/qr/<code>.png")
def ticket_qr(code: str) -> Response:
    """A PNG QR code of the ticket's public page, shown when the printer failed."""
    if not PUBLIC_CODE.fullmatch(code):
        abort(404)
    # Imported here: qrcode pulls in Pillow, which the server needs for nothing else.
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=2)
    qr.add_data(public_ticket_url(code))
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buffer)
    response = Response(buffer.getvalue(), mimetype="image/png")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


from kiosk import dossiers, procedures  # noqa: E402, F401  (their routes are on this blueprint)

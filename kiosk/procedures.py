"""Kiosk pages beside the ticket screen: "Tra cứu thủ tục" (the procedure catalogue, with a
ticket for the right service in one tap) and "Phản ánh, kiến nghị" (feedback).

URL rules only, registered on the kiosk blueprint; the pages call the JSON API, and the
feedback form reuses the public page's template and services.
"""

from __future__ import annotations

from flask import abort, render_template, request, url_for

from kiosk.blueprint import IDLE_MENU_SECONDS, _seconds, bp


def kiosk_home_url() -> str:
    """The kiosk's start screen, with the same centre and station."""
    return url_for(
        "kiosk.kiosk_page",
        centre=request.args.get("centre", type=int),
        station=request.args.get("station", type=int),
    )


def page_context() -> dict:
    return {
        "centre_id": request.args.get("centre", type=int),
        "station_id": request.args.get("station", type=int),
        "idle_seconds": _seconds("idle_menu", IDLE_MENU_SECONDS),
        "home_url": kiosk_home_url(),
    }


@bp.get("/thu-tuc")
def procedures_page() -> str:
    """Tra cứu thủ tục: fields, search without diacritics, a procedure in large print, and
    "Lấy số" for its service. ?centre=ID&station=ID as on the kiosk page."""
    return render_template("kiosk/procedures.html", **page_context())


@bp.get("/phan-anh")
def feedback_page() -> str:
    """Phản ánh, kiến nghị on the touchscreen (the public form, larger, source "kiosk")."""
    from server.web_public import _centre, feedback_form_context

    centre = _centre()
    if centre is None:
        abort(404)
    context = feedback_form_context(centre, source="kiosk")
    return render_template("public/feedback.html", home_url=kiosk_home_url(), **context)

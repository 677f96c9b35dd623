"""Kiosk pages beside the ticket screen: "Tra cứu thủ tục" (the procedure catalogue, with a
ticket for the right service in one tap) and "Phản ánh, kiến nghị" (feedback as a touch
flow).

URL rules only, registered on the kiosk blueprint; the pages call the JSON API.
"""

from __future__ import annotations

from flask import abort, render_template, request, url_for

from kiosk.blueprint import bp, kiosk_config


def kiosk_home_url() -> str:
    """The kiosk's start screen, with the same centre (a provisioned kiosk knows its own)."""
    return url_for("kiosk.kiosk_page", centre=request.args.get("centre", type=int))


def page_context(**extra: object) -> dict:
    config = kiosk_config(**extra)
    return {
        "config": config,
        "centre_id": config["centre_id"],
        "station_id": config["station_id"],
        "home_url": config["home_url"],
    }


@bp.get("/thu-tuc")
def procedures_page() -> str:
    """Tra cứu thủ tục: fields, a tolerant search typed on the on-screen keyboard, a
    procedure in large print with its papers (printed on the kiosk's printer or read on a
    phone from a QR code), and "Lấy số" for its service. ?centre=ID&station=ID as on the
    kiosk page; ?service=ID opens the procedures of that service ("Giấy tờ cần mang", from
    the kiosk's service screen)."""
    return render_template(
        "kiosk/procedures.html",
        **page_context(service_id=request.args.get("service", type=int)),
    )


@bp.get("/phan-anh")
def feedback_page() -> str:
    """Phản ánh, kiến nghị as a touch flow: big choices, the on-screen keyboard, consent
    before any contact detail (source "kiosk")."""
    from server.web.common import requested_centre
    from server.web.public.pages import feedback_form_context

    centre = requested_centre()
    if centre is None:
        abort(404)
    context = feedback_form_context(centre, source="kiosk")
    counters = [{"id": c.id, "label": c.label} for c in context["counters"]]
    return render_template(
        "kiosk/feedback.html",
        centre=centre,
        **page_context(feedback_centre_id=centre.id, counters=counters),
    )

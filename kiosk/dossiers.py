"""Kiosk page "Tra cứu hồ sơ": a citizen scans the QR code of the receipt slip (a barcode
scanner types the code and Enter) or types the code, and sees the status and the return
date; a dossier whose result is ready offers a ticket for the result-return service.

URL rule only, registered on the kiosk blueprint; the page calls
GET /api/v1/dossiers/lookup and POST /api/v1/tickets.
"""

from __future__ import annotations

from flask import render_template

from kiosk.blueprint import bp
from kiosk.procedures import page_context


@bp.get("/ho-so")
def dossier_lookup_page() -> str:
    """?centre=ID&station=ID as on the kiosk page; ?code= prefills and looks up at once."""
    return render_template("kiosk/dossier_lookup.html", **page_context())

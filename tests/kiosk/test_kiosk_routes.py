"""The kiosk blueprint through the real app: the page, its timers and the QR image."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"
CODE = "vX_I6OL1HsL2auGE"  # the shape of secrets.token_urlsafe(12)


def data_attributes(html: str) -> dict[str, str]:
    tag = re.search(r'<div id="kiosk"(.*?)>', html, re.S)
    assert tag, "no kiosk root element"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag.group(1)))


def test_kiosk_page_binds_centre_station_and_default_timers(client):
    r = client.get("/kiosk/?centre=3&station=7")
    assert r.status_code == 200
    attrs = data_attributes(r.get_data(as_text=True))
    assert attrs["centre-id"] == "3"
    assert attrs["station-id"] == "7"
    assert float(attrs["idle-result"]) == 20
    assert float(attrs["idle-menu"]) == 60
    assert float(attrs["print-timeout"]) == 8
    assert attrs["qr-url"] == "/kiosk/qr/CODE.png"


def test_kiosk_timers_take_query_overrides_within_bounds(client):
    attrs = data_attributes(
        client.get("/kiosk/?idle=2&idle_menu=3.5&print_timeout=1").get_data(as_text=True)
    )
    assert (attrs["idle-result"], attrs["idle-menu"], attrs["print-timeout"]) == (
        "2.0",
        "3.5",
        "1.0",
    )
    attrs = data_attributes(
        client.get("/kiosk/?idle=0&idle_menu=abc&print_timeout=99999").get_data(as_text=True)
    )
    assert (attrs["idle-result"], attrs["idle-menu"], attrs["print-timeout"]) == (
        "20.0",
        "60.0",
        "8.0",
    )


def test_kiosk_page_without_centre_or_station_leaves_them_empty(client):
    attrs = data_attributes(client.get("/kiosk/").get_data(as_text=True))
    assert attrs["centre-id"] == ""
    assert attrs["station-id"] == ""


def expected_qr(url: str) -> Image.Image:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=2)
    qr.add_data(url)
    qr.make(fit=True)
    return qr.make_image().get_image().convert("L")


def test_qr_route_returns_a_png_of_the_public_ticket_url(app, client):
    r = client.get(f"/kiosk/qr/{CODE}.png")
    assert r.status_code == 200
    assert r.mimetype == "image/png"
    assert r.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert "max-age" in r.headers["Cache-Control"]
    image = Image.open(io.BytesIO(r.data)).convert("L")
    # Same modules as a QR of the address printed on the ticket: it encodes that URL.
    url = app.config["TTHCC"].public_url.rstrip("/") + f"/t/{CODE}"
    assert image.tobytes() == expected_qr(url).tobytes()
    assert image.tobytes() != expected_qr(url + "x").tobytes()


@pytest.mark.parametrize(
    "junk",
    ["short", "x" * 33, "abc$defgh", "abc.defghi", "..%2F..%2Fetc%2Fpasswd", "ab%20cdefghi"],
)
def test_qr_route_refuses_what_is_not_a_ticket_code(client, junk):
    assert client.get(f"/kiosk/qr/{junk}.png").status_code == 404


def test_qr_route_needs_the_png_suffix(client):
    assert client.get(f"/kiosk/qr/{CODE}").status_code == 404


def test_kiosk_static_files_are_served(client):
    for name in ("kiosk.js", "kiosk.css"):
        r = client.get(f"/kiosk/static/{name}")
        assert r.status_code == 200, name
        r.close()


def test_kiosk_loads_nothing_from_the_internet():
    for path in [*KIOSK.rglob("*.html"), *KIOSK.rglob("*.js"), *KIOSK.rglob("*.css")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), path


def test_kiosk_package_holds_no_sql():
    """Pages call the server's API; only the server touches the database."""
    for path in KIOSK.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names]
                module = getattr(node, "module", None) or ""
                for name in [module, *names]:
                    assert not name.startswith(("sqlalchemy", "server.models", "server.db")), (
                        f"{path}: imports {name}"
                    )

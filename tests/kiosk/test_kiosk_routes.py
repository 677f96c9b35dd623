"""The kiosk blueprint through the real app: the page, its timers and the QR image."""

from __future__ import annotations

import ast
import io
import json
import re
from pathlib import Path

import pytest
import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"
CODE = "vX_I6OL1HsL2auGE"  # the shape of secrets.token_urlsafe(12)


def page_config(html: str) -> dict:
    """The kiosk page's JSON config block (read by kiosk/static/js/kiosk.js)."""
    block = re.search(
        r'<script id="kiosk-config" type="application/json">(.*?)</script>', html, re.S
    )
    assert block, "no kiosk config block"
    return json.loads(block.group(1))


def test_kiosk_page_binds_centre_and_default_timers_but_no_station_from_the_url(client):
    r = client.get("/kiosk/?centre=3&station=7")
    assert r.status_code == 200
    config = page_config(r.get_data(as_text=True))
    assert config["centre_id"] == 3
    # A station comes only from a provisioned kiosk's credential (test_station_least_privilege)
    assert config["station_id"] is None
    assert config["idle_result"] == 20
    assert config["idle_menu"] == 60
    assert config["print_timeout"] == 8
    assert config["qr_url"] == "/kiosk/qr/CODE.png"
    assert config["home_url"] == "/kiosk/?centre=3"


def test_kiosk_timers_take_query_overrides_within_bounds(client):
    config = page_config(
        client.get("/kiosk/?idle=2&idle_menu=3.5&print_timeout=1").get_data(as_text=True)
    )
    assert (config["idle_result"], config["idle_menu"], config["print_timeout"]) == (2, 3.5, 1)
    config = page_config(
        client.get("/kiosk/?idle=0&idle_menu=abc&print_timeout=99999").get_data(as_text=True)
    )
    assert (config["idle_result"], config["idle_menu"], config["print_timeout"]) == (20, 60, 8)


def test_every_kiosk_page_has_its_config_and_no_inline_script(client, demo):
    for path in ("/kiosk/", "/kiosk/thu-tuc", "/kiosk/ho-so", "/kiosk/phan-anh"):
        html = client.get(path + "?centre=1&station=1&idle_menu=30").get_data(as_text=True)
        assert page_config(html)["idle_menu"] == 30, path
        assert 'id="idle"' in html, path  # the idle countdown
        for script in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
            attrs, _body = script
            assert "src=" in attrs or 'type="application/json"' in attrs, (path, attrs)
        assert " style=" not in html, path


def test_kiosk_page_without_centre_or_station_leaves_them_empty(client):
    config = page_config(client.get("/kiosk/").get_data(as_text=True))
    assert config["centre_id"] is None
    assert config["station_id"] is None


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
    for name in ("js/kiosk.js", "kiosk.css"):
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

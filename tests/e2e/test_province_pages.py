"""The province's pages in headless Chromium (issue 13, items 3-4): the public live waits
on a phone, "use my position" through the browser's geolocation, and the province board for
a province viewer; axe finds no serious or critical violation."""

from __future__ import annotations

import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import assert_axe_clean
from tests.e2e.conftest import ROOT
from tests.e2e.test_kiosk import _close_pages, _contexts  # noqa: F401

PHONE = {"width": 390, "height": 844}
VU_NINH = {"latitude": 21.1945, "longitude": 106.0887}


def _cli(live_server, *args: str, stdin: str = "") -> None:
    subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=live_server.env,
        cwd=ROOT,
        input=stdin.encode(),
        check=True,
        capture_output=True,
    )


@pytest.mark.browser
def test_live_waits_near_the_phone_and_the_province_board(live_server, browser, artifacts):
    base = live_server.url
    _cli(live_server, "demo", "--province", "3")
    _cli(live_server, "user", "add", "tinh", "--role", "viewer", stdin="xem-bao-cao-tinh\n")

    context = browser.new_context(
        viewport=PHONE,
        has_touch=True,
        locale="vi-VN",
        geolocation=VU_NINH,
        permissions=["geolocation"],
    )
    _contexts.append(context)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/thoi-gian-cho?centre=1")
    expect(page.locator("h1")).to_contain_text("Thời gian chờ hiện tại")
    expect(page.locator("#fields tbody tr")).to_have_count(7)
    assert_axe_clean(page, "thoi-gian-cho")
    page.locator("#use-position").tap()
    expect(page.locator("#near-status")).to_contain_text("vị trí của bạn")
    # Nobody is served anywhere yet: nearest first, Vũ Ninh where the phone is.
    expect(page.locator("#near .p-item").first).to_contain_text("VŨ NINH")
    assert_axe_clean(page, "thoi-gian-cho-near")
    page.screenshot(path=artifacts / "phone-waits-near.png")

    board = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    _contexts.append(board)
    board.set_default_timeout(10_000)
    desk = board.new_page()
    desk.on("pageerror", lambda e: errors.append(str(e)))
    desk.goto(f"{base}/province")
    desk.locator("#username").fill("tinh")
    desk.locator("#password").fill("xem-bao-cao-tinh")
    desk.locator("button[type=submit]").click()
    expect(desk.locator("#board tbody tr")).to_have_count(4)
    assert_axe_clean(desk, "province-board")
    desk.locator("#board tbody tr a").first.click()
    expect(desk).to_have_url(f"{base}/supervisor?centre=" + desk.url.rsplit("=", 1)[-1])
    desk.goto(f"{base}/province/reports")
    expect(desk.locator("#rank-commune tbody tr")).to_have_count(3)
    assert_axe_clean(desk, "province-reports")
    assert errors == []

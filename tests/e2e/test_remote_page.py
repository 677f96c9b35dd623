"""Lấy số từ xa on a phone-sized Chromium against the real server: choose a service, type
the mobile number, get the number and the check-in code; axe-clean; a screenshot."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.a11y import assert_axe_clean

PHONE = {"width": 390, "height": 844}


@pytest.mark.browser
def test_a_number_from_the_phone_page_with_its_check_in_code(live_server, browser, artifacts):
    context = browser.new_context(viewport=PHONE, has_touch=True, locale="vi-VN")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/lay-so")
        expect(page.locator("h1")).to_contain_text("Lấy số thứ tự từ xa")
        services = page.locator("input[name=service]")
        expect(services).to_have_count(4)  # the demo's HT1, HT2, CT1 and the bulk lane DN
        assert_axe_clean(page, "remote-page")
        page.locator("#phone").fill("12345")
        page.locator("#submit").tap()
        expect(page.locator("#error")).to_contain_text("Số điện thoại không hợp lệ")
        page.locator("#phone").fill("0912 345 678")
        with page.expect_response(lambda r: r.url.endswith("/api/v1/remote-tickets")) as info:
            page.locator("#submit").tap()
        ticket = info.value.json()
        expect(page.locator("#done")).to_be_visible()
        expect(page.locator("#code")).to_have_text(ticket["remote"]["code"])
        expect(page.locator("#number")).to_have_text(ticket["number"])
        assert_axe_clean(page, "remote-page-done")
        page.screenshot(path=str(artifacts / "remote-page-done.png"), full_page=True)
        # The code checks the number in at the kiosk.
        r = requests.post(
            f"{live_server.url}/api/v1/check-in",
            json={"code": ticket["remote"]["code"], "centre_id": 1},
            timeout=5,
        )
        assert r.status_code == 200 and r.json()["id"] == ticket["id"]
    finally:
        context.close()

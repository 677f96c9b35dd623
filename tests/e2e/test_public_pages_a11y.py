"""The citizen's pages on a phone (390×844) in headless Chromium: axe-core finds no serious
or critical violation on /t/<code> (waiting and called), /thu-tuc, a procedure, and
/phan-anh (empty, then with its consent fields open); the feedback form sends without an
inline script."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.a11y import assert_axe_clean
from tests.e2e.test_kiosk import _close_pages, _contexts  # noqa: F401

PHONE = {"width": 390, "height": 844}


def phone_page(browser, url: str):
    context = browser.new_context(viewport=PHONE, has_touch=True, locale="vi-VN")
    _contexts.append(context)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, errors


@pytest.mark.browser
def test_public_pages_have_no_serious_accessibility_violation(live_server, browser, artifacts):
    base = live_server.url
    ticket = requests.post(f"{base}/api/v1/tickets", json={"service_id": 1}, timeout=5).json()
    page, errors = phone_page(browser, f"{base}/t/{ticket['public_code']}")
    expect(page.locator("#ts-ahead")).to_have_text("0")
    expect(page.locator("#ts-estimate-box")).to_be_visible()
    assert_axe_clean(page, "ticket-waiting")
    headers = {"Authorization": "Bearer " + live_server.token("canbo1", "tthcc-canbo")}
    requests.post(f"{base}/api/v1/counters/1/call-next", headers=headers, timeout=5)
    expect(page.locator("#ts-counter")).to_have_text("Mời đến Quầy 1")
    assert_axe_clean(page, "ticket-called")
    page.screenshot(path=artifacts / "phone-ticket-called.png")

    page, errors2 = phone_page(browser, f"{base}/thu-tuc?q=khaisinh")
    expect(page.locator("#procedures .p-item").first).to_contain_text("Đăng ký khai sinh")
    assert_axe_clean(page, "thu-tuc")
    page.locator("#procedures .p-name").first.tap()
    expect(page.locator("#name")).to_have_text("Đăng ký khai sinh")
    assert_axe_clean(page, "thu-tuc-detail")

    page, errors3 = phone_page(browser, f"{base}/phan-anh")
    assert_axe_clean(page, "phan-anh")
    page.locator("#consent").check()
    expect(page.locator("#contact")).to_be_visible()
    assert_axe_clean(page, "phan-anh-consent")
    page.locator("#content").fill("Thủ tục rõ ràng, cán bộ nhiệt tình.")
    page.locator("#contact_phone").fill("0912345678")
    page.locator("#submit").tap()
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#reference")).not_to_be_empty()
    page.screenshot(path=artifacts / "phone-feedback-done.png")
    assert errors == errors2 == errors3 == []

"""The kiosk and a service's cut-off and daily cap, in headless Chromium against the real
server (whose clock is the real one: a cut-off of 00:00 is past at any time of day, and a
cap of 1 is reached by one ticket)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.test_kiosk import (
    PORTRAIT,
    _close_pages,  # noqa: F401 - closes the pages before the server stops
    open_kiosk,
)
from tests.e2e.test_kiosk_touch import measure


def _limit(server, service_code: str, **values) -> int:
    headers = {"Authorization": "Bearer " + server.token("admin", "tthcc-admin")}
    services = requests.get(f"{server.url}/api/v1/admin/services", headers=headers, timeout=5)
    [service] = [s for s in services.json() if s["code"] == service_code]
    r = requests.patch(
        f"{server.url}/api/v1/admin/services/{service['id']}",
        json=values,
        headers=headers,
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return service["id"]


@pytest.mark.browser
def test_closed_and_full_services_are_greyed_and_a_refusal_says_when_to_come_back(
    live_server, browser
):
    _limit(live_server, "HT1", issue_cutoff="00:00")
    ht2 = _limit(live_server, "HT2", daily_cap=1)
    kiosk = open_kiosk(browser, live_server.url, PORTRAIT)
    page = kiosk.page
    kiosk.tap_field("Hộ tịch")
    kiosk.wait_screen("services")
    ht1_button = page.locator(".k-service", has_text="Khai sinh")
    expect(ht1_button).to_have_attribute("data-state", "cutoff")
    expect(ht1_button).to_contain_text("Đã hết giờ cấp số")
    expect(page.locator(".k-service", has_text="Trích lục")).to_contain_text("Còn 1 số")

    # Another kiosk takes the last number; this one's list is now stale: the server says no.
    r = requests.post(f"{live_server.url}/api/v1/tickets", json={"service_id": ht2}, timeout=5)
    assert r.status_code == 201, r.text
    kiosk.tap_service("Trích lục")
    kiosk.wait_screen("confirm")
    response = kiosk.get_ticket_response()
    assert response.status == 409
    kiosk.wait_screen("error")
    expect(page.locator("#screen-error")).to_have_attribute("data-kind", "full")
    expect(page.locator("#error-title")).to_have_text("Hết số hôm nay")
    expect(page.locator("#error-title-en")).to_have_text("No numbers left today")
    expect(page.locator("#error-message")).to_contain_text("đã hết số hôm nay")
    expect(page.locator("#btn-retry")).to_be_hidden()

    # Back at the start the list is fresh: both services greyed, a tap explains, no request.
    with page.expect_response(lambda r: "/api/v1/catalog" in r.url):
        kiosk.tap("#btn-error-home")
    kiosk.wait_screen("fields")
    kiosk.tap_field("Hộ tịch")
    full = page.locator(".k-service", has_text="Trích lục")
    expect(full).to_have_attribute("data-state", "full")
    expect(full).to_contain_text("Hết số hôm nay")
    measure(page, "services-closed")
    posts = len(kiosk.posts)
    kiosk.tap_locator(page.locator(".k-service", has_text="Khai sinh"))
    kiosk.wait_screen("error")
    expect(page.locator("#screen-error")).to_have_attribute("data-kind", "closed")
    expect(page.locator("#error-title")).to_have_text("Đã hết giờ cấp số hôm nay")
    expect(page.locator("#error-message")).to_contain_text("chỉ cấp số đến 00:00")
    measure(page, "refusal-closed")
    assert len(kiosk.posts) == posts

    # The centre closes today (/admin/closures): every service greyed, the refusal says why.
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    headers = {"Authorization": "Bearer " + live_server.token("admin", "tthcc-admin")}
    r = requests.post(
        f"{live_server.url}/api/v1/centres/1/closures",
        json={"day": today, "reason": "Sửa chữa điện"},
        headers=headers,
        timeout=5,
    )
    assert r.status_code == 201, r.text
    with page.expect_response(lambda r: "/api/v1/catalog" in r.url):
        kiosk.tap("#btn-error-home")
    kiosk.wait_screen("fields")
    kiosk.tap_field("Hộ tịch")
    closed = page.locator(".k-service", has_text="Trích lục")
    expect(closed).to_have_attribute("data-state", "closure")
    expect(closed).to_contain_text("Trung tâm nghỉ hôm nay")
    kiosk.tap_locator(closed)
    kiosk.wait_screen("error")
    expect(page.locator("#error-title")).to_have_text("Hôm nay trung tâm nghỉ")
    expect(page.locator("#error-message")).to_contain_text("Hôm nay trung tâm nghỉ: Sửa chữa điện.")
    assert len(kiosk.posts) == posts

"""Know what to bring, on the kiosk in headless Chromium with the demo station's real agent:
from the service screen, the papers of its procedures, printed on the (simulated) ticket
printer through python-escpos before any number is taken."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_kiosk import (
    PORTRAIT,
    _close_pages,  # noqa: F401 - closes the pages before the server stops
    open_kiosk,
)
from tests.e2e.test_kiosk_printing import agent, printed_files  # noqa: F401 - fixture
from tests.e2e.test_kiosk_touch import measure


@pytest.mark.browser
def test_the_papers_of_a_service_print_on_the_kiosk_before_a_number_is_taken(
    live_server,
    browser,
    agent,  # noqa: F811
):
    kiosk = open_kiosk(browser, live_server.url, PORTRAIT)
    page = kiosk.page
    kiosk.tap_field("Hộ tịch")
    kiosk.tap_service("Khai sinh")
    kiosk.wait_screen("confirm")
    link = page.locator("#btn-papers")
    expect(link).to_be_visible()
    link.tap()
    page.wait_for_url("**/kiosk/thu-tuc?**service=**")
    page.locator("#screen-list").wait_for(state="visible")
    expect(page.locator("#list-title")).to_have_text(
        "Giấy tờ cần mang: Khai sinh, kết hôn, khai tử"
    )
    items = page.locator("#procedures .k-item")
    expect(items).to_have_count(3)
    items.filter(has_text="Đăng ký khai sinh").tap()
    page.locator("#screen-detail").wait_for(state="visible")
    expect(page.locator("#p-papers li").first).to_be_visible()
    expect(page.locator("#p-qr-box")).to_be_hidden()  # a loopback address: no QR for phones
    with page.expect_response(lambda r: r.url.endswith("/print")) as info:
        page.locator("#btn-print-papers").tap()
    job_id = info.value.json()["print_job_id"]
    expect(page.locator("#papers-status")).to_contain_text(
        "Mời quý khách nhận danh sách giấy tờ", timeout=15_000
    )
    assert printed_files(live_server, job_id) == [f"{job_id}.bin", f"{job_id}.png"]
    assert kiosk.posts == []  # no ticket was taken
    measure(page, "papers-printed")

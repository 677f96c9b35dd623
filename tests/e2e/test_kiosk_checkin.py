"""A number taken from a phone, checked in at the kiosk by its code (headless Chromium,
the real server): the keypad, the ticket on the result screen, a wrong code explained."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.test_kiosk import (
    PORTRAIT,
    _close_pages,  # noqa: F401 - closes the pages before the server stops
    open_kiosk,
)
from tests.e2e.test_kiosk_touch import measure


@pytest.mark.browser
def test_a_phone_number_checks_in_on_the_keypad_a_wrong_code_is_explained_a_lost_answer_retried(
    live_server, browser
):
    taken = requests.post(
        f"{live_server.url}/api/v1/remote-tickets",
        json={"service_id": 1, "phone": "0912345678"},
        timeout=5,
    )
    assert taken.status_code == 201, taken.text
    number, code = taken.json()["number"], taken.json()["remote"]["code"]
    kiosk = open_kiosk(browser, live_server.url, PORTRAIT, "print_timeout=1")
    page = kiosk.page

    kiosk.tap("#btn-checkin")
    kiosk.wait_screen("checkin")
    measure(page, "checkin")
    wrong = "000000" if code != "000000" else "111111"
    for digit in wrong:
        kiosk.tap(f'#checkin-keypad [data-digit="{digit}"]')
    expect(page.locator("#checkin-code")).to_have_text(wrong)
    kiosk.tap("#btn-checkin-ok")
    kiosk.wait_screen("error")
    expect(page.locator("#error-title")).to_have_text("Không xác nhận được mã")
    expect(page.locator("#error-message")).to_contain_text("Không tìm thấy số thứ tự hôm nay")

    kiosk.tap("#btn-retry")
    kiosk.wait_screen("checkin")
    for digit in code:
        kiosk.tap(f'#checkin-keypad [data-digit="{digit}"]')
    lost: list[dict] = []

    def lose_the_first_answer(route) -> None:
        if lost:
            route.continue_()
            return
        lost.append(route.fetch().json())  # the server checks the number in...
        route.abort("connectionreset")  # ...and the page never hears of it

    page.route("**/api/v1/check-in", lose_the_first_answer)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/check-in")) as info:
        kiosk.tap("#btn-checkin-ok")
    # The page asked again by itself: the same number, checked in once, printed once.
    assert lost[0]["checked_in_now"] is True and lost[0]["number"] == number
    assert info.value.status == 200
    assert info.value.json()["checked_in_now"] is False
    kiosk.wait_screen("result")
    expect(page.locator("#result-number")).to_have_text(number)
    assert kiosk.posts == []  # no new ticket: the one from the phone


@pytest.mark.browser
def test_a_remote_only_centre_greys_every_service_and_puts_the_check_in_first(live_server, browser):
    headers = {"Authorization": "Bearer " + live_server.token("admin", "tthcc-admin")}
    r = requests.patch(
        f"{live_server.url}/api/v1/admin/centres/1",
        json={"remote_only": True},
        headers=headers,
        timeout=5,
    )
    assert r.status_code == 200, r.text
    kiosk = open_kiosk(browser, live_server.url, PORTRAIT)
    page = kiosk.page
    expect(page.locator("#btn-checkin")).to_have_class(re.compile(r"\bis-primary\b"))
    kiosk.tap_field("Hộ tịch")
    kiosk.wait_screen("services")
    expect(page.locator(".k-service.is-closed")).to_have_count(2)
    expect(page.locator(".k-service").first).to_contain_text("Lấy số qua điện thoại")
    kiosk.tap_locator(page.locator(".k-service").first)
    kiosk.wait_screen("error")
    expect(page.locator("#error-title")).to_have_text("Chỉ lấy số qua điện thoại")
    expect(page.locator("#error-message")).to_contain_text("Đã có mã từ điện thoại")
    assert kiosk.posts == []

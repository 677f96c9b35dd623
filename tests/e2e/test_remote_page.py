"""Lấy số từ xa on a phone-sized Chromium against the real server: choose a service, type
the mobile number, get the number and the check-in code; axe-clean; a screenshot. A press
whose answer is lost is retried with its Idempotency-Key into one number."""

from __future__ import annotations

import time

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
        _a_lost_answer_is_retried_into_one_number(page, live_server.url)
    finally:
        context.close()


def _a_lost_answer_is_retried_into_one_number(page, url: str) -> None:
    """The first POST reaches the server (the number is taken) but its answer is lost on
    the hall's Wi-Fi; the page says «Đang thử lại…», sends the same Idempotency-Key again
    and shows that number: one number taken."""
    answers: list[tuple[int, str | None, dict]] = []
    held: list = []

    def lose_the_first_answer(route) -> None:
        key = route.request.headers.get("idempotency-key")
        if not answers:
            response = route.fetch()  # the server takes the number...
            answers.append((response.status, key, response.json()))
            route.abort("connectionreset")  # ...and the phone never hears of it
        else:
            held.append((route, key))  # the retry waits until the page is seen retrying

    page.goto(f"{url}/lay-so")
    page.route("**/api/v1/remote-tickets", lose_the_first_answer)
    page.locator("input[name=service]").nth(1).check()
    page.locator("#phone").fill("0987 654 321")
    page.locator("#submit").tap()
    expect(page.locator("#retrying")).to_contain_text("Đang thử lại")
    expect(page.locator("#retrying")).to_contain_text("Trying again")
    deadline = time.monotonic() + 5
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # the retry leaves after a short wait
    assert len(held) == 1, held
    route, retry_key = held[0]
    status, first_key, first = answers[0]
    assert status == 201 and first_key and first_key.startswith("p-") and retry_key == first_key
    with page.expect_response(lambda r: r.url.endswith("/api/v1/remote-tickets")) as info:
        route.continue_()
    assert info.value.status == 200 and info.value.headers["idempotent-replayed"] == "true"
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#number")).to_have_text(first["number"])
    expect(page.locator("#code")).to_have_text(first["remote"]["code"])
    expect(page.locator("#retrying")).to_be_hidden()
    page.unroute("**/api/v1/remote-tickets")
    # One number was taken: the next one of the service is the next number.
    nxt = requests.post(
        f"{url}/api/v1/remote-tickets",
        json={"service_id": first["service_id"], "phone": "0903 123 456"},
        timeout=5,
    ).json()
    assert nxt["number_value"] == first["number_value"] + 1

"""Đặt lịch hẹn on a phone-sized Chromium against the real server: book a slot (held while
the number is typed), check in at the kiosk by the code on its keypad (and another by a
scanner typing it), and the counter page calls the booking ahead of a walk-in; axe-clean; a
screenshot of the booked page. A press whose answer is lost is retried with its
Idempotency-Key into one booking."""

from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.a11y import assert_axe_clean
from tests.e2e.counter.conftest import CounterUI
from tests.e2e.test_kiosk import (
    PORTRAIT,
    _close_pages,  # noqa: F401 - closes the pages before the server stops
    open_kiosk,
)

PHONE = {"width": 390, "height": 844}


@pytest.mark.browser
def test_book_on_the_phone_check_in_at_the_kiosk_and_the_counter_calls_it(
    live_server, browser, artifacts
):
    api = f"{live_server.url}/api/v1"
    admin = {"Authorization": f"Bearer {live_server.token('admin', 'tthcc-admin')}"}
    # Open every day, five-minute slots: the next slot starts within the ±10-minute
    # check-in window whatever the wall clock says.
    r = requests.patch(
        f"{api}/admin/centres/1",
        json={"opening_hours": "T2-CN 00:00-23:55"},
        headers=admin,
        timeout=5,
    )
    assert r.status_code == 200, r.text
    r = requests.patch(
        f"{api}/admin/services/1", json={"appointment_minutes": 5}, headers=admin, timeout=5
    )
    assert r.status_code == 200, r.text
    walk_in = requests.post(f"{api}/tickets", json={"service_id": 1}, timeout=5).json()

    context = browser.new_context(viewport=PHONE, has_touch=True, locale="vi-VN")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/dat-lich")
        expect(page.locator("h1")).to_contain_text("Đặt lịch hẹn")
        expect(page.locator("input[name=service]")).to_have_count(2)  # the demo's HT1, DD
        first = page.locator("#slots button.p-slot").first
        expect(first).to_be_enabled()
        with page.expect_response(lambda r: r.url.endswith("/appointment-holds")) as held:
            first.tap()
        assert held.value.status == 201
        expect(page.locator("#held")).to_be_visible()
        expect(page.locator("#countdown")).to_contain_text("4:5")
        assert_axe_clean(page, "appointments-page-held")
        page.screenshot(path=str(artifacts / "appointments-page-held.png"), full_page=True)
        page.locator("#phone").fill("0912 345 678")
        with page.expect_response(lambda r: r.url.endswith("/api/v1/appointments")) as info:
            page.locator("#confirm").tap()
        booking = info.value.json()
        assert info.value.status == 201, booking
        expect(page.locator("#done")).to_be_visible()
        expect(page.locator("#code")).to_have_text(booking["code"])
        expect(page.locator("#qr")).to_have_js_property("complete", True)
        assert page.locator("#qr").evaluate("img => img.naturalWidth") > 0
        assert_axe_clean(page, "appointments-page-done")
        page.screenshot(path=str(artifacts / "appointments-page-done.png"), full_page=True)
        _a_lost_answer_is_retried_into_one_booking(page, live_server.url)
    finally:
        context.close()

    kiosk = open_kiosk(browser, live_server.url, PORTRAIT, "print_timeout=1")
    kiosk.tap("#btn-checkin")
    kiosk.wait_screen("checkin")
    for digit in booking["code"]:
        kiosk.tap(f'#checkin-keypad [data-digit="{digit}"]')
    with kiosk.page.expect_response(lambda r: r.url.endswith("/api/v1/check-in")) as checked:
        kiosk.tap("#btn-checkin-ok")
    ticket = checked.value.json()
    assert checked.value.status == 200, ticket
    assert ticket["appointment"]["arrival"] == "on_time" and ticket["is_priority"] is True
    kiosk.wait_screen("result")
    expect(kiosk.page.locator("#result-number")).to_have_text(ticket["number"])

    # A QR scanner (keyboard wedge) types another booking's code and Enter on the start
    # screen: the kiosk opens the check-in and sends it.
    slots = requests.get(f"{api}/appointments/slots?service_id=1", timeout=5).json()
    free = next(s for d in slots["days"] for s in d["slots"] if s["free"])
    other = requests.post(
        f"{api}/appointments",
        json={"service_id": 1, "start": free["start"], "phone": "0912000002"},
        timeout=5,
    ).json()
    kiosk.tap("#screen-result [data-action=home]")
    kiosk.wait_screen("fields")
    with kiosk.page.expect_response(lambda r: r.url.endswith("/api/v1/check-in")) as scanned:
        kiosk.page.keyboard.type(other["code"])
        kiosk.page.keyboard.press("Enter")
    assert scanned.value.status == 200, scanned.value.text()
    kiosk.wait_screen("result")
    expect(kiosk.page.locator("#result-number")).to_have_text(scanned.value.json()["number"])

    # The counter page: its staff take counter 1 and press "Gọi tiếp": the booking comes
    # before the walk-in who came first.
    counter = CounterUI(
        browser.new_context(viewport={"width": 1366, "height": 768}).new_page(), live_server.url, []
    )
    try:
        counter.start_at(1)
        counter.page.click("#btn-next")
        expect(counter.page.locator("#ticket-number")).to_have_text(ticket["number"])
        assert ticket["number"] != walk_in["number"]
    finally:
        counter.page.context.close()


def _a_lost_answer_is_retried_into_one_booking(page, url: str) -> None:
    """The first POST reaches the server (the seat is booked) but its answer is lost on the
    hall's Wi-Fi; the page says «Đang thử lại…», sends the same Idempotency-Key again and
    shows that booking: one booking made (the phone's quota of 2 has one seat left)."""
    answers: list[tuple[int, str | None, dict]] = []
    held: list = []

    def lose_the_first_answer(route) -> None:
        key = route.request.headers.get("idempotency-key")
        if not answers:
            response = route.fetch()  # the server books the seat...
            answers.append((response.status, key, response.json()))
            route.abort("connectionreset")  # ...and the phone never hears of it
        else:
            held.append((route, key))  # the retry waits until the page is seen retrying

    phone = "0987 654 321"
    page.goto(f"{url}/dat-lich")
    page.route("**/api/v1/appointments", lose_the_first_answer)
    slot = page.locator("#slots button.p-slot:enabled").nth(1)
    with page.expect_response(lambda r: r.url.endswith("/appointment-holds")) as hold:
        slot.tap()
    assert hold.value.status == 201
    page.locator("#phone").fill(phone)
    page.locator("#confirm").tap()
    expect(page.locator("#retrying")).to_contain_text("Đang thử lại")
    expect(page.locator("#retrying")).to_contain_text("Trying again")
    deadline = time.monotonic() + 5
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # the retry leaves after a short wait
    assert len(held) == 1, held
    route, retry_key = held[0]
    status, first_key, first = answers[0]
    assert status == 201 and first_key and first_key.startswith("b-") and retry_key == first_key
    with page.expect_response(lambda r: r.url.endswith("/api/v1/appointments")) as info:
        route.continue_()
    assert info.value.status == 200 and info.value.headers["idempotent-replayed"] == "true"
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#code")).to_have_text(first["code"])
    expect(page.locator("#retrying")).to_be_hidden()
    page.unroute("**/api/v1/appointments")
    # One booking was made: the phone's quota (2) takes one more, then refuses.
    slots = requests.get(f"{url}/api/v1/appointments/slots?service_id=1", timeout=5).json()
    free = [s["start"] for d in slots["days"] for s in d["slots"] if s["free"]][-2:]
    answers_after = [
        requests.post(
            f"{url}/api/v1/appointments",
            json={"service_id": 1, "start": start, "phone": phone},
            timeout=5,
        ).status_code
        for start in free
    ]
    assert answers_after == [201, 429], answers_after

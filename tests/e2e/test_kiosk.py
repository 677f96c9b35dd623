"""The kiosk page in real headless Chromium against the real server (gunicorn + gevent).

A citizen's taps are real touch events on a touchscreen context; tickets are checked
through the API. Screenshots of the start and result screens, in both orientations, go to
test-artifacts/. The printed path, with the station agent running, is in
test_kiosk_printing.py.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, Response, expect

PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
ORIENTATIONS = {"portrait": PORTRAIT, "landscape": LANDSCAPE}

#: Counts every touch/click the citizen makes, so a test can assert the number of taps.
COUNT_TAPS = """
window.__taps = 0;
document.addEventListener("pointerdown", function () { window.__taps += 1; }, true);
"""


def kiosk_path(base_url: str) -> str:
    """The kiosk link of the demo centre on the home page: the demo kiosk's provisioning
    address, which makes the browser the demo kiosk and opens the kiosk page."""
    html = requests.get(base_url + "/", timeout=5).text
    match = re.search(r'href="(/kiosk/provision\?[^"]+)"', html)
    assert match, "the home page links no kiosk"
    return match.group(1).replace("&amp;", "&")


def catalog(base_url: str) -> dict[str, Any]:
    return requests.get(base_url + "/api/v1/catalog", timeout=5).json()


def field_named(cat: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in cat["fields"] if f["name"] == name)


def issue_via_api(base_url: str, service_id: int, **extra: Any) -> dict[str, Any]:
    r = requests.post(
        base_url + "/api/v1/tickets", json={"service_id": service_id, **extra}, timeout=5
    )
    assert r.status_code == 201, r.text
    return r.json()


def get_ticket(base_url: str, ticket_id: int) -> dict[str, Any]:
    """A ticket by id, as the centre's supervisor (ids are for its centre's users only)."""
    token = requests.post(
        f"{base_url}/api/v1/auth/token",
        json={"username": "giamsat", "password": "tthcc-giamsat"},
        timeout=5,
    ).json()["token"]
    r = requests.get(
        f"{base_url}/api/v1/tickets/{ticket_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return r.json()


@dataclass
class Kiosk:
    """A kiosk page in a touchscreen browser context."""

    page: Page
    base_url: str
    posts: list[str] = field(default_factory=list)

    def tap(self, selector: str) -> None:
        self.tap_locator(self.page.locator(selector))

    def tap_locator(self, locator: Locator) -> None:
        """Tap once the button takes taps (each new screen ignores them for a moment)."""
        self.wait_enabled(locator)
        locator.tap()

    def wait_enabled(self, locator: Locator) -> None:
        # Polls every frame: quicker than the click's own retry back-off.
        self.page.wait_for_function("b => !b.disabled", arg=locator.element_handle())

    def taps(self) -> int:
        return self.page.evaluate("window.__taps")

    def screen(self) -> str:
        return self.page.locator("#kiosk").get_attribute("data-screen") or ""

    def wait_screen(self, name: str, timeout: float = 10_000) -> None:
        self.page.locator(f"#screen-{name}").wait_for(state="visible", timeout=timeout)

    def tap_field(self, name: str) -> None:
        self.tap_locator(self.page.locator(".k-field", has_text=name))

    def tap_service(self, name: str) -> None:
        self.tap_locator(self.page.locator(".k-service", has_text=name))

    def get_ticket_response(self, selector: str = "#btn-get") -> Response:
        """Tap the button that issues, and return the POST /api/v1/tickets response."""
        with self.page.expect_response(
            lambda r: r.url.endswith("/api/v1/tickets") and r.request.method == "POST"
        ) as info:
            self.tap(selector)
        return info.value

    def number(self) -> str:
        return self.page.locator("#result-number").inner_text().strip()

    def ahead(self) -> int:
        return int(self.page.locator("#result-ahead").inner_text())


def open_kiosk(
    browser: Browser, base_url: str, viewport: dict[str, int], query: str = "", path: str = ""
) -> Kiosk:
    """A touchscreen context at `viewport`, on the kiosk page as linked from the home page."""
    context = browser.new_context(viewport=viewport, has_touch=True, locale="vi-VN")
    _contexts.append(context)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.add_init_script(COUNT_TAPS)
    kiosk = Kiosk(page, base_url)
    page.on(
        "request",
        lambda r: (
            kiosk.posts.append(r.url)
            if r.method == "POST" and r.url.endswith("/api/v1/tickets")
            else None
        ),
    )
    url = base_url + (path or kiosk_path(base_url))
    if query:
        url += ("&" if "?" in url else "?") + query
    page.goto(url)
    kiosk.wait_screen("fields")
    return kiosk


_contexts: list[Any] = []


@pytest.fixture(autouse=True)
def _close_pages(live_server):
    """Close the pages before the server stops, so it need not wait for their sockets."""
    yield
    while _contexts:
        _contexts.pop().close()


# --- the common case -----------------------------------------------------------------

CLOCK = re.compile(r"^(Thứ (Hai|Ba|Tư|Năm|Sáu|Bảy)|Chủ Nhật), \d{2}/\d{2}/\d{4} \d{2}:\d{2}$")


CONTRAST_JS = """
buttons => {
  const lum = c => {
    const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  return buttons.filter(b => b.offsetParent !== null).map(b => {
    const style = getComputedStyle(b);
    const [hi, lo] = [lum(style.color), lum(style.backgroundColor)].sort((x, y) => y - x);
    return [b.textContent.trim().slice(0, 30), b.getBoundingClientRect().height,
            (hi + 0.05) / (lo + 0.05), parseFloat(style.fontSize)];
  });
}
"""


def assert_touch_friendly(page: Page) -> None:
    """Visible buttons: at least 120 px tall, text at 7:1 contrast (WCAG AAA), 30 px or more.

    And the page's font stack starts with one that has every Vietnamese glyph.
    """
    buttons = page.eval_on_selector_all("button", CONTRAST_JS)
    assert buttons, "no visible button"
    small = [(text, h) for text, h, _, _ in buttons if h < 120]
    assert not small, f"buttons under 120 px: {small}"
    faint = [(text, round(ratio, 1)) for text, _, ratio, _ in buttons if ratio < 7]
    assert not faint, f"buttons under 7:1 contrast: {faint}"
    tiny = [(text, size) for text, _, _, size in buttons if size < 30]
    assert not tiny, f"button text under 30 px: {tiny}"
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert font.startswith('"DejaVu Sans"')


@pytest.mark.browser
@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_field_service_get_ticket_in_three_taps_issues_the_ticket_shown(
    live_server, browser, artifacts, orientation
):
    base = live_server.url
    cat = catalog(base)
    civil = field_named(cat, "Hộ tịch")
    service = civil["services"][1]
    for _ in range(2):  # two people already waiting in that line
        issue_via_api(base, service["id"])

    kiosk = open_kiosk(browser, base, ORIENTATIONS[orientation], "print_timeout=1")
    page = kiosk.page
    expect(page.locator("#centre-name")).to_have_text(cat["centre"]["name"])
    expect(page.locator("#centre-sub")).to_have_text(cat["centre"]["subtitle"])
    expect(page.locator("#clock")).to_have_text(CLOCK)
    expect(page.locator(".k-field")).to_have_count(len(cat["fields"]))
    expect(page.locator(".k-field", has_text="Hộ tịch")).to_contain_text("Civil status")
    assert_touch_friendly(page)
    page.screenshot(path=artifacts / f"kiosk-{orientation}-start.png")

    kiosk.tap_field("Hộ tịch")
    kiosk.wait_screen("services")
    assert_touch_friendly(page)
    kiosk.tap_service(service["name"])
    kiosk.wait_screen("confirm")
    expect(page.locator("#confirm-service")).to_have_text(service["name"])
    assert_touch_friendly(page)
    response = kiosk.get_ticket_response()
    assert response.status == 201
    issued = response.json()
    kiosk.wait_screen("result")
    assert kiosk.taps() == 3

    ticket = get_ticket(base, issued["id"])
    assert ticket["service_id"] == service["id"]
    assert ticket["print_job_id"] == issued["print_job_id"] is not None  # the kiosk's station
    assert kiosk.number() == ticket["number"]
    assert kiosk.ahead() == 2 == ticket["waiting_ahead"]
    expect(page.locator("#result-service")).to_have_text(service["name"])
    expect(page.locator("#screen-result")).to_contain_text("Số người chờ trước: 2")
    # No agent runs here: after the (shortened) wait the number and QR are shown.
    expect(page.locator("#print-fallback")).to_be_visible()
    assert_touch_friendly(page)
    page.screenshot(path=artifacts / f"kiosk-{orientation}-result.png")
    assert kiosk.posts == [base + "/api/v1/tickets"]


@pytest.mark.browser
def test_field_with_one_service_goes_straight_to_get_ticket_in_two_taps(live_server, browser):
    base = live_server.url
    land = field_named(catalog(base), "Đất đai")
    assert len(land["services"]) == 1
    kiosk = open_kiosk(browser, base, PORTRAIT)
    kiosk.tap_field("Đất đai")
    kiosk.wait_screen("confirm")
    expect(kiosk.page.locator("#confirm-service")).to_have_text(land["services"][0]["name"])
    issued = kiosk.get_ticket_response().json()
    kiosk.wait_screen("result")
    assert kiosk.taps() == 2
    assert issued["service_id"] == land["services"][0]["id"]
    assert kiosk.number() == issued["number"]


@pytest.mark.browser
def test_back_button_on_every_step_returns_to_the_previous_screen(live_server, browser):
    kiosk = open_kiosk(browser, live_server.url, LANDSCAPE)
    kiosk.tap_field("Chứng thực")
    kiosk.wait_screen("services")
    kiosk.tap("#screen-services .k-back")
    kiosk.wait_screen("fields")
    kiosk.tap_field("Chứng thực")
    kiosk.tap(".k-service >> nth=0")
    kiosk.wait_screen("confirm")
    kiosk.tap("#screen-confirm .k-back")
    kiosk.wait_screen("services")
    kiosk.tap("#screen-services .k-back")
    kiosk.wait_screen("fields")
    kiosk.tap_field("Xây dựng")  # one service: back from the last step goes to the fields
    kiosk.wait_screen("confirm")
    kiosk.tap("#screen-confirm .k-back")
    kiosk.wait_screen("fields")
    assert kiosk.posts == []


# --- no double tickets -----------------------------------------------------------------


def double_tap(kiosk: Kiosk, selector: str) -> None:
    """Two real touches 60 ms apart on the centre of an element, with no waiting between."""
    page = kiosk.page
    kiosk.wait_enabled(page.locator(selector))
    box = page.locator(selector).bounding_box()
    assert box
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.touchscreen.tap(x, y)
    page.wait_for_timeout(60)
    page.touchscreen.tap(x, y)


@pytest.mark.browser
def test_double_tap_issues_only_one_ticket(live_server, browser):
    base = live_server.url
    service = field_named(catalog(base), "Hộ tịch")["services"][0]
    kiosk = open_kiosk(browser, base, PORTRAIT)
    page = kiosk.page
    # A double tap on a field must not also choose the service under the finger.
    double_tap(kiosk, ".k-field >> nth=0")
    kiosk.wait_screen("services")
    page.wait_for_timeout(500)
    assert kiosk.screen() == "services"
    kiosk.tap_service(service["name"])
    kiosk.wait_screen("confirm")
    double_tap(kiosk, "#btn-get")
    kiosk.wait_screen("result")
    page.wait_for_timeout(700)
    assert len(kiosk.posts) == 1
    # The next number of that line goes to the next person: nothing was issued in between.
    shown = int(kiosk.number())
    assert int(issue_via_api(base, service["id"])["number"]) == shown + 1


# --- priority ----------------------------------------------------------------------------


@pytest.mark.browser
def test_priority_category_issues_a_priority_ticket(live_server, browser):
    base = live_server.url
    cat = catalog(base)
    disability = next(c for c in cat["priority_categories"] if c["code"] == "nguoi_khuyet_tat")
    service = field_named(cat, "Hộ tịch")["services"][0]
    issue_via_api(base, service["id"])  # a normal ticket waits: a priority one is not behind it
    kiosk = open_kiosk(browser, base, PORTRAIT)
    page = kiosk.page
    kiosk.tap_field("Hộ tịch")
    kiosk.tap_service(service["name"])
    kiosk.wait_screen("confirm")
    expect(page.locator("#priority-list")).to_be_hidden()
    kiosk.tap("#btn-priority")
    expect(page.locator("#btn-priority")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#btn-get")).to_be_hidden()  # no "priority on, nothing chosen" state
    names = page.locator(".k-category").all_inner_texts()
    assert [n.split("\n")[0] for n in names] == [c["name"] for c in cat["priority_categories"]]
    assert_touch_friendly(page)
    response = kiosk.get_ticket_response(f'.k-category[data-category-id="{disability["id"]}"]')
    kiosk.wait_screen("result")
    ticket = get_ticket(base, response.json()["id"])
    assert ticket["is_priority"] is True
    assert ticket["priority_category_id"] == disability["id"]
    assert kiosk.ahead() == ticket["waiting_ahead"] == 0
    expect(page.locator("#result-priority")).to_have_text("Ưu tiên: " + disability["name"])
    assert kiosk.taps() == 4

    # The toggle closes again, and the next citizen starts without it.
    kiosk.tap("#screen-result .k-done")
    kiosk.wait_screen("fields")
    kiosk.tap_field("Đất đai")
    kiosk.wait_screen("confirm")
    expect(page.locator("#btn-priority")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#btn-get")).to_be_visible()


# --- idle --------------------------------------------------------------------------------


@pytest.mark.browser
def test_idle_returns_to_the_start_screen(live_server, browser):
    kiosk = open_kiosk(browser, live_server.url, LANDSCAPE, "idle=1&idle_menu=1.5")
    kiosk.tap_field("Hộ tịch")
    kiosk.wait_screen("services")
    started = time.monotonic()
    kiosk.wait_screen("fields", timeout=5_000)
    assert time.monotonic() - started >= 1.0  # not before the menu's idle time (1.5 s)

    kiosk.tap_field("Đất đai")
    kiosk.get_ticket_response()
    kiosk.wait_screen("result")
    started = time.monotonic()
    kiosk.wait_screen("fields", timeout=5_000)
    assert 0.6 <= time.monotonic() - started < 6
    expect(kiosk.page.locator("#fields-grid .k-field")).not_to_have_count(0)


# --- no printer answer ------------------------------------------------------------------


def assert_number_and_qr(kiosk: Kiosk, issued: dict[str, Any], *, qr: bool = True) -> None:
    """The printer-fault fallback: the number in large print, and a QR code of the ticket's
    page when phones can reach it (a non-loopback public URL), else "remember the number"."""
    page = kiosk.page
    expect(page.locator("#print-fallback")).to_be_visible()
    expect(page.locator("#print-ok")).to_be_hidden()
    assert kiosk.number() == issued["number"]
    qr_image = page.locator("#result-qr")
    if not qr:
        expect(page.locator("#print-fallback")).to_contain_text(
            "Máy in đang gặp sự cố, quý khách vui lòng ghi nhớ số thứ tự"
        )
        expect(qr_image).to_be_hidden()
        return
    expect(page.locator("#print-fallback")).to_contain_text(
        "Máy in đang gặp sự cố, quý khách vui lòng ghi nhớ số hoặc chụp ảnh mã QR"
    )
    expect(qr_image).to_have_attribute("src", f"/kiosk/qr/{issued['public_code']}.png")
    page.wait_for_function("document.getElementById('result-qr').complete")
    assert page.eval_on_selector("#result-qr", "img => img.naturalWidth") > 0
    box = qr_image.bounding_box()
    assert box and box["width"] >= 300  # big enough for a phone camera at arm's length


@pytest.mark.browser
def test_no_printer_answer_shows_the_number_and_a_qr_code(public_server, browser, artifacts):
    kiosk = open_kiosk(browser, public_server.url, PORTRAIT, "print_timeout=1.5")
    kiosk.tap_field("Đất đai")
    response = kiosk.get_ticket_response()
    assert response.status == 201, response.text()
    issued = response.json()
    assert issued["print_job_id"]  # the demo kiosk has a printer, but no agent runs
    kiosk.wait_screen("result")
    expect(kiosk.page.locator("#print-pending")).to_be_visible()
    assert_number_and_qr(kiosk, issued)
    big = kiosk.page.eval_on_selector(
        "#result-number", "n => parseFloat(getComputedStyle(n).fontSize)"
    )
    assert big >= 250


@pytest.mark.browser
def test_kiosk_without_a_station_shows_the_qr_at_once(public_server, browser):
    kiosk = open_kiosk(browser, public_server.url, LANDSCAPE, path="/kiosk/")
    kiosk.tap_field("Đất đai")
    issued = kiosk.get_ticket_response().json()
    assert issued["print_job_id"] is None
    kiosk.wait_screen("result")
    expect(kiosk.page.locator("#print-fallback")).to_be_visible(timeout=1_000)
    assert_number_and_qr(kiosk, issued)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.browser
def test_server_errors_show_a_calm_message_and_retry_works(live_server, browser):
    kiosk = open_kiosk(browser, live_server.url, PORTRAIT)
    page = kiosk.page
    answers = [
        (500, {"message": "Traceback …"}),
        (422, {"message": "Dịch vụ «Đất đai» hiện không nhận phiếu.", "message_en": "inactive"}),
    ]

    def fail_once(route):
        status, body = answers.pop(0)
        route.fulfill(status=status, json=body)

    page.route("**/api/v1/tickets", fail_once)
    kiosk.tap_field("Đất đai")
    kiosk.tap("#btn-get")
    kiosk.wait_screen("error")
    expect(page.locator("#error-message")).to_have_text(
        "Xin lỗi, hệ thống đang bận. Quý khách vui lòng thử lại."
    )  # never the server's internals
    assert_touch_friendly(page)
    kiosk.tap("#btn-retry")
    expect(page.locator("#error-message")).to_have_text("Dịch vụ «Đất đai» hiện không nhận phiếu.")
    page.unroute("**/api/v1/tickets")
    kiosk.tap("#btn-retry")
    kiosk.wait_screen("result")
    assert re.fullmatch(r"\d+", kiosk.number())


@pytest.mark.browser
def test_server_down_then_back_retry_and_socket_reconnect(live_server, browser):
    # A press keeps trying for `retry_for` seconds (10 by default) before it gives up.
    kiosk = open_kiosk(browser, live_server.url, PORTRAIT, "retry_for=1")
    page = kiosk.page
    root = page.locator("#kiosk")
    expect(root).to_have_attribute("data-socket", "connected")
    live_server.stop()
    expect(root).to_have_attribute("data-socket", "disconnected")
    kiosk.tap_field("Đất đai")
    kiosk.tap("#btn-get")
    kiosk.wait_screen("error")
    # Whether the lost press took a number is unknown: «Thử lại» never takes a second one.
    expect(page.locator("#error-message")).to_contain_text("chưa kết nối được với hệ thống")
    expect(page.locator("#error-message-en")).to_contain_text("never gives you a second")
    live_server.start()
    kiosk.tap("#btn-retry")
    kiosk.wait_screen("result")
    assert re.fullmatch(r"\d+", kiosk.number())
    expect(root).to_have_attribute("data-socket", "connected", timeout=15_000)
    # Idle, the error screen would have led back to the start; "Done" does it now.
    kiosk.tap("#screen-result .k-done")
    kiosk.wait_screen("fields")


# --- the public ticket page ---------------------------------------------------------------


@pytest.mark.browser
def test_ticket_status_page_follows_the_ticket_to_the_counter(live_server, browser, artifacts):
    """Live over Socket.IO: people ahead as the line moves, then "Mời đến Quầy 1" with an
    alert, in well under the old 10 s polling period."""
    base = live_server.url
    service = field_named(catalog(base), "Hộ tịch")["services"][0]
    first = issue_via_api(base, service["id"])
    mine = issue_via_api(base, service["id"])
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    _contexts.append(context)
    page = context.new_page()
    page.goto(f"{base}/t/{mine['public_code']}")
    expect(page.locator("#ts-number")).to_have_text(mine["number"])
    expect(page.locator("#ts-service")).to_have_text(service["name"])
    expect(page.locator("#ts-status-vi")).to_have_text("Đang chờ đến lượt")
    expect(page.locator("#ts-ahead")).to_have_text("1")
    page.wait_for_function("window.tthccTicket && window.tthccTicket.hall.status === 'connected'")
    page.locator("#ts-sound").tap()
    expect(page.locator("#ts-sound")).to_have_attribute("aria-pressed", "true")
    page.screenshot(path=artifacts / "ticket-status-waiting.png")

    headers = {"Authorization": "Bearer " + live_server.token("canbo1", "tthcc-canbo")}
    started = time.monotonic()
    r = requests.post(
        f"{base}/api/v1/counters/1/call",
        json={"ticket_id": first["id"]},
        headers=headers,
        timeout=5,
    )
    assert r.status_code == 200, r.text
    expect(page.locator("#ts-ahead")).to_have_text("0", timeout=3_000)
    ahead_seconds = time.monotonic() - started

    requests.post(f"{base}/api/v1/tickets/{first['id']}/finish", headers=headers, timeout=5)
    started = time.monotonic()
    r = requests.post(
        f"{base}/api/v1/counters/1/call", json={"ticket_id": mine["id"]}, headers=headers, timeout=5
    )
    assert r.status_code == 200, r.text
    expect(page.locator("#ts-status-vi")).to_have_text(
        "Đã đến lượt – mời quý khách đến quầy", timeout=3_000
    )
    called_seconds = time.monotonic() - started
    expect(page.locator("#ts-counter")).to_have_text(f"Mời đến {r.json()['counter_name']}")
    expect(page.locator("#ts-ahead-box")).to_be_hidden()
    alerts = page.evaluate("window.tthccTicket.state.alerts")
    assert len(alerts) == 1 and alerts[0]["sounded"] and alerts[0]["counter"] == "Quầy 1"
    assert ahead_seconds < 3 and called_seconds < 3
    page.screenshot(path=artifacts / "ticket-status-called.png")
    (artifacts / "ticket-status-latency.json").write_text(
        f'{{"line_moved_s": {ahead_seconds:.2f}, "called_s": {called_seconds:.2f}}}\n'
    )

"""Every kiosk page touch-first, in real headless Chromium against the real server:
the on-screen Vietnamese keyboard, the tolerant search typed on it, the idle countdown
that empties every page, the feedback touch flow, the same printer-fault fallback on every
ticket path, the refusal screens (a full number range), and measured target sizes, text
sizes, contrast and axe-core on every screen, portrait and landscape."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_axe_clean, text_contrasts
from tests.e2e.test_kiosk import (
    LANDSCAPE,
    ORIENTATIONS,
    PORTRAIT,
    _close_pages,  # noqa: F401 - closes the pages before the server stops
    _contexts,
    open_kiosk,
)

#: Kiosk measurements of the run, written to test-artifacts/kiosk-measures.json.
MEASURES: dict[str, Any] = {}

TARGETS_JS = """
() => [...document.querySelectorAll('button, a, input, textarea, select, [role=button]')]
  .filter(n => n.offsetParent !== null && n.getClientRects().length)
  .map(n => { const r = n.getBoundingClientRect();
              return [n.id || n.dataset.key || n.textContent.trim().slice(0, 20), r.width, r.height]; })
"""
TEXT_SIZES_JS = """
() => { const out = []; const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) { const t = walk.currentNode; if (!t.textContent.trim()) continue;
    const e = t.parentElement; if (!e || !e.getClientRects().length || e.closest('[hidden]')) continue;
    const s = getComputedStyle(e); if (s.visibility === 'hidden' || s.display === 'none') continue;
    out.push([t.textContent.trim().slice(0, 30), parseFloat(s.fontSize)]); }
  return out; }
"""


def measure(page: Page, name: str) -> None:
    """Targets ≥ 64 px both ways, text ≥ 24 px, contrast ≥ 7:1, axe clean; kept per screen."""
    targets = page.evaluate(TARGETS_JS)
    small = [(n, round(w), round(h)) for n, w, h in targets if min(w, h) < 64]
    assert not small, f"{name}: targets under 64 px: {small[:8]}"
    sizes = page.evaluate(TEXT_SIZES_JS)
    tiny = [(text, size) for text, size in sizes if size < 24]
    assert not tiny, f"{name}: text under 24 px: {tiny[:8]}"
    contrasts = text_contrasts(page)
    faint = [c for c in contrasts if c["ratio"] < 7.0]
    assert not faint, f"{name}: text under 7:1: {faint[:5]}"
    assert_axe_clean(page, f"kiosk-{name}")
    MEASURES[name] = {
        "smallest_target_px": round(min(min(w, h) for _, w, h in targets), 1) if targets else None,
        "smallest_text_px": min(size for _, size in sizes) if sizes else None,
        "lowest_contrast": round(contrasts[0]["ratio"], 2) if contrasts else None,
    }
    from tests.e2e.a11y import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "kiosk-measures.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    known.update(MEASURES)
    path.write_text(json.dumps(known, indent=2, ensure_ascii=False))


def open_page(browser, base: str, path: str, viewport=PORTRAIT) -> Page:
    context = browser.new_context(viewport=viewport, has_touch=True, locale="vi-VN")
    _contexts.append(context)
    context.set_default_timeout(10_000)
    page = context.new_page()
    if "station=" in path:  # as the demo kiosk (the home page's link provisions it)
        page.goto(base + "/kiosk/provision?code=tthcc-demo-kiosk")
    page.goto(base + path)
    return page


def type_keys(page: Page, text: str, keyboard: str = "#keyboard") -> None:
    for ch in text:
        page.locator(f'{keyboard} .kb-key[data-key="{ch}"]').first.tap()


@pytest.mark.browser
@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_every_kiosk_ticket_screen_is_touch_first(live_server, browser, artifacts, orientation):
    base = live_server.url
    kiosk = open_kiosk(browser, base, ORIENTATIONS[orientation], "print_timeout=1")
    page = kiosk.page
    measure(page, f"{orientation}-fields")
    kiosk.tap_field("Hộ tịch")
    kiosk.wait_screen("services")
    measure(page, f"{orientation}-services")
    kiosk.tap_locator(page.locator(".k-service").first)
    kiosk.wait_screen("confirm")
    measure(page, f"{orientation}-confirm")
    kiosk.tap("#btn-priority")
    measure(page, f"{orientation}-priority")
    kiosk.tap("#btn-priority")
    kiosk.get_ticket_response()
    kiosk.wait_screen("result")
    expect(page.locator("#print-fallback")).to_be_visible()
    expect(page.locator("#result-counters")).to_contain_text("Quầy 1, Quầy 2")
    measure(page, f"{orientation}-result")
    page.screenshot(path=artifacts / f"kiosk-{orientation}-result-estimate.png")
    page.route("**/api/v1/tickets", lambda r: r.fulfill(status=503, json=EXHAUSTED))
    kiosk.tap("#screen-result .k-done")
    kiosk.wait_screen("fields")
    kiosk.tap_field("Đất đai")
    kiosk.tap("#btn-get")
    kiosk.wait_screen("error")
    measure(page, f"{orientation}-exhausted")
    page.screenshot(path=artifacts / f"kiosk-{orientation}-exhausted.png")


EXHAUSTED = {
    "code": 503,
    "status": "Service Unavailable",
    "error": "number_range_exhausted",
    "message": "Dịch vụ «Đất đai» đã hết số thứ tự hôm nay.",
    "message_en": "Every number of this service is in use today.",
}


@pytest.mark.browser
def test_full_number_range_gets_a_clear_screen_without_retry(live_server, browser):
    kiosk = open_kiosk(browser, live_server.url, PORTRAIT)
    page = kiosk.page
    page.route("**/api/v1/tickets", lambda r: r.fulfill(status=503, json=EXHAUSTED))
    kiosk.tap_field("Đất đai")
    kiosk.tap("#btn-get")
    kiosk.wait_screen("error")
    expect(page.locator("#screen-error")).to_have_attribute("data-kind", "exhausted")
    expect(page.locator("#error-title")).to_have_text("Dịch vụ này đã hết số thứ tự")
    expect(page.locator("#error-message")).to_have_text(
        "Dịch vụ «Đất đai» đã hết số thứ tự hôm nay."
    )
    expect(page.locator("#btn-retry")).to_be_hidden()  # it does not come back today
    kiosk.tap("#btn-error-home")
    kiosk.wait_screen("fields")


@pytest.mark.browser
def test_result_shows_counters_and_the_wait_estimate(live_server, browser):
    base = live_server.url
    headers = {"Authorization": "Bearer " + live_server.token("canbo4", "tthcc-canbo")}
    r = requests.post(
        f"{base}/api/v1/counters/4/status", json={"status": "open"}, headers=headers, timeout=5
    )
    assert r.status_code == 200, r.text
    for _ in range(3):
        requests.post(f"{base}/api/v1/tickets", json={"service_id": 5}, timeout=5)
    kiosk = open_kiosk(browser, base, LANDSCAPE, "print_timeout=1")
    kiosk.tap_field("Đất đai")
    issued = kiosk.get_ticket_response().json()
    kiosk.wait_screen("result")
    page = kiosk.page
    assert issued["estimate"]["minutes"] > 0
    expect(page.locator("#result-counters")).to_contain_text(
        "Mời đến: " + ", ".join(issued["counters"])
    )
    expect(page.locator("#result-estimate")).to_contain_text(
        f"Khoảng {issued['estimate']['minutes']} phút"
    )
    expect(page.locator("#result-estimate")).to_contain_text("Expected wait")


# --- the on-screen keyboard and the tolerant search --------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_procedure_search_on_the_on_screen_keyboard(live_server, browser, artifacts, orientation):
    page = open_page(
        browser, live_server.url, "/kiosk/thu-tuc?centre=1&station=1", ORIENTATIONS[orientation]
    )
    expect(page.locator("#fields .k-btn")).not_to_have_count(0)
    measure(page, f"{orientation}-procedures")
    type_keys(page, "khaisnh")  # no space, a letter missing
    expect(page.locator("#procedures .k-item").first).to_contain_text("Đăng ký khai sinh")
    page.screenshot(path=artifacts / f"kiosk-{orientation}-procedure-search.png")
    measure(page, f"{orientation}-procedure-results")
    page.locator("#procedures .k-item").first.tap()
    expect(page.locator("#p-name")).to_have_text("Đăng ký khai sinh")
    measure(page, f"{orientation}-procedure-detail")


@pytest.mark.browser
def test_keyboard_writes_vietnamese_with_tone_keys_and_long_press(live_server, browser):
    page = open_page(browser, live_server.url, "/kiosk/thu-tuc?centre=1&station=1")
    q = page.locator("#q")
    type_keys(page, "hoa")
    page.locator('.kb-key[data-key="tone:grave"]').tap()
    expect(q).to_have_value("hòa")
    page.locator('.kb-key[data-key=" "]').tap()
    type_keys(page, "nguoi")
    page.locator('.kb-key[data-key="tone:grave"]').tap()
    expect(q).to_have_value("hòa nguòi")
    page.locator('.kb-key[data-key="delete"]').tap()
    page.locator('.kb-key[data-key="delete"]').tap()
    page.locator('.kb-key[data-key="delete"]').tap()
    type_keys(page, "ươi")  # the accents row
    page.locator('.kb-key[data-key="tone:grave"]').tap()
    expect(q).to_have_value("hòa người")
    # A long press on "e" offers its accented forms; "ế" is one tap away.
    key = page.locator('#keyboard > .kb-row .kb-key[data-key="e"]')
    box = key.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    expect(page.locator(".kb-popup")).to_be_visible()
    page.mouse.up()
    page.locator('.kb-popup .kb-key[data-key="ế"]').tap()
    expect(q).to_have_value("hòa ngườiế")
    expect(page.locator(".kb-popup")).to_be_hidden()
    assert page.evaluate(
        "document.getElementById('q').value.normalize('NFC') === document.getElementById('q').value"
    )


# --- the idle countdown, every page ------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize(
    ("path", "field"),
    [("/kiosk/thu-tuc", "#q"), ("/kiosk/phan-anh", "#content"), ("/kiosk/ho-so", "#code")],
)
def test_idle_countdown_then_start_screen_with_every_field_empty(live_server, browser, path, field):
    base = live_server.url
    page = open_page(browser, base, f"{path}?centre=1&station=1&idle_menu=20")
    if path == "/kiosk/phan-anh":
        page.locator('[data-about="other"]').tap()
        page.locator("#content").wait_for()
        type_keys(page, "ban tay cua toi")
    elif path == "/kiosk/ho-so":
        for key in "2611":
            page.locator(f'#keypad [data-key="{key}"]').tap()
    else:
        type_keys(page, "ket hon")
    typed = time.monotonic()
    expect(page.locator(field)).not_to_have_value("")
    countdown = page.locator("#idle")
    # The countdown shows for the last 10 s of 20, counting down.
    expect(countdown).to_be_visible(timeout=15_000)
    assert time.monotonic() - typed >= 9
    expect(page.locator("#idle-count")).to_have_text(
        re.compile(r"^Màn hình sẽ trở về trang đầu sau ([1-9]|10) giây$")
    )
    # Measured quickly (axe would outlast the countdown on a loaded machine).
    for selector in ("#idle-stay",):
        box = page.locator(selector).bounding_box()
        assert box and min(box["width"], box["height"]) >= 64
    assert (
        page.eval_on_selector("#idle-count", "n => parseFloat(getComputedStyle(n).fontSize)") >= 24
    )
    # A touch on the countdown keeps the page and its text.
    page.locator("#idle-stay").tap()
    expect(countdown).to_be_hidden()
    expect(page.locator(field)).not_to_have_value("")
    expect(countdown).to_be_visible(timeout=15_000)
    # A provisioned kiosk's start screen: its station comes from its credential, not the URL.
    page.wait_for_url("**/kiosk/", timeout=15_000)
    # Back on the page later: nothing of the previous person.
    page.goto(f"{base}{path}?centre=1&station=1")
    if path == "/kiosk/phan-anh":
        page.locator('[data-about="other"]').tap()
    expect(page.locator(field)).to_have_value("")


# --- the feedback touch flow ---------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_feedback_as_a_touch_flow_with_consent(live_server, browser, artifacts, orientation):
    base = live_server.url
    page = open_page(browser, base, "/kiosk/phan-anh?centre=1&station=1", ORIENTATIONS[orientation])
    measure(page, f"{orientation}-feedback-about")
    page.locator('[data-about="staff"]').tap()
    measure(page, f"{orientation}-feedback-counter")
    page.locator("#counters .k-btn", has_text="Quầy 2").tap()
    type_keys(page, "can")
    page.locator("#btn-next").tap()
    expect(page.locator("#content-error")).to_be_visible()  # under 5 letters: not yet
    type_keys(page, " bo rat nhiet tinh")
    page.locator("#btn-next").tap()
    expect(page.locator("#screen-consent")).to_be_visible()
    measure(page, f"{orientation}-feedback-consent")
    page.locator("#consent-yes").tap()
    type_keys(page, "an", "#contact-keyboard")
    page.locator("#contact-phone").tap()
    type_keys(page, "0912", "#contact-keyboard")
    measure(page, f"{orientation}-feedback-contact")
    page.screenshot(path=artifacts / f"kiosk-{orientation}-feedback-contact.png")
    page.locator("#btn-next").tap()
    expect(page.locator("#screen-review")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/feedback")) as info:
        page.locator("#send").tap()
    answer = info.value.json()
    expect(page.locator("#reference")).to_have_text(answer["reference"])
    assert answer["contact_stored"] is True
    measure(page, f"{orientation}-feedback-done")
    token = live_server.token("giamsat", "tthcc-giamsat")
    cases = requests.get(
        f"{base}/api/v1/feedback", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).json()
    case = next(c for c in cases if c["reference"] == answer["reference"])
    assert case["source"] == "kiosk" and case["about"] == "staff"
    assert case["content"] == "can bo rat nhiet tinh"


# --- the same printer fault fallback on every ticket path ----------------------------------


@pytest.mark.browser
def test_a_ticket_from_a_procedure_page_under_a_printer_fault_shows_number_and_qr(
    public_server, browser, artifacts
):
    page = open_page(
        browser, public_server.url, "/kiosk/thu-tuc?centre=1&station=1&print_timeout=1"
    )
    type_keys(page, "khai sinh")
    expect(page.locator("#procedures .k-item").first).to_contain_text("Đăng ký khai sinh")
    page.locator("#procedures .k-item").first.tap()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/tickets")) as info:
        page.locator("#btn-ticket").tap()
    issued = info.value.json()
    expect(page.locator("#print-fallback")).to_be_visible()
    expect(page.locator("#print-ok")).to_be_hidden()  # never "nhận phiếu" under a fault
    expect(page.locator("#fallback-message")).to_contain_text("chụp ảnh mã QR")
    expect(page.locator("#result-qr")).to_have_attribute(
        "src", f"/kiosk/qr/{issued['public_code']}.png"
    )
    assert issued["public_url"] == f"http://192.0.2.10:8000/t/{issued['public_code']}"
    measure(page, "procedure-ticket-fallback")
    page.screenshot(path=artifacts / "kiosk-procedure-ticket-fallback.png")


@pytest.mark.browser
def test_with_a_loopback_public_url_the_fallback_shows_no_qr(live_server, browser):
    page = open_page(browser, live_server.url, "/kiosk/thu-tuc?centre=1&station=1&print_timeout=1")
    type_keys(page, "ket hon")
    expect(page.locator("#procedures .k-item").first).to_contain_text("Đăng ký kết hôn")
    page.locator("#procedures .k-item").first.tap()
    page.locator("#btn-ticket").tap()
    expect(page.locator("#print-fallback")).to_be_visible()
    expect(page.locator("#fallback-message")).to_contain_text("vui lòng ghi nhớ số thứ tự")
    expect(page.locator("#result-qr")).to_be_hidden()

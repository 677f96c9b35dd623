"""Kiosk "Tra cứu hồ sơ" and "Tra cứu thủ tục" in real headless Chromium against the real
server (gunicorn + gevent): a scanner types the slip's code and Enter, the status and the
return date show; a result-ready dossier gives a ticket for the result-return service."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

PORTRAIT = {"width": 1080, "height": 1920}


def provisioned(page: Page, base_url: str) -> Page:
    """Make the page's browser the demo kiosk, as the home page's kiosk link does."""
    html = requests.get(base_url + "/", timeout=5).text
    match = re.search(r'href="(/kiosk/provision\?[^"]+)"', html)
    assert match, "the home page links no kiosk"
    page.goto(base_url + match.group(1).replace("&amp;", "&"))
    return page


def staff_headers(live_server) -> dict[str, str]:
    return {"Authorization": f"Bearer {live_server.token()}"}


def receive_dossier(base_url: str, headers: dict[str, str], procedure_code: str) -> dict:
    procedure = requests.get(
        f"{base_url}/api/v1/procedures", params={"q": procedure_code}, timeout=5
    ).json()[0]
    r = requests.post(
        f"{base_url}/api/v1/dossiers",
        json={
            "procedure_id": procedure["id"],
            "applicant_name": "Hoàng Văn Nam",
            "applicant_phone": "0987654321",
            "papers_received": [{"name": "Tờ khai", "originals": 1}],
        },
        headers=headers,
        timeout=5,
    )
    assert r.status_code == 201, r.text
    return r.json()


def dmy(iso: str) -> str:
    return date.fromisoformat(iso[:10]).strftime("%d/%m/%Y")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PORTRAIT, has_touch=True, locale="vi-VN")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def waiting_for(base_url: str, code: str) -> int:
    services = requests.get(base_url + "/api/v1/services", timeout=5).json()
    return next(s["waiting"] for s in services if s["code"] == code)


def test_scan_shows_status_and_date_then_result_ready_gives_a_tk_ticket(
    live_server, page, artifacts
):
    base = live_server.url
    headers = staff_headers(live_server)
    dossier = receive_dossier(base, headers, "1.012783")
    provisioned(page, base).goto(base + "/kiosk/ho-so")
    code_box = page.locator("#code")
    expect(code_box).to_be_focused()

    # A barcode scanner is a keyboard: the code, then Enter.
    page.keyboard.type(dossier["code"], delay=5)
    page.keyboard.press("Enter")
    expect(page.locator("#r-status")).to_have_text("Đã tiếp nhận")
    expect(page.locator("#r-code")).to_have_text(dossier["code"])
    expect(page.locator("#r-due")).to_contain_text(dmy(dossier["due_date"]))
    expect(page.locator("#r-due")).to_contain_text("08 giờ 00 phút")
    # A code alone tells a status and dates, not who applied (docs/security.md)
    expect(page.locator("#r-applicant")).to_have_text("")
    expect(page.locator("#btn-ticket")).to_be_hidden()
    assert "0987654321" not in page.content()
    page.screenshot(path=str(artifacts / "kiosk-dossier-received.png"))

    for action in ("forward", "result_ready"):
        r = requests.post(
            f"{base}/api/v1/dossiers/{dossier['id']}/transition",
            json={"action": action},
            headers=headers,
            timeout=5,
        )
        assert r.status_code == 200, r.text

    # The next scan, while the previous result is still on screen.
    page.keyboard.type(dossier["code"], delay=5)
    page.keyboard.press("Enter")
    expect(page.locator("#r-status")).to_contain_text("Đã có kết quả")
    button = page.locator("#btn-ticket")
    expect(button).to_be_visible()
    before = waiting_for(base, "TK")
    button.tap()
    expect(page.locator("#result-number")).to_have_text(re.compile(r"^9\d{3}$"))
    expect(page.locator("#result-service")).to_have_text("Nhận kết quả hồ sơ")
    assert waiting_for(base, "TK") == before + 1
    page.screenshot(path=str(artifacts / "kiosk-dossier-result-ready.png"))


def test_typing_the_short_code_on_the_keypad_and_an_unknown_code(live_server, page):
    base = live_server.url
    dossier = receive_dossier(base, staff_headers(live_server), "2.000815")
    provisioned(page, base).goto(base + "/kiosk/ho-so")
    for key in dossier["code"][-11:]:  # YYMMDD-NNNN
        page.locator(f'#keypad [data-key="{key}"]').tap()
    page.locator("#btn-lookup").tap()
    expect(page.locator("#r-code")).to_have_text(dossier["code"])

    page.locator("#btn-again").tap()
    expect(page.locator("#code")).to_have_value("")
    page.keyboard.type("000.00.27.H04-991231-9999")
    page.keyboard.press("Enter")
    expect(page.locator("#error")).to_contain_text("Không tìm thấy hồ sơ")
    expect(page.locator("#screen-dossier")).to_be_hidden()


def test_procedure_lookup_search_without_diacritics_and_ticket_in_one_tap(live_server, page):
    base = live_server.url
    provisioned(page, base).goto(base + "/kiosk/thu-tuc")
    expect(page.locator("#fields button").first).to_be_visible()
    page.locator("#q").fill("dang ky khai sinh")
    page.locator("#q").press("Enter")
    item = page.locator("#procedures button", has_text="Đăng ký khai sinh")
    expect(item).to_be_visible()
    item.tap()
    expect(page.locator("#p-name")).to_have_text("Đăng ký khai sinh")
    expect(page.locator("#p-papers li").first).to_contain_text("Tờ khai đăng ký khai sinh")
    before = waiting_for(base, "HT1")
    page.locator("#btn-ticket").tap()
    expect(page.locator("#result-number")).to_have_text(re.compile(r"^1\d{3}$"))
    assert waiting_for(base, "HT1") == before + 1

"""ID-card check-in at the kiosk (headless Chromium, the real server, docs/privacy.md).

- Serial scanner: a simulated scanner on a real pseudo-terminal, the real station agent
  (``tthcc agent``, the demo kiosk's token), the server, the kiosk page's room: the page
  asks the citizen, the ticket is printed with the name only when chosen.
- Keyboard wedge: keys typed fast (Playwright keyboard) are a scan; the same keys typed at
  a person's pace are not.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from devices.printing.vietnamese import to_cp1258
from devices.scanner.sim import ScannerSimulator, id_card_text
from tests.e2e.test_kiosk import (
    PORTRAIT,
    _close_pages,  # noqa: F401 - closes the pages before the server stops
    open_kiosk,
)
from tests.e2e.test_kiosk_printing import running_agent
from tests.e2e.test_kiosk_touch import measure

NAME = "Nguyễn Thị Minh Khai"


@pytest.fixture
def scanner_agent(live_server, tmp_path: Path) -> Iterator[ScannerSimulator]:
    """The demo kiosk's agent with a serial scanner (simulated on a pty) beside its printer."""
    with ScannerSimulator(link=tmp_path / "scanner") as scanner:
        demo_config = live_server.instance / "demo" / "kiosk-agent.toml"
        config = demo_config.with_name("kiosk-scanner-agent.toml")
        config.write_text(
            demo_config.read_text(encoding="utf-8")
            + f'\n[[scanners]]\nname = "kiosk-scanner"\nurl = "{scanner.port}"\n',
            encoding="utf-8",
        )
        with running_agent(live_server, config):
            yield scanner


def _issue(kiosk) -> dict:
    kiosk.tap_field("Đất đai")
    response = kiosk.get_ticket_response()
    assert response.status == 201, response.text()
    kiosk.wait_screen("result")
    return response.json()


def _printed(kiosk, live_server, job_id: str) -> bytes:
    """The bytes the simulated printer received, once the page says the ticket printed."""
    expect(kiosk.page.locator("#print-ok")).to_be_visible(timeout=15_000)
    return (live_server.instance / "printed" / f"{job_id}.bin").read_bytes()


@pytest.mark.browser
def test_a_card_on_the_serial_scanner_reaches_the_kiosk_and_prints_the_name_only_when_chosen(
    live_server, browser, scanner_agent, artifacts
):
    kiosk = open_kiosk(browser, live_server.url, PORTRAIT, "print_timeout=30")
    page = kiosk.page
    expect(page.locator("#kiosk")).to_have_attribute("data-socket", "connected")

    scanner_agent.scan_card(name=NAME)  # pty → agent → scanner.scan → server → the page
    kiosk.wait_screen("idcard")
    expect(page.locator("#idcard-name")).to_have_text(NAME)
    expect(page.locator("#idcard-number")).to_have_text("Số thẻ: •••••••••345")
    expect(page.locator("#idcard-consent")).to_contain_text("Số căn cước không được lưu")
    page.screenshot(path=artifacts / "kiosk-idcard-consent.png")
    measure(page, "idcard")  # touch targets, text size, contrast, axe
    kiosk.tap("#btn-print-name")
    expect(page.locator("#btn-print-name")).to_have_attribute("aria-pressed", "true")
    kiosk.tap("#btn-idcard-agree")
    kiosk.wait_screen("fields")
    expect(page.locator("#idcard-linked")).to_contain_text(NAME)
    named = _issue(kiosk)
    assert named["citizen_linked"] and named["citizen_name_printed"]
    assert to_cp1258(f"Công dân: {NAME}") in _printed(kiosk, live_server, named["print_job_id"])

    # The next citizen scans (the result screen still shown) and keeps the name off.
    scanner_agent.scan_card(number="036195004321", name="Trần Văn Bình")
    kiosk.wait_screen("idcard")
    kiosk.tap("#btn-idcard-agree")
    kiosk.wait_screen("fields")
    plain = _issue(kiosk)
    assert plain["citizen_linked"] and not plain["citizen_name_printed"]
    printed = _printed(kiosk, live_server, plain["print_job_id"])
    assert to_cp1258("Công dân") not in printed and to_cp1258("Trần") not in printed

    # A scanned check-in code checks the number from the phone in.
    taken = requests.post(
        f"{live_server.url}/api/v1/remote-tickets",
        json={"service_id": 1, "phone": "0912345678"},
        timeout=5,
    ).json()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/check-in")) as info:
        scanner_agent.scan(taken["remote"]["code"])
    assert info.value.status == 200
    kiosk.wait_screen("result")
    expect(page.locator("#result-number")).to_have_text(taken["number"])


#: kiosk/static/js/scanner.js: keys further apart than this are a person, not a scanner.
MAX_GAP_MS = 50

RECORD_KEYS = """() => {
    window.keyStamps = [];
    if (!window.keyRecorder) {
        window.keyRecorder = (e) => window.keyStamps.push(e.timeStamp);
        document.addEventListener("keydown", window.keyRecorder, { capture: true });
    }
}"""


def wedge_scan(page, text: str, endpoint: str, attempts: int = 3):
    """Type `text` and Enter as a keyboard-wedge scanner does, keys back to back; the answer
    of `endpoint` to the scan of the whole text.

    The page's own key times decide: a loaded test machine can leave more than 50 ms between
    two keys Playwright sends, and then the kiosk rightly takes them for a person (or
    scans only the tail). Only then is the scan typed again, at most `attempts` times."""
    answers: list = []

    def record(response) -> None:
        request = response.request
        if response.url.endswith(endpoint) and text in (request.post_data or ""):
            answers.append(response)

    page.on("response", record)
    try:
        for _ in range(attempts):
            page.evaluate(RECORD_KEYS)
            page.keyboard.type(text)
            page.keyboard.press("Enter")
            stamps = page.evaluate("() => window.keyStamps")
            gap = max(b - a for a, b in itertools.pairwise(stamps))
            if gap <= MAX_GAP_MS:
                break
        else:
            pytest.fail(f"this machine never typed {len(text)} keys {MAX_GAP_MS} ms apart")
        deadline = time.monotonic() + 10
        while not answers and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert answers, f"a scan at a scanner's pace (largest gap {gap:.1f} ms) was not asked"
        return answers[-1]
    finally:
        page.remove_listener("response", record)


@pytest.mark.browser
def test_a_wedge_scan_is_fast_keys_and_a_person_typing_is_not(live_server, browser):
    kiosk = open_kiosk(browser, live_server.url, PORTRAIT)
    page = kiosk.page
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.method == "POST" else None)

    # A person types a code at a person's pace (120 ms a key), then Enter: not a scan (as a
    # scan, six digits would have been a check-in, asked of the server before the card).
    page.keyboard.type("654321", delay=120)
    page.keyboard.press("Enter")

    # The scanner types the card's text, every key a few ms apart, then Enter. A wedge
    # scanner types what a keyboard layout can: here the name without its tone marks, as a
    # scanner in its ASCII mode does (docs/devices.md: prefer serial mode for diacritics).
    card = id_card_text(name="Nguyen Thi Minh Khai", sex="Nu", address="So 12 Kim Ma, Ha Noi")
    answer = wedge_scan(page, card, "/api/v1/scans")
    assert answer.json()["kind"] == "id_card"
    assert {url.rsplit("/", 1)[1] for url in asked} == {"scans"}  # the person's code: nothing
    kiosk.wait_screen("idcard")
    expect(page.locator("#idcard-name")).to_have_text("Nguyen Thi Minh Khai")
    with page.expect_response(lambda r: r.url.endswith("/decline")) as declined:
        kiosk.tap("#btn-idcard-decline")
    assert declined.value.json()["deleted"] is True
    kiosk.wait_screen("fields")
    assert kiosk.posts == []  # no ticket taken

    # An appointment's QR holds its ten digits: scanned, they go to the check-in at once.
    checked = wedge_scan(page, "0123456789", "/api/v1/check-in")
    assert checked.status == 404  # no such booking here
    kiosk.wait_screen("error")
    expect(page.locator("#error-title")).to_have_text("Không xác nhận được mã")


@pytest.mark.browser
def test_the_dossier_desk_is_filled_from_the_card_of_the_ticket_it_serves(live_server, browser):
    import tomllib

    from tests.e2e.test_counter_slip_printing import counter_id

    api = live_server.url + "/api/v1"
    config = (live_server.instance / "demo" / "kiosk-agent.toml").read_text(encoding="utf-8")
    kiosk = {"Authorization": "Bearer " + tomllib.loads(config)["station_token"]}
    staff = {"Authorization": "Bearer " + live_server.token()}
    token = requests.post(
        f"{api}/scans", json={"text": id_card_text(name=NAME)}, headers=kiosk, timeout=5
    ).json()["token"]
    ticket = requests.post(
        f"{api}/tickets",
        json={"service_id": 1, "station_id": 1, "id_scan": token},
        headers=kiosk,
        timeout=5,
    ).json()
    assert ticket["citizen_linked"] is True, ticket
    counter = counter_id(live_server, 1)
    called = requests.post(f"{api}/counters/{counter}/call-next", headers=staff, timeout=5)
    assert called.json()["id"] == ticket["id"], called.text

    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(f"{live_server.url}/ho-so/quay?counter={counter}")
    page.fill("#username", "canbo1")
    page.fill("#password", "tthcc-canbo")
    page.click("#login-submit")
    expect(page.locator("#applicant")).to_have_value(NAME)
    expect(page.locator("#birth-date")).to_have_value("1989-07-05")
    expect(page.locator("#address")).to_have_value(
        "Số 12 ngõ 34 phố Kim Mã, Phường Ngọc Hà, Thành phố Hà Nội"
    )
    expect(page.locator("#idcard-prefill")).to_contain_text("thẻ căn cước")
    page.fill("#procedure-search", "cap doi")
    page.locator("#procedure option").first.click()
    page.click("#submit")
    expect(page.locator("#slip")).to_contain_text("Ngày sinh: 05/07/1989")
    left = requests.get(f"{api}/counters/{counter}/citizen", headers=staff, timeout=5).json()
    assert left["ticket_id"] == ticket["id"] and left["citizen"] is None  # used, then cleared
    page.context.close()

"""A citizen's rating, seen live on the counter page and on the lobby TV (Chromium).

Ratings are posted to ``POST /api/v1/ratings`` with the demo's counters station token, as
a rating pad's agent would; the server emits ``rating.recorded`` on /hall. The counter page
shows its staff member a short note (only for its own counter); the TV thanks the citizen
on that counter's tile for a few seconds, without a word of voice. Screenshots of both go
to test-artifacts/ (counter-rating.png, display-thanks.png).
"""

from __future__ import annotations

import re
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LiveServer, running_server

pytestmark = pytest.mark.browser

THANK_YOU = "Cảm ơn quý khách đã đánh giá!"
STAFF_PASSWORD = "tthcc-canbo"


@dataclass
class Hall:
    """The demo centre through the API, as its staff and its rating pads use it."""

    server: LiveServer

    def request(self, method: str, path: str, body: dict | None, token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = requests.request(
            method, f"{self.server.url}/api/v1{path}", json=body, headers=headers, timeout=5
        )
        assert r.ok, r.text
        return r.json()

    def staff(self, counter: int) -> str:
        return self.server.token(f"canbo{counter}")

    def serve(self, counter: int) -> dict:
        """A ticket issued for the counter's first service, called and finished there."""
        service_id = self.request("GET", f"/counters/{counter}", None, None)["services"][0]["id"]
        self.request("POST", "/tickets", {"service_id": service_id}, None)
        ticket = self.request("POST", f"/counters/{counter}/call-next", None, self.staff(counter))
        return self.request("POST", f"/tickets/{ticket['id']}/finish", None, self.staff(counter))

    def rate(self, counter: int, level: int) -> dict:
        """One press of the counter's rating pad, as its station agent delivers it."""
        demo = self.server.instance / "demo" / "counters-agent.toml"
        token = tomllib.loads(demo.read_text())["station_token"]
        body = {"key": uuid.uuid4().hex, "counter_id": counter, "level": level}
        return self.request("POST", "/ratings", body, token)

    def reset(self) -> None:
        """Nobody waiting, every counter closed (as an administrator)."""
        admin = self.server.token("admin", "tthcc-admin")
        headers = {"Authorization": f"Bearer {admin}"}
        for counter in self.request("GET", "/counters", None, None):
            path = f"{self.server.url}/api/v1/counters/{counter['id']}"
            while requests.post(f"{path}/call-next", headers=headers, timeout=5).ok:
                pass  # each call finishes the ticket before
            current = self.request("GET", f"/counters/{counter['id']}", None, None)
            if current["current_ticket"]:
                ticket_id = current["current_ticket"]["id"]
                self.request("POST", f"/tickets/{ticket_id}/finish", None, admin)
            self.request("POST", f"/counters/{counter['id']}/status", {"status": "closed"}, admin)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_server(tmp_path_factory.mktemp("rating-e2e") / "instance") as live:
        yield live


@pytest.fixture
def hall(server: LiveServer) -> Hall:
    h = Hall(server)
    h.reset()
    return h


@pytest.fixture
def pages(browser: Browser, hall: Hall) -> Iterator:
    """Open pages in their own contexts; no page may log a script error."""
    contexts, errors = [], []

    def _open(path: str, viewport: dict) -> Page:
        context = browser.new_context(viewport=viewport, locale="vi-VN")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(5000)
        page.on("pageerror", lambda exc: errors.append(f"{path}: {exc}"))
        page.goto(f"{hall.server.url}{path}")
        return page

    yield _open
    for context in contexts:
        context.close()
    assert errors == []


def counter_page(pages, number: int) -> Page:
    """The counter page, logged in as the counter's staff member, at that counter."""
    page = pages("/counter", {"width": 1366, "height": 768})
    page.fill("#login-username", f"canbo{number}")
    page.fill("#login-password", STAFF_PASSWORD)
    page.click("#btn-login")
    item = page.locator(".counter-item").filter(
        has=page.locator(".counter-item-number", has_text=re.compile(f"^{number}$"))
    )
    item.locator(".btn-pick").click()
    expect(page.locator("#counter-title")).to_have_text(f"Quầy {number}")
    expect(page.locator("#conn-status")).to_have_text("Trực tuyến")
    return page


def display_page(pages) -> Page:
    page = pages("/display/?muted=1&slides=0", {"width": 1920, "height": 1080})
    page.wait_for_function(
        "() => window.tthccDisplay && tthccDisplay.connection === 'connected'"
        " && tthccDisplay.state.centre !== null",
        timeout=15_000,
    )
    return page


def said(page: Page) -> int:
    """Calls the TV has said or would have said (muted, skipped ones are logged too)."""
    return page.evaluate(
        "() => tthccDisplay.announcementLog.length + tthccDisplay.announcer.skipped.length"
    )


# --- tests ---------------------------------------------------------------------------------


def test_a_rating_shows_on_its_counter_page_and_thanks_the_citizen_on_the_tv(
    hall: Hall, pages, artifacts: Path
) -> None:
    staff = counter_page(pages, 1)
    tv = display_page(pages)
    served = hall.serve(1)
    expect(staff.locator("#ticket-last")).to_contain_text(served["number"])
    expect(tv.locator('.tile[data-counter="1"] .tile-number')).to_have_text("—")  # finished
    # The call itself is said (or logged as skipped) a moment later on a busy machine:
    # count the voices once it is, so only the rating could add one.
    tv.wait_for_function(
        "() => tthccDisplay.announcementLog.length + tthccDisplay.announcer.skipped.length >= 1"
    )
    voices = said(tv)

    rating = hall.rate(1, 5)
    assert rating["attached"] and rating["ticket_number"] == served["number"]

    notice = staff.locator("#rating-notice")
    expect(notice).to_be_visible()
    expect(staff.locator("#rating-notice-text")).to_have_text("Công dân đã đánh giá: Rất hài lòng")
    expect(staff.locator("#rating-notice-detail")).to_have_text(f"Phiếu {served['number']}")
    assert notice.get_attribute("data-tone") == "high"
    # Non-blocking: clicks go through it, and the work goes on while it shows.
    assert notice.evaluate("n => getComputedStyle(n).pointerEvents") == "none"

    tile = tv.locator('.tile[data-counter="1"]')
    expect(tile.locator(".tile-thanks")).to_have_text(THANK_YOU)
    expect(tile).to_have_class(re.compile(r"\bthanks\b"))
    assert tv.evaluate("() => tthccDisplay.thanksLog.at(-1)")["level"] == 5
    assert said(tv) == voices  # thanked in silence
    staff.screenshot(path=str(artifacts / "counter-rating.png"))
    tv.screenshot(path=str(artifacts / "display-thanks.png"))

    # The next call at the counter takes the tile back at once, and the note goes by itself.
    service_id = hall.request("GET", "/counters/1", None, None)["services"][0]["id"]
    nxt = hall.request("POST", "/tickets", {"service_id": service_id}, None)
    staff.click("#btn-next")
    expect(staff.locator("#ticket-number")).to_have_text(nxt["number"])
    expect(tile.locator(".tile-number")).to_have_text(nxt["number"], timeout=1000)
    expect(tile.locator(".tile-thanks")).to_have_count(0)
    expect(notice).to_be_hidden(timeout=10_000)


def test_a_rating_of_another_counter_is_not_shown_on_this_counter_page(hall: Hall, pages) -> None:
    staff = counter_page(pages, 1)
    tv = display_page(pages)
    hall.request("POST", "/counters/2/status", {"status": "open"}, hall.staff(2))
    hall.serve(2)
    expect(tv.locator('.tile[data-counter="2"] .tile-number')).to_have_text("—")  # finished

    hall.rate(2, 2)
    tile = tv.locator('.tile[data-counter="2"]')
    expect(tile.locator(".tile-thanks")).to_have_text(THANK_YOU)
    expect(tv.locator('.tile[data-counter="1"] .tile-thanks')).to_have_count(0)
    staff.wait_for_timeout(500)  # the same event reached the counter page by now
    expect(staff.locator("#rating-notice")).to_be_hidden()

    # The thank-you lasts a few seconds, then the tile is as it was.
    expect(tile.locator(".tile-number")).to_have_text("—", timeout=10_000)
    expect(tile).not_to_have_class(re.compile(r"\bthanks\b"))


def test_a_second_press_replaces_the_first_on_the_counter_page(hall: Hall, pages) -> None:
    staff = counter_page(pages, 1)
    served = hall.serve(1)
    first = hall.rate(1, 5)
    expect(staff.locator("#rating-notice-text")).to_have_text("Công dân đã đánh giá: Rất hài lòng")
    second = hall.rate(1, 1)  # within the replace window: the citizen changed their mind
    assert second["ticket_id"] == first["ticket_id"] == served["id"]
    expect(staff.locator("#rating-notice-text")).to_have_text(
        "Công dân đã đánh giá: Rất không hài lòng"
    )
    expect(staff.locator("#rating-notice-detail")).to_have_text(
        f"Phiếu {served['number']} · thay cho lần bấm trước"
    )
    assert staff.locator("#rating-notice").get_attribute("data-tone") == "low"

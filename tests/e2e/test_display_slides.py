"""Slides of procedures on the lobby TV while the hall is quiet, in headless Chromium.

The page is opened with ``slide_idle=1&slide_seconds=1`` so a quiet second starts the
slides and each stays a second. The TV is muted: the slides and the call on screen are
under test here, the voice in test_display.py. One server for the module; each test opens
its own page.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import LiveServer, running_server

pytestmark = pytest.mark.browser

CENTRE_ID = 1  # the demo centre
FAST = "slide_idle=1&slide_seconds=1&muted=1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_server(tmp_path_factory.mktemp("slides-e2e") / "instance") as live:
        yield live


@pytest.fixture
def open_display(browser: Browser) -> Iterator:
    contexts = []

    def _open(url: str) -> Page:
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        page.wait_for_function(
            "() => window.tthccDisplay && tthccDisplay.connection === 'connected'"
            " && tthccDisplay.state.centre !== null",
            timeout=15_000,
        )
        return page

    yield _open
    for context in contexts:
        context.close()


def procedures(server: LiveServer) -> list[dict]:
    r = requests.get(f"{server.url}/api/v1/procedures", params={"centre_id": CENTRE_ID}, timeout=5)
    r.raise_for_status()
    return r.json()


def call_next(server: LiveServer, counter: int) -> dict:
    """Issue a ticket for the counter's first service and call it there (as its staff)."""
    r = requests.get(f"{server.url}/api/v1/counters/{counter}", timeout=5)
    r.raise_for_status()
    service_id = r.json()["services"][0]["id"]
    current = r.json()["current_ticket"]  # was served (docs/lifecycle.md: say so)
    r = requests.post(f"{server.url}/api/v1/tickets", json={"service_id": service_id}, timeout=5)
    assert r.status_code == 201, r.text
    r = requests.post(
        f"{server.url}/api/v1/counters/{counter}/call-next",
        json={"resolve": "served", "current_ticket_id": current["id"]} if current else {},
        headers={"Authorization": f"Bearer {server.token(f'canbo{counter}')}"},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return r.json()


def wait_slides(page: Page, count: int = 1, timeout: float = 10_000) -> None:
    """Until the slides are on screen and ``count`` of them have been painted."""
    page.wait_for_function(
        "n => tthccDisplay.slides.active && tthccDisplay.slides.log.length >= n"
        " && !document.getElementById('slides').hidden",
        arg=count,
        timeout=timeout,
    )


def slide_on_screen(page: Page) -> dict:
    return page.evaluate(
        """() => {
          const box = document.getElementById('slides');
          const facts = {};
          for (const dt of box.querySelectorAll('dt')) facts[dt.textContent] =
            dt.nextElementSibling.textContent;
          return {
            code: box.querySelector('.slide').dataset.code,
            name: box.querySelector('.slide-name').textContent,
            field: box.querySelector('.slide-field').textContent,
            facts,
            fit: Number(getComputedStyle(box).getPropertyValue('--fit') || 1),
            clamped: box.classList.contains('clamped'),
            overflows: box.scrollHeight > box.clientHeight + 1,
          };
        }"""
    )


# --- tests ---------------------------------------------------------------------------------


def test_slides_show_the_published_procedures_once_the_hall_is_quiet(
    server: LiveServer, open_display, artifacts: Path
) -> None:
    catalogue = {p["code"]: p for p in procedures(server)}
    ticket = call_next(server, 1)  # before the page opens: a call from the snapshot
    page = open_display(f"{server.url}/display/?{FAST}")
    assert page.locator("#slides").is_hidden()
    wait_slides(page)
    assert page.locator("#now").is_hidden()
    # Only the big panel gives way: the counter tiles and the recent calls stay.
    tile = page.locator('.tile[data-counter="1"] .tile-number')
    assert tile.is_visible() and tile.text_content() == ticket["number"]
    assert page.locator("#recent li").first.get_attribute("data-number") == ticket["number"]

    first = slide_on_screen(page)
    procedure = catalogue[first["code"]]
    assert first["name"] == procedure["name"]
    assert first["field"] == procedure["field_name"]
    assert first["facts"]["Thời gian giải quyết"] == procedure["processing_text"]
    assert first["facts"]["Lệ phí"] == procedure["fee_text"]
    assert first["facts"]["Hồ sơ gồm"] == f"{len(procedure['papers'])} loại giấy tờ"
    assert not first["overflows"]

    # They turn, in catalogue order, and every slide fits in the panel.
    wait_slides(page, count=3)
    shown = page.evaluate("() => tthccDisplay.slides.log.map(s => s.code)")
    assert shown[:3] == list(catalogue)[:3]
    for code in list(catalogue)[4:10]:
        page.wait_for_function("c => tthccDisplay.slides.current.code === c", arg=code)
        slide = slide_on_screen(page)
        assert slide["name"] == catalogue[code]["name"]
        assert not slide["overflows"], slide
        assert slide["fit"] >= 0.75 and not slide["clamped"]
        if code == "2.000815":  # the longest fee text of the demo: shrunk, still large
            page.add_style_tag(content=".slide { animation: none; }")  # not mid-fade
            page.screenshot(path=str(artifacts / "display-slides.png"))


def test_a_call_replaces_the_slide_within_a_second(server: LiveServer, open_display) -> None:
    page = open_display(f"{server.url}/display/?{FAST}")
    wait_slides(page, count=2)
    t0 = time.time()
    ticket = call_next(server, 1)
    page.wait_for_function(
        "n => document.getElementById('now-number').textContent === n"
        " && !document.getElementById('now').hidden"
        " && document.getElementById('slides').hidden",
        arg=ticket["number"],
        timeout=1500,
    )
    hidden_at = page.evaluate("() => tthccDisplay.slides.hiddenAt") / 1000
    assert hidden_at - t0 < 1.0
    assert page.locator("#now").is_visible()
    # The call itself is shown as without slides: flashing, in the tile and the list.
    assert "flash" in page.locator("#now").get_attribute("class")
    assert page.locator('.tile[data-counter="1"] .tile-number').text_content() == ticket["number"]
    page.wait_for_function(  # logged when its announcement starts (in silence here)
        "n => tthccDisplay.highlightLog.some(h => h.number === n)", arg=ticket["number"]
    )

    # Quiet again (once the call has been said, in silence here, and a second has passed):
    # the slides come back and carry on after the one the call interrupted.
    seen = page.evaluate("() => tthccDisplay.slides.log.length")
    last = page.evaluate("() => tthccDisplay.slides.current.code")
    wait_slides(page, count=seen + 1, timeout=25_000)
    codes = [p["code"] for p in procedures(server)]
    resumed = page.evaluate("() => tthccDisplay.slides.current.code")
    assert codes.index(resumed) == (codes.index(last) + 1) % len(codes)


def test_slides_wait_while_calls_queue_for_the_panel(server: LiveServer, open_display) -> None:
    # A burst of three calls keeps the voice (silent here) and the panel busy for several
    # seconds, far longer than the 1 s idle; the slides must not cut in before the last
    # call has been said.
    page = open_display(f"{server.url}/display/?{FAST}")
    wait_slides(page)
    tickets = [call_next(server, counter) for counter in (1, 2, 3)]
    page.wait_for_function(
        "n => tthccDisplay.highlightLog.some(h => h.number === n)",
        arg=tickets[-1]["number"],
        timeout=15_000,
    )
    assert page.evaluate("() => tthccDisplay.slides.active") is False
    wait_slides(
        page, count=page.evaluate("() => tthccDisplay.slides.log.length + 1"), timeout=25_000
    )
    back_at = page.evaluate("() => tthccDisplay.slides.log.at(-1).shownAt")
    said_until = page.evaluate(
        "() => Math.max(...tthccDisplay.announcementLog.map(a => a.endedAt))"
    )
    assert back_at >= said_until


def test_slides_off_with_slides_0(server: LiveServer, open_display) -> None:
    page = open_display(f"{server.url}/display/?{FAST}&slides=0")
    page.wait_for_timeout(2500)
    assert page.evaluate("() => tthccDisplay.slides.log.length") == 0
    assert page.locator("#slides").is_hidden()
    assert page.locator("#now").is_visible()


def test_a_zone_display_shows_the_procedures_of_its_fields(
    server: LiveServer, open_display
) -> None:
    database = server.instance / "tthcc.sqlite3"
    with sqlite3.connect(database, timeout=10) as conn:
        conn.execute("UPDATE counters SET zone = 'A' WHERE centre_id = ? AND number = 1", (1,))
    try:
        page = open_display(f"{server.url}/display/?{FAST}&zone=A")
        wait_slides(page, count=2)
        fields = set(page.evaluate("() => tthccDisplay.state.visibleFields().map(f => f.id)"))
        deck = page.evaluate("() => tthccDisplay.slides.deck().map(p => p.field_id)")
        assert fields and set(deck) == fields
        assert len(deck) < len(procedures(server))
    finally:
        with sqlite3.connect(database, timeout=10) as conn:
            conn.execute("UPDATE counters SET zone = '' WHERE centre_id = ?", (1,))

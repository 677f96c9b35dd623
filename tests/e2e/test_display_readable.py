"""The TV readable from 8 m, and the TV and speaker pages accessible (axe-core).

At 1920×1080 in headless Chromium against the real server: every visible text's contrast
(computed styles, tests/e2e/a11y.py) is at least 7:1 in both phases of a call's flash, once
it is steady, with a paused counter, a thank-you tile, the slides, muted and disconnected;
the counter number in the big panel is as large as the ticket number; axe-core finds no
serious or critical violation. Figures: test-artifacts/display-contrast.json, screenshots
test-artifacts/display-flash-*.png, axe reports test-artifacts/axe-display-*.json.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.a11y import (
    ARTIFACTS,
    assert_axe_clean,
    assert_text_contrast,
    seek_animations,
)
from tests.e2e.conftest import LiveServer, running_server

pytestmark = pytest.mark.browser

AAA = 7.0
FIGURES: dict[str, dict] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, voice_cache: Path) -> Iterator[LiveServer]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TTHCC_VOICE_CACHE_DIR", str(voice_cache))
        with running_server(tmp_path_factory.mktemp("readable") / "instance") as live:
            yield live
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "display-contrast.json").write_text(json.dumps(FIGURES, indent=2))


@pytest.fixture
def open_page(browser) -> Iterator:
    contexts = []

    def _open(url: str):
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


def call(server: LiveServer, counter: int) -> dict:
    r = requests.get(f"{server.url}/api/v1/counters/{counter}", timeout=5)
    service_id = r.json()["services"][0]["id"]
    current = r.json()["current_ticket"]  # was served (docs/lifecycle.md: say so)
    requests.post(f"{server.url}/api/v1/tickets", json={"service_id": service_id}, timeout=5)
    r = requests.post(
        f"{server.url}/api/v1/counters/{counter}/call-next",
        json={"resolve": "served", "current_ticket_id": current["id"]} if current else {},
        headers={"Authorization": f"Bearer {server.token(f'canbo{counter}')}"},
        timeout=5,
    )
    assert r.status_code == 200, r.text
    return r.json()


def measure(page, name: str) -> float:
    """Every visible text at least 7:1; the smallest ratio is kept for the report."""
    rows = assert_text_contrast(page, AAA)
    low = rows[0]
    FIGURES[name] = {"min_ratio": low["ratio"], "text": low["text"], "element": low["element"]}
    return low["ratio"]


def flash_phases(page) -> list[float]:
    """The times (ms) into the flash animation where each of its colour sets shows."""
    return page.evaluate(
        """() => { const a = document.getAnimations().find(a => a.animationName === 'flash-colours');
                   const step = a.effect.getComputedTiming().duration;
                   return [step * 0.25, step * 0.75]; }"""
    )


def test_the_call_is_readable_in_every_phase_of_the_flash(server, open_page, artifacts):
    for counter in (2, 3, 4):  # a fuller screen: these were called before the TV opened
        call(server, counter)
    page = open_page(f"{server.url}/display/?muted=1&slides=0")
    ticket = call(server, 1)
    page.wait_for_function(
        "n => document.getElementById('now-number').textContent === n"
        " && document.getElementById('now').classList.contains('flash')",
        arg=ticket["number"],
        timeout=30_000,
    )
    # The counter number is as large as the ticket number (both 20vh = 216 px here).
    sizes = page.evaluate(
        "() => ['now-number', 'now-counter'].map(id =>"
        " parseFloat(getComputedStyle(document.getElementById(id)).fontSize))"
    )
    assert sizes[0] == sizes[1] >= 0.19 * 1080, sizes
    FIGURES["panel_font_px"] = {"number": sizes[0], "counter": sizes[1]}

    inverted, normal = flash_phases(page)
    colours = []
    for phase, at in (("inverted", inverted), ("normal", normal)):
        seek_animations(page, at)
        measure(page, f"flash {phase}")
        colours.append(
            page.evaluate(
                "() => [getComputedStyle(document.getElementById('now')).backgroundColor,"
                " getComputedStyle(document.querySelector('.tile.hot')).backgroundColor]"
            )
        )
        page.screenshot(path=str(artifacts / f"display-flash-{phase}.png"))
    # It does flash (the panel and its tile swap colours together), by inverting, not dimming.
    assert colours[0] != colours[1]
    assert colours[0][0] == colours[0][1] == "rgb(255, 212, 0)"
    hot = page.locator(".tile.hot")
    assert hot.count() == 1
    assert hot.get_attribute("data-counter") == "1"
    assert hot.locator(".tile-number").text_content() == ticket["number"]


def test_steady_paused_thanks_and_disconnected_states_are_readable(server, open_page):
    call(server, 3)
    call(server, 7)
    page = open_page(f"{server.url}/display/?slides=0")
    call(server, 5)
    page.wait_for_function("() => tthccDisplay.highlightLog.length > 0", timeout=15_000)
    page.evaluate("() => tthccDisplay.setMuted(true)")
    # A paused counter and a thank-you tile, as the events would draw them.
    page.evaluate(
        """() => { const c = [...tthccDisplay.state.counters.values()];
                   c.find(x => x.number === 7).status = 'paused'; }"""
    )
    page.evaluate(
        "() => tthccDisplay.hall.handlers.onEvent('rating.recorded', {rating: {id: 99,"
        " counter_id: 3, counter_number: 3, level: 5}, thank_you: 'Cảm ơn quý khách đã đánh giá!'})"
    )
    page.evaluate(
        "() => tthccDisplay.hall.handlers.onEvent('queue.updated', {centre_id: 1, services: []})"
    )
    page.wait_for_selector(".tile.paused")
    page.wait_for_selector(".tile.thanks")
    seek_animations(page, 10_000)  # the flash is over: steady colours
    measure(page, "steady, paused, thanks, muted")
    page.evaluate("() => tthccDisplay.hall.socket.disconnect()")
    page.wait_for_selector("#conn", state="visible")
    measure(page, "disconnected")


def test_slides_are_readable(server, open_page):
    page = open_page(f"{server.url}/display/?muted=1&slide_idle=1&slide_seconds=30")
    page.wait_for_function("() => tthccDisplay.slides.active", timeout=15_000)
    page.add_style_tag(content=".slide { animation: none; }")  # not mid-fade
    measure(page, "slides")


def test_tv_has_no_serious_accessibility_violations(server, open_page):
    page = open_page(f"{server.url}/display/?muted=1&slides=0")
    ticket = call(server, 6)
    page.wait_for_function(
        "n => document.getElementById('now-number').textContent === n", arg=ticket["number"]
    )
    seek_animations(page, 10_000)
    violations = assert_axe_clean(page, "display-tv")
    FIGURES["axe tv"] = {"violations": [[v["id"], v["impact"]] for v in violations]}


def test_speaker_page_is_readable_and_accessible(server, open_page):
    page = open_page(f"{server.url}/display/audio")
    measure(page, "audio page")
    violations = assert_axe_clean(page, "display-audio")
    FIGURES["axe audio"] = {"violations": [[v["id"], v["impact"]] for v in violations]}


def test_zone_tv_is_readable(server, open_page):
    with sqlite3.connect(server.instance / "tthcc.sqlite3") as db:
        db.execute("UPDATE counters SET zone = 'A' WHERE number IN (1, 2)")
    page = open_page(f"{server.url}/display/?zone=A&muted=1&slides=0")
    assert page.locator("#zone").text_content() == "Khu vực A"
    measure(page, "zone TV")
    assert_axe_clean(page, "display-zone")


def test_a_waiting_count_older_than_the_one_shown_is_kept_out(server, open_page):
    """`queue.updated` carries each line's version of its count (`stamps`, per `day`): with
    several processes behind Redis two updates can arrive out of order, and the TV keeps the
    newer count (lib/hall.js LineStamps). Real events first, then an older one, one of an
    earlier day and a newer one handed to the page's event handler."""
    page = open_page(f"{server.url}/display/?muted=1&slides=0")
    service = requests.get(f"{server.url}/api/v1/counters/1", timeout=5).json()["services"][0]
    line = service["id"]
    seen = f"() => tthccDisplay.state.stamps.seen.get({line}) || 0"
    before = page.evaluate(seen)
    requests.post(f"{server.url}/api/v1/tickets", json={"service_id": line}, timeout=5)
    page.wait_for_function(f"() => ({seen})() > {before}", timeout=10_000)
    version, waiting, day, field = page.evaluate(
        f"""() => {{ const s = tthccDisplay.state.services.get({line});
                    return [tthccDisplay.state.stamps.seen.get({line}), s.waiting,
                            tthccDisplay.state.stamps.day, s.field_id]; }}"""
    )
    assert waiting >= 1 and version >= 1

    def shown() -> tuple[int, str]:
        return page.evaluate(
            f"""() => {{ const f = tthccDisplay.state.visibleFields().find(f => f.id === {field});
                        const li = [...document.querySelectorAll('#waiting li')]
                          .find(li => li.querySelector('.w-name').textContent === f.name);
                        return [tthccDisplay.state.services.get({line}).waiting,
                                li.querySelector('.w-count').textContent]; }}"""
        )

    def send(day_: str, stamp: int, n: int) -> None:
        page.evaluate(
            "([day, line, stamp, n]) => tthccDisplay.hall.handlers.onEvent('queue.updated',"
            " {centre_id: 1, day, services: [{id: line, waiting: n}], stamps: {[line]: stamp}})",
            [day_, line, stamp, n],
        )

    steady = shown()
    send(day, version - 1, waiting + 40)  # older: kept out
    assert shown() == steady
    send("2000-01-01", version + 100, waiting + 50)  # another, earlier day's: kept out
    assert shown() == steady
    send(day, version + 1, waiting + 7)  # newer: shown
    assert shown() == [waiting + 7, str(int(steady[1]) + 7)]

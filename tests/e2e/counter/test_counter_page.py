"""The counter page as a staff member meets it: the centre's clock on a PC set to another
zone, targets a finger or a hurried mouse can hit (≥ 44×44 px), text that reads, and no
serious or critical axe-core violation, in every view and every question. Screenshots and
the measured figures go to test-artifacts/ (counter-page-*.png, counter-page-figures.json).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.a11y import assert_axe_clean, text_contrasts
from tests.e2e.counter.conftest import EXPECTED_HTTP_ERROR, CounterUI, Hall

pytestmark = pytest.mark.browser

MIN_TARGET_PX = 44
MIN_CONTRAST = 7.0  # AAA (WCAG 1.4.6); disabled controls are exempt
# Disabled controls are exempt from contrast (WCAG 1.4.3); their text is dimmed on purpose.
ENABLED_TEXT = "body *:not(:disabled):not(:disabled *)"

# Every visible target: buttons, links, fields; a radio or checkbox is hit through its label.
# With a modal dialog open, only the dialog's targets can be hit.
_TARGETS_JS = """
() => {
  const scope = document.querySelector("dialog[open]") || document;
  const describe = (n) => n.tagName.toLowerCase() + (n.id ? "#" + n.id : "") +
    (n.classList.length ? "." + [...n.classList].join(".") : "");
  const out = [];
  for (const node of scope.querySelectorAll("button, a[href], input, select, textarea")) {
    const target = node.matches("input[type=radio], input[type=checkbox]") && node.closest("label")
      ? node.closest("label") : node;
    if (!target.getClientRects().length || getComputedStyle(target).visibility !== "visible") continue;
    const box = target.getBoundingClientRect();
    out.push({element: describe(node), text: (node.textContent || node.value || "").trim().slice(0, 40),
              width: Math.round(box.width * 10) / 10, height: Math.round(box.height * 10) / 10});
  }
  return out;
}
"""

FIGURES: dict[str, Any] = {}


@pytest.fixture
def utc_ui(browser: Browser, hall: Hall) -> Iterator[CounterUI]:
    """The counter page on a PC whose clock is set to UTC (the centre is UTC+7), under the
    pages' real Content-Security-Policy (the other tests' contexts bypass it)."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 768},
        locale="vi-VN",
        timezone_id="UTC",
        bypass_csp=False,
    )
    page = context.new_page()
    page.set_default_timeout(5000)
    ui = CounterUI(page, hall.server.url, [])
    page.on(
        "console",
        lambda m: (
            ui.errors.append(m.text)
            if m.type == "error" and not EXPECTED_HTTP_ERROR.search(m.text)
            else None
        ),
    )
    page.on("pageerror", lambda exc: ui.errors.append(f"page error: {exc}"))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " console.error('CSP: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    try:
        yield ui
    finally:
        context.close()
    assert ui.errors == [], ui.errors


def local_time(iso: str, seconds: bool = True) -> str:
    """The wall-clock time of an API timestamp (the server gives the centre's offset)."""
    return datetime.fromisoformat(iso).strftime("%H:%M:%S" if seconds else "%H:%M")


def targets(ui: CounterUI, view: str) -> list[dict]:
    rows = ui.page.evaluate(_TARGETS_JS)
    assert rows, f"no targets found in {view}"
    small = [r for r in rows if min(r["width"], r["height"]) < MIN_TARGET_PX]
    assert not small, f"{view}: targets under {MIN_TARGET_PX} px: {small}"
    smallest = min(rows, key=lambda r: min(r["width"], r["height"]))
    FIGURES.setdefault("smallest_target", {})[view] = smallest
    return rows


def contrast(ui: CounterUI, view: str) -> float:
    rows = text_contrasts(ui.page, ENABLED_TEXT)
    low = [r for r in rows if r["ratio"] < MIN_CONTRAST]
    assert not low, f"{view}: text under {MIN_CONTRAST}:1: {low[:5]}"
    FIGURES.setdefault("lowest_contrast", {})[view] = rows[0]
    return rows[0]["ratio"]


def save_figures(artifacts: Path) -> None:
    path = artifacts / "counter-page-figures.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    for key, value in FIGURES.items():
        old.setdefault(key, {}).update(value)
    path.write_text(json.dumps(old, ensure_ascii=False, indent=2), encoding="utf-8")


def test_times_are_the_centres_on_a_pc_set_to_utc(utc_ui: CounterUI, hall: Hall) -> None:
    ui = utc_ui
    assert ui.page.evaluate("new Date().getTimezoneOffset()") == 0  # the browser is in UTC
    ui.start_at(1)
    absent, served = hall.issue("HT1"), hall.issue("HT1")
    ui.press("F1")
    expect(ui.page.locator("#ticket-number")).to_have_text(absent["number"])
    called = hall.ticket(absent["id"])["called_at"]
    assert datetime.fromisoformat(called).utcoffset().total_seconds() == 7 * 3600
    expect(ui.page.locator("#ticket-time")).to_contain_text(f"Gọi lúc {local_time(called)}")

    ui.page.click("#btn-no-show")
    row = ui.page.locator(f".no-show[data-ticket-id='{absent['id']}']")
    expect(row).to_contain_text(f"gọi lần cuối {local_time(called, seconds=False)}")

    expect(ui.page.locator("#ticket-number")).to_have_text("—")
    ui.press("F1")
    expect(ui.page.locator("#ticket-number")).to_have_text(served["number"])
    ui.press("F3")
    expect(ui.page.locator("#ticket-status")).to_have_text("Đang phục vụ")
    started = hall.ticket(served["id"])["started_at"]
    expect(ui.page.locator("#ticket-time")).to_contain_text(
        f"Bắt đầu phục vụ lúc {local_time(started)}"
    )
    # Not the browser's zone: seven hours off the UTC clock of this PC.
    utc_hour = ui.page.evaluate("String(new Date().getUTCHours()).padStart(2, '0')")
    shown = re.search(r"lúc (\d\d):", ui.page.locator("#ticket-time").inner_text())
    assert shown and shown.group(1) != utc_hour


def test_targets_contrast_and_axe_in_every_view_and_question(
    ui: CounterUI, hall: Hall, artifacts: Path
) -> None:
    page = ui.page
    ui.open()
    targets(ui, "login")
    contrast(ui, "login")
    assert_axe_clean(page, "counter-login")

    ui.log_in("canbo1")
    expect(page.locator("#view-picker")).to_be_visible()
    expect(page.locator(".counter-item")).to_have_count(len(hall.counters))
    targets(ui, "picker")
    contrast(ui, "picker")
    assert_axe_clean(page, "counter-picker")
    page.screenshot(path=str(artifacts / "counter-page-picker.png"))

    ui.pick(1)
    expect(page.locator("#conn-status")).to_have_text("Trực tuyến")
    absent, current = hall.issue("HT1"), hall.issue("HT1")
    hall.issue("HT2")
    ui.press("F1")
    expect(page.locator("#ticket-number")).to_have_text(absent["number"])
    page.click("#btn-no-show")
    expect(page.locator("#ticket-number")).to_have_text("—")
    ui.press("F1")
    expect(page.locator("#ticket-number")).to_have_text(current["number"])
    page.click("#btn-call-number")  # a number nobody holds: the banner says so
    page.fill("#call-number-input", "1999")
    ui.press("Enter")
    expect(ui.banner()).to_be_visible()
    expect(page.locator(".no-show")).to_have_count(1)
    # One screen at 1366×768: nothing to scroll.
    assert page.evaluate("document.documentElement.scrollHeight") <= 768
    assert page.evaluate(
        "[...document.querySelectorAll('.view-counter, .panel-ticket')]"
        ".every((n) => n.scrollHeight <= n.clientHeight + 1)"
    )
    rows = targets(ui, "counter")
    FIGURES.setdefault("targets_counted", {})["counter"] = len(rows)
    contrast(ui, "counter")
    assert_axe_clean(page, "counter-work")
    page.screenshot(path=str(artifacts / "counter-page-work.png"))

    for name, open_it in (
        ("resolve", lambda: ui.press("F1")),
        ("transfer", lambda: page.click("#btn-transfer")),
        ("call-number", lambda: page.click("#btn-call-number")),
        ("pause", lambda: page.click("#btn-pause")),
    ):
        open_it()
        dialog = page.locator(f"#dlg-{name}")
        expect(dialog).to_be_visible()
        targets(ui, f"dialog {name}")
        contrast(ui, f"dialog {name}")
        assert_axe_clean(page, f"counter-dialog-{name}")
        page.screenshot(path=str(artifacts / f"counter-page-dialog-{name}.png"))
        ui.press("Escape")
        expect(dialog).to_be_hidden()
    assert hall.ticket(current["id"])["status"] == "called"  # every question was cancelled
    save_figures(artifacts)

"""The counter page and the ticket lifecycle (docs/lifecycle.md), in Chromium against the
real server: "call next" asks once about a citizen only called, and answers about that very
ticket; a double press never opens two questions or calls twice; finishing records an
outcome; the no-show list comes from the server, whoever marked the citizen absent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Route, expect

from tests.e2e.counter.conftest import CounterUI, Hall

pytestmark = pytest.mark.browser

CALL_NEXT = "**/api/v1/counters/*/call-next"


def watch_calls(ui: CounterUI) -> list[dict]:
    """The bodies of the page's call-next requests, as sent."""
    bodies: list[dict] = []
    ui.page.on(
        "request",
        lambda r: bodies.append(json.loads(r.post_data or "{}")) if "/call-next" in r.url else None,
    )
    return bodies


def slow_calls(ui: CounterUI, ms: int = 600) -> None:
    """Hold each call-next request for `ms` before sending it: the in-flight window a busy
    network gives a double press."""

    def hold(route: Route) -> None:
        ui.page.wait_for_timeout(ms)
        route.continue_()

    ui.page.route(CALL_NEXT, hold)


def question(ui: CounterUI):
    return ui.page.locator("#dlg-resolve")


def test_next_asks_once_about_a_citizen_only_called_and_names_that_ticket(
    ui: CounterUI, hall: Hall, artifacts: Path
) -> None:
    ui.start_at(1)
    first = hall.issue("HT1")
    second = hall.issue("HT1")
    bodies = watch_calls(ui)
    ui.press("F1")
    expect(ui.page.locator("#ticket-number")).to_have_text(first["number"])

    ui.press("F1")  # the citizen was only called: never taken for served
    expect(question(ui)).to_be_visible()
    expect(ui.page.locator("#resolve-title")).to_have_text(
        f"Công dân số {first['number']} đã đến chưa?"
    )
    expect(ui.page.locator("#resolve-calls")).to_have_text("Đã gọi 1/3 lần")
    ui.page.screenshot(path=str(artifacts / "counter-ask-once.png"))
    # The focus is on the question, not on an answer: Space (the key that called) or Enter
    # pressed again answers nothing.
    assert ui.page.evaluate("document.activeElement.id") == "dlg-resolve"
    ui.press("Space")
    ui.press("Enter")
    expect(question(ui)).to_be_visible()
    assert hall.ticket(first["id"])["status"] == "called"
    assert hall.ticket(second["id"])["status"] == "waiting"

    ui.press("2")  # Vắng mặt
    expect(question(ui)).to_be_hidden()
    expect(ui.page.locator("#ticket-number")).to_have_text(second["number"])
    assert hall.ticket(first["id"])["status"] == "no_show"
    assert hall.counter(1)["current_ticket"]["id"] == second["id"]
    # Asked without an answer, then answered about the ticket the server asked about.
    assert bodies == [{}, {}, {"resolve": "no_show", "current_ticket_id": first["id"]}]
    expect(ui.page.locator(f".no-show[data-ticket-id='{first['id']}']")).to_be_visible()
    expect(ui.page.locator("#ticket-last")).to_have_text(
        f"Phiếu trước: {first['number']} – Vắng mặt"
    )


def test_a_double_press_opens_one_question_and_calls_once(ui: CounterUI, hall: Hall) -> None:
    ui.start_at(1)
    first = hall.issue("HT1")
    second = hall.issue("HT1")
    third = hall.issue("HT1")
    ui.page.click("#btn-next")
    expect(ui.page.locator("#ticket-number")).to_have_text(first["number"])
    bodies = watch_calls(ui)
    slow_calls(ui)

    # F1 twice and a double click while the first request is in flight: one request.
    ui.press("F1")
    expect(ui.page.locator("#btn-next")).to_be_disabled()
    ui.page.keyboard.press("F1")
    ui.page.locator("#btn-next").dblclick(force=True)
    expect(question(ui)).to_be_visible()
    ui.press("F1")  # with the question open: nothing
    ui.page.wait_for_timeout(700)
    assert ui.page.locator("dialog[open]").count() == 1
    assert bodies == [{}]

    ui.press("Escape")  # Hủy: nothing changes
    expect(question(ui)).to_be_hidden()
    expect(ui.page.locator("#btn-next")).to_be_enabled()
    assert [hall.ticket(t["id"])["status"] for t in (first, second, third)] == [
        "called",
        "waiting",
        "waiting",
    ]

    # Answered with a double click: one answer, one citizen called.
    ui.press("F1")
    expect(question(ui)).to_be_visible()
    ui.page.locator("#btn-resolve-served").dblclick()
    expect(ui.page.locator("#ticket-number")).to_have_text(second["number"])
    ui.page.wait_for_timeout(700)
    assert bodies[1:] == [{}, {"resolve": "served", "current_ticket_id": first["id"]}]
    first_now = hall.ticket(first["id"])
    assert (first_now["status"], first_now["outcome"]) == ("done", "served")
    assert hall.ticket(third["id"])["status"] == "waiting"

    # A citizen being served: Next finishes them as served, no question; still one call.
    ui.press("F3")
    expect(ui.page.locator("#ticket-status")).to_have_text("Đang phục vụ")
    ui.press("F1")
    ui.page.keyboard.press("F1")
    expect(ui.page.locator("#ticket-number")).to_have_text(third["number"])
    ui.page.wait_for_timeout(700)
    assert bodies[3:] == [{}]
    expect(question(ui)).to_be_hidden()


def test_call_again_from_the_question_recalls_the_same_citizen(ui: CounterUI, hall: Hall) -> None:
    ui.start_at(1)
    first = hall.issue("HT1")
    second = hall.issue("HT1")
    ui.page.click("#btn-next")
    expect(ui.page.locator("#ticket-number")).to_have_text(first["number"])
    ui.page.click("#btn-next")
    expect(question(ui)).to_be_visible()
    ui.press("3")  # Gọi lại
    expect(question(ui)).to_be_hidden()
    expect(ui.page.locator("#ticket-calls")).to_have_text("Đã gọi 2/3 lần")
    assert hall.ticket(first["id"])["call_count"] == 2
    assert hall.ticket(second["id"])["status"] == "waiting"


def test_after_the_recalls_next_marks_the_citizen_absent_without_asking(
    ui: CounterUI, hall: Hall
) -> None:
    ui.start_at(1)
    first = hall.issue("HT1")
    second = hall.issue("HT1")
    ui.page.click("#btn-next")
    expect(ui.page.locator("#ticket-number")).to_have_text(first["number"])
    for count in (2, 3):
        ui.press("F2")
        expect(ui.page.locator("#ticket-calls")).to_contain_text(f"Đã gọi {count}/3 lần")
    calls = ui.page.locator("#ticket-calls")
    expect(calls).to_have_text("Đã gọi 3/3 lần · bấm «Gọi số tiếp theo» sẽ ghi vắng mặt")
    expect(calls).to_have_attribute("data-warn", "true")

    ui.press("F1")
    expect(ui.page.locator("#ticket-number")).to_have_text(second["number"])
    expect(question(ui)).to_be_hidden()  # not asked: absent after the recalls
    expect(ui.banner()).to_contain_text(
        f"Công dân số {first['number']} đã được ghi vắng mặt sau 3 lần gọi."
    )
    assert hall.ticket(first["id"])["status"] == "no_show"
    expect(ui.page.locator(f".no-show[data-ticket-id='{first['id']}']")).to_contain_text(
        "đã gọi 3 lần"
    )
    expect(ui.page.locator("#ticket-last")).to_have_text(
        f"Phiếu trước: {first['number']} – Vắng mặt"
    )


def test_finishing_records_the_outcome_served_by_default(ui: CounterUI, hall: Hall) -> None:
    ui.start_at(1)
    tickets = [hall.issue("HT1") for _ in range(4)]
    buttons = {
        "served": "F4",
        "supplement": "#btn-finish-supplement",
        "redirected": "#btn-finish-redirected",
        "left": "#btn-finish-left",
    }
    shown = {
        "served": "Đã xong",
        "supplement": "Đã xong · Hẹn bổ sung hồ sơ",
        "redirected": "Đã xong · Hướng dẫn sang nơi khác",
        "left": "Đã xong · Công dân đã về",
    }
    for ticket, (outcome, press) in zip(tickets, buttons.items(), strict=True):
        ui.press("F1")
        expect(ui.page.locator("#ticket-number")).to_have_text(ticket["number"])
        ui.press("F3")
        expect(ui.page.locator("#ticket-status")).to_have_text("Đang phục vụ")
        if press.startswith("#"):
            ui.page.click(press)  # one click away
        else:
            ui.press(press)
        expect(ui.page.locator("#ticket-status")).to_have_text("Chưa có phiếu")
        expect(ui.page.locator("#ticket-last")).to_have_text(
            f"Phiếu trước: {ticket['number']} – {shown[outcome]}"
        )
        after = hall.ticket(ticket["id"])
        assert (after["status"], after["outcome"]) == ("done", outcome)


def test_the_no_show_list_comes_from_the_server_whoever_marked_the_citizen(
    ui: CounterUI, hall: Hall
) -> None:
    ui.start_at(1)
    by_keypad, by_screen, elsewhere = hall.issue("HT1"), hall.issue("HT1"), hall.issue("CT1")
    supervisor = hall.as_user("giamsat", "tthcc-giamsat")
    counter1 = hall.counters[1]["id"]

    # The keypad calls and marks absent.
    assert hall.keypad(1, "next")["ok"]
    expect(ui.page.locator("#ticket-number")).to_have_text(by_keypad["number"])
    assert hall.keypad(1, "no_show")["ok"]
    row = ui.page.locator(f".no-show[data-ticket-id='{by_keypad['id']}']")
    expect(row).to_contain_text(by_keypad["number"])
    expect(ui.page.locator("#ticket-number")).to_have_text("—")

    # Another screen (a supervisor) calls at this counter and marks absent.
    hall.post(f"/counters/{counter1}/call-next", token=supervisor)
    expect(ui.page.locator("#ticket-number")).to_have_text(by_screen["number"])
    hall.post(f"/tickets/{by_screen['id']}/no-show", token=supervisor)
    expect(ui.page.locator(f".no-show[data-ticket-id='{by_screen['id']}']")).to_be_visible()

    # Another counter's no-show is not this counter's.
    canbo2 = hall.as_user("canbo2")
    hall.post(f"/counters/{hall.counters[2]['id']}/status", {"status": "open"}, token=canbo2)
    hall.post(f"/counters/{hall.counters[2]['id']}/call-next", token=canbo2)
    hall.post(f"/tickets/{elsewhere['id']}/no-show", token=canbo2)
    expect(ui.page.locator(".no-show")).to_have_count(2)
    expect(ui.page.locator(".no-show .no-show-number")).to_have_text(
        [by_screen["number"], by_keypad["number"]]  # newest first
    )

    # Kept by the server, not by this browser: a reload (or another PC) shows the same list.
    assert (
        ui.page.evaluate("Object.keys(localStorage).filter(k => k.includes('noshows')).length") == 0
    )
    ui.page.reload()
    expect(ui.page.locator("#view-counter")).to_be_visible()
    expect(ui.page.locator(".no-show")).to_have_count(2)

    # Each can be called again (the citizen came back) or put back in line.
    row = ui.page.locator(f".no-show[data-ticket-id='{by_keypad['id']}']")
    row.get_by_role("button", name="Gọi lại").click()
    expect(ui.page.locator("#ticket-number")).to_have_text(by_keypad["number"])
    expect(row).to_have_count(0)
    assert hall.ticket(by_keypad["id"])["status"] == "called"
    ui.page.locator(".no-show").get_by_role("button", name="Xếp lại hàng").click()
    expect(ui.page.locator(".no-show")).to_have_count(0)
    expect(ui.page.locator("#no-shows-empty")).to_be_visible()
    assert hall.ticket(by_screen["id"])["status"] == "waiting"
    expect(ui.banner()).to_contain_text(re.compile(f"Đã xếp phiếu {by_screen['number']}"))

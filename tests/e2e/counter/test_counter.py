"""The counter staff page in Chromium against the real server (gunicorn + gevent, SQLite).

Tickets are issued and checked through the HTTP API; everything the page shows must match
what the API says, and must arrive live (no reload) over Socket.IO. The server, the quiet
hall and the page are fixtures of tests/e2e/counter/conftest.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.counter.conftest import STAFF_PASSWORD, CounterUI, Hall

pytestmark = pytest.mark.browser


# --- tests --------------------------------------------------------------------------------


def test_wrong_password_shows_vietnamese_error_and_stays_on_login(ui: CounterUI) -> None:
    ui.open()
    ui.log_in("canbo1", "sai-mat-khau")
    expect(ui.banner()).to_be_visible()
    expect(ui.banner()).to_contain_text("Sai tên đăng nhập hoặc mật khẩu.")
    expect(ui.page.locator("#login-error")).to_have_text("Sai tên đăng nhập hoặc mật khẩu.")
    expect(ui.page.locator("#view-login")).to_be_visible()
    assert ui.page.evaluate("sessionStorage.getItem('tthcc.counter.session')") is None

    ui.log_in("canbo1", STAFF_PASSWORD)
    expect(ui.page.locator("#view-picker")).to_be_visible()
    expect(ui.page.locator("#who")).to_contain_text("Nguyễn Thị Hương")
    session = ui.page.evaluate("JSON.parse(sessionStorage.getItem('tthcc.counter.session'))")
    assert session["token"] and session["user"]["username"] == "canbo1"


def test_serve_a_ticket_live_call_recall_start_finish(
    ui: CounterUI, hall: Hall, artifacts: Path
) -> None:
    ht1, ht2 = hall.services["HT1"]["id"], hall.services["HT2"]["id"]
    ui.start_at(1)
    assert hall.counter(1)["status"] == "open"
    # Waiting counts in the counter's own service order, then the total.
    rows = ui.page.locator("#waiting-rows tr th")
    expect(rows).to_have_text(["Khai sinh, kết hôn, khai tử", "Trích lục, cải chính hộ tịch"])
    expect(ui.page.locator("#waiting-total")).to_have_text("0")
    expect(ui.page.locator("#btn-recall")).to_be_disabled()

    ui.mark_document()
    first = hall.issue("HT1")
    hall.issue("HT1")
    hall.issue("HT2")
    hall.issue("CT1")  # not served at counter 1: not counted
    expect(ui.waiting(ht1)).to_have_text("2")
    expect(ui.waiting(ht2)).to_have_text("1")
    expect(ui.page.locator("#waiting-total")).to_have_text("3")
    ui.assert_not_reloaded()

    ui.page.click("#btn-next")
    expect(ui.page.locator("#ticket-status")).to_have_text("Đã gọi")
    called = hall.counter(1)["current_ticket"]
    assert called["id"] == first["id"]
    expect(ui.page.locator("#ticket-number")).to_have_text(called["number"])
    expect(ui.page.locator("#ticket-service")).to_have_text("Khai sinh, kết hôn, khai tử")
    expect(ui.page.locator("#ticket-time")).to_contain_text("Gọi lúc")
    expect(ui.waiting(ht1)).to_have_text("1")
    expect(ui.page.locator("#waiting-total")).to_have_text("2")
    # Buttons follow the ticket's allowed actions.
    for button in ("#btn-recall", "#btn-start", "#btn-finish", "#btn-no-show", "#btn-transfer"):
        expect(ui.page.locator(button)).to_be_enabled()

    expect(ui.page.locator("#ticket-calls")).to_have_text("Đã gọi 1/3 lần")
    ui.page.click("#btn-recall")
    expect(ui.page.locator("#ticket-calls")).to_have_text("Đã gọi 2/3 lần")
    assert hall.ticket(first["id"])["call_count"] == 2

    ui.page.click("#btn-start")
    expect(ui.page.locator("#ticket-status")).to_have_text("Đang phục vụ")
    expect(ui.page.locator("#ticket-time")).to_contain_text("Bắt đầu phục vụ lúc")
    assert hall.ticket(first["id"])["status"] == "serving"
    expect(ui.page.locator("#btn-recall")).to_be_disabled()
    expect(ui.page.locator("#btn-no-show")).to_be_disabled()
    expect(ui.page.locator("#btn-finish")).to_be_enabled()
    # Let the elapsed clock tick for the picture.
    expect(ui.page.locator("#ticket-time")).to_contain_text(re.compile(r"· 00:(0[1-9]|[1-5]\d)"))
    ui.page.screenshot(path=str(artifacts / "counter.png"))

    ui.page.click("#btn-finish")
    expect(ui.page.locator("#ticket-status")).to_have_text("Chưa có phiếu")
    expect(ui.page.locator("#ticket-last")).to_contain_text(f"{first['number']} – Đã xong")
    assert hall.ticket(first["id"])["status"] == "done"
    assert hall.counter(1)["current_ticket"] is None
    expect(ui.page.locator("#btn-finish")).to_be_disabled()
    ui.assert_not_reloaded()


def test_keyboard_calls_next_and_no_show_can_be_called_back(ui: CounterUI, hall: Hall) -> None:
    ui.start_at(1)
    first = hall.issue("HT1")
    second = hall.issue("HT1")
    expect(ui.page.locator("#waiting-total")).to_have_text("2")

    ui.press("F1")
    expect(ui.page.locator("#ticket-number")).to_have_text(first["number"])
    ui.page.click("#btn-no-show")
    expect(ui.page.locator("#ticket-status")).to_have_text("Chưa có phiếu")
    assert hall.ticket(first["id"])["status"] == "no_show"
    no_show = ui.page.locator(f".no-show[data-ticket-id='{first['id']}']")
    expect(no_show).to_contain_text(first["number"])

    # Space calls next even when the last clicked button still has the focus.
    ui.press("Space")
    expect(ui.page.locator("#ticket-number")).to_have_text(second["number"])
    assert hall.counter(1)["current_ticket"]["id"] == second["id"]
    assert hall.ticket(first["id"])["status"] == "no_show"

    # The citizen came back: call the no-show again from the list. The one at the counter
    # was only called: the page asks once what happened to them.
    no_show.get_by_role("button", name="Gọi lại").click()
    expect(ui.page.locator("#dlg-resolve")).to_be_visible()
    expect(ui.page.locator("#resolve-number")).to_have_text(second["number"])
    ui.page.click("#btn-resolve-served")
    expect(ui.page.locator("#ticket-number")).to_have_text(first["number"])
    expect(ui.page.locator("#ticket-status")).to_have_text("Đã gọi")
    expect(no_show).to_have_count(0)
    assert hall.counter(1)["current_ticket"]["id"] == first["id"]
    # The answer finished the one at the counter as served.
    assert (hall.ticket(second["id"])["status"], hall.ticket(second["id"])["outcome"]) == (
        "done",
        "served",
    )


def test_no_show_can_be_put_back_in_line(ui: CounterUI, hall: Hall) -> None:
    ui.start_at(1)
    first = hall.issue("HT1")
    later = hall.issue("HT1")
    expect(ui.page.locator("#waiting-total")).to_have_text("2")
    ui.page.click("#btn-next")
    expect(ui.page.locator("#ticket-number")).to_have_text(first["number"])
    ui.page.click("#btn-no-show")
    expect(ui.page.locator("#waiting-total")).to_have_text("1")

    ui.page.locator(".no-show").get_by_role("button", name="Xếp lại hàng").click()
    expect(ui.banner()).to_contain_text(f"Đã xếp phiếu {first['number']} trở lại hàng chờ")
    expect(ui.page.locator("#waiting-total")).to_have_text("2")
    expect(ui.page.locator(".no-show")).to_have_count(0)
    back = hall.ticket(first["id"])
    assert back["status"] == "waiting"
    assert back["waiting_ahead"] == 0  # its original place, ahead of the later ticket
    assert hall.ticket(later["id"])["waiting_ahead"] == 1


def test_transfer_moves_ticket_and_keeps_its_place_by_issue_time(ui: CounterUI, hall: Hall) -> None:
    ui.start_at(1)
    moved = hall.issue("HT1")
    already_there = hall.issue("CT1")  # issued later than `moved`
    expect(ui.page.locator("#waiting-total")).to_have_text("1")
    ui.page.click("#btn-next")
    expect(ui.page.locator("#ticket-number")).to_have_text(moved["number"])

    ui.page.click("#btn-transfer")
    dialog = ui.page.locator("#dlg-transfer")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#transfer-number")).to_have_text(moved["number"])
    # The ticket's own service is not offered.
    expect(dialog.locator(f"[data-service-id='{hall.services['HT1']['id']}']")).to_have_count(0)
    dialog.locator(f"[data-service-id='{hall.services['CT1']['id']}']").click()
    dialog.get_by_role("button", name="Chuyển").click()

    expect(ui.banner()).to_contain_text(f"Đã chuyển phiếu {moved['number']} sang")
    expect(ui.page.locator("#ticket-status")).to_have_text("Chưa có phiếu")
    expect(ui.page.locator("#ticket-last")).to_contain_text("Chứng thực bản sao từ bản chính")
    after = hall.ticket(moved["id"])
    assert after["service_id"] == hall.services["CT1"]["id"]
    assert after["issued_service_id"] == hall.services["HT1"]["id"]
    assert after["status"] == "waiting"
    assert after["issued_at"] == moved["issued_at"]
    assert after["number"] == moved["number"]
    assert after["waiting_ahead"] == 0
    assert hall.ticket(already_there["id"])["waiting_ahead"] == 1
    assert hall.counter(1)["current_ticket"] is None


def test_call_a_specific_number(ui: CounterUI, hall: Hall) -> None:
    ui.start_at(1)
    tickets = [hall.issue("HT1") for _ in range(3)]
    expect(ui.page.locator("#waiting-total")).to_have_text("3")

    ui.page.click("#btn-call-number")
    ui.page.fill("#call-number-input", tickets[2]["number"])
    ui.press("Enter")
    expect(ui.page.locator("#ticket-number")).to_have_text(tickets[2]["number"])
    assert hall.counter(1)["current_ticket"]["id"] == tickets[2]["id"]
    assert [hall.ticket(t["id"])["status"] for t in tickets] == ["waiting", "waiting", "called"]
    expect(ui.page.locator("#waiting-total")).to_have_text("2")

    # A number nobody holds today: the API's Vietnamese message, and nothing changes.
    ui.page.click("#btn-call-number")
    ui.page.fill("#call-number-input", "1999")
    ui.page.get_by_role("button", name="Gọi", exact=True).click()
    expect(ui.banner()).to_contain_text("Không có phiếu số 1999 hôm nay.")
    expect(ui.page.locator("#ticket-number")).to_have_text(tickets[2]["number"])


def test_nobody_waiting_shows_the_vietnamese_message(ui: CounterUI, hall: Hall) -> None:
    ui.start_at(1)
    hall.issue("CT1")  # another counter's service
    ui.page.click("#btn-next")
    expect(ui.banner()).to_be_visible()
    expect(ui.banner()).to_contain_text("Không có công dân nào đang chờ các dịch vụ của Quầy 1.")
    expect(ui.page.locator("#ticket-number")).to_have_text("—")
    # The banner does not block: the page still works.
    hall.issue("HT2")
    expect(ui.page.locator("#waiting-total")).to_have_text("1")
    ui.page.click("#btn-next")
    expect(ui.page.locator("#ticket-status")).to_have_text("Đã gọi")
    expect(ui.banner()).to_be_hidden()


def test_lost_server_is_reported_not_silent(ui: CounterUI, hall: Hall) -> None:
    ui.start_at(1)
    hall.issue("HT1")
    expect(ui.page.locator("#waiting-total")).to_have_text("1")
    ui.allowed_console.append(re.compile(r"net::ERR_FAILED"))
    ui.page.route("**/api/v1/counters/*/call-next", lambda route: route.abort())
    ui.page.click("#btn-next")
    expect(ui.banner()).to_contain_text("kết nối đang tạm gián đoạn")  # common.network_error
    expect(ui.page.locator("#btn-next")).to_be_enabled()  # ready to try again
    ui.page.unroute("**/api/v1/counters/*/call-next")
    ui.page.click("#btn-next")
    expect(ui.page.locator("#ticket-status")).to_have_text("Đã gọi")
    expect(ui.banner()).to_be_hidden()


def test_staff_cannot_take_a_counter_held_by_another(ui: CounterUI, hall: Hall) -> None:
    other = hall.server.token("canbo2", STAFF_PASSWORD)
    hall.post(f"/counters/{hall.counters[1]['id']}/status", {"status": "open"}, token=other)

    ui.open()
    ui.log_in("canbo1")
    item = ui.page.locator(f".counter-item[data-counter-id='{hall.counters[1]['id']}']")
    # The holder by name, not by id.
    expect(item).to_contain_text(f"{hall.counter(1)['staff_name']} đang phụ trách")
    expect(item).not_to_contain_text("mã ")
    expect(item.locator(".badge-open")).to_have_text("Đang mở")
    item.locator(".btn-pick").click()
    expect(ui.banner()).to_contain_text("Quầy 1 đang do cán bộ khác phụ trách.")
    expect(ui.page.locator("#view-picker")).to_be_visible()
    assert hall.counter(1)["staff_id"] != hall.counter(2)["staff_id"]  # still canbo2's

    # A free counter is fine.
    ui.pick(3)
    expect(ui.page.locator("#view-counter")).to_be_visible()
    expect(ui.page.locator("#counter-title")).to_have_text("Quầy 3")


def test_pause_with_reason_resume_and_close(ui: CounterUI, hall: Hall) -> None:
    ui.start_at(1)
    status = ui.page.locator("#counter-status")
    expect(status).to_have_text("Đang mở")

    ui.page.click("#btn-pause")
    ui.page.get_by_label("Họp").check()
    ui.page.click("#btn-pause-ok")
    expect(status).to_have_text("Tạm dừng")
    expect(ui.page.locator("#counter-status-reason")).to_have_text("(Họp)")
    counter = hall.counter(1)
    assert (counter["status"], counter["status_reason"]) == ("paused", "Họp")

    ui.page.click("#btn-resume")
    expect(status).to_have_text("Đang mở")
    assert hall.counter(1)["status"] == "open"

    # Closing with a citizen still at the counter is refused with the server's reason.
    ticket = hall.issue("HT1")
    ui.page.click("#btn-next")
    expect(ui.page.locator("#ticket-number")).to_have_text(ticket["number"])
    ui.page.click("#btn-close")
    expect(ui.banner()).to_contain_text("hãy kết thúc trước khi đóng quầy")
    assert hall.counter(1)["status"] == "open"

    ui.page.click("#btn-finish")
    expect(ui.page.locator("#ticket-status")).to_have_text("Chưa có phiếu")
    ui.page.click("#btn-close")
    expect(status).to_have_text("Đã đóng")
    counter = hall.counter(1)
    assert (counter["status"], counter["staff_id"]) == ("closed", None)
    expect(ui.page.locator("#btn-open")).to_be_visible()


def test_changes_made_elsewhere_arrive_live_and_reconnect_restores_truth(
    ui: CounterUI, hall: Hall
) -> None:
    ui.start_at(1)
    ui.mark_document()
    ticket = hall.issue("HT2")
    expect(ui.page.locator("#waiting-total")).to_have_text("1")

    # A supervisor calls at this counter from another screen.
    supervisor = hall.server.token("giamsat", "tthcc-giamsat")
    hall.post(f"/counters/{hall.counters[1]['id']}/call-next", token=supervisor)
    expect(ui.page.locator("#ticket-number")).to_have_text(ticket["number"])
    expect(ui.page.locator("#ticket-status")).to_have_text("Đã gọi")
    expect(ui.page.locator("#waiting-total")).to_have_text("0")
    hall.post(f"/tickets/{ticket['id']}/start", token=supervisor)
    expect(ui.page.locator("#ticket-status")).to_have_text("Đang phục vụ")
    expect(ui.page.locator("#btn-start")).to_be_disabled()

    # Lose the live connection, let the hall change, come back: the snapshot is the truth.
    ui.page.evaluate("window.tthccCounter.state.hall.socket.disconnect()")
    expect(ui.page.locator("#conn-status")).to_contain_text("Mất kết nối")
    hall.issue("HT1")
    hall.issue("HT1")
    hall.post(f"/tickets/{ticket['id']}/finish", token=supervisor)
    ui.page.wait_for_timeout(300)
    expect(ui.page.locator("#waiting-total")).to_have_text("0")  # nothing arrives meanwhile
    ui.page.evaluate("window.tthccCounter.state.hall.socket.connect()")
    expect(ui.page.locator("#conn-status")).to_have_text("Trực tuyến")
    expect(ui.page.locator("#waiting-total")).to_have_text("2")
    expect(ui.page.locator("#ticket-status")).to_have_text("Chưa có phiếu")
    expect(ui.page.locator("#ticket-last")).to_have_text(
        f"Phiếu trước: {ticket['number']} – Đã xong"
    )
    ui.assert_not_reloaded()


def test_reload_keeps_the_counter_and_logout_remembers_it(ui: CounterUI, hall: Hall) -> None:
    ui.start_at(2, username="canbo2")
    ticket = hall.issue("CT1")
    ui.page.click("#btn-next")
    expect(ui.page.locator("#ticket-number")).to_have_text(ticket["number"])

    ui.page.reload()
    expect(ui.page.locator("#view-counter")).to_be_visible()
    expect(ui.page.locator("#counter-title")).to_have_text("Quầy 2")
    expect(ui.page.locator("#ticket-number")).to_have_text(ticket["number"])
    expect(ui.page.locator("#btn-recall")).to_be_enabled()

    ui.page.click("#btn-logout")
    expect(ui.page.locator("#view-login")).to_be_visible()
    assert ui.page.evaluate("sessionStorage.getItem('tthcc.counter.session')") is None
    ui.log_in("canbo2")
    last = ui.page.locator(".counter-item.is-last")
    expect(last).to_have_attribute("data-counter-id", str(hall.counters[2]["id"]))
    expect(last).to_contain_text("Lần trước")


def test_expired_token_returns_to_login_with_a_message(ui: CounterUI, hall: Hall) -> None:
    ui.start_at(1)
    hall.issue("HT1")
    expect(ui.page.locator("#waiting-total")).to_have_text("1")
    # What the server sees after 12 hours: a token it no longer accepts.
    ui.page.evaluate("window.tthccCounter.state.session.token = 'expired-token'")
    ui.page.click("#btn-next")
    expect(ui.page.locator("#view-login")).to_be_visible()
    expect(ui.page.locator("#login-note")).to_contain_text("Phiên đăng nhập đã hết hạn")
    expect(ui.banner()).to_contain_text("Vui lòng đăng nhập lại")
    assert hall.counter(1)["current_ticket"] is None
    assert ui.page.evaluate("sessionStorage.getItem('tthcc.counter.session')") is None

    ui.log_in("canbo1")
    expect(ui.page.locator("#view-picker")).to_be_visible()


def test_a_waiting_count_older_than_the_one_shown_is_kept_out(ui: CounterUI, hall: Hall) -> None:
    """`queue.updated` carries each line's version (`stamps`, per `day`): two processes
    behind Redis may deliver two updates out of order; the counter page keeps the newer
    count of each line (lib/hall.js LineStamps)."""
    ht1, ht2 = hall.services["HT1"]["id"], hall.services["HT2"]["id"]
    ui.start_at(1)
    hall.issue("HT1")
    hall.issue("HT2")
    expect(ui.waiting(ht1)).to_have_text("1")
    expect(ui.waiting(ht2)).to_have_text("1")
    day, v1, v2 = ui.page.evaluate(
        f"""() => {{ const s = tthccCounter.state.stamps;
                    return [s.day, s.seen.get({ht1}), s.seen.get({ht2})]; }}"""
    )

    def send(day_: str, stamps: dict, services: list) -> None:
        ui.page.evaluate(
            "([day, stamps, services]) => tthccCounter.state.hall.handlers.onEvent("
            "'queue.updated', {centre_id: tthccCounter.state.centreId, day, services, stamps})",
            [day_, {str(k): v for k, v in stamps.items()}, services],
        )

    # HT1's count is older than shown (kept out), HT2's newer (shown): per line.
    send(day, {ht1: v1 - 1, ht2: v2 + 1}, [{"id": ht1, "waiting": 9}, {"id": ht2, "waiting": 4}])
    expect(ui.waiting(ht2)).to_have_text("4")
    expect(ui.waiting(ht1)).to_have_text("1")
    expect(ui.page.locator("#waiting-total")).to_have_text("5")
    send("2000-01-01", {ht1: v1 + 50, ht2: v2 + 50}, [])  # an earlier day's: kept out
    expect(ui.page.locator("#waiting-total")).to_have_text("5")
    # The next real event (HT1's version moves on) is shown.
    hall.issue("HT1")
    expect(ui.waiting(ht1)).to_have_text("2")
    # An API answer carries its counts' versions too: one overtaken by a newer event (here
    # a made-up one far ahead) does not put its older count back.
    v1 = ui.page.evaluate(f"() => tthccCounter.state.stamps.seen.get({ht1})")
    send(day, {ht1: v1 + 50}, [{"id": ht1, "waiting": 7}, {"id": ht2, "waiting": 4}])
    expect(ui.waiting(ht1)).to_have_text("7")
    ui.page.click("#btn-pause")
    ui.page.click("#btn-pause-ok")
    expect(ui.page.locator("#btn-resume")).to_be_visible()  # the answer has been applied
    assert ui.page.evaluate(f"() => tthccCounter.state.waiting.get({ht1})") == 7
    ui.page.click("#btn-resume")

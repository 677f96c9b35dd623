"""The staff pages on the shared ES modules (docs/frontend.md, "Staff pages"), in Chromium
against the real server, on a PC whose clock is set to UTC (the centre is UTC+7) and under
the pages' real Content-Security-Policy: no script error, no CSP violation, times on the
centre's clock, axe-core clean (0 serious or critical)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.e2e.a11y import assert_axe_clean
from tests.e2e.conftest import running_server

pytestmark = pytest.mark.browser

CENTRE_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
#: Console errors that are the browser reporting an HTTP answer the page expects (a 401
#: from /auth/me before logging in).
EXPECTED_HTTP_ERROR = re.compile(
    r"Failed to load resource: the server responded with a status of 401"
)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """One server for the module: each test makes what it needs."""
    with running_server(tmp_path_factory.mktemp("staff") / "instance") as server:
        yield server


@pytest.fixture
def page(browser) -> Iterator:
    """A page on a UTC PC under the real CSP; fails the test on any script error."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="vi-VN", timezone_id="UTC", bypass_csp=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not EXPECTED_HTTP_ERROR.search(m.text)
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " console.error('CSP: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    try:
        yield page
    finally:
        context.close()
    assert errors == [], errors


def centre_seconds(text: str) -> int:
    """Seconds between a "HH:MM:SS" read on the page and the centre's clock now."""
    shown = datetime.strptime(text, "%H:%M:%S").time()
    now = datetime.now(CENTRE_ZONE)
    then = now.replace(hour=shown.hour, minute=shown.minute, second=shown.second)
    return min(
        abs((now - then).total_seconds()), abs((now - then - timedelta(days=1)).total_seconds())
    )


def staff_login(page, username: str, password: str) -> None:
    """The staff pages' own login form (session cookie)."""
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")


def test_supervisor_live_hall_on_a_utc_pc(page, live_server, artifacts):
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/supervisor")
    page.wait_for_url("**/supervisor/login**")
    page.fill("#username", "giamsat")
    page.fill("#password", "tthcc-giamsat")
    page.click("button[type=submit]")
    page.wait_for_url("**/supervisor")
    expect(page.locator("#conn")).to_have_text("trực tiếp")
    expect(page.locator("#counters tbody tr[data-counter]").first).to_be_visible()
    updated = page.locator("#updated").inner_text()
    assert centre_seconds(updated) <= 10, (updated, "should be the centre's time (UTC+7)")

    waiting = page.locator("#totals .sv-kpi b").first
    before = int(waiting.inner_text())
    services = requests.get(f"{live_server.url}/api/v1/services", timeout=5).json()
    requests.post(
        f"{live_server.url}/api/v1/tickets", json={"service_id": services[0]["id"]}, timeout=5
    ).raise_for_status()
    expect(waiting).to_have_text(str(before + 1), timeout=4000)  # over /hall, before the poll
    assert_axe_clean(page, "supervisor-live")
    page.screenshot(path=str(artifacts / "supervisor-live-utc.png"), full_page=True)


def test_supervisor_devices_on_a_utc_pc(page, live_server):
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/supervisor/devices")
    staff_login(page, "giamsat", "tthcc-giamsat")
    expect(page.locator("#live")).to_have_attribute("data-socket", "connected")
    expect(page.locator("#stations tr[data-station]").first).to_be_visible()
    expect(page.locator("#who")).to_contain_text("supervisor")
    assert_axe_clean(page, "supervisor-devices")


def staff_headers(live_server, username="canbo1", password="tthcc-canbo") -> dict:
    return {"Authorization": f"Bearer {live_server.token(username, password)}"}


def test_dossier_desk_receives_hands_on_and_shows_centre_times(page, live_server, artifacts):
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/ho-so/quay")
    staff_login(page, "canbo1", "tthcc-canbo")
    page.fill("#procedure-search", "cap doi")
    page.locator("#procedure option").first.click()
    expect(page.locator("#procedure-info")).to_contain_text("Thời hạn")
    expect(page.locator("#papers input[type=checkbox]").first).to_be_checked()
    page.fill("#applicant", "Trần Thị Mai")
    page.click("#submit")
    expect(page.locator("#result")).to_be_visible()
    expect(page.locator("#slip")).not_to_be_empty()
    code = page.locator("#recent li[data-code]").first.get_attribute("data-code")
    dossiers = requests.get(
        f"{live_server.url}/api/v1/dossiers", headers=staff_headers(live_server), timeout=5
    ).json()
    dossier = next(d for d in dossiers if d["code"] == code)
    due = datetime.fromisoformat(dossier["appointment_at"]).astimezone(CENTRE_ZONE)
    item = page.locator(f'#recent li[data-code="{code}"]')
    expect(item).to_contain_text(f"hẹn trả {due:%H:%M %d/%m/%Y}")  # the centre's clock
    assert_axe_clean(page, "dossier-desk")
    page.screenshot(path=str(artifacts / "dossier-desk-utc.png"), full_page=True)

    item.locator('button[data-action="forward"]').click()
    expect(item.locator("[data-status]")).not_to_have_attribute("data-status", dossier["status"])


def _overdue_dossier(live_server) -> dict:
    """A dossier received through the API whose appointment day is made yesterday's."""
    from sqlalchemy import text

    from server.db import Database

    headers = staff_headers(live_server)
    procedure = requests.get(f"{live_server.url}/api/v1/procedures", timeout=5).json()[0]
    r = requests.post(
        f"{live_server.url}/api/v1/dossiers",
        json={"procedure_id": procedure["id"], "applicant_name": "Đỗ Văn Hùng"},
        headers=headers,
        timeout=5,
    )
    assert r.status_code == 201, r.text
    dossier = r.json()
    database = Database(live_server.env["TTHCC_DATABASE_URL"])
    yesterday = datetime.now(CENTRE_ZONE).date() - timedelta(days=1)
    try:
        with database.engine.begin() as conn:
            conn.execute(
                text("UPDATE dossiers SET due_date = :d WHERE id = :id"),
                {"d": yesterday, "id": dossier["id"]},
            )
    finally:
        database.dispose()
    return {**dossier, "due_date": yesterday}


def test_dossier_deadlines_apology(page, live_server):
    from playwright.sync_api import expect

    dossier = _overdue_dossier(live_server)
    page.goto(f"{live_server.url}/supervisor/dossiers")
    staff_login(page, "giamsat", "tthcc-giamsat")
    item = page.locator(f'#overdue li[data-code="{dossier["code"]}"]')
    expect(item).to_contain_text(f"Hẹn trả {dossier['due_date']:%d/%m/%Y}")
    received = datetime.fromisoformat(dossier["received_at"]).astimezone(CENTRE_ZONE)
    expect(item).to_contain_text(f"Nhận {received:%H:%M %d/%m/%Y}")  # the centre's clock
    expect(page.locator("#due-soon li").first).to_be_visible()
    assert_axe_clean(page, "supervisor-dossiers")

    new_date = datetime.now(CENTRE_ZONE).date() + timedelta(days=7)
    while new_date.weekday() >= 5:  # a working day (no holiday falls in the test's weeks)
        new_date += timedelta(days=1)
    item.locator("input[type=text]").fill("Chờ ý kiến của cơ quan chuyên môn")
    item.locator("input[type=date]").fill(new_date.isoformat())
    with page.context.expect_page() as letter:
        item.locator("button").click()
    assert letter.value.url.endswith(f"/dossiers/{dossier['id']}/apology.pdf")
    expect(item).to_contain_text(f"Hẹn lại {new_date:%d/%m/%Y}")
    expect(item.locator('a[href$="apology.pdf"]')).to_be_visible()


def test_feedback_assign_answer_and_filters(page, live_server):
    from playwright.sync_api import expect

    r = requests.post(
        f"{live_server.url}/api/v1/feedback",
        json={
            "about": "staff",
            "content": "Cán bộ hướng dẫn chưa rõ ràng về giấy tờ cần nộp.",
            "consent": True,
            "contact": {"name": "Vũ Thị Lan", "phone": "0912345678"},
        },
        timeout=5,
    )
    assert r.status_code == 201, r.text
    reference = r.json()["reference"]
    page.goto(f"{live_server.url}/supervisor/feedback")
    staff_login(page, "giamsat", "tthcc-giamsat")
    case = page.locator("#cases li[data-id]", has_text=reference)
    expect(case).to_contain_text("Cán bộ, công chức")
    expect(case).to_contain_text("Liên hệ: Vũ Thị Lan · 0912345678")
    expect(page.locator("#summary")).to_contain_text("phản ánh")
    assert_axe_clean(page, "supervisor-feedback")

    case.get_by_role("button", name="Giao xử lý").click()
    expect(case).to_have_attribute("data-status", "assigned")
    case.get_by_label("Trả lời").fill("Cảm ơn ông/bà, trung tâm đã nhắc nhở cán bộ.")
    case.get_by_role("button", name="Trả lời").click()
    expect(case).to_have_count(0)  # no longer open
    page.click('[data-filter="answered"]')
    expect(page.locator('[data-filter="answered"]')).to_have_attribute("aria-current", "true")
    answered = page.locator("#cases li[data-id]", has_text=reference)
    expect(answered).to_contain_text("Trả lời: Cảm ơn ông/bà")


def test_admin_forms_ask_before_removing(page, live_server):
    """data-confirm (staff/actions.js, loaded on every supervisor and admin page): the form
    is not sent when the question is dismissed."""
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/admin/services")
    page.wait_for_url("**/supervisor/login**")
    page.fill("#username", "admin")
    page.fill("#password", "tthcc-admin")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/services")
    page.click("#rows tbody tr:first-child td:first-child a")
    form_url = page.url
    asked: list[str] = []

    def dismiss(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.click("form[data-confirm] button")
    expect(page.locator("form[data-confirm]")).to_be_visible()
    assert asked == ["Xoá mục này?"]
    assert page.url == form_url

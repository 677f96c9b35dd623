"""The supervisor pages in Chromium against the real server: log in, watch the hall live,
read a report, export it. Screenshots go to test-artifacts/."""

from __future__ import annotations

import io
import os

import pytest
import requests

from tests.e2e.conftest import ROOT

pytestmark = pytest.mark.browser


def _api(live_server, token: str):
    def call(method: str, path: str, **kw):
        r = requests.request(
            method,
            f"{live_server.url}/api/v1{path}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
            **kw,
        )
        assert r.status_code < 400, (path, r.status_code, r.text)
        return r.json() if r.content else None

    return call


def _login(page, live_server, username="giamsat", password="tthcc-giamsat", path="/supervisor"):
    page.goto(f"{live_server.url}{path}")
    page.wait_for_url("**/supervisor/login**")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def _hall_activity(live_server) -> None:
    staff = _api(live_server, live_server.token())
    services = {s["code"]: s["id"] for s in staff("GET", "/services")}
    for code in ("HT1", "HT1", "CT1", "DD", "HT2", "HT1"):
        requests.post(
            f"{live_server.url}/api/v1/tickets", json={"service_id": services[code]}, timeout=10
        ).raise_for_status()
    staff("POST", "/counters/1/status", json={"status": "open", "reason": ""})
    ticket = staff("POST", "/counters/1/call-next")
    staff("POST", f"/tickets/{ticket['id']}/start")
    supervisor = _api(live_server, live_server.token("giamsat", "tthcc-giamsat"))
    supervisor("POST", "/counters/3/status", json={"status": "paused", "reason": "Họp giao ban"})


def test_live_hall_updates_and_screenshot(live_server, browser, artifacts):
    _hall_activity(live_server)
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="vi-VN")
    try:
        _login(page, live_server)
        page.wait_for_url("**/supervisor")
        page.wait_for_selector("#counters tbody tr[data-counter]")
        page.wait_for_function(
            "document.getElementById('conn').textContent.includes('trực tiếp')", timeout=10000
        )
        row1 = page.locator("#counters tr[data-counter]").first
        assert "Nguyễn Thị Hương" in row1.inner_text()
        assert "đang phục vụ" in row1.inner_text()
        paused = page.locator("#counters tr.st-paused")
        assert "Họp giao ban" in paused.inner_text()
        waiting_before = int(page.locator("#totals .sv-kpi b").first.inner_text())
        assert waiting_before == 5

        # A ticket issued at the kiosk reaches the page over /hall, without waiting for the poll.
        services = requests.get(f"{live_server.url}/api/v1/services", timeout=5).json()
        requests.post(
            f"{live_server.url}/api/v1/tickets", json={"service_id": services[0]["id"]}, timeout=5
        ).raise_for_status()
        page.wait_for_function(
            "document.querySelector('#totals .sv-kpi b').textContent === '6'", timeout=4000
        )
        page.screenshot(path=str(artifacts / "supervisor-live.png"), full_page=True)
    finally:
        page.close()


def _history(live_server, tickets: int = 6000) -> None:
    """A year of a smaller hall (2025) written the way benchmarks/reports.py writes it."""
    import importlib.util

    from server.db import Database

    spec = importlib.util.spec_from_file_location("bench_reports", ROOT / "benchmarks/reports.py")
    bench = importlib.util.module_from_spec(spec)
    # The benchmark lifts the rate limits in os.environ (benchmarks/bench_env.py): that must
    # not reach the later tests of this worker process (test_enumeration saw no 429).
    environ = dict(os.environ)
    try:
        spec.loader.exec_module(bench)
    finally:
        os.environ.clear()
        os.environ.update(environ)
    database = Database(live_server.env["TTHCC_DATABASE_URL"])
    try:
        bench.generate(database, tickets)
    finally:
        database.dispose()


def test_report_page_and_exports(live_server, browser, artifacts):
    _history(live_server)
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="vi-VN")
    try:
        _login(page, live_server, path="/supervisor/reports?period=month&date=2025-10-15")
        page.wait_for_url("**/supervisor/reports**")
        assert "Khai sinh, kết hôn, khai tử" in page.locator("#report-table").inner_text()
        page.screenshot(path=str(artifacts / "supervisor-report-month.png"), full_page=True)
        _hall_activity(live_server)
        page.goto(f"{live_server.url}/supervisor/reports?period=day&by=service")
        page.wait_for_url("**/supervisor/reports**")
        table = page.locator("#report-table")
        table.wait_for()
        text = table.inner_text()
        assert "Khai sinh, kết hôn, khai tử" in text
        assert "Tổng cộng" in text
        assert page.locator(".sv-kpi b").first.inner_text() == "6"
        page.screenshot(path=str(artifacts / "supervisor-report.png"), full_page=True)

        with page.expect_download() as download:
            page.click("#export-xlsx")
        from openpyxl import load_workbook

        path = download.value.path()
        wb = load_workbook(io.BytesIO(open(path, "rb").read()))  # noqa: SIM115
        assert wb["Báo cáo"]["A2"].value == "Dịch vụ"

        page.goto(f"{live_server.url}/supervisor/staff?period=month&date=2025-10-15")
        assert "Nguyễn Thị Hương" in page.locator("#scorecards").inner_text()
        page.screenshot(path=str(artifacts / "supervisor-staff.png"), full_page=True)
    finally:
        page.close()


def test_staff_cannot_open_supervisor_pages(live_server, browser):
    page = browser.new_page()
    try:
        _login(page, live_server, "canbo1", "tthcc-canbo")
        assert "Không có quyền" in page.content()
    finally:
        page.close()


def test_admin_edits_a_service_through_the_form(live_server, browser, artifacts):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    try:
        _login(page, live_server, "admin", "tthcc-admin", path="/admin/services")
        page.wait_for_url("**/admin/services")
        page.click("#rows tbody tr:first-child td:first-child a")
        page.fill("#f-wait_threshold_minutes", "25")
        page.click("#entity-form button[type=submit]")
        page.wait_for_selector(".sv-flash-ok")
        assert page.input_value("#f-wait_threshold_minutes") == "25"
        page.goto(f"{live_server.url}/admin/audit")
        audit = page.locator("#audit").inner_text()
        assert "wait_threshold_minutes" in audit and "user:admin" in audit
        page.screenshot(path=str(artifacts / "admin-audit.png"), full_page=True)
    finally:
        page.close()

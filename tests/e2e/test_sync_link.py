"""The centre box's link to the province hub on the supervisor's live page, in Chromium:
two real servers (a centre box and a hub, each gunicorn on its own SQLite), the hall working
while the hub is unreachable, then delivered."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from tests.e2e.conftest import ROOT, free_port, running_server
from tests.e2e.test_supervisor import _login

pytestmark = pytest.mark.browser


def test_live_page_shows_the_link_to_the_hub(live_server, browser, artifacts, tmp_path):
    from server.db import Database
    from server.sync.capture import box_id_of, enable
    from server.sync.config import http_config_transport, pull
    from server.sync.push import HubUnreachable, http_transport, push

    with running_server(tmp_path / "hub") as hub:
        token = subprocess.run(
            [sys.executable, "-m", "server.cli", "sync", "box", "add", "BN-KINHBAC"],
            env=hub.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        box = Database(live_server.env["TTHCC_DATABASE_URL"])
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="vi-VN")
        try:
            _login(page, live_server)
            page.wait_for_url("**/supervisor")
            page.wait_for_selector("#counters tbody tr[data-counter]")
            line = page.locator("#sync-link")
            page.evaluate("window.tthccSupervisor.refreshLink()")
            assert line.is_hidden()  # not a centre box: no line

            with box.transaction() as s:
                enable(s, box_id_of(token), "BN-KINHBAC")
            # The hall works with the hub unreachable.
            services = requests.get(f"{live_server.url}/api/v1/services", timeout=5).json()
            for service in services[:3]:
                requests.post(
                    f"{live_server.url}/api/v1/tickets",
                    json={"service_id": service["id"]},
                    timeout=5,
                ).raise_for_status()
            with pytest.raises(HubUnreachable):
                push(box, http_transport(f"http://127.0.0.1:{free_port()}", token))
            page.evaluate("window.tthccSupervisor.refreshLink()")
            line.wait_for(state="visible")
            text = line.inner_text()
            assert "Mất kết nối máy chủ tỉnh" in text and "chưa có" in text
            assert int(line.get_attribute("data-pending")) >= 6  # 3 tickets, 3 events
            assert "bad" in line.get_attribute("class")
            page.screenshot(path=str(artifacts / "supervisor-sync-offline.png"))

            result = push(box, http_transport(hub.url, token))
            assert result.pending == 0 and result.received == result.sent
            page.evaluate("window.tthccSupervisor.refreshLink()")
            page.wait_for_function("document.getElementById('sync-link').dataset.pending === '0'")
            text = line.inner_text()
            assert "Máy chủ tỉnh: gửi thành công lúc" in text and "0 sự kiện chờ gửi" in text
            assert "ok" in line.get_attribute("class")
            assert "cấu hình" not in text  # never pulled yet
            # The hub's configuration pulled (tthcc sync push --loop does it each round).
            pull(box, http_config_transport(hub.url, token))
            page.evaluate("window.tthccSupervisor.refreshLink()")
            page.wait_for_function(
                "document.getElementById('sync-link').textContent.includes('cấu hình của tỉnh')"
            )
            assert "ok" in line.get_attribute("class")
            page.screenshot(path=str(artifacts / "supervisor-sync-online.png"))
        finally:
            page.close()
            box.dispose()

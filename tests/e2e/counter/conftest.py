"""The counter staff page's fixtures: one real server for a test module (gunicorn + gevent,
SQLite, the demo centre), brought back to a quiet hall before each test, and a fresh
browser context per test at a laptop's 1366×768. A test fails on any console error but the
HTTP refusals the page shows in its banner.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LiveServer, running_server

STAFF_PASSWORD = "tthcc-canbo"
# Chromium logs every non-2xx fetch as a console error; the page shows these in its banner.
EXPECTED_HTTP_ERROR = re.compile(
    r"Failed to load resource: the server responded with a status of (401|403|404|409|422)"
)


# --- helpers ------------------------------------------------------------------------------


@dataclass
class Hall:
    """The demo centre seen through the API: services by code, counters by number."""

    server: LiveServer
    services: dict[str, dict] = field(default_factory=dict)
    counters: dict[int, dict] = field(default_factory=dict)

    def get(self, path: str) -> Any:
        # As the centre's supervisor: a ticket by id is for its centre's users only.
        headers = {"Authorization": f"Bearer {self.server.token('giamsat', 'tthcc-giamsat')}"}
        r = requests.get(f"{self.server.url}/api/v1{path}", headers=headers, timeout=5)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict | None = None, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = requests.post(
            f"{self.server.url}/api/v1{path}", json=body or {}, headers=headers, timeout=5
        )
        r.raise_for_status()
        return r.json()

    def issue(self, code: str) -> dict:
        """A ticket as the kiosk issues it."""
        return self.post("/tickets", {"service_id": self.services[code]["id"]})

    def as_user(self, username: str, password: str = STAFF_PASSWORD) -> str:
        """A bearer token: another screen, as that user."""
        return self.server.token(username, password)

    def keypad(self, number: int, operation: str) -> dict:
        """One key of the counter's call keypad, as the counters station's agent sends it
        (Socket.IO /station, counter.command); the server's answer."""
        import tomllib

        import socketio

        config = self.server.instance / "demo" / "counters-agent.toml"
        token = tomllib.loads(config.read_text())["station_token"]
        with socketio.SimpleClient() as agent:
            agent.connect(self.server.url, namespace="/station", auth={"token": token})
            command = {"counter_id": self.counters[number]["id"], "operation": operation}
            return agent.call("counter.command", command, timeout=5)

    def counter(self, number: int) -> dict:
        return self.get(f"/counters/{self.counters[number]['id']}")

    def ticket(self, ticket_id: int) -> dict:
        return self.get(f"/tickets/{ticket_id}")

    def reset(self) -> None:
        """Empty every line and close every counter (as an administrator, through the API);
        the day's no-shows go back in line first, so they are served and leave the lists."""
        admin = self.server.token("admin", "tthcc-admin")
        headers = {"Authorization": f"Bearer {admin}"}
        absent = requests.get(
            f"{self.server.url}/api/v1/tickets/today?status=no_show", headers=headers, timeout=5
        )
        absent.raise_for_status()
        for ticket in absent.json():
            self.post(f"/tickets/{ticket['id']}/requeue", token=admin)
        for counter in self.counters.values():
            path = f"{self.server.url}/api/v1/counters/{counter['id']}"
            while True:  # each call finishes the ticket before, as served
                current = self.get(f"/counters/{counter['id']}")["current_ticket"]
                body = {"resolve": "served", "current_ticket_id": current["id"]} if current else {}
                called = requests.post(f"{path}/call-next", json=body, headers=headers, timeout=5)
                if called.status_code != 200:
                    break
            current = self.get(f"/counters/{counter['id']}")["current_ticket"]
            if current:
                self.post(f"/tickets/{current['id']}/finish", token=admin)
            self.post(f"/counters/{counter['id']}/status", {"status": "closed"}, token=admin)
        assert all(s["waiting"] == 0 for s in self.get("/services"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server for the module (conftest's `live_server` restarts per test)."""
    with running_server(tmp_path_factory.mktemp("counter-e2e") / "instance") as live:
        yield live


@pytest.fixture
def hall(server: LiveServer) -> Hall:
    """The demo centre, quiet: nobody waiting, every counter closed and free."""
    h = Hall(server)
    h.services = {s["code"]: s for s in h.get("/services")}
    h.counters = {c["number"]: c for c in h.get("/counters")}
    h.reset()
    return h


@dataclass
class CounterUI:
    page: Page
    url: str
    errors: list[str]
    allowed_console: list[re.Pattern] = field(default_factory=lambda: [EXPECTED_HTTP_ERROR])

    def open(self) -> None:
        self.page.goto(f"{self.url}/counter")
        expect(self.page.locator("#view-login")).to_be_visible()

    def log_in(self, username: str = "canbo1", password: str = STAFF_PASSWORD) -> None:
        self.page.fill("#login-username", username)
        self.page.fill("#login-password", password)
        self.page.click("#btn-login")

    def pick(self, number: int) -> None:
        item = self.page.locator(".counter-item").filter(
            has=self.page.locator(".counter-item-number", has_text=re.compile(f"^{number}$"))
        )
        item.locator(".btn-pick").click()

    def start_at(self, number: int, username: str = "canbo1") -> None:
        """Log in and take a counter: the usual start of a shift."""
        self.open()
        self.log_in(username)
        expect(self.page.locator("#view-picker")).to_be_visible()
        self.pick(number)
        expect(self.page.locator("#view-counter")).to_be_visible()
        expect(self.page.locator("#counter-title")).to_have_text(f"Quầy {number}")
        expect(self.page.locator("#conn-status")).to_have_text("Trực tuyến")

    def press(self, key: str) -> None:
        """Press a key once the page is ready for it, as a person does who waits for the
        buttons to come back: a key pressed while a request is in flight is dropped on
        purpose (a double press does nothing), even after the other screens' news arrived."""
        expect(self.page.locator("body")).not_to_have_attribute("aria-busy", "true")
        self.page.keyboard.press(key)

    def banner(self) -> Any:
        return self.page.locator("#banner")

    def waiting(self, service_id: int) -> Any:
        return self.page.locator(f"#waiting-rows tr[data-service-id='{service_id}'] td")

    def mark_document(self) -> None:
        """Tag this document so a test can prove later that the page was not reloaded."""
        self.page.evaluate("window.__notReloaded = true")

    def assert_not_reloaded(self) -> None:
        assert self.page.evaluate("window.__notReloaded === true")


@pytest.fixture
def ui(browser: Browser, hall: Hall) -> Iterator[CounterUI]:
    """A fresh context and page on the shared browser, at a laptop's 1366×768."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(5000)
    counter_ui = CounterUI(page, hall.server.url, [])

    def on_console(message: Any) -> None:
        allowed = counter_ui.allowed_console
        if message.type == "error" and not any(p.search(message.text) for p in allowed):
            counter_ui.errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: counter_ui.errors.append(f"page error: {exc}"))
    try:
        yield counter_ui
    finally:
        context.close()
    assert counter_ui.errors == [], f"console errors on the counter page: {counter_ui.errors}"

"""Serial hall devices end to end: simulated pads, keypads and LED boards on real
pseudo-terminals, the real station agent (``tthcc agent``, a process we can kill), and the
real server (gunicorn, gevent) with its database.

The agent is configured with the demo's COUNTERS-1 token (written by ``tthcc demo``) and
the simulators' symlinks. Ratings are checked through the supervisors' API.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from devices.serial.sim import KeypadSimulator, LedBoardSimulator, PadSimulator
from tests.e2e.conftest import ROOT, LiveServer

CONNECTED = "connected to "


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")


class Process:
    """A ``tthcc …`` child process with its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", *args],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, timeout: float = 20.0, *, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.output().count(text) >= count:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        pytest.fail(
            f"{text!r} not seen (exit {self.process.poll()}); log:\n{self.output()[-3000:]}"
        )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in reversed(started):
        process.stop()


def demo_token(server: LiveServer, name: str = "counters-agent.toml") -> str:
    import tomllib

    return tomllib.loads((server.instance / "demo" / name).read_text())["station_token"]


def write_station(path: Path, server: LiveServer, spool: Path, sections: list[str]) -> Path:
    path.write_text(
        f'server_url = "{server.url}"\n'
        f'station_token = "{demo_token(server)}"\n'
        f'spool_dir = "{spool}"\n\n' + "\n".join(sections),
        encoding="utf-8",
    )
    return path


def device(section: str, name: str, url: Path | str, counter_id: int, address=None) -> str:
    lines = [f"[[{section}]]", f'name = "{name}"', f'url = "{url}"', f"counter_id = {counter_id}"]
    if address is not None:
        lines.append(f"address = {address}")
    return "\n".join(lines) + "\n"


class Api:
    """The HTTP API as staff (canbo1, counter 1) and as the supervisor."""

    def __init__(self, server: LiveServer) -> None:
        self.url = server.url + "/api/v1"
        self.server = server
        self.staff = server.token()
        self.supervisor = server.token("giamsat", "tthcc-giamsat")

    def post(self, path: str, body: dict | None = None, token: str | None = None) -> Any:
        r = requests.post(
            self.url + path,
            json=body or {},
            headers={"Authorization": f"Bearer {token or self.staff}"},
            timeout=10,
        )
        assert r.ok, r.text
        return r.json()

    def get(self, path: str, token: str | None = None) -> Any:
        r = requests.get(
            self.url + path,
            headers={"Authorization": f"Bearer {token or self.supervisor}"},
            timeout=10,
        )
        assert r.ok, r.text
        return r.json()

    def issue(self, service_id: int = 1, **extra: Any) -> dict:
        """A ticket; naming a station, as the demo kiosk (its agent's token): only a kiosk
        prints."""
        token = None
        if extra.get("station_id") is not None:
            import tomllib

            config = self.server.instance / "demo" / "kiosk-agent.toml"
            token = tomllib.loads(config.read_text(encoding="utf-8"))["station_token"]
        return self.post("/tickets", {"service_id": service_id, **extra}, token)

    def serve_and_finish(self, counter: int = 1) -> dict:
        self.issue()
        ticket = self.post(f"/counters/{counter}/call-next")
        self.post(f"/tickets/{ticket['id']}/finish")
        return ticket

    def ratings(self) -> list[dict]:
        return list(reversed(self.get("/ratings")))  # oldest first

    def staff_id(self) -> int:
        return self.get("/auth/me", self.staff)["user"]["id"]


def set_centre_settings(server: LiveServer, **settings: Any) -> None:
    """Change the demo centre's settings in the server's database (read per request)."""
    from server.db import Database
    from server.models import Centre

    database = Database(server.env["TTHCC_DATABASE_URL"])
    try:
        with database.transaction() as session:
            centre = session.get(Centre, 1)
            centre.settings = {**centre.settings, **settings}
    finally:
        database.dispose()


def agent(processes: list[Process], server: LiveServer, config: Path, log: str) -> Process:
    process = Process(["agent", str(config)], server.env, server.instance / log)
    processes.append(process)
    process.wait_for(CONNECTED)
    return process


# --- tests ----------------------------------------------------------------------------------


def test_a_key_press_becomes_a_rating_against_the_ticket_staff_and_service(
    live_server, tmp_path, processes
):
    api = Api(live_server)
    with PadSimulator(link=tmp_path / "pad-1") as pad, PadSimulator(link=tmp_path / "bus") as bus:
        config = write_station(
            tmp_path / "station.toml",
            live_server,
            tmp_path / "spool",
            [
                device("ratingpads", "pad-q1", tmp_path / "pad-1", 1),
                # Counters 2 and 3 share an RS-485 bus; the pads have addresses 3 and 4.
                device("ratingpads", "pad-q2", tmp_path / "bus", 2, address=3),
                device("ratingpads", "pad-q3", tmp_path / "bus", 3, address=4),
            ],
        )
        agent(processes, live_server, config, "agent.log")
        hall = socketio.Client()
        recorded: list[dict] = []
        hall.on("rating.recorded", recorded.append, namespace="/hall")
        hall.connect(live_server.url, namespaces=["/hall"], transports=["websocket"])
        hall.call("subscribe", {"centre_id": 1}, namespace="/hall")
        try:
            ticket = api.serve_and_finish(counter=1)
            pad.press("1")  # Rất không hài lòng: must be followable
            wait_until(lambda: recorded, what="rating.recorded")
            rating = recorded[0]["rating"]
            assert (rating["ticket_id"], rating["ticket_number"]) == (
                ticket["id"],
                ticket["number"],
            )
            assert (rating["counter_number"], rating["level"], rating["label"]) == (
                1,
                1,
                "Rất không hài lòng",
            )
            assert "staff_id" not in rating  # on the air: the counter, not who was rated
            stored = next(r for r in api.ratings() if r["id"] == rating["id"])
            assert stored["staff_id"] == api.staff_id()  # followable by the supervisor
            assert rating["service_name"] == "Khai sinh, kết hôn, khai tử"
            assert recorded[0]["thank_you"] == "Cảm ơn quý khách đã đánh giá!"

            # The bus: address 4 is counter 3, address 3 counter 2; address 9 is nobody's.
            bus.press("4", address=4)
            bus.press("5", address=9)
            bus.press("2", address=3)
            wait_until(lambda: len(api.ratings()) == 3, what="three ratings")
            ratings = api.ratings()
            assert [(r["counter_number"], r["level"]) for r in ratings] == [(1, 1), (3, 4), (2, 2)]
            assert all(r["source"] == "pad" and r["scale"] == 5 for r in ratings)

            # 100 KB of noise, then the cable is pulled and put back mid-day: no spurious
            # rating, the supervisor sees the pad go and come back, the next press counts.
            pad.garbage(100_000, seed=7, exclude=b"\n")
            pad.unplug()

            def pad_state() -> str:
                station = next(s for s in api.get("/stations") if s["code"] == "COUNTERS-1")
                return next(d["state"] for d in station["devices"] if d["name"] == "pad-q1")

            wait_until(lambda: pad_state() == "disconnected", what="pad-q1 disconnected")
            pad.replug()
            wait_until(lambda: pad_state() == "ready", what="pad-q1 ready again")
            pad.press("3")
            wait_until(lambda: len(api.ratings()) == 4, what="the press after the replug")
            assert [r["level"] for r in api.ratings()] == [1, 4, 2, 3]
        finally:
            hall.disconnect()


def test_a_second_press_replaces_the_first_and_a_later_one_is_unattached(
    live_server, tmp_path, processes
):
    api = Api(live_server)
    set_centre_settings(live_server, rating_replace_seconds=2)  # 10 s by default
    with PadSimulator(link=tmp_path / "pad-1") as pad:
        config = write_station(
            tmp_path / "station.toml",
            live_server,
            tmp_path / "spool",
            [device("ratingpads", "pad-q1", tmp_path / "pad-1", 1)],
        )
        agent(processes, live_server, config, "agent.log")
        ticket = api.serve_and_finish()
        pad.press("2")
        wait_until(lambda: len(api.ratings()) == 1)
        pad.press("4")  # changed their mind, within the window
        wait_until(lambda: len(api.ratings()) == 2)
        time.sleep(2.2)  # past the window, counted from the first press
        pad.press("5")
        wait_until(lambda: len(api.ratings()) == 3)
        first, second, third = api.ratings()
        assert (first["counted"], first["replaced_by_id"]) == (False, second["id"])
        assert (second["ticket_id"], second["counted"], second["level"]) == (ticket["id"], True, 4)
        assert (third["ticket_id"], third["attached"], third["counted"]) == (None, False, True)
        assert third["counter_id"] == 1 and third["staff_id"] == api.staff_id()


def test_presses_while_the_server_is_down_arrive_once_and_in_order(
    live_server, tmp_path, processes
):
    api = Api(live_server)
    with PadSimulator(link=tmp_path / "bus") as bus:
        config = write_station(
            tmp_path / "station.toml",
            live_server,
            tmp_path / "spool",
            [
                device("ratingpads", "pad-q1", tmp_path / "bus", 1, address=1),
                device("ratingpads", "pad-q2", tmp_path / "bus", 2, address=2),
            ],
        )
        station_agent = agent(processes, live_server, config, "agent.log")
        live_server.stop()
        station_agent.wait_for("disconnected from")
        presses = [(1, "5"), (2, "1"), (1, "3"), (2, "4")]
        for address, key in presses:
            bus.press(key, address=address)
            time.sleep(0.4)  # past the debounce window, and a distinct pressed_at
        time.sleep(1.0)
        live_server.start()
        station_agent.wait_for(CONNECTED, timeout=40, count=2)
        wait_until(lambda: len(api.ratings()) == 4, timeout=20, what="four ratings")
        time.sleep(1.5)  # a repeat, had there been one, would show now
        ratings = api.ratings()
        assert [(r["counter_id"], r["level"]) for r in ratings] == [
            (1, 5),
            (2, 1),
            (1, 3),
            (2, 4),
        ]
        assert [r["id"] for r in ratings] == sorted(r["id"] for r in ratings)  # stored in order
        assert all(r["received_at"] > r["pressed_at"] for r in ratings)


def test_a_killed_agent_prints_nothing_twice_and_loses_no_rating(live_server, tmp_path, processes):
    api = Api(live_server)
    kiosk = agent(
        processes, live_server, live_server.instance / "demo" / "kiosk-agent.toml", "kiosk.log"
    )
    printed = live_server.instance / "printed"
    first = api.issue(station_id=1)
    wait_until(lambda: api.get(f"/tickets/{first['id']}")["print_status"] == "printed")
    kiosk.stop(signal.SIGKILL)
    second = api.issue(station_id=1)  # while the agent is dead
    kiosk = agent(
        processes, live_server, live_server.instance / "demo" / "kiosk-agent.toml", "kiosk-2.log"
    )
    wait_until(lambda: api.get(f"/tickets/{second['id']}")["print_status"] == "printed")
    time.sleep(1.0)
    assert sorted(p.name for p in printed.glob("*.bin")) == sorted(
        [f"{first['print_job_id']}.bin", f"{second['print_job_id']}.bin"]
    )

    with PadSimulator(link=tmp_path / "pad-1") as pad:
        config = write_station(
            tmp_path / "station.toml",
            live_server,
            tmp_path / "spool",
            [device("ratingpads", "pad-q1", tmp_path / "pad-1", 1)],
        )
        counters = agent(processes, live_server, config, "counters.log")
        live_server.stop()  # the presses stay in the agent's spool…
        counters.wait_for("disconnected from")
        pad.press("4")
        time.sleep(0.4)
        pad.press("2")
        spool = tmp_path / "spool" / "serial-spool.sqlite"
        wait_until(lambda: _pending(spool) == 2, what="two spooled presses")
        counters.stop(signal.SIGKILL)  # …when the agent is killed
        live_server.start()
        agent(processes, live_server, config, "counters-2.log")
        wait_until(lambda: len(api.ratings()) == 2, what="both ratings")
        time.sleep(1.0)
        assert [r["level"] for r in api.ratings()] == [4, 2]
        assert _pending(spool) == 0


def _pending(spool: Path) -> int:
    import sqlite3

    if not spool.exists():
        return -1
    db = sqlite3.connect(spool)
    try:
        return db.execute("SELECT count(*) FROM spool WHERE delivered_at IS NULL").fetchone()[0]
    finally:
        db.close()


def test_keypad_next_calls_a_ticket_and_the_board_shows_it_and_the_truth_after_reconnect(
    live_server, tmp_path, processes
):
    api = Api(live_server)
    api.post("/counters/1/status", {"status": "open"})
    api.post("/counters/2/status", {"status": "open"}, live_server.token("canbo2"))
    with (
        KeypadSimulator(link=tmp_path / "keypad-1") as keypad,
        LedBoardSimulator(link=tmp_path / "leds") as leds,
    ):
        config = write_station(
            tmp_path / "station.toml",
            live_server,
            tmp_path / "spool",
            [
                device("keypads", "keypad-q1", tmp_path / "keypad-1", 1),
                device("ledboards", "led-q1", tmp_path / "leds", 1, address=1),
                device("ledboards", "led-q2", tmp_path / "leds", 2, address=2),
            ],
        )
        station_agent = agent(processes, live_server, config, "agent.log")
        assert leds.wait_for(lambda s: s.shown == {1: "", 2: ""}, 10), leds.shown  # the truth
        ticket = api.issue()
        keypad.press("N")
        assert leds.wait_for_text(1, ticket["number"], 10), leds.shown
        counter = api.get("/counters/1")
        assert counter["current_ticket"]["id"] == ticket["id"]

        time.sleep(0.4)  # a second N within 0.3 s would be taken for a bounce
        keypad.press("N")  # only called, never started: not taken for served; the board asks
        assert leds.wait_for_text(1, "Xong? F/X", 10), leds.shown
        assert leds.wait_for_text(1, ticket["number"], 10), leds.shown
        assert api.get(f"/tickets/{ticket['id']}")["status"] == "called"
        second = api.issue()
        time.sleep(0.4)
        keypad.press("R")  # recalled twice: called three times, the citizen is absent
        time.sleep(0.4)
        keypad.press("R")
        wait_until(lambda: api.get(f"/tickets/{ticket['id']}")["call_count"] == 3)
        time.sleep(0.4)
        keypad.press("N")
        assert leds.wait_for_text(1, second["number"], 10), leds.shown
        assert api.get(f"/tickets/{ticket['id']}")["status"] == "no_show"
        ticket = second

        # The agent is gone while counter 2 calls someone and counter 1 finishes.
        station_agent.stop(signal.SIGKILL)
        other = api.issue()
        api.post("/counters/2/call-next", token=live_server.token("canbo2"))
        api.post(f"/tickets/{ticket['id']}/finish")
        leds.unplug()  # and the boards lost power meanwhile
        leds.replug()
        agent(processes, live_server, config, "agent-2.log")
        assert leds.wait_for(lambda s: s.shown == {1: "", 2: other["number"]}, 10), leds.shown

        # Closing a counter blanks its board.
        api.post(f"/tickets/{other['id']}/finish", token=live_server.token("canbo2"))
        api.post("/counters/2/status", {"status": "closed"}, live_server.token("canbo2"))
        assert leds.wait_for(lambda s: s.shown.get(2) == "", 10), leds.shown


def test_paper_out_the_ticket_survives_and_the_supervisor_sees_the_fault(live_server, processes):
    api = Api(live_server)
    printed = live_server.instance / "printed"
    printed.mkdir(exist_ok=True)
    (printed / "fault").write_text("paper_out\n")
    agent(processes, live_server, live_server.instance / "demo" / "kiosk-agent.toml", "kiosk.log")
    ticket = api.issue(station_id=1)
    wait_until(lambda: api.get(f"/tickets/{ticket['id']}")["print_status"] == "failed")
    body = api.get(f"/tickets/{ticket['id']}")
    assert (body["status"], body["print_reason"]) == ("waiting", "paper out")

    def kiosk_station() -> dict:
        return next(s for s in api.get("/stations") if s["code"] == "KIOSK-1")

    station = wait_until(lambda: kiosk_station()["faults"] == 1 and kiosk_station())
    printer = station["devices"][0]
    assert (printer["name"], printer["state"], printer["reason"]) == (
        "kiosk-printer",
        "error",
        "paper out",
    )
    assert station["online"] is True
    assert [f["number"] for f in station["failed_prints"]] == [ticket["number"]]

    (printed / "fault").unlink()  # paper refilled; the supervisor reprints
    api.post(f"/tickets/{ticket['id']}/reprint", token=api.supervisor)
    wait_until(lambda: api.get(f"/tickets/{ticket['id']}")["print_status"] == "printed")
    wait_until(lambda: kiosk_station()["failed_prints"] == [], what="failed print cleared")


@pytest.mark.browser
def test_supervisor_page_shows_a_printer_fault_live_and_reprints(
    live_server, browser, processes, artifacts
):
    from playwright.sync_api import expect

    api = Api(live_server)
    printed = live_server.instance / "printed"
    printed.mkdir(exist_ok=True)
    agent(processes, live_server, live_server.instance / "demo" / "kiosk-agent.toml", "kiosk.log")
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(live_server.url + "/supervisor/devices")
    page.fill("#username", "giamsat")
    page.fill("#password", "tthcc-giamsat")
    page.click("#login-submit")
    kiosk_row = page.locator('tr[data-station="KIOSK-1"]')
    expect(kiosk_row).to_have_attribute("data-online", "true")
    printer = kiosk_row.locator('[data-device="kiosk-printer"]')
    expect(printer).to_have_attribute("data-state", "ready")
    expect(page.locator("#live")).to_have_attribute("data-socket", "connected")

    (printed / "fault").write_text("paper_out\n")  # runs out while the page is open
    ticket = api.issue(station_id=1)
    expect(printer).to_have_attribute("data-state", "error", timeout=15_000)
    expect(printer).to_contain_text("hết giấy")
    reprint = kiosk_row.locator(f'button[data-reprint="{ticket["id"]}"]')
    expect(reprint).to_be_visible(timeout=10_000)
    page.screenshot(path=artifacts / "supervisor-devices-paper-out.png")

    (printed / "fault").unlink()
    reprint.click()
    expect(reprint).to_have_count(0, timeout=15_000)
    expect(printer).to_have_attribute("data-state", "ready", timeout=15_000)
    wait_until(lambda: api.get(f"/tickets/{ticket['id']}")["print_status"] == "printed")
    page.context.close()

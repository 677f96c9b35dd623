"""The printed path: the demo kiosk station's agent prints, the kiosk page says so.

The agent runs as in production (``python -m server.cli agent <instance>/demo/
kiosk-agent.toml``) with the demo's simulated printer, which saves each job as
``<instance>/printed/<job_id>.bin`` and ``.png``. If the agent cannot start or connect,
these tests fail with its log: they are never skipped.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_kiosk import (
    LANDSCAPE,
    PORTRAIT,
    _close_pages,  # noqa: F401 - closes the pages before the server stops
    assert_number_and_qr,
    open_kiosk,
)

ROOT_DIR = Path(__file__).resolve().parents[2]
TAKE_YOUR_TICKET = "Mời quý khách nhận phiếu"
CONNECTED = "connected to "


class Agent:
    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_connected(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if CONNECTED in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(
            "the station agent (devices/agent) did not connect to the server; "
            f"exit code {self.process.poll()}, log:\n{self.output()[-3000:]}"
        )


@contextlib.contextmanager
def running_agent(live_server, config: Path) -> Iterator[Agent]:
    """`tthcc agent CONFIG` against the live server, connected; stopped on exit."""
    log = live_server.instance / "agent.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "agent", str(config)],
            env=live_server.env,
            cwd=ROOT_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Agent(process, log)
    try:
        running.wait_connected()
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def agent(live_server) -> Iterator[Agent]:
    """The demo kiosk station's agent, connected to the live server."""
    config = live_server.instance / "demo" / "kiosk-agent.toml"
    if not config.exists():
        pytest.fail(f"`tthcc demo` wrote no agent config at {config}")
    with running_agent(live_server, config) as running:
        yield running


def printed_files(live_server, job_id: str) -> list[str]:
    folder = live_server.instance / "printed"
    return sorted(p.name for p in folder.glob(f"{job_id}.*")) if folder.exists() else []


def issue_on_page(kiosk) -> dict:
    kiosk.tap_field("Đất đai")
    response = kiosk.get_ticket_response()
    assert response.status == 201, response.text()
    kiosk.wait_screen("result")
    return response.json()


@pytest.mark.browser
def test_printed_ticket_says_please_take_your_ticket(live_server, browser, agent, artifacts):
    # A long print timeout: the message must come from the printer, not from the clock.
    kiosk = open_kiosk(browser, live_server.url, PORTRAIT, "print_timeout=30")
    issued = issue_on_page(kiosk)
    page = kiosk.page
    expect(page.locator("#print-ok")).to_be_visible(timeout=15_000)
    expect(page.locator("#print-ok")).to_contain_text(TAKE_YOUR_TICKET)
    expect(page.locator("#print-ok")).to_contain_text("Please take your ticket")
    expect(page.locator("#print-fallback")).to_be_hidden()
    assert kiosk.number() == issued["number"]
    page.screenshot(path=artifacts / "kiosk-portrait-printed.png")
    job = issued["print_job_id"]
    assert printed_files(live_server, job) == [f"{job}.bin", f"{job}.png"]
    assert (live_server.instance / "printed" / f"{job}.bin").stat().st_size > 100


@pytest.mark.browser
def test_printed_status_reaches_the_page_by_socket_alone_and_by_polling_alone(
    live_server, browser, agent
):
    # Socket only: every GET of the ticket fails.
    kiosk = open_kiosk(browser, live_server.url, LANDSCAPE, "print_timeout=30")
    kiosk.page.route("**/api/v1/tickets/*", lambda route: route.abort())
    expect(kiosk.page.locator("#kiosk")).to_have_attribute("data-socket", "connected")
    issue_on_page(kiosk)
    expect(kiosk.page.locator("#print-ok")).to_be_visible(timeout=15_000)

    # Polling only: the Socket.IO client never loads.
    kiosk = open_kiosk(browser, live_server.url, LANDSCAPE, "print_timeout=30")
    kiosk.page.route("**/socket.io.esm.min.js", lambda route: route.abort())
    kiosk.page.reload()
    kiosk.wait_screen("fields")
    kiosk.page.wait_for_function(
        "window.tthccKiosk.hall && window.tthccKiosk.hall.status === 'unavailable'"
    )
    issue_on_page(kiosk)
    expect(kiosk.page.locator("#print-ok")).to_be_visible(timeout=15_000)


@pytest.mark.browser
def test_printer_out_of_paper_shows_the_number_and_qr_at_once(live_server, browser, agent):
    folder = live_server.instance / "printed"
    folder.mkdir(exist_ok=True)
    (folder / "fault").write_text("paper_out\n")
    kiosk = open_kiosk(browser, live_server.url, PORTRAIT, "print_timeout=30")
    started = time.monotonic()
    issued = issue_on_page(kiosk)
    expect(kiosk.page.locator("#print-fallback")).to_be_visible(timeout=15_000)
    assert time.monotonic() - started < 15  # the agent's "failed", not the 30 s timeout
    assert_number_and_qr(kiosk, issued, qr=False)  # a loopback public URL: no QR code
    assert printed_files(live_server, issued["print_job_id"]) == []


@pytest.mark.browser
def test_tap_to_paper_three_taps_and_the_time_from_the_last_tap(
    live_server, browser, agent, artifacts
):
    """Taps from the start screen to a printed ticket, and the time from the last tap to
    the printer's bytes on disk (the simulated printer writes them as it receives them);
    kept in test-artifacts/kiosk-tap-to-paper.json."""
    import json

    kiosk = open_kiosk(browser, live_server.url, PORTRAIT, "print_timeout=30")
    folder = live_server.instance / "printed"
    before = set(folder.glob("*.bin")) if folder.exists() else set()
    kiosk.tap_field("Hộ tịch")
    kiosk.wait_screen("services")
    kiosk.tap_locator(kiosk.page.locator(".k-service").first)
    kiosk.wait_screen("confirm")
    kiosk.wait_enabled(kiosk.page.locator("#btn-get"))
    tapped = time.monotonic()
    kiosk.page.locator("#btn-get").tap()
    while time.monotonic() - tapped < 15:
        new = set(folder.glob("*.bin")) - before if folder.exists() else set()
        if new and next(iter(new)).stat().st_size > 100:
            break
        time.sleep(0.005)
    paper_ms = (time.monotonic() - tapped) * 1000
    assert new, "nothing was printed"
    expect(kiosk.page.locator("#print-ok")).to_be_visible(timeout=15_000)
    assert kiosk.taps() == 3
    (artifacts / "kiosk-tap-to-paper.json").write_text(
        json.dumps({"taps": kiosk.taps(), "last_tap_to_paper_ms": round(paper_ms)}, indent=2)
    )
    assert paper_ms < 5000


@pytest.mark.browser
def test_a_lost_answer_is_retried_into_one_ticket_and_one_printed_slip(live_server, browser, agent):
    """The first POST reaches the server (the ticket and its print job are committed) but its
    answer is lost; the page says «Đang thử lại…», sends the same Idempotency-Key again and
    shows that ticket: one number taken, one slip printed."""
    kiosk = open_kiosk(browser, live_server.url, PORTRAIT, "print_timeout=30")
    page = kiosk.page
    answers: list[tuple[int, str | None, dict]] = []
    held: list = []

    def lose_the_first_answer(route) -> None:
        key = route.request.headers.get("idempotency-key")
        if not answers:
            response = route.fetch()  # the server issues the ticket...
            answers.append((response.status, key, response.json()))
            route.abort("connectionreset")  # ...and the page never hears of it
        else:
            held.append((route, key))  # the retry waits until the page is seen retrying

    page.route("**/api/v1/tickets", lose_the_first_answer)
    kiosk.tap_field("Đất đai")
    kiosk.tap("#btn-get")
    expect(page.locator("#confirm-status")).to_contain_text("Đang thử lại")
    expect(page.locator("#confirm-status")).to_contain_text("Trying again")
    deadline = time.monotonic() + 5
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # the retry leaves after a short wait
    assert len(held) == 1, held
    route, retry_key = held[0]
    status, first_key, first = answers[0]
    assert status == 201 and first_key and retry_key == first_key
    with page.expect_response(lambda r: r.url.endswith("/api/v1/tickets")) as info:
        route.continue_()
    assert info.value.status == 200 and info.value.headers["idempotent-replayed"] == "true"
    kiosk.wait_screen("result")
    assert kiosk.number() == first["number"]
    expect(page.locator("#print-ok")).to_be_visible(timeout=15_000)
    assert len(kiosk.posts) == 2
    page.unroute("**/api/v1/tickets")
    # One ticket was taken (the next press gets the next number) and one slip printed.
    kiosk.tap("#screen-result [data-action=home]")
    kiosk.wait_screen("fields")
    nxt = issue_on_page(kiosk)
    assert nxt["number_value"] == first["number_value"] + 1
    expect(page.locator("#print-ok")).to_be_visible(timeout=15_000)
    slips = sorted(p.stem for p in (live_server.instance / "printed").glob("*.bin"))
    assert slips == sorted([first["print_job_id"], nxt["print_job_id"]])

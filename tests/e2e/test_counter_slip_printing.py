"""The dossier slip on the counter's printer, end to end: the real server (gunicorn,
gevent), the demo counters station's agent (``tthcc agent <instance>/demo/
counters-agent.toml``, as `tthcc run` starts it) and its simulated printer, which saves
each job as ``<instance>/printed-counters/<job_id>.bin`` and ``.png``.

The demo's rating pads, LED boards and keypad are not plugged in here (no `tthcc sim
hall`): the agent keeps retrying them, and its printer works regardless.
"""

from __future__ import annotations

import re

import pytest
import requests

from devices.printing.decode import decode_blocks
from devices.printing.layout import QrCode, TextLine
from tests.e2e.conftest import LiveServer
from tests.e2e.test_devices import CONNECTED, Process, wait_until

VIET_DATETIME = r"\d\d giờ \d\d phút, ngày \d\d tháng \d\d năm \d{4}"


@pytest.fixture
def counters_agent(live_server: LiveServer):
    config = live_server.instance / "demo" / "counters-agent.toml"
    assert "printed-counters" in config.read_text(), "`tthcc demo` wrote no slip printer"
    process = Process(["agent", str(config)], live_server.env, live_server.instance / "agent.log")
    try:
        process.wait_for(CONNECTED)
        yield process
    finally:
        process.stop()


def staff(live_server: LiveServer) -> dict:
    return {"Authorization": f"Bearer {live_server.token()}"}


def counter_id(live_server: LiveServer, number: int) -> int:
    counters = requests.get(f"{live_server.url}/api/v1/counters", timeout=5).json()
    return next(c["id"] for c in counters if c["number"] == number)


def receive(live_server: LiveServer, headers: dict, counter_number: int = 1) -> dict:
    api = live_server.url + "/api/v1"
    pid = requests.get(f"{api}/procedures?q=1.012783", timeout=5).json()[0]["id"]
    r = requests.post(
        f"{api}/dossiers",
        json={
            "procedure_id": pid,
            "applicant_name": "Trần Thị Bình",
            "papers_received": [{"name": "Đơn đề nghị cấp đổi", "originals": 1}],
            "counter_id": counter_id(live_server, counter_number),
        },
        headers=headers,
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()


def slip_print(live_server: LiveServer, headers: dict, dossier_id: int) -> dict:
    url = f"{live_server.url}/api/v1/dossiers/{dossier_id}"
    return requests.get(url, headers=headers, timeout=5).json()["slip_print"]


def test_a_dossier_received_at_counter_1_comes_out_of_the_counters_printer(
    live_server, counters_agent
):
    headers = staff(live_server)
    dossier = receive(live_server, headers)
    job = dossier["slip_print"]
    assert job["station_code"] == "COUNTERS-1"
    done = wait_until(
        lambda: slip_print(live_server, headers, dossier["id"])["status"] != "pending",
        15,
        "the slip's print acknowledgement",
    )
    assert done
    assert slip_print(live_server, headers, dossier["id"])["status"] == "printed"

    folder = live_server.instance / "printed-counters"
    data = (folder / f"{job['job_id']}.bin").read_bytes()
    assert (folder / f"{job['job_id']}.png").exists()
    assert data.startswith(b"\x1b@") and data.endswith(b"\x1dV\x00")  # reset ... cut
    blocks = decode_blocks(data)
    text = " ".join(b.text for b in blocks if isinstance(b, TextLine))
    assert f"Mã hồ sơ: {dossier['code']}" in text
    assert re.search(f"Thời gian nhận hồ sơ: {VIET_DATETIME}", text), text
    assert re.search(f"Thời gian hẹn trả kết quả: {VIET_DATETIME}", text), text
    assert "Người tiếp nhận: Nguyễn Thị Hương" in text
    assert [b.data for b in blocks if isinstance(b, QrCode)] == [dossier["code"]]


def test_out_of_paper_fails_the_slip_and_a_reprint_prints_it(live_server, counters_agent):
    headers = staff(live_server)
    folder = live_server.instance / "printed-counters"
    folder.mkdir(exist_ok=True)
    (folder / "fault").write_text("paper_out\n")
    dossier = receive(live_server, headers, counter_number=2)
    failed = wait_until(
        lambda: slip_print(live_server, headers, dossier["id"])["status"] == "failed", 15
    )
    assert failed
    assert slip_print(live_server, headers, dossier["id"])["reason"] == "paper out"
    assert not list(folder.glob("*.bin"))

    (folder / "fault").unlink()  # paper refilled
    r = requests.post(
        f"{live_server.url}/api/v1/dossiers/{dossier['id']}/slip/print",
        json={},
        headers=headers,
        timeout=5,
    )
    assert r.status_code == 200, r.text
    again = r.json()["slip_print"]["job_id"]
    wait_until(lambda: slip_print(live_server, headers, dossier["id"])["status"] == "printed", 15)
    assert [p.name for p in folder.glob("*.bin")] == [f"{again}.bin"]


@pytest.mark.browser
def test_the_counter_page_says_whether_the_slip_printed_and_reprints_it(
    live_server, counters_agent, browser, artifacts
):
    from playwright.sync_api import expect

    folder = live_server.instance / "printed-counters"
    folder.mkdir(exist_ok=True)
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(f"{live_server.url}/ho-so/quay?counter={counter_id(live_server, 1)}")
    page.fill("#username", "canbo1")
    page.fill("#password", "tthcc-canbo")
    page.click("#login-submit")

    def receive_on_page(name: str) -> None:
        page.fill("#procedure-search", "cap doi")
        page.locator("#procedure option").first.click()
        page.fill("#applicant", name)
        page.click("#submit")
        expect(page.locator("#result")).to_be_visible()

    receive_on_page("Lê Văn Cường")
    status = page.locator("#slip-print")
    expect(status).to_have_attribute("data-status", "printed", timeout=15_000)
    expect(status).to_contain_text("Đã in giấy hẹn ở máy in của quầy")
    expect(page.locator("#slip-pdf")).to_be_visible()  # the PDF is always at hand
    expect(page.locator("#slip-reprint")).to_be_visible()
    expect(page.locator('#recent [data-slip-status="printed"]').first).to_be_visible()
    page.screenshot(path=artifacts / "counter-dossier-slip-printed.png")

    (folder / "fault").write_text("paper_out\n")
    receive_on_page("Phạm Thị Dung")
    expect(status).to_have_attribute("data-status", "failed", timeout=15_000)
    expect(status).to_contain_text("máy in hết giấy")
    expect(status).to_contain_text("PDF")
    page.screenshot(path=artifacts / "counter-dossier-slip-failed.png")

    (folder / "fault").unlink()
    page.click("#slip-reprint")
    expect(status).to_have_attribute("data-status", "printed", timeout=15_000)
    page.context.close()

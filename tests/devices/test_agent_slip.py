"""The station agent prints a dossier's receipt slip (``print.job`` of kind
``dossier_slip``) on a simulated printer: the same at-most-once record and acks as a
ticket, text or raster per the printer's mode; unknown kinds are refused, not crashed on.

Against the real python-socketio server of tests/devices/test_agent.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.agent.agent import Agent
from devices.config import PrinterConfig, StationConfig
from devices.printing.decode import decode_blocks
from devices.printing.layout import Cut, Picture, QrCode, TextLine
from tests.devices.test_agent import TOKEN, StationServer

CODE = "000.00.27.H04-261125-0001"
#: A `slip` object as the server sends it (server/services/dossier_documents.py).
SLIP = {
    "centre_name": "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG",
    "centre_subtitle": "PHƯỜNG KINH BẮC",
    "title": "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    "code": CODE,
    "lines": [
        f"Mã hồ sơ: {CODE}",
        "Tiếp nhận hồ sơ của: Nguyễn Văn An",
        "Nội dung yêu cầu giải quyết: Cấp đổi giấy chứng nhận quyền sử dụng đất",
        "Thủ tục: 1.012783 – Cấp đổi giấy chứng nhận quyền sử dụng đất",
        "Thành phần hồ sơ đã nhận:",
        "1. Đơn đề nghị cấp đổi: 01 bản chính",
        "Thời gian giải quyết theo quy định: 05 ngày làm việc",
        "Thời gian nhận hồ sơ: 09 giờ 15 phút, ngày 25 tháng 11 năm 2026",
        "Thời gian hẹn trả kết quả: 08 giờ 00 phút, ngày 02 tháng 12 năm 2026",
        "Nơi nhận kết quả: Bộ phận tiếp nhận và trả kết quả",
        "Người tiếp nhận: Nguyễn Thị Hương",
    ],
    "qr_data": CODE,
    "footer": [
        "Tra cứu tình trạng hồ sơ: quét mã QR tại kiosk hoặc nhập mã hồ sơ.",
        "Quý khách vui lòng mang theo giấy hẹn khi đến nhận kết quả.",
    ],
}
APPOINTMENT = re.compile(r"Thời gian hẹn trả kết quả: 08 giờ 00 phút, ngày 02 tháng 12 năm 2026")


@pytest.fixture
def server() -> Iterator[StationServer]:
    station_server = StationServer()
    yield station_server
    station_server.close()


@pytest.fixture
def start_agent(tmp_path: Path):
    agents: list[Agent] = []

    def start(url: str, mode: str = "text") -> Agent:
        config = StationConfig(
            server_url=url,
            station_token=TOKEN,
            spool_dir=tmp_path / "spool",
            printers=(
                PrinterConfig(
                    name="counters-printer", url=f"sim://{tmp_path}/paper", mode=mode, default=True
                ),
            ),
        )
        agent = Agent(config, connect_timeout=2.0)
        agents.append(agent)
        agent.start()
        return agent

    yield start
    for agent in agents:
        agent.close()


def slip_job(job_id: str = "slip-1", **slip: Any) -> dict[str, Any]:
    return {"job_id": job_id, "printer": None, "kind": "dossier_slip", "slip": {**SLIP, **slip}}


def text_of(blocks: list) -> str:
    """The printed text, wrapped lines joined again."""
    return " ".join(b.text for b in blocks if isinstance(b, TextLine))


def test_a_slip_prints_once_as_cp1258_text_with_the_code_and_the_appointment(
    server, start_agent, tmp_path
) -> None:
    start_agent(server.url)
    sid = server.connected.get(timeout=5)

    server.send_job(sid, slip_job())
    assert server.next_ack() == {"job_id": "slip-1", "status": "printed", "reason": None}
    job = (tmp_path / "paper" / "slip-1.bin").read_bytes()
    assert (tmp_path / "paper" / "slip-1.png").exists()
    assert job.startswith(b"\x1b@") and b"\x1bt" in job  # reset, then the CP1258 table
    assert CODE.encode() in job  # ASCII reads the same in CP1258
    blocks = decode_blocks(job)
    printed = text_of(blocks)
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in printed
    assert f"Mã hồ sơ: {CODE}" in printed
    assert APPOINTMENT.search(printed), printed
    assert "09 giờ 15 phút, ngày 25 tháng 11 năm 2026" in printed
    assert [b.data for b in blocks if isinstance(b, QrCode)] == [CODE]
    assert isinstance(blocks[-1], Cut)

    server.send_job(sid, slip_job())  # re-sent (a lost ack): acknowledged, not printed again
    assert server.next_ack() == {"job_id": "slip-1", "status": "printed", "reason": None}
    assert sorted(p.name for p in (tmp_path / "paper").glob("*.bin")) == ["slip-1.bin"]


def test_a_raster_printer_gets_the_slip_as_bitmaps_and_a_native_qr(
    server, start_agent, tmp_path
) -> None:
    start_agent(server.url, mode="raster")
    server.send_job(server.connected.get(timeout=5), slip_job("slip-r"))
    assert server.next_ack()["status"] == "printed"
    job = (tmp_path / "paper" / "slip-r.bin").read_bytes()
    assert b"\x1dv0\x00" in job and b"\x1bt" not in job  # bitmaps, no code page
    blocks = decode_blocks(job)
    assert any(isinstance(b, Picture) for b in blocks)
    assert [b.data for b in blocks if isinstance(b, QrCode)] == [CODE]
    assert len(job) > 20_000


def test_a_slip_on_a_printer_out_of_paper_fails_then_prints_when_sent_again(
    server, start_agent, tmp_path
) -> None:
    (tmp_path / "paper").mkdir()
    (tmp_path / "paper" / "fault").write_text("paper_out")
    start_agent(server.url)
    sid = server.connected.get(timeout=5)
    server.send_job(sid, slip_job())
    assert server.next_ack() == {"job_id": "slip-1", "status": "failed", "reason": "paper out"}
    (tmp_path / "paper" / "fault").unlink()
    server.send_job(sid, slip_job())
    assert server.next_ack()["status"] == "printed"


def test_unknown_kinds_and_bad_slips_are_acknowledged_failed_and_printing_goes_on(
    server, start_agent, tmp_path, ticket_payload
) -> None:
    agent = start_agent(server.url)
    sid = server.connected.get(timeout=5)

    server.send_job(sid, {"job_id": "letter-1", "kind": "apology_letter", "letter": {}})
    assert server.next_ack() == {
        "job_id": "letter-1",
        "status": "failed",
        "reason": "unknown print job kind 'apology_letter' (this agent prints: "
        "dossier_slip, papers, ticket)",
    }
    server.send_job(sid, slip_job("slip-bad", title=""))
    bad = server.next_ack()
    assert bad["status"] == "failed" and "title must be a non-empty string" in bad["reason"]
    server.send_job(sid, {"job_id": "slip-none", "kind": "dossier_slip"})
    assert server.next_ack()["reason"] == "slip must be an object"

    # Still printing: a ticket from a server of before slips (no `kind`), then a slip.
    server.send_job(sid, {"job_id": "t-1", "printer": None, "ticket": ticket_payload()})
    assert server.next_ack()["status"] == "printed"
    server.send_job(sid, slip_job("slip-2"))
    assert server.next_ack()["status"] == "printed"
    assert sorted(p.name for p in (tmp_path / "paper").glob("*.bin")) == ["slip-2.bin", "t-1.bin"]
    assert agent.health_check()

"""Printer URLs, status mapping, the sim:// printer and the TCP 9100 simulator."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

import escpos.printer
import pytest
from click.testing import CliRunner
from escpos.printer import Dummy
from PIL import Image

from devices.errors import DeviceNotFound, PrinterFault
from devices.printing.cli import printer_sim_command
from devices.printing.decode import EscposStream
from devices.printing.layout import draw_ticket
from devices.printing.sim import FaultFlag, PrinterSimulator, SimPrinter
from devices.printing.status import (
    PrinterState,
    read_printer_state,
    state_from_status_bytes,
    status_answer,
)
from devices.printing.ticket import TicketPrint
from devices.printing.transports import (
    InvalidPrinterUrl,
    open_printer,
    parse_printer_url,
    printer_class,
    printer_state,
)


def test_importing_the_printing_package_leaves_nothing_in_tmp(tmp_path: Path) -> None:
    scratch, cache = tmp_path / "tmp", tmp_path / "cache"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "ESCPOS_CAPABILITIES_PICKLE_DIR": str(cache)}
    cache.mkdir()
    code = "import devices.printing, escpos.printer, logging; print(logging.getLogger().handlers)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert list(scratch.iterdir()) == []  # python-escpos's stray mkdtemp() was cleaned up
    assert [p.suffix for p in cache.iterdir()] == [".pickle"]
    assert result.stdout.strip() == "[]"  # its logging.basicConfig() was undone


# --- URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "cls", "kwargs"),
    [
        (
            "usb://0416:5011",
            escpos.printer.Usb,
            {"idVendor": 0x0416, "idProduct": 0x5011, "timeout": 10_000},
        ),
        (
            "usb://04b8:0e15?in_ep=0x82&out_ep=0x01&timeout=3000",
            escpos.printer.Usb,
            {
                "idVendor": 0x04B8,
                "idProduct": 0x0E15,
                "in_ep": 0x82,
                "out_ep": 0x01,
                "timeout": 3000,
            },
        ),
        (
            "serial:///dev/serial/by-id/usb-Prolific_PL2303-if00-port0?baudrate=115200",
            escpos.printer.Serial,
            {"devfile": "/dev/serial/by-id/usb-Prolific_PL2303-if00-port0", "baudrate": 115200},
        ),
        (
            "tcp://192.168.1.50",
            escpos.printer.Network,
            {"host": "192.168.1.50", "port": 9100, "timeout": 10.0},
        ),
        (
            "tcp://printer.local:9101?timeout=3",
            escpos.printer.Network,
            {"host": "printer.local", "port": 9101, "timeout": 3.0},
        ),
        ("file:///dev/usb/lp0", escpos.printer.File, {"devfile": "/dev/usb/lp0"}),
        ("sim://var/sim/printer", SimPrinter, {"directory": "var/sim/printer"}),
        ("sim:///srv/sim", SimPrinter, {"directory": "/srv/sim"}),
    ],
)
def test_printer_url_chooses_class_and_arguments(url, cls, kwargs) -> None:
    spec = parse_printer_url(url)
    assert printer_class(spec) is cls
    assert spec.kwargs == kwargs


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("lp0", "must start with one of usb://"),
        ("usb://0416", "usb://VID:PID"),
        ("usb://04z6:5011", "not hexadecimal"),
        ("tcp://:9100", "tcp://HOST"),
        ("tcp://host:99999", "bad port"),
        ("serial:///dev/ttyS0?baud=9600", "unknown parameter 'baud'"),
        ("serial:///dev/ttyS0?baudrate=fast", "bad value for baudrate"),
        ("file://", "a path is required"),
    ],
)
def test_bad_printer_urls_say_what_is_expected(url, message) -> None:
    with pytest.raises(InvalidPrinterUrl, match=message):
        parse_printer_url(url)


def test_missing_device_file_is_device_not_found(tmp_path: Path) -> None:
    with pytest.raises(DeviceNotFound):
        open_printer(f"file://{tmp_path}/no-such-dir/lp0")


# --- status -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printer", "cause", "paper", "state"),
    [
        (0x12, 0x12, 0x12, PrinterState.READY),
        (0x12, 0x12, 0x1E, PrinterState.PAPER_NEAR_END),
        (0x1A, 0x32, 0x7E, PrinterState.PAPER_OUT),
        (0x1A, 0x16, 0x12, PrinterState.COVER_OPEN),
        (0x1A, 0x52, 0x12, PrinterState.OFFLINE),
        (None, None, None, PrinterState.OFFLINE),  # silence is not "ready"
        (0x00, 0x00, 0x00, PrinterState.OFFLINE),  # not a status byte at all
    ],
)
def test_dle_eot_answers_map_to_printer_states(printer, cause, paper, state) -> None:
    assert state_from_status_bytes(printer, cause, paper) is state


@pytest.mark.parametrize("state", [s for s in PrinterState if s is not PrinterState.UNKNOWN])
def test_simulated_answers_read_back_as_the_same_state(state) -> None:
    answers = [status_answer(state, q) for q in (1, 2, 4)]
    assert state_from_status_bytes(*(a[0] if a else None for a in answers)) is state


def test_printer_states_map_to_device_status_states() -> None:
    assert (PrinterState.READY.wire_state, PrinterState.READY.reason) == ("ready", None)
    assert PrinterState.PAPER_NEAR_END.wire_state == "ready"
    assert (PrinterState.PAPER_OUT.wire_state, PrinterState.PAPER_OUT.reason) == (
        "error",
        "paper out",
    )
    assert PrinterState.COVER_OPEN.wire_state == "error"
    assert PrinterState.OFFLINE.wire_state == "disconnected"


def test_write_only_printer_is_unknown_and_gets_no_queries(tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    device.touch()
    printer = open_printer(f"file://{device}")
    try:
        assert read_printer_state(printer) is PrinterState.UNKNOWN
    finally:
        printer.close()
    assert device.read_bytes() == b""


def test_serial_printer_on_a_pseudo_terminal(ticket_payload) -> None:
    master, slave = pty.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    received = bytearray()

    def printer_side() -> None:  # answers DLE EOT like a printer near the paper end
        stream = EscposStream()
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            received.extend(data)
            for command in stream.feed(data):
                if command.name == "status":
                    os.write(master, status_answer(PrinterState.PAPER_NEAR_END, command.args[0]))

    threading.Thread(target=printer_side, daemon=True).start()
    printer = open_printer(f"serial://{os.ttyname(slave)}?baudrate=115200")
    try:
        started = time.monotonic()
        assert printer_state(printer) is PrinterState.PAPER_NEAR_END
        assert time.monotonic() - started < 0.5  # one byte per answer, no waiting out
        draw_ticket(printer, TicketPrint.from_payload(ticket_payload()), "text")
        printer.device.flush()
    finally:
        printer.close()
        assert wait_for(lambda: received.endswith(b"\x1dV\x00"))
        os.close(master)
        os.close(slave)


# --- sim:// -------------------------------------------------------------------------------


def test_sim_printer_saves_bytes_and_preview_per_job(tmp_path: Path, ticket_payload) -> None:
    ticket = TicketPrint.from_payload(ticket_payload())
    printer = open_printer(f"sim://{tmp_path}")
    printer.job_name = "job-1"
    draw_ticket(printer, ticket, "text")

    reference = Dummy()
    draw_ticket(reference, ticket, "text")
    assert (tmp_path / "job-1.bin").read_bytes() == reference.output
    with Image.open(tmp_path / "job-1.png") as preview:
        assert preview.width == 576 and preview.height > 500


def test_sim_printer_paper_out_fails_the_job_and_saves_nothing(tmp_path, ticket_payload) -> None:
    printer = open_printer(f"sim://{tmp_path}")
    printer.set_fault("paper_out")
    assert printer_state(printer) is PrinterState.PAPER_OUT
    with pytest.raises(PrinterFault) as info:
        draw_ticket(printer, TicketPrint.from_payload(ticket_payload()), "text")
    assert info.value.reason == "paper out"
    assert not list(tmp_path.glob("*.bin"))

    printer.set_fault(None)
    assert printer_state(printer) is PrinterState.READY


def test_slow_sim_printer_prints_late(tmp_path: Path, ticket_payload, monkeypatch) -> None:
    monkeypatch.setattr("devices.printing.sim.SLOW_SECONDS", 0.3)
    printer = open_printer(f"sim://{tmp_path}")
    printer.set_fault("slow")
    assert printer_state(printer) is PrinterState.READY
    started = time.monotonic()
    draw_ticket(printer, TicketPrint.from_payload(ticket_payload()), "text")
    assert time.monotonic() - started >= 0.3
    assert len(list(tmp_path.glob("*.bin"))) == 1


def test_sim_faults_can_be_set_from_a_shell(tmp_path: Path) -> None:
    printer = open_printer(f"sim://{tmp_path}")
    (tmp_path / "fault").write_text("offline\n")  # echo offline > DIR/fault
    assert printer_state(printer) is PrinterState.OFFLINE
    (tmp_path / "fault").write_text("cover_open")
    assert printer_state(printer) is PrinterState.COVER_OPEN
    (tmp_path / "fault").write_text("on fire")  # unknown words are ignored, not fatal
    assert printer_state(printer) is PrinterState.READY
    with pytest.raises(ValueError, match="unknown fault"):
        FaultFlag(tmp_path).set("on fire")


# --- TCP simulator ------------------------------------------------------------------------


@pytest.fixture
def tcp_sim(tmp_path: Path):
    simulator = PrinterSimulator(tmp_path / "tcp", port=0)
    simulator.start()
    yield simulator
    simulator.close()


def wait_for(condition, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_tcp_simulator_receives_what_a_network_printer_sends(tcp_sim, ticket_payload) -> None:
    ticket = TicketPrint.from_payload(ticket_payload())
    host, port = tcp_sim.address
    printer = open_printer(f"tcp://{host}:{port}")
    try:
        assert printer_state(printer) is PrinterState.READY
        draw_ticket(printer, ticket, "raster")
    finally:
        printer.close()

    reference = Dummy()
    draw_ticket(reference, ticket, "raster")
    assert wait_for(lambda: len(tcp_sim.saved) == 1)
    assert tcp_sim.saved[0].read_bytes() == reference.output  # status queries not included
    assert tcp_sim.saved[0].with_suffix(".png").stat().st_size > 1000


def test_tcp_simulator_reports_paper_out_and_drops_the_job(tcp_sim, ticket_payload) -> None:
    tcp_sim.faults.set("paper_out")
    host, port = tcp_sim.address
    printer = open_printer(f"tcp://{host}:{port}")
    try:
        assert printer_state(printer) is PrinterState.PAPER_OUT
        draw_ticket(printer, TicketPrint.from_payload(ticket_payload()), "text")
    finally:
        printer.close()
    time.sleep(0.1)
    assert tcp_sim.saved == []


def test_offline_tcp_printer_reads_as_offline(tcp_sim) -> None:
    tcp_sim.faults.set("offline")
    host, port = tcp_sim.address
    printer = open_printer(f"tcp://{host}:{port}")
    try:
        assert printer_state(printer) is PrinterState.OFFLINE
    finally:
        printer.close()


def test_nothing_listening_is_device_not_found(tcp_sim) -> None:
    host, port = tcp_sim.address
    tcp_sim.close()
    with pytest.raises(DeviceNotFound):
        open_printer(f"tcp://{host}:{port}?timeout=1")


def test_printer_sim_command_documents_its_options() -> None:
    result = CliRunner().invoke(printer_sim_command, ["--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "--dir" in result.output and "paper_out" in result.output

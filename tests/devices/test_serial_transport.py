"""Serial transport: port URLs, exclusive opening, errors, on real pseudo-terminals."""

from __future__ import annotations

import os
import time

import pytest

from devices.serial.errors import DeviceNotFound, PortBusy, PortDisconnected
from devices.serial.sim import PadSimulator
from devices.serial.transport import SerialPort, parse_port_url


def read_until(port: SerialPort, wanted: bytes, timeout: float = 3.0) -> bytes:
    deadline = time.monotonic() + timeout
    data = b""
    while wanted not in data and time.monotonic() < deadline:
        data += port.read()
    return data


def test_serial_url_with_settings():
    spec = parse_port_url(
        "serial:///dev/serial/by-id/usb-FTDI_FT232R-if00-port0?baudrate=19200&parity=E"
    )
    assert spec.path == "/dev/serial/by-id/usb-FTDI_FT232R-if00-port0"
    assert spec.settings == {"baudrate": 19200, "parity": "E"}


def test_plain_paths_including_by_path_colons():
    by_path = "/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0-port0"
    assert parse_port_url(by_path).path == by_path
    assert parse_port_url("var/dev/ratingpad-1").path == "var/dev/ratingpad-1"


def test_pty_sim_url_names_a_link_in_the_sim_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TTHCC_SIM_DIR", str(tmp_path))
    assert parse_port_url("pty-sim:pad-1").path == str(tmp_path / "pad-1")
    assert parse_port_url("pty-sim://pad-1").path == str(tmp_path / "pad-1")


def test_network_urls_go_to_pyserial():
    assert parse_port_url("socket://10.0.0.5:4001").pyserial_url == "socket://10.0.0.5:4001"


@pytest.mark.parametrize("url", ["", "serial:///dev/x?speed=9600", "pty-sim:", "pty-sim:a/b"])
def test_bad_urls_are_refused(url):
    with pytest.raises(ValueError):
        parse_port_url(url)


def test_missing_device_is_not_found(tmp_path):
    port = SerialPort(str(tmp_path / "nothing"))
    with pytest.raises(DeviceNotFound):
        port.open()


def test_read_returns_what_the_device_sent(tmp_path):
    with PadSimulator(link=tmp_path / "pad") as sim:
        port = SerialPort(sim.port, read_timeout=0.1)
        port.open()
        try:
            assert port.read() == b""  # timeout, no data
            sim.press("5")
            assert read_until(port, b"5\n") == b"5\n"
        finally:
            port.close()
            port.close()  # idempotent
        assert not port.is_open


def test_second_opener_is_refused_instead_of_stealing_bytes(tmp_path):
    with PadSimulator(link=tmp_path / "pad") as sim:
        first = SerialPort(sim.port)
        first.open()
        try:
            with pytest.raises(PortBusy):
                SerialPort(sim.port).open()
        finally:
            first.close()


def test_unplug_makes_reads_fail_as_disconnected(tmp_path):
    with PadSimulator(link=tmp_path / "pad") as sim:
        port = SerialPort(sim.port, read_timeout=0.1)
        port.open()
        try:
            sim.unplug()
            assert not os.path.lexists(tmp_path / "pad")  # udev removes the link too
            with pytest.raises(PortDisconnected):
                for _ in range(20):
                    port.read()
        finally:
            port.close()


def test_url_settings_reach_pyserial(tmp_path):
    with PadSimulator(link=tmp_path / "pad") as sim:
        port = SerialPort(f"serial:{sim.path}?baudrate=19200&bytesize=7")
        port.open()
        try:
            assert port._serial.baudrate == 19200
            assert port._serial.bytesize == 7
        finally:
            port.close()


def test_simulator_never_replaces_a_real_file(tmp_path):
    real = tmp_path / "ttyUSB0"
    real.write_text("precious")
    with pytest.raises(FileExistsError):
        PadSimulator(link=real).open()
    assert real.read_text() == "precious"


def test_replug_points_the_link_at_a_new_pty(tmp_path):
    with PadSimulator(link=tmp_path / "pad") as sim:
        first = sim.path
        assert os.path.realpath(tmp_path / "pad") == first
        sim.unplug()
        assert sim.path is None and not sim.plugged
        second = sim.replug()
        assert os.path.realpath(tmp_path / "pad") == second == sim.path

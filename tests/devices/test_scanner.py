"""The serial 2D scanner: codec, driver over a real pseudo-terminal, simulator, agent glue."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from devices.config import load_config
from devices.scanner.codec import ScanDecoder
from devices.scanner.driver import ScannerDriver
from devices.scanner.runners import SCANNER_SCAN, scanner_runners
from devices.scanner.sim import ScannerSimulator, id_card_text, run_commands
from devices.serial.driver import DeviceState, SerialTiming

FAST = SerialTiming(read_timeout=0.1, reconnect_initial=0.05, reconnect_max=0.2)
WAIT = 5.0


class Scans:
    def __init__(self) -> None:
        self.texts: list[str] = []
        self._changed = threading.Condition()

    def __call__(self, text: str, scanned_at: Any) -> None:
        assert scanned_at.tzinfo is not None
        with self._changed:
            self.texts.append(text)
            self._changed.notify_all()

    def wait_for(self, count: int) -> list[str]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.texts) >= count, WAIT), self.texts
            return list(self.texts)


def test_decoder_cuts_cr_lf_and_crlf_even_split_across_reads_and_drops_noise(caplog) -> None:
    decoder = ScanDecoder(idle_reset=0.5)
    card = id_card_text()
    data = card.encode() + b"\r\n" + b"123456\r" + b"]Q1654321\n"
    # Byte by byte: a CR LF split across reads is one scan, not an extra empty one.
    scans = [s for i in range(len(data)) for s in decoder.feed(data[i : i + 1], 0.0)]
    assert scans == [card, "123456", "654321"]
    with caplog.at_level(logging.DEBUG, logger="devices.serial.codec"):
        assert decoder.feed(b"\xff\xfe\x80bad\r", 0.1) == []  # not UTF-8
        assert decoder.feed(b"a\x07b\r", 0.2) == []  # a control character
        assert decoder.feed(b"x" * 2000 + b"\r" + b"ok\r", 0.3) == ["ok"]  # over-long
        assert decoder.feed(b"half a sc", 0.4) == []
        assert decoder.feed(b"777777\r", 1.5) == ["777777"]  # the half scan went stale
    assert decoder.noise.total == 4
    assert "001089012345" not in caplog.text  # noise reports never echo a card


def test_scanner_on_a_pty_reads_scans_across_reads_ignores_garbage_and_reconnects(
    tmp_path: Path, caplog
) -> None:
    scans = Scans()
    states: list[DeviceState] = []
    with ScannerSimulator(link=tmp_path / "scanner") as sim:
        driver = ScannerDriver(
            "scanner-1",
            sim.port,
            on_scan=scans,
            on_state=lambda _n, state, _r: states.append(state),
            timing=FAST,
            repeat_window=0.5,
        )
        driver.start()
        try:
            assert driver.wait_for_state(DeviceState.READY, WAIT)
            card = id_card_text(name="Trần Văn Bình")
            sim.slow = True  # byte by byte: the scan arrives over many reads
            sim.slow_delay = 0.001
            sim.scan(card)
            sim.slow = False
            assert scans.wait_for(1) == [card]
            with caplog.at_level(logging.DEBUG):
                sim.garbage(300, seed=7, exclude=b"\r\n")
                sim.write(b"\r")  # ends the garbage line: dropped, logged
                sim.scan("123456")
                sim.scan("123456")  # held under the scanner: the repeat is one scan
                assert scans.wait_for(2)[-1] == "123456"
            assert driver.noise_count >= 1
            assert "Trần" not in caplog.text and "001089012345" not in caplog.text
            sim.unplug()
            assert driver.wait_for_state(DeviceState.DISCONNECTED, WAIT)
            sim.replug()
            assert driver.wait_for_state(DeviceState.READY, WAIT)
            sim.scan("123456")  # after the repeat window, on a new connection: scanned
            assert scans.wait_for(3)[-1] == "123456"
        finally:
            driver.close()
    assert scans.texts == [card, "123456", "123456"]
    assert states[:1] == [DeviceState.READY]


class FakeContext:
    """The agent's side the runner sees; emit records what would go to the server."""

    def __init__(self, spool_dir: Path) -> None:
        self.spool_dir = spool_dir
        self.emitted: list[tuple[str, dict]] = []
        self.statuses: list[tuple[str, str, str]] = []
        self.connected = True
        self._changed = threading.Condition()

    def emit(self, event: str, payload: dict) -> bool:
        with self._changed:
            if self.connected:
                self.emitted.append((event, payload))
            self._changed.notify_all()
            return self.connected

    def clock_offset(self, timeout: float = 0.0) -> float | None:
        return 30.0

    def report_status(self, device: str, kind: str, state: str, reason: str | None) -> None:
        self.statuses.append((device, kind, state))

    def wait_for(self, count: int) -> list[tuple[str, dict]]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.emitted) >= count, WAIT)
            return list(self.emitted)


def test_agent_runner_from_config_emits_scanner_scan_on_the_servers_clock(tmp_path: Path) -> None:
    with ScannerSimulator(link=tmp_path / "scanner", terminator=b"\r\n") as sim:
        config_file = tmp_path / "kiosk.toml"
        config_file.write_text(
            'server_url = "http://127.0.0.1:1"\nstation_token = "t"\n'
            f'[[scanners]]\nname = "kiosk-scanner"\nurl = "{sim.port}"\n',
            encoding="utf-8",
        )
        config = load_config(config_file)
        ctx = FakeContext(tmp_path)
        (runner,) = scanner_runners(config, ctx)
        runner.start()
        try:
            assert runner.drivers[0].wait_for_state(DeviceState.READY, WAIT)
            before = time.time()
            assert run_commands(sim, ["card", "code 123456"], lambda _m: None)
            (event, card), (_, code) = ctx.wait_for(2)
        finally:
            runner.close()
    assert event == SCANNER_SCAN
    assert card["device"] == "kiosk-scanner" and card["text"] == id_card_text()
    assert code["text"] == "123456"
    from datetime import datetime

    shifted = datetime.fromisoformat(card["scanned_at"]).timestamp() - before
    assert 29 < shifted < 35  # the station's time plus the measured offset
    assert ("kiosk-scanner", "scanner", "ready") in ctx.statuses

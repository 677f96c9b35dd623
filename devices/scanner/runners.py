"""Serial scanners inside the station agent: each scan goes to the server at once.

``[[scanners]]`` entries (devices/config.py) become one :class:`ScannerDriver` each. A scan
is emitted as ``scanner.scan`` ``{"device", "text", "scanned_at"}``; the server parses it
and tells the kiosk page what was read (docs/devices.md, "Barcode scanners"). Not spooled
on purpose: a citizen scans while standing at the kiosk; replayed later, the scan would
fill in a screen nobody is looking at. A scan while disconnected is dropped with a warning
(without its text: it may be a citizen's ID card).
"""

from __future__ import annotations

import logging
from datetime import datetime

from devices.agent.clock import on_server_clock
from devices.agent.runners import AgentContext, register_runner_factory
from devices.config import StationConfig
from devices.scanner.driver import ScannerDriver
from devices.serial.driver import DeviceState
from devices.serial.runners import SerialRunner

logger = logging.getLogger(__name__)

SCANNER_SCAN = "scanner.scan"  #: agent -> server, emit


def scanner_runners(config: StationConfig, ctx: AgentContext) -> list[SerialRunner]:
    """One runner per scanner of the station."""
    runners = []
    for entry in config.scanners:

        def on_scan(text: str, scanned_at: datetime, device: str = entry.name) -> None:
            payload = {
                "device": device,
                "text": text,
                "scanned_at": on_server_clock(scanned_at, ctx.clock_offset()).isoformat(),
            }
            if not ctx.emit(SCANNER_SCAN, payload):
                logger.warning("scanner %s: a scan was dropped, server unreachable", device)

        def on_state(device: str, state: DeviceState, reason: str | None) -> None:
            ctx.report_status(device, "scanner", state.value, reason)

        driver = ScannerDriver(entry.name, entry.url, on_scan=on_scan, on_state=on_state)
        runners.append(SerialRunner(entry.name, "scanner", [driver]))
    return runners


register_runner_factory("scanners", scanner_runners)

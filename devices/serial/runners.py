"""Serial devices inside the station agent: the glue from drivers to the server.

The agent imports this module at start-up (``devices.agent.runners.PLUGIN_MODULES``); it
registers one runner factory per config section:

- ``[[ratingpads]]``: presses go into the durable spool first (``serial-spool.sqlite`` in
  the agent's spool dir), then a forwarder sends them in order as ``rating.submit``
  calls, so a rating pressed while the server is unreachable arrives later, once.
- ``[[keypads]]``: each key is emitted at once as ``counter.command``. Not spooled on
  purpose: "call next" replayed ten minutes later would call a citizen who is not
  looking. A press while disconnected is logged and dropped.
- ``[[ledboards]]``: ``counter.updated`` from the server shows the counter's current
  ticket number (or blanks the board when there is none).

The event names below are this module's proposal for the station protocol; the server
side must accept them (see docs/devices.md, "Station events").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from devices.agent.runners import AgentContext, register_runner_factory
from devices.config import StationConfig
from devices.serial.codec import KeypadOperation
from devices.serial.driver import CounterId, DeviceState, SerialDevice, StateCallback
from devices.serial.factory import keypad_drivers, led_board_drivers, rating_pad_drivers
from devices.spool import Forwarder, Spool, SpoolItem

logger = logging.getLogger(__name__)

RATING_SUBMIT = "rating.submit"  #: agent -> server, call; ack ``{"ok": bool, "message"}``
COUNTER_COMMAND = "counter.command"  #: agent -> server, emit
COUNTER_UPDATED = "counter.updated"  #: server -> agent, ``{"counter": {...}}``
SPOOL_FILE = "serial-spool.sqlite"
RATING_KIND = "rating"


def _reporter(ctx: AgentContext, kind: str) -> StateCallback:
    def report(device: str, state: DeviceState, reason: str | None) -> None:
        ctx.report_status(device, kind, state.value, reason)

    return report


class SerialRunner:
    """Runs a group of serial drivers (and what they need) as one agent runner."""

    def __init__(
        self,
        name: str,
        kind: str,
        drivers: list[SerialDevice],
        *,
        on_start: Callable[[], None] | None = None,
        on_close: Callable[[], None] | None = None,
        threads: Callable[[], bool] | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.drivers = drivers
        self._on_start = on_start
        self._on_close = on_close
        self._threads = threads
        self._closed = threading.Event()

    @property
    def healthy(self) -> bool:
        """Every driver thread (and helper thread) still runs."""
        extra = self._threads() if self._threads is not None else True
        return extra and all(driver.healthy for driver in self.drivers)

    def start(self) -> None:
        if self._on_start is not None:
            self._on_start()
        for driver in self.drivers:
            driver.start()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        for driver in self.drivers:
            driver.close()
        if self._on_close is not None:
            self._on_close()


def rating_pad_runners(config: StationConfig, ctx: AgentContext) -> list[SerialRunner]:
    """One runner for every rating pad of the station, with the spool and forwarder."""
    if not config.ratingpads:
        return []
    spool = Spool(ctx.spool_dir / SPOOL_FILE)

    def on_rating(counter_id: CounterId, raw_key: str, level: int, pressed_at: datetime) -> None:
        # Stored before anything else: the press is safe even if the agent dies now.
        payload = {
            "counter_id": counter_id,
            "raw_key": raw_key,
            "level": level,
            "pressed_at": pressed_at.isoformat(),
        }
        spool.put(RATING_KIND, payload)

    def send(item: SpoolItem) -> bool:
        ack = ctx.call(RATING_SUBMIT, {"key": item.key, **item.payload})
        if isinstance(ack, dict) and ack.get("ok") is False:
            # A permanent refusal (unknown counter…): retrying cannot help and would hold
            # back every rating behind it.
            logger.warning("server refused rating %s: %s", item.key, ack.get("message"))
        return True

    forwarder = Forwarder(spool, send, name="rating-forwarder")
    ctx.on_connect(forwarder.wake)

    def close() -> None:
        forwarder.close()
        spool.close()

    drivers = rating_pad_drivers(
        config.ratingpads, on_rating=on_rating, on_state=_reporter(ctx, "ratingpad")
    )
    return [
        SerialRunner(
            "ratingpads",
            "ratingpad",
            list(drivers),
            on_start=forwarder.start,
            on_close=close,
            threads=lambda: forwarder.healthy,
        )
    ]


def keypad_runners(config: StationConfig, ctx: AgentContext) -> list[SerialRunner]:
    """One runner for every call keypad of the station."""
    if not config.keypads:
        return []

    def on_command(counter_id: CounterId, operation: KeypadOperation) -> None:
        payload = {"counter_id": counter_id, "operation": operation.value}
        if not ctx.emit(COUNTER_COMMAND, payload):
            logger.warning(
                "keypad %s on counter %s dropped: server unreachable", operation, counter_id
            )

    drivers = keypad_drivers(
        config.keypads, on_command=on_command, on_state=_reporter(ctx, "keypad")
    )
    return [SerialRunner("keypads", "keypad", list(drivers))]


def led_board_runners(config: StationConfig, ctx: AgentContext) -> list[SerialRunner]:
    """One runner for every LED board; boards follow ``counter.updated``."""
    if not config.ledboards:
        return []
    drivers = led_board_drivers(config.ledboards, on_state=_reporter(ctx, "ledboard"))

    def on_counter_updated(data: Any) -> None:
        counter = data.get("counter") if isinstance(data, dict) else None
        if not isinstance(counter, dict):
            return
        current = counter.get("current_ticket") or {}
        text = str(current.get("number") or "")
        for driver in drivers:
            if counter.get("id") in driver.boards:
                driver.show(counter["id"], text)  # I/O trouble shows in the device state

    ctx.on(COUNTER_UPDATED, on_counter_updated)
    return [SerialRunner("ledboards", "ledboard", list(drivers))]


register_runner_factory("ratingpads", rating_pad_runners)
register_runner_factory("keypads", keypad_runners)
register_runner_factory("ledboards", led_board_runners)

"""Serial devices inside the station agent: the glue from drivers to the server.

The agent imports this module at start-up (``devices.agent.runners.PLUGIN_MODULES``); it
registers one runner factory per config section:

- ``[[ratingpads]]``: presses go into the durable spool first (``serial-spool.sqlite`` in
  the agent's spool dir), then a forwarder sends them in order as ``rating.submit``
  calls, so a rating pressed while the server is unreachable arrives later, once. A press
  keeps the time it was pressed: the station's clock reading and the clock offset
  measured then (``devices/agent/heartbeat.py``) are spooled with it, and it is sent on
  the server's clock however late it is delivered. The
  centre's pad size (3, 4 or 5 keys) comes from ``station.config`` and is remembered in
  ``station-config.json`` for a start while the server is unreachable.
- ``[[keypads]]``: each key is emitted at once as ``counter.command``, with the time it
  was pressed on the server's clock. Not spooled on purpose: "call next" replayed ten
  minutes later would call a citizen who is not looking. A press while disconnected is
  logged and dropped; one that reaches the server too late (a stalled link) is refused
  there as stale and the LED board says so.
- ``[[ledboards]]``: ``counter.updated`` from the server shows the counter's current
  ticket number (or blanks the board when there is none); a refused keypad key
  (``counter.result`` with ``ok: false``) shows the server's short text for a moment.

The events are part of the station protocol (docs/station-protocol.md, docs/devices.md).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from devices.agent.clock import on_server_clock
from devices.agent.runners import AgentContext, register_runner_factory
from devices.config import StationConfig
from devices.errors import DeviceError
from devices.serial.codec import KeypadOperation
from devices.serial.driver import CounterId, DeviceState, SerialDevice, StateCallback
from devices.serial.factory import keypad_drivers, led_board_drivers, rating_pad_drivers
from devices.serial.rating import SCALE_LEVELS, RatingScale
from devices.spool import Forwarder, Spool, SpoolItem

logger = logging.getLogger(__name__)

RATING_SUBMIT = "rating.submit"  #: agent -> server, call; ack ``{"ok": bool, "message"}``
COUNTER_COMMAND = "counter.command"  #: agent -> server, emit
COUNTER_UPDATED = "counter.updated"  #: server -> agent, ``{"counter": {...}}``
COUNTER_RESULT = "counter.result"  #: server -> agent, how a counter.command went
STATION_CONFIG = "station.config"  #: server -> agent on connect, ``{"rating_scale": 5, …}``
SPOOL_FILE = "serial-spool.sqlite"
CONFIG_CACHE_FILE = "station-config.json"
RATING_KIND = "rating"
#: Seconds an LED board shows a refused keypad key before the number comes back.
REFUSAL_SECONDS = 3.0
#: What a counter's LED board shows for a keypad key pressed while the agent is not
#: connected (the key is dropped: run later, it would surprise everyone).
NOT_CONNECTED_BOARD_TEXT = "Mất kết nối"
#: Longest a spooled press pressed before any clock measurement waits, once connected,
#: for the measurement (the connect's round trips) before it is sent.
CLOCK_WAIT_SECONDS = 5.0


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
    cache = ctx.spool_dir / CONFIG_CACHE_FILE
    scale = _Scale(_cached_scale(cache))

    def on_rating(counter_id: CounterId, raw_key: str, level: int, pressed_at: datetime) -> None:
        # Stored before anything else: the press is safe even if the agent dies now. The
        # station's reading and the offset in force now stay together: a later clock step
        # or restart cannot pair them wrongly.
        payload = {
            "counter_id": counter_id,
            "raw_key": raw_key,
            "level": level,
            "scale": scale.levels,
            "station_pressed_at": pressed_at.isoformat(),
            "clock_offset": ctx.clock_offset(),
        }
        spool.put(RATING_KIND, payload)

    def send(item: SpoolItem) -> bool:
        ack = ctx.call(RATING_SUBMIT, {"key": item.key, **_on_server_clock(item.payload, ctx)})
        if isinstance(ack, dict) and ack.get("ok") is True:
            ticket = ack.get("ticket_number")
            logger.info(
                "rating %s at counter %s %s%s",
                item.payload.get("level"),
                item.payload.get("counter_id"),
                "was already stored" if ack.get("duplicate") else "stored",
                f" (ticket {ticket})" if ticket else " (not attached to a ticket)",
            )
            return True
        if isinstance(ack, dict) and ack.get("ok") is False and not ack.get("retry"):
            # A permanent refusal (unknown counter…): retrying cannot help and would hold
            # back every rating behind it.
            logger.warning("server refused rating %s: %s", item.key, ack.get("message"))
            return True
        # Not stored (a server error, or a server that does not know rating.submit):
        # keep it and try again; a citizen's press is never dropped on a guess.
        raise DeviceError(f"rating not stored: {ack!r}")

    forwarder = Forwarder(spool, send, name="rating-forwarder")
    ctx.on_connect(forwarder.wake)

    def close() -> None:
        forwarder.close()
        spool.close()

    drivers = rating_pad_drivers(
        config.ratingpads,
        on_rating=on_rating,
        on_state=_reporter(ctx, "ratingpad"),
        scale=scale.current,
    )

    def on_station_config(data: Any) -> None:
        levels = data.get("rating_scale") if isinstance(data, dict) else None
        if levels not in SCALE_LEVELS or isinstance(levels, bool):
            return
        if scale.set(levels):
            logger.info("rating pads: %d-key scale from the server", levels)
            for driver in drivers:
                driver.scale = scale.current
        _write_cache(cache, {"rating_scale": levels})

    ctx.on(STATION_CONFIG, on_station_config)
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


def _on_server_clock(payload: dict[str, Any], ctx: AgentContext) -> dict[str, Any]:
    """A spooled press as sent: ``pressed_at`` on the server's clock.

    A press made before any measurement (the agent started without a server) takes the
    offset measured once connected. Items spooled by an agent before clock offsets carry
    only ``pressed_at`` (the station's clock): they are treated the same way.
    """
    body = dict(payload)
    station_pressed_at = body.pop("station_pressed_at", None) or body.pop("pressed_at")
    body.pop("pressed_at", None)
    offset = body.pop("clock_offset", None)
    if offset is None:
        offset = ctx.clock_offset(CLOCK_WAIT_SECONDS)
    pressed_at = on_server_clock(datetime.fromisoformat(station_pressed_at), offset)
    return {
        **body,
        "pressed_at": pressed_at.isoformat(),
        "station_pressed_at": station_pressed_at,
        "clock_offset": offset,
    }


class _Scale:
    """The pads' scale, shared by the drivers and the payloads (the server may change it)."""

    def __init__(self, levels: int) -> None:
        self.current = RatingScale(levels)

    @property
    def levels(self) -> int:
        return self.current.levels

    def set(self, levels: int) -> bool:
        if levels == self.current.levels:
            return False
        self.current = RatingScale(levels)
        return True


def _cached_scale(path: Path) -> int:
    try:
        levels = json.loads(path.read_text(encoding="utf-8")).get("rating_scale")
    except (OSError, ValueError, AttributeError):
        return 5
    return levels if levels in SCALE_LEVELS and not isinstance(levels, bool) else 5


def _write_cache(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.tmp")
        staging.write_text(json.dumps(data), encoding="utf-8")
        os.replace(staging, path)
    except OSError as exc:
        logger.warning("cannot remember the station config in %s: %s", path, exc)


def keypad_runners(config: StationConfig, ctx: AgentContext) -> list[SerialRunner]:
    """One runner for every call keypad of the station."""
    if not config.keypads:
        return []

    def on_command(counter_id: CounterId, operation: KeypadOperation, pressed_at: datetime) -> None:
        offset = ctx.clock_offset()
        payload = {
            "counter_id": counter_id,
            "operation": operation.value,
            # With no measurement yet (null offset) the server cannot tell how late the
            # command is and runs it, as before clock offsets.
            "pressed_at": on_server_clock(pressed_at, offset).isoformat(),
            "clock_offset": offset,
        }
        if not ctx.emit(COUNTER_COMMAND, payload):
            logger.warning(
                "keypad %s on counter %s dropped: server unreachable", operation, counter_id
            )
            # Staff who pressed must see that nothing happened: the counter's board says
            # so for a moment, as for a key the server refused.
            ctx.deliver(
                COUNTER_RESULT,
                {
                    "ok": False,
                    "counter_id": counter_id,
                    "error": "not_connected",
                    "board_text": NOT_CONNECTED_BOARD_TEXT,
                },
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
    boards = _Boards(drivers)

    def on_counter_updated(data: Any) -> None:
        counter = data.get("counter") if isinstance(data, dict) else None
        if not isinstance(counter, dict):
            return
        current = counter.get("current_ticket") or {}
        boards.show(counter.get("id"), str(current.get("number") or ""))

    def on_counter_result(data: Any) -> None:
        if not isinstance(data, dict) or data.get("ok") is not False:
            return
        text = data.get("board_text")
        if isinstance(text, str) and text:
            boards.flash(data.get("counter_id"), text, REFUSAL_SECONDS)

    ctx.on(COUNTER_UPDATED, on_counter_updated)
    ctx.on(COUNTER_RESULT, on_counter_result)
    return [SerialRunner("ledboards", "ledboard", list(drivers), on_close=boards.close)]


class _Boards:
    """The counters' LED boards: the number each should show, and short flashes."""

    def __init__(self, drivers: list[Any]) -> None:
        self._drivers = drivers
        self._lock = threading.Lock()
        self._texts: dict[Any, str] = {}
        self._timers: dict[Any, threading.Timer] = {}

    def _write(self, counter_id: Any, text: str) -> None:
        for driver in self._drivers:
            if counter_id in driver.boards:
                driver.show(counter_id, text)  # I/O trouble shows in the device state

    def show(self, counter_id: Any, text: str) -> None:
        """The counter's number (or blank); cancels a flash in progress."""
        with self._lock:
            self._texts[counter_id] = text
            timer = self._timers.pop(counter_id, None)
            if timer is not None:
                timer.cancel()
            self._write(counter_id, text)

    def flash(self, counter_id: Any, text: str, seconds: float) -> None:
        """Show ``text`` for ``seconds``, then the counter's number again."""
        if not any(counter_id in driver.boards for driver in self._drivers):
            return
        with self._lock:
            previous = self._timers.pop(counter_id, None)
            if previous is not None:
                previous.cancel()
            self._write(counter_id, text)
            timer = threading.Timer(seconds, self._restore, args=(counter_id,))
            timer.daemon = True
            timer.name = f"ledboard-flash:{counter_id}"
            self._timers[counter_id] = timer
            timer.start()

    def _restore(self, counter_id: Any) -> None:
        with self._lock:
            if self._timers.get(counter_id) is not threading.current_thread():
                return  # a newer number or flash came meanwhile
            del self._timers[counter_id]
            self._write(counter_id, self._texts.get(counter_id, ""))

    def close(self) -> None:
        with self._lock:
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()


register_runner_factory("ratingpads", rating_pad_runners)
register_runner_factory("keypads", keypad_runners)
register_runner_factory("ledboards", led_board_runners)

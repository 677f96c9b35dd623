"""The serial device state machine: one port, one thread, reconnecting forever.

Each device owns one named thread (``serial:<name>``), started by :meth:`start` and
stopped by :meth:`close` (idempotent). The thread opens the port, reads, and on any I/O
error closes the port, enters an error state, waits a capped back-off and tries again.
The thread lives with the state machine rather than with the transport so reconnecting
never spawns threads.

Callbacks run on that thread; they must be quick and must not block on the device. An
exception in a callback is logged and does not disturb the port.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from devices.serial.backoff import Backoff
from devices.serial.codec import IDLE_RESET, KeypadOperation
from devices.serial.errors import DeviceError, DeviceNotFound, PortDisconnected
from devices.serial.transport import SerialPort, parse_port_url

logger = logging.getLogger(__name__)

CounterId = Hashable  # whatever the agent's config uses to name a counter (id or code)


class DeviceState(enum.StrEnum):
    """Device states; the values are those of the ``device.status`` event."""

    READY = "ready"
    ERROR = "error"
    DISCONNECTED = "disconnected"


OPERATIONAL_STATES = frozenset({DeviceState.READY})
FAULT_STATES = frozenset({DeviceState.ERROR, DeviceState.DISCONNECTED})

StateCallback = Callable[[str, DeviceState, "str | None"], None]
RatingCallback = Callable[[CounterId, str, int, datetime], None]
CommandCallback = Callable[[CounterId, KeypadOperation, datetime], None]


@dataclass(frozen=True)
class SerialTiming:
    """Timeouts and retry delays of one serial device, in seconds."""

    read_timeout: float = 0.5
    """Longest a read blocks; bounds how long :meth:`SerialDevice.close` can take."""
    write_timeout: float = 1.0
    """Longest a write may block (a stalled board) before the port counts as failed."""
    reconnect_initial: float = 0.5
    """First wait after a failure before opening the port again."""
    reconnect_max: float = 30.0
    """Cap of the doubling reconnect wait."""
    idle_reset: float = IDLE_RESET
    """Silence after which a half-received line is dropped (see codec.LineSplitter)."""
    close_timeout: float = 5.0
    """How long :meth:`SerialDevice.close` waits for the reader thread."""


class SerialDevice:
    """Base of the serial drivers: port lifecycle, state machine, reconnects."""

    kind: ClassVar[str] = "serial"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        on_state: StateCallback | None = None,
        timing: SerialTiming | None = None,
    ) -> None:
        parse_port_url(url)  # fail at configuration time, not in the thread
        self.name = name
        self.url = url
        self.timing = timing or SerialTiming()
        self._on_state = on_state
        self._state = DeviceState.DISCONNECTED
        self._reason: str | None = "not started"
        self._state_changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Guards the current connection against close/cancel from other threads and
        # orders writes from callers against the re-send after a reconnect.
        self._io_lock = threading.RLock()
        self._port: SerialPort | None = None
        self._broken: DeviceError | None = None
        #: ``time.monotonic()`` when bytes last arrived (None: never); for diagnostics and
        #: for tests that must wait for the line to fall silent as the driver hears it.
        self.last_received_at: float | None = None

    # --- public surface --------------------------------------------------------------

    @property
    def state(self) -> DeviceState:
        return self._state

    @property
    def reason(self) -> str | None:
        """Why the device is not ready (None when ready)."""
        return self._reason

    @property
    def healthy(self) -> bool:
        """True while the port thread runs (the agent's watchdog checks it)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the port thread; the device connects (and reconnects) in the background."""
        if self._thread is not None:
            raise RuntimeError(f"{self.name}: already started")
        self._thread = threading.Thread(target=self._run, name=f"serial:{self.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and close the port. Safe to call more than once."""
        self._stop.set()
        with self._io_lock:
            if self._port is not None:
                self._port.cancel_read()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.timing.close_timeout)
            if thread.is_alive():
                logger.warning("%s: reader thread did not stop in time", self.name)
        self._set_state(DeviceState.DISCONNECTED, "closed")

    def wait_for_state(self, state: DeviceState, timeout: float) -> bool:
        """Block until the device is in ``state``; False if ``timeout`` passed first."""
        with self._state_changed:
            return self._state_changed.wait_for(lambda: self._state is state, timeout)

    # --- state machine ----------------------------------------------------------------

    def _set_state(self, state: DeviceState, reason: str | None = None) -> None:
        with self._state_changed:
            old = self._state
            if (state, reason) == (old, self._reason):
                return  # a retry that failed the same way: nothing new to say
            self._state, self._reason = state, reason
            self._state_changed.notify_all()
        suffix = f" ({reason})" if reason else ""
        logger.info("%s: %s -> %s%s", self.name, old.value, state.value, suffix)
        if self._on_state is not None:
            try:
                self._on_state(self.name, state, reason)
            except Exception:
                logger.exception("%s: on_state callback failed", self.name)

    def _fail(self, exc: Exception) -> None:
        gone = isinstance(exc, DeviceNotFound | PortDisconnected)
        logger.debug("%s: %s", self.name, exc)
        self._set_state(DeviceState.DISCONNECTED if gone else DeviceState.ERROR, str(exc))

    # --- the port thread --------------------------------------------------------------

    def _run(self) -> None:
        timing = self.timing
        backoff = Backoff(timing.reconnect_initial, timing.reconnect_max)
        while not self._stop.is_set():
            port = SerialPort(
                self.url, read_timeout=timing.read_timeout, write_timeout=timing.write_timeout
            )
            try:
                port.open()
            except DeviceError as exc:
                self._fail(exc)
                self._stop.wait(backoff.next())
                continue
            backoff.reset()
            try:
                self._serve(port)
            except DeviceError as exc:
                self._fail(exc)
            except Exception as exc:
                # A bug here must not end the thread: the device would be dead for good.
                logger.exception("%s: unexpected error, reconnecting", self.name)
                self._fail(exc)
            finally:
                with self._io_lock:
                    self._port = None
                    port.close()
            self._stop.wait(backoff.next())

    def _serve(self, port: SerialPort) -> None:
        with self._io_lock:
            self._port = port
            self._broken = None
            self._connected(port)
            if self._broken is not None:
                raise self._broken
        self._set_state(DeviceState.READY)
        while not self._stop.is_set():
            data = port.read()
            if self._broken is not None:
                raise self._broken
            now = time.monotonic()
            if data:
                self.last_received_at = now
                self._received(data, now)
            self._tick(port, now)

    def _write(self, data: bytes) -> bool:
        """Write on the current connection (caller holds ``_io_lock``); False if none.

        A failed write hands its error to the reader thread, which owns the one error path.
        """
        port = self._port
        if port is None or self._broken is not None:
            return False
        try:
            port.write(data)
        except DeviceError as exc:
            self._broken = exc
            port.cancel_read()
            return False
        return True

    # --- hooks for subclasses ---------------------------------------------------------

    def _connected(self, port: SerialPort) -> None:
        """Called with ``_io_lock`` held right after the port opened."""

    def _received(self, data: bytes, now: float) -> None:
        """Called on the port thread with each chunk read."""

    def _tick(self, port: SerialPort, now: float) -> None:
        """Called on the port thread after each read (data or timeout)."""

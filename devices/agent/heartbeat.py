"""The agent's heartbeat: round trips to the server that measure the station's clock.

At every connect the agent makes a few quick exchanges (the best of them is likely to
have a short, symmetric round trip), then one per heartbeat while connected. Each is a
``station.heartbeat`` call; the server answers with its clock (docs/station-protocol.md).
The offset itself is kept by :class:`devices.agent.clock.ClockOffset`.

Why the agent measures, and corrects its own timestamps: it is the only party that knows
which reading of its own clock a press got, and with which offset, so a press spooled for
an hour, an agent restart, a station clock stepped meanwhile or a reconnect to another
server process (several behind a proxy) change nothing; the servers keep no clock state.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from devices.agent import events
from devices.agent.clock import ClockOffset, ClockSample, measure
from devices.errors import DeviceError

logger = logging.getLogger(__name__)

#: Exchanges right after a connect.
CONNECT_ROUNDS = 3
#: An offset change larger than this (seconds) is logged at INFO.
LOG_CHANGE_SECONDS = 1.0

Call = Callable[[str, dict[str, Any], float], Any]


class ServerClock:
    """Measures the station clock's offset through ``call(event, payload, timeout)``.

    Thread-safe: the connection thread measures, device threads read :meth:`offset`.
    """

    def __init__(
        self,
        call: Call,
        *,
        timeout: float = 5.0,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._call = call
        self._timeout = timeout
        self._wall = wall
        self._monotonic = monotonic
        self._estimate = ClockOffset()
        self._lock = threading.Lock()
        self._checked = threading.Event()
        self._logged: float | None = None

    def offset(self, timeout: float = 0.0) -> float | None:
        """Seconds to add to the station clock to get the server's (None: not measured).

        With ``timeout``, first wait that long at most for the measurement after the
        current connection (a press spooled before any measurement waits for it).
        """
        if timeout > 0:
            self._checked.wait(timeout)
        with self._lock:
            return self._estimate.offset

    def best(self) -> ClockSample | None:
        with self._lock:
            return self._estimate.best

    def connected(self) -> None:
        """Right after a (re)connect, on the connection thread: measure a few times."""
        try:
            self.measure(CONNECT_ROUNDS)
        finally:
            self._checked.set()

    def disconnected(self) -> None:
        self._checked.clear()

    def measure(self, rounds: int = 1) -> bool:
        """Make ``rounds`` exchanges; False when the server did not answer one."""
        for _ in range(rounds):
            sample = self._exchange()
            if sample is None:
                return False
            with self._lock:
                self._estimate.add(sample)
                best = self._estimate.best
            self._log(best)
        return True

    def _exchange(self) -> ClockSample | None:
        best = self.best()
        payload = {
            "clock_offset": best.offset if best else None,
            "round_trip": best.round_trip if best else None,
        }
        sent_wall, sent_monotonic = self._wall(), self._monotonic()
        try:
            ack = self._call(events.HEARTBEAT, payload, self._timeout)
        except DeviceError as exc:  # a timeout (stalled link) or not connected
            logger.debug("heartbeat not answered: %s", exc)
            return None
        received_monotonic = self._monotonic()
        server_time = ack.get("server_time") if isinstance(ack, dict) else None
        if (
            isinstance(server_time, bool)
            or not isinstance(server_time, int | float)
            or not math.isfinite(server_time)
        ):
            # A server from before heartbeats: presses keep the station's own clock.
            logger.debug("heartbeat answer without server_time: %r", ack)
            return None
        return measure(sent_wall, sent_monotonic, float(server_time), received_monotonic)

    def _log(self, best: ClockSample | None) -> None:
        if best is None:
            return
        if self._logged is not None and abs(best.offset - self._logged) <= LOG_CHANGE_SECONDS:
            logger.debug(
                "clock offset %+.3f s (round trip %.1f ms)", best.offset, best.round_trip * 1e3
            )
            return
        self._logged = best.offset
        side = "behind" if best.offset > 0 else "ahead of"
        logger.info(
            "station clock is %.3f s %s the server's (round trip %.1f ms); press times are "
            "sent on the server's clock",
            abs(best.offset),
            side,
            best.round_trip * 1e3,
        )

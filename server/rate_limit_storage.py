"""Rate-limit counters in this process's memory, for flask-limiter without Redis.

limits' own ``memory://`` storage expires its counters from a timer thread that a hit
restarts whenever the last one has ended (every 10 ms under load): issuing a ticket then
paid for starting a thread (a greenlet under gevent) every few requests, measured at about
a tenth of the issue path's time. Here a counter expires when it is read, and expired
counters are swept at most once a minute, under one lock that is never held while waiting.

Only the fixed-window strategy (flask-limiter's default, the one the hall uses) is
supported. With ``TTHCC_REDIS_URL`` the limits are kept in Redis instead (several
processes count together).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import ClassVar

from limits.storage import Storage

#: The storage URI flask-limiter is given when no Redis is configured.
STORAGE_URI = "tthcc-memory://"
#: Seconds between two sweeps of expired counters (memory only: expiry is exact anyway).
SWEEP_EVERY = 60.0


class HallMemoryStorage(Storage):
    """Fixed-window counters: ``key → [expires at, count]``, expired on read."""

    STORAGE_SCHEME: ClassVar[list[str]] = ["tthcc-memory"]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        clock: Callable[[], float] = time.time,
        **options: float | str | bool,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._clock = clock
        self._counters: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._next_sweep = clock() + SWEEP_EVERY

    @property
    def base_exceptions(self) -> type[Exception]:  # pragma: no cover - nothing raises
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = self._clock()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            entry = self._counters.get(key)
            if entry is None or entry[0] <= now:
                entry = self._counters[key] = [now + expiry, 0]
            entry[1] += amount
            return int(entry[1])

    def get(self, key: str) -> int:
        entry = self._counters.get(key)
        return int(entry[1]) if entry is not None and entry[0] > self._clock() else 0

    def get_expiry(self, key: str) -> float:
        now = self._clock()
        entry = self._counters.get(key)
        return entry[0] if entry is not None and entry[0] > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            count = len(self._counters)
            self._counters.clear()
        return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)

    def _sweep(self, now: float) -> None:
        self._counters = {k: v for k, v in self._counters.items() if v[0] > now}
        self._next_sweep = now + SWEEP_EVERY

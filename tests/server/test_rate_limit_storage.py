"""The in-process rate-limit storage: fixed windows that expire when read, no timer thread."""

from __future__ import annotations

import threading

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from server.rate_limit_storage import STORAGE_URI, SWEEP_EVERY, HallMemoryStorage


def test_fixed_windows_count_expire_on_read_and_start_no_thread():
    now = [1000.0]
    threads = threading.active_count()
    storage = storage_from_string(STORAGE_URI, clock=lambda: now[0])
    assert isinstance(storage, HallMemoryStorage)
    limiter = FixedWindowRateLimiter(storage)
    three = parse("3 per minute")

    assert [limiter.hit(three, "10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(three, "10.0.0.2")  # another address counts apart
    assert limiter.get_window_stats(three, "10.0.0.1").remaining == 0
    assert limiter.get_window_stats(three, "10.0.0.1").reset_time == 1060.0

    now[0] += 59.9
    assert not limiter.hit(three, "10.0.0.1")  # still the same window
    now[0] += 0.1
    assert limiter.test(three, "10.0.0.1")  # the window ended: the count is gone when read
    assert limiter.hit(three, "10.0.0.1")
    assert storage.get(three.key_for("10.0.0.1")) == 1

    # Expired counters of addresses never seen again are dropped by the next sweep.
    now[0] += SWEEP_EVERY + 61
    limiter.hit(three, "10.0.0.3")
    assert set(storage._counters) == {three.key_for("10.0.0.3")}
    assert threading.active_count() == threads
    storage.clear(three.key_for("10.0.0.3"))
    assert storage.get(three.key_for("10.0.0.3")) == 0 and storage.reset() == 0

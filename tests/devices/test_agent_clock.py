"""The station clock's offset from round trips (devices/agent/clock.py, heartbeat.py).

A simulated link: the server's clock is the station's plus ``TRUE_OFFSET``; each exchange
spends ``up`` seconds going out and ``down`` seconds coming back.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devices.agent.clock import ClockOffset, ClockSample, measure, on_server_clock
from devices.agent.heartbeat import ServerClock
from devices.errors import DeviceTimeout

TRUE_OFFSET = 300.0  # the station's clock is five minutes behind the server's


def exchange(
    at: float, up: float, down: float, offset: float = TRUE_OFFSET, mono_base: float = -1000.0
) -> ClockSample:
    """One heartbeat sent at station wall time ``at`` (monotonic = wall + mono_base)."""
    server_time = at + up + offset
    return measure(at, at + mono_base, server_time, at + mono_base + up + down)


def test_a_symmetric_round_trip_gives_the_exact_offset():
    sample = exchange(1000.0, up=0.004, down=0.004)
    assert sample.offset == pytest.approx(TRUE_OFFSET)
    assert sample.round_trip == pytest.approx(0.008)


@pytest.mark.parametrize(("up", "down"), [(0.0, 0.2), (0.2, 0.0), (15.0, 0.001), (0.003, 9.0)])
def test_an_asymmetric_round_trip_is_off_by_at_most_half_of_it(up, down):
    sample = exchange(1000.0, up=up, down=down)
    assert sample.offset - TRUE_OFFSET == pytest.approx((up - down) / 2)
    assert abs(sample.offset - TRUE_OFFSET) <= sample.error_bound + 1e-9


def test_the_smallest_round_trip_wins_over_a_stalled_one():
    clock = ClockOffset()
    clock.add(exchange(1000.0, up=0.002, down=0.003))
    # A heartbeat through a link frozen for 15 s on the way out: delivery delay is not skew.
    clock.add(exchange(1030.0, up=15.0, down=0.002))
    assert clock.offset == pytest.approx(TRUE_OFFSET - 0.0005)
    assert clock.best.round_trip == pytest.approx(0.005)


def test_random_asymmetric_delays_stay_within_the_best_round_trip():
    rng = random.Random(10)
    clock = ClockOffset(keep=8)
    for i in range(200):
        up = rng.expovariate(1 / 0.05) + (rng.random() < 0.1) * rng.uniform(1, 20)
        down = rng.expovariate(1 / 0.05)
        clock.add(exchange(1000.0 + 30 * i, up=up, down=down))
        best = clock.best
        assert abs(clock.offset - TRUE_OFFSET) <= best.error_bound + 1e-9
    assert abs(clock.offset - TRUE_OFFSET) < 0.1


def test_only_recent_samples_are_kept():
    clock = ClockOffset(keep=3)
    clock.add(exchange(1000.0, up=0.001, down=0.001, offset=10.0))  # excellent, but old
    for i in range(3):
        clock.add(exchange(1030.0 + 30 * i, up=0.05, down=0.05, offset=12.0))
    assert clock.offset == pytest.approx(12.0)


def test_a_step_of_the_station_clock_drops_the_samples_before_it():
    clock = ClockOffset()
    clock.add(exchange(1000.0, up=0.001, down=0.001, offset=300.0))
    # chrony sets the station's clock right: wall jumps 300 s, monotonic does not.
    clock.add(exchange(1330.0, up=0.05, down=0.05, offset=0.0, mono_base=-1300.0))
    assert clock.offset == pytest.approx(0.0)


def test_no_sample_no_offset_and_times_stay_as_they_are():
    assert ClockOffset().offset is None
    moment = datetime(2026, 11, 27, 2, 15, tzinfo=UTC)
    assert on_server_clock(moment, None) == moment
    assert on_server_clock(moment, 300.0) == moment + timedelta(minutes=5)


class FakeLink:
    """``call`` for ServerClock over a simulated link, with fake clocks."""

    def __init__(self, delays: list[tuple[float, float]]) -> None:
        self.delays = list(delays)
        self.wall = 5000.0
        self.mono = 100.0
        self.payloads: list[dict] = []

    def call(self, event: str, payload: dict[str, Any], timeout: float) -> Any:
        assert event == "station.heartbeat"
        self.payloads.append(payload)
        up, down = self.delays.pop(0)
        if up + down > timeout:
            self.wall += timeout
            self.mono += timeout
            raise DeviceTimeout("no answer")
        server_time = self.wall + up + TRUE_OFFSET
        self.wall += up + down
        self.mono += up + down
        return {"ok": True, "server_time": server_time}


def test_the_connect_measures_a_few_times_and_keeps_the_best():
    link = FakeLink([(0.05, 0.01), (0.002, 0.002), (0.01, 0.2)])
    clock = ServerClock(link.call, wall=lambda: link.wall, monotonic=lambda: link.mono)
    assert clock.offset() is None
    clock.connected()
    assert clock.offset() == pytest.approx(TRUE_OFFSET)
    assert clock.best().round_trip == pytest.approx(0.004)
    # Each heartbeat tells the server the agent's current estimate.
    assert link.payloads[0] == {"clock_offset": None, "round_trip": None}
    assert link.payloads[2]["clock_offset"] == pytest.approx(TRUE_OFFSET)


def test_an_unanswered_heartbeat_changes_nothing():
    link = FakeLink([(0.002, 0.002), (20.0, 0.0)])
    clock = ServerClock(link.call, wall=lambda: link.wall, monotonic=lambda: link.mono)
    assert clock.measure() is True
    assert clock.measure() is False  # the link froze: timed out, no sample
    assert clock.offset() == pytest.approx(TRUE_OFFSET)


def test_a_server_without_heartbeats_leaves_the_clock_unmeasured():
    clock = ServerClock(lambda event, payload, timeout: None)
    clock.connected()
    assert clock.offset(timeout=0.1) is None

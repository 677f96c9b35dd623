"""The station's clock against the server's, measured from round trips. Pure.

The agent asks the server for its time (``station.heartbeat``) at every connect and then
on every heartbeat, NTP-style: it notes its own wall clock when it sends (``t0``), the
server answers with its clock (``ts``), and the agent notes when the answer came back
(round trip ``rtt``, measured on the monotonic clock so a wall-clock step during the
exchange cannot distort it). Assuming the answer spent as long coming back as the
question going out, the server read its clock at ``t0 + rtt / 2``:

    offset = ts - (t0 + rtt / 2)        (add it to the station clock: server time)

When the two directions are not equally slow the estimate is off by half their
difference, never more than ``rtt / 2``. So of the recent samples the one with the
smallest round trip is kept: a sample taken through a stalled link (a 15 s round trip)
can never displace one taken in 3 ms. The delay with which a *message* is delivered says
nothing about the clocks and is never used.

A step of the station's own wall clock (chrony/NTP setting it, an administrator) shows as
a change of ``wall - monotonic``; samples taken before the step are then dropped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

#: Recent samples kept; at one heartbeat every 30 s this is the last four minutes.
KEEP_SAMPLES = 8
#: A change of ``wall - monotonic`` larger than this is a step of the station's clock.
CLOCK_STEP_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class ClockSample:
    """One round trip: ``offset`` (seconds to add to the station clock to get the
    server's), its ``round_trip`` (seconds) and the station's ``wall - monotonic`` when it
    was taken (to notice a clock step)."""

    offset: float
    round_trip: float
    wall_minus_monotonic: float

    @property
    def error_bound(self) -> float:
        """The largest error the offset can have, whatever the asymmetry of the link."""
        return self.round_trip / 2


def measure(
    sent_wall: float, sent_monotonic: float, server_time: float, received_monotonic: float
) -> ClockSample:
    """A sample from one exchange: the station's wall and monotonic clocks when the
    question left, the server's wall clock in the answer, the monotonic clock when the
    answer came back (all in seconds)."""
    round_trip = max(0.0, received_monotonic - sent_monotonic)
    offset = server_time - (sent_wall + round_trip / 2)
    return ClockSample(offset, round_trip, sent_wall - sent_monotonic)


class ClockOffset:
    """The best offset of the recent samples (smallest round trip). Not thread-safe: the
    agent guards it with a lock."""

    def __init__(self, keep: int = KEEP_SAMPLES) -> None:
        self._samples: deque[ClockSample] = deque(maxlen=keep)

    def add(self, sample: ClockSample) -> None:
        """Keep ``sample``; drop older samples if the station's clock stepped since."""
        if any(
            abs(s.wall_minus_monotonic - sample.wall_minus_monotonic) > CLOCK_STEP_SECONDS
            for s in self._samples
        ):
            self._samples.clear()
        self._samples.append(sample)

    def clear(self) -> None:
        self._samples.clear()

    @property
    def best(self) -> ClockSample | None:
        """The kept sample with the smallest round trip (the latest among equals)."""
        best: ClockSample | None = None
        for sample in self._samples:
            if best is None or sample.round_trip <= best.round_trip:
                best = sample
        return best

    @property
    def offset(self) -> float | None:
        """Seconds to add to the station clock to get the server's; None before any
        sample."""
        best = self.best
        return None if best is None else best.offset


def on_server_clock(station_time: datetime, offset: float | None) -> datetime:
    """``station_time`` on the server's clock (unchanged when the offset is unknown)."""
    return station_time if offset is None else station_time + timedelta(seconds=offset)

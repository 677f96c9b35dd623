"""Payloads that station agents send on ``/station`` (docs/devices.md, "Station
events"), checked: a ``ValueError`` says what is wrong, for the agent's log.

Times are on the server's clock: the agent corrected its own with the offset it measured
from heartbeat round trips (docs/station-protocol.md). Nothing here looks at when a
message arrived.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RatingSubmission:
    key: str
    counter_id: int
    raw_key: str
    level: int
    pressed_at: datetime
    scale: int | None
    criterion: str
    clock_offset: float | None = None


def parse_rating_submission(data: Any) -> RatingSubmission:
    """A ``rating.submit`` payload, checked; ValueError says what is wrong.

    ``pressed_at`` is the press on the server's clock: the agent corrected its own clock
    with the offset it measured from round trips (``station.heartbeat``). It is taken as
    it is, however late it is delivered: the delay of a delivery says nothing about the
    clocks (a stalled link, a busy worker), so it is never used to move a press. The
    ``sent_at`` of older agents is ignored for that reason.
    """
    if not isinstance(data, dict):
        raise ValueError("rating.submit needs an object")
    key, counter_id, raw_key, level = (
        data.get(k) for k in ("key", "counter_id", "raw_key", "level")
    )
    if not isinstance(key, str) or not 8 <= len(key) <= 64:
        raise ValueError("key (the idempotency key) must be a string of 8-64 characters")
    if isinstance(counter_id, bool) or not isinstance(counter_id, int):
        raise ValueError("counter_id must be the server's integer counter id")
    if not isinstance(raw_key, str) or not 1 <= len(raw_key) <= 16:
        raise ValueError("raw_key must be a string of 1-16 characters")
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
        raise ValueError("level must be an integer 1-5")
    pressed_at = _aware(data.get("pressed_at"), "pressed_at")
    clock_offset = _clock_offset(data)
    scale = data.get("scale")
    if scale is not None and (isinstance(scale, bool) or scale not in (3, 4, 5)):
        raise ValueError("scale must be 3, 4 or 5")
    criterion = data.get("criterion") or "overall"
    if not isinstance(criterion, str):
        raise ValueError("criterion must be a string")
    return RatingSubmission(
        key, counter_id, raw_key, level, pressed_at, scale, criterion, clock_offset
    )


def _clock_offset(data: dict[str, Any]) -> float | None:
    """The agent's measured clock offset (seconds), or None when it has none."""
    offset = data.get("clock_offset")
    if offset is None:
        return None
    if isinstance(offset, bool) or not isinstance(offset, int | float) or not math.isfinite(offset):
        raise ValueError("clock_offset must be a number of seconds or null")
    return float(offset)


def _aware(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an ISO 8601 time with a zone")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} is not an ISO 8601 time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"{name} must carry a time zone")
    return moment


def keypad_pressed_at(data: dict[str, Any]) -> datetime | None:
    """When a keypad key was pressed, on the server's clock; None when that is unknown
    (an agent that has not measured its clock yet, or one from before clock offsets)."""
    if data.get("pressed_at") is None or _clock_offset(data) is None:
        return None
    return _aware(data["pressed_at"], "pressed_at")

"""Satisfaction ratings: which ticket a press rates, and which press counts. Pure rules.

A citizen presses a key on the counter's pad after (or while) being served. The press
rates the ticket of the counter's latest event before the press:

- the ticket the counter finished last, if it finished at most ``window_seconds`` before
  the press, unless another ticket was called or started at the counter after that finish
  (pressing Next finishes the previous ticket and calls the next one at the same instant:
  that tie goes to the finished ticket, whose citizen is the one walking away);
- otherwise the ticket at the counter at the time of the press (called or serving);
- otherwise none: the press is kept as an unattached counter rating.

One rating per ticket and criterion: a second press within ``replace_seconds`` of the
ticket's first press replaces the counted one (the citizen changed their mind); any later
press is kept as an unattached counter rating. Nothing a citizen pressed is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

#: Labels of the ministries' 5-level survey scale, by level.
LEVEL_LABELS: Mapping[int, str] = {
    5: "Rất hài lòng",
    4: "Hài lòng",
    3: "Bình thường",
    2: "Không hài lòng",
    1: "Rất không hài lòng",
}
#: Keys a centre's pads may have.
SCALES = (3, 4, 5)
#: What a pad rates; web forms may rate more criteria (on time, attitude, visits…).
DEFAULT_CRITERION = "overall"
CRITERION_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
SOURCES = ("pad", "web")
#: Shown by the counter page and the display after a rating.
THANK_YOU = "Cảm ơn quý khách đã đánh giá!"


@dataclass(frozen=True)
class RatingPolicy:
    """A centre's rating settings (``Centre.settings``); junk values fall back to defaults."""

    #: Keys on the centre's pads (3, 4 or 5); sent to station agents.
    scale: int = 5
    #: A second press on the same ticket within this many seconds of its first replaces it.
    replace_seconds: float = 10.0
    #: How long after a ticket is finished a press may still rate it.
    window_seconds: float = 120.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> RatingPolicy:
        settings = settings or {}
        default = cls()
        scale = settings.get("rating_scale", default.scale)
        if isinstance(scale, bool) or scale not in SCALES:
            scale = default.scale
        return cls(
            scale=scale,
            replace_seconds=_seconds(
                settings.get("rating_replace_seconds"), default.replace_seconds
            ),
            window_seconds=_seconds(settings.get("rating_window_seconds"), default.window_seconds),
        )


def _seconds(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return default
    return float(value)


@dataclass(frozen=True)
class ServedTicket:
    """What the rules need of a ticket that was at the counter."""

    id: int
    called_at: datetime | None
    started_at: datetime | None = None
    finished_at: datetime | None = None


def rated_ticket(
    tickets: Iterable[ServedTicket], at: datetime, window_seconds: float
) -> int | None:
    """The id of the ticket a press at ``at`` rates (see the module docstring), or None."""
    window = timedelta(seconds=window_seconds)
    finished: ServedTicket | None = None
    present: ServedTicket | None = None
    present_since: datetime | None = None
    for ticket in tickets:
        if ticket.called_at is None or ticket.called_at > at:
            continue
        if ticket.finished_at is not None and ticket.finished_at <= at:
            if at - ticket.finished_at <= window and (
                finished is None or _later(ticket.finished_at, ticket.id, finished)
            ):
                finished = ticket
            continue
        # At the counter at `at`: its latest event is the start, else the call.
        since = ticket.started_at if ticket.started_at and ticket.started_at <= at else None
        since = since or ticket.called_at
        if present_since is None or since > present_since:
            present, present_since = ticket, since
    if finished is not None and (present_since is None or present_since <= finished.finished_at):
        return finished.id
    return present.id if present is not None else None


def _later(finished_at: datetime, ticket_id: int, than: ServedTicket) -> bool:
    assert than.finished_at is not None
    return (finished_at, ticket_id) > (than.finished_at, than.id)


class Outcome(StrEnum):
    """What becomes of a press on a ticket."""

    ATTACHED = "attached"  #: the ticket's first rating
    REPLACES = "replaces"  #: within the replace window: this press now counts
    REPLACED = "replaced"  #: within the window but pressed before the counted one
    UNATTACHED = "unattached"  #: kept as a counter rating, not the ticket's


def outcome(
    at: datetime,
    *,
    first_pressed_at: datetime | None,
    counted_pressed_at: datetime | None,
    replace_seconds: float,
) -> Outcome:
    """Decide a press at ``at`` on a ticket whose first press (if any) was at
    ``first_pressed_at`` and whose counted rating was pressed at ``counted_pressed_at``."""
    if first_pressed_at is None or counted_pressed_at is None:
        return Outcome.ATTACHED
    if abs(at - first_pressed_at) > timedelta(seconds=replace_seconds):
        return Outcome.UNATTACHED
    # Deliveries can arrive out of order (a web rating and a spooled press): the press
    # made later is the citizen's last word.
    return Outcome.REPLACES if at >= counted_pressed_at else Outcome.REPLACED


def valid_criterion(criterion: str) -> bool:
    return bool(CRITERION_PATTERN.match(criterion))

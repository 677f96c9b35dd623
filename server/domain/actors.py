"""Who did something: a staff member, a station, or the system (recorded in every trail)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who did it: a staff member, a station, or the system."""

    name: str
    staff_id: int | None = None


SYSTEM = Actor("system")

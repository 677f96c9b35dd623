"""Which ticket a counter gets next.

A counter serves its services in a set order; within a service the policy decides between
the priority line and the normal line, then the earliest issue time wins:
- ``strict``: any waiting priority ticket goes first;
- ``interleave``: after every N normal tickets one priority ticket, so neither line starves.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PriorityPolicy(StrEnum):
    STRICT = "strict"
    INTERLEAVE = "interleave"


class Line(StrEnum):
    PRIORITY = "priority"
    NORMAL = "normal"


@dataclass(frozen=True)
class ServiceQueueState:
    """What the choice needs to know about one service's lines right now."""

    policy: PriorityPolicy
    interleave_every: int
    #: Normal tickets called since the last priority one; None when no priority ticket
    #: was called yet today (then a waiting priority ticket is due at once).
    normal_since_priority: int | None
    priority_waiting: bool
    normal_waiting: bool


def choose_line(state: ServiceQueueState) -> Line | None:
    """The line to take the next ticket from, or None when nobody waits for this service."""
    if not state.priority_waiting and not state.normal_waiting:
        return None
    if not state.priority_waiting:
        return Line.NORMAL
    if not state.normal_waiting:
        return Line.PRIORITY
    if state.policy is PriorityPolicy.STRICT:
        return Line.PRIORITY
    if state.normal_since_priority is None:
        return Line.PRIORITY
    every = max(1, state.interleave_every)
    return Line.PRIORITY if state.normal_since_priority >= every else Line.NORMAL


def after_call(normal_since_priority: int | None, line: Line) -> int | None:
    """The interleave counter after a ticket from `line` was called."""
    if line is Line.PRIORITY:
        return 0
    return None if normal_since_priority is None else normal_since_priority + 1

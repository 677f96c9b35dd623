"""Typed domain errors, each with a Vietnamese message for staff and an English one for logs/API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """Base of every rule violation. `code` is stable and machine-readable; `details` are
    more stable fields for the API's JSON error (documented per code)."""

    code = "domain_error"
    http_status = 409

    def __init__(
        self, message_vi: str, message_en: str, *, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en
        self.details: dict[str, Any] = dict(details or {})


class IllegalTransition(DomainError):
    code = "illegal_transition"


class NoTicketWaiting(DomainError):
    code = "no_ticket_waiting"


class NumberRangeExhausted(DomainError):
    """Every number of a service's range is held today (503: try again in a while)."""

    code = "number_range_exhausted"
    http_status = 503


class CounterNotOpen(DomainError):
    code = "counter_not_open"


class CounterBusy(DomainError):
    code = "counter_busy"


class CurrentNotStarted(DomainError):
    """The counter calls again while its current citizen was called and never started:
    whether they were served or absent is the counter's to say, not a guess."""

    code = "current_not_started"


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class InvalidRequest(DomainError):
    code = "invalid_request"
    http_status = 422

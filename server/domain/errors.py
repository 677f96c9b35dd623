"""Typed domain errors, each with a Vietnamese message for staff and an English one for logs/API."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule violation. `code` is stable and machine-readable."""

    code = "domain_error"
    http_status = 409

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


class IllegalTransition(DomainError):
    code = "illegal_transition"


class NoTicketWaiting(DomainError):
    code = "no_ticket_waiting"


class NumberRangeExhausted(DomainError):
    code = "number_range_exhausted"
    http_status = 503


class CounterNotOpen(DomainError):
    code = "counter_not_open"


class CounterBusy(DomainError):
    code = "counter_busy"

"""Capped exponential back-off for reconnects and retries."""

from __future__ import annotations


class Backoff:
    """Delays ``initial``, ``2*initial``, … capped at ``maximum``; :meth:`reset` after success.

    No jitter: each port or spool has one client, so there is no herd to spread out.
    """

    def __init__(self, initial: float = 0.5, maximum: float = 30.0, factor: float = 2.0):
        if initial <= 0 or maximum < initial or factor < 1:
            raise ValueError("back-off needs 0 < initial <= maximum and factor >= 1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self._next = initial

    def next(self) -> float:
        """The delay to wait now; the following one will be longer, up to the cap."""
        delay = self._next
        self._next = min(self._next * self.factor, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.initial

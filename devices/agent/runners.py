"""How devices plug into the agent: runners, the context they get, and the registry.

A *runner* owns one device (or one port shared by several devices): it starts its own
thread in ``start()`` and stops it in an idempotent ``close()``. A *runner factory* turns
the station config into runners; it sees the whole config so that, for example, several
rating pads on one RS-485 bus can share one runner.

The printer factory is built in. Other packages add theirs with
:func:`register_runner_factory`; the agent imports :data:`PLUGIN_MODULES` at start-up so
that, e.g., ``devices/serial/runners.py`` can register the rating pads, LED boards and
keypads without the agent importing serial code it does not know about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from devices.config import StationConfig

#: Modules imported by the agent at start-up, if present, to register more factories.
PLUGIN_MODULES = ("devices.serial.runners", "devices.scanner.runners")


@runtime_checkable
class DeviceRunner(Protocol):
    """One device (or one shared port) driven by the agent."""

    name: str
    kind: str  #: "printer", "ratingpad", "ledboard", "keypad" or "scanner" (device.status)

    def start(self) -> None:
        """Start the runner's thread; must return at once."""

    def close(self) -> None:
        """Stop the thread and release the device; idempotent."""


class AgentContext(Protocol):
    """What the agent offers runners; every method may be called from any thread."""

    spool_dir: Path

    def emit(self, event: str, payload: dict[str, Any]) -> bool:
        """Send an event to the server; False when not connected (the event is dropped)."""

    def call(self, event: str, payload: dict[str, Any], timeout: float = 5.0) -> Any:
        """Send an event and wait for the server's acknowledgement; return its value.

        Raises :class:`~devices.errors.DeviceError` when not connected and
        :class:`~devices.errors.DeviceTimeout` when no answer comes in time.
        """

    def clock_offset(self, timeout: float = 0.0) -> float | None:
        """Seconds to add to the station's clock to get the server's (measured from round
        trips, docs/station-protocol.md); None until measured. ``timeout``: wait that long
        at most for the measurement made after a connect."""

    def report_status(self, device: str, kind: str, state: str, reason: str | None) -> None:
        """Tell the server a device's state (``ready``/``error``/``disconnected``); the
        agent re-sends the latest state of every device after each reconnect."""

    def on(self, event: str, handler: Callable[[Any], None]) -> None:
        """Call ``handler(payload)`` for each ``event`` the server sends on ``/station``."""

    def deliver(self, event: str, payload: Any) -> None:
        """Hand ``payload`` to the handlers of ``event`` registered with :meth:`on`, as if
        the server had sent it (one runner telling another what happened locally)."""

    def on_connect(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every (re)connection to the server."""


RunnerFactory = Callable[[StationConfig, AgentContext], Iterable[DeviceRunner]]

_FACTORIES: dict[str, RunnerFactory] = {}


def register_runner_factory(name: str, factory: RunnerFactory) -> None:
    """Register (or replace) the factory called ``name`` (e.g. ``"ratingpads"``)."""
    _FACTORIES[name] = factory


def runner_factories() -> dict[str, RunnerFactory]:
    """A copy of the registry, for the agent to build its runners from."""
    return dict(_FACTORIES)

"""A dependency-free sd_notify client: tell systemd we are ready, alive, or what we do.

Every function is a no-op (returning False) when ``$NOTIFY_SOCKET`` is unset, so the
agent runs the same under systemd, in a terminal and in tests.
"""

from __future__ import annotations

import logging
import os
import socket

logger = logging.getLogger(__name__)


def _address(value: str) -> str | bytes:
    # "@name" is a Linux abstract-namespace socket: the real address starts with NUL.
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    return value


def notify(message: str) -> bool:
    """Send one sd_notify datagram (e.g. ``"READY=1"``); True when it was sent."""
    target = os.environ.get("NOTIFY_SOCKET")
    if not target:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(_address(target))
            sock.sendall(message.encode())
    except OSError as exc:
        # Not fatal: systemd will time us out and restart us, which is what it is for.
        logger.warning("sd_notify to %s failed: %s", target, exc)
        return False
    return True


def ready() -> bool:
    """Startup finished (``Type=notify`` units wait for this)."""
    return notify("READY=1")


def watchdog_ping() -> bool:
    """We are alive; call from the real health loop at least every ``WatchdogSec/2``."""
    return notify("WATCHDOG=1")


def status(text: str) -> bool:
    """One line shown by ``systemctl status``."""
    return notify("STATUS=" + text.replace("\n", " "))


def stopping() -> bool:
    """Shutdown has begun."""
    return notify("STOPPING=1")


def watchdog_interval() -> float | None:
    """Seconds between pings systemd expects (half of ``WatchdogSec``), or None if off."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 2_000_000
    except ValueError:
        return None

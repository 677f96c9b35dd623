"""Keep libraries the gunicorn worker never uses out of its memory.

``import socketio`` (done by flask-socketio) imports every part of python-socketio, the
Socket.IO *client* and the Redis message queue included:

* engineio's client imports ``requests`` (with urllib3, charset_normalizer, idna) and
  ``websocket`` (websocket-client). The server worker is never a Socket.IO client: the
  counters agent and the simulated devices are other processes.
* socketio's Redis managers import ``redis`` (about 60 modules). The worker needs Redis only
  with ``TTHCC_REDIS_URL`` set (Socket.IO message queue, flask-limiter storage).

Together they were about 12 MiB of the worker's resident memory (measured in a gevent
process after ``import server.wsgi``: 89 MiB, 77 MiB without them). `import_socketio`
imports flask-socketio with those libraries hidden, then gives engineio's client stand-ins
that import ``requests`` and ``websocket`` on first use, so a Socket.IO client made in this
process still works. Redis is hidden only when no Redis URL is configured: socketio's
RedisManager then believes redis is not installed, but nothing builds one
(``message_queue`` is None and flask-limiter counts in memory).

Only server/wsgi.py calls this, before anything imports flask-socketio; when flask-socketio
is already imported (tests, ``tthcc run --dev``) it changes nothing.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

#: Imported by engineio.client at module level, used only by a Socket.IO client.
CLIENT_LIBRARIES = ("requests", "websocket")
#: Imported by socketio's (async) Redis managers, used only with a Redis message queue.
REDIS_LIBRARIES = ("redis",)


class ImportOnUse:
    """Stands for module `name` in `owner`'s globals; imports it on the first attribute
    read and puts the real module in its place."""

    __slots__ = ("_name", "_owner")

    def __init__(self, owner: ModuleType, name: str) -> None:
        self._owner = owner
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self._name)
        setattr(self._owner, self._name, module)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<imported on first use: {self._name}>"


@contextmanager
def hidden(names: tuple[str, ...]) -> Iterator[list[str]]:
    """While inside, ``import name`` raises ImportError for each of `names` not imported
    yet (the ``sys.modules[name] = None`` convention); afterwards imports work again.
    Yields the names actually hidden."""
    hide = [name for name in names if name not in sys.modules]
    for name in hide:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield hide
    finally:
        for name in hide:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def import_socketio(*, redis: bool) -> None:
    """Import flask_socketio without the Socket.IO client libraries and, unless `redis`,
    without redis (see the module docstring)."""
    if "socketio" in sys.modules:
        return
    names = CLIENT_LIBRARIES + (() if redis else REDIS_LIBRARIES)
    installed = tuple(name for name in names if importlib.util.find_spec(name) is not None)
    with hidden(installed) as hid:
        import flask_socketio  # noqa: F401
    import engineio.client

    for name in CLIENT_LIBRARIES:
        if name in hid and getattr(engineio.client, name, None) is None:
            setattr(engineio.client, name, ImportOnUse(engineio.client, name))

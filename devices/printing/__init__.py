"""Ticket printing: CP1258 text and raster layouts, transports, simulators, previews.

Importing this package first makes python-escpos safe to import: python-escpos writes a
capabilities pickle into a fresh ``mkdtemp()`` folder per process unless
``ESCPOS_CAPABILITIES_PICKLE_DIR`` is set (we set it, respecting an existing value), and
calls ``logging.basicConfig()`` at import, which would silently turn the host
application's own ``basicConfig`` into a no-op (we undo it). Import this package before
anything imports ``escpos``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path


def _capabilities_cache_dir() -> Path:
    """Where python-escpos may keep its pickle: systemd's CacheDirectory, the source
    checkout's ``var/`` (git-ignored), else the user's cache folder."""
    if cache := os.environ.get("CACHE_DIRECTORY"):
        return Path(cache.split(":")[0]) / "escpos"
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():
        return checkout / "var" / "cache" / "escpos"
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg) / "tthcc" / "escpos"


def _prepare_escpos() -> None:
    if not os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR"):
        folder = _capabilities_cache_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(folder)
        except OSError:
            pass  # read-only system: python-escpos falls back to a temporary folder
    # python-escpos calls mkdtemp() as the default of environ.get(), so even with the
    # variable set it makes an empty folder on every import: make it in the cache folder
    # and remove it, instead of leaving one in /tmp per process.
    cache = Path(os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR") or "/nonexistent")
    ours = cache.is_dir()
    before = set(cache.iterdir()) if ours else set()
    root = logging.getLogger()
    handlers = list(root.handlers)
    saved_tempdir = tempfile.tempdir
    if ours:
        tempfile.tempdir = str(cache)
    try:
        import escpos.capabilities  # noqa: F401  (the import with the side effects)
    finally:
        tempfile.tempdir = saved_tempdir
    if ours:
        for path in set(cache.iterdir()) - before:
            if path.is_dir() and path.name.startswith("tmp"):
                with contextlib.suppress(OSError):
                    path.rmdir()  # only succeeds when empty: never removes real data
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)


_prepare_escpos()

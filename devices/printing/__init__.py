"""Ticket printing: CP1258 text and raster layouts, transports, simulators, previews.

Importing this package first makes python-escpos safe to import: python-escpos writes a
capabilities pickle into a fresh ``mkdtemp()`` folder per process unless
``ESCPOS_CAPABILITIES_PICKLE_DIR`` is set, and calls ``logging.basicConfig()`` at import,
which would silently turn the host application's own ``basicConfig`` into a no-op.
"""

from __future__ import annotations

import logging
import os
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
    root = logging.getLogger()
    handlers = list(root.handlers)
    import escpos.capabilities  # noqa: F401  (the import with the side effects)

    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)


_prepare_escpos()

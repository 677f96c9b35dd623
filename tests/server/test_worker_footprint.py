"""The gunicorn worker's memory at start: `import server.wsgi` must not import what the
worker needs only for a rare request, or never.

Every module below costs the worker resident memory for as long as it runs (the budget is
100 MiB after a day of 10,000 tickets, `benchmarks/hall.py rss`). A new top-level import
of one of them shows up here, not only in the benchmark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NOT_AT_START = (
    # python-socketio's client and Redis queue: server/lean_imports.py
    "requests",
    "urllib3",
    "charset_normalizer",
    "websocket",
    "redis",
    # report exports, dossier slips, ticket images, printer drivers: imported where used
    "openpyxl",
    "fpdf",
    "pypdf",
    "PIL",
    "qrcode",
    "escpos",
    "usb",
    "serial",
    # migrations run before the server starts (tthcc db upgrade)
    "alembic",
    "mako",
    # lunar dates: only for a year without a loaded schedule
    "lunar_vn",
    # the PostgreSQL driver, with a SQLite URL
    "psycopg",
)


def import_wsgi(tmp_path: Path, code: str = "", **env: str) -> dict:
    """Run `import server.wsgi` in a fresh interpreter, then `code`; return what it printed
    (JSON) merged with the heavy modules that were imported."""
    script = (
        "import json, sys\n"
        "import server.wsgi\n"
        f"out = {{'loaded': [m for m in {NOT_AT_START!r} if m in sys.modules]}}\n"
        f"{code}\n"
        "print(json.dumps(out))\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TTHCC_")}
    environ.update(
        TTHCC_INSTANCE_PATH=str(tmp_path / "instance"),
        TTHCC_DATABASE_URL=f"sqlite:///{tmp_path / 'tthcc.sqlite3'}",
        TTHCC_SECRET_KEY="footprint-test",
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_worker_start_imports_none_of_the_heavy_modules(tmp_path):
    out = import_wsgi(tmp_path)
    assert out["loaded"] == []


def test_socketio_client_still_works_in_the_worker(tmp_path):
    """engineio's client gets requests and websocket-client on first use."""
    out = import_wsgi(
        tmp_path,
        "import engineio.client, socketio\n"
        "before = 'requests' in sys.modules\n"
        "client = socketio.Client()\n"
        "session = engineio.client.requests.Session()\n"
        "exc = engineio.client.websocket.WebSocketException\n"
        "out.update(before=before, real=engineio.client.requests is sys.modules['requests'],\n"
        "    session=type(session).__module__, exc=exc.__module__)\n",
    )
    assert out["before"] is False
    assert out["real"] is True
    assert out["session"] == "requests.sessions"
    assert out["exc"].startswith("websocket.")


def test_with_a_redis_url_the_worker_has_redis(tmp_path):
    """With TTHCC_REDIS_URL the Socket.IO message queue is Redis: redis is imported (no
    connection is made at start)."""
    out = import_wsgi(
        tmp_path,
        "from server.app import socketio_of\n"
        "import socketio.redis_manager as rm\n"
        "manager = socketio_of(server.wsgi.app).server.manager\n"
        "out.update(manager=type(manager).__name__, redis=rm.redis is sys.modules['redis'])\n",
        TTHCC_REDIS_URL="redis://127.0.0.1:6379/15",
    )
    assert "redis" in out["loaded"]
    assert out["manager"] == "RedisManager"
    assert out["redis"] is True

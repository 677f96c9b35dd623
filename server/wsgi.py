"""WSGI entry for gunicorn (gevent worker, one worker): ``server.wsgi:app``.

The schema is migrated before the server starts (`tthcc run`, or `ExecStartPre=tthcc db
upgrade` in the systemd unit), not here: Alembic and its templates would stay in the
worker's memory for nothing. For the same reason flask-socketio is imported first, without
the Socket.IO client libraries and (with no Redis URL) without redis: see
server/lean_imports.py.
"""

from server.config import Config
from server.lean_imports import import_socketio

config = Config.from_env(async_mode="gevent")
import_socketio(redis=bool(config.redis_url))

from server.app import create_app  # noqa: E402  (after import_socketio)

app = create_app(config)
if config.sqlite_checkpoint_ms > 0:  # SQLite only: the WAL's fsync out of the requests
    app.extensions["tthcc_db"].checkpoint_in_background(config.sqlite_checkpoint_ms / 1000)

from server.notify.delivery import start_inline_worker  # noqa: E402

start_inline_worker(app)  # the served process delivers notifications (not CLI commands)

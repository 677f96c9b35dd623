"""WSGI entry for gunicorn (gevent worker, one worker): ``server.wsgi:app``.

The schema is migrated before the server starts (`tthcc run`, or `ExecStartPre=tthcc db
upgrade` in the systemd unit), not here: Alembic and its templates would stay in the
worker's memory for nothing.
"""

from server.app import create_app
from server.config import Config

app = create_app(Config.from_env(async_mode="gevent"))

"""WSGI entry for gunicorn (gevent worker, one worker): ``server.wsgi:app``.

Start-up brings the schema up to date first; concurrent starts wait for each other.
"""

from server.app import create_app
from server.config import Config
from server.migrate import upgrade

app = create_app(Config.from_env(async_mode="gevent"))
upgrade(app.extensions["tthcc_db"].engine)

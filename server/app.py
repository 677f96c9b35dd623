"""The application factory: one Flask app serving the API, the pages and Socket.IO."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask_socketio import SocketIO

from server.config import Config
from server.db import Database
from server.extensions import login_manager

if TYPE_CHECKING:
    from flask_smorest import Api

logger = logging.getLogger(__name__)


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    config.instance_path.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__, instance_path=str(config.instance_path), instance_relative_config=False)
    app.config.update(
        TTHCC=config,
        SECRET_KEY=config.ensure_secret_key(),
        TESTING=config.testing,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=config.session_lifetime_seconds),
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False  # Vietnamese stays readable in JSON

    from server.input_guard import init_input_guard

    init_input_guard(app)  # before any route: it replaces the <int:…> converter
    from server.security_headers import init_security_headers

    init_security_headers(app)

    database = Database(config.database_url)
    if config.sync_token and not database.is_sqlite:
        from server.sync.capture import serialise_box_writers

        serialise_box_writers(database.engine)  # a PostgreSQL centre box (docs/sync.md)
    app.extensions["tthcc_db"] = database

    @app.teardown_appcontext
    def _remove_session(exc: BaseException | None) -> None:
        database.session.remove()

    _init_login(app, database)

    from server.api import init_api

    register_blueprints(app, init_api(app))
    from server.api.security import init_hardening

    init_hardening(app)  # after every view: it wraps login and look-up endpoints

    queue_options: dict[str, Any] = {}
    if config.redis_url:
        from server.realtime_queue import message_queue

        queue_options["client_manager"] = message_queue(config)
    socketio = SocketIO(
        app,
        async_mode=config.async_mode,
        transports=config.transports,
        ping_interval=10,
        ping_timeout=10,
        **queue_options,
    )
    from server.realtime import init_realtime
    from server.realtime_presence import StationPresence

    init_realtime(socketio, database, config.node_name, StationPresence(config))
    if config.redis_url:
        from server.realtime_queue import start_queue_watch

        start_queue_watch(app, socketio, database)
    if config.proxy_hops > 0:
        # Outermost, so Socket.IO's origin check and every view see the client's address
        # and scheme, not nginx's.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = config.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app


def register_blueprints(app: Flask, api: Api) -> None:
    """Every blueprint, pages and API, by audience, from the one list (and nowhere else)."""
    import importlib

    from server.access_policy import BLUEPRINTS

    for mount in BLUEPRINTS:
        blueprint = getattr(importlib.import_module(mount.module), mount.attr)
        (api if mount.api else app).register_blueprint(blueprint, url_prefix=mount.url_prefix)


def _init_login(app: Flask, database: Database) -> None:
    from server.api.security import load_user_from_request, user_from_session

    login_manager.init_app(app)
    login_manager.user_loader(user_from_session)
    login_manager.request_loader(load_user_from_request)


def socketio_of(app: Flask) -> SocketIO:
    return app.extensions["socketio"]

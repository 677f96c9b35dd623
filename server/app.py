"""The application factory: one Flask app serving the API, the pages and Socket.IO."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from flask_socketio import SocketIO

from server.config import Config
from server.db import Database
from server.extensions import login_manager

logger = logging.getLogger(__name__)


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    config.instance_path.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__, instance_path=str(config.instance_path), instance_relative_config=False)
    app.config.update(
        TTHCC=config,
        SECRET_KEY=config.ensure_secret_key(),
        TESTING=config.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=config.session_lifetime_seconds),
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False  # Vietnamese stays readable in JSON

    database = Database(config.database_url)
    app.extensions["tthcc_db"] = database

    @app.teardown_appcontext
    def _remove_session(exc: BaseException | None) -> None:
        database.session.remove()

    _init_login(app, database)

    from server.api import init_api

    init_api(app)

    from display.blueprint import bp as display_bp
    from kiosk.blueprint import bp as kiosk_bp
    from server.web import bp as web_bp

    app.register_blueprint(web_bp)
    from server.web_admin import bp as web_admin_bp

    app.register_blueprint(web_admin_bp)
    app.register_blueprint(kiosk_bp, url_prefix="/kiosk")
    app.register_blueprint(display_bp, url_prefix="/display")
    app.register_blueprint(__import__("server.web_public").web_public.bp)
    __import__("server.web_supervisor").web_supervisor.register(app)

    socketio = SocketIO(
        app,
        async_mode=config.async_mode,
        message_queue=config.redis_url or None,
        channel=config.socketio_channel,
        ping_interval=10,
        ping_timeout=10,
    )
    from server.realtime import init_realtime

    init_realtime(socketio, database)
    return app


def _init_login(app: Flask, database: Database) -> None:
    from server.api.security import load_user_from_request
    from server.models import User

    login_manager.init_app(app)

    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        user = database.session.get(User, int(user_id))
        return user if user is not None and user.active else None

    login_manager.request_loader(load_user_from_request)


def socketio_of(app: Flask) -> SocketIO:
    return app.extensions["socketio"]

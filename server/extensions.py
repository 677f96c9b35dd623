"""Extension singletons, bound to the app in create_app()."""

from __future__ import annotations

from flask_login import LoginManager
from flask_socketio import SocketIO

socketio = SocketIO()
login_manager = LoginManager()

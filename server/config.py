"""Typed configuration: defaults, overridden by environment variables prefixed TTHCC_."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Config:
    #: Folder for the SQLite file, printed-ticket previews, voice clips and the secret key.
    instance_path: Path = field(default_factory=lambda: PROJECT_ROOT / "var")
    #: SQLAlchemy URL. Default: SQLite file ``tthcc.sqlite3`` in the instance folder.
    database_url: str = ""
    #: Redis URL for Socket.IO's message queue; needed only with more than one process.
    redis_url: str = ""
    #: Redis channel of the Socket.IO message queue (separate deployments on one Redis).
    socketio_channel: str = "tthcc"
    #: Signs session cookies. Default: generated once and kept in the instance folder.
    secret_key: str = ""
    #: Socket.IO async mode: "gevent" under gunicorn, "threading" in tests.
    async_mode: str = "threading"
    #: Public base URL printed in ticket QR codes (where a phone can follow the queue).
    public_url: str = "http://127.0.0.1:8000"
    #: Centre shown when a page is opened without ?centre= (the single-box default).
    default_centre_code: str = "BN-KINHBAC"
    #: Seconds a staff login session lasts without activity.
    session_lifetime_seconds: int = 8 * 3600
    testing: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Config:
        """Build from TTHCC_* variables (TTHCC_DATABASE_URL, TTHCC_REDIS_URL, …)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"TTHCC_{f.name.upper()}")
            if raw is None:
                continue
            if f.type in ("bool",):
                values[f.name] = raw.lower() in {"1", "true", "yes", "on"}
            elif f.type in ("int",):
                values[f.name] = int(raw)
            elif f.name == "instance_path":
                values[f.name] = Path(raw)
            else:
                values[f.name] = raw
        values.update(overrides)
        config = cls(**values)
        config.instance_path = Path(config.instance_path).resolve()
        if not config.database_url:
            config.database_url = f"sqlite:///{config.instance_path / 'tthcc.sqlite3'}"
        return config

    def ensure_secret_key(self) -> str:
        """The configured key, or one generated on first start and kept on disk (0600)."""
        if self.secret_key:
            return self.secret_key
        self.instance_path.mkdir(parents=True, exist_ok=True)
        path = self.instance_path / "secret_key"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use theirs
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        self.secret_key = path.read_text().strip()
        return self.secret_key

"""Typed configuration: defaults, overridden by environment variables prefixed TTHCC_."""

from __future__ import annotations

import functools
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
    #: Engine.IO transports this process accepts, comma-separated. A province hub with
    #: several processes behind nginx takes "websocket" only: a WebSocket stays on the
    #: process it reached, while long-polling requests would need sticky sessions
    #: (docs/deployment.md).
    socketio_transports: str = "polling,websocket"
    #: This process's name in a hub ("app1"): named in the Socket.IO snapshot, the Redis
    #: client name and the logs, so an operator can tell which process a screen is on.
    node_name: str = ""
    #: Reverse proxies in front of this process (nginx: 1) whose X-Forwarded-For/-Proto
    #: headers are trusted: the client address (rate limits, audit) and https. 0: none.
    proxy_hops: int = 0
    #: Signs session cookies. Default: generated once and kept in the instance folder.
    secret_key: str = ""
    #: Socket.IO async mode: "gevent" under gunicorn, "threading" in tests.
    async_mode: str = "threading"
    #: SQLite: the served process checkpoints the WAL every this many milliseconds in a
    #: background thread, so no request waits for a checkpoint's copy and fsyncs. 0: a
    #: request's commit checkpoints when the WAL passes 1,000 pages (SQLite's default).
    #: Each completed checkpoint still costs the next commit one small fsync (SQLite
    #: syncs the header of the WAL it starts over): not much more often than this.
    sqlite_checkpoint_ms: int = 1000
    #: Public base URL printed in ticket QR codes (where a phone can follow the queue).
    public_url: str = "http://127.0.0.1:8000"
    #: Centre shown when a page is opened without ?centre= (the single-box default).
    default_centre_code: str = "BN-KINHBAC"
    #: Seconds a staff login session lasts without activity.
    session_lifetime_seconds: int = 8 * 3600
    #: Largest request body in bytes (413 beyond it); imports may send up to max_import_bytes.
    max_request_bytes: int = 1024 * 1024
    #: Largest body of a set-up import (the admin's configuration file).
    max_import_bytes: int = 16 * 1024 * 1024
    #: The province board shows a centre offline after this many minutes without any sign
    #: of life at the hub (a ticket event, a station heard from).
    province_offline_minutes: int = 15
    #: Centre box: the province hub this box delivers its hall's changes to (docs/sync.md),
    #: e.g. https://tthcc.bacninh.gov.vn. Empty: not a centre box.
    sync_hub_url: str = ""
    #: Centre box: its token from the hub (`tthcc sync box add CENTRE` on the hub).
    sync_token: str = ""
    #: Centre box: seconds between pushes while all is delivered (and the retry back-off cap).
    sync_interval_seconds: int = 10
    #: Notifications (docs/notifications.md). "inline": each server process runs the
    #: delivery worker in the background; "off": run `tthcc notify run --loop` instead.
    notify_worker: str = "inline"
    #: Seconds between the worker's rounds (due messages, "your turn is near" scan).
    notify_interval_seconds: int = 2
    #: Minutes before a booked slot when a booking made with consent to messages is
    #: reminded once (server.notify.bookings.scan_reminders); 0: no reminders.
    booking_reminder_minutes: int = 30
    #: The VAPID private key (PEM). Default: vapid_private.pem in the instance folder,
    #: made once by `tthcc notify vapid` (or `tthcc run`); never regenerated silently.
    vapid_private_key_file: str = ""
    #: Who push services may contact about our pushes (the JWT's "sub"): mailto: or https:.
    vapid_subject: str = "mailto:tthcc@localhost"
    #: Accept push endpoints on plain http or local addresses (tests' push simulator only).
    notify_push_allow_local: bool = False
    #: The SMS/Zalo gateway (generic JSON over HTTPS): base URL and bearer token. Empty: off.
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    #: Seconds to wait for the gateway's answer before retrying later.
    sms_gateway_timeout_seconds: int = 5
    #: Sender name registered with the gateway (brandname), if any.
    sms_sender: str = ""
    #: The gateway also delivers Zalo (ZNS) messages: offer the "zalo" channel.
    zalo_via_gateway: bool = False
    #: With an SMS gateway, a remote number or a booking needs the one-time code texted
    #: to the phone (docs/remote.md, "Phone ownership"); false: never ask for one.
    phone_verification: bool = True
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

    @property
    def phone_url(self) -> str:
        """`public_url` when a phone can reach it, else "" (no QR code is printed or shown:
        a QR code of a loopback address leads a citizen's phone nowhere)."""
        return "" if is_loopback_url(self.public_url) else self.public_url.rstrip("/")

    @property
    def transports(self) -> list[str]:
        """`socketio_transports` as a list, refusing names Engine.IO does not know."""
        names = [t.strip() for t in self.socketio_transports.split(",") if t.strip()]
        unknown = set(names) - {"polling", "websocket"}
        if unknown or not names:
            raise ValueError(
                f"TTHCC_SOCKETIO_TRANSPORTS must list polling and/or websocket, "
                f"got {self.socketio_transports!r}"
            )
        return names

    def public_url_warning(self) -> str | None:
        """Why tickets carry no QR code, or None when `public_url` is usable."""
        if self.phone_url:
            return None
        return (
            f"TTHCC_PUBLIC_URL is {self.public_url or 'not set'!s}: a loopback address "
            "that citizens' phones cannot open, so tickets print no QR code. Set it to "
            "the address phones use, e.g. http://192.168.1.10:8000 or https://tthcc.example.vn"
        )

    @property
    def vapid_key_path(self) -> Path:
        return Path(self.vapid_private_key_file or self.instance_path / "vapid_private.pem")

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


@functools.lru_cache(maxsize=16)
def is_loopback_url(url: str) -> bool:
    """True for an empty URL or one whose host is this machine (127.x, ::1, localhost).
    Cached: every ticket issued asks it of the same configured address."""
    import ipaddress
    from urllib.parse import urlsplit

    host = (urlsplit(url or "").hostname or "").lower()
    if not host or host == "localhost" or host.endswith(".localhost") or host == "0.0.0.0":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

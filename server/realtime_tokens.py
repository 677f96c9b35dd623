"""A revoked credential drops its live connection within a second.

Two kinds of Socket.IO connection stay open on a credential an administrator can revoke:

- a station agent on ``/station`` (kiosk, counters or display), by its station's token:
  revoked or replaced (admin API, admin page, ``tthcc station revoke|token``);
- a provisioned kiosk's page on ``/hall``, by its ``tthcc_kiosk`` cookie: its page
  credentials end when the station's token is revoked (services/kiosks.py).

Neither must stay open after that, in this process or another one behind the same Redis.
While such connections are open on this process, their credentials are compared with the
database twice a second (one query per kind), and a connection whose credential is gone is
disconnected. No such connection here, no query.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from server.models import KioskCredential, Station

if TYPE_CHECKING:
    from flask_socketio import SocketIO

    from server.db import Database

logger = logging.getLogger(__name__)

#: How often held credentials are checked.
TOKEN_CHECK_SECONDS = 0.5


@dataclass(frozen=True)
class Held:
    """What keeps one connection open: the station's token hash (``kiosk_page`` False) or
    the hash of the kiosk page's credential (``kiosk_page`` True)."""

    station_id: int
    secret_hash: str | None
    kiosk_page: bool = False


class CredentialWatch:
    """The connections of this process held by a revocable credential, and the background
    task that drops them when it is revoked."""

    def __init__(self, socketio: SocketIO, database: Database) -> None:
        self.socketio = socketio
        self.database = database
        #: (namespace, Socket.IO sid) -> its credential
        self.held: dict[tuple[str, str], Held] = {}
        self.running = False

    def hold(self, namespace: str, sid: str, held: Held) -> None:
        """Watch the connection `sid` of `namespace` from now on."""
        self.held[(namespace, sid)] = held
        if not self.running:
            self.running = True
            self.socketio.start_background_task(self._run)

    def release(self, namespace: str, sid: str) -> None:
        """The connection closed (or no longer depends on a credential)."""
        self.held.pop((namespace, sid), None)

    def revoked(self) -> list[tuple[str, str]]:
        """The held connections whose credential is no longer valid (one check)."""
        held = dict(self.held)
        tokens = {key: h for key, h in held.items() if not h.kiosk_page}
        pages = {key: h for key, h in held.items() if h.kiosk_page}
        with self.database.transaction() as session:
            current: dict[int, str | None] = {}
            if tokens:
                ids = {h.station_id for h in tokens.values()}
                current = dict(
                    session.execute(
                        select(Station.id, Station.token_hash).where(Station.id.in_(ids))
                    ).all()
                )
            valid_pages: set[tuple[int, str]] = set()
            if pages:
                hashes = {h.secret_hash for h in pages.values()}
                valid_pages = set(
                    session.execute(
                        select(KioskCredential.station_id, KioskCredential.secret_hash).where(
                            KioskCredential.kind == "page",
                            KioskCredential.secret_hash.in_(hashes),
                        )
                    ).all()
                )
        gone = [key for key, h in tokens.items() if current.get(h.station_id) != h.secret_hash]
        gone += [
            key for key, h in pages.items() if (h.station_id, h.secret_hash) not in valid_pages
        ]
        return gone

    def _run(self) -> None:
        while True:
            self.socketio.sleep(TOKEN_CHECK_SECONDS)
            if not self.held or self.database.disposed:  # nothing held, or shutting down
                self.running = False
                return
            try:
                gone = self.revoked()
            except Exception as exc:  # database down: check again next time
                logger.warning("credential check failed: %s", exc)
                continue
            for namespace, sid in gone:
                held = self.held.pop((namespace, sid), None)
                if held is None:
                    continue  # closed meanwhile
                logger.info(
                    "station %s: %s revoked, connection on %s dropped",
                    held.station_id,
                    "kiosk page credential" if held.kiosk_page else "token",
                    namespace,
                )
                self.socketio.server.disconnect(sid, namespace=namespace)

"""The Socket.IO message queue (Redis) between a hub's processes, and what to do when it
may have lost events.

With more than one process, every emit goes through Redis pub/sub: the emitting process
publishes, and each process's listener hands the event to its own clients. Pub/sub keeps
nothing: while Redis restarts, or while a process's listener is reconnecting, events are
published to nobody. Tickets are never lost (they are in the database, and a request
succeeds whatever happens to the emit), but a display that missed ``ticket.called`` would
show a stale screen until its next reconnect, and its socket stays up the whole time.

So each process watches its own listener: a small task asks Redis, every second, for its
``run_id`` (it changes on every restart) and for the id of this process's subscribed
connection (it changes whenever the listener reconnected; the listener is found by the
client name given to the queue's Redis connections). When either changed, or Redis could
not be reached in between, the process waits until its listener is subscribed again and
then brings its own clients back to the truth, without going through the queue:

- every ``/hall`` subscriber gets a fresh ``snapshot`` of its centre (one per centre),
  every ticket follower its ticket's snapshot: pages already re-render from a snapshot;
- every station agent is disconnected: it reconnects at once and gets its configuration,
  the counters and its unacknowledged print jobs, as after any reconnect.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask_socketio import SocketIO

from server.config import Config
from server.db import Database
from server.services import events

logger = logging.getLogger(__name__)

#: Seconds between two looks at Redis.
WATCH_INTERVAL = 1.0

#: (Redis run_id, id of this process's subscribed connection)
Marker = tuple[str, int]


def node_id(config: Config) -> str:
    """This process's name: the configured node name, or host and process id."""
    return config.node_name or f"{socket.gethostname()}-{os.getpid()}"


def listener_name(config: Config) -> str:
    """The Redis client name of this process's queue connections (no spaces allowed)."""
    return f"tthcc:{config.socketio_channel}:{node_id(config)}".replace(" ", "_")


def message_queue(config: Config) -> Any:
    """python-socketio's Redis manager, its connections named after this process."""
    import socketio

    return socketio.RedisManager(
        config.redis_url,
        channel=config.socketio_channel,
        redis_options={"client_name": listener_name(config)},
    )


@dataclass
class QueueHealth:
    """Decides, from successive looks at Redis, when local clients need a resync.

    `observe(marker, clients)` takes the current marker, or None when Redis could not be
    reached or this process's listener is not subscribed, and whether this process has
    clients; it answers True exactly once after any gap, when the listener is subscribed
    again. A gap counts when clients were there during it, or when the listener had been
    seen before (the listener starts with the first client, a moment after it connected:
    events in that moment are a gap too).
    """

    last: Marker | None = None
    missed: bool = False
    resyncs: int = field(default=0)

    def observe(self, marker: Marker | None, clients: bool = False) -> bool:
        if marker is None:
            if self.last is not None or clients:
                self.missed = True
            return False
        resync = self.missed or (self.last is not None and marker != self.last)
        self.last = marker
        self.missed = False
        if resync:
            self.resyncs += 1
        return resync


class QueueWatch:
    """The task of one process (see the module docstring)."""

    def __init__(self, app: Flask, socketio: SocketIO, database: Database) -> None:
        import redis

        config: Config = app.config["TTHCC"]
        self.app = app
        self.socketio = socketio
        self.database = database
        self.name = listener_name(config)
        self.health = QueueHealth()
        self.redis = redis.Redis.from_url(
            config.redis_url, socket_timeout=2, socket_connect_timeout=2
        )

    def marker(self) -> Marker | None:
        """Redis's run id and this process's subscribed connection, or None."""
        try:
            run_id = str(self.redis.info("server").get("run_id", ""))
            mine = [
                int(client["id"])
                for client in self.redis.client_list(_type="pubsub")
                if client.get("name") == self.name
            ]
        except Exception as exc:  # Redis down or restarting: a gap to remember
            logger.debug("message queue unreachable: %s", exc)
            return None
        return (run_id, max(mine)) if mine else None

    def has_clients(self) -> bool:
        """Whether any /hall subscriber or station agent is connected to this process."""
        from server.realtime import HallNamespace, StationNamespace

        handlers = self.socketio.server.namespace_handlers
        hall = handlers.get(events.HALL_NAMESPACE)
        station = handlers.get(events.STATION_NAMESPACE)
        return bool(
            (isinstance(hall, HallNamespace) and (hall.centres or hall.follows))
            or (isinstance(station, StationNamespace) and station.stations)
        )

    def check(self) -> bool:
        """One look; resyncs this process's clients when the queue may have lost events."""
        marker = self.marker()
        clients = self.has_clients()
        if marker is None and self.health.last is not None and not self.health.missed:
            logger.warning("message queue (Redis) unreachable or not subscribed: waiting")
        if not self.health.observe(marker, clients):
            return False
        logger.warning("message queue back after a gap: bringing this process's clients back")
        with self.app.app_context():
            resync_local_clients(self.socketio, self.database)
        return True

    def run(self) -> None:
        while True:
            try:
                self.check()
            except Exception:  # never let the watch die: it is the only one
                logger.exception("message queue watch failed")
            self.socketio.sleep(WATCH_INTERVAL)


def start_queue_watch(app: Flask, socketio: SocketIO, database: Database) -> QueueWatch:
    watch = QueueWatch(app, socketio, database)
    app.extensions["tthcc_queue_watch"] = watch
    socketio.start_background_task(watch.run)
    return watch


def resync_local_clients(socketio: SocketIO, database: Database) -> dict[str, int]:
    """Fresh snapshots to this process's /hall clients; its station agents reconnect.
    Emitted with ``ignore_queue``: to this process's own clients only. Needs an app
    context (a follower's ticket view reads the app's database). Returns counts."""
    from server.realtime import HallNamespace, StationNamespace

    handlers = socketio.server.namespace_handlers
    hall = handlers.get(events.HALL_NAMESPACE)
    station = handlers.get(events.STATION_NAMESPACE)
    counts = {"centres": 0, "followed": 0, "agents": 0}
    if isinstance(hall, HallNamespace):
        counts.update(_resync_hall(socketio, database, hall))
    if isinstance(station, StationNamespace):
        for sid in list(station.stations):
            socketio.server.disconnect(sid, namespace=events.STATION_NAMESPACE, ignore_queue=True)
            counts["agents"] += 1
    logger.info(
        "resynced %(centres)d centre(s), %(followed)d followed ticket(s), "
        "%(agents)d agent(s) reconnecting",
        counts,
    )
    return counts


def _resync_hall(socketio: SocketIO, database: Database, hall: Any) -> dict[str, int]:
    from server.domain.clock import utcnow
    from server.realtime_follow import follow_rooms
    from server.services.hall import snapshot

    centres = sorted({c for ids in list(hall.centres.values()) for c in ids})
    codes = sorted({c for ids in list(hall.follows.values()) for c in ids})
    sent = {"centres": 0, "followed": 0}

    def send(snap: dict[str, Any], room: str) -> None:
        socketio.emit(
            events.SNAPSHOT,
            hall.stamped(snap),
            to=room,
            namespace=events.HALL_NAMESPACE,
            ignore_queue=True,
        )

    # The scoped session, as the namespace handlers use it (a follower's ticket view reads
    # through it too; a second session would wait for SQLite's write lock).
    session = database.session
    now = utcnow()
    try:
        for centre_id in centres:
            try:
                send(snapshot(session, centre_id, now), events.centre_room(centre_id))
                sent["centres"] += 1
            except Exception:
                session.rollback()
                logger.exception("resync: snapshot of centre %s failed", centre_id)
        for code in codes:
            found = follow_rooms(session, code)
            if found is not None:
                send(found[1], events.ticket_room(code))
                sent["followed"] += 1
    finally:
        session.rollback()
    return sent

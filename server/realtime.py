"""Socket.IO: the only module that emits.

- ``/hall``: lobby displays, kiosks, counter pages, supervisors. A client emits ``subscribe``
  with its centre (and optionally station) and first receives a ``snapshot``, then changes.
  On any reconnect it subscribes again, so it always comes back to the truth.
- ``/station``: station agents, authenticated by their token (docs/station-protocol.md).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_socketio import Namespace, SocketIO, join_room

from server.db import Database, OutboxMessage
from server.domain.clock import utcnow
from server.services import events, printing
from server.services.auth import station_for_token
from server.services.hall import snapshot

logger = logging.getLogger(__name__)


class HallNamespace(Namespace):
    def __init__(self, namespace: str, database: Database) -> None:
        super().__init__(namespace)
        self.database = database

    def on_subscribe(self, data: Any) -> dict[str, Any]:
        """Join the centre's room (and a station's, for a kiosk) and get the snapshot."""
        if not isinstance(data, dict) or not isinstance(data.get("centre_id"), int):
            return {"ok": False, "message": "subscribe needs an integer centre_id"}
        centre_id = data["centre_id"]
        session = self.database.session
        try:
            snap = snapshot(session, centre_id, utcnow())
        except Exception as exc:  # unknown centre, database down: tell the page, don't crash
            logger.warning("snapshot for centre %s failed: %s", centre_id, exc)
            return {"ok": False, "message": str(exc)}
        finally:
            session.rollback()
        join_room(events.centre_room(centre_id))
        if isinstance(data.get("station_id"), int):
            join_room(events.station_room(data["station_id"]))
        self.emit(events.SNAPSHOT, snap, room=request.sid)
        return {"ok": True}


class StationNamespace(Namespace):
    def __init__(self, namespace: str, database: Database) -> None:
        super().__init__(namespace)
        self.database = database
        self.stations: dict[str, int] = {}

    def on_connect(self, auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        session = self.database.session
        station = station_for_token(session, token) if token else None
        if station is None:
            logger.warning(
                "station connection refused: unknown or revoked token from %s", request.remote_addr
            )
            session.rollback()
            raise ConnectionRefusedError("unknown or revoked station token")
        station.last_seen_at = utcnow()
        station_id, centre_id = station.id, station.centre_id
        jobs = printing.pending_jobs(session, station_id)
        session.commit()
        self.stations[request.sid] = station_id
        join_room(events.station_room(station_id))
        logger.info("station %s connected (%d pending print job(s))", station.code, len(jobs))
        for job in jobs:
            self.emit(events.PRINT_JOB, job, room=request.sid)
        del centre_id

    def on_disconnect(self, reason: Any = None) -> None:
        self.stations.pop(request.sid, None)

    def on_print_ack(self, data: Any) -> dict[str, Any]:
        return self._ack(data)

    def trigger_event(self, event: str, *args: Any) -> Any:
        # Dotted event names on the wire map to on_<name with underscores> handlers.
        return super().trigger_event(event.replace(".", "_"), *args)

    def _ack(self, data: Any) -> dict[str, Any]:
        station_id = self.stations.get(request.sid)
        if station_id is None or not isinstance(data, dict) or not data.get("job_id"):
            return {"ok": False, "message": "print.ack needs job_id from an authenticated station"}
        session = self.database.session
        job = printing.acknowledge(
            session,
            station_id=station_id,
            job_id=str(data["job_id"]),
            status=str(data.get("status", "failed")),
            reason=data.get("reason"),
            now=utcnow(),
        )
        session.commit()
        return {"ok": job is not None}

    def on_device_status(self, data: Any) -> dict[str, Any]:
        from server.models import Station

        station_id = self.stations.get(request.sid)
        if station_id is None or not isinstance(data, dict) or not data.get("device"):
            return {"ok": False, "message": "device.status needs a device name"}
        session = self.database.session
        station = session.get(Station, station_id)
        states = dict(station.device_states or {})
        states[str(data["device"])] = {
            "kind": str(data.get("kind", "")),
            "state": str(data.get("state", "")),
            "reason": data.get("reason"),
            "at": utcnow().isoformat(),
        }
        station.device_states = states
        from server.db import outbox

        outbox(session).append(
            OutboxMessage(
                events.DEVICE_STATUS,
                {
                    "station_id": station.id,
                    "station": station.code,
                    **states[str(data["device"])],
                    "device": str(data["device"]),
                },
                (events.centre_room(station.centre_id),),
            )
        )
        session.commit()
        return {"ok": True}


def init_realtime(socketio: SocketIO, database: Database) -> None:
    socketio.on_namespace(HallNamespace(events.HALL_NAMESPACE, database))
    socketio.on_namespace(StationNamespace(events.STATION_NAMESPACE, database))

    def send(messages: list[OutboxMessage]) -> None:
        for message in messages:
            if message.rooms:
                socketio.emit(
                    message.event,
                    message.payload,
                    to=list(message.rooms),
                    namespace=message.namespace,
                )

    database.add_outbox_sink(send)

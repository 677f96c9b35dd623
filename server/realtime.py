"""Socket.IO: the only module that emits.

- ``/hall``: lobby displays, kiosks, counter pages, supervisors. A client emits ``subscribe``
  with its centre (and optionally station) and first receives a ``snapshot``, then changes.
  On any reconnect it subscribes again, so it always comes back to the truth.
- ``/station``: station agents, authenticated by their token (docs/station-protocol.md).
  On connect an agent gets ``station.config``, a ``counter.updated`` for every counter of
  its centre (LED boards show the truth at once) and its unacknowledged print jobs; then
  every ``counter.updated`` of the centre.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import request
from flask_socketio import Namespace, SocketIO, join_room, leave_room
from sqlalchemy.exc import IntegrityError

from server.db import Database, OutboxMessage
from server.domain.clock import utcnow
from server.domain.errors import DomainError
from server.services import events, printing
from server.services.auth import station_for_token
from server.services.hall import snapshot
from server.services.ratings import find_by_key, record_rating
from server.services.stations import (
    KEYPAD_OPERATIONS,
    counter_command,
    counter_states,
    record_device_status,
    station_config,
    station_connected,
    station_disconnected,
)

logger = logging.getLogger(__name__)

#: What an LED board shows for a moment when a keypad's key is refused.
_BOARD_REFUSAL = {"no_ticket_waiting": "Hết số"}
_BOARD_ERROR = "Lỗi"
#: A station clock further off than this is corrected with the agent's ``sent_at``.
CLOCK_SKEW_THRESHOLD = timedelta(seconds=2)


class HallNamespace(Namespace):
    def __init__(self, namespace: str, database: Database) -> None:
        super().__init__(namespace)
        self.database = database

    def on_subscribe(self, data: Any) -> dict[str, Any]:
        """Join the centre's room (and a station's, for a kiosk) and get the snapshot."""
        if not isinstance(data, dict) or not isinstance(data.get("centre_id"), int):
            return {"ok": False, "message": "subscribe needs an integer centre_id"}
        centre_id = data["centre_id"]
        rooms = [events.centre_room(centre_id)]
        if isinstance(data.get("station_id"), int):
            rooms.append(events.station_room(data["station_id"]))
        # Join before reading: a change committed while the snapshot is built then reaches
        # this client as an event too, instead of falling between snapshot and join.
        for room in rooms:
            join_room(room)
        session = self.database.session
        try:
            snap = snapshot(session, centre_id, utcnow())
        except Exception as exc:  # unknown centre, database down: tell the page, don't crash
            logger.warning("snapshot for centre %s failed: %s", centre_id, exc)
            for room in rooms:
                leave_room(room)
            return {"ok": False, "message": str(exc)}
        finally:
            session.rollback()
        self.emit(events.SNAPSHOT, snap, room=request.sid)
        return {"ok": True}


@dataclass(frozen=True)
class RatingSubmission:
    key: str
    counter_id: int
    raw_key: str
    level: int
    pressed_at: datetime
    scale: int | None
    criterion: str


def parse_rating_submission(data: Any, now: datetime) -> RatingSubmission:
    """A ``rating.submit`` payload, checked; ValueError says what is wrong.

    ``sent_at`` (the agent's clock when it sent the item) corrects ``pressed_at`` for a
    station clock that is off: the press is placed at ``pressed_at + (now - sent_at)``.
    """
    if not isinstance(data, dict):
        raise ValueError("rating.submit needs an object")
    key, counter_id, raw_key, level = (
        data.get(k) for k in ("key", "counter_id", "raw_key", "level")
    )
    if not isinstance(key, str) or not 8 <= len(key) <= 64:
        raise ValueError("key (the idempotency key) must be a string of 8-64 characters")
    if isinstance(counter_id, bool) or not isinstance(counter_id, int):
        raise ValueError("counter_id must be the server's integer counter id")
    if not isinstance(raw_key, str) or not 1 <= len(raw_key) <= 16:
        raise ValueError("raw_key must be a string of 1-16 characters")
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
        raise ValueError("level must be an integer 1-5")
    pressed_at = _aware(data.get("pressed_at"), "pressed_at")
    if data.get("sent_at") is not None:
        skew = now - _aware(data["sent_at"], "sent_at")
        # Below the threshold it is network delay, not a wrong clock: keep the order of
        # presses read together.
        if abs(skew) > CLOCK_SKEW_THRESHOLD:
            pressed_at += skew
    scale = data.get("scale")
    if scale is not None and (isinstance(scale, bool) or scale not in (3, 4, 5)):
        raise ValueError("scale must be 3, 4 or 5")
    criterion = data.get("criterion") or "overall"
    if not isinstance(criterion, str):
        raise ValueError("criterion must be a string")
    return RatingSubmission(key, counter_id, raw_key, level, pressed_at, scale, criterion)


def _aware(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an ISO 8601 time with a zone")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} is not an ISO 8601 time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"{name} must carry a time zone")
    return moment


class StationNamespace(Namespace):
    def __init__(self, namespace: str, database: Database) -> None:
        super().__init__(namespace)
        self.database = database
        #: Socket.IO sid -> station id of every agent connected to this process.
        self.stations: dict[str, int] = {}

    def online_station_ids(self) -> set[int]:
        return set(self.stations.values())

    def trigger_event(self, event: str, *args: Any) -> Any:
        # Dotted event names on the wire map to on_<name with underscores> handlers.
        return super().trigger_event(event.replace(".", "_"), *args)

    # --- connection ---------------------------------------------------------------------

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
        # Join before reading the counters: a change committed meanwhile still reaches us.
        join_room(events.station_room(station.id))
        join_room(events.stations_room(station.centre_id))
        code = station.code
        try:
            station_connected(session, station, utcnow())
            config = station_config(session, station)
            counters = counter_states(session, station.centre_id)
            jobs = printing.pending_jobs(session, station.id)
            session.commit()
        except Exception as exc:  # database down: the agent retries with back-off
            session.rollback()
            logger.exception("station %s: connect failed", code)
            raise ConnectionRefusedError("server error, try again") from exc
        self.stations[request.sid] = station.id
        logger.info("station %s connected (%d pending print job(s))", code, len(jobs))
        self.emit(events.STATION_CONFIG, config, room=request.sid)
        for payload in counters:
            self.emit(events.COUNTER_UPDATED, payload, room=request.sid)
        for job in jobs:
            self.emit(events.PRINT_JOB, job, room=request.sid)

    def on_disconnect(self, reason: Any = None) -> None:
        station_id = self.stations.pop(request.sid, None)
        if station_id is None or station_id in self.stations.values():
            return  # a restarted agent may already be back on another connection
        session = self.database.session
        try:
            station_disconnected(session, station_id, utcnow())
            session.commit()
        except Exception:
            session.rollback()
            logger.exception("recording station %s's disconnect failed", station_id)

    # --- print jobs and device states -----------------------------------------------------

    def on_print_ack(self, data: Any) -> dict[str, Any]:
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
        station_id = self.stations.get(request.sid)
        if station_id is None or not isinstance(data, dict) or not data.get("device"):
            return {"ok": False, "message": "device.status needs a device name"}
        session = self.database.session
        record_device_status(session, station_id, data, utcnow())
        session.commit()
        return {"ok": True}

    # --- rating pads and call keypads ---------------------------------------------------

    def on_rating_submit(self, data: Any) -> dict[str, Any]:
        """Store one press. ``ok: false`` is permanent (the agent logs it and moves on);
        ``retry: true`` asks the agent to send the item again later."""
        station_id = self.stations.get(request.sid)
        if station_id is None:
            return {"ok": False, "retry": True, "message": "not connected as a station"}
        now = utcnow()
        try:
            submission = parse_rating_submission(data, now)
        except ValueError as exc:
            logger.warning("station %s sent an invalid rating: %s", station_id, exc)
            return {"ok": False, "message": str(exc)}
        session = self.database.session
        try:
            from server.models import Counter, Station

            station = session.get(Station, station_id)
            counter = session.get(Counter, submission.counter_id)
            if counter is None or counter.centre_id != station.centre_id:
                session.rollback()
                return {
                    "ok": False,
                    "message": f"counter {submission.counter_id} is not in this station's centre",
                }
            result = record_rating(
                session,
                counter_id=counter.id,
                raw_key=submission.raw_key,
                level=submission.level,
                pressed_at=submission.pressed_at,
                idempotency_key=submission.key,
                now=now,
                scale=submission.scale,
                criterion=submission.criterion,
                source="pad",
                station_id=station_id,
            )
            rating_id = result.rating.id
            ticket_number = _ticket_number(session, result.rating.ticket_id)
            session.commit()
        except DomainError as exc:
            session.rollback()
            return {"ok": False, "message": exc.message_en}
        except IntegrityError:
            # The same key delivered twice at once (a retry racing a slow first attempt).
            session.rollback()
            existing = find_by_key(session, submission.key)
            session.rollback()
            if existing is not None:
                return {"ok": True, "duplicate": True, "rating_id": existing.id}
            logger.exception("rating %s from station %s not stored", submission.key, station_id)
            return {"ok": False, "retry": True, "message": "not stored, try again"}
        except Exception:
            session.rollback()
            logger.exception("rating %s from station %s not stored", submission.key, station_id)
            return {"ok": False, "retry": True, "message": "server error, try again"}
        ack = {"ok": True, "rating_id": rating_id, "ticket_number": ticket_number}
        return {**ack, "duplicate": True} if result.duplicate else ack

    def on_counter_command(self, data: Any) -> dict[str, Any]:
        """A call keypad's key; the outcome goes back as ``counter.result`` (and the ack)."""
        station_id = self.stations.get(request.sid)
        counter_id = data.get("counter_id") if isinstance(data, dict) else None
        operation = data.get("operation") if isinstance(data, dict) else None
        if station_id is None:
            return {"ok": False, "message": "not connected as a station"}
        if isinstance(counter_id, bool) or not isinstance(counter_id, int):
            result = _refusal(
                counter_id, operation, "invalid_request", "counter_id must be an integer"
            )
        elif operation not in KEYPAD_OPERATIONS:
            result = _refusal(
                counter_id, operation, "invalid_request", f"unknown operation {operation!r}"
            )
        else:
            result = self._run_counter_command(station_id, counter_id, operation)
        self.emit(events.COUNTER_RESULT, result, room=request.sid)
        return result

    def _run_counter_command(self, station_id: int, counter_id: int, operation: str) -> dict:
        from server.models import Station

        session = self.database.session
        try:
            station = session.get(Station, station_id)
            ticket = counter_command(
                session, station=station, counter_id=counter_id, operation=operation, now=utcnow()
            )
            view = {"id": ticket.id, "number": ticket.display_number, "status": ticket.status}
            session.commit()
        except DomainError as exc:
            session.rollback()
            logger.info("keypad %s on counter %s refused: %s", operation, counter_id, exc)
            return _refusal(counter_id, operation, exc.code, exc.message_en, exc.message_vi)
        except Exception:
            session.rollback()
            logger.exception("keypad %s on counter %s failed", operation, counter_id)
            return _refusal(counter_id, operation, "server_error", "server error")
        return {"ok": True, "counter_id": counter_id, "operation": operation, "ticket": view}


def _ticket_number(session: Any, ticket_id: int | None) -> str | None:
    from server.models import Ticket

    ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
    return ticket.display_number if ticket is not None else None


def _refusal(
    counter_id: Any, operation: Any, code: str, message_en: str, message_vi: str | None = None
) -> dict[str, Any]:
    return {
        "ok": False,
        "counter_id": counter_id,
        "operation": operation,
        "error": code,
        "message": message_vi or message_en,
        "message_en": message_en,
        "board_text": _BOARD_REFUSAL.get(code, _BOARD_ERROR),
    }


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
            if (
                message.event == events.COUNTER_UPDATED
                and message.namespace == events.HALL_NAMESPACE
            ):
                # LED boards: every station agent of the centre follows its counters.
                centre_id = message.payload["counter"]["centre_id"]
                socketio.emit(
                    message.event,
                    message.payload,
                    to=events.stations_room(centre_id),
                    namespace=events.STATION_NAMESPACE,
                )

    database.add_outbox_sink(send)


def online_station_ids(socketio: SocketIO) -> set[int]:
    """Stations whose agent is connected to this server process."""
    namespace = socketio.server.namespace_handlers.get(events.STATION_NAMESPACE)
    return namespace.online_station_ids() if isinstance(namespace, StationNamespace) else set()

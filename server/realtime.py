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
from typing import Any

from flask import request
from flask_socketio import Namespace, SocketIO, join_room, leave_room
from sqlalchemy.exc import IntegrityError

from server.db import Database, OutboxMessage
from server.domain.clock import utcnow
from server.domain.errors import DomainError
from server.realtime_follow import follow_rooms, follower_messages
from server.realtime_presence import StationPresence
from server.realtime_tokens import CredentialWatch, Held
from server.services import events, printing
from server.services.auth import station_for_token
from server.services.hall import snapshot
from server.services.ratings import find_by_key, record_rating
from server.services.stations import (
    KEYPAD_OPERATIONS,
    counter_command,
    counter_states,
    record_device_status,
    refuse_stale_keypad_press,
    refuse_unbound_counter,
    station_config,
    station_connected,
    station_disconnected,
)
from server.station_messages import keypad_pressed_at, parse_rating_submission

logger = logging.getLogger(__name__)

#: What an LED board shows for a moment when a keypad's key is refused.
_BOARD_REFUSAL = {
    "no_ticket_waiting": "Hết số",
    "stale_command": "Bấm lại",
    # The current citizen was only called: press Finish (F) or No-show (X) first.
    "current_not_started": "Xong? F/X",
    # The keypad's counter is not bound to this station (admin).
    "counter_not_bound": "Chưa gắn",
}
_BOARD_ERROR = "Lỗi"
#: A station clock this far off the server's is worth a line in the server's log.
_CLOCK_LOG_SECONDS = 2.0


class HallNamespace(Namespace):
    def __init__(
        self, namespace: str, database: Database, watch: CredentialWatch, node: str = ""
    ) -> None:
        super().__init__(namespace)
        self.database = database
        #: A provisioned kiosk's page is dropped when its credential is revoked.
        self.watch = watch
        #: Named in every snapshot when set (a hub's process, e.g. "app1").
        self.node = node
        #: Socket.IO sid -> centres it subscribed to on this process (server/realtime_queue.py
        #: sends them a fresh snapshot when the message queue may have lost events).
        self.centres: dict[str, set[int]] = {}
        #: Socket.IO sid -> ticket codes it follows on this process.
        self.follows: dict[str, set[str]] = {}

    def on_connect(self, auth: Any = None) -> None:
        """Anyone may connect; a provisioned kiosk's page (its cookie) is watched from now
        on, so revoking its credential drops the connection (realtime_tokens.py)."""
        from server.services.kiosks import COOKIE_NAME

        if request.cookies.get(COOKIE_NAME):
            try:
                self._kiosk_page()
            except Exception as exc:  # database down: the station room checks again
                logger.warning("kiosk page check on connect failed: %s", exc)

    def on_disconnect(self, reason: Any = None) -> None:
        self.centres.pop(request.sid, None)
        self.follows.pop(request.sid, None)
        self.watch.release(self.namespace, request.sid)

    def _kiosk_page(self) -> int | None:
        """The kiosk station whose provisioned page this connection is (watched), if any."""
        from server.services.kiosks import COOKIE_NAME, page_secret_hash, station_for_page

        cookie = request.cookies.get(COOKIE_NAME)
        session = self.database.session
        try:
            kiosk = station_for_page(session, cookie)
            kiosk_id = kiosk.id if kiosk is not None else None
        finally:
            session.rollback()
        if kiosk_id is not None:
            held = Held(kiosk_id, page_secret_hash(cookie), kiosk_page=True)
            self.watch.hold(self.namespace, request.sid, held)
        return kiosk_id

    def on_subscribe(self, data: Any) -> dict[str, Any]:
        """Join the centre's room (and a station's, for a kiosk) and get the snapshot;
        or, with ``ticket_code``, follow that one ticket (server/realtime_follow.py)."""
        if isinstance(data, dict) and "ticket_code" in data:
            return self._follow(data["ticket_code"])
        if not isinstance(data, dict) or not isinstance(data.get("centre_id"), int):
            return {"ok": False, "message": "subscribe needs an integer centre_id"}
        centre_id = data["centre_id"]
        rooms = [events.centre_room(centre_id)]
        if "station_id" in data and data["station_id"] is not None:
            refused = self._refuse_station_room(data["station_id"])
            if refused is not None:
                return refused
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
        self.centres.setdefault(request.sid, set()).add(centre_id)
        self.emit(events.SNAPSHOT, self.stamped(snap), room=request.sid)
        return {"ok": True}

    def _refuse_station_room(self, station_id: Any) -> dict[str, Any] | None:
        """A station's room (its print answers) is for that provisioned kiosk's page only:
        the kiosk credential cookie sent with the connection must be that station's."""
        kiosk_id = self._kiosk_page()
        if kiosk_id is not None and kiosk_id == station_id:
            return None
        return {
            "ok": False,
            "error": "forbidden",
            "message": "Chỉ ki-ốt đã được kích hoạt mới nhận được thông báo của máy in.",
            "message_en": "Only the provisioned kiosk of this station may join its room "
            "(open /kiosk/provision?code=… once on the kiosk PC).",
        }

    def stamped(self, snap: dict[str, Any]) -> dict[str, Any]:
        """The snapshot, naming this process when it has a name (docs/deployment.md)."""
        return {**snap, "node": self.node} if self.node else snap

    def _follow(self, code: Any) -> dict[str, Any]:
        session = self.database.session
        try:
            found = follow_rooms(session, code)
            if found is None:
                return {"ok": False, "message": "no ticket with this code"}
            rooms, snap = found
            # Join before reading again, as above: a call in between still reaches us.
            for room in rooms:
                join_room(room)
            snap = follow_rooms(session, code)[1]
        except Exception as exc:  # database down: the page retries
            logger.warning("follow of a ticket failed: %s", exc)
            return {"ok": False, "message": "server error, try again"}
        finally:
            session.rollback()
        self.follows.setdefault(request.sid, set()).add(code)
        self.emit(events.SNAPSHOT, self.stamped(snap), room=request.sid)
        return {"ok": True}


class StationNamespace(Namespace):
    def __init__(
        self,
        namespace: str,
        database: Database,
        watch: CredentialWatch,
        presence: StationPresence | None = None,
    ) -> None:
        super().__init__(namespace)
        self.database = database
        #: An agent is dropped when its station's token is revoked or replaced.
        self.watch = watch
        #: Which stations are online, on this process and (with Redis) on every process.
        self.presence = presence or StationPresence()
        #: Socket.IO sid -> station id of every agent connected to this process.
        self.stations: dict[str, int] = self.presence.local
        #: Socket.IO sid -> the clock offset its agent last reported and we logged.
        self._logged_offsets: dict[str, float] = {}

    def online_station_ids(self) -> set[int]:
        return self.presence.online_ids()

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
        self.presence.add(request.sid, station.id)
        self.watch.hold(self.namespace, request.sid, Held(station.id, station.token_hash))
        logger.info("station %s connected (%d pending print job(s))", code, len(jobs))
        self.emit(events.STATION_CONFIG, config, room=request.sid)
        for payload in counters:
            self.emit(events.COUNTER_UPDATED, payload, room=request.sid)
        for job in jobs:
            self.emit(events.PRINT_JOB, job, room=request.sid)

    def on_disconnect(self, reason: Any = None) -> None:
        self.watch.release(self.namespace, request.sid)
        self._logged_offsets.pop(request.sid, None)
        station_id = self.presence.remove(request.sid)
        if station_id is None or self.presence.is_online(station_id):
            return  # a restarted agent may already be back, on this process or another
        session = self.database.session
        try:
            station_disconnected(session, station_id, utcnow())
            session.commit()
        except Exception:
            session.rollback()
            logger.exception("recording station %s's disconnect failed", station_id)

    def on_station_heartbeat(self, data: Any = None) -> dict[str, Any]:
        """The server's clock for the agent's round-trip measurement; no database, so the
        answer's own delay stays as short as the network's."""
        server_time = utcnow().timestamp()
        if request.sid not in self.stations:
            return {"ok": False, "message": "not connected as a station"}
        self.presence.touch(request.sid)
        offset = data.get("clock_offset") if isinstance(data, dict) else None
        if isinstance(offset, int | float) and not isinstance(offset, bool):
            self._log_offset(float(offset))
        return {"ok": True, "server_time": server_time}

    def _log_offset(self, offset: float) -> None:
        logged = self._logged_offsets.get(request.sid)
        if abs(offset) < _CLOCK_LOG_SECONDS and logged is None:
            return
        if logged is not None and abs(offset - logged) < 1.0:
            return
        self._logged_offsets[request.sid] = offset
        logger.info(
            "station %s: its clock is %.1f s %s the server's (corrected by its agent)",
            self.stations.get(request.sid),
            abs(offset),
            "behind" if offset > 0 else "ahead of",
        )

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

    # --- the kiosk's barcode scanner ----------------------------------------------------

    def on_scanner_scan(self, data: Any) -> dict[str, Any]:
        """A serial scanner's scan (docs/devices.md): parsed here, its outcome sent to the
        kiosk page of this station (``scanner.scanned``); never logged (personal data)."""
        station_id = self.stations.get(request.sid)
        text = data.get("text") if isinstance(data, dict) else None
        if station_id is None or not isinstance(text, str) or not 0 < len(text) <= 1024:
            return {"ok": False, "message": "scanner.scan needs text (1-1024 characters)"}
        from flask import current_app

        from server.models import Station
        from server.services import id_cards

        session = self.database.session
        try:
            station = session.get(Station, station_id)
            if station is None or station.kind != "kiosk":
                session.rollback()
                return {"ok": False, "message": "only a kiosk station reads ID cards"}
            payload = id_cards.receive_scan(
                session,
                text=text,
                centre_id=station.centre_id,
                station_id=station.id,
                now=utcnow(),
                key=current_app.config["SECRET_KEY"],
            )
            id_cards.announce_scan(session, station.id, payload)
            session.commit()
        except Exception:
            session.rollback()
            logger.exception("station %s: a scan could not be handled", station_id)
            return {"ok": False, "retry": True, "message": "server error"}
        return {"ok": True, "kind": payload["kind"]}

    # --- rating pads and call keypads ---------------------------------------------------

    def on_rating_submit(self, data: Any) -> dict[str, Any]:
        """Store one press. ``ok: false`` is permanent (the agent logs it and moves on);
        ``retry: true`` asks the agent to send the item again later."""
        station_id = self.stations.get(request.sid)
        if station_id is None:
            return {"ok": False, "retry": True, "message": "not connected as a station"}
        now = utcnow()
        try:
            submission = parse_rating_submission(data)
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
            refuse_unbound_counter(station, counter)
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
            return {
                "ok": False,
                "error": exc.code,
                "message": exc.message_en,
                "message_vi": exc.message_vi,
            }
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
            result = self._run_counter_command(station_id, counter_id, operation, data)
        self.emit(events.COUNTER_RESULT, result, room=request.sid)
        return result

    def _run_counter_command(
        self, station_id: int, counter_id: int, operation: str, data: dict[str, Any]
    ) -> dict:
        from server.models import Station

        now = utcnow()
        try:
            pressed_at = keypad_pressed_at(data)
            if pressed_at is not None:
                refuse_stale_keypad_press(
                    counter_id=counter_id, operation=operation, pressed_at=pressed_at, now=now
                )
        except ValueError as exc:
            return _refusal(counter_id, operation, "invalid_request", str(exc))
        except DomainError as exc:
            logger.info("keypad %s on counter %s refused: %s", operation, counter_id, exc)
            return _refusal(counter_id, operation, exc.code, exc.message_en, exc.message_vi)
        session = self.database.session
        try:
            station = session.get(Station, station_id)
            ticket = counter_command(
                session, station=station, counter_id=counter_id, operation=operation, now=now
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


def init_realtime(
    socketio: SocketIO,
    database: Database,
    node: str = "",
    presence: StationPresence | None = None,
) -> None:
    watch = CredentialWatch(socketio, database)
    socketio.on_namespace(HallNamespace(events.HALL_NAMESPACE, database, watch, node))
    socketio.on_namespace(StationNamespace(events.STATION_NAMESPACE, database, watch, presence))

    def send(messages: list[OutboxMessage]) -> None:
        for message in messages:
            if message.rooms:
                socketio.emit(
                    message.event,
                    message.payload,
                    to=list(message.rooms),
                    namespace=message.namespace,
                )
            for event, payload, room in follower_messages(message):
                socketio.emit(event, payload, to=room, namespace=events.HALL_NAMESPACE)
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
    """Stations whose agent is connected: to any process of a hub (through Redis), or to
    this one."""
    namespace = socketio.server.namespace_handlers.get(events.STATION_NAMESPACE)
    return namespace.online_station_ids() if isinstance(namespace, StationNamespace) else set()

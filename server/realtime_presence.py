"""Which stations have an agent connected, across every process of a hub.

An agent's Socket.IO connection lives on one process. The supervisor's station list (and
the hall's "station not heard from" alert) may be served by another, so a process's own
connections are not the answer. With Redis (`redis_url`, the hub), every connection is also
a member of one sorted set, ``tthcc:<channel>:stations-online``: member
``"<station id>|<process>|<sid>"``, score the time (epoch seconds) until which it counts.
The connect adds it, each heartbeat of the agent (every 30 s) pushes its time on, the
disconnect removes it. A process killed with ``-9`` removes nothing: its members stop
counting ``TTL`` seconds after their last heartbeat (the agent has meanwhile reconnected to
another process, as a member of its own).

Redis unreachable: the answer is this process's own connections (logged once per outage);
after a Redis restart the set is empty, but the queue watch (`realtime_queue.py`)
disconnects every agent then, and they come back as new members.

Without Redis (one process, the hall box) the process's own connections are the answer.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from server.config import Config
from server.realtime_queue import node_id

logger = logging.getLogger(__name__)

#: Seconds a member counts after its connect or last heartbeat: 2.5 agent heartbeats.
TTL = 75.0


class StationPresence:
    """Socket.IO sid → station id of this process, and the hub-wide view through Redis."""

    def __init__(self, config: Config | None = None, *, ttl: float = TTL) -> None:
        #: Socket.IO sid -> station id of every agent connected to this process.
        self.local: dict[str, int] = {}
        self.ttl = ttl
        self._redis: Any = None
        self._unreachable = False
        if config is not None and config.redis_url:
            import redis

            self._redis = redis.Redis.from_url(
                config.redis_url, socket_timeout=2, socket_connect_timeout=2
            )
            self.key = f"tthcc:{config.socketio_channel}:stations-online"
            self.node = node_id(config).replace("|", "_")

    # --- this process's connections -------------------------------------------------------

    def add(self, sid: str, station_id: int) -> None:
        self.local[sid] = station_id
        self._write(lambda r: r.zadd(self.key, {self._member(sid, station_id): self._until()}))

    def touch(self, sid: str) -> None:
        """The agent's heartbeat: its membership counts for another `ttl` seconds."""
        station_id = self.local.get(sid)
        if station_id is not None:
            member = self._member(sid, station_id)
            self._write(lambda r: r.zadd(self.key, {member: self._until()}))

    def remove(self, sid: str) -> int | None:
        """Forget the connection `sid`; its station id, or None if it was not a station's."""
        station_id = self.local.pop(sid, None)
        if station_id is not None:
            self._write(lambda r: r.zrem(self.key, self._member(sid, station_id)))
        return station_id

    # --- questions ------------------------------------------------------------------------

    def online_ids(self) -> set[int]:
        """Stations with an agent connected to any process (this one's if Redis is out)."""
        ids = set(self.local.values())
        if self._redis is None:
            return ids

        def live(r: Any) -> list[bytes]:
            now = time.time()
            pipe = r.pipeline(transaction=False)
            pipe.zremrangebyscore(self.key, "-inf", now)  # what a killed process left
            pipe.zrangebyscore(self.key, now, "+inf")
            return pipe.execute()[1]

        members = self._read(live, default=None)
        if members is not None:
            for member in members:
                head = member.split(b"|", 1)[0]
                if head.isdigit():
                    ids.add(int(head))
        return ids

    def is_online(self, station_id: int) -> bool:
        """Whether the station still has an agent connected somewhere (after a disconnect:
        a restarted agent may already be back, on this process or another)."""
        return station_id in self.online_ids()

    # --- Redis ----------------------------------------------------------------------------

    def _member(self, sid: str, station_id: int) -> str:
        return f"{station_id}|{self.node}|{sid}" if self._redis is not None else ""

    def _until(self) -> float:
        return time.time() + self.ttl

    def _write(self, command: Any) -> None:
        if self._redis is None:
            return
        self._read(command, default=None)

    def _read(self, command: Any, default: Any) -> Any:
        try:
            result = command(self._redis)
        except Exception as exc:  # Redis down or restarting: this process's own view
            if not self._unreachable:
                logger.warning("station presence: Redis unreachable (%s); this process only", exc)
            self._unreachable = True
            return default
        if self._unreachable:
            logger.info("station presence: Redis reachable again")
        self._unreachable = False
        return result

"""Station presence across a hub's processes, through the machine's real Redis
(server/realtime_presence.py)."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

import pytest

from server.config import Config
from server.realtime_presence import StationPresence

REDIS = "redis://127.0.0.1:6379/15"


def process(tmp_path: Path, channel: str, node: str, redis_url: str = REDIS, ttl: float = 75):
    config = Config(
        instance_path=tmp_path, redis_url=redis_url, socketio_channel=channel, node_name=node
    )
    return StationPresence(config, ttl=ttl)


@pytest.fixture
def channel():
    name = f"test-{uuid.uuid4().hex[:8]}"
    yield name
    import redis

    redis.Redis.from_url(REDIS).delete(f"tthcc:{name}:stations-online")


def test_a_station_connected_to_one_process_is_online_on_every_process(tmp_path, channel):
    app1, app2 = process(tmp_path, channel, "app1"), process(tmp_path, channel, "app2")
    app1.add("sid-a", 5)
    assert app2.online_ids() == {5} and app1.online_ids() == {5}
    assert app2.local == {}  # app2 holds no connection of its own
    # The agent restarted and came back on app2 before app1 saw its old link drop:
    app2.add("sid-b", 5)
    assert app1.remove("sid-a") == 5
    assert app1.is_online(5)  # so app1 must not record the station as gone
    assert app2.remove("sid-b") == 5
    assert app1.online_ids() == set() and not app2.is_online(5)


def test_a_killed_process_stations_stop_counting_after_their_ttl(tmp_path, channel):
    killed = process(tmp_path, channel, "app1", ttl=0.5)
    other = process(tmp_path, channel, "app2")
    killed.add("sid-a", 7)
    killed.add("sid-b", 8)
    time.sleep(0.3)
    killed.touch("sid-a")  # a heartbeat on 7's link
    assert other.online_ids() == {7, 8}
    time.sleep(0.35)  # app1 "killed": nothing removed; 8's time is up, 7's not yet
    assert other.online_ids() == {7}
    time.sleep(0.3)
    assert other.online_ids() == set()


def test_without_redis_a_process_answers_for_its_own_connections(tmp_path, caplog):
    alone = StationPresence(Config(instance_path=tmp_path))
    alone.add("sid", 3)
    assert alone.online_ids() == {3} and alone.remove("sid") == 3 and alone.online_ids() == set()
    caplog.set_level(logging.WARNING, logger="server.realtime_presence")
    down = process(tmp_path, "x", "app1", redis_url="redis://127.0.0.1:1/0")
    down.add("sid", 4)
    down.touch("sid")
    assert down.online_ids() == {4}  # Redis unreachable: this process's own, logged once
    assert len([r for r in caplog.records if "unreachable" in r.message]) == 1

"""The background credential check stops with its database (server/realtime_tokens.py):
after `dispose()` it must not keep knocking at a database that is gone (the suite's log
had thousands of "credential check failed … does not exist" lines from such tasks)."""

from __future__ import annotations

import logging
import time

from server.realtime_tokens import TOKEN_CHECK_SECONDS, CredentialWatch, Held


def test_the_check_runs_while_held_and_stops_when_the_database_is_disposed(
    app, database, demo, caplog
):
    caplog.set_level(logging.WARNING, logger="server.realtime_tokens")
    watch = CredentialWatch(app.extensions["socketio"], database)
    from server.models import Station

    with database.transaction() as s:
        token_hash = s.get(Station, demo.kiosk_station_id).token_hash
    watch.hold("/station", "sid-1", Held(demo.kiosk_station_id, token_hash))  # still valid
    time.sleep(3 * TOKEN_CHECK_SECONDS)
    assert watch.running and watch.held  # checked, and kept: the credential is valid
    database.dispose()
    deadline = time.monotonic() + 5 * TOKEN_CHECK_SECONDS + 2
    while watch.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not watch.running
    assert "credential check failed" not in caplog.text

"""A centre box on PostgreSQL (issue 13, item 2: "SQLite or a local PostgreSQL"): its
changes are captured by the PostgreSQL triggers of migration a9c4e2f7b318 and delivered to
the hub (the suite's app on PostgreSQL) each once, in order. Concurrent writers on the box
commit in `seq` order, so a pusher reading `seq > mark` while they write misses nothing, and
writers of the same line never deadlock on the capture's lock."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from server.domain.errors import DomainError
from server.models import Centre, Counter, Service, SyncOutbox
from server.services import issuing
from server.services import lifecycle as ops
from server.sync.capture import BOX_WRITE_LOCK, CAPTURED, enable
from server.sync.ingest import add_box
from server.sync.push import push
from tests.conftest import _pg_database
from tests.server.sync_hall import serve_citizens
from tests.server.test_sync import T0, Hub, _inbox, _outbox_seqs

pytestmark = pytest.mark.postgres


@pytest.fixture
def hub(app, demo):
    """The hub: the suite's app on PostgreSQL, with the demo centre."""
    return app


@pytest.fixture
def box_token(hub, database, demo) -> str:
    with database.transaction() as s:
        _box, token = add_box(s, s.get(Centre, demo.centre_id), T0)
    return token


@pytest.fixture
def pg_centre(backend, tmp_path: Path, box_token: str, migrated_templates):
    """The centre box: a PostgreSQL database of its own, the demo centre, capturing."""
    from server.app import create_app
    from server.config import Config
    from server.demo import load_demo

    with _pg_database(template=migrated_templates.postgres()) as url:
        app = create_app(
            Config.from_env(
                {},
                instance_path=tmp_path / "centre",
                database_url=url,
                secret_key="test-secret",
                testing=True,
                sync_token=box_token,  # a box: its writers are serialised
            )
        )
        database = app.extensions["tthcc_db"]
        with database.transaction() as s:
            load_demo(s)
            app.centre_id = s.scalar(select(Centre.id).where(Centre.code == "BN-KINHBAC"))
            enable(s, box_token.split(".")[0], "BN-KINHBAC")
        yield app
        database.dispose()


def test_a_postgresql_box_captures_every_table_and_delivers_each_change_once_in_order(
    hub, database, pg_centre, box_token
):
    box_db = pg_centre.extensions["tthcc_db"]

    def triggers() -> set[str]:
        with box_db.engine.connect() as conn:
            return set(
                conn.execute(
                    text("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'sync_capture_%'")
                ).scalars()
            )

    expected = {f"sync_capture_{t}_{op}" for t, ops_ in CAPTURED.items() for op in ops_}
    assert triggers() == expected
    with box_db.engine.connect() as conn:
        source = conn.execute(
            text("SELECT prosrc FROM pg_proc WHERE proname = 'sync_capture'")
        ).scalar()
    assert f"pg_advisory_xact_lock({BOX_WRITE_LOCK})" in source  # the migration's key

    serve_citizens(box_db, pg_centre.centre_id, 6, T0)
    result = push(box_db, Hub(hub, box_token), batch_size=7)
    sent = _outbox_seqs(box_db)
    received = _inbox(database)
    # Per citizen: ticket, its 3 updates, 4 transitions, rating; and 6 counters opened.
    assert [r[0] for r in received] == sent and len(sent) == 6 * 9 + 6
    assert (result.sent, result.duplicates, result.pending) == (len(sent), 0, 0)
    tables = [r[2] for r in received]
    assert (tables.count("tickets"), tables.count("ticket_events")) == (6 * 4, 6 * 4)
    assert tables.count("counter_events") == 6
    assert all(r[3] is not None for r in received)  # each change with its row

    # The migration goes down (triggers and function gone) and up again.
    from alembic import command

    from server.migrate import alembic_config, upgrade

    box_db.session.remove()
    command.downgrade(alembic_config(box_db.engine), "a9c4e2f7b318-1")
    assert triggers() == set()
    upgrade(box_db.engine)
    assert triggers() == expected


def test_concurrent_writers_commit_in_seq_order_and_a_pusher_meanwhile_misses_nothing(
    pg_centre,
):
    """Six threads issue, call and start on the same lines (a call finishes the counter's
    citizen being served), each holding its transaction open a moment after writing; a
    reader does what the pusher does (read `seq > mark` in order, move the mark to the last
    one read) the whole time. Seen in 3 of 3 runs each: without any lock, PostgreSQL commits
    sequence values out of order and the reader passes some over for good; with the
    trigger's lock alone (no `serialise_box_writers`), a call and an issue on one line
    deadlock (the capture's lock against the line's numbering row)."""
    box_db = pg_centre.extensions["tthcc_db"]
    with box_db.transaction() as s:
        services = list(
            s.scalars(select(Service.id).where(Service.centre_id == pg_centre.centre_id).limit(2))
        )
        counters = [
            c.id
            for c in s.scalars(select(Counter).where(Counter.centre_id == pg_centre.centre_id))
            if {link.service_id for link in c.service_links} & set(services)
        ][:3]
    errors: list[BaseException] = []
    done = threading.Event()

    def hall(k: int) -> None:
        rnd = random.Random(k)
        try:
            for i in range(10):
                at = T0 + timedelta(seconds=k * 100 + i)
                with box_db.transaction() as s:
                    issuing.issue_ticket(s, service_id=rnd.choice(services), now=at)
                    time.sleep(rnd.uniform(0, 0.01))
                with box_db.transaction() as s:
                    with contextlib.suppress(DomainError):  # nobody waiting there: fine
                        # The counter's citizen being served is finished by the next call.
                        called = ops.call_next(s, counter_id=rnd.choice(counters), now=at)
                        ops.start(s, ticket_id=called.id, now=at)
                    time.sleep(rnd.uniform(0, 0.01))
        except BaseException as exc:
            errors.append(exc)

    delivered: list[int] = []

    def pusher() -> None:
        mark = 0
        while True:
            finished = done.is_set()
            with box_db.transaction() as s:
                seqs = list(
                    s.scalars(
                        select(SyncOutbox.seq).where(SyncOutbox.seq > mark).order_by(SyncOutbox.seq)
                    )
                )
            delivered.extend(seqs)
            mark = seqs[-1] if seqs else mark
            if finished:
                return
            time.sleep(0.002)

    reader = threading.Thread(target=pusher)
    reader.start()
    threads = [threading.Thread(target=hall, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    done.set()
    reader.join(30)
    assert not errors, errors[:3]
    everything = _outbox_seqs(box_db)
    assert len(everything) >= 6 * 10 * 2  # each ticket and its issue event at least
    assert delivered == everything  # each once, in order, none passed over

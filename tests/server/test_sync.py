"""Centre box → hub delivery through the real apps: a centre on SQLite, the hub on the test
backend (SQLite, and PostgreSQL with --pg), each its own database; batches travel through
the hub's real HTTP stack (its test client), and "the hub is unreachable" is the transport
refusing to connect."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from server.models import Centre, Counter, SyncInboxEvent, SyncLink, SyncOutbox
from server.sync.capture import CAPTURED, enable
from server.sync.ingest import add_box
from server.sync.prune import prune
from server.sync.push import HubRefused, HubUnreachable, push, read_batch
from tests.server.sync_hall import serve_citizens

T0 = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)  # 08:30 in Hà Nội


def _app(instance: Path, database_url: str):
    from server.app import create_app
    from server.config import Config
    from server.migrate import upgrade

    app = create_app(
        Config.from_env(
            {},
            instance_path=instance,
            database_url=database_url,
            secret_key="test-secret",
            testing=True,
        )
    )
    upgrade(app.extensions["tthcc_db"].engine)
    return app


@pytest.fixture
def hub(app, demo):
    """The hub: the suite's app on the test backend, with the demo centre."""
    return app


@pytest.fixture
def box_token(hub, database, demo) -> str:
    with database.transaction() as s:
        _box, token = add_box(s, s.get(Centre, demo.centre_id), T0)
    return token


@pytest.fixture(scope="module")
def centre_template(tmp_path_factory) -> Path:
    """A centre box's database migrated with the demo centre, made once and copied."""
    from server.demo import load_demo

    folder = tmp_path_factory.mktemp("centre-template")
    app = _app(folder, f"sqlite:///{folder / 'centre.sqlite3'}")
    database = app.extensions["tthcc_db"]
    with database.transaction() as s:
        load_demo(s)
    database.dispose()
    return folder / "centre.sqlite3"


@pytest.fixture
def centre(tmp_path, box_token, centre_template):
    """The centre box: its own SQLite database, the same centre configured, capturing."""
    shutil.copy(centre_template, tmp_path / "centre.sqlite3")
    app = _app(tmp_path / "centre", f"sqlite:///{tmp_path / 'centre.sqlite3'}")
    database = app.extensions["tthcc_db"]
    with database.transaction() as s:
        app.centre_id = s.scalar(select(Centre.id).where(Centre.code == "BN-KINHBAC"))
        enable(s, box_token.split(".")[0], "BN-KINHBAC")
    yield app
    database.dispose()


class Hub:
    """The transport to the hub's real app; `up = False` is a cut link."""

    def __init__(self, app, token: str) -> None:
        self.client = app.test_client()
        self.token = token
        self.up = True
        self.requests = 0

    def __call__(self, body):
        if not self.up:
            raise HubUnreachable("connection refused")
        self.requests += 1
        r = self.client.post(
            "/api/v1/sync/batch", json=body, headers={"Authorization": f"Bearer {self.token}"}
        )
        return r.status_code, r.get_json()


def _inbox(database) -> list[tuple[int, str, str, dict | None]]:
    with database.transaction() as s:
        rows = s.execute(
            select(
                SyncInboxEvent.seq,
                SyncInboxEvent.ref,
                SyncInboxEvent.table_name,
                SyncInboxEvent.payload,
            ).order_by(SyncInboxEvent.id)
        ).all()
    return [tuple(r) for r in rows]


def _outbox_seqs(db) -> list[int]:
    with db.transaction() as s:
        return list(s.scalars(select(SyncOutbox.seq).order_by(SyncOutbox.seq)))


def test_every_captured_table_has_its_trigger(centre):
    with centre.extensions["tthcc_db"].engine.connect() as conn:
        names = set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        )
    expected = {f"sync_capture_{t}_{op}" for t, ops in CAPTURED.items() for op in ops}
    assert expected <= names
    assert {n for n in names if n.startswith("sync_capture_")} == expected


def test_a_database_that_is_not_a_box_captures_nothing(hub, database, demo):
    serve_citizens(database, demo.centre_id, 2, T0)
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(SyncOutbox)) == 0


def test_hall_works_with_the_hub_unreachable_then_every_event_arrives_once_in_order(
    hub, database, centre, box_token
):
    box_db = centre.extensions["tthcc_db"]
    link = Hub(hub, box_token)
    link.up = False
    numbers = serve_citizens(box_db, centre.centre_id, 12, T0)  # the hall works on its own
    assert len(numbers) == 12
    with pytest.raises(HubUnreachable):
        push(box_db, link, batch_size=7)
    captured = _outbox_seqs(box_db)
    state = _link_state(centre)
    assert state["pending"] == len(captured) > 12 * 6 and state["last_push_at"] is None
    assert "unreachable" in state["last_error"]

    link.up = True
    result = push(box_db, link, batch_size=7)
    sent = _outbox_seqs(box_db)
    received = _inbox(database)
    assert [r[0] for r in received] == sent == captured == list(range(1, len(sent) + 1))
    rows = {r[1]: r[2] for r in received}  # a row's ref, unique across centres
    tables = list(rows.values())
    assert (tables.count("tickets"), tables.count("ticket_events"), tables.count("ratings")) == (
        12,
        48,
        12,
    )
    assert tables.count("counter_events") == 7  # each counter opened by its first call
    # 79 rows; each ticket's updates (call, start, finish) delivered as changes too.
    assert len(rows) == 79 and len(received) == 79 + 12 * 3
    assert (result.sent, result.received, result.duplicates) == (115, 115, 0)
    assert result.batches == 17 and result.pending == 0
    # Each ticket's transitions arrive in the order the hall made them.
    trail: dict[int, list[str]] = {}
    for _seq, _ref, table, payload in received:
        if table == "ticket_events":
            trail.setdefault(payload["ticket_id"], []).append(payload["kind"])
    assert len(trail) == 12
    assert {tuple(kinds) for kinds in trail.values()} == {("issue", "call", "start", "finish")}
    ratings = [p for _s, _r, t, p in received if t == "ratings"]
    assert len(ratings) == 12 and {p["level"] for p in ratings} == {5}
    state = _link_state(centre)
    assert state["pending"] == 0 and state["last_push_at"] and state["last_error"] == ""


def test_a_batch_replayed_by_hand_is_acknowledged_without_a_duplicate(
    hub, database, centre, box_token
):
    box_db = centre.extensions["tthcc_db"]
    link = Hub(hub, box_token)
    serve_citizens(box_db, centre.centre_id, 3, T0)
    push(box_db, link)
    before = _inbox(database)
    with box_db.transaction() as s:
        batch = read_batch(s, 0, 10)
    body = {"box": box_token.split(".")[0], "centre": "BN-KINHBAC", "after": 0, "events": batch}
    status, reply = link(body)
    assert status == 200
    assert reply == {"acked": len(_outbox_seqs(box_db)), "received": 0, "duplicates": 10}
    assert _inbox(database) == before


def test_a_lost_acknowledgement_resends_and_the_hub_stores_once(hub, database, centre, box_token):
    box_db = centre.extensions["tthcc_db"]
    link = Hub(hub, box_token)
    serve_citizens(box_db, centre.centre_id, 4, T0)
    push(box_db, link, batch_size=10)
    # The box forgets the last acknowledgements (killed before keeping them): it resends.
    with box_db.transaction() as s:
        s.scalars(select(SyncLink)).one().acked_seq = 5
    result = push(box_db, link, batch_size=10)
    total = len(_outbox_seqs(box_db))
    # One batch goes again: the hub's answer carries its own mark, and the box jumps to it.
    assert (result.batches, result.duplicates, result.received) == (1, 10, 0)
    assert result.acked_seq == total
    assert [r[0] for r in _inbox(database)] == list(range(1, total + 1))


def test_a_box_ahead_of_the_hub_resends_from_the_hubs_mark(hub, database, centre, box_token):
    box_db = centre.extensions["tthcc_db"]
    link = Hub(hub, box_token)
    serve_citizens(box_db, centre.centre_id, 2, T0)
    with box_db.transaction() as s:  # e.g. the hub restored from an older backup
        s.scalars(select(SyncLink)).one().acked_seq = 8
    result = push(box_db, link, batch_size=5)
    total = len(_outbox_seqs(box_db))
    assert [r[0] for r in _inbox(database)] == list(range(1, total + 1))
    assert result.acked_seq == total


def test_a_box_delivers_for_its_own_centre_only(hub, database, centre, box_token):
    from tests.server.factories import create_centre

    box_db = centre.extensions["tthcc_db"]
    serve_citizens(box_db, centre.centre_id, 1, T0)
    with database.transaction() as s:
        _other, other_token = add_box(s, create_centre(s, code="BN-OTHER"), T0)
    # Another centre's token, this centre's events: refused, nothing stored.
    with pytest.raises(HubRefused, match="403"):
        push(box_db, Hub(hub, other_token))
    for bad in ("", "nonsense", box_token.split(".")[0] + ".wrong"):
        with pytest.raises(HubRefused, match="401"):
            push(box_db, Hub(hub, bad))
    assert _inbox(database) == []
    assert "403" in _link_state(centre)["last_error"] or "401" in _link_state(centre)["last_error"]


def _link_state(centre_app) -> dict:
    client = centre_app.test_client()
    r = client.post("/api/v1/auth/token", json={"username": "admin", "password": "tthcc-admin"})
    token = r.get_json()["token"]
    r = client.get("/api/v1/sync/link", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_the_link_state_is_for_supervisors(centre, hub):
    client = centre.test_client()
    assert client.get("/api/v1/sync/link").status_code == 401
    state = _link_state(centre)
    assert state["configured"] is True and state["pending"] == 0
    assert _link_state(hub) == {"configured": False}


def test_the_migration_goes_down_and_up_with_its_triggers(centre):
    from alembic import command

    from server.migrate import alembic_config, upgrade

    box_db = centre.extensions["tthcc_db"]
    box_db.session.remove()
    command.downgrade(alembic_config(box_db.engine), "3e8f1a6c2b90")
    with box_db.engine.connect() as conn:
        left = conn.execute(
            text("SELECT name FROM sqlite_master WHERE name LIKE 'sync%'")
        ).scalars()
        assert list(left) == []
    upgrade(box_db.engine)
    with box_db.engine.connect() as conn:
        triggers = conn.execute(
            text(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'sync_capture_%'"
            )
        ).scalar()
    assert triggers == sum(len(ops) for ops in CAPTURED.values())


def test_feedback_and_device_states_are_delivered_not_a_stations_heartbeat(
    hub, database, centre, box_token
):
    from server.models import Station
    from server.services.feedback import submit_feedback
    from server.services.stations import record_device_status, station_disconnected

    box_db = centre.extensions["tthcc_db"]
    with box_db.transaction() as s:
        station_id = s.scalar(select(Station.id).where(Station.centre_id == centre.centre_id))
        submit_feedback(
            s,
            centre_id=centre.centre_id,
            about="procedure",
            content="Giấy tờ nhiều quá",
            source="web",
            now=T0,
        )
    with box_db.transaction() as s:
        record_device_status(
            s, station_id, {"device": "printer", "kind": "printer", "state": "paper_out"}, T0
        )
    with box_db.transaction() as s:
        station_disconnected(s, station_id, T0)  # only last_seen_at: not a hall event
    push(box_db, Hub(hub, box_token))
    tables = [r[2] for r in _inbox(database)]
    assert "feedback" in tables and "feedback_events" in tables
    station_rows = [r for r in _inbox(database) if r[2] == "stations"]
    assert len(station_rows) == 1
    assert station_rows[0][3]["device_states"]["printer"]["state"] == "paper_out"


def test_a_quiet_box_still_asks_the_hub_so_its_last_push_means_the_hub_answered(
    hub, database, centre, box_token
):
    from server.models import SyncBox

    box_db = centre.extensions["tthcc_db"]
    link = Hub(hub, box_token)
    link.up = False
    with pytest.raises(HubUnreachable):
        push(box_db, link)  # nothing pending, and still not a success
    state = _link_state(centre)
    assert state["last_push_at"] is None and "unreachable" in state["last_error"]
    link.up = True
    result = push(box_db, link)
    assert (result.batches, result.sent) == (0, 0) and link.requests == 1
    state = _link_state(centre)
    assert state["last_push_at"] and state["last_error"] == ""
    with database.transaction() as s:  # the hub heard from the box (its board's link state)
        assert s.get(SyncBox, box_token.split(".")[0]).last_push_at is not None


def test_a_box_restored_from_an_older_backup_stops_instead_of_losing_its_new_changes(
    hub, database, centre, box_token, tmp_path
):
    box_db = centre.extensions["tthcc_db"]
    link = Hub(hub, box_token)
    backup = tmp_path / "backup.sqlite3"
    live = tmp_path / "centre.sqlite3"
    src, dst = sqlite3.connect(live), sqlite3.connect(backup)
    src.backup(dst)  # the night's backup, before the day
    src.close()
    dst.close()
    serve_citizens(box_db, centre.centre_id, 2, T0)
    push(box_db, link)
    delivered = _inbox(database)
    box_db.dispose()
    for leftover in (tmp_path / "centre.sqlite3-wal", tmp_path / "centre.sqlite3-shm"):
        leftover.unlink(missing_ok=True)
    shutil.copy(backup, live)  # the disk died: restored from the night's backup
    serve_citizens(box_db, centre.centre_id, 1, T0)
    with pytest.raises(HubRefused, match="restored from an older backup"):
        push(box_db, link)
    assert _inbox(database) == delivered
    state = _link_state(centre)
    assert state["acked_seq"] == 0 and "backup" in state["last_error"]


def test_a_batch_too_large_for_the_hub_is_split_not_stuck(hub, database, centre, box_token):
    box_db = centre.extensions["tthcc_db"]
    serve_citizens(box_db, centre.centre_id, 4, T0)
    hub.config["MAX_CONTENT_LENGTH"] = 4000  # a proxy's or the hub's body limit
    result = push(box_db, Hub(hub, box_token), batch_size=500)
    total = len(_outbox_seqs(box_db))
    assert [r[0] for r in _inbox(database)] == list(range(1, total + 1))
    assert result.batches > 1 and result.duplicates == 0


# --- the hub projects what a box delivered into its own tables (docs/sync.md, Projection) --


def _box_day(box_db, centre_id: int) -> None:
    """A box-run morning: served citizens, a replaced rating, people still waiting, a
    dossier received and its result ready, a feedback case."""
    import uuid
    from datetime import timedelta

    from server.domain.actors import Actor
    from server.domain.dossiers import DossierAction
    from server.models import Procedure, Service, Ticket, User
    from server.services import dossiers, issuing
    from server.services.feedback import submit_feedback
    from server.services.ratings import record_rating

    serve_citizens(box_db, centre_id, 8, T0)
    at = T0 + timedelta(minutes=10)
    with box_db.transaction() as s:
        last = s.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
        ticket_id, counter_id = last.id, last.counter_id
    with box_db.transaction() as s:  # the citizen changes their mind: the press is replaced
        record_rating(
            s,
            counter_id=counter_id,
            raw_key="2",
            level=2,
            pressed_at=T0 + timedelta(seconds=46),  # 2 s after the first press: replaces it
            idempotency_key=uuid.uuid4().hex,
            now=T0 + timedelta(seconds=46),
            ticket_id=ticket_id,
        )
    with box_db.transaction() as s:
        services = list(s.scalars(select(Service.id).where(Service.centre_id == centre_id)))
    for i, service_id in enumerate(services[:3]):
        with box_db.transaction() as s:
            issuing.issue_ticket(s, service_id=service_id, now=at + timedelta(minutes=i))
    with box_db.transaction() as s:
        user = s.scalars(select(User).where(User.username == "canbo1")).one()
        handler = dossiers.Handler(Actor("user:canbo1", user.id), user.full_name)
        procedure_id = s.scalars(
            select(Procedure.id).where(Procedure.centre_id == centre_id).order_by(Procedure.id)
        ).first()
        dossier_id = dossiers.receive_dossier(
            s, procedure_id=procedure_id, applicant_name="Nguyễn Văn An", now=at, handler=handler
        ).id
    for action in (DossierAction.FORWARD, DossierAction.RESULT_READY):
        at += timedelta(minutes=5)
        with box_db.transaction() as s:
            dossiers.transition(s, dossier_id=dossier_id, action=action, now=at, handler=handler)
    with box_db.transaction() as s:
        submit_feedback(
            s, centre_id=centre_id, about="procedure", content="Chờ lâu", source="web", now=at
        )


def _figures(db, centre_code: str) -> tuple[dict, dict]:
    """The centre's row of the province report (the day) and of the province board."""
    from datetime import timedelta

    from server.services.province_board import build_board
    from server.services.province_reports import build_province_report
    from server.services.reports import period_for

    with db.transaction() as s:
        centre_id = s.scalar(select(Centre.id).where(Centre.code == centre_code))
        report = build_province_report(
            s, period_for("day", T0.date()), centre_ids=[centre_id], now=T0
        )
        row = dict(report["groups"][0]["rows"][0])
        board = build_board(s, T0 + timedelta(minutes=40), centre_ids=[centre_id])["centres"][0]
    row.pop("id")
    # SQLite folds times through julianday (0.9999946 minutes where PostgreSQL says 1.0).
    row = {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}
    keep = ("waiting", "longest_wait_seconds", "served_today", "alerts")
    board_row = {k: board[k] for k in keep}
    board_row["satisfaction"] = {k: v for k, v in board.items() if "satisf" in k or "rating" in k}
    return row, board_row


def _hub_rows(database) -> dict[str, list[tuple]]:
    """The hub's projected tables, every column, in id order."""
    from server.models import Base

    names = ("tickets", "ticket_events", "counter_events", "ratings", "dossiers")
    names += ("dossier_handoffs", "feedback", "feedback_events", "sync_ids")
    with database.transaction() as s:
        return {
            n: [tuple(r) for r in s.execute(select(Base.metadata.tables[n]).order_by(text("1")))]
            for n in names
        }


def test_the_hub_projects_a_box_run_day_so_the_province_sees_the_boxs_own_figures(
    hub, database, centre, box_token, demo
):
    from server.models import SyncBox, Ticket

    box_db = centre.extensions["tthcc_db"]
    # The hub's own ids are ahead of the box's: the day before, the hub served the centre.
    serve_citizens(database, demo.centre_id, 2, T0 - timedelta(days=1))
    _box_day(box_db, centre.centre_id)
    link = Hub(hub, box_token)
    result = push(box_db, link, batch_size=9)
    assert result.duplicates == 0 and result.pending == 0

    box_report, box_board = _figures(box_db, "BN-KINHBAC")
    hub_report, hub_board = _figures(database, "BN-KINHBAC")
    assert hub_report == box_report
    assert hub_board == box_board
    # Not an empty day: the figures compared are the day's.
    assert (box_report["issued"], box_report["served"]) == (11, 8)
    assert box_report["ratings_total"] == 8 and box_report["dossiers_resolved"] == 1
    assert box_board["waiting"] == 3 and box_board["longest_wait_seconds"] > 0
    with box_db.transaction() as s, database.transaction() as h:
        box_codes = sorted(s.scalars(select(Ticket.public_code)))
        hub_codes = sorted(h.scalars(select(Ticket.public_code).where(Ticket.day == T0.date())))
        box = h.get(SyncBox, box_token[:32])
        assert (box.projected_seq, box.project_error) == (box.last_seq, "")
    assert hub_codes == box_codes

    # Delivered again, replayed from the first change: nothing changes.
    before = _hub_rows(database)
    with box_db.transaction() as s:
        batch = read_batch(s, 0, 40)
    status, reply = link(
        {"box": box_token[:32], "centre": "BN-KINHBAC", "after": 0, "events": batch}
    )
    assert status == 200 and reply["duplicates"] == 40
    from server.cli import cli

    out = hub.test_cli_runner().invoke(cli, ["sync", "project", "--replay"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["projected"] == result.sent
    assert _hub_rows(database) == before
    assert _figures(database, "BN-KINHBAC") == (box_report, box_board)


# --- configuration from the hub to the box (docs/sync.md, "Configuration") -----------------


class ConfigHub:
    """GET /api/v1/sync/config on the hub's real app; records each answer's status."""

    def __init__(self, app, token: str) -> None:
        self.client = app.test_client()
        self.token = token
        self.statuses: list[int] = []

    def __call__(self, version):
        headers = {"Authorization": f"Bearer {self.token}"}
        if version:
            headers["If-None-Match"] = f'"{version}"'
        r = self.client.get("/api/v1/sync/config", headers=headers)
        self.statuses.append(r.status_code)
        return r.status_code, (None if r.status_code == 304 else r.get_json())


def test_the_hubs_configuration_reaches_the_box_and_overwrites_an_edit_made_on_the_box(
    hub, database, centre, box_token, demo
):
    from server.models import CounterService, Service, Ticket, TicketEvent
    from server.services import issuing
    from server.sync.config import config_document, pull, version_of
    from server.sync.push import HubRefused

    box_db = centre.extensions["tthcc_db"]
    serve_citizens(box_db, centre.centre_id, 2, T0)  # the box's hall has a history
    with box_db.transaction() as s:
        hall = (
            s.scalar(select(func.count()).select_from(Ticket)),
            s.scalar(select(func.count()).select_from(TicketEvent)),
        )
    outbox = _outbox_seqs(box_db)
    config = ConfigHub(hub, box_token)
    assert pull(box_db, config)["changed"] is True  # first pull: the hub's users, hashes …
    with _statements(database.engine) as seen:
        assert pull(box_db, config)["changed"] is False
    assert config.statuses == [200, 304]  # unchanged: one request, no body
    statements_304 = len(seen)

    # On the hub: a service added (served at counter 1) and another renamed.
    with database.transaction() as s:
        renamed = s.scalars(
            select(Service).where(Service.centre_id == demo.centre_id).order_by(Service.id)
        ).first()
        renamed.name = "Chứng thực bản sao (đổi tên ở tỉnh)"
        renamed_code = renamed.code
        added = Service(
            centre_id=demo.centre_id,
            field_id=renamed.field_id,
            code="MOI",
            name="Dịch vụ mới của tỉnh",
            prefix="M",
            range_start=1,
            range_end=999,
        )
        s.add(added)
        s.flush()
        counter = s.scalars(select(Counter).where(Counter.centre_id == demo.centre_id)).first()
        s.add(CounterService(counter_id=counter.id, service_id=added.id, position=9))
        counter_number = counter.number
    assert pull(box_db, config) == {
        "changed": True,
        "version": config_version(database, demo.centre_id),
        "overwrote_local": False,
    }
    with _statements(database.engine) as seen:  # the hub's cost does not grow with it
        assert pull(box_db, config)["changed"] is False
    assert len(seen) == statements_304 <= 14
    with box_db.transaction() as s:
        box_services = {
            sv.code: sv
            for sv in s.scalars(select(Service).where(Service.centre_id == centre.centre_id))
        }
        assert box_services[renamed_code].name == "Chứng thực bản sao (đổi tên ở tỉnh)"
        new = box_services["MOI"]
        assert (new.name, new.prefix) == ("Dịch vụ mới của tỉnh", "M")
        counter = s.scalars(select(Counter).where(Counter.number == counter_number)).one()
        assert new.id in {link.service_id for link in counter.service_links}
        # Applied exactly: the box's configuration is the hub's document.
        assert version_of(config_document(s, centre.centre_id)) == config_version(
            database, demo.centre_id
        )
        # The hall's events are untouched.
        assert (
            s.scalar(select(func.count()).select_from(Ticket)),
            s.scalar(select(func.count()).select_from(TicketEvent)),
        ) == hall
    assert _outbox_seqs(box_db) == outbox

    # A box-side edit of hub-owned configuration is overwritten at the next pull.
    with box_db.transaction() as s:
        s.scalars(select(Service).where(Service.code == renamed_code)).one().name = "Sửa tại hộp"
    result = pull(box_db, config)
    assert result["changed"] is True and result["overwrote_local"] is True
    with box_db.transaction() as s:
        name = s.scalars(select(Service).where(Service.code == renamed_code)).one().name
    assert name == "Chứng thực bản sao (đổi tên ở tỉnh)"
    assert pull(box_db, config)["changed"] is False

    # The hub's new service in the box's hall, delivered and projected under the hub's id.
    with box_db.transaction() as s:
        issuing.issue_ticket(s, service_id=new.id, now=T0 + timedelta(minutes=30))
    push(box_db, Hub(hub, box_token))
    with database.transaction() as s:
        codes = s.execute(
            select(Service.code)
            .join(Ticket, Ticket.service_id == Service.id)
            .where(Ticket.day == T0.date())
        ).scalars()
        assert "MOI" in set(codes)
    assert _link_state(centre)["config_version"] == config_version(database, demo.centre_id)
    # The box's administration page says who owns the configuration; the hub's does not.
    for app, shown in ((centre, True), (hub, False)):
        client = app.test_client()
        r = client.post("/api/v1/auth/token", json={"username": "admin", "password": "tthcc-admin"})
        page = client.get("/admin", headers={"Authorization": f"Bearer {r.get_json()['token']}"})
        assert page.status_code == 200
        assert ("Cấu hình do máy chủ tỉnh quản lý" in page.get_data(as_text=True)) is shown
    with pytest.raises(HubRefused, match="401"):
        pull(box_db, ConfigHub(hub, box_token.split(".")[0] + ".wrong-secret-wrong-secret"))


@contextlib.contextmanager
def _statements(engine):
    """The SQL statements `engine` runs inside the block."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def config_version(database, centre_id: int) -> str:
    from server.sync.config import config_document, version_of

    with database.transaction() as s:
        return version_of(config_document(s, centre_id))


def test_a_new_box_is_set_up_from_the_hubs_configuration_and_its_staff_sign_in(
    hub, database, box_token, demo, tmp_path
):
    from server.models import Service, User
    from server.sync.config import pull

    fresh = _app(tmp_path / "fresh", f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    box_db = fresh.extensions["tthcc_db"]
    with box_db.transaction() as s:  # migrated, nothing configured: only the box's link
        enable(s, box_token.split(".")[0], "BN-KINHBAC")
    config = ConfigHub(hub, box_token)
    assert pull(box_db, config)["changed"] is True
    assert pull(box_db, config)["changed"] is False and config.statuses == [200, 304]
    with box_db.transaction() as s, database.transaction() as h:
        centre_id = s.scalar(select(Centre.id).where(Centre.code == "BN-KINHBAC"))
        assert centre_id is not None

        def names(session, cid):
            return sorted(session.scalars(select(Service.name).where(Service.centre_id == cid)))

        assert names(s, centre_id) == names(h, demo.centre_id) != []
        staff = set(s.scalars(select(User.username)))
        assert staff == set(h.scalars(select(User.username).where(User.centre_id.is_not(None))))
    # The hall works on the hub's configuration, and the staff sign in with their password.
    assert len(serve_citizens(box_db, centre_id, 2, T0)) == 2
    r = fresh.test_client().post(
        "/api/v1/auth/token", json={"username": "canbo1", "password": "tthcc-canbo"}
    )
    assert r.status_code == 200, r.get_json()
    box_db.dispose()


def test_a_change_the_hub_cannot_project_stops_projection_not_the_link(
    hub, database, centre, box_token, demo
):
    from server.cli import cli
    from server.models import Service, SyncBox, Ticket
    from server.services import issuing

    box_db = centre.extensions["tthcc_db"]
    with box_db.transaction() as s:  # a service configured on the box only
        field_id = s.scalars(select(Service.field_id)).first()
        extra = Service(
            centre_id=centre.centre_id, field_id=field_id, code="RIENG", name="Riêng của hộp"
        )
        s.add(extra)
        s.flush()
        issuing.issue_ticket(s, service_id=extra.id, now=T0)
    serve_citizens(box_db, centre.centre_id, 1, T0)
    result = push(box_db, Hub(hub, box_token))
    total = len(_outbox_seqs(box_db))
    assert result.acked_seq == total and result.pending == 0  # delivered, acknowledged
    with database.transaction() as s:
        box = s.get(SyncBox, box_token[:32])
        assert (
            box.projected_seq == 0 and "'RIENG' is not configured at the hub" in box.project_error
        )
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0  # nothing half-done
    # Stored but not projected: kept by pruning, however old (docs/sync.md, "Retention").
    with database.transaction() as s:
        assert prune(s, datetime.now(UTC) + timedelta(days=400))["inbox_pruned"] == 0
    assert len(_inbox(database)) == total
    with database.transaction() as s:  # the province adds the service: projection resumes
        s.add(
            Service(centre_id=demo.centre_id, field_id=demo_field(s, demo), code="RIENG", name="R")
        )
    out = hub.test_cli_runner().invoke(cli, ["sync", "project"])
    assert json.loads(out.output) | {"box": None} == {
        "box": None,
        "projected": total,
        "projected_seq": total,
        "last_seq": total,
        "error": "",
    }
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2
    with database.transaction() as s:  # projected and past the period: pruned
        assert prune(s, datetime.now(UTC) + timedelta(days=31))["inbox_pruned"] == total
    assert _inbox(database) == []


def test_pruning_keeps_what_is_not_delivered_and_a_resent_change_stays_a_duplicate(
    hub, database, centre, box_token
):
    from server.cli import cli
    from server.models import Ticket, TicketEvent

    box_db = centre.extensions["tthcc_db"]
    link = Hub(hub, box_token)
    serve_citizens(box_db, centre.centre_id, 3, T0)
    push(box_db, link)
    delivered = _outbox_seqs(box_db)
    with box_db.transaction() as s:
        resend = read_batch(s, 0, len(delivered))
    serve_citizens(box_db, centre.centre_id, 2, T0 + timedelta(hours=1))  # not delivered yet
    pending = [q for q in _outbox_seqs(box_db) if q > delivered[-1]]
    assert pending

    def hub_rows() -> tuple[int, int]:
        with database.transaction() as s:
            return (
                s.scalar(select(func.count()).select_from(Ticket)),
                s.scalar(select(func.count()).select_from(TicketEvent)),
            )

    def send_again() -> dict:
        body = {"box": box_token.split(".")[0], "centre": "BN-KINHBAC", "after": 0}
        status, reply = link({**body, "events": resend})
        assert status == 200
        return reply

    # Within the retention period nothing goes (the CLI, on the box and on the hub), and a
    # change sent again is a duplicate.
    for app in (centre, hub):
        out = app.test_cli_runner().invoke(cli, ["sync", "prune", "--days", "30"])
        assert out.exit_code == 0, out.output
        reply = json.loads(out.output)
        assert reply.get("outbox_pruned", 0) == reply["inbox_pruned"] == 0
    assert send_again() == {"acked": len(delivered), "received": 0, "duplicates": len(delivered)}
    before = hub_rows()
    assert before == (3, 12)
    # Past it: the box keeps only what the hub has not acknowledged, the hub nothing
    # projected …
    later = datetime.now(UTC) + timedelta(days=31)
    with box_db.transaction() as s:
        assert prune(s, later)["outbox_pruned"] == len(delivered)
    assert _outbox_seqs(box_db) == pending
    with database.transaction() as s:
        assert prune(s, later)["inbox_pruned"] == len(delivered)
    # … and a change sent again is still a duplicate (the mark, not the inbox row), the
    # pending ones then arrive once.
    assert send_again() == {"acked": len(delivered), "received": 0, "duplicates": len(delivered)}
    assert hub_rows() == before
    result = push(box_db, link)
    assert (result.received, result.duplicates, result.pending) == (len(pending), 0, 0)
    assert hub_rows() == (5, 20)
    assert [r[0] for r in _inbox(database)] == pending


def demo_field(session, demo) -> int:
    from server.models import Field

    return session.scalars(select(Field.id).where(Field.centre_id == demo.centre_id)).first()


def test_days_delivered_late_are_folded_again_so_the_report_counts_them(
    hub, database, centre, box_token, demo
):
    from server.models import ReportDay, ReportRollupDay
    from server.services.province_reports import build_province_report
    from server.services.reports import period_for

    def report(db) -> dict:
        later = T0 + timedelta(days=6)  # the box's day is long settled
        rows = []
        for source in ("rollup", "direct"):  # the roll-up of the day, and every ticket
            with db.transaction() as s:
                centre_id = s.scalar(select(Centre.id).where(Centre.code == "BN-KINHBAC"))
                got = build_province_report(
                    s,
                    period_for("month", T0.date()),
                    centre_ids=[centre_id],
                    now=later,
                    source=source,
                )
            row = got["groups"][0]["rows"][0]  # a mean is a sum in another order: to 1e-6
            rows.append({k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()})
        assert rows[0] == rows[1]
        row = rows[0]
        return {k: row[k] for k in ("issued", "served", "ratings_total", "satisfaction_index")}

    box_db = centre.extensions["tthcc_db"]
    serve_citizens(box_db, centre.centre_id, 3, T0)  # a day with the link cut …
    assert report(database)["issued"] == 0  # … the hub folds that day empty meanwhile
    with database.transaction() as s:
        assert s.get(ReportDay, (demo.centre_id, T0.date())) is not None
        assert s.get(ReportRollupDay, (demo.centre_id, T0.date())) is not None
    push(box_db, Hub(hub, box_token))  # days later, the link is back
    assert (
        report(database)
        == report(box_db)
        == {
            "issued": 3,
            "served": 3,
            "ratings_total": 3,
            "satisfaction_index": 100.0,
        }
    )


def test_a_centre_that_ran_alone_delivers_its_history_first_then_its_new_changes(
    hub, database, box_token, centre_template, tmp_path
):
    """A centre that ran on its own before joining the province: `tthcc sync enable` queues
    its history (once), so the hub's reports cover its earlier days too."""
    from server.app import create_app
    from server.config import Config
    from server.models import Ticket
    from server.sync.cli import enable_from_config

    shutil.copy(centre_template, tmp_path / "centre.sqlite3")
    box = create_app(
        Config.from_env(
            {},
            instance_path=tmp_path / "centre",
            database_url=f"sqlite:///{tmp_path / 'centre.sqlite3'}",
            secret_key="test-secret",
            testing=True,
            sync_token=box_token,
        )
    )
    box_db = box.extensions["tthcc_db"]
    with box_db.transaction() as s:
        centre_id = s.scalar(select(Centre.id).where(Centre.code == "BN-KINHBAC"))
    serve_citizens(box_db, centre_id, 3, T0 - timedelta(days=2))  # before joining
    assert _outbox_seqs(box_db) == []  # not a box yet: nothing captured
    with box.app_context():
        _box_id, queued = enable_from_config(box.config["TTHCC"])
        assert enable_from_config(box.config["TTHCC"])[1] == 0  # once only
    # 3 tickets, their 12 transitions, 3 ratings, and the 3 counters' openings.
    assert queued == 3 + 12 + 3 + 3 == len(_outbox_seqs(box_db))
    serve_citizens(box_db, centre_id, 1, T0)  # the first day as a box
    result = push(box_db, Hub(hub, box_token))
    # Then the new citizen: ticket, its 3 updates, 4 transitions, rating (counter already open).
    assert (result.sent, result.duplicates, result.pending) == (queued + 9, 0, 0)
    received = _inbox(database)
    tables = [r[2] for r in received]
    assert tables[:3] == ["tickets"] * 3  # the history first, referenced rows first
    with database.transaction() as s:
        days = sorted(
            s.scalars(
                select(Ticket.day)
                .join(Centre, Centre.id == Ticket.centre_id)
                .where(Centre.code == "BN-KINHBAC", Ticket.status == "done")
            )
        )
    assert days == [(T0 - timedelta(days=2)).date()] * 3 + [T0.date()]
    box_db.dispose()


def test_a_box_refuses_edits_of_configuration_the_hub_owns_and_keeps_its_own_stations(centre, hub):
    """On a centre box, services, counters, procedures, users… come from the hub: an edit is
    refused with a message saying where to make it (not applied, then silently overwritten
    at the next pull). Stations are the centre's own. The hub itself edits as before."""
    from server.models import Procedure, Service, Station

    def admin_client(app):
        client = app.test_client()
        r = client.post("/api/v1/auth/token", json={"username": "admin", "password": "tthcc-admin"})
        return client, {"Authorization": f"Bearer {r.get_json()['token']}"}

    client, auth = admin_client(centre)
    box_db = centre.extensions["tthcc_db"]
    with box_db.transaction() as s:
        service = s.scalars(select(Service).where(Service.centre_id == centre.centre_id)).first()
        service_id, service_name = service.id, service.name
        procedure_id = s.scalars(select(Procedure.id)).first()
        station_id = s.scalars(select(Station.id).where(Station.code == "KIOSK-1")).one()
        user_id = s.scalar(text("SELECT id FROM users WHERE username = 'canbo1'"))
    refused = [
        client.patch(
            f"/api/v1/admin/services/{service_id}", json={"name": "Sửa ở hộp"}, headers=auth
        ),
        client.post(
            "/api/v1/admin/counters", json={"number": 42, "name": "Quầy mới"}, headers=auth
        ),
        client.delete(f"/api/v1/admin/procedures/{procedure_id}", headers=auth),
        client.post(
            f"/api/v1/admin/users/{user_id}/password",
            json={"password": "mat-khau-moi"},
            headers=auth,
        ),
    ]
    for r in refused:
        assert r.status_code == 409, r.get_json()
        assert r.get_json()["error"] == "owned_by_hub"
        assert "máy chủ tỉnh" in r.get_json()["message"]
    with box_db.transaction() as s:
        assert s.get(Service, service_id).name == service_name  # nothing applied
    kept = client.patch(
        f"/api/v1/admin/stations/{station_id}", json={"name": "Ki-ốt cửa chính"}, headers=auth
    )
    assert kept.status_code == 200, kept.get_json()
    hub_client, hub_auth = admin_client(hub)
    with hub.extensions["tthcc_db"].transaction() as s:
        hub_service = s.scalars(select(Service.id)).first()
    r = hub_client.patch(
        f"/api/v1/admin/services/{hub_service}", json={"name": "Sửa ở tỉnh"}, headers=hub_auth
    )
    assert r.status_code == 200, r.get_json()

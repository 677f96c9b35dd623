"""numbering rows: the line's waiting count, kept by triggers on tickets

`queue.updated` carries the waiting count of every line of the centre; counting the
waiting tickets cost a scan of them on every call and every issue (~0.25 ms per 1,000
waiting). The (service, day) numbering row now carries `waiting`, kept exact by triggers
on `tickets` in the same transaction, whichever path changes a ticket (the lifecycle store,
issuing, the hub's projection, a test's factory): reading the counts is a look-up of the
centre's numbering rows of the day.

Lock order (docs/lifecycle.md): the trigger updates the numbering row when the ticket row
changes, so after the counter and the ticket, as the numbering rows always come; a ticket
moving between two lines updates the two rows in service id order.

Revision ID: d5e6f7a8b9c0
Revises: e4f6a8b0c2d1
Create Date: 2026-12-05 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d5e6f7a8b9c0"
down_revision = "e4f6a8b0c2d1"
branch_labels = None
depends_on = None

#: The row of (service, day), created when absent (a transfer into a line that issued
#: nothing that day), then moved by `delta`. `{s}`, `{d}`: the ticket's columns.
_SQLITE_ADD = (
    "INSERT OR IGNORE INTO number_sequences (service_id, day, cycle, issued, waiting) "
    "VALUES ({s}, {d}, 0, 0, 0); "
    "UPDATE number_sequences SET waiting = waiting + ({delta}) "
    "WHERE service_id = {s} AND day = {d};"
)

SQLITE_TRIGGERS = {
    "line_waiting_insert": (
        "AFTER INSERT ON tickets WHEN NEW.status = 'waiting' BEGIN "
        + _SQLITE_ADD.format(s="NEW.service_id", d="NEW.day", delta="1")
        + " END"
    ),
    "line_waiting_delete": (
        "AFTER DELETE ON tickets WHEN OLD.status = 'waiting' BEGIN "
        + _SQLITE_ADD.format(s="OLD.service_id", d="OLD.day", delta="-1")
        + " END"
    ),
    # SQLite runs one writer at a time: the order of the two rows does not matter here.
    "line_waiting_leave": (
        "AFTER UPDATE OF status, service_id, day ON tickets "
        "WHEN OLD.status = 'waiting' AND (NEW.status IS NOT 'waiting' "
        "OR NEW.service_id IS NOT OLD.service_id OR NEW.day IS NOT OLD.day) BEGIN "
        + _SQLITE_ADD.format(s="OLD.service_id", d="OLD.day", delta="-1")
        + " END"
    ),
    "line_waiting_join": (
        "AFTER UPDATE OF status, service_id, day ON tickets "
        "WHEN NEW.status = 'waiting' AND (OLD.status IS NOT 'waiting' "
        "OR NEW.service_id IS NOT OLD.service_id OR NEW.day IS NOT OLD.day) BEGIN "
        + _SQLITE_ADD.format(s="NEW.service_id", d="NEW.day", delta="1")
        + " END"
    ),
}

PG_FUNCTIONS = [
    """
CREATE FUNCTION line_waiting_add(p_service integer, p_day date, p_delta integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE number_sequences SET waiting = waiting + p_delta
    WHERE service_id = p_service AND day = p_day;
    IF NOT FOUND THEN
        INSERT INTO number_sequences (service_id, day, cycle, issued, waiting)
        VALUES (p_service, p_day, 0, 0, p_delta)
        ON CONFLICT (service_id, day)
        DO UPDATE SET waiting = number_sequences.waiting + EXCLUDED.waiting;
    END IF;
END $$
""",
    """
CREATE FUNCTION line_waiting_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM line_waiting_add(NEW.service_id, NEW.day, 1);
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM line_waiting_add(OLD.service_id, OLD.day, -1);
        RETURN NULL;
    END IF;
    IF OLD.status = 'waiting' AND NEW.status = 'waiting' THEN
        -- a move between lines: the two rows in service id order (no deadlock between
        -- two transfers in opposite directions)
        IF (OLD.service_id, OLD.day) < (NEW.service_id, NEW.day) THEN
            PERFORM line_waiting_add(OLD.service_id, OLD.day, -1);
            PERFORM line_waiting_add(NEW.service_id, NEW.day, 1);
        ELSE
            PERFORM line_waiting_add(NEW.service_id, NEW.day, 1);
            PERFORM line_waiting_add(OLD.service_id, OLD.day, -1);
        END IF;
    ELSIF OLD.status = 'waiting' THEN
        PERFORM line_waiting_add(OLD.service_id, OLD.day, -1);
    ELSE
        PERFORM line_waiting_add(NEW.service_id, NEW.day, 1);
    END IF;
    RETURN NULL;
END $$
""",
]

PG_TRIGGERS = [
    "CREATE TRIGGER line_waiting_insert AFTER INSERT ON tickets FOR EACH ROW "
    "WHEN (NEW.status = 'waiting') EXECUTE FUNCTION line_waiting_count()",
    "CREATE TRIGGER line_waiting_delete AFTER DELETE ON tickets FOR EACH ROW "
    "WHEN (OLD.status = 'waiting') EXECUTE FUNCTION line_waiting_count()",
    "CREATE TRIGGER line_waiting_update AFTER UPDATE OF status, service_id, day ON tickets "
    "FOR EACH ROW WHEN ((OLD.status = 'waiting' OR NEW.status = 'waiting') AND "
    "(OLD.status IS DISTINCT FROM NEW.status OR OLD.service_id IS DISTINCT FROM "
    "NEW.service_id OR OLD.day IS DISTINCT FROM NEW.day)) "
    "EXECUTE FUNCTION line_waiting_count()",
]


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy, which would drop the tables' triggers on SQLite).
    op.add_column(
        "number_sequences",
        sa.Column("waiting", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute(
        "INSERT INTO number_sequences (service_id, day, cycle, issued, waiting) "
        "SELECT t.service_id, t.day, 0, 0, 0 FROM tickets t WHERE t.status = 'waiting' "
        "AND NOT EXISTS (SELECT 1 FROM number_sequences n "
        "WHERE n.service_id = t.service_id AND n.day = t.day) "
        "GROUP BY t.service_id, t.day"
    )
    op.execute(
        "UPDATE number_sequences SET waiting = (SELECT count(*) FROM tickets t "
        "WHERE t.service_id = number_sequences.service_id "
        "AND t.day = number_sequences.day AND t.status = 'waiting')"
    )
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        for statement in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name in ("line_waiting_insert", "line_waiting_delete", "line_waiting_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON tickets")
        op.execute("DROP FUNCTION IF EXISTS line_waiting_count()")
        op.execute("DROP FUNCTION IF EXISTS line_waiting_add(integer, date, integer)")
    op.drop_column("number_sequences", "waiting")

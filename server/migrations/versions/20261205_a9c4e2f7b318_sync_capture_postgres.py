"""sync: capture on a PostgreSQL centre box too (issue 13, item 2)

The SQLite triggers of 5d0c7a1e9b24 rely on SQLite's single writer for `seq` order to be
commit order. PostgreSQL hands out sequence values to concurrent transactions, which may
commit in another order: a pusher reading `seq > mark` could pass a seq whose transaction
commits later, and that change would never be delivered. So the capture function first
takes one transaction-level advisory lock (held until commit): capturing transactions run
one at a time from their first captured change, and `seq` order is commit order again. A
box's server process also takes the same lock before its first write of each transaction
(server/sync/capture.py: `serialise_box_writers`), so a transaction never waits for it
while holding a row lock another capturing transaction needs (no deadlock).

The function writes nothing unless `sync_link` has a row, as on SQLite: a hub (or a
PostgreSQL hall without a hub) captures nothing and takes no lock.

Revision ID: a9c4e2f7b318
Revises: f3b8d2a6c417
Create Date: 2026-12-05 18:00:00
"""

from __future__ import annotations

from alembic import op

revision = "a9c4e2f7b318"
down_revision = "f3b8d2a6c417"
branch_labels = None
depends_on = None

#: The advisory lock's key (server/sync/capture.py BOX_WRITE_LOCK, frozen here).
LOCK_KEY = 7_421_380_301

#: (table, operation, column for UPDATE OF, or "" for every update): 5d0c7a1e9b24's list
#: and b4d1e7a3c925's ticket updates.
CAPTURED = [
    ("tickets", "insert", ""),
    ("tickets", "update", ""),
    ("ticket_events", "insert", ""),
    ("counter_events", "insert", ""),
    ("ratings", "insert", ""),
    ("ratings", "update", ""),
    ("print_jobs", "insert", ""),
    ("print_jobs", "update", ""),
    ("dossiers", "insert", ""),
    ("dossiers", "update", ""),
    ("dossier_handoffs", "insert", ""),
    ("feedback", "insert", ""),
    ("feedback", "update", ""),
    ("feedback_events", "insert", ""),
    ("stations", "update", "device_states"),
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION sync_capture() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM sync_link) THEN
                PERFORM pg_advisory_xact_lock({LOCK_KEY});
                INSERT INTO sync_outbox (table_name, op, row_id, captured_at)
                VALUES (
                    TG_TABLE_NAME, lower(TG_OP), NEW.id,
                    to_char(clock_timestamp() AT TIME ZONE 'UTC',
                            'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                );
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    for table, operation, columns in CAPTURED:
        of = f" OF {columns}" if columns else ""
        op.execute(
            f"CREATE TRIGGER sync_capture_{table}_{operation} "
            f"AFTER {operation.upper()}{of} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION sync_capture()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, operation, _columns in CAPTURED:
        op.execute(f"DROP TRIGGER IF EXISTS sync_capture_{table}_{operation} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS sync_capture()")

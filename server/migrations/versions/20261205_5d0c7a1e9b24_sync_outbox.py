"""sync: the centre box's outbox and link, the hub's boxes and inbox (issue 13, item 2)

On SQLite (the centre box), triggers capture every change of the delivered tables into
`sync_outbox` in the same transaction, but only while `sync_link` has a row (the database
is a centre box): a hub or a single box without a hub writes nothing more. The list of
tables is frozen here as of this revision; `server/sync/capture.py` names the same ones and
a test checks they agree.

Revision ID: 5d0c7a1e9b24
Revises: 3e8f1a6c2b90
Create Date: 2026-12-05 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5d0c7a1e9b24"
down_revision = "3e8f1a6c2b90"
branch_labels = None
depends_on = None

#: (table, operation, column list for UPDATE OF, or "" for every update)
CAPTURED = [
    ("tickets", "insert", ""),
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


def _trigger_name(table: str, operation: str) -> str:
    return f"sync_capture_{table}_{operation}"


def upgrade() -> None:
    op.create_table(
        "sync_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("box_id", sa.String(length=40), nullable=False),
        sa.Column("centre_code", sa.String(length=40), nullable=False),
        sa.Column("acked_seq", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_push_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_link")),
    )
    op.create_table(
        "sync_outbox",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("op", sa.String(length=10), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("captured_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_outbox")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sync_boxes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_push_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_sync_boxes_centre_id_centres"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_boxes")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sync_boxes_token_hash")),
    )
    op.create_table(
        "sync_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("box_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("op", sa.String(length=10), nullable=False),
        sa.Column("ref", sa.String(length=120), nullable=False),
        sa.Column("captured_at", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["box_id"],
            ["sync_boxes.id"],
            name=op.f("fk_sync_inbox_box_id_sync_boxes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_sync_inbox_centre_id_centres"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_inbox")),
        sa.UniqueConstraint("box_id", "seq", name=op.f("uq_sync_inbox_box_id_seq")),
    )
    if op.get_bind().dialect.name != "sqlite":
        return  # a PostgreSQL centre box is not built yet (docs/sync.md, "What remains")
    for table, operation, columns in CAPTURED:
        of = f" OF {columns}" if columns else ""
        op.execute(
            f"CREATE TRIGGER {_trigger_name(table, operation)} "
            f"AFTER {operation.upper()}{of} ON {table} "
            "WHEN EXISTS (SELECT 1 FROM sync_link) "
            "BEGIN INSERT INTO sync_outbox (table_name, op, row_id, captured_at) "
            f"VALUES ('{table}', '{operation}', NEW.id, "
            "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, operation, _columns in CAPTURED:
            op.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, operation)}")
    op.drop_table("sync_inbox")
    op.drop_table("sync_boxes")
    op.drop_table("sync_outbox")
    op.drop_table("sync_link")

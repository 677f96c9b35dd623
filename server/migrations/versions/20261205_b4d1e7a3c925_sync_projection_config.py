"""sync: the hub projects what boxes deliver; the box pulls the hub's configuration

On the hub: `sync_ids` maps a box's row ids to the hub's ((box, table, box id) → hub id),
`sync_boxes.projected_seq` / `project_error` say how far the box's delivered changes are in
the hub's own tables, and `sync_inbox.keys` keeps the natural keys (service code, counter
number, username …) of the configuration a change refers to. On a centre box: a ticket's
updates are captured too (its state as the hall moved it), and `sync_link.config_version`
is the version of the hub's configuration last applied.

Revision ID: b4d1e7a3c925
Revises: 7e2a9c4b1d30
Create Date: 2026-12-05 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b4d1e7a3c925"
down_revision = "7e2a9c4b1d30"
branch_labels = None
depends_on = None

TRIGGER = "sync_capture_tickets_update"


def upgrade() -> None:
    op.create_table(
        "sync_ids",
        sa.Column("box_id", sa.String(length=40), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("box_row_id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["box_id"],
            ["sync_boxes.id"],
            name=op.f("fk_sync_ids_box_id_sync_boxes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("box_id", "table_name", "box_row_id", name=op.f("pk_sync_ids")),
    )
    # Plain ADD COLUMN (no batch copy): the capture triggers name sync_link.
    op.add_column(
        "sync_boxes", sa.Column("projected_seq", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "sync_boxes", sa.Column("project_error", sa.Text(), nullable=False, server_default="")
    )
    op.add_column("sync_inbox", sa.Column("keys", sa.JSON(), nullable=True))
    op.add_column(
        "sync_link",
        sa.Column("config_version", sa.String(length=64), nullable=False, server_default=""),
    )
    op.add_column("sync_link", sa.Column("config_pulled_at", sa.DateTime(timezone=True)))
    op.add_column(
        "sync_link", sa.Column("config_error", sa.Text(), nullable=False, server_default="")
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER UPDATE ON tickets "
            "WHEN EXISTS (SELECT 1 FROM sync_link) "
            "BEGIN INSERT INTO sync_outbox (table_name, op, row_id, captured_at) "
            "VALUES ('tickets', 'update', NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
    for table, column in (
        ("sync_link", "config_error"),
        ("sync_link", "config_pulled_at"),
        ("sync_link", "config_version"),
        ("sync_inbox", "keys"),
        ("sync_boxes", "project_error"),
        ("sync_boxes", "projected_seq"),
    ):
        op.drop_column(table, column)
    op.drop_table("sync_ids")

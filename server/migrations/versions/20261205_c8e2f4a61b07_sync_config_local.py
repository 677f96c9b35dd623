"""sync: the digest of a box's configuration right after it applied the hub's

A box compares it with its configuration now: when they differ, hub-owned configuration
was edited on the box, and the next pull asks the hub unconditionally and overwrites it.

Revision ID: c8e2f4a61b07
Revises: b1c2d3e4f5a6
Create Date: 2026-12-05 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c8e2f4a61b07"
down_revision = "b1c2d3e4f5a6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): the capture triggers name sync_link.
    op.add_column(
        "sync_link",
        sa.Column("config_local", sa.String(length=64), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("sync_link", "config_local")

"""centre kind: commune/ward centres apart from provincial units

The province board and its reports rank commune and ward centres (cấp xã) apart from the
provincial units (cấp tỉnh). Every existing centre is a commune/ward centre until an
administrator says otherwise.

Revision ID: 7a2c9e41d0b3
Revises: 7a8b9c0d1e2f
Create Date: 2026-12-05 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7a2c9e41d0b3"
down_revision = "7a8b9c0d1e2f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "centres",
        sa.Column("kind", sa.String(length=20), nullable=False, server_default="commune"),
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35): a batch rebuild would drop a table others refer to.
    op.execute("ALTER TABLE centres DROP COLUMN kind")

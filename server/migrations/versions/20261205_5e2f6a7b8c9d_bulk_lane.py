"""bulk filers' lane: services.bulk_lane

Revision ID: 5e2f6a7b8c9d
Revises: 4c1d5e6f7a8b
Create Date: 2026-12-05 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5e2f6a7b8c9d"
down_revision = "4c1d5e6f7a8b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "services",
        sa.Column("bulk_lane", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.execute("ALTER TABLE services DROP COLUMN bulk_lane")

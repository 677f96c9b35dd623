"""centre coordinates: where a centre is, for "centres near you with shorter waits"

Latitude and longitude in decimal degrees (WGS 84, as a phone's geolocation gives them);
NULL until an administrator sets them (the public page then leaves the centre out of the
distances, not out of the list of centres).

Revision ID: 3e8f1a6c2b90
Revises: 8b9c0d1e2f3a
Create Date: 2026-12-05 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "3e8f1a6c2b90"
down_revision = "8b9c0d1e2f3a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("centres", sa.Column("latitude", sa.Float(), nullable=True))
    op.add_column("centres", sa.Column("longitude", sa.Float(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35): a batch rebuild would drop a table others refer to.
    op.execute("ALTER TABLE centres DROP COLUMN longitude")
    op.execute("ALTER TABLE centres DROP COLUMN latitude")

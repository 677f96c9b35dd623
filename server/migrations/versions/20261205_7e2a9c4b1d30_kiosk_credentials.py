"""kiosk credentials: a kiosk page proves it runs on a provisioned kiosk PC

An administrator's one-time code is exchanged on the kiosk PC for a credential kept in an
HttpOnly cookie; only hashes are stored (docs/security.md, "Stations").

Revision ID: 7e2a9c4b1d30
Revises: 9c0d1e2f3a4b
Create Date: 2026-12-05 07:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.models.base import UTCDateTime

revision = "7e2a9c4b1d30"
down_revision = "9c0d1e2f3a4b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kiosk_credentials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "station_id",
            sa.Integer(),
            sa.ForeignKey("stations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False, unique=True),
        sa.Column("reusable", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_kiosk_credentials_station_id", "kiosk_credentials", ["station_id"])


def downgrade() -> None:
    op.drop_index("ix_kiosk_credentials_station_id", table_name="kiosk_credentials")
    op.drop_table("kiosk_credentials")

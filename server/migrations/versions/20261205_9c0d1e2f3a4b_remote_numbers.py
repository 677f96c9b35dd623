"""numbers from the phone: services.remote_issuing / remote_per_phone, remote_numbers

Revision ID: 9c0d1e2f3a4b
Revises: 5d0c7a1e9b24
Create Date: 2026-12-05 07:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "9c0d1e2f3a4b"
down_revision = "5d0c7a1e9b24"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "services",
        sa.Column("remote_issuing", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "services",
        sa.Column("remote_per_phone", sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_table(
        "remote_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_masked", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_station_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_remote_numbers_centre_id_centres"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["checked_in_station_id"],
            ["stations.id"],
            name=op.f("fk_remote_numbers_checked_in_station_id_stations"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_remote_numbers_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_remote_numbers_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_numbers")),
        sa.UniqueConstraint(
            "centre_id", "day", "code", name=op.f("uq_remote_numbers_centre_id_day_code")
        ),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_remote_numbers_ticket_id")),
    )
    op.create_index(
        "ix_remote_numbers_phone_day", "remote_numbers", ["centre_id", "day", "phone_hash"]
    )


def downgrade() -> None:
    op.drop_index("ix_remote_numbers_phone_day", table_name="remote_numbers")
    op.drop_table("remote_numbers")
    for column in ("remote_per_phone", "remote_issuing"):
        op.execute(f"ALTER TABLE services DROP COLUMN {column}")

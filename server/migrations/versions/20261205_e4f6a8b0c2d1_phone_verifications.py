"""phone verifications: one-time SMS codes proving a phone number is the citizen's

Revision ID: e4f6a8b0c2d1
Revises: d7a3c5e9f214
Create Date: 2026-12-05 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e4f6a8b0c2d1"
down_revision = "d7a3c5e9f214"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "phone_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_masked", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_verifications")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_phone_verifications_token_hash")),
    )
    op.create_index(
        "ix_phone_verifications_phone", "phone_verifications", ["phone_hash", "created_at"]
    )
    op.create_index("ix_phone_verifications_created", "phone_verifications", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_phone_verifications_created", table_name="phone_verifications")
    op.drop_index("ix_phone_verifications_phone", table_name="phone_verifications")
    op.drop_table("phone_verifications")

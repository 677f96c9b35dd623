"""notifications: notify_subscriptions (consent), notify_messages (delivery outbox)

Revision ID: b1c2d3e4f5a6
Revises: b4d1e7a3c925
Create Date: 2026-12-05 10:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b1c2d3e4f5a6"
down_revision = "b4d1e7a3c925"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "notify_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=True),
        sa.Column("p256dh", sa.String(length=200), nullable=True),
        sa.Column("auth", sa.String(length=64), nullable=True),
        sa.Column("phone_sealed", sa.Text(), nullable=True),
        sa.Column("phone_masked", sa.String(length=16), nullable=True),
        sa.Column("ahead_threshold", sa.Integer(), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=20), nullable=True),
        _fk("notify_subscriptions", "centre_id", "centres"),
        _fk("notify_subscriptions", "ticket_id", "tickets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_subscriptions")),
    )
    op.create_index("ix_notify_subscriptions_ticket", "notify_subscriptions", ["ticket_id"])
    op.create_table(
        "notify_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dedupe_key", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_ref", sa.String(length=100), nullable=True),
        _fk("notify_messages", "subscription_id", "notify_subscriptions"),
        _fk("notify_messages", "centre_id", "centres"),
        _fk("notify_messages", "ticket_id", "tickets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_messages")),
        sa.UniqueConstraint(
            "subscription_id",
            "dedupe_key",
            name=op.f("uq_notify_messages_subscription_id_dedupe_key"),
        ),
    )
    op.create_index("ix_notify_messages_due", "notify_messages", ["status", "next_attempt_at"])
    op.create_index("ix_notify_messages_centre", "notify_messages", ["centre_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_notify_messages_centre", table_name="notify_messages")
    op.drop_index("ix_notify_messages_due", table_name="notify_messages")
    op.drop_table("notify_messages")
    op.drop_index("ix_notify_subscriptions_ticket", table_name="notify_subscriptions")
    op.drop_table("notify_subscriptions")

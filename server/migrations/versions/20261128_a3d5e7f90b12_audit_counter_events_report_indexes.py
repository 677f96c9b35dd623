"""audit log, counter events, report facts

Revision ID: a3d5e7f90b12
Revises: c7897209fd72
Create Date: 2026-11-28 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = "a3d5e7f90b12"
down_revision = "c7897209fd72"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counter_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_counter_events_centre_id_centres"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["counters.id"],
            name=op.f("fk_counter_events_counter_id_counters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["users.id"], name=op.f("fk_counter_events_staff_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_events")),
    )
    op.create_index("ix_counter_events_centre_at", "counter_events", ["centre_id", "at"])
    op.create_index("ix_counter_events_staff_at", "counter_events", ["staff_id", "at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_audit_log_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_centre_at", "audit_log", ["centre_id", "at"])
    op.create_table(
        "report_ticket_facts",
        sa.Column("ticket_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *[
            sa.Column(name, sa.Float(), nullable=True)
            for name in ("issue_at", "wait", "finish_at", "service_time")
        ],
        *[
            sa.Column(name, sa.Integer(), nullable=True)
            for name in (
                "issue_service",
                "call_counter",
                "call_staff",
                "fin_service",
                "fin_counter",
                "fin_staff",
                "ns_service",
                "ns_counter",
                "ns_staff",
                "tr_service",
                "tr_staff",
            )
        ],
        sa.Column("n_no_show", sa.Integer(), nullable=False),
        sa.Column("n_transfer", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_report_ticket_facts_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "centre_id", "day", "ticket_id", name=op.f("pk_report_ticket_facts")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_days",
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("folded_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["centres.id"],
            name=op.f("fk_report_days_centre_id_centres"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("centre_id", "day", name=op.f("pk_report_days")),
    )


def downgrade() -> None:
    op.drop_table("report_days")
    op.drop_table("report_ticket_facts")
    op.drop_index("ix_audit_log_centre_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_counter_events_staff_at", table_name="counter_events")
    op.drop_index("ix_counter_events_centre_at", table_name="counter_events")
    op.drop_table("counter_events")

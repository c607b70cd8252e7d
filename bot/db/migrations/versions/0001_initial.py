"""Initial schema: residents, staff, tickets and their audit trail, outbox, escalations, conversations.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def upgrade() -> None:
    _people()
    _tickets()
    _ticket_details()
    _delivery()


def _people() -> None:
    op.create_table(
        "residents", _id(),
        sa.Column("telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_residents"),
        sa.UniqueConstraint("telegram_id", name="uq_residents_telegram_id"),
    )
    op.create_table(
        "staff", _id(),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff"),
        sa.CheckConstraint("role IN ('staff', 'head', 'ombudsman', 'admin', 'operator')", name="ck_staff_role"),
    )
    op.create_index("ix_staff_telegram_id", "staff", ["telegram_id"])


def _tickets() -> None:
    op.create_table(
        "tickets", _id(),
        sa.Column("ref", sa.String(32), nullable=False),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("outside_body", sa.String(64), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("ack_due", TIME, nullable=True),
        sa.Column("resolve_due", TIME, nullable=True),
        sa.Column("reject_reason", sa.String(32), nullable=True),
        sa.Column("duplicate_of", sa.String(32), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.UniqueConstraint("ref", name="uq_tickets_ref"),
        sa.ForeignKeyConstraint(["reporter_id"], ["residents.id"], name="fk_tickets_reporter_id_residents",
                                ondelete="SET NULL"),
    )
    op.create_index("ix_tickets_status_department_resolve_due", "tickets", ["status", "department", "resolve_due"])
    op.create_index("ix_tickets_reporter_id", "tickets", ["reporter_id"])
    op.create_index("ix_tickets_category_lat_lon", "tickets", ["category", "lat", "lon"])
    op.create_table(
        "ticket_counters",
        sa.Column("prefix", sa.String(8), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year", name="pk_ticket_counters"),
    )


def _ticket_details() -> None:
    op.create_table(
        "ticket_photos", _id(),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Text(), nullable=False),
        sa.Column("file_unique_id", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_photos"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name="fk_ticket_photos_ticket_id_tickets",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_ticket_photos_ticket_id", "ticket_photos", ["ticket_id"])
    op.create_table(
        "ticket_supporters",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "resident_id", name="pk_ticket_supporters"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name="fk_ticket_supporters_ticket_id_tickets",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"],
                                name="fk_ticket_supporters_resident_id_residents", ondelete="CASCADE"),
    )
    op.create_index("ix_ticket_supporters_resident_id", "ticket_supporters", ["resident_id"])
    op.create_table(
        "ticket_events", _id(),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=True),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_events"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name="fk_ticket_events_ticket_id_tickets"),
    )
    op.create_index("ix_ticket_events_ticket_id", "ticket_events", ["ticket_id"])
    op.create_table(
        "escalations", _id(),
        sa.Column("ticket_ref", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("opened_at", TIME, nullable=False),
        sa.Column("deadline", TIME, nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("decided_at", TIME, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_escalations"),
        sa.ForeignKeyConstraint(["ticket_ref"], ["tickets.ref"], name="fk_escalations_ticket_ref_tickets"),
    )
    op.create_index("ix_escalations_ticket_ref", "escalations", ["ticket_ref"])


def _delivery() -> None:
    op.create_table(
        "conversations",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name="pk_conversations"),
    )
    op.create_table(
        "outbox", _id(),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("ticket_ref", sa.String(32), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("not_before", TIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sent_message_id", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_until", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_outbox_status"),
    )
    op.create_index("ix_outbox_status_not_before", "outbox", ["status", "not_before"])
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("update_id", name="pk_processed_updates"),
    )
    op.create_index("ix_processed_updates_processed_at", "processed_updates", ["processed_at"])


def downgrade() -> None:
    for table in ("processed_updates", "outbox", "conversations", "escalations", "ticket_events",
                  "ticket_supporters", "ticket_photos", "ticket_counters", "tickets", "staff", "residents"):
        op.drop_table(table)

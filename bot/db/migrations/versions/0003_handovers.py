"""Handovers to a human operator at the citizen's line, and the messages exchanged during them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
STATUSES = "status IN ('waiting', 'claimed', 'awaiting_place', 'ended', 'ticketed')"


def upgrade() -> None:
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", TIME, nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("operator_name", sa.String(200), nullable=True),
        sa.Column("claimed_at", TIME, nullable=True),
        sa.Column("ended_at", TIME, nullable=True),
        sa.Column("ended_by", sa.String(16), nullable=True),
        sa.Column("ticket_ref", sa.String(32), nullable=True),
        sa.CheckConstraint(STATUSES, name="ck_handovers_status"),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name="fk_handovers_resident_id_residents",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_handovers"),
    )
    op.create_index("ix_handovers_resident_id", "handovers", ["resident_id"])
    op.create_index("ix_handovers_chat_id", "handovers", ["chat_id"])
    op.create_index("ix_handovers_status", "handovers", ["status"])
    op.create_table(
        "handover_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photo", sa.Text(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["handover_id"], ["handovers.id"], name="fk_handover_messages_handover_id_handovers",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_handover_messages"),
    )
    op.create_index("ix_handover_messages_handover_id", "handover_messages", ["handover_id"])


def downgrade() -> None:
    op.drop_table("handover_messages")
    op.drop_table("handovers")

"""Working tickets: the scheduler's marks on tickets, who decided an escalation, and chats bound by the CLI.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
TICKET_MARKS = ("fixed_at", "asked_at", "ack_reminded_at", "resolve_reminded_at", "scheduled_for")


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for name in TICKET_MARKS:
            batch.add_column(sa.Column(name, TIME, nullable=True))
        batch.add_column(sa.Column("breach_level", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("decided_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("department", sa.String(64), nullable=True))
    op.create_table(
        "chat_bindings",
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_chat_bindings"),
    )


def downgrade() -> None:
    op.drop_table("chat_bindings")
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("department")
        batch.drop_column("decided_by")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("breach_level")
        for name in reversed(TICKET_MARKS):
            batch.drop_column(name)

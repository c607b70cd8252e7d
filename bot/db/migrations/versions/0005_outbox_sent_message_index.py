"""The outbox is indexed by chat and sent message id: a reply in a group (an operator's to a relay, a department's
to the Citizen's Advocate's request to explain) is matched to the notification that became the replied message,
and without the index that was a scan of the whole outbox.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_chat_id_sent_message_id", "outbox", ["chat_id", "sent_message_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_chat_id_sent_message_id", table_name="outbox")

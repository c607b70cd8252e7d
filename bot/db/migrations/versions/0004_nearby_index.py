"""The nearby-duplicate search's index leads with category and status, then lat and lon: the search asks for the
open tickets of one category within a small box, and with 1,000,000 tickets the old (category, lat, lon) index
left PostgreSQL combining it with the status index (19 ms for one search; 0.5 ms now, see docs/performance.md).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""
from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_category_status_lat_lon", "tickets", ["category", "status", "lat", "lon"])
    op.drop_index("ix_tickets_category_lat_lon", table_name="tickets")


def downgrade() -> None:
    op.create_index("ix_tickets_category_lat_lon", "tickets", ["category", "lat", "lon"])
    op.drop_index("ix_tickets_category_status_lat_lon", table_name="tickets")

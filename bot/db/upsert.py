"""INSERT ... ON CONFLICT for the session's backend (SQLite >= 3.35 and PostgreSQL both speak it)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Any) -> Any:
    """A dialect-specific INSERT on `table` offering on_conflict_do_update / on_conflict_do_nothing."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"the helpline supports SQLite and PostgreSQL, not {dialect}")

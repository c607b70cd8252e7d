"""INSERT ... ON CONFLICT for the session's backend (SQLite >= 3.35 and PostgreSQL both speak it)."""
from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Any) -> Any:
    """A dialect-specific INSERT on `table` offering on_conflict_do_update / on_conflict_do_nothing."""
    return _insert(session.get_bind().dialect.name)(table)


def built_once(session: Session, build: Callable[[Callable], Any]) -> Any:
    """build(insert) with the session's backend's insert, built once per backend; the values are given when the
    statement is executed."""
    return _built(session.get_bind().dialect.name, build)


@cache
def _built(dialect: str, build: Callable[[Callable], Any]) -> Any:
    return build(_insert(dialect))


def _insert(dialect: str) -> Callable:
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"the helpline supports SQLite and PostgreSQL, not {dialect}")

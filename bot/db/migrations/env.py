"""Alembic environment: runs on the connection bot.db.migrate hands over, or on the configured URL."""
from __future__ import annotations

import os

from alembic import context

from bot.db.engine import make_engine
from bot.db.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return (context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("HELPLINE_DATABASE_URL")
            or config.get_main_option("sqlalchemy.url") or "sqlite:///var/helpline.db")


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.begin() as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

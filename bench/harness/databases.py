"""Scratch databases for a benchmark run: a SQLite file in a temporary folder, or bench_<name>_<random> on the
local PostgreSQL server (trust auth), dropped afterwards."""
from __future__ import annotations

import secrets
import tempfile
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from bench.benchlib import POSTGRES_ADMIN_URL


@contextmanager
def sqlite_database(name: str):
    with tempfile.TemporaryDirectory(prefix=f"bench_{name}_") as folder:
        yield f"sqlite:///{Path(folder) / 'helpline.db'}"


@contextmanager
def postgres_database(name: str):
    """Yields the URL of a new empty database; raises OSError-like errors when the server is unreachable."""
    database = f"bench_{name}_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        try:
            yield make_url(POSTGRES_ADMIN_URL).set(database=database).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        admin.dispose()

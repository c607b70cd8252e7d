"""Test databases on both backends: SQLite in a temporary directory, PostgreSQL in a database per test session.

Fixtures are defined here so any conftest can re-export them (`from tests.support.db import *`):
  database_url  an empty database (no tables), for migration tests
  migrated_url  a database at the head revision with no rows, for everything else
  uow_factory   a callable returning a fresh SqlUnitOfWork on migrated_url
All three are parametrised over sqlite and postgresql (the latter marked `postgres`). PostgreSQL comes from
HELPLINE_TEST_POSTGRES_URL (default below); when it is unreachable those tests skip, unless
HELPLINE_REQUIRE_POSTGRES=1 (CI), when they fail.
"""
from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import OperationalError

from bot.db import migrate
from bot.db.engine import make_engine
from bot.db.models import Base
from bot.db.uow import SqlUnitOfWork, unit_of_work_factory
from core.tickets import Location, Ticket

POSTGRES_URL = os.environ.get("HELPLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

__all__ = ["db_backend", "database_url", "migrated_url", "db_engine", "uow_factory", "postgres_server",
           "pg_empty_database", "pg_migrated_database", "sqlite_migrated_template"]


def postgres_required() -> bool:
    return os.environ.get("HELPLINE_REQUIRE_POSTGRES") == "1"


def sqlite_url(path: os.PathLike | str) -> str:
    return f"sqlite:///{path}"


class PostgresServer:
    """Creates databases named helpline_test_<random> and drops them all at the end of the session."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        self.admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        self.created: list[str] = []

    def check(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text("SELECT 1"))

    def create(self) -> str:
        name = f"helpline_test_{secrets.token_hex(5)}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


def reset_postgres_schema(url: str) -> None:
    """Back to an empty database: no tables, no alembic_version."""
    _run(url, "SET lock_timeout = '10s'", "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")


def clear_rows(url: str) -> None:
    """Delete every row of the helpline's tables, keeping the schema (and restarting PostgreSQL sequences)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if make_url(url).get_backend_name() == "postgresql":
        _run(url, "SET lock_timeout = '10s'", f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    else:
        _run(url, *(f"DELETE FROM {table}" for table in tables))


def _run(url: str, *statements: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def a_ticket(ref: str = "KOZ-2026-00001", *, category: str = "streetlight", lat: float = 40.3007,
             lon: float = 21.7887, created_at: datetime = T0, **fields) -> Ticket:
    """A plausible new ticket in Kozani; override any field."""
    fields.setdefault("location", Location(lat, lon, "Dimokratias 12"))
    fields.setdefault("department", "lighting")
    return Ticket(ref=ref, municipality="kozani", category=category, description="The street light is dark",
                  created_at=created_at, **fields)


# --- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_URL)
    try:
        server.check()
    except OperationalError as error:
        server.admin.dispose()
        reason = f"PostgreSQL not reachable at {server.admin_url.host}:{server.admin_url.port}: " \
                 f"{str(error.orig).strip().splitlines()[0]}"
        if postgres_required():
            pytest.fail(f"{reason} (HELPLINE_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(reason)
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def pg_empty_database(postgres_server: PostgresServer) -> str:
    return postgres_server.create()


@pytest.fixture(scope="session")
def pg_migrated_database(postgres_server: PostgresServer) -> str:
    url = postgres_server.create()
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def sqlite_migrated_template(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("template") / "helpline.db"
    migrate.upgrade(sqlite_url(path))
    return path


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(db_backend: str, request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty database of the backend under test."""
    if db_backend == "sqlite":
        return sqlite_url(tmp_path / "empty.db")
    url = request.getfixturevalue("pg_empty_database")
    reset_postgres_schema(url)
    return url


@pytest.fixture
def migrated_url(db_backend: str, request: pytest.FixtureRequest, tmp_path) -> str:
    """A database at the head revision with no rows. Do not change its schema (use database_url for that)."""
    if db_backend == "sqlite":
        path = tmp_path / "helpline.db"
        shutil.copyfile(request.getfixturevalue("sqlite_migrated_template"), path)
        return sqlite_url(path)
    url = request.getfixturevalue("pg_migrated_database")
    clear_rows(url)
    return url


@pytest.fixture
def db_engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def uow_factory(db_engine: Engine) -> Callable[[], SqlUnitOfWork]:
    """Call it for a fresh unit of work on a migrated, empty database: `with uow_factory() as uow: ...`."""
    return unit_of_work_factory(db_engine)

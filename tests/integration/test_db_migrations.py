"""The schema comes from Alembic migrations alone, and matches the models exactly."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from bot.db import migrate
from bot.db.engine import make_engine
from bot.db.models import Base


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_upgrade_takes_an_empty_database_to_head(database_url):
    assert migrate.current_revision(database_url) is None
    migrate.upgrade(database_url)
    assert migrate.current_revision(database_url) == migrate.head_revision()
    assert _tables(database_url) == set(Base.metadata.tables)


def test_migrated_schema_is_exactly_the_models(database_url):
    migrate.upgrade(database_url)
    assert _differences(database_url) == []


def test_an_empty_database_differs_from_the_models(database_url):
    assert _differences(database_url), "the comparison must notice missing tables"


def test_upgrade_twice_changes_nothing(database_url):
    migrate.upgrade(database_url)
    migrate.upgrade(database_url)
    assert migrate.current_revision(database_url) == migrate.head_revision()


def test_downgrade_to_base_removes_every_table(database_url):
    migrate.upgrade(database_url)
    migrate.downgrade(database_url, "base")
    assert _tables(database_url) == set()
    assert migrate.current_revision(database_url) is None


def test_sqlite_file_and_its_directory_are_created_from_any_working_directory(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    url = f"sqlite:///{tmp_path / 'deep' / 'var' / 'helpline.db'}"
    migrate.upgrade(url)
    assert (tmp_path / "deep" / "var" / "helpline.db").is_file()
    assert migrate.current_revision(url) == migrate.head_revision()


def test_relative_sqlite_url_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    migrate.upgrade("sqlite:///var/helpline.db")
    assert (tmp_path / "var" / "helpline.db").is_file()


def test_plain_postgresql_url_uses_psycopg_3():
    url = make_engine("postgresql://postgres@127.0.0.1:5432/test").url
    assert url.drivername == "postgresql+psycopg"
    assert make_url(str(url)).database == "test"

"""Schema migrations, run programmatically: `upgrade(url)` is what installs and updates the database."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL

from bot.db.engine import make_engine, normalise_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | URL) -> Config:
    """An Alembic configuration for `url` that works from an installed package, whatever the working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).render_as_string(hide_password=False)
                           .replace("%", "%%"))
    return config


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (creating a SQLite file and its directory if needed)."""
    _ensure_sqlite_directory(url)
    _run(url, command.upgrade, revision)


def downgrade(url: str | URL, revision: str) -> None:
    _run(url, command.downgrade, revision)


def current_revision(url: str | URL) -> str | None:
    """The revision the database is at; None for an empty (or not yet created) database."""
    if _missing_sqlite_file(url):
        return None
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _run(url: str | URL, step, revision: str) -> None:
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)
    finally:
        engine.dispose()


def _sqlite_file(url: str | URL) -> Path | None:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database)
    return None


def _missing_sqlite_file(url: str | URL) -> bool:
    path = _sqlite_file(url)
    return path is not None and not path.exists()


def _ensure_sqlite_directory(url: str | URL) -> None:
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)

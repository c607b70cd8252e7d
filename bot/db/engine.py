"""Engines and sessions for SQLite (the embedded default) and PostgreSQL (production)."""
from __future__ import annotations

import select
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, exc, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str | URL) -> URL:
    """A parsed URL; plain postgresql:// uses psycopg 3, the driver the helpline ships with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine tuned per backend: SQLite waits for concurrent writers (WAL, busy timeout, foreign keys on);
    PostgreSQL checks pooled connections before use."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(parsed, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine, "checkout", _closed_by_server_check(engine))
    return engine


def make_message_engine(url: str | URL, **kwargs: Any) -> Engine | None:
    """The engine of the statements every resident message makes on its own (core.ports.UnitOfWorkFactory with
    autocommit=True: the message's opening read, the conversation's next step, the update's mark): AUTOCOMMIT, and on
    PostgreSQL with synchronous_commit off, so such a write returns once it is in the server's memory instead of
    after its WAL is flushed to disk (the wait was a quarter of a busy bot's time on its event loop). The server
    writes it out within 3 x wal_writer_delay (600 ms by default). Only a crash of the database server itself (not
    of the bot) in that window can lose such a write: the resident finds their conversation a step back, and
    nothing is inconsistent (PostgreSQL's "asynchronous commit"). Tickets, their events and the outbox are written in
    transactions on the main engine, which flush before they return, as before; the first of them also flushes every
    write before it. None for SQLite, whose WAL with synchronous=NORMAL (make_engine) makes the same trade for every
    commit (and where a second engine on sqlite:///:memory: would be another database)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return None
    options = kwargs.pop("connect_args", {})
    kwargs["connect_args"] = {**options, "options": f"{options.get('options', '')} -c synchronous_commit=off".strip()}
    return make_engine(parsed, isolation_level="AUTOCOMMIT", **kwargs)


def _closed_by_server_check(engine: Engine):
    """Before a pooled PostgreSQL connection is used: if the server ended it meanwhile (pg_terminate_backend, a
    restart, an idle timeout), the pool drops it and takes another, as pool_pre_ping does. An idle connection
    receives nothing unasked except, almost always, the server's goodbye, so the socket is asked first (no round
    trip; pool_pre_ping cost one per transaction, four per resident message) and only a connection that has
    something to read is pinged. A connection lost without a word (a dead network) is not noticed here, nor by a
    ping, which would wait for it just the same."""
    def check(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.closed or dbapi_connection.broken:
            raise exc.DisconnectionError("the connection was closed")
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN)
        if not poller.poll(0):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - whatever the driver raised, this connection is done
            raise exc.DisconnectionError(f"the server ended the connection: {error}") from error
    return check


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)

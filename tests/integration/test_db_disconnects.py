"""A PostgreSQL connection the server ended while it sat in the pool (pg_terminate_backend, a restart) is
replaced before use: the next unit of work runs as if nothing had happened."""
import time

import pytest
from sqlalchemy import text

from bot.db.engine import make_engine
from bot.db.uow import unit_of_work_factory
from tests.support.db import POSTGRES_URL

pytestmark = pytest.mark.parametrize("db_backend", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                     indirect=True)


def backend_pid(uow_factory) -> int:
    with uow_factory() as uow:
        return uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_pooled_connection_the_server_ended_is_replaced_before_use(db_engine, uow_factory):
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        for _ in range(3):
            pooled = backend_pid(uow_factory)
            with admin.connect() as connection:
                assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled}).scalar()
                gone_by = time.monotonic() + 5
                while connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                         {"pid": pooled}).scalar() and time.monotonic() < gone_by:
                    time.sleep(0.01)
            with uow_factory() as uow:
                assert uow.updates.first_time(pooled, uow.clock.now())
                uow.commit()
            assert backend_pid(uow_factory) != pooled
    finally:
        admin.dispose()


def test_a_pooled_connection_that_is_alive_is_kept(db_engine):
    uow_factory = unit_of_work_factory(db_engine)
    assert backend_pid(uow_factory) == backend_pid(uow_factory)

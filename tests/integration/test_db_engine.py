"""The engine protects the data: foreign keys hold, and concurrent writers wait for each other."""
import threading
import time

import pytest
from sqlalchemy import text

from core.ports import Resident
from tests.support.db import T0, a_ticket


def test_a_ticket_cannot_point_at_a_resident_who_does_not_exist(uow_factory):
    with uow_factory() as uow, pytest.raises(Exception, match="(?i)foreign key"):
        uow.tickets.add(a_ticket(reporter_id=12345))


def test_a_second_writer_waits_for_the_first_instead_of_failing(uow_factory, db_engine):
    holding = threading.Event()

    def hold_the_write_lock() -> None:
        with db_engine.connect() as connection:
            connection.execute(text("INSERT INTO ticket_counters (prefix, year, value) VALUES ('VEL', 2026, 41)"))
            holding.set()
            time.sleep(0.5)
            connection.commit()

    writer = threading.Thread(target=hold_the_write_lock)
    writer.start()
    holding.wait(5)
    started = time.monotonic()
    with uow_factory() as uow:
        number = uow.tickets.next_number("VEL", 2026)
        uow.commit()
    writer.join()
    assert number == 42
    assert time.monotonic() - started > 0.3


def test_after_a_unit_without_a_transaction_the_next_unit_on_its_connection_is_a_transaction_again(migrated_url):
    """A unit of work with autocommit=True (one statement, or reads) hands its connection back as it found it: a
    later unit on the same pooled connection that leaves without commit leaves nothing behind."""
    from bot.db.engine import make_engine
    from bot.db.uow import unit_of_work_factory
    engine = make_engine(migrated_url, pool_size=1, max_overflow=0)
    try:
        units = unit_of_work_factory(engine)
        with units(autocommit=True) as uow:
            uow.conversations.store(501, {"step": "idle", "v": 1})    # one upsert: kept without commit
        with units() as uow:
            uow.conversations.store(502, {"step": "idle", "v": 1})
            uow.residents.add(Resident(502, "Someone", None, T0))
        # left without commit: both rolled back
        with units(autocommit=True) as uow:
            assert uow.conversations.load(501) == {"step": "idle", "v": 1}
            assert uow.conversations.load(502) is None and uow.residents.by_telegram_id(502) is None
    finally:
        engine.dispose()


def test_on_postgresql_only_the_per_message_writes_skip_the_wait_for_the_disk(migrated_url):
    """The statements each resident message makes on its own (the conversation's step, the update's mark) return
    before their WAL reaches the disk; tickets, their events and the outbox (units with a transaction) still wait
    for it. Both see the same database."""
    from bot.db.engine import make_engine, make_message_engine
    from bot.db.uow import unit_of_work_factory
    engine, message_engine = make_engine(migrated_url), make_message_engine(migrated_url)
    if message_engine is None:
        assert migrated_url.startswith("sqlite")
        engine.dispose()
        pytest.skip("SQLite: one engine (synchronous=NORMAL under WAL for every commit)")
    try:
        units = unit_of_work_factory(engine, message_engine=message_engine)
        with units(autocommit=True) as uow:
            assert uow.session.execute(text("SHOW synchronous_commit")).scalar() == "off"
            uow.conversations.store(601, {"step": "idle", "v": 1})
        with units() as uow:
            assert uow.session.execute(text("SHOW synchronous_commit")).scalar() == "on"
            assert uow.conversations.load(601) == {"step": "idle", "v": 1}
    finally:
        message_engine.dispose()
        engine.dispose()

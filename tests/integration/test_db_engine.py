"""The engine protects the data: foreign keys hold, and concurrent writers wait for each other."""
import threading
import time

import pytest
from sqlalchemy import text

from tests.support.db import a_ticket


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

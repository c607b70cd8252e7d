"""The scheduler's jobs and its leader lock: with PostgreSQL only one process runs the sweeps, and another takes
over when it goes; with SQLite the one process always does."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from bot.db.engine import make_engine
from bot.db.uow import unit_of_work_factory
from bot.delivery import Deliverer
from bot.outgoing import Renderers
from bot.profiles import load_profile
from bot.scheduler import LeaderLock, Scheduler
from core.services import Helpline, department_chat
from core.sla import due_dates
from core.sweeps import Sweeps
from core.tickets import Location, Ticket
from tests.support.clock import FixedClock
from tests.support.stack import PROFILES, T0

GROUP = -1009876543210
NIGHT = datetime(2026, 3, 3, 21, 0, tzinfo=timezone.utc)       # Tuesday, 23:00 in Kozani


def scheduler_on(engine, clock: FixedClock) -> Scheduler:
    """One bot process's scheduler (no Telegram needed: these tests only sweep)."""
    profile = load_profile("kozani", PROFILES)
    helpline = Helpline(unit_of_work_factory(engine), profile, clock)
    deliverer = Deliverer(helpline.uow, clock, Renderers(), bot=None)
    return Scheduler(Sweeps(helpline), deliverer, LeaderLock(engine), profile.calendar.timezone, digest_hour=7)


def an_overdue_ticket(scheduler: Scheduler) -> str:
    helpline = scheduler.sweeps.helpline
    helpline.bind_chat(department_chat("lighting"), GROUP)
    ack, resolve = due_dates(T0, helpline.profile.category("streetlight").sla, helpline.calendar)
    ticket = Ticket(ref="KOZ-2026-00001", municipality="kozani", category="streetlight", description="Dark",
                    location=Location(40.3, 21.79), created_at=T0, department="lighting", ack_due=ack,
                    resolve_due=resolve)
    with helpline.uow() as uow:
        uow.tickets.add(ticket)
        uow.commit()
    return ticket.ref


def escalations(scheduler: Scheduler, ref: str) -> list[str]:
    with scheduler.sweeps.helpline.uow() as uow:
        return [e.level for e in uow.escalations.for_ticket(ref)]


@pytest.fixture
def engines(migrated_url):
    made = [make_engine(migrated_url) for _ in range(2)]
    yield made
    for engine in made:
        engine.dispose()


async def test_the_jobs_run_in_the_event_loop_with_stable_ids_and_stop_with_the_bot(engines):
    scheduler = scheduler_on(engines[0], FixedClock(NIGHT))
    scheduler.start()
    try:
        assert sorted(scheduler.jobs) == ["deliver", "digest", "retention", "sweep"]
        digest = scheduler._apscheduler.get_job("digest").next_run_time
        assert (digest.hour, digest.minute, str(digest.tzinfo)) == (7, 0, "Europe/Athens")
    finally:
        scheduler.shutdown()
    assert scheduler.jobs == []


async def test_a_sweep_does_its_work_once_however_often_it_runs(engines):
    clock = FixedClock(T0)
    scheduler = scheduler_on(engines[0], clock)
    ref = an_overdue_ticket(scheduler)
    clock.advance(days=30)
    assert await scheduler.sweep() and await scheduler.sweep()
    assert escalations(scheduler, ref) == ["head", "ombudsman"]
    scheduler.shutdown()


@pytest.mark.postgres
async def test_only_the_process_holding_the_lock_sweeps_and_another_takes_over_when_it_goes(engines, db_backend):
    if db_backend != "postgresql":
        pytest.skip("several bot processes need PostgreSQL")
    clock = FixedClock(T0)
    first, second = scheduler_on(engines[0], clock), scheduler_on(engines[1], clock)
    ref = an_overdue_ticket(first)
    clock.advance(days=30)
    try:
        assert await first.sweep() is True
        assert await second.sweep() is False
        assert await first.digest() is True and await second.retention() is False

        first.shutdown()                                  # the leader stops: the lock is free again
        assert await second.sweep() is True
        assert await first.sweep() is False
        assert escalations(first, ref) == ["head", "ombudsman"]
    finally:
        first.shutdown()
        second.shutdown()


@pytest.mark.postgres
async def test_a_leader_whose_connection_dies_loses_the_lock_to_another(engines, db_backend):
    if db_backend != "postgresql":
        pytest.skip("several bot processes need PostgreSQL")
    clock = FixedClock(T0)
    first, second = scheduler_on(engines[0], clock), scheduler_on(engines[1], clock)
    try:
        assert await first.sweep() is True
        with engines[1].connect() as admin:               # e.g. the database restarted under the leader
            admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks "
                               "WHERE locktype = 'advisory' AND objid = :low"),
                          {"low": LeaderLock(engines[1]).key & 0xFFFFFFFF})
        assert await first.sweep() is False               # it notices on its next run
        assert await second.sweep() is True
        assert await first.sweep() is False
    finally:
        first.shutdown()
        second.shutdown()


async def test_with_sqlite_the_one_process_is_always_the_leader(engines, db_backend):
    if db_backend != "sqlite":
        pytest.skip("SQLite only")
    clock = FixedClock(T0)
    assert await scheduler_on(engines[0], clock).sweep() is True
    assert await scheduler_on(engines[1], clock).sweep() is True


async def test_nothing_runs_while_the_bot_is_not_running(engines):
    clock = FixedClock(T0)
    scheduler = scheduler_on(engines[0], clock)
    ref = an_overdue_ticket(scheduler)
    clock.advance(days=30)
    scheduler.running = lambda: False
    assert await scheduler.sweep() is False
    assert (await scheduler.deliver()).claimed == 0
    assert escalations(scheduler, ref) == []


async def test_a_start_during_the_day_catches_up_on_a_digest_missed_while_the_bot_was_down(engines):
    scheduler = scheduler_on(engines[0], FixedClock(T0))                  # Tuesday 10:00: the 07:00 run was missed
    an_overdue_ticket(scheduler)
    scheduler.start()
    try:
        assert "digest-catch-up" in scheduler.jobs
        catch_up = scheduler._apscheduler.get_job("digest-catch-up").next_run_time
        assert catch_up - datetime.now(timezone.utc) < timedelta(seconds=60)
    finally:
        scheduler.shutdown()
    assert await scheduler.digest() and await scheduler.digest()         # the catch-up, then the regular run
    with scheduler.sweeps.helpline.uow() as uow:
        digests = [n for n in uow.outbox.due(T0 + timedelta(hours=1), 100) if n.kind == "digest"]
    assert len(digests) == 1 and digests[0].chat_id == GROUP

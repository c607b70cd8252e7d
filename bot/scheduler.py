"""The scheduler: a few fixed jobs in the bot's event loop (APScheduler's AsyncIOScheduler), each reading its
work from the database, so that a restart loses nothing and no job exists per ticket.

    deliver    every few seconds   outbox -> Telegram (every process; rows are claimed with SKIP LOCKED)
    sweep      every minute        SLA reminders and escalations, the questionnaire    (leader only)
    digest     daily, digest_hour  the departments' morning digest, in the municipality's time zone (leader only);
               also once, 30 s after a start between the digest hour and closing time (written once a day anyway)
    retention  daily, at night     anonymise tickets closed longer than retention_days (leader only)

With PostgreSQL several bot processes may run; the leader is the one holding an advisory lock on a connection
of its own, asked again at every run, so another process takes over within a minute when the leader dies.
SQLite means one process, always the leader. The jobs are plain methods: tests call them with a clock moved
forward instead of waiting.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.delivery import Deliverer, Round
from core.sweeps import Sweeps

log = logging.getLogger(__name__)

LOCK_KEY = int.from_bytes(b"helpline", "big")   # the advisory lock's number, the same in every process
RETENTION_AT = (3, 30)                           # local time of the nightly retention run
CATCH_UP_AFTER_S = 30          # after a start past the digest hour: today's digests, if nobody wrote them


class LeaderLock:
    """Whether this process is the one that runs the sweeps (pg_try_advisory_lock on a dedicated connection)."""

    def __init__(self, engine: Engine, key: int = LOCK_KEY) -> None:
        self.engine, self.key = engine, key
        self.single_process = engine.dialect.name != "postgresql"
        self._connection: Connection | None = None
        self._guard = threading.Lock()

    def held(self) -> bool:
        """Hold the lock if it is free; False while another process holds it or the database is away."""
        if self.single_process:
            return True
        with self._guard:
            try:
                return self._check() if self._connection is not None else self._take()
            except SQLAlchemyError as error:
                log.warning("leader lock: the database connection failed (%s); trying again on the next run",
                            str(error).splitlines()[0])
                self._drop()
                return False

    def release(self) -> None:
        with self._guard:
            if self._connection is not None:
                try:
                    self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                except SQLAlchemyError:
                    pass
                self._drop()

    def _take(self) -> bool:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar():
            self._connection = connection
            log.info("this process now runs the sweeps (leader lock taken)")
            return True
        connection.close()
        return False

    def _check(self) -> bool:
        self._connection.execute(text("SELECT 1"))
        return True

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except SQLAlchemyError:
                pass
            self._connection = None


class Scheduler:
    def __init__(self, sweeps: Sweeps, deliverer: Deliverer, lock: LeaderLock, timezone: str, *,
                 digest_hour: int = 7, delivery_interval_s: float = 2.0,
                 to_thread: Callable = asyncio.to_thread, digests: tuple[Callable[[], int], ...] = ()) -> None:
        self.sweeps, self.deliverer, self.lock = sweeps, deliverer, lock
        self.digests = digests      # other morning digests (the operators' waiting requests)
        self.zone = ZoneInfo(timezone)
        self.digest_hour, self.delivery_interval_s = digest_hour, delivery_interval_s
        self.to_thread = to_thread
        self.running: Callable[[], bool] = lambda: True
        self._apscheduler: AsyncIOScheduler | None = None
        self._delivering = asyncio.Lock()
        self._stopping = False

    # --- the jobs ----------------------------------------------------------------------------------

    async def deliver(self) -> Round:
        """Send what the outbox holds that is due: round after round while they come back full (a queue of
        thousands goes out at Telegram's pace, not one batch per interval), until stopped."""
        done = Round()
        async with self._delivering:
            while self.running() and not self._stopping:
                batch = await self.deliverer.deliver_due()
                done = Round(done.sent + batch.sent, done.retrying + batch.retrying, done.failed + batch.failed)
                if batch.claimed < self.deliverer.policy.batch:
                    break
        if done.claimed:
            log.info("outbox: %d sent, %d to retry, %d failed", done.sent, done.retrying, done.failed)
        return done

    async def sweep(self) -> bool:
        """SLA reminders and escalations (and the head's settled ones closed), then questionnaires; False when
        another process is the leader."""
        return await self._as_leader(self.sweeps.sla, self.sweeps.settle, self.sweeps.questionnaires)

    async def digest(self) -> bool:
        return await self._as_leader(self.sweeps.digest, *self.digests)

    async def retention(self) -> bool:
        return await self._as_leader(self.sweeps.retention)

    async def _as_leader(self, *work: Callable[[], int]) -> bool:
        def run() -> bool:
            if not self.lock.held():
                return False
            for job in work:
                changed = job()
                if changed:
                    log.info("%s: %d changed", job.__name__, changed)
            return True
        return self.running() and await self.to_thread(run)

    def digest_missed(self) -> bool:
        """Started after the digest hour, before the offices close: today's digest may not have gone out (the bot
        was down, or another process was the leader and went). The digests are written once a day whatever runs
        them, so catching up after a start sends nothing twice."""
        now = self.sweeps.helpline.clock.now().astimezone(self.zone)
        return now.hour >= self.digest_hour and now.time() < self.sweeps.calendar.spec.closes

    # --- starting and stopping ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the jobs in the running event loop."""
        self._stopping = False
        scheduler = AsyncIOScheduler(timezone=self.zone)
        logging.getLogger("apscheduler.scheduler").addFilter(_quiet_when_busy)
        common = {"max_instances": 1, "coalesce": True, "replace_existing": True}
        scheduler.add_job(self.deliver, "interval", seconds=self.delivery_interval_s, id="deliver",
                          misfire_grace_time=None, **common)
        scheduler.add_job(self.sweep, "interval", minutes=1, id="sweep", misfire_grace_time=None, **common)
        scheduler.add_job(self.digest, "cron", hour=self.digest_hour, id="digest", misfire_grace_time=3600,
                          **common)
        scheduler.add_job(self.retention, "cron", hour=RETENTION_AT[0], minute=RETENTION_AT[1], id="retention",
                          misfire_grace_time=6 * 3600, **common)
        if self.digest_missed():
            scheduler.add_job(self.digest, "date", id="digest-catch-up", misfire_grace_time=None,
                              run_date=datetime.now(self.zone) + timedelta(seconds=CATCH_UP_AFTER_S), **common)
        scheduler.start()
        self._apscheduler = scheduler

    async def stop(self) -> None:
        """Stop after the delivery round in progress has recorded what it sent (else it would be sent again)."""
        self._stopping = True
        if self._apscheduler is not None and self._apscheduler.running:
            self._apscheduler.pause()
        async with self._delivering:
            self.shutdown()

    def shutdown(self) -> None:
        if self._apscheduler is not None and self._apscheduler.running:
            self._apscheduler.shutdown(wait=False)
        self._apscheduler = None
        self.lock.release()

    @property
    def jobs(self) -> list[str]:
        return [job.id for job in self._apscheduler.get_jobs()] if self._apscheduler else []

    def attach(self, application) -> None:
        """Run with a python-telegram-bot Application: start after its post_init (keeping the one it has),
        stop at its post_shutdown, and do nothing while it is not running."""
        before, after = application.post_init, application.post_shutdown

        async def post_init(app) -> None:
            if before:
                await before(app)
            self.start()

        async def post_shutdown(app) -> None:
            await self.stop()
            if after:
                await after(app)

        application.post_init, application.post_shutdown = post_init, post_shutdown
        self.running = lambda: application.running
        application.bot_data["scheduler"] = self


def _quiet_when_busy(record: logging.LogRecord) -> bool:
    """A delivery round that outlasts the interval (Telegram slow to answer) is normal: the next run is skipped
    without a warning every few seconds."""
    return "maximum number of running instances reached" not in record.getMessage()

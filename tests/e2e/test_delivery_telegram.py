"""The bot as `helpline run` builds it, its scheduler running in the bot's event loop, over HTTP to the fake Bot
API: reminders, escalations and digests reach the department's group in the municipality's language, and
Telegram failing on the way loses nothing."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from bot import app as composition
from bot.i18n import Translator
from core.dialogue import T
from core.services import department_chat
from core.tickets import Location, Ticket
from tests.support.clock import FixedClock
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import LOCALES, T0
from tests.support.telegram_bot import settings_for

GROUP = -1001500000001


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        fake.group(GROUP, "Department group")
        yield fake


@asynccontextmanager
async def serving(tg: FakeTelegram, database_url: str, profile: str, clock: FixedClock):
    """Start the bot as `helpline run` does (post_init, polling) and stop it the same way (post_shutdown)."""
    settings = settings_for(tg, database_url, profile, delivery_interval_s=0.1, delivery_first_retry_s=0,
                            delivery_timeout_s=1)
    app = composition.build(settings, clock=clock)
    application = app.telegram()
    async with application:
        await application.post_init(application)
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield app, application.bot_data["scheduler"]
        finally:
            await application.updater.stop()
            await application.stop()
            await application.post_shutdown(application)
    app.close()


def a_ticket(app, department: str, category: str, lat: float, lon: float) -> Ticket:
    """A report filed at T0 (directly in the database: this test is about what the scheduler does with it)."""
    from core.sla import due_dates
    helpline = app.helpline
    helpline.bind_chat(department_chat(department), GROUP)
    ack, resolve = due_dates(T0, app.profile.category(category).sla, helpline.calendar)
    ticket = Ticket(ref=f"{app.profile.ref_prefix}-2026-00001", municipality=app.profile.slug, category=category,
                    description="Dark since Monday", location=Location(lat, lon), created_at=T0,
                    department=department, ack_due=ack, resolve_due=resolve, language="en")
    with helpline.uow() as uow:
        uow.tickets.add(ticket)
        uow.commit()
    return ticket


def group_texts(tg: FakeTelegram) -> list[str]:
    return [m.text for m in tg.messages_to(GROUP)]


async def test_an_overdue_report_reaches_the_department_in_greek_though_telegram_fails_first(tg, migrated_url):
    clock = FixedClock(T0)
    async with serving(tg, migrated_url, "kozani", clock) as (app, scheduler):
        translator = Translator(LOCALES, app.profile.calendar.timezone)
        ticket = a_ticket(app, "lighting", "streetlight", 40.3007, 21.7887)
        tg.fail_next("sendMessage", 500)
        tg.fail_next("sendMessage", "timeout", hang_seconds=3)    # longer than the bot waits for an answer

        clock.at = ticket.ack_due + timedelta(minutes=1)             # still not acknowledged
        assert await scheduler.sweep()
        await tg.wait_for(lambda tg: group_texts(tg), timeout=20)

        expected = translator.plain(T("escalation_head_overdue", ref=ticket.ref), "el")
        assert group_texts(tg) == [expected]
        failed = tg.calls_to("sendMessage")[:2]
        assert failed[0].status == 500 and failed[1].error.startswith("injected: timeout")


async def test_a_reminder_in_hebrew_counts_sderots_week_and_the_morning_digest_follows(tg, migrated_url):
    clock = FixedClock(T0)
    async with serving(tg, migrated_url, "sderot", clock) as (app, scheduler):
        translator = Translator(LOCALES, app.profile.calendar.timezone)
        ticket = a_ticket(app, "shefa", "garbage", 31.5250, 34.5960)

        clock.at = ticket.ack_due - timedelta(hours=1)
        await scheduler.sweep()
        reminder = await tg.wait_for(lambda tg: tg.last_to(GROUP))
        assert reminder.text == translator.plain(T("reminder_ack", ref=ticket.ref, due=ticket.ack_due), "he")

        clock.at = ticket.ack_due + timedelta(days=1)
        await scheduler.digest()
        await tg.wait_for(lambda tg: len(group_texts(tg)) == 2)
        digest = group_texts(tg)[-1]
        assert translator.plain(T("digest", open=1, due_today=0, overdue=1), "he") in digest
        assert ticket.ref in digest


async def test_the_scheduler_stops_with_the_bot(tg, migrated_url):
    async with serving(tg, migrated_url, "kozani", FixedClock(T0)) as (app, scheduler):     # 10:00: digest missed
        assert sorted(scheduler.jobs) == ["deliver", "digest", "digest-catch-up", "retention", "sweep"]
    assert scheduler.jobs == []

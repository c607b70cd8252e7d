"""The bot keeps nothing per chat or per resident once their updates are handled (issue #7: the bot's memory grew
with every new resident): python-telegram-bot's per-chat bookkeeping for a persistence we do not use
(bot/telegram_app.py), the per-chat turns (bot/chat_order.py) and the messages-a-minute counter (core/limits.py)."""
from __future__ import annotations

import pytest
from telegram.ext import TypeHandler

from bot import app as composition
from bot.i18n import Translator
from handlers.limits import GROUP as LIMITS_GROUP
from tests.support.clock import FixedClock
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import LOCALES, T0
from tests.support.telegram_bot import Resident, settings_for


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


async def test_residents_who_were_answered_leave_nothing_behind_in_the_bot(tg, migrated_url):
    clock = FixedClock(T0)
    app = composition.build(settings_for(tg, migrated_url), clock=clock)
    application = app.telegram()
    limits = next(h.callback.__self__ for h in application.handlers[LIMITS_GROUP] if isinstance(h, TypeHandler))
    translator = Translator(LOCALES, app.profile.calendar.timezone)
    async with application:                               # as tests/support/telegram_bot.py's running_bot
        await application.post_init(application)
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            residents = [Resident(tg, 6100 + n, f"Resident {n}", "en", translator) for n in range(4)]
            for person in residents:
                greeting = await person.say("/start")
                assert person.expected("choose_language", "en") in greeting
            assert await residents[0].tap("English")
            assert len(limits.messages.windows) == 4      # the minute's windows, one per resident who wrote

            clock.advance(seconds=61)
            assert await residents[1].say("/help")
            assert list(limits.messages.windows) == [residents[1].id]     # the expired ones are forgotten

            assert application.update_processor.chats_in_hand == 0
            assert not application._chat_ids_to_be_updated_in_persistence
            assert not application._user_ids_to_be_updated_in_persistence
            assert not application.chat_data and not application.user_data
        finally:
            await application.updater.stop()
            await application.stop()
            if application.post_shutdown:
                await application.post_shutdown(application)
    app.close()

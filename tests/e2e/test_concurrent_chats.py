"""Residents are answered side by side (bot/chat_order.py): two residents filing at the same time each get their
own report, and one resident's quick messages are answered in the order they were sent."""
import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.chat_order import OneAtATimePerChat
from bot.i18n import Translator
from core.dialogue import LANGUAGE_NAMES
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import LOCALES
from tests.support.telegram_bot import Resident, running_bot, settings_for

import pytest

KOZANI = (40.3007, 21.7887)


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


async def file_report(person: Resident, lang: str, words: str, category: str, place: tuple[float, float]) -> str:
    await person.say("/start")
    await person.tap(LANGUAGE_NAMES[lang])
    await person.say(words)
    await person.tap(person.label(f"category_{category}", lang))
    await person.location(*place)
    await person.tap(person.label("btn_skip", lang))
    return await person.tap(person.label("btn_send", lang))


async def test_two_residents_filing_at_the_same_time_each_get_their_own_report(tg, migrated_url):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        translator = Translator(LOCALES, app.profile.calendar.timezone)
        maria = Resident(tg, 5101, "Maria", "el", translator)
        john = Resident(tg, 5102, "John", "en", translator)
        filed = await asyncio.gather(
            file_report(maria, "el", "Η λάμπα στην πλατεία είναι σβηστή", "streetlight", KOZANI),
            file_report(john, "en", "A deep pothole outside the bakery", "pothole", (40.3012, 21.7880)))

        tickets = {t.description: t for t in app.helpline.tickets()}
        assert set(tickets) == {"Η λάμπα στην πλατεία είναι σβηστή", "A deep pothole outside the bakery"}
        lamp, pothole = tickets["Η λάμπα στην πλατεία είναι σβηστή"], tickets["A deep pothole outside the bakery"]
        assert (lamp.category, lamp.language, pothole.category, pothole.language) == \
            ("streetlight", "el", "pothole", "en")
        assert lamp.ref in filed[0] and pothole.ref in filed[1]
        assert lamp.ref not in filed[1] and pothole.ref not in filed[0]


async def test_one_residents_quick_messages_are_answered_in_the_order_sent(tg, migrated_url):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        translator = Translator(LOCALES, app.profile.calendar.timezone)
        john = Resident(tg, 5103, "John", "en", translator)
        await john.say("/start")
        await john.tap("English")
        before = len(tg.messages_to(john.id))
        for command in ("/cancel", "/help", "/mytickets", "/cancel"):     # sent at once, not waiting for answers
            await tg.send_command(john.id, command)
        await tg.wait_for(lambda tg: len(tg.messages_to(john.id)) >= before + 8, timeout=10)

        texts = [tg.plain_text(m) for m in tg.messages_to(john.id)[before:]]
        menu = john.expected("menu", "en")
        expected = [john.expected("nothing_to_cancel", "en"), menu,
                    john.expected("help", "en", example=f"{app.profile.ref_prefix}-{app.clock.now().year}-00042"),
                    menu, john.expected("no_tickets", "en",
                                        example=f"{app.profile.ref_prefix}-{app.clock.now().year}-00042"),
                    menu, john.expected("nothing_to_cancel", "en"), menu]
        assert texts == expected


def private_update(update_id: int, chat_id: int) -> Update:
    person = User(chat_id, "Resident", False)
    return Update(update_id, message=Message(update_id, datetime.now(UTC), Chat(chat_id, "private"), from_user=person))


async def test_a_chat_waits_for_its_own_earlier_updates_only_and_is_forgotten_when_idle():
    order = OneAtATimePerChat(running=4)
    done: list[str] = []

    async def handle(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        done.append(name)
    await asyncio.gather(order.process_update(private_update(1, 7001), handle("anna's first", 0.2)),
                         order.process_update(private_update(2, 7001), handle("anna's second", 0.0)),
                         order.process_update(private_update(3, 7002), handle("boris's", 0.05)))
    assert done == ["boris's", "anna's first", "anna's second"]
    assert order.chats_in_hand == 0

"""The Bot API answering 429, 500, malformed JSON or nothing at all: the resident's answers and the
notifications are tried again and arrive; nothing is lost."""
from __future__ import annotations

import asyncio

import pytest

from bot.clock import SystemClock
from bot.i18n import Translator
from tests.faults.town import file_directly, move_on, town_hall
from tests.support.stack import LOCALES
from tests.support.telegram_bot import Resident, running_bot, settings_for

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
FAULTS = [pytest.param(429, id="429"), pytest.param(500, id="500"), pytest.param(502, id="502"),
          pytest.param("garbage", id="html"), pytest.param("malformed", id="malformed-json"),
          pytest.param("timeout", id="timeout")]


def fault_options(fault) -> dict:
    return {"hang_seconds": 8} if fault == "timeout" else {}     # longer than the bot waits (5 s)


@pytest.mark.parametrize("fault", FAULTS)
async def test_the_residents_answer_arrives_through_a_fault(tg, migrated_url, fault):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        maria = Resident(tg, 5101, "Maria", "en", Translator(LOCALES, app.profile.calendar.timezone))
        tg.fail_next("sendMessage", fault, **fault_options(fault))
        await tg.send_command(5101, "/start")
        await tg.wait_for(lambda t: any(maria.expected("privacy_notice", "en") in (m.text or "")
                                        for m in t.messages_to(5101)), timeout=20)
        sorry = maria.expected("error_generic", "en")
        assert not [m.text for m in tg.messages_to(5101) if m.text == sorry]


async def drained(town) -> dict:
    """The outbox's counts once nothing is waiting any more."""
    while True:
        with town.helpline.uow() as uow:
            counts = uow.outbox.counts()
        if not counts.get("pending"):
            return counts
        await asyncio.sleep(0.3)


async def test_notifications_arrive_through_every_fault(tg, migrated_url):
    town = town_hall(tg, migrated_url)
    refs = [file_directly(town, tg, 5200 + n, f"Dark street light number {n}") for n in range(3)]
    for ref in refs:
        move_on(town, ref)
    for fault in (429, 500, "garbage", "malformed", "timeout"):
        tg.fail_next("sendMessage", fault, **({"hang_seconds": 2} if fault == "timeout" else {}))
    settings = settings_for(tg, migrated_url, delivery_interval_s=0.1, delivery_first_retry_s=0,
                            delivery_timeout_s=1)
    async with running_bot(tg, settings, clock=SystemClock()):     # Telegram's "retry after" takes real time
        counts = await asyncio.wait_for(drained(town), timeout=40)
    town.close()
    assert counts.get("failed", 0) == 0 and counts["sent"] == 6, counts     # 3 cards and 3 status changes
    refused = [c for c in tg.calls_to("sendMessage") if not c.ok or (c.error or "").startswith("injected")]
    assert len(refused) == 5       # every fault was met on the way
    for n in range(3):
        assert len(tg.messages_to(5200 + n)) == 1


@pytest.mark.parametrize("fault", [pytest.param(500, id="500"), pytest.param("malformed", id="malformed-json"),
                                   pytest.param(429, id="429")])
async def test_a_clerks_press_updates_the_card_through_a_fault(tg, migrated_url, fault):
    """Not only residents' answers: a department's card is edited after the press though Telegram failed once."""
    from core.dialogue import T
    from core.tickets import Status
    from tests.e2e.test_department_chat import ANNA, LIGHTING, card_of, file, label, set_up, tap
    tg.group(LIGHTING, "Lighting")
    tg.user(ANNA, "Anna", language_code="el")
    translator = Translator(LOCALES, "Europe/Athens")
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        set_up(app)
        ref = file(app)
        card = await card_of(tg, LIGHTING, ref)
        tg.fail_next("editMessageText", fault, **fault_options(fault))
        await tap(tg, ANNA, card, label(translator, "btn_desk_ack"))
        assert app.helpline.ticket(ref).status is Status.ACKNOWLEDGED
        done = translator.plain(T("desk_status_acknowledged"), "el")
        await tg.wait_for(lambda t: done in (card.text or ""), timeout=10)

"""Per-resident limits: too many messages a minute or new reports an hour are answered politely, once per
window, and left unprocessed; nothing already filed changes; emergencies always go through."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot import app as composition
from bot.i18n import Translator
from core.limits import MessageCounter, Verdict
from core.services import Report
from core.tickets import Location
from tests.support.clock import FixedClock
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import LOCALES, T0
from tests.support.telegram_bot import Resident, running_bot, settings_for

CENTRE = (40.3007, 21.7887)
MARIA = 5101


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def translator() -> Translator:
    return Translator(LOCALES, "Europe/Athens")


async def quiet(tg: FakeTelegram, chat: int, seconds: float = 0.6) -> int:
    """Let the bot work a moment; how many messages the chat shows then."""
    await asyncio.sleep(seconds)
    return len(tg.messages_to(chat))


async def to_summary(maria: Resident, words: str = "The street light on the square is dark") -> str:
    await maria.say(words)
    await maria.tap(maria.label("category_streetlight", "en"))
    await maria.location(*CENTRE)
    return await maria.tap(maria.label("btn_skip", "en"))


def snapshot(app) -> list[tuple]:
    return [(t.ref, t.status, t.description, t.updated_at, len(t.events)) for t in app.helpline.tickets()]


# --- messages a minute ---------------------------------------------------------------------------------

async def test_a_flood_is_told_once_left_unprocessed_and_emergencies_still_pass(tg, migrated_url, translator):
    clock = FixedClock(T0)
    settings = settings_for(tg, migrated_url, limit_messages_per_minute=3)
    async with running_bot(tg, settings, clock) as app:
        maria = Resident(tg, MARIA, "Maria", "en", translator)
        await maria.say("/start")
        await maria.tap("English")
        await maria.say("/help")                                        # three: all answered
        state = app.helpline.load_conversation(MARIA)

        told = await maria.say("/mytickets")                             # the fourth
        assert told == maria.expected("limit_messages", "en")
        before = len(tg.messages_to(MARIA))
        await tg.send_command(MARIA, "/report")
        await tg.send_text(MARIA, "hello?")
        assert await quiet(tg, MARIA) == before                          # told once, not once per message
        assert app.helpline.load_conversation(MARIA) == state            # nothing was processed

        danger = await maria.say("I smell gas in the stairwell")         # an emergency is never limited
        assert maria.expected("emergency_service_emergency", "en") in danger

        clock.advance(seconds=61)                                        # a new minute
        assert maria.expected("help", "en", example="KOZ-2026-00042")[:40] in await maria.say("/help")


async def test_a_flood_of_presses_is_answered_so_the_app_stops_waiting(tg, migrated_url, translator):
    settings = settings_for(tg, migrated_url, limit_messages_per_minute=2)
    async with running_bot(tg, settings) as app:
        maria = Resident(tg, MARIA, "Maria", "en", translator)
        await maria.say("/start")                                       # one; the language buttons arrive
        language = tg.messages_to(MARIA)[-1]
        await maria.say("/help")                                        # two
        for _ in range(3):
            await tg.tap(MARIA, language, "English")
        await tg.wait_for(lambda t: len(t.answers) >= 3)
        assert all(a["text"] == maria.label("limit_wait", "en") for a in tg.answers[-3:])
        assert app.helpline.load_conversation(MARIA)["step"] == "language"   # the press was not acted on
        assert all(call.ok for call in tg.calls)


# --- reports an hour -----------------------------------------------------------------------------------

async def test_reports_beyond_the_hourly_limit_wait_and_nothing_filed_changes(tg, migrated_url, translator):
    clock = FixedClock(T0)
    settings = settings_for(tg, migrated_url, limit_reports_per_hour=2)
    async with running_bot(tg, settings, clock) as app:
        maria = Resident(tg, MARIA, "Maria", "en", translator)
        await maria.say("/start")
        await maria.tap("English")
        for n in range(2):
            await to_summary(maria, f"The street light number {n} is dark")
            assert "KOZ-2026-0000" in await maria.tap(maria.label("btn_send", "en"))
            clock.advance(minutes=5)
        filed = snapshot(app)

        await to_summary(maria, "And the third street light is dark too")
        refused = await maria.tap(maria.label("btn_send", "en"))
        assert refused == maria.expected("limit_reports", "en", after=T0 + timedelta(hours=1))
        before = len(tg.messages_to(MARIA))
        summary = [m for m in tg.messages_to(MARIA) if tg.buttons(m)][-1]
        await tg.tap(MARIA, summary, maria.label("btn_send", "en"))      # again: a toast, no second message
        await tg.wait_for(lambda t: t.answers and t.answers[-1]["text"] == maria.label("limit_wait", "en"))
        assert await quiet(tg, MARIA) == before
        assert snapshot(app) == filed                                    # nothing filed, nothing changed

    async with running_bot(tg, settings, clock) as app:                 # a restart: counted from the database
        await tg.tap(MARIA, summary, maria.label("btn_send", "en"))
        await tg.wait_for(lambda t: len(t.messages_to(MARIA)) > before)
        assert tg.plain_text(tg.messages_to(MARIA)[-1]).startswith("⏳")
        assert snapshot(app) == filed

        clock.advance(minutes=51)                                        # the first report is an hour old
        done = await maria.tap(maria.label("btn_send", "en"))
        assert "KOZ-2026-00003" in done and len(app.helpline.tickets()) == 3
        assert [t for t in snapshot(app) if t[0] != "KOZ-2026-00003"] == filed


async def test_another_bot_process_counts_the_same_reports(tg, migrated_url, translator):
    """Two processes on one database: reports filed through one count in the other."""
    clock = FixedClock(T0)
    settings = settings_for(tg, migrated_url, limit_reports_per_hour=1)
    async with running_bot(tg, settings, clock) as app:
        maria = Resident(tg, MARIA, "Maria", "en", translator)
        await maria.say("/start")
        await maria.tap("English")
        await to_summary(maria)
        other = composition.build(settings, clock=clock)                # another process, its own engine
        resident = other.helpline.resident_for(MARIA)
        other.helpline.file_report(Report("pothole", "A hole", Location(*CENTRE), resident.id, "en"))
        other.close()
        refused = await maria.tap(maria.label("btn_send", "en"))
        assert refused.startswith("⏳") and len(app.helpline.tickets()) == 1


# --- the counter itself --------------------------------------------------------------------------------

def test_the_message_counter_tells_once_per_window_and_forgets_old_windows():
    clock = FixedClock(T0)
    counter = MessageCounter(2, clock)
    assert [counter.admit(1) for _ in range(4)] == [Verdict.PASS, Verdict.PASS, Verdict.TELL, Verdict.DROP]
    assert counter.admit(2) is Verdict.PASS                              # per resident
    clock.advance(seconds=60)
    assert counter.admit(1) is Verdict.PASS
    assert MessageCounter(0, clock).admit(1) is Verdict.PASS             # 0: no limit


def test_the_message_counter_remembers_only_the_residents_of_the_last_minute():
    clock = FixedClock(T0)
    counter = MessageCounter(2, clock)
    for resident in range(1000):
        counter.admit(resident)
    clock.advance(seconds=30)
    counter.admit(1000)
    assert len(counter.windows) == 1001                                 # all still within their minute
    clock.advance(seconds=30)
    assert counter.admit(1001) is Verdict.PASS
    assert list(counter.windows) == [1000, 1001]                        # the expired ones are gone at once
    assert [counter.admit(1000) for _ in range(2)] == [Verdict.PASS, Verdict.TELL]   # 1000's window goes on
    clock.advance(seconds=30)
    assert [counter.admit(1000) for _ in range(3)] == [Verdict.PASS, Verdict.PASS, Verdict.TELL]  # a new window
    assert list(counter.windows) == [1001, 1000]                        # in the order the windows started

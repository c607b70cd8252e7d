"""A resident files a report on Telegram, in each of the four languages, through the real bot over HTTP."""
import pytest

from core.dialogue import LANGUAGE_NAMES
from core.tickets import Status
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import LOCALES
from tests.support.telegram_bot import Resident, running_bot, settings_for
from bot.i18n import Translator

CASES = {
    # language: (profile, what the resident writes, the category to pick, a place inside the town)
    "el": ("kozani", "Η λάμπα στην πλατεία είναι σβηστή εδώ και μια εβδομάδα", "streetlight", (40.3007, 21.7887)),
    "sl": ("kranj", "Na Prešernovi ulici je velika luknja v cesti", "pothole", (46.2389, 14.3556)),
    "he": ("sderot", "הפח ליד הבית שלי מלא כבר שבוע ואף אחד לא מפנה", "garbage", (31.5250, 34.5960)),
    "en": ("velenje", "There is a huge pothole <near> the school & it is dangerous", "pothole",
           (46.3592, 15.1103)),
}


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


@pytest.mark.parametrize("lang", list(CASES))
async def test_full_report_in_each_language(tg, migrated_url, lang):
    profile, words, category, (lat, lon) = CASES[lang]
    async with running_bot(tg, settings_for(tg, migrated_url, profile)) as app:
        translator = Translator(LOCALES, app.profile.calendar.timezone)
        maria = Resident(tg, 5001, "Maria", lang, translator)

        greeting = await maria.say("/start")
        assert maria.expected("privacy_notice", lang) in greeting
        assert maria.expected("language_set", lang) in await maria.tap(LANGUAGE_NAMES[lang])

        asked = await maria.say(words)
        assert maria.expected("pick_category_plain", lang) in asked
        details = await maria.tap(maria.label(f"category_{category}", lang))
        assert maria.expected("ask_location", lang) in details

        place = await maria.location(lat, lon)
        assert maria.expected("ask_photo", lang) in place
        summary, largest = await maria.photo()
        assert words in summary          # the resident's own words, shown as typed (HTML escaped on the way)
        filed = await maria.tap(maria.label("btn_send", lang))

        [ticket] = app.helpline.tickets()
        assert ticket.category == category and ticket.description == words and ticket.language == lang
        assert (ticket.location.lat, ticket.location.lon) == pytest.approx((lat, lon))
        assert [p.file_id for p in ticket.photos] == [largest]
        department = app.profile.departments[ticket.department].names.get(lang) \
            or app.profile.departments[ticket.department].names["en"]
        assert ticket.ref in filed and department in filed
        assert filed == maria.expected("filed", lang, ref=ticket.ref, department=department, due=ticket.resolve_due)
        assert ticket.status is Status.NEW
        menus = {call.params.get("language_code"): call.params for call in tg.calls_to("setMyCommands")}
        assert lang == "en" or lang in menus          # the command menu is in the resident's language too


async def test_a_repeated_update_is_handled_once(tg, migrated_url):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        translator = Translator(LOCALES, app.profile.calendar.timezone)
        maria = Resident(tg, 5002, "Maria", "en", translator)
        await maria.say("/start")
        update = await tg.send_text(5002, "hello there")
        await tg.wait_for(lambda t: len(t.messages_to(5002)) >= 3)
        count = len(tg.messages_to(5002))
        await tg.enqueue(update)                            # Telegram delivers the same update again
        await maria.say("/help")
        assert len(tg.messages_to(5002)) == count + 2       # only /help was answered (help + menu)


async def test_a_button_of_a_passed_step_is_answered_not_acted_on(tg, migrated_url):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        translator = Translator(LOCALES, app.profile.calendar.timezone)
        maria = Resident(tg, 5003, "Maria", "en", translator)
        await maria.say("/start")
        await maria.tap("English")
        menu = tg.messages_to(5003)[-1]                      # the menu, its buttons still there
        await maria.say("the bins on my street were not emptied")
        out = maria.text(await maria._answer(tg.tap(5003, menu, maria.label("btn_my_tickets", "en"))))
        assert maria.expected("stale_button", "en") in out
        assert maria.expected("pick_category", "en") in out   # and it asks again what it is waiting for
        assert app.helpline.tickets() == []


@pytest.mark.parametrize("data", ["zz:garbage", "x" * 64, "d", "op-claim"])
async def test_a_press_nobody_recognises_is_answered_and_changes_nothing(tg, migrated_url, data):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        translator = Translator(LOCALES, app.profile.calendar.timezone)
        maria = Resident(tg, 5004, "Maria", "sl", translator)
        await maria.say("/start")
        menu = tg.messages_to(5004)[-1]
        query = await tg.forge_press(5004, menu, data)
        await tg.wait_for(lambda t: any(a["callback_query_id"] == query for a in t.answers))
        answer = next(a for a in tg.answers if a["callback_query_id"] == query)
        assert answer["text"] == maria.label("button_unknown", "sl")
        assert app.helpline.tickets() == [] and app.helpline.escalations() == []

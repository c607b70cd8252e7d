"""The conversation with the real Rasa server: free text picks the category the bot proposes, and
"cancel" is understood in the middle of a report, in each language."""
import pytest

from core.dialogue import T
from tests.support.stack import build_stack

pytestmark = pytest.mark.rasa

CASES = {
    "el": ("Η λάμπα του δρόμου μπροστά στο σπίτι μου δεν ανάβει εδώ και τρεις μέρες", "streetlight", "άκυρο"),
    "sl": ("Na cesti pred šolo je velika luknja, avti se ji komaj izognejo", "pothole", "prekliči prijavo"),
    "he": ("הפחים ברחוב שלנו מלאים ולא פינו אותם כבר שבוע", "garbage", "בטל את הדיווח"),
    "en": ("someone dumped an old sofa and a fridge next to the bins on my street", "bulky_waste", "cancel"),
}


@pytest.mark.parametrize("lang", list(CASES))
async def test_free_text_proposes_the_category_and_cancel_is_understood(uow_factory, rasa_nlu, lang):
    words, category, cancel = CASES[lang]
    stack = build_stack(uow_factory, nlu=rasa_nlu)
    t = stack.console(language=lang)
    await t.say("/start")
    await t.press(f"lang:{lang}")
    proposed = await t.say(words)
    assert stack.translator.plain(T("propose_category"), lang) in proposed
    labels = [stack.translator.label(b, lang) for b in t.console.buttons]
    assert stack.translator.label(T(f"category_{category}"), lang) in labels[:3]
    await t.press(f"cat:{category}")
    out = await t.say(cancel)
    assert stack.translator.plain(T("cancelled"), lang) in out
    assert stack.helpline.tickets() == []


async def test_telegram_report_with_real_nlu(migrated_url, rasa_nlu):
    """The whole report on Telegram (fake Bot API over HTTP), the category proposed by the real Rasa server."""
    from bot.i18n import Translator
    from tests.support.fake_telegram import FakeTelegram
    from tests.support.stack import LOCALES
    from tests.support.telegram_bot import Resident, running_bot, settings_for

    async with FakeTelegram() as tg, running_bot(tg, settings_for(tg, migrated_url), nlu=rasa_nlu) as app:
        maria = Resident(tg, 7001, "Maria", "el", Translator(LOCALES, app.profile.calendar.timezone))
        await maria.say("/start")
        await maria.tap("Ελληνικά")
        proposed = await maria.say("Τα σκουπίδια στη γωνία δεν τα έχουν μαζέψει εδώ και μια εβδομάδα")
        assert maria.expected("propose_category", "el") in proposed
        await maria.tap(maria.label("category_garbage", "el"))
        await maria.location(40.3007, 21.7887)
        await maria.tap(maria.label("btn_skip", "el"))
        filed = await maria.tap(maria.label("btn_send", "el"))
        [ticket] = app.helpline.tickets()
        assert ticket.category == "garbage" and ticket.ref in filed

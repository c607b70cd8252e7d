"""The conversation with the real Rasa server: free text picks the category the bot proposes, and
"cancel" is understood in the middle of a report, in each language; an emergency the keyword list does not know is
answered with the numbers from the model alone; a question is answered from the profile; "a person" hands over."""
import pytest

from core.dialogue import T
from bot.knowledge import load_emergency_words
from tests.support.stack import ROOT, build_stack

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


# Emergencies in words the keyword list (data/emergency/keywords.yml) does not have: only the model can tell.
UNLISTED_EMERGENCIES = {   # language, profile, message, the numbers the resident must see
    "el": ("kozani", "ο παππούς κατέρρευσε στο σαλόνι και δεν αντιδρά", ("112", "166")),
    "sl": ("kranj", "avto je zadel otroka pred šolo", ("112", "113")),
    "he": ("sderot", "אבא שלי התמוטט בסלון ולא מגיב", ("100", "101")),
    "en": ("velenje", "my neighbour fell and hit his head, he is not moving", ("112", "113")),
}
KEYWORDS = load_emergency_words(ROOT / "data" / "emergency" / "keywords.yml")


@pytest.mark.parametrize("lang", list(UNLISTED_EMERGENCIES))
async def test_an_emergency_only_the_model_recognises_is_answered_with_the_numbers_at_once(uow_factory, rasa_nlu,
                                                                                          lang):
    slug, message, numbers = UNLISTED_EMERGENCIES[lang]
    assert KEYWORDS.match(message) is None, "the keyword list knows this one: pick words it does not have"
    stack = build_stack(uow_factory, slug, nlu=rasa_nlu)
    first = await stack.console(language=lang).say(message)
    assert first.startswith(stack.translator.plain(T("emergency_call_now"), lang))
    for number in numbers:
        assert number in first


QUESTIONS = {   # language, profile, question, the topic whose answer the resident must get
    "el": ("kozani", "πού μπορώ να πληρώσω τα δημοτικά τέλη;", "fees"),
    "sl": ("kranj", "kam naj vržem steklenice?", "recycling"),
    "he": ("sderot", "איך מקבלים אישור תושב?", "certificates"),
    "en": ("velenje", "how do I get a certificate of residence?", "certificates"),
}


@pytest.mark.parametrize("lang", list(QUESTIONS))
async def test_a_typed_question_is_answered_from_the_profile(uow_factory, rasa_nlu, lang):
    slug, question, topic = QUESTIONS[lang]
    stack = build_stack(uow_factory, slug, nlu=rasa_nlu)
    t = stack.console(language=lang)
    out = await t.say(question)
    profile = stack.helpline.profile
    answer = profile.knowledge.topics[topic]
    department = profile.departments[answer.department].names[lang if lang in profile.languages else "en"]
    assert department in out
    assert stack.translator.plain(T("propose_category"), lang) not in out       # not taken for a report


PERSON = {"el": "θέλω να μιλήσω με έναν άνθρωπο, όχι με ρομπότ", "sl": "rad bi govoril z nekom iz občine, ne z robotom",
          "he": "אני רוצה לדבר עם בן אדם אמיתי", "en": "can I speak to a real person please"}


@pytest.mark.parametrize("lang", list(PERSON))
async def test_asking_for_a_person_in_words_hands_the_conversation_over(uow_factory, rasa_nlu, lang):
    from core.handover import Handovers
    stack = build_stack(uow_factory, "kozani", nlu=rasa_nlu)
    await stack.console(chat_id=4400, language=lang).say(PERSON[lang])
    assert Handovers(stack.helpline).open_for(4400) is not None


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

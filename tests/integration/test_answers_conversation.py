"""Emergencies and questions in the resident conversation, through the terminal channel, in every language.

What a resident reads on the screen: the emergency numbers in the very first reply (with the NLU down, by
keyword), answers from the municipality's knowledge base with open/closed worked out for the moment asked,
and a person offered when the helpline has no answer.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from core.dialogue import T
from core.ports import IntentScore, Understanding
from tests.support.clock import FixedClock
from tests.support.stack import build_stack

TUESDAY_MORNING = datetime(2026, 3, 3, 8, 0, tzinfo=timezone.utc)      # 10:00 in Athens and Jerusalem
FRIDAY_AFTERNOON = datetime(2026, 3, 6, 12, 0, tzinfo=timezone.utc)    # 14:00 in Sderot
SUNDAY = datetime(2026, 3, 8, 9, 0, tzinfo=timezone.utc)               # 11:00 in Kozani

EMERGENCIES = {   # language, profile, message, the numbers the resident must see
    "el": ("kozani", "Μυρίζει πολύ γκάζι στην πολυκατοικία, τι να κάνω;", ("112", "166", "199")),
    "sl": ("kranj", "V kleti smrdi po plinu!", ("112", "113")),
    "he": ("sderot", "יש ריח חזק של גז בחדר המדרגות", ("100", "101", "102")),
    "en": ("velenje", "there's a fire in the flat next door", ("112", "113")),
}


class ScriptedNLU:
    """An NLU that understands exactly the messages it is given, as Rasa would answer them."""

    def __init__(self, intents: dict[str, str]) -> None:
        self.intents = intents

    async def understand(self, text: str) -> Understanding:
        intent = self.intents.get(text)
        if intent is None:
            return Understanding(None, 0.1, ())
        return Understanding(intent, 0.93, (IntentScore(intent, 0.93),))


def screen(stack, key: str, lang: str, **args) -> str:
    return stack.translator.plain(T(key, **args), lang)


@pytest.mark.parametrize("lang", EMERGENCIES)
async def test_an_emergency_is_answered_with_the_numbers_at_once_even_with_the_nlu_down(uow_factory, lang):
    slug, message, numbers = EMERGENCIES[lang]
    stack = build_stack(uow_factory, slug)                      # NoNLU: Rasa is down
    t = stack.console(language=lang)

    first = await t.say(message)

    assert first.startswith(screen(stack, "emergency_call_now", lang))
    for number in numbers:
        assert number in first
    assert screen(stack, "emergency_service_police", lang) in first
    offered = await t.press("emergency:report")                 # then, if they like, a report as well
    assert screen(stack, "pick_category_plain", lang) in offered or screen(stack, "pick_category", lang) in offered


async def test_an_emergency_in_the_middle_of_a_report_keeps_the_draft(uow_factory):
    stack = build_stack(uow_factory, "kozani")
    t = stack.console()
    await t.say("/report")
    await t.press("Street light")
    await t.press("Skip")
    out = await t.say("wait, now I smell gas in the stairwell")
    assert "112" in out and "199" in out
    assert screen(stack, "ask_location", "en") in out           # and the report goes on where it was


async def test_the_emergency_intent_alone_is_enough(uow_factory):
    stack = build_stack(uow_factory, "sderot", nlu=ScriptedNLU({"נפל משהו מהשמיים ויש אנשים על הרצפה": "emergency"}))
    out = await stack.console(language="he").say("נפל משהו מהשמיים ויש אנשים על הרצפה")
    assert out.startswith(screen(stack, "emergency_call_now", "he")) and "101" in out


QUESTIONS = {   # language, profile, question
    "el": ("kozani", "τι ώρες είναι ανοιχτό το δημαρχείο;"),
    "sl": ("kranj", "kdaj je občina odprta?"),
    "he": ("sderot", "מתי העירייה פתוחה?"),
    "en": ("petroupoli", "when is the town hall open?"),
}


@pytest.mark.parametrize("lang", QUESTIONS)
async def test_office_hours_on_a_weekday_morning_are_open(uow_factory, lang):
    slug, question = QUESTIONS[lang]
    stack = build_stack(uow_factory, slug, nlu=ScriptedNLU({question: "ask_office_hours"}),
                        clock=FixedClock(TUESDAY_MORNING))
    out = await stack.console(language=lang).say(question)
    desk = stack.helpline.profile.knowledge.offices[stack.helpline.profile.knowledge.front_desk]
    assert screen(stack, "answer_open_now", lang, closes=f"{desk.hours_on(TUESDAY_MORNING.date()).closes:%H:%M}") in out
    assert desk.phone in out
    assert stack.translator.label(T("btn_person"), lang) in out


async def test_sderot_on_a_friday_afternoon_is_closed_until_sunday(uow_factory):
    question = QUESTIONS["he"][1]
    stack = build_stack(uow_factory, "sderot", nlu=ScriptedNLU({question: "ask_office_hours"}),
                        clock=FixedClock(FRIDAY_AFTERNOON))
    out = await stack.console(language="he").say(question)
    sunday_8 = datetime(2026, 3, 8, 6, 0, tzinfo=timezone.utc)                  # 08:00 in Sderot
    assert screen(stack, "answer_closed_now", "he", opens=sunday_8) in out
    assert "יום ראשון" in out


async def test_kozani_on_a_sunday_is_closed_until_monday(uow_factory):
    question = QUESTIONS["el"][1]
    stack = build_stack(uow_factory, "kozani", nlu=ScriptedNLU({question: "ask_office_hours"}), clock=FixedClock(SUNDAY))
    out = await stack.console(language="el").say(question)
    monday = datetime(2026, 3, 9, 5, 30, tzinfo=timezone.utc)                   # 07:30 in Kozani
    assert screen(stack, "answer_closed_now", "el", opens=monday) in out
    assert "Δευτέρα" in out


TOPIC_QUESTIONS = {
    "el": ("petroupoli", "πού πετάω τις μπαταρίες;", "ask_recycling", "Μπλε κάδος"),
    "sl": ("velenje", "kako plačam NUSZ", "ask_fees", "FURS"),
    "he": ("sderot", "איך משלמים ארנונה", "ask_fees", "ארנונה"),
    "en": ("kozani", "what do you do with my data", "ask_privacy", "/forget"),
}


@pytest.mark.parametrize("lang", TOPIC_QUESTIONS)
async def test_a_topic_is_answered_from_the_profile_naming_the_department(uow_factory, lang):
    slug, question, intent, expected = TOPIC_QUESTIONS[lang]
    stack = build_stack(uow_factory, slug, nlu=ScriptedNLU({question: intent}))
    out = await stack.console(language=lang).say(question)
    profile = stack.helpline.profile
    topic = profile.knowledge.topics[intent.removeprefix("ask_")]
    assert expected in out
    assert profile.departments[topic.department].names[lang if lang in profile.languages else "en"] in out


async def test_bulky_waste_answer_offers_to_book_a_collection(uow_factory):
    question = "when do you collect bulky waste?"
    stack = build_stack(uow_factory, "kozani", nlu=ScriptedNLU({question: "ask_bulky_waste"}))
    t = stack.console()
    out = await t.say(question)
    assert "free of charge" in out
    booked = await t.press("Book a collection")
    assert screen(stack, "ask_details", "en", category=T("category_bulky_waste")) in booked


async def test_a_question_mid_report_is_answered_and_the_report_goes_on(uow_factory):
    question = "btw is the town hall open now?"
    stack = build_stack(uow_factory, "kozani", nlu=ScriptedNLU({question: "ask_office_hours"}))
    t = stack.console()
    await t.say("/report")
    await t.press("Street light")
    await t.press("Skip")
    out = await t.say(question)
    assert "Open now" in out and screen(stack, "ask_location", "en") in out
    filed = await t.say("/loc 40.3007,21.7887")
    assert "photo" in filed.lower()                              # the draft kept its category


@pytest.mark.parametrize("lang,question", [("el", "πόσο κοστίζει ένα εισιτήριο για το γήπεδο;"),
                                           ("sl", "kje je najboljša pica v mestu?"),
                                           ("he", "מתי יש הופעה בפארק?"),
                                           ("en", "can you recommend a good dentist?")])
async def test_an_unknown_question_offers_a_person(uow_factory, lang, question):
    stack = build_stack(uow_factory, "kozani")                   # NoNLU: nothing understood
    t = stack.console(language=lang)
    out = await t.say(question)
    assert screen(stack, "answer_unknown", lang) in out
    assert stack.translator.label(T("btn_person"), lang) in out
    assert any(b.data == "g:person" for b in t.console.buttons)


async def test_municipal_information_with_buttons_alone_even_with_the_nlu_down(uow_factory):
    stack = build_stack(uow_factory, "kozani")           # no NLU at all
    t = stack.console()
    await t.say("/start")
    await t.press("English")
    topics = await t.press("Information")
    assert "What would you like to know?" in topics
    hours = await t.press("Opening hours")
    assert "open" in hours.lower() or "closed" in hours.lower()
    fees = await t.say("/info")
    assert "What would you like to know?" in fees
    answer = await t.press("Paying fees")
    topic = stack.helpline.profile.knowledge.topics["fees"]
    assert stack.helpline.profile.departments[topic.department].names["en"] in answer


async def test_information_mid_report_keeps_the_draft(uow_factory):
    stack = build_stack(uow_factory, "kozani")
    t = stack.console()
    await t.say("/start")
    await t.press("English")
    await t.press("Report a problem")
    await t.press("Street light")
    await t.say("The lamp outside the bakery is dark")
    await t.say("/info")
    out = await t.press("Recycling")
    topic = stack.helpline.profile.knowledge.topics["recycling"]
    assert stack.helpline.profile.departments[topic.department].names["en"] in out
    assert "location" in out.lower() or "where" in out.lower()      # and the report asks for its place again
    await t.say("/loc 40.3007,21.7887")
    await t.press("Skip")
    filed = await t.press("Send the report")
    assert "Your report is KOZ-2026-00001" in filed
    [ticket] = stack.helpline.tickets()
    assert ticket.description == "The lamp outside the bakery is dark"

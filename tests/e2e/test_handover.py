"""A resident talks to a person at the citizen's line, through the real bot over HTTP, in each language.

The operators sit in their group chat: they claim with one tap, answer by replying to a relayed message, end
the conversation or turn it into a report. Only people on the staff list as operators may do any of it.
"""
from datetime import datetime, timezone

import pytest

from bot.i18n import Translator
from core.dialogue import LANGUAGE_NAMES, T
from core.handover import Handovers
from core.ports import StaffMember
from tests.support.clock import FixedClock
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import LOCALES
from tests.support.telegram_bot import Resident, running_bot, settings_for

GROUP, ELENI, KOSTAS, MARIA = -1009001, 7001, 7002, 5201
CASES = {
    # language: (profile, the question, the operator's answer, a second message, a place inside the town)
    "el": ("kozani", "Πότε μαζεύουν τα ογκώδη <στην οδό Ερμού> & γύρω;", "Κάθε Τρίτη το πρωί.",
           "Υπάρχει και ένα σπασμένο παγκάκι εκεί", (40.3007, 21.7887)),
    "sl": ("kranj", "Kdaj odvažajo kosovne odpadke <na Prešernovi> & okoli?", "Vsak torek zjutraj.",
           "Tam je tudi polomljena klop", (46.2389, 14.3556)),
    "he": ("sderot", "מתי מפנים פסולת גושית <ברחוב הרצל> & בסביבה?", "בכל יום שלישי בבוקר.",
           "יש שם גם ספסל שבור", (31.5250, 34.5960)),
    "en": ("velenje", "When is bulky waste collected <on Šaleška> & around?", "Every Tuesday morning.",
           "There is also a broken bench there", (46.3592, 15.1103)),
}


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        fake.group(GROUP, "Citizen's line")
        fake.user(ELENI, "Eleni", "en")
        fake.user(KOSTAS, "Kostas", "en")
        yield fake


def staff_the_line(app) -> Translator:
    app.helpline.bind_chat("operators", GROUP)
    app.helpline.add_staff(StaffMember(ELENI, "operator", name="Eleni Papadopoulou"))
    return Translator(LOCALES, app.profile.calendar.timezone)


async def next_in_group(tg, count: int):
    """Wait until the group shows `count` messages from the bot; returns the newest."""
    await tg.wait_for(lambda t: len(t.messages_to(GROUP)) >= count)
    return tg.messages_to(GROUP)[count - 1]


async def next_to(tg, chat: int, count: int) -> str:
    await tg.wait_for(lambda t: len(t.messages_to(chat)) >= count)
    return tg.messages_to(chat)[count - 1].text


@pytest.mark.parametrize("lang", list(CASES))
async def test_a_full_handover_in_each_language(tg, migrated_url, lang):
    profile, question, answer, more, (lat, lon) = CASES[lang]
    async with running_bot(tg, settings_for(tg, migrated_url, profile)) as app:
        translator = staff_the_line(app)
        staff = app.profile.default_language          # the operators read the municipality's language
        maria = Resident(tg, MARIA, "Maria", lang, translator)
        await maria.say("/start")
        await maria.tap(LANGUAGE_NAMES[lang])

        assert maria.expected("handover_on_duty", lang) in await maria.tap(maria.label("btn_person", lang))
        card = await next_in_group(tg, 1)
        assert translator.plain(T("op_request"), staff) in card.text and "Maria" in card.text

        await tg.send_text(MARIA, question)                 # relayed, escaped, with the header
        relay = await next_in_group(tg, 2)
        assert question in relay.text and "Maria" in relay.text and LANGUAGE_NAMES[lang] in relay.text
        claim = translator.label(T("btn_op_claim"), staff)

        query = await tg.tap(KOSTAS, relay, claim)          # not an operator: refused, nothing changes
        [refusal] = await tg.wait_for(lambda t: [a for a in t.answers if a["callback_query_id"] == query])
        assert refusal["show_alert"] and refusal["text"] == translator.plain(T("op_not_operator"), staff)
        assert relay.edits == [] and claim in [label for label, _ in tg.buttons(relay)]

        seen = len(tg.messages_to(MARIA))
        await tg.tap(ELENI, relay, claim)                   # claimed: the card says by whom, edited in place
        await tg.wait_for(lambda t: relay.edits)
        assert translator.plain(T("op_state_claimed", operator="Eleni"), staff) in relay.text
        assert claim not in [label for label, _ in tg.buttons(relay)]
        named = app.profile.operators.show_first_names
        assert await next_to(tg, MARIA, seen + 1) == (maria.expected("handover_claimed_named", lang, name="Eleni")
                                                      if named else maria.expected("handover_claimed", lang))

        await tg.send_text(ELENI, answer, chat=GROUP, reply_to=relay)      # the answer reaches the resident
        said = await next_to(tg, MARIA, seen + 2)
        assert said == (maria.expected("handover_reply_named", lang, name="Eleni", text=answer) if named
                        else maria.expected("handover_reply", lang, text=answer))
        assert named or "Eleni" not in said

        in_group = len(tg.messages_to(GROUP))
        await tg.send_text(KOSTAS, "I will answer instead", chat=GROUP, reply_to=relay)
        refused = await next_in_group(tg, in_group + 1)
        assert refused.text == translator.plain(T("op_not_operator"), staff)
        assert len(tg.messages_to(MARIA)) == seen + 2       # nothing reached the resident

        await tg.send_text(MARIA, more)
        second = await next_in_group(tg, in_group + 2)
        assert more in second.text
        await tg.tap(ELENI, second, translator.label(T("btn_op_ticket"), staff))
        assert await next_to(tg, MARIA, seen + 3) == maria.expected("handover_place", lang)

        summary = await maria.location(lat, lon)            # the usual report flow, with the words so far
        assert question in summary and more in summary
        filed = await maria.tap(maria.label("btn_send", lang))
        [ticket] = app.helpline.tickets()
        assert ticket.ref in filed and ticket.category == "other"
        assert ticket.description == f"{question}\n{more}"
        ticketed = await tg.wait_for(lambda t: [m for m in t.messages_to(GROUP) if ticket.ref in (m.text or "")])
        assert ticketed[-1].text == translator.plain(T("op_ticketed", number=1, ref=ticket.ref), staff)


async def test_the_operator_ends_it_and_the_resident_carries_on_as_usual(tg, migrated_url):
    async with running_bot(tg, settings_for(tg, migrated_url, "velenje")) as app:
        translator = staff_the_line(app)
        maria = Resident(tg, MARIA, "Maria", "en", translator)
        await maria.say("/person")
        card = await next_in_group(tg, 1)
        seen = len(tg.messages_to(MARIA))
        await tg.tap(ELENI, card, translator.label(T("btn_op_end"), "sl"))
        assert await next_to(tg, MARIA, seen + 1) == maria.expected("handover_ended", "en")
        await tg.wait_for(lambda t: card.edits)
        assert translator.plain(T("op_state_ended"), "sl") in card.text and tg.buttons(card) == []

        after = await maria.say("The street light near the school is dark")
        assert maria.expected("pick_category_plain", "en") in after
        assert len(tg.messages_to(GROUP)) == 1              # no longer relayed


async def test_a_shared_place_makes_the_report_at_once(tg, migrated_url):
    async with running_bot(tg, settings_for(tg, migrated_url, "kozani")) as app:
        translator = staff_the_line(app)
        maria = Resident(tg, MARIA, "Maria", "en", translator)
        await maria.say("/person")
        await tg.send_text(MARIA, "A tree fell on the pavement here")
        await tg.send_location(MARIA, 40.3007, 21.7887)
        place = await next_in_group(tg, 3)
        assert translator.plain(T("op_place", place="40.30070, 21.78870"), "el") in place.text
        seen = len(tg.messages_to(MARIA))
        await tg.tap(ELENI, place, translator.label(T("btn_op_ticket"), "el"))
        news = await next_to(tg, MARIA, seen + 1)
        [ticket] = app.helpline.tickets()
        assert maria.expected("handover_filed", "en") in news and ticket.ref in news
        assert ticket.description == "A tree fell on the pavement here"
        assert (ticket.location.lat, ticket.location.lon) == pytest.approx((40.3007, 21.7887))


@pytest.mark.parametrize("profile, lang, asked_at, opens_at", [
    # Tuesday 23:00 in Kozani: Wednesday 07:00
    ("kozani", "el", datetime(2026, 3, 3, 21, 0, tzinfo=timezone.utc), datetime(2026, 3, 4, 5, 0, tzinfo=timezone.utc)),
    # Friday afternoon in Sderot (work week Sunday to Thursday): Sunday 08:00
    ("sderot", "he", datetime(2026, 3, 6, 13, 0, tzinfo=timezone.utc), datetime(2026, 3, 8, 6, 0, tzinfo=timezone.utc)),
])
async def test_a_request_at_night_says_when_someone_answers_and_waits(tg, migrated_url, profile, lang, asked_at,
                                                                     opens_at):
    clock = FixedClock(asked_at)
    async with running_bot(tg, settings_for(tg, migrated_url, profile), clock=clock) as app:
        translator = staff_the_line(app)
        maria = Resident(tg, MARIA, "Maria", lang, translator)
        closed = await maria.say("/person")
        assert maria.expected("handover_closed", lang, opens=opens_at) in closed
        card = await next_in_group(tg, 1)
        assert translator.plain(T("op_request_closed"), lang) in card.text
        await tg.send_text(MARIA, "?")
        await next_in_group(tg, 2)                          # relayed to the group even at night
        [waiting] = Handovers(app.helpline).waiting()       # and waiting in the queue for the morning digest
        assert waiting.chat_id == MARIA
        clock.advance(seconds=(opens_at - asked_at).total_seconds())   # the morning digest, next working day
        digest = Handovers(app.helpline).write_digest()
        assert Handovers(app.helpline).write_digest() is None           # once a day
        assert digest.chat_id == GROUP and [i["handover"] for i in digest.payload["items"]] == [waiting.id]

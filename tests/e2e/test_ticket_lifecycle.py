"""A ticket's whole life over the fake Telegram Bot API, with the real bot, its department cards, its outbox
deliverer and the Citizen's Advocate's chat: filed -> acknowledged -> fixed -> "not fixed" (questionnaire) ->
fixed -> "not fixed" again, which escalates -> the Advocate reopens it with a deadline -> fixed -> confirmed.
"""
from datetime import timedelta

import pytest

from bot.i18n import Translator
from core.dialogue import LANGUAGE_NAMES, T
from core.ports import StaffMember
from core.sweeps import Sweeps
from core.tickets import EventKind, Status
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import LOCALES
from tests.support.telegram_bot import Resident, running_bot, settings_for

JAN, CLERK, ADVOCATE = 5101, 700, 900
TECHNICAL_CHAT, ADVOCATE_CHAT = -1001, -1009
SQUARE = (40.3007, 21.7887)
LANG = "sl"          # the resident writes Slovenian; the municipality (Kozani) works in Greek


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


def newest_with(tg, chat: int, data: str):
    """The newest message in the chat that carries a button with this callback data."""
    return next((m for m in reversed(tg.messages_to(chat)) if data in [d for _, d in tg.buttons(m)]), None)


async def staff_press(tg, person: int, chat: int, data: str) -> None:
    card = await tg.wait_for(lambda t: newest_with(t, chat, data), timeout=10)
    answered = len(tg.answers)
    await tg.press(person, card, data)
    await tg.wait_for(lambda t: len(t.answers) > answered)


async def notice(tg, jan: Resident, key: str, **args):
    """Wait for the notice the outbox delivers to the resident; returns the message."""
    expected = jan.expected(key, LANG, **args)
    return await tg.wait_for(lambda t: next((m for m in reversed(t.messages_to(JAN))
                                             if expected in (m.text or "")), None), timeout=10)


async def file_a_report(jan: Resident) -> None:
    await jan.say("/start")
    await jan.tap(LANGUAGE_NAMES[LANG])
    await jan.say("Na glavnem trgu je globoka luknja v cesti")
    await jan.tap(jan.label("category_pothole", LANG))
    await jan.location(*SQUARE)
    await jan.tap(jan.label("btn_skip", LANG))
    await jan.tap(jan.label("btn_send", LANG))


async def not_fixed(tg, jan: Resident, message, ref: str, reason: str) -> str:
    await tg.wait_for(lambda t: message)
    asked = await jan.tap(jan.label("btn_fixed_no", LANG))
    assert jan.expected("ask_dispute_reason", LANG, ref=ref) in asked
    return await jan.say(reason)


async def test_a_ticket_from_report_to_confirmation(tg, migrated_url):
    tg.group(TECHNICAL_CHAT, "Τεχνικές Υπηρεσίες")
    tg.group(ADVOCATE_CHAT, "Συνήγορος του Δημότη")
    tg.user(CLERK, "Giorgos", language_code="el")
    tg.user(ADVOCATE, "Eleni", language_code="el")
    settings = settings_for(tg, migrated_url, delivery_interval_s=0.2)
    async with running_bot(tg, settings) as app:
        h = app.helpline
        h.bind_chat("department:technical", TECHNICAL_CHAT)
        h.bind_chat("ombudsman", ADVOCATE_CHAT)
        h.add_staff(StaffMember(CLERK, "staff", "technical", name="Giorgos"))
        h.add_staff(StaffMember(ADVOCATE, "ombudsman", name="Eleni"))
        jan = Resident(tg, JAN, "Jan", LANG, Translator(LOCALES, app.profile.calendar.timezone))

        # the resident files; the department's group gets the card
        await file_a_report(jan)
        [ticket] = h.tickets()
        ref = ticket.ref
        await tg.wait_for(lambda t: any(ref in (m.text or "") for m in t.messages_to(TECHNICAL_CHAT)), timeout=10)

        # staff acknowledge and fix; the resident hears each step in Slovenian, never the clerk's name
        await staff_press(tg, CLERK, TECHNICAL_CHAT, f"d:ack:{ref}")
        acknowledged = await notice(tg, jan, "notice_acknowledged", ref=ref)
        assert "Giorgos" not in acknowledged.text and str(CLERK) not in acknowledged.text
        await staff_press(tg, CLERK, TECHNICAL_CHAT, f"d:fix:{ref}")
        await notice(tg, jan, "notice_fixed", ref=ref)
        assert h.ticket(ref).status is Status.FIXED

        # days later the questionnaire comes; "no" reopens it and the department hears of it
        app.clock.advance(days=app.helpline.policy.questionnaire_days, hours=1)
        assert Sweeps(h).questionnaires() == 1
        question = await notice(tg, jan, "questionnaire", ref=ref)
        cards_before = len(tg.messages_to(TECHNICAL_CHAT))
        answer = await not_fixed(tg, jan, question, ref, "Luknja je po dežju spet tu")
        ticket = h.ticket(ref)
        assert ticket.status is Status.REOPENED and ticket.reopen_count == 1
        assert jan.expected("reopened_by_you", LANG, ref=ref, due=ticket.resolve_due) in answer
        reopened_card = await tg.wait_for(lambda t: next((m for m in t.messages_to(TECHNICAL_CHAT)[cards_before:]
                                                          if (f"d:fix:{ref}" in [d for _, d in t.buttons(m)])), None),
                                          timeout=10)
        assert ref in reopened_card.text

        # fixed again, and disputed again: now it goes to the Citizen's Advocate
        await staff_press(tg, CLERK, TECHNICAL_CHAT, f"d:fix:{ref}")
        fixed_again = await tg.wait_for(lambda t: [m for m in t.messages_to(JAN)
                                                   if jan.expected("notice_fixed", LANG, ref=ref) in (m.text or "")]
                                        [1:], timeout=10)
        answer = await not_fixed(tg, jan, fixed_again[-1], ref, "Še vedno je luknja, zdaj še večja")
        assert jan.expected("sent_to_ombudsman", LANG, ref=ref) in answer
        [escalation] = h.escalations(open_only=True)
        assert escalation.reason == "reopened_twice" and h.ticket(ref).reopen_count == 2
        card = await tg.wait_for(lambda t: newest_with(t, ADVOCATE_CHAT, f"o:reopen:{escalation.id}"), timeout=10)
        assert "Še vedno je luknja, zdaj še večja" in card.text and "Luknja je po dežju spet tu" in card.text

        # the Advocate reopens it with a deadline of 5 working days and a note
        await tg.press(ADVOCATE, card, f"o:reopen:{escalation.id}")
        await tg.press(ADVOCATE, await tg.wait_for(lambda t: newest_with(t, ADVOCATE_CHAT,
                                                                         f"o:reopen:{escalation.id}:5")),
                       f"o:reopen:{escalation.id}:5")
        prompt = await tg.wait_for(lambda t: t.last_to(ADVOCATE_CHAT) if (t.last_to(ADVOCATE_CHAT).reply_markup
                                   or {}).get("force_reply") else None)
        await tg.send_text(ADVOCATE, "Popravite ga temeljito v petih dneh", chat=ADVOCATE_CHAT, reply_to=prompt)
        ticket = await tg.wait_for(lambda t: (lambda x: x if x.resolve_due == h.calendar.add_working_days(
            app.clock.now(), 5) else None)(h.ticket(ref)))
        decided = await notice(tg, jan, "decision_reopen", ref=ref, due=ticket.resolve_due)
        assert "Popravite ga temeljito" in decided.text and "Eleni" not in decided.text
        assert h.escalations()[0].decision == "reopen"

        # the department fixes it; the resident confirms; it is closed
        await staff_press(tg, CLERK, TECHNICAL_CHAT, f"d:fix:{ref}")
        await tg.wait_for(lambda t: len([m for m in t.messages_to(JAN)
                                         if jan.expected("notice_fixed", LANG, ref=ref) in (m.text or "")]) == 3,
                          timeout=10)
        thanks = await jan.tap(jan.label("btn_fixed_yes", LANG))
        assert jan.expected("fixed_thanks", LANG, ref=ref) in thanks
        ticket = h.ticket(ref)
        assert ticket.status is Status.CLOSED
        statuses = [e.to_status for e in ticket.events if e.kind is EventKind.STATUS]
        assert statuses == [Status.ACKNOWLEDGED, Status.FIXED, Status.REOPENED, Status.FIXED, Status.REOPENED,
                            Status.FIXED, Status.CLOSED]
        assert [e.data["decision"] for e in ticket.events if e.kind is EventKind.REVIEWED] == ["reopen"]

        # an old "not fixed" button of a step that has passed is answered politely and changes nothing
        old = await jan.tap(jan.label("btn_fixed_no", LANG))
        assert jan.expected("review_moved_on", LANG, ref=ref, status=T("status_closed")) in old
        assert h.ticket(ref).status is Status.CLOSED
        assert not [n for n in tg.calls if n.status and n.status >= 400 and n.method != "getUpdates"]

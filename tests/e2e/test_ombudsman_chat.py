"""The Citizen's Advocate on Telegram: a disputed rejection reaches their chat with its history, they decide
with buttons and replies, and the resident hears the decision in their language (the real bot over HTTP)."""
import pytest

from bot.i18n import Translator
from core.dialogue import T
from core.ports import StaffMember
from core.services import Report
from core.tickets import Actor, Location, Role, Status
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import LOCALES
from tests.support.telegram_bot import Resident, running_bot, settings_for

ADVOCATE, STRANGER, MARIA = 900, 901, 5001
ADVOCATE_CHAT, TECHNICAL_CHAT = -1009, -1001
STAFF = Actor(Role.STAFF, "700", "technical")


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


def fast(tg, url):
    return settings_for(tg, url, delivery_interval_s=0.2)


def prepare(tg, app):
    """The Advocate's group, the technical department's group, and a resident who writes in Greek."""
    tg.group(ADVOCATE_CHAT, "Citizen's Advocate")
    tg.group(TECHNICAL_CHAT, "Technical services")
    tg.user(ADVOCATE, "Eleni", language_code="el")
    tg.user(STRANGER, "Kostas", language_code="el")
    app.helpline.bind_chat("ombudsman", ADVOCATE_CHAT)
    app.helpline.bind_chat("department:technical", TECHNICAL_CHAT)
    app.helpline.add_staff(StaffMember(ADVOCATE, "ombudsman", name="Eleni"))
    maria = Resident(tg, MARIA, "Maria", "el", Translator(LOCALES, app.profile.calendar.timezone))
    tg.state.users[MARIA].started = True
    resident = app.helpline.resident_for(MARIA, "Maria")
    app.helpline.set_language(resident.id, "el")
    return maria, resident.id


def rejected_ticket(app, resident_id):
    h = app.helpline
    ref = h.file_report(Report("pothole", "Λακκούβα <μπροστά> στο σχολείο", Location(40.3007, 21.7887),
                               resident_id, "el")).ticket.ref
    h.change_status(ref, Status.REJECTED, STAFF, "Ιδιωτικός δρόμος", reason="invalid")
    return ref


async def disputed_to_the_advocate(tg, app, maria, resident_id):
    ref = rejected_ticket(app, resident_id)
    notice = await tg.wait_for(lambda t: next((m for m in t.messages_to(MARIA) if ref in (m.text or "")), None))
    assert maria.expected("notice_rejected", "el", ref=ref, reason=maria.translator.text(
        T("reason_invalid"), "el")) in notice.text
    assert "Ιδιωτικός δρόμος" in notice.text and "700" not in notice.text        # the note, never who wrote it
    asked = await maria.tap(maria.label("btn_dispute", "el"))
    assert maria.expected("ask_dispute_reason", "el", ref=ref) in asked
    sent = await maria.say("Είναι δημόσιος δρόμος, υπάρχει πινακίδα")
    assert maria.expected("sent_to_ombudsman", "el", ref=ref) in sent
    card = await tg.wait_for(lambda t: t.last_to(ADVOCATE_CHAT))
    return ref, card


def labels(tg, message):
    return [label for label, _ in tg.buttons(message)]


async def test_a_disputed_rejection_reaches_the_advocate_who_reopens_it(tg, migrated_url):
    async with running_bot(tg, fast(tg, migrated_url)) as app:
        maria, resident_id = prepare(tg, app)
        ref, card = await disputed_to_the_advocate(tg, app, maria, resident_id)
        tr, el = maria.translator, "el"

        # the whole history, escaped, with the resident's reason and the department's note
        assert ref in card.text and "Λακκούβα <μπροστά> στο σχολείο" in card.text
        assert "Είναι δημόσιος δρόμος" in card.text and "Ιδιωτικός δρόμος" in card.text and "Maria" in card.text
        assert labels(tg, card) == [tr.label(T(k), el) for k in
                                    ("btn_o_explain", "btn_o_uphold", "btn_o_reopen", "btn_o_reassign")]

        await tg.tap(ADVOCATE, card, maria.label("btn_o_reopen", el))
        days = await tg.wait_for(lambda t: t.last_to(ADVOCATE_CHAT) if t.last_to(ADVOCATE_CHAT) is not card
                                 and tg.buttons(t.last_to(ADVOCATE_CHAT)) else None)
        await tg.tap(ADVOCATE, days, maria.label("btn_o_days", el, days=10))
        prompt = await tg.wait_for(lambda t: t.last_to(ADVOCATE_CHAT) if (t.last_to(ADVOCATE_CHAT).reply_markup
                                   or {}).get("force_reply") else None)
        [escalation] = app.helpline.escalations()
        assert prompt.text == maria.expected("o_ask_note_reopen", el, id=escalation.id, ref=ref)

        count = len(tg.messages_to(ADVOCATE_CHAT))
        await tg.send_text(ADVOCATE, "Ο δρόμος είναι δημοτικός· επισκευάστε τον", chat=ADVOCATE_CHAT,
                           reply_to=prompt)
        done = await tg.wait_for(lambda t: t.messages_to(ADVOCATE_CHAT)[count:])
        assert done[0].text.startswith(maria.expected("o_done", el, id=escalation.id, ref=ref,
                                                      decision="")[:10])

        ticket = app.helpline.ticket(ref)
        assert ticket.status is Status.REOPENED
        assert ticket.resolve_due == app.helpline.calendar.add_working_days(app.clock.now(), 10)
        [decided] = app.helpline.escalations()
        assert (decided.decision, decided.decided_by) == ("reopen", str(ADVOCATE))

        news = await tg.wait_for(lambda t: next((m for m in t.messages_to(MARIA)
                                                 if "Ο δρόμος είναι δημοτικός" in (m.text or "")), None))
        assert maria.expected("decision_reopen", el, ref=ref, due=ticket.resolve_due) in news.text
        assert "Eleni" not in news.text and str(ADVOCATE) not in news.text
        await tg.wait_for(lambda t: any(m.chat_id == TECHNICAL_CHAT and ref in (m.text or "") for m in t.sent))

        # the card now shows the decision and offers no more buttons; an old button changes nothing
        await tg.wait_for(lambda t: not tg.buttons(card))
        assert maria.expected("decision_name_reopen", el) in card.text


async def test_an_outsider_pressing_the_advocates_buttons_gets_an_alert_and_nothing_changes(tg, migrated_url):
    async with running_bot(tg, fast(tg, migrated_url)) as app:
        maria, resident_id = prepare(tg, app)
        ref, card = await disputed_to_the_advocate(tg, app, maria, resident_id)
        app.helpline.add_staff(StaffMember(STRANGER, "staff", "technical"))    # staff, but not the Advocate
        sent_before = len(tg.sent)
        tg.answers.clear()

        for label in ("btn_o_reopen", "btn_o_uphold", "btn_o_reassign"):
            await tg.tap(STRANGER, card, maria.label(label, "el"))
            answer = await tg.wait_for(lambda t: len(t.answers) and t.answers[-1])
            assert answer["show_alert"] and answer["text"] == maria.expected("o_not_allowed", "el")
            tg.answers.clear()

        forged = await tg.forge_press(STRANGER, card, f"o:reassign:{app.helpline.escalations()[0].id}:green")
        await tg.wait_for(lambda t: any(a["callback_query_id"] == forged for a in t.answers))
        assert app.helpline.ticket(ref).department == "technical"
        assert app.helpline.escalations()[0].decision is None
        assert app.helpline.ticket(ref).status is Status.REJECTED
        assert len(tg.sent) == sent_before and labels(tg, card)


async def test_uphold_with_a_note_tells_the_resident(tg, migrated_url):
    async with running_bot(tg, fast(tg, migrated_url)) as app:
        maria, resident_id = prepare(tg, app)
        ref, card = await disputed_to_the_advocate(tg, app, maria, resident_id)
        await tg.tap(ADVOCATE, card, maria.label("btn_o_uphold", "el"))
        prompt = await tg.wait_for(lambda t: t.last_to(ADVOCATE_CHAT) if (t.last_to(ADVOCATE_CHAT).reply_markup
                                   or {}).get("force_reply") else None)
        await tg.send_text(ADVOCATE, "Το κτηματολόγιο δείχνει ιδιωτικό δρόμο", chat=ADVOCATE_CHAT, reply_to=prompt)
        news = await tg.wait_for(lambda t: next((m for m in t.messages_to(MARIA)
                                                 if "κτηματολόγιο" in (m.text or "")), None))
        assert maria.expected("decision_uphold", "el", ref=ref) in news.text
        assert app.helpline.ticket(ref).status is Status.REJECTED
        assert app.helpline.escalations()[0].decision == "uphold"

        await tg.wait_for(lambda t: not tg.buttons(card))          # decided: the card lost its buttons


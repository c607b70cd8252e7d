"""The department answers the Citizen's Advocate's "explain" inside the bot (the real bot over HTTP, fake Bot API).

The Advocate presses explain on the escalation card; the department's group gets the request through the outbox;
one of its staff replies to it; the Advocate's chat gets the explanation. Replies from anyone else, replies to other
messages, and forged replies change nothing.
"""
import asyncio

from core.dialogue import T
from core.ports import StaffMember
from core.review import Review
from core.tickets import EventKind, Status
from tests.e2e.test_ombudsman_chat import (ADVOCATE, ADVOCATE_CHAT, STRANGER, TECHNICAL_CHAT,  # noqa: F401
                                           disputed_to_the_advocate, fast, prepare, tg)
from tests.support.telegram_bot import running_bot

CLERK, HEAD, GREEN_CLERK = 910, 911, 912
GREEN_CHAT = -1002
EL = "el"
QUESTION = "Γιατί θεωρήθηκε <ιδιωτικός> ο δρόμος;"
EXPLANATION = 'Το κτηματολόγιο τον γράφει ιδιωτικό <b>όχι</b> & "δημοτικό"· ελέγξαμε στις 2/3.'


def staff_and_groups(tg, app) -> None:
    """A clerk and the head of the technical department, and a clerk of the green spaces department."""
    tg.group(GREEN_CHAT, "Green spaces")
    for user, name in ((CLERK, "Petros"), (HEAD, "Anna"), (GREEN_CLERK, "Sofia")):
        tg.user(user, name, language_code="el")
    app.helpline.bind_chat("department:green", GREEN_CHAT)
    app.helpline.add_staff(StaffMember(CLERK, "staff", "technical", "Petros A."))
    app.helpline.add_staff(StaffMember(HEAD, "head", "technical", "Anna K."))
    app.helpline.add_staff(StaffMember(GREEN_CLERK, "staff", "green", "Sofia L."))


async def advocate_asks_to_explain(tg, app, maria, card):
    """The Advocate presses explain, picks 10 working days and writes the question; returns the request as the
    department's group shows it."""
    await tg.tap(ADVOCATE, card, maria.label("btn_o_explain", EL))
    days = await tg.wait_for(lambda t: t.last_to(ADVOCATE_CHAT) if t.last_to(ADVOCATE_CHAT) is not card
                             and tg.buttons(t.last_to(ADVOCATE_CHAT)) else None)
    await tg.tap(ADVOCATE, days, maria.label("btn_o_days", EL, days=10))
    prompt = await tg.wait_for(lambda t: t.last_to(ADVOCATE_CHAT) if (t.last_to(ADVOCATE_CHAT).reply_markup
                               or {}).get("force_reply") else None)
    await tg.send_text(ADVOCATE, QUESTION, chat=ADVOCATE_CHAT, reply_to=prompt)
    how = maria.expected("explain_how", EL)
    request = await tg.wait_for(lambda t: next((m for m in t.messages_to(TECHNICAL_CHAT) if how in (m.text or "")),
                                               None))
    # staff reply seconds later, when the bot has long recorded which message the request became; the fake server
    # shows the message before the bot has the answer to its sendMessage, so wait for that record as a person would
    review = Review(app.helpline)
    await tg.wait_for(lambda t: review.explain_request_at(TECHNICAL_CHAT, request.message_id))
    return request


async def reply(tg, user: int, chat: int, to, text: str):
    """Reply to the bot's message `to`; returns the bot's next message in the chat."""
    before = len(tg.messages_to(chat))
    await tg.send_text(user, text, chat=chat, reply_to=to)
    return await tg.wait_for(lambda t: len(t.messages_to(chat)) > before and t.messages_to(chat)[-1])


def explanations(app, ref):
    return [e for e in app.helpline.ticket(ref).events if e.kind is EventKind.NOTE and e.data.get("explanation")]


async def test_staff_answer_the_advocates_explain_by_replying_and_the_advocate_reads_it(tg, migrated_url):
    async with running_bot(tg, fast(tg, migrated_url)) as app:
        maria, resident_id = prepare(tg, app)
        staff_and_groups(tg, app)
        ref, card = await disputed_to_the_advocate(tg, app, maria, resident_id)
        [escalation] = app.helpline.escalations()

        request = await advocate_asks_to_explain(tg, app, maria, card)
        assert ref in request.text and QUESTION in request.text          # the question as typed, and Telegram took it
        assert app.helpline.escalations()[0].decision == "explain"
        advocate_before = len(tg.messages_to(ADVOCATE_CHAT))

        # people who may not answer for the department get a polite refusal; nothing is recorded
        name = maria.expected("explain_not_staff", EL, department="Διεύθυνση Τεχνικών Υπηρεσιών")
        for outsider in (STRANGER, GREEN_CLERK, ADVOCATE):
            refused = await reply(tg, outsider, TECHNICAL_CHAT, request, "Δεν φταίει κανείς, κλείστε το")
            assert tg.plain_text(refused) == name
        # words are needed: a reply of punctuation, or a sticker, is asked for words
        for attempt in ("?!", None):
            if attempt is None:
                before = len(tg.messages_to(TECHNICAL_CHAT))
                sticker = {"file_id": "s1", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512,
                           "is_animated": False, "is_video": False}
                tg._message(CLERK, TECHNICAL_CHAT, {"sticker": sticker}, request)     # the fake has no send_sticker
                asked = await tg.wait_for(lambda t: len(t.messages_to(TECHNICAL_CHAT)) > before
                                          and t.messages_to(TECHNICAL_CHAT)[-1])
            else:
                asked = await reply(tg, CLERK, TECHNICAL_CHAT, request, attempt)
            assert tg.plain_text(asked) == maria.expected("explain_need_words", EL)
        assert explanations(app, ref) == [] and len(tg.messages_to(ADVOCATE_CHAT)) == advocate_before

        # the clerk answers: recorded on the ticket, confirmed in the group, and in the Advocate's chat
        done = await reply(tg, CLERK, TECHNICAL_CHAT, request, EXPLANATION)
        assert tg.plain_text(done) == maria.expected("explain_sent", EL, ref=ref)
        [event] = explanations(app, ref)
        assert (event.note, event.actor_id, event.public) == (EXPLANATION, str(CLERK), False)
        assert event.data["escalation"] == escalation.id
        told = await tg.wait_for(lambda t: next((m for m in t.messages_to(ADVOCATE_CHAT)
                                                 if EXPLANATION in (m.text or "")), None))
        assert ref in told.text and f"#{escalation.id}" in told.text and "Διεύθυνση Τεχνικών Υπηρεσιών" in told.text
        assert not any(e["type"] == "bold" and "όχι" in told.text[e["offset"]:e["offset"] + e["length"]]
                       for e in told.entities)                          # the clerk's tags are shown, not applied
        assert "Petros" not in told.text and all(EXPLANATION not in (m.text or "") for m in tg.messages_to(
            maria.id))                                                   # internal: the resident is not told

        # the head may add to it; the Advocate then decides on the card with its buttons as before
        await reply(tg, HEAD, TECHNICAL_CHAT, request, "Επισυνάπτουμε και το απόσπασμα του κτηματολογίου.")
        assert len(explanations(app, ref)) == 2
        assert app.helpline.escalations()[0].decision == "explain"
        await tg.tap(ADVOCATE, card, maria.label("btn_o_uphold", EL))
        prompt = await tg.wait_for(lambda t: t.last_to(ADVOCATE_CHAT) if (t.last_to(ADVOCATE_CHAT).reply_markup
                                   or {}).get("force_reply") else None)
        await tg.send_text(ADVOCATE, "Το κτηματολόγιο δείχνει ιδιωτικό δρόμο", chat=ADVOCATE_CHAT, reply_to=prompt)
        await tg.wait_for(lambda t: app.helpline.escalations()[0].decision == "uphold")
        assert app.helpline.ticket(ref).status is Status.REJECTED

        # decided: a late answer is told the request is closed, and nothing is recorded
        late = await reply(tg, CLERK, TECHNICAL_CHAT, request, "Και κάτι ακόμη για το ιστορικό.")
        assert tg.plain_text(late) == maria.expected("explain_closed", EL, ref=ref, decision=T("decision_name_uphold"))
        assert len(explanations(app, ref)) == 2


async def test_replies_to_other_messages_and_forged_replies_change_nothing(tg, migrated_url):
    async with running_bot(tg, fast(tg, migrated_url)) as app:
        maria, resident_id = prepare(tg, app)
        staff_and_groups(tg, app)
        ref, card = await disputed_to_the_advocate(tg, app, maria, resident_id)
        request = await advocate_asks_to_explain(tg, app, maria, card)
        ticket_card = next(m for m in tg.messages_to(TECHNICAL_CHAT) if ref in (m.text or "") and m is not request)
        sent_before = len(tg.sent)

        # staff reply to the ticket's card (it names the same ticket): today's behaviour, nothing happens
        await tg.send_text(CLERK, "Το είδαμε, ευχαριστούμε", chat=TECHNICAL_CHAT, reply_to=ticket_card)
        # a modified client: a reply whose quoted message reads like the request but is the card
        forged = request.as_json(tg.state.chats[TECHNICAL_CHAT], tg.state.bot) | {"message_id": ticket_card.message_id}
        await tg.enqueue({"message": {
            "message_id": 7101, "date": 1, "from": {"id": CLERK, "is_bot": False, "first_name": "Petros"},
            "chat": {"id": TECHNICAL_CHAT, "type": "supergroup", "title": "Technical services"},
            "text": "Πλαστή εξήγηση", "reply_to_message": forged}})
        # ... and the request's own message id, quoted from another group
        elsewhere = request.as_json(tg.state.chats[GREEN_CHAT], tg.state.bot)
        await tg.enqueue({"message": {
            "message_id": 7102, "date": 1, "from": {"id": GREEN_CLERK, "is_bot": False, "first_name": "Sofia"},
            "chat": {"id": GREEN_CHAT, "type": "supergroup", "title": "Green spaces"},
            "text": "Πλαστή εξήγηση από αλλού", "reply_to_message": elsewhere}})

        # each group's updates are handled in order: an answered probe in each means the forgeries were handled
        probe = await reply(tg, CLERK, TECHNICAL_CHAT, request, "?!")
        assert tg.plain_text(probe) == maria.expected("explain_need_words", EL)
        count = len(tg.messages_to(GREEN_CHAT))
        await tg.send_command(GREEN_CLERK, "/queue", chat=GREEN_CHAT)
        await tg.wait_for(lambda t: len(t.messages_to(GREEN_CHAT)) > count)
        await asyncio.sleep(0.5)                      # time for a stray delivery to the Advocate, if there were one

        assert explanations(app, ref) == []
        assert [m.chat_id for m in tg.sent[sent_before:]] == [TECHNICAL_CHAT, GREEN_CHAT]   # the two probes only
        assert app.helpline.escalations()[0].decision == "explain"

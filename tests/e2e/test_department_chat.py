"""Department staff work tickets from their group on Telegram: the real bot over HTTP against the fake Bot API.

Cards reach the group through the outbox (the scheduler's delivery); staff press the card's buttons and answer
the bot's questions by replying; every press is checked against the staff list.
"""
from __future__ import annotations

import asyncio

import pytest

from bot.i18n import Translator
from core.dialogue import T
from core.ports import StaffMember
from core.services import Report
from core.tickets import Actor, Location, Role, Status
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import LOCALES
from tests.support.telegram_bot import running_bot, settings_for

LIGHTING, TECHNICAL, ELSEWHERE = -1001001, -1001002, -1001003
ANNA, NIKOS, OUTSIDER, KOSTAS, RESIDENT = 2001, 2002, 2003, 2004, 5001
CENTRE = (40.3007, 21.7887)
HOSTILE = 'Dark lamp <b>near</b> "Tom & Jerry" <script>alert(1)</script> 5 > 3'
LANG = "el"                                    # Kozani's departments read Greek


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        fake.group(LIGHTING, "Lighting")
        fake.group(TECHNICAL, "Technical")
        fake.group(ELSEWHERE, "Coffee corner")
        for user, name in ((ANNA, "Anna"), (NIKOS, "Nikos"), (OUTSIDER, "Olga"), (KOSTAS, "Kostas")):
            fake.user(user, name, language_code="el")
        fake.user(RESIDENT, "Maria", language_code="el", started=True)
        yield fake


@pytest.fixture
def tr() -> Translator:
    return Translator(LOCALES, "Europe/Athens")


def say(tr: Translator, key: str, **args) -> str:
    return tr.plain(T(key, **args), LANG)


def label(tr: Translator, key: str) -> str:
    return tr.label(T(key), LANG)


def set_up(app) -> None:
    """The lighting and technical groups are bound; Anna is lighting staff, Nikos its head, Kostas technical."""
    helpline = app.helpline
    helpline.bind_chat("department:lighting", LIGHTING)
    helpline.bind_chat("department:technical", TECHNICAL)
    helpline.add_staff(StaffMember(ANNA, "staff", "lighting", "Anna P."))
    helpline.add_staff(StaffMember(NIKOS, "head", "lighting", "Nikos K."))
    helpline.add_staff(StaffMember(KOSTAS, "staff", "technical", "Kostas M."))


def file(app, category: str = "streetlight", words: str = "The street light is dark", *, lat_lon=CENTRE,
         photo: bool = False) -> str:
    resident = app.helpline.resident_for(RESIDENT, "Maria")
    report = Report(category, words, Location(*lat_lon, address="Plateia Nikis 1"), resident.id, "el")
    return app.helpline.file_report(report).ticket.ref


async def card_of(tg: FakeTelegram, chat: int, ref: str, timeout: float = 10.0):
    """The card for `ref` in the group, once the outbox delivery has posted it."""
    return await tg.wait_for(lambda t: next((m for m in reversed(t.messages_to(chat)) if ref in (m.text or "")
                                             and t.buttons(m) is not None), None), timeout=timeout)


async def tap(tg: FakeTelegram, user: int, message, text: str) -> dict:
    """Press a button on the message as `user`; returns the bot's answer to the press."""
    before = len(tg.answers)
    await tg.tap(user, message, text)
    await tg.wait_for(lambda t: len(t.answers) > before)
    await asyncio.sleep(0.2)                   # let the edit that follows the answer land
    return tg.answers[-1]


async def press_data(tg: FakeTelegram, user: int, message, data: str, forged: bool = False) -> dict:
    """Press by callback data; `forged`: data that no button on the message carries (a modified client)."""
    before = len(tg.answers)
    await (tg.forge_press if forged else tg.press)(user, message, data)
    await tg.wait_for(lambda t: len(t.answers) > before)
    await asyncio.sleep(0.2)
    return tg.answers[-1]


async def question(tg: FakeTelegram, chat: int, count_before: int):
    """The ForceReply question the bot posted after a press."""
    return await tg.wait_for(lambda t: len(t.messages_to(chat)) > count_before and
                             (t.messages_to(chat)[-1].reply_markup or {}).get("force_reply")
                             and t.messages_to(chat)[-1])


async def reply(tg: FakeTelegram, user: int, chat: int, to, text: str):
    """Reply to a bot's message; returns the bot's next message in the group."""
    before = len(tg.messages_to(chat))
    await tg.send_text(user, text, chat=chat, reply_to=to)
    return await tg.wait_for(lambda t: len(t.messages_to(chat)) > before and t.messages_to(chat)[-1])


def ticket(app, ref: str):
    return app.helpline.ticket(ref)


# --- the card and working a ticket -----------------------------------------------------------------------

async def test_staff_work_a_ticket_from_its_card(tg, migrated_url, tr):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        set_up(app)
        ref = file(app, words=HOSTILE)
        card = await card_of(tg, LIGHTING, ref)
        assert HOSTILE in card.text                                   # shown as typed, and Telegram took it
        assert say(tr, "card_new") in card.text and say(tr, "category_streetlight") in card.text
        link = next(e["url"] for e in card.entities if e["type"] == "text_link")
        assert link.startswith("https://www.openstreetmap.org/?mlat=40.300700&mlon=21.788700#map=18/")
        assert [text for text, _ in tg.buttons(card)] == [label(tr, f"btn_desk_{a}") for a in
                                                           ("ack", "work", "info", "fix", "rej", "move")]

        answer = await tap(tg, ANNA, card, label(tr, "btn_desk_ack"))
        assert answer["text"] == say(tr, "alert_done") and not answer["show_alert"]
        assert ticket(app, ref).status is Status.ACKNOWLEDGED
        assert say(tr, "desk_status_acknowledged") in card.text and "Anna P." in card.text
        assert HOSTILE in card.text and card.edits                      # the same message, edited in place

        await tap(tg, ANNA, card, label(tr, "btn_desk_work"))
        assert ticket(app, ref).status is Status.IN_PROGRESS
        count = len(tg.messages_to(LIGHTING))
        await tap(tg, ANNA, card, label(tr, "btn_desk_plan"))
        asked = await question(tg, LIGHTING, count)
        assert ref in asked.text and asked.reply_markup["selective"] is True
        again = await reply(tg, ANNA, LIGHTING, asked, "next Blursday")
        assert say(tr, "reask_date") in again.text and again.reply_markup.get("force_reply")
        done = await reply(tg, ANNA, LIGHTING, again, "2026-03-10")
        planned = ticket(app, ref).scheduled_for
        assert planned is not None and planned.astimezone().date().isoformat() == "2026-03-10"
        assert done.text == say(tr, "done_planned", ref=ref, planned=planned)
        assert tr.plain(T("card_planned", planned=planned), LANG) in card.text

        count = len(tg.messages_to(LIGHTING))
        await tap(tg, ANNA, card, label(tr, "btn_desk_info"))
        asked = await question(tg, LIGHTING, count)
        again = await reply(tg, ANNA, LIGHTING, asked, "ok")
        assert say(tr, "reask_text") in again.text
        await reply(tg, ANNA, LIGHTING, again, "Which pole number is it, <the> one by the kiosk?")
        assert ticket(app, ref).status is Status.NEEDS_INFO
        assert "Which pole number is it, <the> one by the kiosk?" in card.text

        await tap(tg, ANNA, card, label(tr, "btn_desk_fix"))
        assert ticket(app, ref).status is Status.FIXED
        assert tg.buttons(card) == []                                  # nothing left to do on the card
        with app.helpline.uow() as uow:
            told = [n for n in uow.outbox.due(app.clock.now(), limit=500) + _sent(uow)
                    if n.chat_id == RESIDENT]
        assert told and all("Anna" not in str(n.payload) and str(ANNA) not in str(n.payload) for n in told)


def _sent(uow) -> list:
    from bot.db.models import OutboxRow
    from bot.db.repositories import _notification
    return [_notification(row) for row in uow.session.query(OutboxRow).all()]


@pytest.mark.parametrize("reason", ["invalid", "no_action", "not_responsible", "duplicate"])
async def test_rejecting_asks_for_what_each_reason_needs(tg, migrated_url, tr, reason):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        set_up(app)
        original = file(app, words="The first report of the dark lamp")
        ref = file(app, words="Same lamp, still dark", lat_lon=(40.3008, 21.7888))
        card = await card_of(tg, LIGHTING, ref)
        await tap(tg, ANNA, card, label(tr, "btn_desk_rej"))
        assert label(tr, f"btn_reason_{reason}") in [text for text, _ in tg.buttons(card)]
        count = len(tg.messages_to(LIGHTING))
        await tap(tg, ANNA, card, label(tr, f"btn_reason_{reason}"))
        if reason == "not_responsible":
            await tap(tg, ANNA, card, app.profile.outside_bodies["hedno"].names["el"][:39] + "…")
            assert ticket(app, ref).outside_body == "hedno"
        elif reason == "duplicate":
            asked = await question(tg, LIGHTING, count)
            again = await reply(tg, ANNA, LIGHTING, asked, ref)          # itself: asked again
            assert say(tr, "reask_ref") in again.text
            await reply(tg, ANNA, LIGHTING, again, f"same as {original.lower()}")
            assert ticket(app, ref).duplicate_of == original
        else:
            asked = await question(tg, LIGHTING, count)
            await reply(tg, ANNA, LIGHTING, asked, "The lamp was switched off on purpose for the works.")
            assert ticket(app, ref).events[-1].note == "The lamp was switched off on purpose for the works."
        rejected = ticket(app, ref)
        assert rejected.status is Status.REJECTED and rejected.reject_reason == reason
        assert say(tr, "desk_status_rejected") in card.text and tg.buttons(card) == []


async def test_the_head_reassigns_and_the_other_group_gets_the_card(tg, migrated_url, tr):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        set_up(app)
        ref = file(app)
        card = await card_of(tg, LIGHTING, ref)
        before = card.text, tg.buttons(card)
        refused = await tap(tg, ANNA, card, label(tr, "btn_desk_move"))    # staff, not the head
        department = app.profile.departments["lighting"].names["el"]
        assert refused["show_alert"] and refused["text"] == say(tr, "alert_not_head", department=department)
        assert (card.text, tg.buttons(card)) == before

        await tap(tg, NIKOS, card, label(tr, "btn_desk_move"))
        technical = app.profile.departments["technical"].names["el"]
        await tap(tg, NIKOS, card, technical)
        assert ticket(app, ref).department == "technical"
        assert say(tr, "card_moved", department=technical) in card.text and tg.buttons(card) == []
        moved = await card_of(tg, TECHNICAL, ref)
        assert say(tr, "card_assigned", department=department) in moved.text
        assert "Nikos" not in moved.text                                # names stay in their own group
        await tap(tg, KOSTAS, moved, label(tr, "btn_desk_ack"))
        assert ticket(app, ref).status is Status.ACKNOWLEDGED


# --- presses that must change nothing --------------------------------------------------------------------

async def test_forged_presses_change_nothing_and_get_an_alert(tg, migrated_url, tr):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        set_up(app)
        ref = file(app)
        card = await card_of(tg, LIGHTING, ref)
        before = card.text, tg.buttons(card), len(card.edits)
        department = app.profile.departments["lighting"].names["el"]
        for who in (OUTSIDER, KOSTAS):                                  # nobody's staff; another department's
            answer = await tap(tg, who, card, label(tr, "btn_desk_fix"))
            assert answer["show_alert"] and answer["text"] == say(tr, "alert_not_staff", department=department)
        answer = await press_data(tg, OUTSIDER, card, f"d:move:{ref}")  # what the button says is not trusted
        assert answer["show_alert"]
        answer = await press_data(tg, ANNA, card, f"d:move:{ref}:green", forged=True)  # staff, not the head
        assert answer["text"] == say(tr, "alert_not_head", department=department)
        answer = await press_data(tg, OUTSIDER, card, f"d:refer:{ref}:hedno", forged=True)
        assert answer["text"] == say(tr, "alert_not_staff", department=department)
        assert (card.text, tg.buttons(card), len(card.edits)) == before
        assert ticket(app, ref).status is Status.NEW and ticket(app, ref).department == "lighting"


async def test_a_press_on_a_stale_card_explains_and_refreshes_it(tg, migrated_url, tr):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        set_up(app)
        ref = file(app)
        card = await card_of(tg, LIGHTING, ref)
        app.helpline.change_status(ref, Status.IN_PROGRESS, Actor(Role.ADMIN, "cli"))  # moved on elsewhere
        answer = await tap(tg, ANNA, card, label(tr, "btn_desk_ack"))
        assert answer["show_alert"] and answer["text"] == say(tr, "alert_stale")
        assert ticket(app, ref).status is Status.IN_PROGRESS
        assert say(tr, "desk_status_in_progress") in card.text
        assert label(tr, "btn_desk_ack") not in [text for text, _ in tg.buttons(card)]


# --- commands ---------------------------------------------------------------------------------------------

async def command(tg: FakeTelegram, user: int, chat: int, line: str):
    before = len(tg.messages_to(chat))
    await tg.send_command(user, line, chat=chat)
    return await tg.wait_for(lambda t: len(t.messages_to(chat)) > before and t.messages_to(chat)[-1])


async def test_queue_lists_urgent_first_then_by_due_date(tg, migrated_url, tr):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        set_up(app)
        first = file(app)                                             # streetlight: 7 working days
        app.clock.advance(days=1)
        urgent = file(app, "traffic_signal", "The traffic lights at the crossing are off")
        later = file(app, lat_lon=(40.3010, 21.7890))
        listing = await command(tg, ANNA, LIGHTING, "/queue")
        positions = [listing.text.index(ref) for ref in (urgent, first, later)]
        assert positions == sorted(positions)
        lighting = app.profile.departments["lighting"].names["el"]
        assert listing.text.startswith(say(tr, "queue_title", department=lighting, count=3))

        overdue = await command(tg, ANNA, LIGHTING, "/overdue")
        assert first not in overdue.text
        app.clock.advance(days=30)
        overdue = await command(tg, ANNA, LIGHTING, "/overdue")
        assert all(ref in overdue.text for ref in (urgent, first, later))


async def test_ticket_command_posts_the_card_only_for_its_own_department(tg, migrated_url, tr):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        set_up(app)
        ref = file(app)
        pothole = file(app, "pothole", "A deep hole in the road")
        await card_of(tg, LIGHTING, ref)
        posted = await command(tg, ANNA, LIGHTING, f"/ticket {ref.lower()}")
        assert ref in posted.text and tg.buttons(posted)
        refused = await command(tg, ANNA, LIGHTING, f"/ticket {pothole}")
        assert refused.text == say(tr, "ticket_elsewhere", ref=pothole)
        unbound = await command(tg, ANNA, ELSEWHERE, "/queue")
        assert unbound.text == say(tr, "chat_not_bound", chat_id=ELSEWHERE)
        assert "helpline chats set" in unbound.text


async def test_a_question_waiting_for_a_reply_survives_a_restart(tg, migrated_url, tr):
    settings = settings_for(tg, migrated_url)
    async with running_bot(tg, settings) as app:
        set_up(app)
        ref = file(app)
        card = await card_of(tg, LIGHTING, ref)
        count = len(tg.messages_to(LIGHTING))
        await tap(tg, ANNA, card, label(tr, "btn_desk_info"))
        asked = await question(tg, LIGHTING, count)
    async with running_bot(tg, settings) as app:
        await reply(tg, ANNA, LIGHTING, asked, "Is the lamp dark all night or only after midnight?")
        assert ticket(app, ref).status is Status.NEEDS_INFO
        assert "only after midnight" in card.text


async def test_a_group_that_becomes_a_supergroup_keeps_getting_its_cards(tg, migrated_url, tr):
    supergroup, unrelated = -1001001999, -1001003999
    tg.group(supergroup, "Lighting")
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        set_up(app)
        for old, new in ((LIGHTING, supergroup), (ELSEWHERE, unrelated)):    # what Telegram posts in the old group
            await tg.enqueue({"message": {"message_id": 900, "date": 1, "from": {"id": ANNA, "is_bot": False,
                                          "first_name": "Anna"}, "chat": {"id": old, "type": "group",
                                                                          "title": "Lighting"},
                                          "migrate_to_chat_id": new}})
        await tg.wait_for(lambda t: app.helpline.chat_of("department:lighting") == supergroup)
        assert app.helpline.bound_chats() == {"department:lighting": supergroup, "department:technical": TECHNICAL}

        ref = file(app)
        await card_of(tg, supergroup, ref)
        assert not any(ref in (m.text or "") for m in tg.messages_to(LIGHTING))

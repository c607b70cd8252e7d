"""A ticket the helpline closed by itself after a fix: residents read why, in their own language, and may still
dispute it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.i18n import Translator
from bot.notices import register_notices
from bot.outgoing import Renderers
from core.dialogue import T
from core.tickets import Status
from tests.integration.test_sweeps import STAFF, World, local
from tests.support.fake_telegram.content import message_text
from tests.support.stack import LOCALES

LANGUAGES = ("el", "sl", "he", "en")


def read(world: World, notification) -> tuple[str, list[str]]:
    """What the resident reads, as the fake Telegram parses it, and the labels of the buttons."""
    renderers = Renderers()
    register_notices(renderers, Translator(LOCALES, world.profile.calendar.timezone), world.helpline)
    out = renderers.render(notification)
    return message_text(out.text, "HTML", strict=True)[0], [label for row in out.buttons for label, _ in row]


def said(key: str, lang: str, **args) -> str:
    return Translator(LOCALES, "Europe/Athens").plain(T(key, **args), lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_answer_to_the_question_closes_it_and_the_resident_reads_why(uow_factory, lang):
    world = World(uow_factory, "kozani", local("kozani", "2026-03-02 09:00"))
    ticket = world.file("KOZ-2026-00001", "cleaning", reporter=world.resident(5551, lang))
    world.helpline.change_status(ticket.ref, Status.FIXED, STAFF)
    world.at(world.clock.now() + timedelta(days=3)).sweeps.questionnaires()
    world.at(world.clock.now() + timedelta(days=14)).sweeps.questionnaires()
    assert world.ticket(ticket.ref).status is Status.CLOSED

    text, buttons = read(world, world.outbox("status_changed")[-1])
    assert text == said("notice_closed_no_answer", lang, ref=ticket.ref)
    assert text != said("notice_closed", lang, ref=ticket.ref)
    assert buttons == [Translator(LOCALES, "Europe/Athens").label(T("btn_dispute"), lang)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_follower_reads_that_nobody_could_be_asked(uow_factory, lang):
    world = World(uow_factory, "kozani", local("kozani", "2026-03-02 09:00"))
    ticket = world.file("KOZ-2026-00002", "cleaning", supporters={world.resident(5552, lang)})  # no reporter
    world.helpline.change_status(ticket.ref, Status.FIXED, STAFF)
    world.at(world.clock.now() + timedelta(days=3)).sweeps.questionnaires()
    assert world.ticket(ticket.ref).status is Status.CLOSED

    closed = world.outbox("status_changed")[-1]
    assert closed.chat_id == 5552
    text, _ = read(world, closed)
    assert text == said("notice_closed_nobody_to_ask", lang, ref=ticket.ref)


def test_a_ticket_closed_by_a_person_keeps_the_plain_sentence(uow_factory):
    world = World(uow_factory, "kozani", local("kozani", "2026-03-02 09:00"))
    ticket = world.file("KOZ-2026-00003", "cleaning", reporter=world.resident(5553, "en"))
    world.helpline.change_status(ticket.ref, Status.FIXED, STAFF)
    world.helpline.change_status(ticket.ref, Status.CLOSED, STAFF)
    text, _ = read(world, world.outbox("status_changed")[-1])
    assert text == said("notice_closed", "en", ref=ticket.ref)

"""A second look at department cards: who reopened a ticket and why, and cards that must fit a photo's caption
however much people wrote."""
from __future__ import annotations

import pytest

from bot.outgoing import MAX_CAPTION
from core.dialogue import T
from core.ports import Notification
from core.tickets import Actor, EventKind, Location, Photo, Role, Status, TicketEvent
from tests.support.stack import T0
from tests.unit.test_cards import HOSTILE, a_ticket, cards_for, seen

PROFILES_BY_LANGUAGE = {"el": "kozani", "sl": "kranj", "he": "sderot"}
STAFF = Actor(Role.STAFF, "2001", "lighting")


def reopened(by: str | None, note: str | None) -> Notification:
    payload = {"ref": "KOZ-2026-00042", "due": T0.isoformat()}
    payload.update({k: v for k, v in (("by", by), ("note", note)) if v is not None})
    return Notification(chat_id=-1001, kind="ticket_reopened", payload=payload)


@pytest.mark.parametrize("slug", PROFILES_BY_LANGUAGE.values())
@pytest.mark.parametrize("by", ["resident", "ombudsman"])
def test_a_reopened_card_says_who_reopened_it_by_role_and_why(slug, by):
    cards = cards_for(slug)
    ticket = a_ticket(department=next(iter(cards.helpline.profile.departments)))
    out = cards.card(ticket, ticket.department, headline=cards.headline(reopened(by, HOSTILE), ticket))
    text, lang = seen(out), cards.lang
    assert HOSTILE in text                                         # the reason, escaped, as they wrote it
    assert text.startswith(cards.translator.plain(T(f"card_reopened_{by}", reason=HOSTILE), lang))
    other = "ombudsman" if by == "resident" else "resident"
    assert cards.translator.plain(T(f"card_reopened_{other}", reason=""), lang).split(",")[0] not in text


def test_a_reopened_card_without_a_reason_does_not_invent_one():
    cards = cards_for()
    ticket = a_ticket()
    for by in (None, "resident", "someone"):
        out = cards.card(ticket, "lighting", headline=cards.headline(reopened(by, None), ticket))
        assert seen(out).startswith(cards.translator.plain(T("card_reopened"), "el") + "\n")


def test_a_photo_card_fits_when_the_question_the_answer_and_the_reason_are_long():
    cards = cards_for()
    long = "& <i>" * 400
    ticket = a_ticket(description=long, photos=[Photo("AgAC-big")])
    ticket.location = Location(40.3007, 21.7887, long)
    ticket.change_status(Status.NEEDS_INFO, STAFF, T0, long)
    ticket.record(TicketEvent(EventKind.INFO, T0, Role.RESIDENT, "7", note=long))
    out = cards.card(ticket, "lighting", headline=cards.headline(reopened("resident", long), ticket))
    assert out.photo == "AgAC-big" and len(out.text) <= MAX_CAPTION
    text = seen(out)                                               # Telegram parses it: no tag cut in half
    assert "& <i>" in text and "…" in text
    assert cards.translator.plain(T("card_status", status=T("desk_status_needs_info")), "el") in text

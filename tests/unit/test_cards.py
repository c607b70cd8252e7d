"""A ticket's card for its department's group: what staff read, what Telegram accepts, the buttons it offers."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.cards import BODIES, DEPARTMENTS, REASONS, Cards, map_link
from bot.i18n import Translator
from bot.outgoing import MAX_CAPTION
from bot.profiles import load_profile
from core.dialogue import T
from core.services import Helpline
from core.tickets import Actor, Location, Photo, Role, Status, Ticket
from tests.support.clock import FixedClock
from tests.support.fake_telegram.content import caption, message_text
from tests.support.stack import LOCALES, PROFILES, T0

HOSTILE = '<b>bold</b> & "quotes" <script>alert(1)</script> 3 < 5'
SLUGS = ("kozani", "petroupoli", "kranj", "velenje", "sderot")


def cards_for(slug: str = "kozani") -> Cards:
    profile = load_profile(slug, PROFILES)
    helpline = Helpline(lambda: None, profile, FixedClock(T0))        # cards read the profile, not the database
    return Cards(helpline, Translator(LOCALES, profile.calendar.timezone))


def a_ticket(category: str = "streetlight", description: str = "The lamp is dark", **extra) -> Ticket:
    extra.setdefault("department", "lighting")
    return Ticket("KOZ-2026-00042", "kozani", category, description, Location(40.3007, 21.7887, "Plateia Nikis 1"),
                  T0, reporter_id=7, ack_due=T0 + timedelta(hours=8), resolve_due=T0 + timedelta(days=9), **extra)


def seen(out) -> str:
    """What a person reads, after the fake Telegram has parsed the HTML (it refuses what Telegram refuses)."""
    return (caption if out.photo else message_text)(out.text, "HTML", strict=True)[0]


def test_the_card_shows_the_residents_words_escaped_and_a_map_link():
    cards = cards_for()
    out = cards.card(a_ticket(description=HOSTILE), "lighting")
    text = seen(out)
    assert HOSTILE in text and "KOZ-2026-00042" in text
    assert cards.translator.plain(T("category_streetlight"), "el") in text
    assert f'href="{map_link(40.3007, 21.7887)}"'.replace("&", "&amp;") in out.text
    assert map_link(40.3007, 21.7887) == \
        "https://www.openstreetmap.org/?mlat=40.300700&mlon=21.788700#map=18/40.300700/21.788700"
    assert cards.translator.plain(T("card_resolve_due", resolve_due=T0 + timedelta(days=9)), "el") in text


def test_a_photo_card_cuts_the_words_to_fit_the_caption():
    cards = cards_for()
    out = cards.card(a_ticket(description="& " * 1500, photos=[Photo("AgAC-big")]), "lighting")
    assert out.photo == "AgAC-big" and len(out.text) <= MAX_CAPTION
    assert "…" in seen(out)
    text_card = cards.card(a_ticket(description="& " * 1500, photos=[Photo("AgAC-big")]), "lighting", photo=False)
    assert text_card.photo is None and len(seen(text_card)) > len(seen(out))


@pytest.mark.parametrize("status, actions", [
    (Status.NEW, ["ack", "work", "info", "fix", "rej", "move"]),
    (Status.IN_PROGRESS, ["plan", "info", "fix", "rej", "move"]),
    (Status.NEEDS_INFO, ["ack", "work", "fix", "rej", "move"]),
    (Status.FIXED, []),
    (Status.REJECTED, []),
])
def test_buttons_follow_the_lifecycle(status, actions):
    out = cards_for().card(a_ticket(status=status), "lighting")
    assert [data.split(":")[1] for row in out.buttons for _, data in row] == actions


def test_in_another_departments_group_the_card_says_where_it_is_and_offers_nothing():
    cards = cards_for()
    out = cards.card(a_ticket(), "technical")
    assert out.buttons == ()
    assert cards.translator.plain(T("card_moved", department=cards.department_name("lighting")), "el") in seen(out)


def test_staff_names_only_when_the_group_knows_them():
    ticket = a_ticket()
    ticket.change_status(Status.ACKNOWLEDGED, Actor(Role.STAFF, "2001", "lighting"), T0)
    cards = cards_for()
    assert "Anna P." in seen(cards.card(ticket, "lighting", names={"2001": "Anna P."}))
    anonymous = seen(cards.card(ticket, "lighting"))
    assert "Anna" not in anonymous and cards.translator.plain(T("who_staff"), "el") in anonymous


@pytest.mark.parametrize("slug", SLUGS)
def test_every_keyboard_fits_telegrams_callback_data_in_every_profile(slug):
    cards = cards_for(slug)
    for department in cards.helpline.profile.departments:
        ticket = a_ticket(department=department)
        for keyboard in ("actions", REASONS, BODIES, DEPARTMENTS):
            out = cards.card(ticket, department, keyboard=keyboard)      # Outgoing checks the 64 bytes
            assert all(0 < len(label) <= 40 for row in out.buttons for label, _ in row)

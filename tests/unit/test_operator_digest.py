"""The operators' morning digest fits one Telegram message however many requests wait and however long the
residents' names and first words are; those that do not fit are counted, never silently dropped."""
from __future__ import annotations

import pytest

from bot.i18n import Translator
from bot.outgoing import MAX_TEXT
from bot.profiles import load_profile
from core.dialogue import T
from core.ports import Notification
from handlers.operator_cards import OperatorCards
from tests.support.fake_telegram.content import message_text
from tests.support.stack import LOCALES, PROFILES, T0


def digest(count: int, name: str, first: str, lang: str) -> Notification:
    items = [{"handover": i, "name": name, "language": "el", "requested_at": T0.isoformat(), "first": first}
             for i in range(1, count + 1)]
    return Notification(chat_id=-100, kind="operators_digest", payload={"count": count, "items": items},
                        language=lang)


def render(n: Notification) -> str:
    cards = OperatorCards(Translator(LOCALES, "Europe/Athens"), load_profile("kozani", PROFILES))
    out = cards.digest(n)
    assert len(out.text) <= MAX_TEXT
    return message_text(out.text, "HTML", strict=True)[0]


@pytest.mark.parametrize("lang", ["el", "sl", "he", "en"])
def test_a_long_queue_of_long_requests_fits_and_the_rest_are_counted(lang):
    name, first = "Αικατερίνη <Παπαδοπούλου> & " * 3, "Η λάμπα & <b>δεν</b> ανάβει " * 10
    text = render(digest(60, name, first, lang))
    assert text.count("<Παπαδοπούλου>") >= 5                       # escaped, shown as written
    listed = sum(1 for line in text.splitlines() if line.startswith("• "))
    tr = Translator(LOCALES, "Europe/Athens")
    assert 5 <= listed < 60
    assert text.endswith(tr.plain(T("op_digest_more", waiting=60 - listed), lang))


def test_a_short_queue_is_listed_whole():
    text = render(digest(3, "Maria", "Where is the town hall?", "en"))
    assert sum(1 for line in text.splitlines() if line.startswith("• ")) == 3
    assert "not listed" not in text

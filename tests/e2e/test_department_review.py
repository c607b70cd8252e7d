"""A second look at the department groups over the fake Bot API: a press forged with another ticket's reference,
or with garbage, changes nothing and shows nothing; the group commands show reports to staff only."""
from __future__ import annotations

from core.tickets import Status
from tests.e2e.test_department_chat import (ANNA, KOSTAS, LIGHTING, NIKOS, OUTSIDER, command, file, press_data,  # noqa: F401
                                            say, set_up, ticket, tg, tr)
from tests.e2e.test_department_chat import card_of
from tests.support.telegram_bot import running_bot, settings_for

SECRET = "Pothole by the school, my name is Maria Papadopoulou"


async def test_a_press_forged_with_another_tickets_reference_changes_and_shows_nothing(tg, migrated_url, tr):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        set_up(app)
        ref = file(app)
        pothole = file(app, "pothole", SECRET)
        assert ticket(app, pothole).department == "technical"
        card = await card_of(tg, LIGHTING, ref)
        before = card.text, tg.buttons(card), len(card.edits)
        for who, data in ((ANNA, f"d:card:{pothole}"), (ANNA, f"d:fix:{pothole}"),
                          (KOSTAS, f"d:fix:{pothole}"),          # staff of the pothole's department, wrong card
                          (OUTSIDER, f"d:card:{pothole}"), (NIKOS, f"d:move:{pothole}:lighting"),
                          (ANNA, "d:"), (ANNA, "d:card"), (ANNA, f"d:rej:{ref}:because")):
            answer = await press_data(tg, who, card, data, forged=True)
            assert answer["show_alert"] and answer["text"] == say(tr, "alert_not_this_card"), data
        assert (card.text, tg.buttons(card), len(card.edits)) == before
        assert all(SECRET not in (m.text or "") for m in tg.messages_to(LIGHTING))
        assert ticket(app, pothole).status is Status.NEW and ticket(app, pothole).department == "technical"
        assert ticket(app, ref).status is Status.NEW


async def test_only_the_departments_staff_get_its_queue_overdue_list_and_cards(tg, migrated_url, tr):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        set_up(app)
        ref = file(app, words=SECRET)
        await card_of(tg, LIGHTING, ref)
        department = app.profile.departments["lighting"].names["el"]
        for who in (OUTSIDER, KOSTAS):                      # in the group, but not lighting's staff
            for line in ("/queue", "/overdue", f"/ticket {ref}"):
                answer = await command(tg, who, LIGHTING, line)
                assert answer.text == say(tr, "staff_only", department=department), (who, line)
                assert ref not in answer.text and SECRET not in answer.text
        assert ref in (await command(tg, ANNA, LIGHTING, "/queue")).text
        posted = await command(tg, NIKOS, LIGHTING, f"/ticket {ref}")
        assert SECRET in posted.text and tg.buttons(posted)

"""A second look at the Citizen's Advocate's chat over the fake Bot API: presses that no button on the message
carries (garbage, a deadline or department typed in by a modified client) change nothing and get an alert."""
from core.tickets import Status
from tests.e2e.test_ombudsman_chat import (ADVOCATE, ADVOCATE_CHAT, disputed_to_the_advocate, fast, labels,  # noqa: F401
                                           prepare, tg)
from tests.support.telegram_bot import running_bot


async def test_the_advocates_forged_or_garbled_presses_change_nothing(tg, migrated_url):
    async with running_bot(tg, fast(tg, migrated_url)) as app:
        maria, resident_id = prepare(tg, app)
        ref, card = await disputed_to_the_advocate(tg, app, maria, resident_id)
        [escalation] = app.helpline.escalations()
        before, sent_before = labels(tg, card), len(tg.sent)
        for data in (f"o:uphold:{escalation.id}:x", f"o:explain:{escalation.id}:abc", f"o:reopen:{escalation.id}:999",
                     f"o:reassign:{escalation.id}:nowhere", f"o:reassign:{escalation.id + 1}", "o:", "o:reopen:x"):
            forged = await tg.forge_press(ADVOCATE, card, data)
            answer = await tg.wait_for(lambda t: next((a for a in t.answers if a["callback_query_id"] == forged),
                                                      None))
            assert answer["show_alert"] and answer["text"] == maria.expected("o_not_this_card", "el"), data
        assert labels(tg, card) == before and len(tg.sent) == sent_before
        assert app.helpline.escalations()[0].decision is None
        assert app.helpline.ticket(ref).status is Status.REJECTED and app.helpline.ticket(ref).department == "technical"

"""A department answers the Citizen's Advocate's "explain" by replying to the request in its group (both databases).

The request is found again through the outbox row that became the message (its chat and Telegram message id); the
answer is an internal event on the ticket naming the escalation, and a message to the Advocate's chat.
"""
from datetime import timedelta

import pytest

from bot.outgoing import MAX_TEXT, Renderers
from core.ports import Notification
from core.review import EXPLAIN_REQUEST, EXPLANATION_NOTICE, MovedOn
from core.services import Report
from core.tickets import Actor, DomainError, EventKind, Location, NotAllowed, Role, Status
from tests.support.groups import ADVOCATE_ID, GREEN_CHAT, OMBUDSMAN_CHAT, TECHNICAL_CHAT

STAFF = Actor(Role.STAFF, "700", "technical")
GREEN_STAFF = Actor(Role.STAFF, "701", "green")
ADMIN = Actor(Role.ADMIN, "702")
ADVOCATE = Actor(Role.OMBUDSMAN, str(ADVOCATE_ID))
HOSTILE = "<b>bold</b> & <script>alert(1)</script>"


def outbox(stack) -> list[Notification]:
    with stack.helpline.uow() as uow:
        return uow.outbox.due(stack.clock.now() + timedelta(days=365), limit=1000)


def asked_to_explain(stack, review, question="Why is this road private?"):
    """A rejection the resident disputed, on which the Advocate asked the department to explain."""
    h = stack.helpline
    maria = h.resident_for(5001, "Maria").id
    ref = h.file_report(Report("pothole", "A deep hole", Location(40.3007, 21.7887), maria, "el")).ticket.ref
    h.change_status(ref, Status.REJECTED, STAFF, "Private road", reason="invalid")
    escalation = review.dispute(ref, maria, "It is public").escalation
    review.decide(escalation.id, "explain", ADVOCATE, note=question, days=10)
    return ref, escalation


def delivered(stack, kind: str, message_id: int) -> Notification:
    """What the scheduler's delivery does: the newest pending row of `kind` is sent and becomes `message_id`."""
    with stack.helpline.uow() as uow:
        row = [n for n in uow.outbox.due(stack.clock.now() + timedelta(days=365), limit=1000) if n.kind == kind][-1]
        row.status, row.sent_message_id = "sent", message_id
        uow.outbox.save(row)
        uow.commit()
        return row


def explanations(stack, ref):
    return [e for e in stack.helpline.ticket(ref).events if e.kind is EventKind.NOTE and e.data.get("explanation")]


def test_a_reply_to_the_request_is_recorded_and_goes_to_the_advocate(stack, review):
    ref, escalation = asked_to_explain(stack, review)
    request = delivered(stack, EXPLAIN_REQUEST, 77)
    assert request.chat_id == TECHNICAL_CHAT and request.payload["department"] == "technical"

    found = review.explain_request_at(TECHNICAL_CHAT, 77)
    assert found is not None and found.escalation.id == escalation.id and found.ticket.ref == ref
    assert found.department == "technical" and found.answerable

    review.explain(found, STAFF, "  The land registry lists the road as private; we checked on 2 March.  ")

    [event] = explanations(stack, ref)
    assert event.note == "The land registry lists the road as private; we checked on 2 March."
    assert (event.actor_role, event.actor_id, event.public) == (Role.STAFF, "700", False)
    assert event.data == {"escalation": escalation.id, "explanation": True, "department": "technical"}
    [sent] = [n for n in outbox(stack) if n.kind == EXPLANATION_NOTICE]
    assert sent.chat_id == OMBUDSMAN_CHAT and sent.ticket_ref == ref
    assert sent.payload == {"ref": ref, "escalation": escalation.id, "department": "technical",
                            "text": "The land registry lists the road as private; we checked on 2 March."}
    assert not [n for n in outbox(stack) if n.chat_id == 5001 and n.kind == EXPLANATION_NOTICE]   # not residents
    [still] = stack.helpline.escalations()
    assert still.decision == "explain"                    # the Advocate decides next, on the same escalation

    review.decide(escalation.id, "uphold", ADVOCATE, note="The registry is right")
    assert stack.helpline.escalations()[0].decision == "uphold"


def test_only_the_request_message_in_its_own_group_is_taken_for_the_request(stack, review):
    ref, escalation = asked_to_explain(stack, review)
    delivered(stack, EXPLAIN_REQUEST, 77)
    card = delivered(stack, "ticket_new", 78)                       # the ticket's card in the same group
    assert card.chat_id == TECHNICAL_CHAT and card.ticket_ref == ref
    assert review.explain_request_at(GREEN_CHAT, 77) is None            # the same message id elsewhere
    assert review.explain_request_at(TECHNICAL_CHAT, 78) is None        # another message about the ticket
    assert review.explain_request_at(TECHNICAL_CHAT, 79) is None        # a message the bot never sent

    review.decide(escalation.id, "explain", ADVOCATE, note="And the sign?", days=5)      # asked again
    delivered(stack, EXPLAIN_REQUEST, 90)
    assert review.explain_request_at(TECHNICAL_CHAT, 77).escalation.id == escalation.id   # both answer
    assert review.explain_request_at(TECHNICAL_CHAT, 90).escalation.id == escalation.id


def test_another_department_or_no_words_records_nothing_and_an_admin_may_answer(stack, review):
    ref, _ = asked_to_explain(stack, review)
    delivered(stack, EXPLAIN_REQUEST, 77)
    found = review.explain_request_at(TECHNICAL_CHAT, 77)
    for actor in (GREEN_STAFF, ADVOCATE, Actor(Role.RESIDENT, "5001")):
        with pytest.raises(NotAllowed):
            review.explain(found, actor, "We did nothing wrong at all")
    for words in ("", "   ", "?!", "ok"):
        with pytest.raises(DomainError):
            review.explain(found, STAFF, words)
    assert explanations(stack, ref) == [] and not [n for n in outbox(stack) if n.kind == EXPLANATION_NOTICE]

    review.explain(found, ADMIN, "Answered for the department by the administrator")
    assert [e.actor_role for e in explanations(stack, ref)] == [Role.ADMIN]


@pytest.mark.parametrize("decision, options", [("uphold", {"note": "Upheld"}),
                                               ("reopen", {"note": "Fix it", "days": 5}),
                                               ("reassign", {"department": "green"})])
def test_a_decided_escalation_takes_no_more_explanations(stack, review, decision, options):
    ref, escalation = asked_to_explain(stack, review)
    delivered(stack, EXPLAIN_REQUEST, 77)
    found = review.explain_request_at(TECHNICAL_CHAT, 77)
    review.decide(escalation.id, decision, ADVOCATE, **options)

    with pytest.raises(MovedOn):                          # the request was read before the decision
        review.explain(found, STAFF, "Late, but here is why")
    again = review.explain_request_at(TECHNICAL_CHAT, 77)
    assert again is not None and not again.answerable and again.escalation.decision == decision
    assert explanations(stack, ref) == []


# --- what the Advocate reads ---------------------------------------------------------------------------

@pytest.fixture
def renderers(stack):
    from bot.notices import Notices
    renderers = Renderers()
    Notices(stack.translator, stack.helpline).register(renderers)
    return renderers


@pytest.mark.parametrize("lang", ["el", "sl", "he", "en"])
def test_the_advocate_reads_the_explanation_escaped_and_whole_or_cut_within_telegrams_limit(stack, review,
                                                                                           renderers, lang):
    ref, escalation = asked_to_explain(stack, review)
    department = stack.helpline.profile.departments["technical"].names
    name = department.get(lang) or department["en"]

    def render(text):
        return renderers.render(Notification(OMBUDSMAN_CHAT, EXPLANATION_NOTICE, {
            "ref": ref, "escalation": escalation.id, "department": "technical", "text": text}, ref, lang)).text

    short = render(HOSTILE)
    assert ref in short and f"#{escalation.id}" in short and name in short
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in short and "<script>" not in short

    whole = "A sentence of the explanation. " * 100            # 3100 characters: shown whole, not cut at 800
    assert whole.strip() in render(whole)

    for long in ("word & <tag> " * 400, "🚧 road " * 700, "x" * 4096):
        text = render(long)
        assert len(text) <= MAX_TEXT and len(text.encode("utf-16-le")) // 2 <= MAX_TEXT
        assert "helpline escalations show" in text and f"{escalation.id}" in text and "<tag>" not in text
        assert "…" in text and text.count("&") == text.count("&amp;") + text.count("&lt;") + text.count("&gt;")


def test_the_escalation_card_shows_the_explanation_in_the_history(stack, review):
    from bot.notices import Notices
    ref, escalation = asked_to_explain(stack, review)
    delivered(stack, EXPLAIN_REQUEST, 77)
    found = review.explain_request_at(TECHNICAL_CHAT, 77)
    review.explain(found, STAFF, HOSTILE)
    card = Notices(stack.translator, stack.helpline).card(review.case(escalation.id), "en")
    line = next(line for line in card.text.splitlines() if "&lt;script&gt;" in line)
    assert "explanation to the Citizen's Advocate" in line and "<script>" not in card.text
    assert [len(row) for row in card.buttons] == [2, 2]         # still open: the Advocate decides next

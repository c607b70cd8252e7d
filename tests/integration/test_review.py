"""After the department's work: the resident confirms or disputes, and the ombudsman decides (both databases)."""
from datetime import timedelta

import pytest

from core.review import MovedOn, NotYours
from core.services import Report
from core.tickets import Actor, DomainError, EventKind, Location, NotAllowed, Role, Status
from tests.support.groups import ADVOCATE_ID, GREEN_CHAT, OMBUDSMAN_CHAT, TECHNICAL_CHAT

TECHNICAL = "technical"
STAFF = Actor(Role.STAFF, "700", TECHNICAL)
ADVOCATE = Actor(Role.OMBUDSMAN, str(ADVOCATE_ID))


def people(stack):
    """A reporter writing in Greek and a follower writing in Slovenian; their resident ids."""
    maria = stack.helpline.resident_for(5001, "Maria")
    stack.helpline.set_language(maria.id, "el")
    jan = stack.helpline.resident_for(5002, "Jan")
    stack.helpline.set_language(jan.id, "sl")
    return maria.id, jan.id


def fixed_ticket(stack, reporter, follower=None):
    h = stack.helpline
    ticket = h.file_report(Report("pothole", "A deep hole", Location(40.3007, 21.7887), reporter, "el")).ticket
    if follower:
        h.follow(ticket.ref, follower)
    h.change_status(ticket.ref, Status.ACKNOWLEDGED, STAFF)
    h.change_status(ticket.ref, Status.FIXED, STAFF, "Filled with asphalt")
    return ticket.ref


def outbox(stack):
    with stack.helpline.uow() as uow:
        return uow.outbox.due(stack.clock.now() + timedelta(days=365), limit=1000)


def kinds_to(stack, chat_id):
    return [n.kind for n in outbox(stack) if n.chat_id == chat_id]


def test_not_fixed_reopens_with_a_fresh_deadline_and_tells_the_department(stack, review):
    maria, jan = people(stack)
    ref = fixed_ticket(stack, maria, jan)
    stack.clock.advance(days=4)
    with stack.helpline.uow() as uow:        # as the scheduler leaves it after asking and reminding
        ticket = uow.tickets.get(ref)
        ticket.asked_at, ticket.resolve_reminded_at, ticket.breach_level = stack.clock.now(), stack.clock.now(), 1
        uow.tickets.save(ticket)
        uow.commit()
    before = stack.helpline.ticket(ref).resolve_due

    outcome = review.not_fixed(ref, maria, "The hole is back after the rain")

    ticket = stack.helpline.ticket(ref)
    assert ticket.status is Status.REOPENED and ticket.reopen_count == 1 and outcome.escalation is None
    assert ticket.resolve_due > before and ticket.resolve_due > stack.clock.now()
    assert (ticket.asked_at, ticket.resolve_reminded_at, ticket.breach_level) == (None, None, 0)
    assert ticket.events[-1].note == "The hole is back after the rain"
    assert ticket.events[-1].actor_role is Role.RESIDENT
    [reopened] = [n for n in outbox(stack) if n.kind == "ticket_reopened"]
    assert reopened.chat_id == TECHNICAL_CHAT and reopened.payload["note"] == "The hole is back after the rain"
    news = [n for n in outbox(stack) if n.kind == "status_changed" and n.payload["status"] == "reopened"]
    assert [(n.chat_id, n.language) for n in news] == [(5002, "sl")]     # the follower; Maria said it herself


def test_reopened_twice_goes_to_the_ombudsman(stack, review):
    maria, _ = people(stack)
    ref = fixed_ticket(stack, maria)
    review.not_fixed(ref, maria, "Still a hole")
    stack.helpline.change_status(ref, Status.FIXED, STAFF, "Filled again")
    outcome = review.not_fixed(ref, maria, "Still a hole, again")

    assert outcome.escalation is not None and outcome.escalation.reason == "reopened_twice"
    [escalation] = stack.helpline.escalations(open_only=True)
    assert escalation.ticket_ref == ref and escalation.level == "ombudsman"
    assert kinds_to(stack, OMBUDSMAN_CHAT) == ["escalation_ombudsman"]
    assert kinds_to(stack, TECHNICAL_CHAT).count("ticket_reopened") == 2


def test_yes_fixed_closes_and_only_the_reporter_may_say_it(stack, review):
    maria, jan = people(stack)
    ref = fixed_ticket(stack, maria, jan)
    with pytest.raises(NotYours):
        review.confirm_fixed(ref, jan)
    assert review.confirm_fixed(ref, maria).status is Status.CLOSED
    with pytest.raises(MovedOn):             # an old button of the same question: nothing changes
        review.confirm_fixed(ref, maria)
    with pytest.raises(MovedOn):
        review.not_fixed(ref, maria, "no")
    assert stack.helpline.ticket(ref).status is Status.CLOSED


def test_a_stranger_cannot_dispute_and_an_empty_reason_is_refused(stack, review):
    maria, _ = people(stack)
    stranger = stack.helpline.resident_for(5099, "Nobody").id
    ref = fixed_ticket(stack, maria)
    with pytest.raises(NotYours):
        review.dispute(ref, stranger, "I do not like it")
    with pytest.raises(DomainError):
        review.not_fixed(ref, maria, "   ")
    assert stack.helpline.ticket(ref).status is Status.FIXED


def test_a_disputed_rejection_goes_to_the_ombudsman_with_the_reason(stack, review):
    maria, jan = people(stack)
    h = stack.helpline
    ref = h.file_report(Report("pothole", "A deep hole", Location(40.3007, 21.7887), maria, "el")).ticket.ref
    h.follow(ref, jan)
    h.change_status(ref, Status.REJECTED, STAFF, "Private road", reason="invalid")

    outcome = review.dispute(ref, jan, "It is a public street, the sign says so")

    assert h.ticket(ref).status is Status.REJECTED
    assert (outcome.escalation.reason, outcome.escalation.note) == ("disputed",
                                                                   "It is a public street, the sign says so")
    assert kinds_to(stack, OMBUDSMAN_CHAT) == ["escalation_ombudsman"]
    with pytest.raises(MovedOn):
        review.dispute(h.change_status(ref, Status.REOPENED, ADVOCATE, "Look again").ref, jan, "again")


def disputed(stack, review):
    maria, jan = people(stack)
    h = stack.helpline
    ref = h.file_report(Report("pothole", "A deep hole", Location(40.3007, 21.7887), maria, "el")).ticket.ref
    h.follow(ref, jan)
    h.change_status(ref, Status.REJECTED, STAFF, "Private road", reason="invalid")
    return ref, review.dispute(ref, maria, "It is public").escalation


def test_the_ombudsman_reopens_a_rejection_with_a_deadline(stack, review):
    ref, escalation = disputed(stack, review)
    outcome = review.decide(escalation.id, "reopen", ADVOCATE, note="The road is public; fix it", days=5)

    ticket = stack.helpline.ticket(ref)
    assert ticket.status is Status.REOPENED
    assert ticket.resolve_due == stack.helpline.calendar.add_working_days(stack.clock.now(), 5)
    [decided] = stack.helpline.escalations()
    assert (decided.decision, decided.decided_by, decided.note) == ("reopen", ADVOCATE.id, "The road is public; fix it")
    assert decided.decided_at == stack.clock.now() and outcome.escalation.id == decided.id
    reviewed = [e for e in ticket.events if e.kind is EventKind.REVIEWED]
    assert [(e.data["decision"], e.public) for e in reviewed] == [("reopen", True)]
    assert "ticket_reopened" in kinds_to(stack, TECHNICAL_CHAT)
    notices = [n for n in outbox(stack) if n.kind == "ombudsman_decision"]
    assert sorted((n.chat_id, n.language) for n in notices) == [(5001, "el"), (5002, "sl")]
    with pytest.raises(MovedOn):             # decided: a second press changes nothing
        review.decide(escalation.id, "uphold", ADVOCATE, note="No")


def test_explain_then_uphold(stack, review):
    ref, escalation = disputed(stack, review)
    review.decide(escalation.id, "explain", ADVOCATE, note="Why is this road private?", days=10)
    [asked] = [n for n in outbox(stack) if n.kind == "explain_requested"]
    assert asked.chat_id == TECHNICAL_CHAT and asked.payload["note"] == "Why is this road private?"
    assert stack.helpline.escalations()[0].deadline == stack.helpline.calendar.add_working_days(
        stack.clock.now(), 10)
    assert not [n for n in outbox(stack) if n.kind == "ombudsman_decision"]   # residents hear the outcome only

    with pytest.raises(DomainError):
        review.decide(escalation.id, "uphold", ADVOCATE)                         # a note for the resident
    review.decide(escalation.id, "uphold", ADVOCATE, note="The land registry shows a private road")
    assert stack.helpline.ticket(ref).status is Status.REJECTED
    assert {n.payload["note"] for n in outbox(stack) if n.kind == "ombudsman_decision"} == {
        "The land registry shows a private road"}
    assert [e.data["decision"] for e in stack.helpline.ticket(ref).events
            if e.kind is EventKind.REVIEWED] == ["explain", "uphold"]


def test_reassign_sends_the_ticket_to_the_new_department(stack, review):
    ref, escalation = disputed(stack, review)
    review.decide(escalation.id, "reassign", ADVOCATE, department="green")
    assert stack.helpline.ticket(ref).department == "green"
    assert kinds_to(stack, GREEN_CHAT) == ["ticket_assigned"]


def test_only_the_ombudsman_decides(stack, review):
    _, escalation = disputed(stack, review)
    with pytest.raises(NotAllowed):
        review.decide(escalation.id, "reopen", STAFF, note="Me", days=5)
    with pytest.raises(NotAllowed):
        stack.helpline.ombudsman_actor(700)
    assert stack.helpline.escalations()[0].decision is None


# --- the CLI ---------------------------------------------------------------------------------------

def helpline_cli(*args: str):
    from click.testing import CliRunner
    from bot.cli import cli
    return CliRunner().invoke(cli, list(args))


def test_the_cli_shows_an_escalation_with_its_history_and_decides_it(stack, review, migrated_url, monkeypatch):
    monkeypatch.setenv("HELPLINE_DATABASE_URL", migrated_url)
    ref, escalation = disputed(stack, review)

    listed = helpline_cli("escalations", "list")
    assert listed.exit_code == 0, listed.output
    assert f"#{escalation.id}" in listed.output and "disputed" in listed.output
    shown = helpline_cli("escalations", "show", str(escalation.id))
    assert shown.exit_code == 0, shown.output
    assert ref in shown.output and "It is public" in shown.output and "Private road" in shown.output

    decided = helpline_cli("escalations", "decide", str(escalation.id), "reopen", "--note", "Public road",
                           "--days", "5", "--by", "advocate")
    assert decided.exit_code == 0, decided.output
    assert stack.helpline.ticket(ref).status is Status.REOPENED
    assert stack.helpline.escalations()[0].decided_by == "advocate"

    again = helpline_cli("escalations", "decide", str(escalation.id), "uphold", "--note", "No")
    assert again.exit_code == 1 and "decided already" in again.stderr
    missing = helpline_cli("escalations", "show", "9999")
    assert missing.exit_code == 1 and "no escalation 9999" in missing.stderr


# --- what people read ------------------------------------------------------------------------------

HOSTILE = "<b>bold</b> & <script>"


@pytest.fixture
def notices(stack):
    from bot.notices import Notices
    return Notices(stack.translator, stack.helpline)


@pytest.mark.parametrize("lang", ["el", "sl", "he", "en"])
def test_every_notice_renders_within_telegrams_limits_and_escapes_what_people_wrote(stack, review, notices, lang):
    from bot.outgoing import Renderers
    from core.ports import Notification
    renderers = Renderers()
    notices.register(renderers)
    ref, escalation = disputed(stack, review)
    for _ in range(15):                      # a long history: the card drops its oldest lines, not its head
        stack.helpline.change_status(ref, Status.REOPENED, ADVOCATE, HOSTILE * 10)
        stack.helpline.change_status(ref, Status.REJECTED, STAFF, HOSTILE * 10, reason="invalid")
    kinds = {
        "status_changed": [{"ref": ref, "status": s, "note": HOSTILE, "reason": "not_responsible",
                            "referral": next(iter(stack.helpline.profile.outside_bodies))}
                           for s in ("acknowledged", "in_progress", "needs_info", "fixed", "rejected", "closed",
                                     "reopened", "new")],
        "questionnaire": [{"ref": ref}],
        "ombudsman_decision": [{"ref": ref, "decision": d, "note": HOSTILE, "due": stack.clock.now().isoformat()}
                               for d in ("uphold", "reopen")],
        "escalation_ombudsman": [{"ref": ref, "escalation": escalation.id, "reason": "disputed"}],
        "explain_requested": [{"ref": ref, "escalation": escalation.id, "note": HOSTILE,
                               "due": stack.clock.now().isoformat()}],
    }
    for kind, payloads in kinds.items():
        for payload in payloads:
            out = renderers.render(Notification(1, kind, payload, ref, lang))
            assert ref in out.text and "<script>" not in out.text and len(out.text) <= 4096
            if kind == "escalation_ombudsman":
                assert len(out.text) > 3000 and "#" in out.text and [len(r) for r in out.buttons] == [2, 2]
            elif payload.get("note"):
                assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in out.text

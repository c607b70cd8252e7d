"""Talking to a person through the terminal channel and the handover use cases, on both databases.

What the resident reads comes from the conversation; what the operators' group would receive is read from
the outbox rows the use cases write (the Telegram side is tested in tests/e2e/test_handover.py).
"""
from datetime import datetime, timezone

import pytest

from core.dialogue import T
from core.handover import ClaimedByOther, HandoverClosed, Handovers
from core.ports import StaffMember
from core.tickets import NotAllowed
from handlers.operator_cards import OperatorCards
from tests.support.clock import FixedClock
from tests.support.stack import build_stack

GROUP = -1009001
OPERATOR, COLLEAGUE, CLERK, ADMIN = 7001, 7002, 7003, 7004
NIGHT = datetime(2026, 3, 3, 21, 0, tzinfo=timezone.utc)             # Tuesday, 23:00 in Kozani
NEXT_MORNING = datetime(2026, 3, 4, 5, 0, tzinfo=timezone.utc)       # Wednesday, 07:00 in Kozani


def staffed(stack):
    stack.helpline.bind_chat("operators", GROUP)
    for telegram_id, role, department in ((OPERATOR, "operator", None), (COLLEAGUE, "operator", None),
                                          (CLERK, "staff", "technical"), (ADMIN, "admin", None)):
        stack.helpline.add_staff(StaffMember(telegram_id, role, department))
    return Handovers(stack.helpline)


@pytest.fixture
def stack(uow_factory):
    return build_stack(uow_factory)


def to_group(stack, kind=None):
    rows = [n for n in Handovers(stack.helpline).undelivered() if n.chat_id == GROUP]
    return [n for n in rows if kind is None or n.kind == kind]


def to_resident(stack, chat_id):
    return [n for n in Handovers(stack.helpline).undelivered() if n.chat_id == chat_id]


async def test_asking_at_night_says_when_someone_answers_and_waits_in_the_queue(uow_factory):
    stack = build_stack(uow_factory, clock=FixedClock(NIGHT))
    handovers = staffed(stack)
    t = stack.console(chat_id=1101, name="Maria")
    answer = await t.say("/person")
    assert answer.startswith(stack.translator.plain(T("handover_closed", opens=NEXT_MORNING), "en"))
    assert "Wednesday, 4 March 2026, 07:00" in answer
    await t.say("When is the bulky waste collected in Kozani?")

    [waiting] = handovers.waiting()
    assert waiting.chat_id == 1101 and waiting.status == "waiting"
    [card] = to_group(stack, "handover_request")
    assert card.payload["on_duty"] is False
    cards = OperatorCards(stack.translator, stack.helpline.profile)
    assert stack.translator.text(T("op_request_closed"), "el") in cards.relay(card).text   # Kozani's staff: Greek
    digest = handovers.write_digest()
    text = cards.digest(digest).text
    assert "#%d" % waiting.id in text and "Maria" in text and "bulky waste" in text


async def test_a_handover_during_office_hours_relays_everything_the_resident_sends(stack):
    handovers = staffed(stack)
    t = stack.console(chat_id=1102, name="Nikos")
    assert "someone will answer shortly" in await t.say("/person")
    long_text = "x" * 1500 + " <b>the end</b>"
    assert await t.say("The bin on <Ermou> & Kozani street is broken") == ""
    await t.say(long_text)
    await t.say("/loc 40.3007,21.7887")

    relays = to_group(stack, "handover_relay")
    words = "".join(n.payload["text"] for n in relays[1:-1])
    assert relays[0].payload["text"] == "The bin on <Ermou> & Kozani street is broken"
    assert words == long_text                                         # relayed whole, in order, in pieces
    assert (relays[-1].payload["lat"], relays[-1].payload["lon"]) == (40.3007, 21.7887)
    cards = OperatorCards(stack.translator, stack.helpline.profile)
    shown = cards.relay(relays[0]).text
    assert "&lt;Ermou&gt; &amp; Kozani" in shown and "Nikos" in shown     # escaped, with the header
    assert [[data for _, data in row] for row in cards.relay(relays[0]).buttons] == [
        [f"op:claim:{relays[0].payload['handover']}"],
        [f"op:end:{relays[0].payload['handover']}", f"op:ticket:{relays[0].payload['handover']}"]]


async def test_only_operators_may_claim_reply_or_end(stack):
    handovers = staffed(stack)
    t = stack.console(chat_id=1103)
    await t.say("/person")
    [waiting] = handovers.waiting()
    for outsider in (CLERK, 999):
        with pytest.raises(NotAllowed):
            handovers.claim(waiting.id, outsider, "Someone")
        with pytest.raises(NotAllowed):
            handovers.reply(waiting.id, outsider, "Someone", "hello")
        with pytest.raises(NotAllowed):
            handovers.end(waiting.id, outsider)
    assert handovers.claim(waiting.id, OPERATOR, "Eleni").operator_name == "Eleni"
    with pytest.raises(ClaimedByOther):
        handovers.claim(waiting.id, COLLEAGUE, "Petros")
    handovers.reply(waiting.id, ADMIN, "Admin", "An admin may answer too")
    [claimed, reply] = to_resident(stack, 1103)
    assert claimed.kind == "handover_claimed" and claimed.payload["operator"] is None   # Kozani hides names
    assert reply.payload == {"handover": waiting.id, "text": "An admin may answer too", "photo": None,
                             "operator": None}
    handovers.end(waiting.id, OPERATOR)
    with pytest.raises(HandoverClosed):
        handovers.reply(waiting.id, OPERATOR, "Eleni", "too late")


async def test_after_the_operator_ends_it_the_resident_is_back_in_the_usual_conversation(stack):
    handovers = staffed(stack)
    t = stack.console(chat_id=1104)
    await t.say("/person")
    [waiting] = handovers.waiting()
    handovers.end(waiting.id, OPERATOR)
    before = len(to_group(stack))
    answer = await t.say("the street light on Ermou is dark")
    assert stack.translator.plain(T("pick_category_plain"), "en") in answer   # the report flow, as usual
    assert len(to_group(stack)) == before                             # not relayed any more
    assert handovers.open_for(1104) is None


async def test_the_resident_ends_it_and_the_operators_are_told(stack):
    handovers = staffed(stack)
    t = stack.console(chat_id=1105)
    await t.say("/person")
    answer = await t.press("End the conversation")
    assert stack.translator.plain(T("handover_left"), "en") in answer
    [left] = to_group(stack, "handover_left")
    assert handovers.open_for(1105) is None and left.payload["handover"]


async def test_a_handover_with_a_place_becomes_a_ticket_at_once(stack):
    handovers = staffed(stack)
    t = stack.console(chat_id=1106)
    await t.say("/person")
    await t.say("A tree fell on the pavement")
    await t.say("/loc 40.3007,21.7887")
    await t.say("It blocks the way to the school")
    [waiting] = handovers.waiting()
    done = handovers.to_ticket(waiting.id, OPERATOR, "Eleni")
    [ticket] = stack.helpline.tickets()
    assert done.status == "ticketed" and done.ticket_ref == ticket.ref
    assert ticket.category == "other" and ticket.description == "A tree fell on the pavement\nIt blocks the way " \
                                                                "to the school"
    assert ticket.location.lat == pytest.approx(40.3007)
    [filed] = [n for n in to_resident(stack, 1106) if n.kind == "handover_filed"]
    assert filed.payload["ref"] == ticket.ref


async def test_a_second_tap_on_make_a_ticket_files_nothing_more(stack):
    handovers = staffed(stack)
    t = stack.console(chat_id=1108)
    await t.say("/person")
    await t.say("/loc 40.3007,21.7887")
    await t.say("The bench in the square is broken")
    [waiting] = handovers.waiting()
    handovers.to_ticket(waiting.id, OPERATOR, "Eleni")
    with pytest.raises(HandoverClosed):
        handovers.to_ticket(waiting.id, COLLEAGUE, "Nikos")
    assert len(stack.helpline.tickets()) == 1
    assert len([n for n in to_resident(stack, 1108) if n.kind == "handover_filed"]) == 1


async def test_the_ticket_and_the_closed_handover_are_one_transaction(stack, monkeypatch):
    """A failure while the handover is being closed (a crash, a lost connection) files no ticket either, so the
    operator's next tap cannot make a second one."""
    handovers = staffed(stack)
    t = stack.console(chat_id=1109)
    await t.say("/person")
    await t.say("/loc 40.3007,21.7887")
    await t.say("Water everywhere on the road")
    [waiting] = handovers.waiting()

    def broken(*args, **kwargs):
        raise ConnectionError("database gone")
    monkeypatch.setattr(handovers, "_to_resident", broken)
    with pytest.raises(ConnectionError):
        handovers.to_ticket(waiting.id, OPERATOR, "Eleni")
    assert stack.helpline.tickets() == [] and handovers.open_for(1109) is not None

    monkeypatch.undo()
    assert handovers.to_ticket(waiting.id, OPERATOR, "Eleni").status == "ticketed"
    assert len(stack.helpline.tickets()) == 1


async def test_a_handover_without_a_place_asks_the_resident_for_it_then_files(stack):
    handovers = staffed(stack)
    t = stack.console(chat_id=1107)
    await t.say("/person")
    await t.say("The pavement outside the post office is broken")
    [waiting] = handovers.waiting()
    assert handovers.to_ticket(waiting.id, OPERATOR, "Eleni").status == "awaiting_place"
    assert stack.helpline.tickets() == []
    summary = await t.say("/loc 40.3007,21.7887")
    assert "The pavement outside the post office is broken" in summary
    filed = await t.press("Send the report")
    [ticket] = stack.helpline.tickets()
    assert ticket.ref in filed and ticket.category == "other"
    [news] = to_group(stack, "handover_ticketed")
    assert news.payload["ref"] == ticket.ref and handovers.open_for(1107) is None

"""The outbox hands the scheduler what is due, oldest first, and remembers each delivery attempt."""
from datetime import timedelta

from core.ports import Notification
from tests.support.db import T0


def _queue(uow_factory, *notifications: Notification) -> list[Notification]:
    with uow_factory() as uow:
        for notification in notifications:
            uow.outbox.add(notification)
        uow.commit()
    return list(notifications)


def _message(chat_id: int, minutes: int, not_before_minutes: int | None = None) -> Notification:
    not_before = None if not_before_minutes is None else T0 + timedelta(minutes=not_before_minutes)
    return Notification(chat_id, "status_changed", {"ref": "KOZ-2026-00001", "to": "fixed"},
                        ticket_ref="KOZ-2026-00001", language="el", created_at=T0 + timedelta(minutes=minutes),
                        not_before=not_before)


def test_due_lists_pending_messages_oldest_first(uow_factory):
    _queue(uow_factory, _message(3, 2), _message(1, 0), _message(2, 1))
    with uow_factory() as uow:
        due = uow.outbox.due(T0 + timedelta(minutes=5))
    assert [n.chat_id for n in due] == [1, 2, 3]
    assert due[0].payload == {"ref": "KOZ-2026-00001", "to": "fixed"} and due[0].language == "el"


def test_a_message_waits_for_its_not_before(uow_factory):
    _queue(uow_factory, _message(1, 0, not_before_minutes=30), _message(2, 1))
    with uow_factory() as uow:
        assert [n.chat_id for n in uow.outbox.due(T0 + timedelta(minutes=29))] == [2]
        assert [n.chat_id for n in uow.outbox.due(T0 + timedelta(minutes=30))] == [1, 2]


def test_due_respects_the_limit(uow_factory):
    _queue(uow_factory, *(_message(chat, chat) for chat in range(1, 6)))
    with uow_factory() as uow:
        assert [n.chat_id for n in uow.outbox.due(T0 + timedelta(hours=1), limit=2)] == [1, 2]


def test_sent_and_failed_messages_are_not_due_again(uow_factory):
    sent, failed, retry = _queue(uow_factory, _message(1, 0), _message(2, 0), _message(3, 0))
    with uow_factory() as uow:
        sent.status, sent.sent_message_id, sent.attempts = "sent", 777, 1
        failed.status, failed.last_error, failed.attempts = "failed", "Forbidden: bot was blocked by the user", 5
        retry.attempts, retry.last_error, retry.not_before = 1, "Too Many Requests", T0 + timedelta(minutes=10)
        for notification in (sent, failed, retry):
            uow.outbox.save(notification)
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.due(T0 + timedelta(minutes=9)) == []
        (again,) = uow.outbox.due(T0 + timedelta(minutes=10))
    assert (again.chat_id, again.attempts, again.last_error) == (3, 1, "Too Many Requests")


def test_a_claimed_message_is_not_handed_to_a_second_deliverer(uow_factory):
    _queue(uow_factory, _message(1, 0), _message(2, 0))
    with uow_factory() as uow:
        claimed = uow.outbox.due(T0, claim_for=timedelta(minutes=2))
        uow.commit()
    with uow_factory() as uow:
        assert uow.outbox.due(T0 + timedelta(minutes=1), claim_for=timedelta(minutes=2)) == []
        assert [n.chat_id for n in uow.outbox.due(T0 + timedelta(minutes=2))] == [1, 2]
    with uow_factory() as uow:
        claimed[0].status = "sent"
        uow.outbox.save(claimed[0])
        uow.commit()
    with uow_factory() as uow:
        assert [n.chat_id for n in uow.outbox.due(T0 + timedelta(minutes=1))] == []
        assert [n.chat_id for n in uow.outbox.due(T0 + timedelta(minutes=3))] == [2]


def test_a_sent_message_is_found_by_its_chat_and_message_id_among_the_kinds_asked_for(uow_factory):
    """What a reply in a group is matched to (an operator's relay, the Advocate's request to explain)."""
    card, request = _queue(uow_factory, _message(-100, 0), _message(-100, 1))
    request.kind = "explain_requested"
    with uow_factory() as uow:
        for notification, message_id in ((card, 41), (request, 42)):
            notification.status, notification.sent_message_id = "sent", message_id
            uow.outbox.save(notification)
        uow.commit()
    with uow_factory() as uow:
        found = uow.outbox.sent_as(-100, 42, ("explain_requested",))
        assert found is not None and found.id == request.id and found.kind == "explain_requested"
        assert uow.outbox.sent_as(-100, 41, ("explain_requested",)) is None      # a card, not a request
        assert uow.outbox.sent_as(-101, 42, ("explain_requested",)) is None      # the same id in another chat
        assert uow.outbox.sent_as(-100, 41, ("status_changed", "explain_requested")).id == card.id

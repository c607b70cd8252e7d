"""Residents, staff roles, conversations, escalations and Telegram update de-duplication."""
from datetime import timedelta

import pytest

from core.ports import Escalation, Opening, Resident, StaffMember
from tests.support.db import T0, a_ticket


def test_resident_is_found_by_telegram_id_and_keeps_their_language(uow_factory):
    with uow_factory() as uow:
        resident = Resident(telegram_id=4242, name="Eleni")
        uow.residents.add(resident)
        uow.commit()
    with uow_factory() as uow:
        found = uow.residents.by_telegram_id(4242)
        found.language = "el"
        uow.residents.save(found)
        uow.commit()
    with uow_factory() as uow:
        assert uow.residents.get(resident.id) == Resident(4242, "Eleni", "el", resident.created_at, resident.id)
        assert resident.created_at.tzinfo is not None
        assert uow.residents.by_telegram_id(1) is None


def test_forgetting_a_resident_keeps_their_tickets_without_a_reporter(uow_factory):
    with uow_factory() as uow:
        leaving, staying = Resident(telegram_id=1, created_at=T0), Resident(telegram_id=2, created_at=T0)
        uow.residents.add(leaving)
        uow.residents.add(staying)
        uow.tickets.add(a_ticket("KOZ-2026-00001", reporter_id=leaving.id, supporters={staying.id}))
        uow.tickets.add(a_ticket("KOZ-2026-00002", reporter_id=staying.id, supporters={leaving.id}))
        uow.commit()
    with uow_factory() as uow:
        uow.tickets.get("KOZ-2026-00001")
        uow.residents.delete(leaving.id)
        assert uow.tickets.get("KOZ-2026-00001").reporter_id is None
        uow.commit()
    with uow_factory() as uow:
        first, second = uow.tickets.get("KOZ-2026-00001"), uow.tickets.get("KOZ-2026-00002")
        assert uow.residents.get(leaving.id) is None
    assert (first.reporter_id, first.supporters) == (None, {staying.id})
    assert (second.reporter_id, second.supporters) == (staying.id, set())


def test_staff_roles_are_given_once_and_taken_away(uow_factory):
    with uow_factory() as uow:
        for member in (StaffMember(10, "staff", "lighting", "Nikos"), StaffMember(10, "staff", "lighting"),
                       StaffMember(10, "head", "roads"), StaffMember(11, "staff", "roads"),
                       StaffMember(12, "ombudsman")):
            uow.staff.add(member)
        uow.commit()
    with uow_factory() as uow:
        assert [(m.role, m.department, m.name) for m in uow.staff.roles_of(10)] == [
            ("staff", "lighting", "Nikos"), ("head", "roads", None)]
        assert [m.telegram_id for m in uow.staff.list("roads")] == [10, 11]
        assert len(uow.staff.list()) == 4
        assert uow.staff.remove(10, department="roads") == 1
        assert uow.staff.remove(99) == 0
        uow.commit()
    with uow_factory() as uow:
        assert [m.department for m in uow.staff.roles_of(10)] == ["lighting"]
        assert uow.staff.remove(10) == 1
        uow.commit()
    with uow_factory() as uow:
        assert uow.staff.roles_of(10) == []


def test_unknown_staff_role_is_refused(uow_factory):
    with uow_factory() as uow, pytest.raises(Exception, match="(?i)check|constraint"):
        uow.staff.add(StaffMember(10, "mayor"))


def test_conversation_state_is_stored_replaced_and_deleted(uow_factory):
    state = {"step": "location", "category": "pothole", "photos": ["AgAD"], "lang": "sl"}
    with uow_factory() as uow:
        assert uow.conversations.load(-100123) is None
        uow.conversations.store(-100123, state)
        uow.commit()
    with uow_factory() as uow:
        assert uow.conversations.load(-100123) == state
        uow.conversations.store(-100123, {"step": "confirm"})
        assert uow.conversations.load(-100123) == {"step": "confirm"}
        uow.commit()
    with uow_factory() as uow:
        assert uow.conversations.load(-100123) == {"step": "confirm"}
        uow.conversations.delete(-100123)
        uow.commit()
    with uow_factory() as uow:
        assert uow.conversations.load(-100123) is None


def test_escalations_open_and_decided(uow_factory):
    with uow_factory() as uow:
        uow.tickets.add(a_ticket("KOZ-2026-00001"))
        uow.tickets.add(a_ticket("KOZ-2026-00002"))
        late = Escalation("KOZ-2026-00001", "overdue", T0 + timedelta(days=1), deadline=T0 + timedelta(days=11))
        disputed = Escalation("KOZ-2026-00002", "disputed", T0)
        uow.escalations.add(late)
        uow.escalations.add(disputed)
        uow.commit()
    with uow_factory() as uow:
        disputed.decision, disputed.decided_at, disputed.note = "reopen", T0 + timedelta(days=2), "Not fixed"
        uow.escalations.save(disputed)
        uow.commit()
    with uow_factory() as uow:
        assert [e.ticket_ref for e in uow.escalations.list()] == ["KOZ-2026-00002", "KOZ-2026-00001"]
        assert uow.escalations.list(open_only=True) == [late]
        assert uow.escalations.for_ticket("KOZ-2026-00002") == [disputed]


def test_a_redelivered_telegram_update_is_recognised(uow_factory):
    with uow_factory() as uow:
        assert uow.updates.first_time(555, T0)
        uow.commit()
    with uow_factory() as uow:
        assert not uow.updates.first_time(555, T0 + timedelta(seconds=30))
        assert uow.updates.first_time(556, T0 + timedelta(seconds=30))
        assert uow.updates.forget_before(T0 + timedelta(seconds=1)) == 1
        assert uow.updates.first_time(555, T0 + timedelta(minutes=1))


def test_a_message_opens_with_its_update_mark_resident_and_conversation_in_one_statement(uow_factory, db_engine):
    from sqlalchemy import event
    state = {"step": "describe", "lang": "sl", "draft": {"text": "Luknja na cesti «pred šolo»"}}
    with uow_factory() as uow:
        first = uow.conversations.opening(4242, 901)
        uow.residents.add(Resident(4242, "Ana", "sl", T0))
        uow.conversations.store(4242, state)
        uow.conversations.store(-4242, {"step": "other chat"})
        uow.updates.first_time(901, T0)
        uow.commit()
    assert first == Opening(False, None, None, 901)      # a stranger's first message: nothing yet

    statements = []
    event.listen(db_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with uow_factory(autocommit=True) as uow:
        again, next_one = uow.conversations.opening(4242, 901), uow.conversations.opening(4242, 902)
        unknown = uow.conversations.opening(7, 902)
    assert len(statements) == 3
    assert again.seen and not next_one.seen and not unknown.seen
    assert next_one.resident.name == "Ana" and next_one.resident.language == "sl" and next_one.resident.id
    assert next_one == Opening(False, next_one.resident, state, 902)
    assert unknown.resident is None and unknown.state is None


def test_the_conversations_next_step_marks_its_update_handled_in_the_same_statement(uow_factory, db_engine):
    """On PostgreSQL one round trip stores the state and marks the update; SQLite (no round trips) takes two."""
    from sqlalchemy import event
    statements = []
    event.listen(db_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with uow_factory(autocommit=True) as uow:
        uow.conversations.store(4343, {"step": "place", "v": 3}, handled_update=777)
    assert len(statements) == (1 if db_engine.dialect.name == "postgresql" else 2)
    with uow_factory(autocommit=True) as uow:
        uow.conversations.store(4343, {"step": "photo", "v": 4}, handled_update=777)   # a redelivery: no error
        assert uow.conversations.opening(4343, 777).seen
        assert uow.conversations.opening(4343, 778) == Opening(False, None, {"step": "photo", "v": 4}, 778)
        assert not uow.updates.first_time(777, T0)


def test_a_resident_registers_renames_and_chooses_a_language_in_one_statement_each(uow_factory, db_engine):
    from sqlalchemy import event
    statements = []
    event.listen(db_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with uow_factory(autocommit=True) as uow:
        new = uow.residents.register(5151, "Dana")
        again = uow.residents.register(5151, None)          # no name given: the one on record stays
        renamed = uow.residents.register(5151, "Dana K.")
        assert uow.residents.set_language(new.id, "he")
        assert not uow.residents.set_language(new.id + 1000, "he")
    assert len(statements) == 5
    assert new.id and again.id == renamed.id == new.id
    assert (new.name, again.name, renamed.name) == ("Dana", "Dana", "Dana K.")
    with uow_factory() as uow:
        stored = uow.residents.by_telegram_id(5151)
    assert (stored.name, stored.language, stored.created_at) == ("Dana K.", "he", new.created_at)


def test_the_reports_a_resident_filed_since_a_moment_are_one_query(uow_factory):
    with uow_factory() as uow:
        uow.residents.add(Resident(6161, "Eli", "he", T0))
        uow.residents.add(Resident(6262, "Other", "en", T0))
        ours = uow.residents.by_telegram_id(6161).id
        theirs = uow.residents.by_telegram_id(6262).id
        for n, (reporter, minutes) in enumerate([(ours, 0), (ours, 50), (ours, 70), (theirs, 65)], start=1):
            uow.tickets.add(a_ticket(ref=f"KOZ-2026-{n:05d}", reporter_id=reporter,
                                     created_at=T0 + timedelta(minutes=minutes)))
        uow.commit()
    with uow_factory(autocommit=True) as uow:
        since = uow.tickets.filed_by(6161, T0 + timedelta(minutes=10))
        assert uow.tickets.filed_by(7777, T0) == []
    assert sorted(since) == [T0 + timedelta(minutes=50), T0 + timedelta(minutes=70)]

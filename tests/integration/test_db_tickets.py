"""Tickets survive the database whole: photos, supporters, the audit trail, times in UTC."""
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm.exc import StaleDataError

from core.ports import Resident
from core.tickets import Actor, EventKind, Photo, RejectReason, Role, Status, TicketEvent
from tests.support.db import T0, a_ticket

CLERK = Actor(Role.STAFF, "5001", "lighting")


def _resident(uow, telegram_id: int) -> int:
    resident = Resident(telegram_id=telegram_id, name=f"resident {telegram_id}", created_at=T0)
    uow.residents.add(resident)
    return resident.id


def _filed(uow_factory, ticket):
    with uow_factory() as uow:
        uow.tickets.add(ticket)
        uow.commit()
    return ticket


def _created(ticket):
    ticket.record(TicketEvent(EventKind.CREATED, ticket.created_at, Role.RESIDENT, "9001"))
    return ticket


def test_ticket_round_trip_keeps_everything_the_resident_and_clerk_see(uow_factory):
    with uow_factory() as uow:
        reporter, neighbour = _resident(uow, 9001), _resident(uow, 9002)
        ticket = _created(a_ticket(reporter_id=reporter, priority=2, language="el", ack_due=T0 + timedelta(hours=8),
                                   resolve_due=T0 + timedelta(days=5),
                                   photos=[Photo("AgAD-1", "u1"), Photo("AgAD-2", None)]))
        ticket.add_supporter(neighbour, T0 + timedelta(minutes=5))
        uow.tickets.add(ticket)
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.tickets.get("KOZ-2026-00001")
    assert loaded == ticket
    assert [e.kind for e in loaded.events] == [EventKind.CREATED, EventKind.SUPPORTED]
    assert all(e.id is not None for e in loaded.events)


def test_unknown_reference_is_none(uow_factory):
    with uow_factory() as uow:
        assert uow.tickets.get("KOZ-2026-99999") is None


def test_a_status_change_and_its_event_are_saved(uow_factory):
    _filed(uow_factory, _created(a_ticket()))
    with uow_factory() as uow:
        ticket = uow.tickets.get("KOZ-2026-00001")
        ticket.change_status(Status.REJECTED, CLERK, T0 + timedelta(hours=1), "Not ours",
                             reason=RejectReason.NOT_RESPONSIBLE, referral="power_company")
        uow.tickets.save(ticket)
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.tickets.get("KOZ-2026-00001")
    assert (loaded.status, loaded.reject_reason, loaded.outside_body) == (
        Status.REJECTED, RejectReason.NOT_RESPONSIBLE, "power_company")
    assert loaded.events[-1].data == {"reason": "not_responsible", "referral": "power_company"}
    assert loaded.updated_at == T0 + timedelta(hours=1)


def test_recorded_events_are_never_rewritten(uow_factory):
    _filed(uow_factory, _created(a_ticket()))
    with uow_factory() as uow:
        ticket = uow.tickets.get("KOZ-2026-00001")
        ticket.events[0].note = "tampered"
        ticket.events[0].actor_id = "someone else"
        ticket.add_note(CLERK, T0 + timedelta(hours=2), "Crew booked for Tuesday")
        uow.tickets.save(ticket)
        uow.commit()
    with uow_factory() as uow:
        events = uow.tickets.get("KOZ-2026-00001").events
    assert [(e.note, e.actor_id) for e in events] == [(None, "9001"), ("Crew booked for Tuesday", "5001")]


def test_dropping_events_from_memory_does_not_delete_them(uow_factory):
    _filed(uow_factory, _created(a_ticket()))
    with uow_factory() as uow:
        ticket = uow.tickets.get("KOZ-2026-00001")
        ticket.events.clear()
        uow.tickets.save(ticket)
        uow.commit()
    with uow_factory() as uow:
        assert len(uow.tickets.get("KOZ-2026-00001").events) == 1


def test_supporters_and_photos_follow_the_ticket(uow_factory):
    with uow_factory() as uow:
        first, second = _resident(uow, 1), _resident(uow, 2)
        uow.tickets.add(a_ticket(supporters={first}, photos=[Photo("a")]))
        uow.commit()
    with uow_factory() as uow:
        ticket = uow.tickets.get("KOZ-2026-00001")
        ticket.add_supporter(second, T0)
        ticket.anonymise(T0 + timedelta(days=1))
        ticket.photos = [Photo("b"), Photo("a")]
        uow.tickets.save(ticket)
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.tickets.get("KOZ-2026-00001")
    assert loaded.supporters == set()
    assert [p.file_id for p in loaded.photos] == ["b", "a"]


def test_the_same_reference_cannot_be_filed_twice(uow_factory):
    _filed(uow_factory, a_ticket())
    with uow_factory() as uow, pytest.raises(Exception, match="(?i)unique|duplicate"):
        uow.tickets.add(a_ticket())


def test_leaving_without_commit_files_nothing(uow_factory):
    with uow_factory() as uow:
        uow.tickets.add(a_ticket())
    with uow_factory() as uow:
        assert uow.tickets.get("KOZ-2026-00001") is None


def test_explicit_rollback_discards_the_change(uow_factory):
    with uow_factory() as uow:
        uow.tickets.add(a_ticket())
        uow.rollback()
        uow.commit()
    with uow_factory() as uow:
        assert uow.tickets.get("KOZ-2026-00001") is None


def test_two_clerks_cannot_overwrite_each_other(uow_factory):
    _filed(uow_factory, a_ticket())
    with uow_factory() as first, uow_factory() as second:
        mine, theirs = first.tickets.get("KOZ-2026-00001"), second.tickets.get("KOZ-2026-00001")
        mine.change_status(Status.FIXED, CLERK, T0 + timedelta(hours=1))
        first.tickets.save(mine)
        first.commit()
        theirs.change_status(Status.NEEDS_INFO, CLERK, T0 + timedelta(hours=2), "Which pole?")
        with pytest.raises(StaleDataError):
            second.tickets.save(theirs)
    with uow_factory() as uow:
        assert uow.tickets.get("KOZ-2026-00001").status is Status.FIXED


def test_times_come_back_as_the_same_instant_in_utc(uow_factory):
    athens = ZoneInfo("Europe/Athens")
    local = T0.astimezone(athens)
    _filed(uow_factory, a_ticket(created_at=local, resolve_due=(T0 + timedelta(days=3)).astimezone(athens)))
    with uow_factory() as uow:
        loaded = uow.tickets.get("KOZ-2026-00001")
    assert loaded.created_at == T0 and loaded.created_at.utcoffset() == timedelta(0)
    assert loaded.resolve_due.tzinfo is not None and loaded.resolve_due == T0 + timedelta(days=3)
    assert loaded.created_at.tzinfo == UTC


def test_naive_times_are_refused(uow_factory):
    with uow_factory() as uow, pytest.raises(Exception, match="naive"):
        uow.tickets.add(a_ticket(created_at=T0.replace(tzinfo=None)))
        uow.session.flush()


def test_list_filters_and_puts_the_most_urgent_first(uow_factory):
    with uow_factory() as uow:
        reporter = _resident(uow, 7)
        specs = [("00001", "lighting", Status.NEW, 5, None), ("00002", "lighting", Status.ACKNOWLEDGED, 1, reporter),
                 ("00003", "roads", Status.NEW, 2, reporter), ("00004", "lighting", Status.CLOSED, 0, None),
                 ("00005", "lighting", Status.NEW, None, None)]
        for number, department, status, due_days, reporter_id in specs:
            due = None if due_days is None else T0 + timedelta(days=due_days)
            uow.tickets.add(a_ticket(f"KOZ-2026-{number}", department=department, status=status, resolve_due=due,
                                     reporter_id=reporter_id))
        uow.commit()
    with uow_factory() as uow:
        def refs(**filters):
            return [t.ref[-5:] for t in uow.tickets.list(**filters)]
        assert refs(status=[Status.NEW, Status.ACKNOWLEDGED], department="lighting") == ["00002", "00001", "00005"]
        assert refs(reporter_id=reporter) == ["00002", "00003"]
        assert refs() == ["00004", "00002", "00003", "00001", "00005"]
        assert refs(limit=2) == ["00004", "00002"]
        assert refs(status=[]) == []


def test_ticket_row_counts_only_what_was_committed(uow_factory, db_engine):
    _filed(uow_factory, _created(a_ticket()))
    with db_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM ticket_events")).scalar_one() == 1


def test_a_resident_sees_the_tickets_they_reported_or_follow_newest_first(uow_factory):
    with uow_factory() as uow:
        me, neighbour = _resident(uow, 1), _resident(uow, 2)
        uow.tickets.add(a_ticket("KOZ-2026-00001", reporter_id=me))
        uow.tickets.add(a_ticket("KOZ-2026-00002", reporter_id=neighbour, supporters={me},
                                 created_at=T0 + timedelta(days=1)))
        uow.tickets.add(a_ticket("KOZ-2026-00003", reporter_id=neighbour, created_at=T0 + timedelta(days=2)))
        uow.commit()
    with uow_factory() as uow:
        assert [t.ref[-5:] for t in uow.tickets.of_resident(me)] == ["00002", "00001"]
        assert [t.ref[-5:] for t in uow.tickets.of_resident(neighbour)] == ["00003", "00002"]

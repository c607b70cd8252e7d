"""The scheduler's sweeps on a real database (SQLite and PostgreSQL), with a clock moved by hand: SLA reminders
and escalations on each country's working calendar, the questionnaire, the morning digest, data retention."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.profiles import load_profile
from core.ports import Resident
from core.services import Helpline, department_chat
from core.sla import due_dates
from core.sweeps import Sweeps
from core.tickets import Actor, EventKind, Location, Role, Status, Ticket
from tests.support.clock import FixedClock
from tests.support.stack import PROFILES

GROUP = -1001000000001
OMBUDSMAN = -1001000000099
STAFF = Actor(Role.ADMIN, "test")

# A garbage report (8 working hours to acknowledge, 3 working days to resolve) filed on a morning just before a
# weekend and a public holiday, and the deadlines the municipality's calendar gives it (local time).
CASES = {
    # Greece: Friday; Saturday and Sunday off; Wednesday 25 March is Independence Day.
    "kozani": dict(filed="2026-03-20 10:00", department="cleaning", ack="2026-03-23 10:00",
                   resolve="2026-03-26 15:00", ombudsman="2026-04-02 15:00", on_holiday="2026-03-25 12:00"),
    # Slovenia: Friday before Easter; Monday 6 April (Easter Monday) is a holiday.
    "kranj": dict(filed="2026-04-03 10:00", department="komunalne_dejavnosti", ack="2026-04-07 10:00",
                  resolve="2026-04-09 15:30", ombudsman="2026-04-16 15:30", on_holiday="2026-04-06 12:00"),
    # Israel: the week is Sunday to Thursday; Thursday 2 April is the first day of Pesach, then Friday and
    # Saturday; Wednesday 8 April (the seventh day of Pesach) is a holiday too.
    "sderot": dict(filed="2026-04-01 10:00", department="shefa", ack="2026-04-05 10:00",
                   resolve="2026-04-07 16:00", ombudsman="2026-04-15 16:00", on_holiday="2026-04-08 12:00"),
}


def local(slug: str, text: str) -> datetime:
    zone = ZoneInfo(load_profile(slug, PROFILES).calendar.timezone)
    return datetime.fromisoformat(text).replace(tzinfo=zone)


class World:
    """A municipality's helpline on the test database, its department group bound, a hand-moved clock."""

    def __init__(self, uow_factory, slug: str, at: datetime) -> None:
        self.profile = load_profile(slug, PROFILES)
        self.clock = FixedClock(at)
        self.helpline = Helpline(uow_factory, self.profile, self.clock)
        self.sweeps = Sweeps(self.helpline)
        self.uow = uow_factory
        self.groups = {key: GROUP - i for i, key in enumerate(self.profile.departments)}
        for key, chat in self.groups.items():
            self.helpline.bind_chat(department_chat(key), chat)
        self.helpline.bind_chat("ombudsman", OMBUDSMAN)

    def group(self, department: str) -> int:
        return self.groups[department]

    def at(self, when: datetime) -> World:
        self.clock.at = when
        return self

    def file(self, ref: str, department: str, category: str = "garbage", reporter: int | None = None,
             **fields) -> Ticket:
        now = self.clock.now()
        ack, resolve = due_dates(now, self.profile.category(category).sla, self.helpline.calendar)
        ticket = Ticket(ref=ref, municipality=self.profile.slug, category=category, description="Bins overflowing",
                        location=Location(0.0, 0.0, "Main street 1"), created_at=now, department=department,
                        ack_due=ack, resolve_due=resolve, reporter_id=reporter, language="en", **fields)
        with self.uow() as uow:
            uow.tickets.add(ticket)
            uow.commit()
        return ticket

    def resident(self, telegram_id: int, language: str | None) -> int:
        with self.uow() as uow:
            resident = Resident(telegram_id, "Eleni", language, self.clock.now())
            uow.residents.add(resident)
            uow.commit()
        return resident.id

    def outbox(self, kind: str | None = None) -> list:
        with self.uow() as uow:
            rows = uow.outbox.due(self.clock.now() + timedelta(days=3650), limit=1000)
        return [n for n in rows if kind is None or n.kind == kind]

    def ticket(self, ref: str) -> Ticket:
        return self.helpline.ticket(ref)

    def escalations(self, ref: str) -> list[tuple[str, str]]:
        with self.uow() as uow:
            return [(e.level, e.reason) for e in uow.escalations.for_ticket(ref)]


# --- SLA -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("slug", CASES)
def test_a_breach_is_counted_in_working_time_over_a_weekend_and_a_public_holiday(uow_factory, slug):
    case = CASES[slug]
    world = World(uow_factory, slug, local(slug, case["filed"]))
    ticket = world.file("REF-2026-00001", case["department"])
    assert ticket.ack_due == local(slug, case["ack"])
    assert ticket.resolve_due == local(slug, case["resolve"])
    world.helpline.change_status(ticket.ref, Status.ACKNOWLEDGED, STAFF)

    # Calendar days would say it is late by now; working days say it is not.
    world.at(local(slug, case["on_holiday"]) if local(slug, case["on_holiday"]) < ticket.resolve_due
             else ticket.resolve_due - timedelta(hours=30)).sweeps.sla()
    world.at(ticket.resolve_due - timedelta(minutes=1)).sweeps.sla()
    assert world.escalations(ticket.ref) == []
    assert [n.payload["deadline"] for n in world.outbox("reminder")] == ["resolve"]

    world.at(ticket.resolve_due + timedelta(minutes=1)).sweeps.sla()
    assert world.escalations(ticket.ref) == [("head", "overdue")]
    head = world.outbox("escalation_head")
    assert [(n.chat_id, n.payload["ref"]) for n in head] == [(world.group(case["department"]), ticket.ref)]
    assert world.ticket(ticket.ref).breach_level == 1

    margin_end = local(slug, case["ombudsman"])
    world.at(margin_end - timedelta(minutes=1)).sweeps.sla()
    assert world.escalations(ticket.ref) == [("head", "overdue")]
    world.at(margin_end + timedelta(minutes=1)).sweeps.sla()
    assert world.escalations(ticket.ref) == [("head", "overdue"), ("ombudsman", "overdue")]
    assert [n.chat_id for n in world.outbox("escalation_ombudsman")] == [OMBUDSMAN]
    assert world.ticket(ticket.ref).breach_level == 2

    before = len(world.outbox())
    assert world.at(margin_end + timedelta(days=30)).sweeps.sla() == 0
    assert len(world.outbox()) == before


def test_an_unacknowledged_ticket_is_reminded_before_the_weekend_and_goes_to_the_head_on_monday(uow_factory):
    case = CASES["kozani"]
    world = World(uow_factory, "kozani", local("kozani", case["filed"]))
    ticket = world.file("KOZ-2026-00001", "cleaning")    # to acknowledge by Monday 10:00

    world.at(local("kozani", "2026-03-20 13:59")).sweeps.sla()
    assert world.outbox("reminder") == []
    # At 14:00 on Friday four working hours are left: one on Friday, three on Monday morning.
    world.at(local("kozani", "2026-03-20 14:00")).sweeps.sla()
    world.at(local("kozani", "2026-03-21 11:00")).sweeps.sla()
    reminders = world.outbox("reminder")
    assert [(n.chat_id, n.payload["deadline"], n.language) for n in reminders] == \
        [(world.group("cleaning"), "ack", "el")]
    assert datetime.fromisoformat(reminders[0].payload["due"]) == ticket.ack_due

    world.at(local("kozani", "2026-03-23 10:00")).sweeps.sla()
    assert world.escalations(ticket.ref) == []
    world.at(local("kozani", "2026-03-23 10:01")).sweeps.sla()
    assert world.escalations(ticket.ref) == [("head", "overdue")]


def test_the_heads_escalation_is_closed_once_the_department_has_fixed_the_ticket(uow_factory):
    world = World(uow_factory, "kozani", local("kozani", "2026-03-20 10:00"))
    late = world.file("KOZ-2026-00001", "cleaning")
    still_late = world.file("KOZ-2026-00002", "cleaning")
    world.at(local("kozani", "2026-03-23 10:01")).sweeps.sla()
    assert world.sweeps.settle() == 0                                  # both still late and open

    world.helpline.change_status(late.ref, Status.ACKNOWLEDGED, STAFF)
    world.helpline.change_status(late.ref, Status.FIXED, STAFF)
    assert world.sweeps.settle() == 1 and world.sweeps.settle() == 0
    with world.uow() as uow:
        [settled] = uow.escalations.for_ticket(late.ref)
        [waiting] = uow.escalations.for_ticket(still_late.ref)
    assert (settled.level, settled.decision, settled.note) == ("head", "settled", "fixed")
    assert settled.decided_at == world.clock.now() and waiting.is_open


def test_an_acknowledged_ticket_is_not_chased_for_acknowledgement(uow_factory):
    world = World(uow_factory, "kozani", local("kozani", "2026-03-20 10:00"))
    ticket = world.file("KOZ-2026-00001", "cleaning")
    world.helpline.change_status(ticket.ref, Status.ACKNOWLEDGED, STAFF)
    world.at(local("kozani", "2026-03-23 12:00")).sweeps.sla()
    assert world.outbox("reminder") == [] and world.escalations(ticket.ref) == []


def test_tickets_no_longer_open_are_left_alone(uow_factory):
    world = World(uow_factory, "kozani", local("kozani", "2026-03-20 10:00"))
    ticket = world.file("KOZ-2026-00001", "cleaning")
    world.helpline.change_status(ticket.ref, Status.FIXED, STAFF)
    assert world.at(local("kozani", "2026-05-01 12:00")).sweeps.sla() == 0
    assert world.escalations(ticket.ref) == []


# --- the questionnaire ----------------------------------------------------------------------------

def test_the_reporter_is_asked_three_days_after_the_fix_in_their_language_and_only_once(uow_factory):
    world = World(uow_factory, "kozani", local("kozani", "2026-03-02 09:00"))
    reporter = world.resident(5551, "sl")
    ticket = world.file("KOZ-2026-00001", "cleaning", reporter=reporter)
    world.helpline.change_status(ticket.ref, Status.FIXED, STAFF)
    fixed_at = world.clock.now()

    world.at(fixed_at + timedelta(days=3, minutes=-1)).sweeps.questionnaires()
    assert world.outbox("questionnaire") == []
    world.at(fixed_at + timedelta(days=3)).sweeps.questionnaires()
    world.at(fixed_at + timedelta(days=4)).sweeps.questionnaires()
    asked = world.outbox("questionnaire")
    assert [(n.chat_id, n.language, n.payload, n.ticket_ref) for n in asked] == \
        [(5551, "sl", {"ref": ticket.ref}, ticket.ref)]
    assert world.ticket(ticket.ref).asked_at == fixed_at + timedelta(days=3)


def test_no_answer_for_two_weeks_closes_the_ticket_and_tells_the_resident(uow_factory):
    world = World(uow_factory, "kozani", local("kozani", "2026-03-02 09:00"))
    reporter = world.resident(5551, None)
    ticket = world.file("KOZ-2026-00001", "cleaning", reporter=reporter)
    world.helpline.change_status(ticket.ref, Status.FIXED, STAFF)
    asked_at = world.at(world.clock.now() + timedelta(days=3)).clock.now()
    world.sweeps.questionnaires()

    world.at(asked_at + timedelta(days=14, minutes=-1)).sweeps.questionnaires()
    assert world.ticket(ticket.ref).status is Status.FIXED
    world.at(asked_at + timedelta(days=14)).sweeps.questionnaires()
    closed = world.ticket(ticket.ref)
    assert closed.status is Status.CLOSED
    assert closed.events[-1].actor_role is Role.SYSTEM and closed.events[-1].note
    news = world.outbox("status_changed")[-1]
    assert (news.chat_id, news.language, news.payload["status"], news.payload["note"]) == (5551, "en", "closed", "")
    assert world.sweeps.questionnaires() == 0


def test_a_fixed_ticket_nobody_can_be_asked_about_closes_when_the_question_would_go_out(uow_factory):
    world = World(uow_factory, "kozani", local("kozani", "2026-03-02 09:00"))
    ticket = world.file("KOZ-2026-00001", "cleaning")       # reported anonymously (or the reporter was forgotten)
    world.helpline.change_status(ticket.ref, Status.FIXED, STAFF)
    world.at(world.clock.now() + timedelta(days=3)).sweeps.questionnaires()
    assert world.ticket(ticket.ref).status is Status.CLOSED
    assert world.outbox("questionnaire") == []


# --- retention ------------------------------------------------------------------------------------

def test_personal_links_of_long_closed_tickets_are_removed_once(uow_factory):
    world = World(uow_factory, "kozani", local("kozani", "2024-01-08 09:00"))
    reporter, follower = world.resident(5551, "el"), world.resident(5552, "el")
    old = world.file("KOZ-2024-00001", "cleaning", reporter=reporter)
    recent = world.file("KOZ-2024-00002", "cleaning", reporter=reporter)
    still_open = world.file("KOZ-2024-00003", "cleaning", reporter=reporter)
    world.helpline.follow(old.ref, follower)
    world.helpline.change_status(old.ref, Status.REJECTED, STAFF, reason="invalid")
    world.at(world.clock.now() + timedelta(days=2))
    world.helpline.change_status(recent.ref, Status.FIXED, STAFF)
    world.helpline.change_status(recent.ref, Status.CLOSED, STAFF)

    world.at(local("kozani", "2024-01-08 09:00") + timedelta(days=730, hours=1))
    assert world.sweeps.retention() == 1
    assert world.sweeps.retention() == 0
    anonymised = world.ticket(old.ref)
    assert anonymised.reporter_id is None and anonymised.supporters == set()
    assert [e.kind for e in anonymised.events].count(EventKind.ANONYMISED) == 1
    assert world.ticket(recent.ref).reporter_id == reporter
    assert world.ticket(still_open.ref).reporter_id == reporter


# --- the morning digest ---------------------------------------------------------------------------

def test_each_department_with_a_group_gets_one_digest_on_working_days(uow_factory):
    world = World(uow_factory, "kozani", local("kozani", "2026-03-16 09:00"))      # a Monday
    late = world.file("KOZ-2026-00001", "cleaning")                               # resolve by Thursday 19th
    world.at(local("kozani", "2026-03-18 09:00"))
    today = world.file("KOZ-2026-00002", "cleaning")                              # ... by Monday 23rd
    closed = world.file("KOZ-2026-00003", "cleaning")
    world.at(local("kozani", "2026-03-20 09:00"))
    later = world.file("KOZ-2026-00004", "cleaning", category="other")            # ... in ten working days
    parks = world.file("KOZ-2026-00005", "green")
    for ref in (today.ref, later.ref, parks.ref):
        world.helpline.change_status(ref, Status.ACKNOWLEDGED, STAFF)
    world.helpline.change_status(closed.ref, Status.FIXED, STAFF)

    world.at(local("kozani", "2026-03-21 07:00")).sweeps.digest()                 # Saturday: none
    assert world.outbox("digest") == []

    world.at(local("kozani", "2026-03-23 07:00"))                                 # Monday
    assert world.sweeps.digest() == 2
    assert world.sweeps.digest() == 0
    digests = {n.chat_id: n for n in world.outbox("digest")}
    cleaning = digests[world.group("cleaning")]
    assert cleaning.payload == {"day": "2026-03-23", "open": 3, "due_today": 1, "overdue": 1,
                                "urgent": [late.ref, today.ref, later.ref]}
    assert cleaning.language == "el"
    assert digests[world.group("green")].payload["open"] == 1

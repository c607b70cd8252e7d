"""The ticket lifecycle: who may move a ticket where, what a move needs, and the audit trail it leaves."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from core.tickets import (OPEN_STATUSES, TRANSITIONS, Actor, DomainError, EventKind, IllegalTransition,
                          Location, NotAllowed, RejectReason, Role, Status, Ticket, allowed_targets, format_ref,
                          parse_ref)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
ROADS = Actor(Role.STAFF, "501", "roads")
PARKS = Actor(Role.STAFF, "502", "parks")
ROADS_HEAD = Actor(Role.HEAD, "503", "roads")
OMBUDSMAN = Actor(Role.OMBUDSMAN, "900")
RESIDENT = Actor(Role.RESIDENT, "77")


def new_ticket(**kw) -> Ticket:
    defaults = dict(ref="KOZ-2026-00042", municipality="kozani", category="pothole",
                    description="Deep hole outside number 12", location=Location(40.3007, 21.7887),
                    created_at=T0, department="roads", reporter_id=77)
    return Ticket(**{**defaults, **kw})


def test_reference_reads_aloud_and_is_found_in_free_text():
    assert format_ref("koz", 2026, 42) == "KOZ-2026-00042"
    assert parse_ref("what happened to koz-2026-00042 ?") == "KOZ-2026-00042"
    assert parse_ref("my street is still dark") is None


def test_happy_path_leaves_one_event_per_change():
    t = new_ticket()
    t.change_status(Status.ACKNOWLEDGED, ROADS, T0)
    t.change_status(Status.IN_PROGRESS, ROADS, T0 + timedelta(hours=1))
    t.change_status(Status.FIXED, ROADS, T0 + timedelta(days=2), "Filled with asphalt")
    t.change_status(Status.CLOSED, RESIDENT, T0 + timedelta(days=3))
    assert [(e.from_status, e.to_status) for e in t.events] == [
        (Status.NEW, Status.ACKNOWLEDGED), (Status.ACKNOWLEDGED, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Status.FIXED), (Status.FIXED, Status.CLOSED)]
    assert t.events[2].note == "Filled with asphalt" and t.events[2].actor_id == "501"
    assert t.status.open311 == "closed" and t.updated_at == T0 + timedelta(days=3)


def test_illegal_transition_is_refused_with_a_clear_message():
    t = new_ticket()
    with pytest.raises(IllegalTransition, match="cannot go from new to closed"):
        t.change_status(Status.CLOSED, ROADS, T0)
    assert t.status is Status.NEW and t.events == []


def test_staff_of_another_department_may_not_touch_the_ticket():
    t = new_ticket()
    with pytest.raises(NotAllowed, match="department roads"):
        t.change_status(Status.ACKNOWLEDGED, PARKS, T0)


def test_a_resident_cannot_fix_their_own_report():
    with pytest.raises(NotAllowed):
        new_ticket().change_status(Status.FIXED, RESIDENT, T0)


def test_rejection_needs_a_reason_and_its_particulars():
    t = new_ticket()
    with pytest.raises(DomainError, match="needs a reason"):
        t.change_status(Status.REJECTED, ROADS, T0)
    with pytest.raises(DomainError, match="referred"):
        t.change_status(Status.REJECTED, ROADS, T0, reason=RejectReason.NOT_RESPONSIBLE)
    with pytest.raises(DomainError, match="original"):
        t.change_status(Status.REJECTED, ROADS, T0, reason=RejectReason.DUPLICATE)
    t.change_status(Status.REJECTED, ROADS, T0, reason=RejectReason.DUPLICATE, duplicate_of="KOZ-2026-00007")
    assert t.duplicate_of == "KOZ-2026-00007" and t.events[-1].data["reason"] == "duplicate"


def test_asking_the_resident_for_information_needs_the_question():
    t = new_ticket()
    with pytest.raises(DomainError, match="needs a note"):
        t.change_status(Status.NEEDS_INFO, ROADS, T0)
    t.change_status(Status.NEEDS_INFO, ROADS, T0, "Which side of the road?")
    t.change_status(Status.ACKNOWLEDGED, RESIDENT, T0)
    assert t.status is Status.ACKNOWLEDGED


def test_only_review_reopens_a_closed_ticket_and_reopening_is_counted():
    t = new_ticket()
    t.change_status(Status.FIXED, ROADS, T0)
    t.change_status(Status.REOPENED, RESIDENT, T0, "Still a hole there")
    t.change_status(Status.FIXED, ROADS, T0)
    t.change_status(Status.CLOSED, Actor.system(), T0)
    with pytest.raises(NotAllowed):
        t.change_status(Status.REOPENED, RESIDENT, T0, "no")
    t.change_status(Status.REOPENED, OMBUDSMAN, T0, "The repair did not hold")
    assert t.reopen_count == 2 and t.status.is_open


def test_reassignment_by_the_head_of_the_department_only():
    t = new_ticket()
    with pytest.raises(NotAllowed):
        t.assign("parks", ROADS, T0)
    with pytest.raises(NotAllowed):
        t.assign("parks", Actor(Role.HEAD, "1", "parks"), T0)
    t.assign("parks", ROADS_HEAD, T0, "Tree roots, not asphalt")
    assert t.department == "parks" and t.events[-1].data == {"from": "roads", "to": "parks"}
    assert t.events[-1].public is False


def test_me_too_raises_priority_once_per_resident():
    t = new_ticket()
    assert t.add_supporter(5, T0) is not None
    assert t.add_supporter(5, T0) is None
    assert t.add_supporter(77, T0) is None   # the reporter
    assert t.supporter_count == 1 and t.priority == 1


def test_unknown_category_and_bad_coordinates_are_refused():
    with pytest.raises(DomainError, match="unknown category"):
        new_ticket(category="ufo")
    with pytest.raises(DomainError, match="out of range"):
        Location(91, 0)


def test_buttons_offer_only_what_the_role_may_do():
    assert Status.FIXED in allowed_targets(Status.IN_PROGRESS, Role.STAFF)
    assert allowed_targets(Status.CLOSED, Role.STAFF) == []
    assert allowed_targets(Status.FIXED, Role.RESIDENT) == [Status.CLOSED, Status.REOPENED]


ACTORS = [ROADS, PARKS, ROADS_HEAD, OMBUDSMAN, RESIDENT, Actor.system(), Actor(Role.ADMIN, "it")]


class Lifecycle(RuleBasedStateMachine):
    """Random sequences of calls never reach an illegal state, and every change leaves an event."""

    def __init__(self):
        super().__init__()
        self.ticket = new_ticket()
        self.clock = T0
        self.history: list[Status] = [Status.NEW]

    @rule(to=st.sampled_from(list(Status)), actor=st.sampled_from(ACTORS),
          note=st.sampled_from([None, "", "because"]), reason=st.sampled_from([None, *RejectReason]),
          referral=st.sampled_from([None, "hedno"]), dup=st.sampled_from([None, "KOZ-2026-00001"]))
    def change(self, to, actor, note, reason, referral, dup):
        before, events = self.ticket.status, len(self.ticket.events)
        self.clock += timedelta(minutes=5)
        try:
            self.ticket.change_status(to, actor, self.clock, note, reason=reason, referral=referral,
                                      duplicate_of=dup)
        except DomainError:
            assert self.ticket.status is before and len(self.ticket.events) == events
            return
        assert (before, to) in TRANSITIONS
        assert actor.role in TRANSITIONS[(before, to)].roles
        assert len(self.ticket.events) == events + 1
        event = self.ticket.events[-1]
        assert (event.from_status, event.to_status, event.at) == (before, to, self.clock)
        self.history.append(to)

    @rule(dept=st.sampled_from(["roads", "parks", "water"]), actor=st.sampled_from(ACTORS))
    def reassign(self, dept, actor):
        events = len(self.ticket.events)
        try:
            self.ticket.assign(dept, actor, self.clock)
        except DomainError:
            assert len(self.ticket.events) == events
            return
        assert self.ticket.department == dept and self.ticket.events[-1].kind is EventKind.ASSIGNED

    @invariant()
    def status_history_matches_events(self):
        replay = [Status.NEW] + [e.to_status for e in self.ticket.events if e.kind is EventKind.STATUS]
        assert replay == self.history
        assert self.ticket.status is self.history[-1]
        assert self.ticket.reopen_count == self.history.count(Status.REOPENED)

    @invariant()
    def rejected_tickets_carry_their_reason(self):
        if self.ticket.status is Status.REJECTED:
            assert self.ticket.reject_reason is not None
            assert self.ticket.status not in OPEN_STATUSES


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)

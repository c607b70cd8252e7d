"""The scheduler's work on tickets, as use cases: SLA reminders and escalations, the "is it fixed?" questionnaire,
the departments' morning digest and data retention.

Each sweep reads what is due, then changes each ticket in a transaction of its own, together with the mark
that says it was done (ack_reminded_at, breach_level, asked_at...). A sweep run twice therefore does nothing
the second time, and one interrupted half-way loses nothing: the rest is done on the next run.
All dates follow the municipality's working calendar (core/sla.py).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from core.ports import Notification, UnitOfWork
from core.services import Helpline, department_chat
from core.tickets import OPEN_STATUSES, Actor, EventKind, Status, Ticket

log = logging.getLogger(__name__)

SWEEP_LIMIT = 100_000          # tickets read per sweep; far above any municipality's open queue
URGENT_REFS = 5                # references listed in a digest
SETTLED = "settled"            # a head's escalation whose ticket was dealt with
REMIND_ACK, REMIND_RESOLVE, TO_HEAD, TO_OMBUDSMAN = "remind_ack", "remind_resolve", "to_head", "to_ombudsman"
NO_ANSWER_NOTE = "Closed by the helpline: no answer to the question whether it is fixed."
UNREACHABLE_NOTE = "Closed by the helpline: fixed, and nobody to ask whether it is."


class Sweeps:
    """The periodic use cases of one helpline; each returns how many tickets (or chats) it changed."""

    def __init__(self, helpline: Helpline) -> None:
        self.helpline = helpline
        self.calendar = helpline.calendar
        self.policy = helpline.policy

    # --- SLA ---------------------------------------------------------------------------------------

    def sla(self) -> int:
        """Remind departments before their deadlines; escalate breaches to the head, then to the ombudsman."""
        now = self.helpline.clock.now()
        soon = self.calendar.add_working_hours(now, self.policy.reminder_hours)
        due = [t.ref for t in self._tickets(OPEN_STATUSES) if self.sla_actions(t, now, soon)]
        return self._each(due, lambda uow, t: self._apply_sla(uow, t, self.sla_actions(t, now, soon)))

    def sla_actions(self, ticket: Ticket, now: datetime, soon: datetime) -> list[str]:
        """What the SLA asks for a ticket now; `soon` is `policy.reminder_hours` working hours from now."""
        if not ticket.is_open:
            return []
        actions = []
        awaiting_ack = ticket.status in (Status.NEW, Status.REOPENED)
        if awaiting_ack and _within(ticket.ack_due, now, soon) and ticket.ack_reminded_at is None:
            actions.append(REMIND_ACK)
        if _within(ticket.resolve_due, now, soon) and ticket.resolve_reminded_at is None:
            actions.append(REMIND_RESOLVE)
        late = _past(ticket.resolve_due, now) or (ticket.status is Status.NEW and _past(ticket.ack_due, now))
        if late and ticket.breach_level < 1:
            actions.append(TO_HEAD)
        if ticket.resolve_due and ticket.breach_level < 2 and now > self.margin_end(ticket.resolve_due):
            actions.append(TO_OMBUDSMAN)
        return actions

    def margin_end(self, resolve_due: datetime) -> datetime:
        """When a late ticket goes to the ombudsman: `escalation_margin_days` working days after the deadline
        (counted from the deadline's own working day, which a deadline at closing time still belongs to)."""
        return self.calendar.add_working_days(resolve_due - timedelta(seconds=1), self.policy.escalation_margin_days)

    def _apply_sla(self, uow: UnitOfWork, ticket: Ticket, actions: list[str]) -> bool:
        now, helpline = self.helpline.clock.now(), self.helpline
        for action in actions:
            if action == REMIND_ACK:
                helpline._tell_department(uow, ticket, "reminder", deadline="ack", due=ticket.ack_due.isoformat())
                ticket.ack_reminded_at = now
            elif action == REMIND_RESOLVE:
                helpline._tell_department(uow, ticket, "reminder", deadline="resolve",
                                          due=ticket.resolve_due.isoformat())
                ticket.resolve_reminded_at = now
            elif action == TO_HEAD:
                helpline.escalate(uow, ticket, "overdue", Actor.system(), level="head")
                ticket.breach_level = max(ticket.breach_level, 1)
            elif action == TO_OMBUDSMAN:
                helpline.escalate(uow, ticket, "overdue", Actor.system(), level="ombudsman")
                ticket.breach_level = 2
        return bool(actions)

    def settle(self) -> int:
        """Close the head's escalations of tickets the department has since fixed, closed or rejected: the breach
        the head was told of is over. (The Advocate's escalations are closed by the Advocate's decisions.)"""
        now = self.helpline.clock.now()
        settled = 0
        with self.helpline.uow() as uow:
            for escalation in uow.escalations.list(open_only=True):
                if escalation.level != "head":
                    continue
                ticket = uow.tickets.get(escalation.ticket_ref)
                if ticket is None or ticket.status in (Status.FIXED, Status.CLOSED, Status.REJECTED):
                    uow.escalations.save(replace(escalation, decision=SETTLED, decided_at=now, decided_by="system",
                                                 note=str(ticket.status) if ticket else None))
                    settled += 1
            uow.commit()
        return settled

    # --- the questionnaire -------------------------------------------------------------------------

    def questionnaires(self) -> int:
        """Ask the reporter of a fixed ticket whether it is fixed; close it when nobody answers (or nobody
        can be asked)."""
        now = self.helpline.clock.now()
        due = [t.ref for t in self._tickets([Status.FIXED]) if self._questionnaire_due(t, now)]
        return self._each(due, lambda uow, t: self._question(uow, t, now) if self._questionnaire_due(t, now)
                          else False)

    def _questionnaire_due(self, ticket: Ticket, now: datetime) -> bool:
        if ticket.status is not Status.FIXED or ticket.fixed_at is None:
            return False
        if ticket.asked_at is None:
            return ticket.fixed_at + timedelta(days=self.policy.questionnaire_days) <= now
        return ticket.asked_at + timedelta(days=self.policy.questionnaire_close_days) <= now

    def _question(self, uow: UnitOfWork, ticket: Ticket, now: datetime) -> bool:
        reporter = uow.residents.get(ticket.reporter_id) if ticket.reporter_id is not None else None
        if ticket.asked_at is not None:
            return self._close(uow, ticket, now, NO_ANSWER_NOTE, "no_answer")
        if reporter is None or not reporter.telegram_id:
            return self._close(uow, ticket, now, UNREACHABLE_NOTE, "nobody_to_ask")
        uow.outbox.add(Notification(chat_id=reporter.telegram_id, kind="questionnaire", ticket_ref=ticket.ref,
                                    payload={"ref": ticket.ref}, language=reporter.language or ticket.language,
                                    created_at=now))
        ticket.asked_at = now
        return True

    def _close(self, uow: UnitOfWork, ticket: Ticket, now: datetime, note: str, why: str) -> bool:
        """Close as the system; the note stays on the record, residents hear "closed" in their own words."""
        event = ticket.change_status(Status.CLOSED, Actor.system(), now, note)
        self.helpline._tell_residents(uow, ticket, replace(event, note=None, data={**event.data, "auto": why}))
        return True

    # --- data retention ----------------------------------------------------------------------------

    def retention(self) -> int:
        """Anonymise tickets closed or rejected more than `retention_days` ago that still name residents."""
        now = self.helpline.clock.now()
        cutoff = now - timedelta(days=self.policy.retention_days)
        due = [t.ref for t in self._tickets([Status.CLOSED, Status.REJECTED]) if _expired(t, cutoff)]
        return self._each(due, lambda uow, t: _expired(t, cutoff) and bool(t.anonymise(now)))

    # --- the morning digest ------------------------------------------------------------------------

    def digest(self) -> int:
        """Each department with a group gets, on working days, its open, due-today and overdue counts and its
        most urgent references; once a day, however often this runs. Returns how many digests were written."""
        now = self.helpline.clock.now()
        today = now.astimezone(self.calendar.zone).date()
        if not self.calendar.is_working_day(today):
            return 0
        start_of_day = datetime.combine(today, time(0), self.calendar.zone)
        open_tickets = self._tickets(OPEN_STATUSES)
        written = 0
        with self.helpline.uow() as uow:
            for key in self.helpline.profile.departments:
                chat = self.helpline.chat_of(department_chat(key), uow)
                mine = [t for t in open_tickets if t.department == key]
                if not chat or not mine or uow.outbox.already(chat, "digest", start_of_day):
                    continue
                uow.outbox.add(Notification(chat_id=chat, kind="digest", payload=self.digest_of(mine, today, now),
                                            language=self.helpline.profile.default_language, created_at=now))
                written += 1
            uow.commit()
        return written

    def digest_of(self, tickets: list[Ticket], today: date, now: datetime) -> dict:
        """A department's day in numbers (JSON-ready)."""
        zone = self.calendar.zone
        overdue = [t for t in tickets if self.is_overdue(t, now)]
        due_today = [t for t in tickets if t not in overdue and t.resolve_due
                     and t.resolve_due.astimezone(zone).date() == today]
        urgent = sorted(tickets, key=lambda t: (t not in overdue, t.resolve_due or now + timedelta(days=3650),
                                                -t.priority, t.ref))
        return {"day": today.isoformat(), "open": len(tickets), "due_today": len(due_today),
                "overdue": len(overdue), "urgent": [t.ref for t in urgent[:URGENT_REFS]]}

    @staticmethod
    def is_overdue(ticket: Ticket, now: datetime) -> bool:
        return _past(ticket.resolve_due, now) or (ticket.status is Status.NEW and _past(ticket.ack_due, now))

    # --- helpers -----------------------------------------------------------------------------------

    def _tickets(self, statuses: Iterable[Status]) -> list[Ticket]:
        with self.helpline.uow() as uow:
            return uow.tickets.list(status=list(statuses), limit=SWEEP_LIMIT)

    def _each(self, refs: list[str], change: Callable[[UnitOfWork, Ticket], bool]) -> int:
        """Apply `change` to each ticket in its own transaction (re-read, so a change made meanwhile by staff is
        seen); a ticket that fails is logged and tried again on the next run, the others go on."""
        changed = 0
        for ref in refs:
            try:
                with self.helpline.uow() as uow:
                    ticket = uow.tickets.get(ref)
                    if ticket is not None and change(uow, ticket):
                        uow.tickets.save(ticket)
                        uow.commit()
                        changed += 1
            except Exception:
                log.exception("%s: the scheduler could not update it; trying again on the next run", ref)
        return changed


def _within(due: datetime | None, now: datetime, soon: datetime) -> bool:
    return due is not None and now < due <= soon


def _past(due: datetime | None, now: datetime) -> bool:
    return due is not None and now > due


def _expired(ticket: Ticket, cutoff: datetime) -> bool:
    """Closed (or rejected) before `cutoff` and still linked to a resident."""
    if ticket.is_open or (ticket.reporter_id is None and not ticket.supporters):
        return False
    closed_at = next((e.at for e in reversed(ticket.events)
                      if e.kind is EventKind.STATUS and e.to_status is ticket.status), ticket.updated_at)
    return closed_at is not None and closed_at < cutoff

"""After the department's work: the resident confirms or disputes it, and the ombudsman decides on escalations.

A resident may say a fix did not work (the ticket reopens, with a fresh resolve deadline, and goes back to the
department; reopened too often, it also goes to the ombudsman), confirm it (the ticket closes), or dispute a
rejection (the ombudsman reviews it). The ombudsman decides on each escalation: ask the department to explain
by a deadline, uphold the department's decision, reopen the ticket with a new deadline, or reassign it. Every
decision is an event on the ticket and is recorded on the escalation. The department asked to explain answers by
replying to the request in its group: the answer is an internal event on the ticket naming the escalation, and goes
to the ombudsman's chat; the escalation waits for the ombudsman's next decision.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.ports import Escalation, Notification, UnitOfWork
from core.services import OMBUDSMAN_CHAT, Helpline, NotFound, department_chat
from core.tickets import Actor, DomainError, EventKind, NotAllowed, Role, Status, Ticket, TicketEvent

DECISIONS = ("explain", "uphold", "reopen", "reassign")
DEADLINE_DAYS = (5, 10, 20)          # the working days the ombudsman picks a deadline from
RESIDENT_NOTICE = "ombudsman_decision"
EXPLAIN_REQUEST = "explain_requested"       # to the department's group, which answers by replying to it
EXPLANATION_NOTICE = "explanation_given"    # the department's answer, to the ombudsman's chat
EXPLAINERS = (Role.STAFF, Role.HEAD, Role.ADMIN)


class MovedOn(DomainError):
    """The ticket (or escalation) is no longer where the button found it; nothing was changed."""


class NotYours(NotAllowed):
    """The resident neither reported nor follows the ticket (or may not answer this question)."""


@dataclass(frozen=True)
class Outcome:
    ticket: Ticket
    escalation: Escalation | None = None     # the escalation opened (resident side) or decided (ombudsman)


@dataclass(frozen=True)
class Case:
    """What the ombudsman reviews: the escalation, the ticket with its history, and who reported it."""
    escalation: Escalation
    ticket: Ticket
    reporter: str | None = None


@dataclass(frozen=True)
class ExplainRequest:
    """The ombudsman's request to explain as a department's group received it, with the escalation as it stands."""
    escalation: Escalation
    ticket: Ticket
    department: str                          # the department asked (whose group got the request)

    @property
    def answerable(self) -> bool:
        """Still waiting for the ombudsman's decision: an explanation can be added."""
        return self.escalation.decision == "explain"


class Review:
    """The use cases that follow a fix, a rejection or an escalation."""

    def __init__(self, helpline: Helpline) -> None:
        self.helpline = helpline

    # --- the resident ---------------------------------------------------------------------------------

    def confirm_fixed(self, ref: str, resident_id: int) -> Ticket:
        """"Yes, it is fixed": the reporter closes the ticket."""
        with self.helpline.uow() as uow:
            ticket = self.helpline._get(uow, ref)
            if ticket.reporter_id != resident_id:
                raise NotYours(f"{ticket.ref}: only the reporter confirms the fix")
            _expect(ticket, Status.FIXED)
            event = ticket.change_status(Status.CLOSED, _resident(resident_id), self.helpline.clock.now())
            self.helpline._tell_residents(uow, ticket, event, except_resident=resident_id)
            uow.tickets.save(ticket)
            uow.commit()
            return ticket

    def not_fixed(self, ref: str, resident_id: int, reason: str) -> Outcome:
        """"It is not fixed": reopen with the resident's reason and send it back to the department."""
        with self.helpline.uow() as uow:
            ticket = self._residents_ticket(uow, ref, resident_id)
            _expect(ticket, Status.FIXED)
            escalation = self._reopen_by_resident(uow, ticket, resident_id, reason)
            uow.tickets.save(ticket)
            uow.commit()
            return Outcome(ticket, escalation)

    def dispute(self, ref: str, resident_id: int, reason: str) -> Outcome:
        """The resident disputes a fix (it reopens) or a rejection or closure (the ombudsman reviews it)."""
        with self.helpline.uow() as uow:
            ticket = self._residents_ticket(uow, ref, resident_id)
            if ticket.status is Status.FIXED:
                escalation = self._reopen_by_resident(uow, ticket, resident_id, reason)
            elif ticket.status in (Status.REJECTED, Status.CLOSED):
                escalation = self.helpline.escalate(uow, ticket, "disputed", _resident(resident_id),
                                                    note=_reason(reason))
            else:
                raise MovedOn(f"{ticket.ref} is {ticket.status}; there is nothing to dispute")
            uow.tickets.save(ticket)
            uow.commit()
            return Outcome(ticket, escalation)

    def disputable(self, ref: str, resident_id: int, *, fix_only: bool = False) -> Ticket:
        """The ticket, if this resident may still say "not fixed" (or dispute it); before asking why."""
        with self.helpline.uow() as uow:
            ticket = self._residents_ticket(uow, ref, resident_id)
        if ticket.status not in ((Status.FIXED,) if fix_only else (Status.FIXED, Status.REJECTED, Status.CLOSED)):
            raise MovedOn(f"{ticket.ref} is {ticket.status}; there is nothing to dispute")
        return ticket

    def _residents_ticket(self, uow: UnitOfWork, ref: str, resident_id: int) -> Ticket:
        ticket = self.helpline._get(uow, ref)
        if resident_id != ticket.reporter_id and resident_id not in ticket.supporters:
            raise NotYours(f"{ticket.ref} was not reported or followed by this resident")
        return ticket

    def _reopen_by_resident(self, uow: UnitOfWork, ticket: Ticket, resident_id: int,
                            reason: str) -> Escalation | None:
        actor, now = _resident(resident_id), self.helpline.clock.now()
        event = ticket.change_status(Status.REOPENED, actor, now, _reason(reason))
        self._fresh_deadline(ticket, now)
        self.helpline._tell_residents(uow, ticket, event, except_resident=resident_id)
        self.helpline._tell_department(uow, ticket, "ticket_reopened", note=event.note, by=str(Role.RESIDENT),
                                       due=ticket.resolve_due.isoformat())
        if ticket.reopen_count >= self.helpline.policy.reopens_to_escalate:
            return self.helpline.escalate(uow, ticket, "reopened_twice", actor, note=event.note)
        return None

    def _fresh_deadline(self, ticket: Ticket, now: datetime, days: int | None = None) -> None:
        """A new resolve deadline on the working calendar; the scheduler's marks start over."""
        days = self.helpline.profile.category(ticket.category).sla.resolve_days if days is None else days
        ticket.resolve_due = self.helpline.calendar.add_working_days(now, days)
        ticket.asked_at = ticket.resolve_reminded_at = None
        ticket.breach_level = 0

    # --- the ombudsman --------------------------------------------------------------------------------

    def case(self, escalation_id: int) -> Case:
        """An escalation and its ticket with the whole history, for the ombudsman."""
        with self.helpline.uow() as uow:
            escalation = _escalation(uow, escalation_id)
            ticket = self.helpline._get(uow, escalation.ticket_ref)
            reporter = uow.residents.get(ticket.reporter_id) if ticket.reporter_id is not None else None
            return Case(escalation, ticket, reporter.name if reporter else None)

    def decide(self, escalation_id: int, decision: str, actor: Actor, *, note: str | None = None,
               days: int | None = None, department: str | None = None) -> Outcome:
        """The ombudsman's decision on an escalation, recorded on it and on the ticket."""
        if actor.role not in (Role.OMBUDSMAN, Role.ADMIN):
            raise NotAllowed(f"a {actor.role} may not decide on escalations")
        if decision not in DECISIONS:
            raise DomainError(f"unknown decision {decision!r}; expected one of {', '.join(DECISIONS)}")
        note = (note or "").strip() or None
        with self.helpline.uow() as uow:
            escalation = _escalation(uow, escalation_id)
            if escalation.decision not in (None, "explain"):
                raise MovedOn(f"escalation {escalation_id} was decided already: {escalation.decision}")
            ticket = self.helpline._get(uow, escalation.ticket_ref)
            data = getattr(self, f"_{decision}")(uow, ticket, escalation, actor, note, days, department)
            now = self.helpline.clock.now()
            public = decision in ("uphold", "reopen")
            ticket.record(TicketEvent(EventKind.REVIEWED, now, actor.role, actor.id, note=note, public=public,
                                      data={"escalation": escalation.id, "decision": decision, **data}))
            escalation.decision, escalation.decided_at, escalation.decided_by = decision, now, actor.id
            escalation.note = note or escalation.note
            if public:
                self._tell_residents(uow, ticket, decision, note, data.get("due"))
            uow.escalations.save(escalation)
            uow.tickets.save(ticket)
            uow.commit()
            return Outcome(ticket, escalation)

    def _explain(self, uow, ticket, escalation, actor, note, days, department) -> dict:
        """The department's group gets the question; a reply to the message it becomes is the answer
        (explain_request_at)."""
        deadline = self._deadline(days)
        escalation.deadline = deadline
        data = {"due": deadline.isoformat(), "department": ticket.department}
        chat = self.helpline.chat_of(department_chat(ticket.department or ""), uow)
        if chat:
            request = Notification(chat_id=chat, kind=EXPLAIN_REQUEST, ticket_ref=ticket.ref,
                                   payload={"ref": ticket.ref, "escalation": escalation.id, "note": note or "",
                                            "due": deadline.isoformat(), "department": ticket.department},
                                   language=self.helpline.profile.default_language,
                                   created_at=self.helpline.clock.now())
            uow.outbox.add(request)
        return data

    def _uphold(self, uow, ticket, escalation, actor, note, days, department) -> dict:
        if not note:
            raise DomainError(f"{ticket.ref}: upholding the decision needs a note to the resident")
        return {}

    def _reopen(self, uow, ticket, escalation, actor, note, days, department) -> dict:
        if not note:
            raise DomainError(f"{ticket.ref}: reopening needs a note saying why")
        now = self.helpline.clock.now()
        if not ticket.is_open:
            ticket.change_status(Status.REOPENED, actor, now, note)
        self._fresh_deadline(ticket, now, self._days(days))
        self.helpline._tell_department(uow, ticket, "ticket_reopened", note=note, by=str(Role.OMBUDSMAN),
                                       due=ticket.resolve_due.isoformat())
        return {"due": ticket.resolve_due.isoformat()}

    def _reassign(self, uow, ticket, escalation, actor, note, days, department) -> dict:
        if department not in self.helpline.profile.departments:
            raise DomainError(f"unknown department {department!r}")
        before = ticket.department
        ticket.assign(department, actor, self.helpline.clock.now(), note)
        self.helpline._tell_department(uow, ticket, "ticket_assigned")
        return {"from": before, "to": department}

    # --- the department's explanation --------------------------------------------------------------------

    def explain_request_at(self, chat_id: int, message_id: int) -> ExplainRequest | None:
        """The request to explain that this group message is, or None: found through the outbox row that became it
        (its chat and Telegram message id), so another message, even one naming the same ticket, is not taken for a
        request."""
        with self.helpline.uow() as uow:
            request = uow.outbox.sent_as(chat_id, message_id, (EXPLAIN_REQUEST,))
            department = request.payload.get("department") if request else None
            ticket = uow.tickets.get(request.ticket_ref) if department and request.ticket_ref else None
            escalation = _escalation_of(uow, ticket.ref, request.payload.get("escalation")) if ticket else None
            return ExplainRequest(escalation, ticket, department) if escalation else None

    def explain(self, request: ExplainRequest, actor: Actor, text: str) -> Outcome:
        """The department's answer to the request: an internal `note` event on the ticket with the text, the
        escalation and the department, and a message to the ombudsman's chat. The escalation stays open for the
        ombudsman's decision; another answer may follow."""
        if actor.role not in EXPLAINERS or (actor.role is not Role.ADMIN and actor.department != request.department):
            raise NotAllowed(f"{actor.role} {actor.id} may not answer for {request.department}")
        text = (text or "").strip()
        if not has_words(text):
            raise DomainError("an explanation needs a few words")
        with self.helpline.uow() as uow:
            escalation = _escalation_of(uow, request.ticket.ref, request.escalation.id)
            if escalation is None or escalation.decision != "explain":
                raise MovedOn(f"escalation {request.escalation.id} was decided: "
                              f"{escalation.decision if escalation else 'gone'}")
            ticket = self.helpline._get(uow, escalation.ticket_ref)
            now = self.helpline.clock.now()
            ticket.record(TicketEvent(EventKind.NOTE, now, actor.role, actor.id, note=text, public=False,
                                      data={"escalation": escalation.id, "explanation": True,
                                            "department": request.department}))
            chat = self.helpline.chat_of(OMBUDSMAN_CHAT, uow)
            if chat:
                uow.outbox.add(Notification(chat_id=chat, kind=EXPLANATION_NOTICE, ticket_ref=ticket.ref,
                                            payload={"ref": ticket.ref, "escalation": escalation.id,
                                                     "department": request.department, "text": text},
                                            language=self.helpline.profile.default_language, created_at=now))
            uow.tickets.save(ticket)
            uow.commit()
            return Outcome(ticket, escalation)

    def _days(self, days: int | None) -> int:
        if days is None or not 1 <= days <= 60:
            raise DomainError(f"a deadline needs 1 to 60 working days, not {days}")
        return days

    def _deadline(self, days: int | None) -> datetime:
        return self.helpline.calendar.add_working_days(self.helpline.clock.now(), self._days(days))

    def _tell_residents(self, uow: UnitOfWork, ticket: Ticket, decision: str, note: str | None,
                        due: str | None) -> None:
        """The reporter and every follower hear the ombudsman's decision, in their own language."""
        payload = {"ref": ticket.ref, "decision": decision, "note": note or "", "due": due or ""}
        for resident_id in [ticket.reporter_id, *sorted(ticket.supporters)]:
            resident = uow.residents.get(resident_id) if resident_id is not None else None
            if resident and resident.telegram_id:
                uow.outbox.add(Notification(chat_id=resident.telegram_id, kind=RESIDENT_NOTICE,
                                            ticket_ref=ticket.ref, payload=payload,
                                            language=resident.language or ticket.language,
                                            created_at=self.helpline.clock.now()))


def _escalation(uow: UnitOfWork, escalation_id: int) -> Escalation:
    found = next((e for e in uow.escalations.list() if e.id == escalation_id), None)
    if found is None:
        raise NotFound(f"no escalation {escalation_id}")
    return found


def _escalation_of(uow: UnitOfWork, ref: str, escalation_id) -> Escalation | None:
    return next((e for e in uow.escalations.for_ticket(ref) if str(e.id) == str(escalation_id)), None)


def has_words(text: str | None) -> bool:
    """Enough to tell anyone anything: at least three letters or digits."""
    return sum(ch.isalnum() for ch in (text or "")) >= 3


def _expect(ticket: Ticket, status: Status) -> None:
    if ticket.status is not status:
        raise MovedOn(f"{ticket.ref} is {ticket.status} now, no longer {status}")


def _resident(resident_id: int) -> Actor:
    return Actor(Role.RESIDENT, str(resident_id))


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("a dispute needs the resident's reason")
    return reason

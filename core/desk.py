"""The department's desk: its queue, what is overdue, planning a date, and the actions a card offers.

Also the questions the bot asked staff in a group and is waiting for a reply to (a reason, a date...): they
are kept in the database with the group's conversation state, so a restart does not lose them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.services import Helpline, NotFound
from core.tickets import (OPEN_STATUSES, Actor, DomainError, EventKind, NotAllowed, Role, Status, Ticket,
                          TicketEvent, allowed_targets)

# What a card's buttons do, in callback data ("d:<action>:<ref>[:arg]"), and the status each one moves to.
ACK, WORK, PLAN, INFO, FIX, REJECT, MOVE, CARD = "ack", "work", "plan", "info", "fix", "rej", "move", "card"
TARGETS = {ACK: Status.ACKNOWLEDGED, WORK: Status.IN_PROGRESS, INFO: Status.NEEDS_INFO, FIX: Status.FIXED,
           REJECT: Status.REJECTED}
PLAN_AHEAD_DAYS = 366          # a planned date further out than this is surely a typing mistake
MAX_PROMPTS = 50               # questions kept waiting per group; the oldest are forgotten first
PROMPTS = "desk_prompts"       # where they live in the group's conversation state


def card_actions(ticket: Ticket) -> list[str]:
    """The actions a department card offers for the ticket as it stands (the lifecycle decides)."""
    if not ticket.is_open:
        return []
    allowed = set(allowed_targets(ticket.status, Role.STAFF))
    actions = [action for action, status in TARGETS.items() if status in allowed]
    if ticket.status is Status.IN_PROGRESS:
        actions.insert(actions.index(INFO) if INFO in actions else len(actions), PLAN)
    return actions + [MOVE]


def still_possible(ticket: Ticket, action: str) -> bool:
    """Whether a button pressed on a card still fits the ticket (the card may be older than the ticket)."""
    return action in card_actions(ticket)


def is_urgent(helpline: Helpline, ticket: Ticket) -> bool:
    return helpline.profile.category(ticket.category).urgent


def queue(helpline: Helpline, department: str) -> list[Ticket]:
    """The department's open tickets: urgent first, then by resolve date, then the most supported."""
    found = helpline.tickets(status=OPEN_STATUSES, department=department, limit=500)
    far = datetime.max.replace(tzinfo=ZoneInfo("UTC"))
    return sorted(found, key=lambda t: (not is_urgent(helpline, t), t.resolve_due or far, -t.priority, t.ref))


def is_admin(helpline: Helpline, telegram_id: int) -> bool:
    return any(m.telegram_id == telegram_id and m.role == "admin" for m in helpline.staff())


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    """Open and past its resolve date, or still unacknowledged past its acknowledge date."""
    if not ticket.is_open:
        return False
    late_ack = ticket.status in (Status.NEW, Status.REOPENED) and ticket.ack_due is not None and ticket.ack_due < now
    return late_ack or (ticket.resolve_due is not None and ticket.resolve_due < now)


def overdue(helpline: Helpline, department: str) -> list[Ticket]:
    now = helpline.clock.now()
    return [t for t in queue(helpline, department) if is_overdue(t, now)]


def plan(helpline: Helpline, ref: str, actor: Actor, day: date) -> Ticket:
    """The department plans the work for `day` (at office opening, local time); an internal note."""
    zone = ZoneInfo(helpline.profile.calendar.timezone)
    today = helpline.clock.now().astimezone(zone).date()
    if not today <= day <= today + timedelta(days=PLAN_AHEAD_DAYS):
        raise DomainError(f"{day.isoformat()} is not between today and a year from now")
    when = datetime.combine(day, helpline.profile.calendar.opens, zone).astimezone(ZoneInfo("UTC"))
    with helpline.uow() as uow:
        ticket = uow.tickets.get(ref)
        if ticket is None:
            raise NotFound(f"no ticket {ref}")
        _may_work_on(ticket, actor)
        ticket.scheduled_for = when
        ticket.record(TicketEvent(EventKind.NOTE, helpline.clock.now(), actor.role, actor.id, public=False,
                                  data={"scheduled_for": when.isoformat()}))
        uow.tickets.save(ticket)
        uow.commit()
        return ticket


def _may_work_on(ticket: Ticket, actor: Actor) -> None:
    if not ticket.is_open:
        raise DomainError(f"{ticket.ref} is {ticket.status}")
    if actor.role in (Role.STAFF, Role.HEAD) and actor.department != ticket.department:
        raise NotAllowed(f"{ticket.ref}: belongs to department {ticket.department}, not {actor.department}")
    if actor.role not in (Role.STAFF, Role.HEAD, Role.ADMIN):
        raise NotAllowed(f"{ticket.ref}: a {actor.role} may not plan the department's work")


# --- questions waiting for a staff member's reply ---------------------------------------------------------

@dataclass(frozen=True)
class Prompt:
    """A question the bot asked in a group: answering it (a reply to that message) performs `action`."""
    action: str            # INFO (the question for the resident), PLAN (a date), REJECT (arg: the reason)
    ref: str
    asked_by: int          # the Telegram user who pressed the button
    card: int              # the card's message id, edited once the action is done
    photo_card: bool = False
    arg: str | None = None


def remember_prompt(helpline: Helpline, chat_id: int, message_id: int, prompt: Prompt) -> None:
    with helpline.uow() as uow:
        state = uow.conversations.load(chat_id) or {}
        prompts = dict(state.get(PROMPTS, {}))
        prompts[str(message_id)] = asdict(prompt)
        for old in sorted(prompts, key=int)[:-MAX_PROMPTS]:
            del prompts[old]
        uow.conversations.store(chat_id, {**state, PROMPTS: prompts})
        uow.commit()


def take_prompt(helpline: Helpline, chat_id: int, message_id: int) -> Prompt | None:
    """The question asked in that message, forgotten once taken (None if there is none)."""
    with helpline.uow() as uow:
        state = uow.conversations.load(chat_id) or {}
        prompts = dict(state.get(PROMPTS, {}))
        found = prompts.pop(str(message_id), None)
        if found is None:
            return None
        uow.conversations.store(chat_id, {**state, PROMPTS: prompts})
        uow.commit()
    return Prompt(**found)


def peek_prompt(helpline: Helpline, chat_id: int, message_id: int) -> Prompt | None:
    state = helpline.load_conversation(chat_id) or {}
    found = state.get(PROMPTS, {}).get(str(message_id))
    return Prompt(**found) if found else None

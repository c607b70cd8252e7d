"""Use cases: plain functions over a unit of work, called by the CLI, the bot and the scheduler."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from core.ports import (Clock, Escalation, NearbyReport, Notification, Opening, Resident, StaffMember, UnitOfWork,
                        UnitOfWorkFactory)
from core.profile import Profile
from core.routing import Route, inside_boundary, route
from core.sla import WorkingCalendar, due_dates
from core.tickets import (Actor, DomainError, EventKind, Location, NotAllowed, Photo, RejectReason, Role, Status,
                          Ticket, TicketEvent, format_ref)

STAFF_ROLES = ("staff", "head", "ombudsman", "admin", "operator")
OMBUDSMAN_CHAT = "ombudsman"
OPERATORS_CHAT = "operators"


def department_chat(department: str) -> str:
    """The key a department's group chat is bound under (`helpline chats set department:<key> <id>`)."""
    return f"department:{department}"


@dataclass(frozen=True)
class Policy:
    """How the scheduler treats tickets (config.yml): questionnaire, escalation margin, retention."""
    questionnaire_days: int = 3          # after "fixed", ask the resident "is it fixed?"
    questionnaire_close_days: int = 14   # no answer for this long after asking: close
    escalation_margin_days: int = 5      # resolve deadline passed by this many working days: the ombudsman
    retention_days: int = 730            # personal data of tickets closed this long ago is anonymised
    reminder_hours: int = 4              # remind the department this many working hours before a deadline
    reopens_to_escalate: int = 2         # a ticket reopened this many times goes to the ombudsman


class NotFound(DomainError):
    pass


class OutsideMunicipality(DomainError):
    pass


@dataclass(frozen=True)
class Report:
    """What a resident tells us: the problem, where, and optionally photos."""
    category: str
    description: str
    location: Location
    resident_id: int | None
    language: str
    photos: tuple[Photo, ...] = ()


@dataclass(frozen=True)
class Filed:
    ticket: Ticket
    route: Route


class Helpline:
    """The use cases of one municipality's helpline."""

    def __init__(self, uow: UnitOfWorkFactory, profile: Profile, clock: Clock,
                 policy: Policy | None = None) -> None:
        self.uow = uow
        self.profile = profile
        self.clock = clock
        self.policy = policy or Policy()
        self.calendar = WorkingCalendar(profile.calendar)

    # --- residents' reports ---------------------------------------------------------------------------

    def file_report(self, report: Report, chat: tuple[int, dict] | None = None,
                    also: Callable[[UnitOfWork, Filed], None] | None = None) -> Filed:
        """File a ticket: route it, give it a number and deadlines, and tell whoever must know.

        `chat` (chat id, conversation state) is stored in the same transaction, so a crash can never leave
        a filed ticket with a conversation still offering to file it again. `also` does more in that same
        transaction (an operator's handover marked as filed); if it raises, nothing is filed.
        """
        profile, now = self.profile, self.clock.now()
        loc = report.location
        if not inside_boundary(profile, loc.lat, loc.lon):
            raise OutsideMunicipality(f"{loc.lat:.5f}, {loc.lon:.5f} is outside {profile.names['en']}")
        where = route(profile, report.category, loc.lat, loc.lon)
        ack_due, resolve_due = due_dates(now, profile.category(report.category).sla, self.calendar)
        with self.uow() as uow:
            number = uow.tickets.next_number(profile.ref_prefix, now.year)
            ticket = Ticket(
                ref=format_ref(profile.ref_prefix, now.year, number), municipality=profile.slug,
                category=report.category, description=report.description, location=loc, created_at=now,
                reporter_id=report.resident_id, department=where.department or profile.triage_department,
                language=report.language, photos=list(report.photos), ack_due=ack_due, resolve_due=resolve_due,
                priority=1 if profile.category(report.category).urgent else 0)
            ticket.record(TicketEvent(EventKind.CREATED, now, Role.RESIDENT, _str(report.resident_id),
                                      to_status=Status.NEW, data={"area": where.area} if where.area else {}))
            if where.outside_body:
                ticket.change_status(Status.REJECTED, Actor.system(), now, reason=RejectReason.NOT_RESPONSIBLE,
                                     referral=where.outside_body)
            else:
                self._tell_department(uow, ticket, "ticket_new")
            uow.tickets.add(ticket)
            if chat:
                uow.conversations.store(*chat)
            filed = Filed(ticket, where)
            if also:
                also(uow, filed)
            uow.commit()
        return filed

    def open_tickets_nearby(self, category: str, location: Location) -> list[tuple[NearbyReport, float]]:
        """Open tickets of the same category within the category's duplicate radius, nearest first."""
        radius = self.profile.category(category).duplicate_radius_m
        with self.uow(autocommit=True) as uow:     # reads only
            return uow.tickets.nearby(category, location.lat, location.lon, radius,
                                      statuses=[s for s in Status if s.is_open])

    def follow(self, ref: str, resident_id: int) -> Ticket:
        """"Me too": the resident follows an open ticket instead of filing a new one."""
        with self.uow() as uow:
            ticket = self._get(uow, ref)
            ticket.add_supporter(resident_id, self.clock.now())
            uow.tickets.save(ticket)
            uow.commit()
            return ticket

    def add_information(self, ref: str, resident_id: int, note: str, photo: Photo | None = None) -> Ticket:
        """The resident answers the department's question: attach it and hand the ticket back."""
        now = self.clock.now()
        with self.uow() as uow:
            ticket = self._get(uow, ref)
            if ticket.reporter_id != resident_id or ticket.status is not Status.NEEDS_INFO:
                raise DomainError(f"{ticket.ref} is not waiting for information from this resident")
            if photo:
                ticket.photos.append(photo)
            ticket.record(TicketEvent(EventKind.INFO, now, Role.RESIDENT, str(resident_id), note=note or None,
                                      public=True, data={"photo": photo.file_id} if photo else {}))
            ticket.change_status(Status.ACKNOWLEDGED, Actor(Role.RESIDENT, str(resident_id)), now)
            self._tell_department(uow, ticket, "ticket_info")
            uow.tickets.save(ticket)
            uow.commit()
            return ticket

    def complain(self, ref: str, resident_id: int, text: str) -> Ticket:
        """A resident disputes the handling of a ticket they reported or follow: open an escalation."""
        with self.uow() as uow:
            ticket = self._get(uow, ref)
            if resident_id != ticket.reporter_id and resident_id not in ticket.supporters:
                raise DomainError(f"{ticket.ref} was not reported or followed by this resident")
            self.escalate(uow, ticket, "complaint", Actor(Role.RESIDENT, str(resident_id)), note=text or None)
            uow.tickets.save(ticket)
            uow.commit()
            return ticket

    # --- residents and their conversations -------------------------------------------------------

    def resident_for(self, telegram_id: int, name: str | None = None) -> Resident:
        """The resident writing from this chat, registered on their first message."""
        with self.uow(autocommit=True) as uow:     # one statement (an upsert)
            return uow.residents.register(telegram_id, name)

    def open_message(self, telegram_id: int, update_id: int) -> Opening:
        """Whether this update was handled already, with the resident and the conversation of the chat: one read,
        no transaction, on every message a resident sends."""
        with self.uow(autocommit=True) as uow:
            return uow.conversations.opening(telegram_id, update_id)

    def resident_and_conversation(self, telegram_id: int, name: str | None = None,
                                  opened: Opening | None = None) -> tuple[Resident, dict | None]:
        """resident_for and load_conversation (from `opened`, when the message's opening read them): two reads
        without a transaction around them; a transaction only when the resident is new or has changed their name."""
        if opened is None:
            with self.uow(autocommit=True) as uow:
                opened = Opening(False, uow.residents.by_telegram_id(telegram_id), uow.conversations.load(telegram_id))
        resident = opened.resident
        if resident is None or (name and resident.name != name):
            resident = self.resident_for(telegram_id, name)
        return resident, opened.state

    def set_language(self, resident_id: int, language: str) -> None:
        with self.uow(autocommit=True) as uow:     # one statement
            uow.residents.set_language(resident_id, language)

    def load_conversation(self, chat_id: int) -> dict | None:
        with self.uow(autocommit=True) as uow:
            return uow.conversations.load(chat_id)

    def store_conversation(self, chat_id: int, state: dict, handled_update: int | None = None) -> None:
        """Save the conversation's state; with `handled_update`, also mark that update handled (mark_update): on
        PostgreSQL in the same statement, one round trip for both."""
        with self.uow(autocommit=True) as uow:       # one statement (an upsert)
            uow.conversations.store(chat_id, state, handled_update)
            uow.commit()

    def update_seen(self, update_id: int) -> bool:
        """Whether a Telegram update was handled already (Telegram redelivers after a crash)."""
        with self.uow(autocommit=True) as uow:
            return uow.updates.seen(update_id)

    def mark_update(self, update_id: int) -> None:
        with self.uow(autocommit=True) as uow:       # one statement (an insert unless there)
            uow.updates.first_time(update_id, self.clock.now())
            uow.commit()

    def tickets_of(self, resident_id: int) -> list[Ticket]:
        """Tickets the resident reported or follows, open ones first, newest first."""
        with self.uow() as uow:
            found = uow.tickets.of_resident(resident_id)
        return sorted(found, key=lambda t: (not t.is_open, -t.created_at.timestamp()))

    def personal_data(self, resident_id: int) -> dict:
        with self.uow() as uow:
            resident = uow.residents.get(resident_id)
            tickets = uow.tickets.of_resident(resident_id)
        return {"name": resident.name if resident else None, "language": resident.language if resident else None,
                "reports": ", ".join(sorted(t.ref for t in tickets if t.reporter_id == resident_id)) or "-",
                "following": ", ".join(sorted(t.ref for t in tickets if resident_id in t.supporters)) or "-"}

    def forget_resident(self, resident_id: int, chat_id: int) -> None:
        """Erase the resident and the conversation; their tickets stay, anonymous."""
        now = self.clock.now()
        with self.uow() as uow:
            for ticket in uow.tickets.of_resident(resident_id):
                ticket.forget(resident_id, now)
                uow.tickets.save(ticket)
            uow.conversations.delete(chat_id)
            uow.residents.delete(resident_id)
            uow.commit()

    # --- staff ------------------------------------------------------------------------------------

    def change_status(self, ref: str, to: Status | str, actor: Actor, note: str | None = None, *,
                      reason: RejectReason | str | None = None, referral: str | None = None,
                      duplicate_of: str | None = None, public: bool = True) -> Ticket:
        """Move a ticket along its lifecycle and queue the news for the resident and followers."""
        if referral and referral not in self.profile.outside_bodies:
            raise DomainError(f"unknown outside body {referral!r}; known: {', '.join(self.profile.outside_bodies)}")
        with self.uow() as uow:
            ticket = self._get(uow, ref)
            if duplicate_of:
                self._get(uow, duplicate_of)
            event = ticket.change_status(Status(to), actor, self.clock.now(), note,
                                         reason=RejectReason(reason) if reason else None, referral=referral,
                                         duplicate_of=duplicate_of, public=public)
            if event.public:
                self._tell_residents(uow, ticket, event)
            uow.tickets.save(ticket)
            uow.commit()
            return ticket

    def assign(self, ref: str, department: str, actor: Actor, note: str | None = None) -> Ticket:
        if department not in self.profile.departments:
            raise DomainError(f"unknown department {department!r}; known: {', '.join(self.profile.departments)}")
        with self.uow() as uow:
            ticket = self._get(uow, ref)
            ticket.assign(department, actor, self.clock.now(), note)
            self._tell_department(uow, ticket, "ticket_assigned")
            uow.tickets.save(ticket)
            uow.commit()
            return ticket

    def ticket(self, ref: str) -> Ticket:
        with self.uow() as uow:
            return self._get(uow, ref)

    def tickets(self, *, status: Iterable[Status] | None = None, department: str | None = None,
                limit: int = 100) -> list[Ticket]:
        with self.uow() as uow:
            return uow.tickets.list(status=status, department=department, limit=limit)

    def add_staff(self, member: StaffMember) -> StaffMember:
        if member.role not in STAFF_ROLES:
            raise DomainError(f"unknown role {member.role!r}; expected one of {', '.join(STAFF_ROLES)}")
        if member.role in ("staff", "head"):
            if member.department not in self.profile.departments:
                raise DomainError(f"a {member.role} needs a department; known: {', '.join(self.profile.departments)}")
        elif member.department:
            raise DomainError(f"a {member.role} belongs to no department")
        with self.uow() as uow:
            if any(m.role == member.role and m.department == member.department
                   for m in uow.staff.roles_of(member.telegram_id)):
                raise DomainError(f"{member.telegram_id} is already {member.role}"
                                  + (f" of {member.department}" if member.department else ""))
            uow.staff.add(member)
            uow.commit()
        return member

    def remove_staff(self, telegram_id: int, role: str | None = None, department: str | None = None) -> int:
        with self.uow() as uow:
            removed = uow.staff.remove(telegram_id, role, department)
            uow.commit()
        if not removed:
            raise NotFound(f"no staff entry for {telegram_id}")
        return removed

    def staff(self, department: str | None = None) -> list[StaffMember]:
        with self.uow() as uow:
            return uow.staff.list(department)

    def escalations(self, open_only: bool = False) -> list[Escalation]:
        with self.uow() as uow:
            return uow.escalations.list(open_only)

    # --- who may act, and where they sit ----------------------------------------------------------

    def actor_for(self, telegram_id: int, department: str | None, *, head: bool = False) -> Actor:
        """The Actor a Telegram user acts as on a department's ticket, from the staff list (never from what a
        button says). Admins may act anywhere; `head` asks for the department's head (for reassigning)."""
        with self.uow() as uow:
            roles = uow.staff.roles_of(telegram_id)
        wanted = ("head",) if head else ("staff", "head")
        for member in sorted(roles, key=lambda m: m.role != "head"):
            if member.role in wanted and member.department == department:
                return Actor(Role(member.role), str(telegram_id), department)
        if any(m.role == "admin" for m in roles):
            return Actor(Role.ADMIN, str(telegram_id))
        raise NotAllowed(f"{telegram_id} is not {'the head' if head else 'staff'} of {department}")

    def ombudsman_actor(self, telegram_id: int) -> Actor:
        with self.uow() as uow:
            roles = uow.staff.roles_of(telegram_id)
        if any(m.role == "ombudsman" for m in roles):
            return Actor(Role.OMBUDSMAN, str(telegram_id))
        raise NotAllowed(f"{telegram_id} is not the ombudsman")

    def chat_of(self, key: str, uow: UnitOfWork | None = None) -> int | None:
        """A bound group chat: the one set with the CLI, else the profile's (None when neither is set)."""
        if uow is None:
            with self.uow() as own:
                return self.chat_of(key, own)
        bound = uow.chats.get(key)
        if bound is not None:
            return bound
        if key == OMBUDSMAN_CHAT:
            return self.profile.ombudsman_chat_id
        if key.startswith("department:"):
            dept = self.profile.departments.get(key.split(":", 1)[1])
            return dept.chat_id if dept else None
        return None

    def bind_chat(self, key: str, chat_id: int) -> None:
        if key.startswith("department:") and key.split(":", 1)[1] not in self.profile.departments:
            raise DomainError(f"unknown department in {key!r}; known: {', '.join(self.profile.departments)}")
        if not (key.startswith("department:") or key in (OMBUDSMAN_CHAT, OPERATORS_CHAT)):
            raise DomainError(f"unknown chat {key!r}; expected department:<key>, {OMBUDSMAN_CHAT} or {OPERATORS_CHAT}")
        with self.uow() as uow:
            uow.chats.set(key, chat_id)
            uow.commit()

    def unbind_chat(self, key: str) -> bool:
        """Forget a chat set with the CLI (the profile's chat_id, if any, applies again)."""
        with self.uow() as uow:
            removed = uow.chats.remove(key)
            uow.commit()
        return removed

    def bound_chats(self) -> dict[str, int]:
        """The chats set with the CLI (they win over the profile's chat ids)."""
        with self.uow() as uow:
            return uow.chats.all()

    def chat_moved(self, old_id: int, new_id: int) -> list[str]:
        """A group became a supergroup, which Telegram gives a new id: every chat (a department's, the Advocate's,
        the operators') that was the old id is bound to the new one. The keys moved; none when it was not ours."""
        keys = [department_chat(k) for k in self.profile.departments] + [OMBUDSMAN_CHAT, OPERATORS_CHAT]
        with self.uow() as uow:
            moved = [key for key in keys if self.chat_of(key, uow) == old_id]
            for key in moved:
                uow.chats.set(key, new_id)
            uow.commit()
        return moved

    def department_of_chat(self, chat_id: int) -> str | None:
        """The department whose group this chat is, if any (the bindings read once, in one transaction)."""
        with self.uow() as uow:
            bound = uow.chats.all()
        for key, dept in self.profile.departments.items():
            if bound.get(department_chat(key), dept.chat_id) == chat_id:
                return key
        return None

    # --- escalations ------------------------------------------------------------------------------

    def escalate(self, uow: UnitOfWork, ticket: Ticket, reason: str, actor: Actor, *, level: str = "ombudsman",
                 note: str | None = None, deadline: datetime | None = None) -> Escalation | None:
        """Open an escalation inside the caller's unit of work, record it on the ticket and tell the ombudsman
        (or, at level "head", the department's group). None if one for the same reason and level is open."""
        if any(e.is_open and e.reason == reason and e.level == level for e in uow.escalations.for_ticket(ticket.ref)):
            return None
        now = self.clock.now()
        escalation = Escalation(ticket.ref, reason, now, deadline=deadline, level=level, note=note,
                                department=ticket.department)
        uow.escalations.add(escalation)
        ticket.record(TicketEvent(EventKind.ESCALATED, now, actor.role, actor.id, note=note, public=False,
                                  data={"reason": reason, "level": level, "escalation": escalation.id}))
        chat = self.chat_of(OMBUDSMAN_CHAT if level == "ombudsman" else department_chat(ticket.department or ""), uow)
        if chat:
            uow.outbox.add(Notification(chat_id=chat, kind=f"escalation_{level}", ticket_ref=ticket.ref,
                                        payload={"ref": ticket.ref, "escalation": escalation.id, "reason": reason},
                                        language=self.profile.default_language, created_at=now))
        return escalation

    # --- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _get(uow: UnitOfWork, ref: str) -> Ticket:
        ticket = uow.tickets.get(ref.strip().upper())
        if ticket is None:
            raise NotFound(f"no ticket {ref}")
        return ticket

    def _tell_department(self, uow: UnitOfWork, ticket: Ticket, kind: str, **payload) -> None:
        chat = self.chat_of(department_chat(ticket.department or ""), uow)
        if chat:
            uow.outbox.add(Notification(chat_id=chat, kind=kind, ticket_ref=ticket.ref,
                                        payload={"ref": ticket.ref, **payload},
                                        language=self.profile.default_language,
                                        created_at=self.clock.now()))

    def _tell_residents(self, uow: UnitOfWork, ticket: Ticket, event: TicketEvent, *,
                        except_resident: int | None = None) -> None:
        """The reporter and every follower (but the one who made the change) hear of it in their language."""
        payload = {"ref": ticket.ref, "status": str(event.to_status), "note": event.note or "", **event.data}
        for resident_id in [ticket.reporter_id, *sorted(ticket.supporters)]:
            if resident_id == except_resident:
                continue
            resident = uow.residents.get(resident_id) if resident_id is not None else None
            if resident and resident.telegram_id:
                uow.outbox.add(Notification(chat_id=resident.telegram_id, kind="status_changed",
                                            ticket_ref=ticket.ref, payload=payload,
                                            language=resident.language or ticket.language,
                                            created_at=self.clock.now()))


def _str(value: object) -> str | None:
    return None if value is None else str(value)

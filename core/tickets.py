"""Tickets, their lifecycle and its audit trail.

The lifecycle is an explicit table: for each (from, to) pair, which roles may make the change and what it
needs (a reason, a referral, a link to the original). Every change leaves a TicketEvent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


CATEGORIES: tuple[str, ...] = (
    "pothole", "streetlight", "garbage", "bulky_waste", "water_leak", "sewage", "tree", "stray_animal",
    "noise", "graffiti", "sidewalk_accessibility", "illegal_parking", "abandoned_vehicle", "playground",
    "traffic_signal", "other",
)


class DomainError(Exception):
    """A rule of the helpline was broken; the message says which, in plain words."""


class IllegalTransition(DomainError):
    pass


class NotAllowed(DomainError):
    pass


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    NEEDS_INFO = "needs_info"
    FIXED = "fixed"
    CLOSED = "closed"
    REJECTED = "rejected"
    REOPENED = "reopened"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES

    @property
    def open311(self) -> str:
        """Open311 GeoReport v2 status: open or closed."""
        return "open" if self.is_open else "closed"


OPEN_STATUSES = frozenset({Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.NEEDS_INFO,
                           Status.REOPENED})


class Role(StrEnum):
    RESIDENT = "resident"      # the reporter (or a supporter, for disputes)
    STAFF = "staff"            # department staff
    HEAD = "head"              # department head
    OMBUDSMAN = "ombudsman"    # the Citizen's Advocate
    ADMIN = "admin"            # the municipality's IT person, via the CLI
    SYSTEM = "system"          # the scheduler


class RejectReason(StrEnum):
    NOT_RESPONSIBLE = "not_responsible"  # needs a referral to an outside body
    DUPLICATE = "duplicate"              # needs the reference of the original
    INVALID = "invalid"
    NO_ACTION = "no_action"


@dataclass(frozen=True)
class Actor:
    role: Role
    id: str | None = None            # Telegram user id, CLI user name, "scheduler"...
    department: str | None = None    # for staff and heads

    @classmethod
    def system(cls) -> Actor:
        return cls(Role.SYSTEM, "scheduler")


DEPT = frozenset({Role.STAFF, Role.HEAD, Role.ADMIN})
REVIEW = frozenset({Role.OMBUDSMAN, Role.HEAD, Role.ADMIN})


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    needs_note: bool = False


def _rules() -> dict[tuple[Status, Status], Rule]:
    S = Status
    table: dict[tuple[Status, Status], Rule] = {}
    working = (S.NEW, S.ACKNOWLEDGED, S.IN_PROGRESS, S.NEEDS_INFO, S.REOPENED)
    for src in working:
        table[(src, S.FIXED)] = Rule(DEPT)
        table[(src, S.REJECTED)] = Rule(DEPT | {Role.OMBUDSMAN})
    # A category that is another body's job is referred by the system when it is filed.
    table[(S.NEW, S.REJECTED)] = Rule(DEPT | {Role.OMBUDSMAN, Role.SYSTEM})
    for src in (S.NEW, S.REOPENED):
        table[(src, S.ACKNOWLEDGED)] = Rule(DEPT | {Role.SYSTEM})
    for src in (S.NEW, S.ACKNOWLEDGED, S.REOPENED, S.NEEDS_INFO):
        table[(src, S.IN_PROGRESS)] = Rule(DEPT)
    for src in (S.NEW, S.ACKNOWLEDGED, S.IN_PROGRESS, S.REOPENED):
        table[(src, S.NEEDS_INFO)] = Rule(DEPT, needs_note=True)
    # The resident answered the department's question.
    table[(S.NEEDS_INFO, S.ACKNOWLEDGED)] = Rule(DEPT | {Role.RESIDENT, Role.SYSTEM})
    # After a fix: the resident confirms (or the questionnaire times out), or says it is not fixed.
    table[(S.FIXED, S.CLOSED)] = Rule(frozenset({Role.RESIDENT, Role.SYSTEM, Role.OMBUDSMAN, Role.ADMIN}))
    table[(S.FIXED, S.REOPENED)] = Rule(frozenset({Role.RESIDENT, Role.SYSTEM}) | REVIEW, needs_note=True)
    # Second-tier review reopens closed or rejected tickets.
    table[(S.CLOSED, S.REOPENED)] = Rule(REVIEW, needs_note=True)
    table[(S.REJECTED, S.REOPENED)] = Rule(REVIEW, needs_note=True)
    return table


TRANSITIONS: dict[tuple[Status, Status], Rule] = _rules()


def allowed_targets(status: Status, role: Role) -> list[Status]:
    """The statuses a person in `role` may move a ticket in `status` to (for building buttons)."""
    return [to for (src, to), rule in TRANSITIONS.items() if src == status and role in rule.roles]


REF_RE = re.compile(r"\b([A-Z]{3})-(\d{4})-(\d{5})\b", re.IGNORECASE)


def format_ref(prefix: str, year: int, number: int) -> str:
    """A reference a resident can read aloud: KOZ-2026-00042."""
    return f"{prefix.upper()}-{year:04d}-{number:05d}"


def parse_ref(text: str) -> str | None:
    """The first ticket reference in `text`, normalised to upper case, or None."""
    m = REF_RE.search(text or "")
    return f"{m.group(1).upper()}-{m.group(2)}-{m.group(3)}" if m else None


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    address: str | None = None

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise DomainError(f"coordinates out of range: {self.lat}, {self.lon}")


@dataclass(frozen=True)
class Photo:
    file_id: str                    # Telegram file_id (largest size) or a local path from the terminal
    file_unique_id: str | None = None


class EventKind(StrEnum):
    CREATED = "created"
    STATUS = "status"
    ASSIGNED = "assigned"
    SUPPORTED = "supported"
    NOTE = "note"
    INFO = "info"                   # the resident's answer to a needs_info request
    ESCALATED = "escalated"
    REVIEWED = "reviewed"           # the ombudsman's (or a head's) decision on an escalation
    ANONYMISED = "anonymised"


@dataclass
class TicketEvent:
    kind: EventKind
    at: datetime
    actor_role: Role
    actor_id: str | None = None
    from_status: Status | None = None
    to_status: Status | None = None
    note: str | None = None
    public: bool = True             # shown to the resident; internal notes are not
    data: dict = field(default_factory=dict)
    id: int | None = None           # set by the repository


@dataclass
class Ticket:
    ref: str
    municipality: str
    category: str
    description: str
    location: Location | None
    created_at: datetime
    reporter_id: int | None = None             # Resident.id; None once anonymised
    department: str | None = None               # department key in the profile
    outside_body: str | None = None             # outside body key when referred
    status: Status = Status.NEW
    priority: int = 0
    photos: list[Photo] = field(default_factory=list)
    supporters: set[int] = field(default_factory=set)   # Resident ids following with "me too"
    language: str = "en"
    ack_due: datetime | None = None
    resolve_due: datetime | None = None
    updated_at: datetime | None = None
    reject_reason: RejectReason | None = None
    duplicate_of: str | None = None
    reopen_count: int = 0
    fixed_at: datetime | None = None             # when it was last marked fixed (the questionnaire counts from it)
    asked_at: datetime | None = None             # when the resident was asked "is it fixed?"
    ack_reminded_at: datetime | None = None      # when the department was reminded of the acknowledge deadline
    resolve_reminded_at: datetime | None = None  # ... and of the resolve deadline
    breach_level: int = 0                        # 0 on time; 1 the head was told of the breach; 2 the ombudsman
    scheduled_for: datetime | None = None        # the date the department plans the work for
    events: list[TicketEvent] = field(default_factory=list)
    id: int | None = None

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise DomainError(f"unknown category {self.category!r}; expected one of {', '.join(CATEGORIES)}")
        if self.updated_at is None:
            self.updated_at = self.created_at

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def supporter_count(self) -> int:
        return len(self.supporters)

    def record(self, event: TicketEvent) -> TicketEvent:
        self.events.append(event)
        self.updated_at = event.at
        return event

    def change_status(self, to: Status, actor: Actor, at: datetime, note: str | None = None, *,
                      reason: RejectReason | None = None, referral: str | None = None,
                      duplicate_of: str | None = None, public: bool = True) -> TicketEvent:
        """Move the ticket along the lifecycle, checking who may and what the change needs."""
        to = Status(to)
        rule = TRANSITIONS.get((self.status, to))
        if rule is None:
            raise IllegalTransition(f"{self.ref}: cannot go from {self.status} to {to}")
        if actor.role not in rule.roles:
            raise NotAllowed(f"{self.ref}: a {actor.role} may not change {self.status} to {to}")
        if actor.role in (Role.STAFF, Role.HEAD) and actor.department != self.department:
            raise NotAllowed(f"{self.ref}: belongs to department {self.department}, not {actor.department}")
        if rule.needs_note and not (note and note.strip()):
            raise DomainError(f"{self.ref}: changing to {to} needs a note saying why")
        data: dict = {}
        if to is Status.REJECTED:
            data = self._check_rejection(reason, referral, duplicate_of)
        event = TicketEvent(EventKind.STATUS, at, actor.role, actor.id, self.status, to,
                            note=note, public=public, data=data)
        if to is Status.REOPENED:
            self.reopen_count += 1
        if to is Status.FIXED:
            self.fixed_at, self.asked_at = at, None
        self.status = to
        return self.record(event)

    def _check_rejection(self, reason: RejectReason | None, referral: str | None,
                         duplicate_of: str | None) -> dict:
        if reason is None:
            raise DomainError(f"{self.ref}: a rejection needs a reason ({', '.join(RejectReason)})")
        reason = RejectReason(reason)
        if reason is RejectReason.NOT_RESPONSIBLE and not referral:
            raise DomainError(f"{self.ref}: 'not responsible' needs the body the resident is referred to")
        if reason is RejectReason.DUPLICATE:
            if not duplicate_of:
                raise DomainError(f"{self.ref}: 'duplicate' needs the reference of the original ticket")
            if duplicate_of == self.ref:
                raise DomainError(f"{self.ref}: a ticket cannot duplicate itself")
        self.reject_reason = reason
        self.outside_body = referral if reason is RejectReason.NOT_RESPONSIBLE else self.outside_body
        self.duplicate_of = duplicate_of if reason is RejectReason.DUPLICATE else None
        return {k: v for k, v in (("reason", str(reason)), ("referral", referral),
                                  ("duplicate_of", duplicate_of)) if v}

    def assign(self, department: str, actor: Actor, at: datetime, note: str | None = None) -> TicketEvent:
        """Hand the ticket to another department (heads, the ombudsman, admins and the system may)."""
        if actor.role not in (Role.HEAD, Role.OMBUDSMAN, Role.ADMIN, Role.SYSTEM):
            raise NotAllowed(f"{self.ref}: a {actor.role} may not reassign tickets")
        if actor.role is Role.HEAD and actor.department != self.department:
            raise NotAllowed(f"{self.ref}: only the head of {self.department} may reassign it")
        if department == self.department:
            raise DomainError(f"{self.ref}: already with {department}")
        event = TicketEvent(EventKind.ASSIGNED, at, actor.role, actor.id, note=note, public=False,
                            data={"from": self.department, "to": department})
        self.department = department
        return self.record(event)

    def add_supporter(self, resident_id: int, at: datetime) -> TicketEvent | None:
        """A resident says "me too": follow the ticket and raise its priority. None if already following."""
        if resident_id == self.reporter_id or resident_id in self.supporters:
            return None
        if not self.is_open:
            raise DomainError(f"{self.ref} is {self.status}; it cannot be followed any more")
        self.supporters.add(resident_id)
        self.priority += 1
        return self.record(TicketEvent(EventKind.SUPPORTED, at, Role.RESIDENT, str(resident_id), public=False,
                                       data={"supporters": len(self.supporters)}))

    def add_note(self, actor: Actor, at: datetime, note: str, public: bool = False) -> TicketEvent:
        if not note.strip():
            raise DomainError(f"{self.ref}: an empty note says nothing")
        return self.record(TicketEvent(EventKind.NOTE, at, actor.role, actor.id, note=note, public=public))

    def forget(self, resident_id: int, at: datetime) -> TicketEvent | None:
        """A resident erased their data: drop their link to this ticket, as reporter or supporter."""
        if resident_id == self.reporter_id:
            self.reporter_id = None
        elif resident_id in self.supporters:
            self.supporters.discard(resident_id)
        else:
            return None
        return self.record(TicketEvent(EventKind.ANONYMISED, at, Role.RESIDENT, None, public=False))

    def anonymise(self, at: datetime) -> TicketEvent:
        """Remove the link to the person who reported and followed it; the ticket itself stays."""
        self.reporter_id = None
        self.supporters.clear()
        return self.record(TicketEvent(EventKind.ANONYMISED, at, Role.SYSTEM, None, public=False))

"""The interfaces the adapters implement. core/ depends on these, never on the adapters."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Protocol

from core.tickets import Status, Ticket


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""


# --- NLU -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entity:
    name: str        # e.g. "ticket_ref"
    value: str
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class IntentScore:
    intent: str      # e.g. "report_pothole", "check_status", "cancel"
    confidence: float


@dataclass(frozen=True)
class Understanding:
    """What the NLU made of a message. `intent` is None when nothing was understood (or NLU is down)."""
    intent: str | None
    confidence: float = 0.0
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[Entity, ...] = ()
    language: str | None = None
    available: bool = True   # False when the NLU could not be asked (down, timed out, circuit open)


class NLU(Protocol):
    async def understand(self, text: str) -> Understanding: ...


# --- Persistence -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class NearbyReport:
    """An open report near a place, as the duplicate check offers it to a resident ("the same problem?")."""
    ref: str
    category: str
    status: Status
    address: str | None
    reporter_id: int | None
    supporter_count: int


@dataclass
class Resident:
    """A person who writes to the helpline. Personal data: chat id, name, phone (if shared), language."""
    telegram_id: int | None
    name: str | None = None
    language: str | None = None          # explicit choice; None until they choose
    created_at: datetime | None = None
    id: int | None = None


@dataclass
class StaffMember:
    telegram_id: int
    role: str                            # "staff" | "head" | "ombudsman" | "admin" | "operator"
    department: str | None = None        # for staff and head
    name: str | None = None
    id: int | None = None


@dataclass
class Notification:
    """A row of the transactional outbox: one message to one chat, delivered by the scheduler."""
    chat_id: int
    kind: str                            # message key, e.g. "status_changed"
    payload: dict = field(default_factory=dict)
    ticket_ref: str | None = None
    language: str = "en"
    created_at: datetime | None = None
    not_before: datetime | None = None
    attempts: int = 0
    status: str = "pending"              # pending | sent | failed
    sent_message_id: int | None = None
    last_error: str | None = None
    id: int | None = None


@dataclass
class Escalation:
    ticket_ref: str
    reason: str                          # overdue | disputed | reopened_twice | complaint
    opened_at: datetime
    deadline: datetime | None = None
    level: str = "ombudsman"             # head | ombudsman
    decision: str | None = None          # explain | uphold | reopen | reassign; settled (a head's, by the sweep)
    decided_at: datetime | None = None
    note: str | None = None
    decided_by: str | None = None        # the Telegram id (or CLI user) of who decided
    department: str | None = None        # the department concerned (the head's, for level "head")
    id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.decision is None


class TicketRepository(Protocol):
    def add(self, ticket: Ticket) -> None: ...
    def get(self, ref: str) -> Ticket | None: ...
    def save(self, ticket: Ticket) -> None: ...
    def next_number(self, prefix: str, year: int) -> int: ...
    def list(self, *, status: Iterable[Status] | None = None, department: str | None = None,
             reporter_id: int | None = None, limit: int = 100) -> list[Ticket]: ...
    def of_resident(self, resident_id: int) -> list[Ticket]:
        """Tickets the resident reported or follows."""
    def nearby(self, category: str, lat: float, lon: float, radius_m: float,
               statuses: Iterable[Status] | None = None) -> list[tuple[NearbyReport, float]]:
        """Reports of `category` within `radius_m` metres, nearest first, with their distance: one query."""
    def filed_by(self, telegram_id: int, since: datetime) -> list[datetime]:
        """When the resident writing from this chat filed each of their reports since `since` (one query)."""


class ResidentRepository(Protocol):
    def get(self, resident_id: int) -> Resident | None: ...
    def by_telegram_id(self, telegram_id: int) -> Resident | None: ...
    def add(self, resident: Resident) -> None: ...
    def register(self, telegram_id: int, name: str | None) -> Resident:
        """The resident of this chat, added if new, renamed if `name` is given: one statement."""
    def set_language(self, resident_id: int, language: str) -> bool:
        """One statement; False when there is no such resident."""
    def save(self, resident: Resident) -> None: ...
    def delete(self, resident_id: int) -> None: ...


class StaffRepository(Protocol):
    def add(self, member: StaffMember) -> None: ...
    def remove(self, telegram_id: int, role: str | None = None, department: str | None = None) -> int: ...
    def list(self, department: str | None = None) -> list[StaffMember]: ...
    def roles_of(self, telegram_id: int) -> list[StaffMember]: ...


@dataclass(frozen=True)
class Opening:
    """What handling a message in a resident's chat starts with: whether Telegram delivered this update before
    (it was handled), the resident writing from the chat (None before their first message) and the conversation's
    state (None when there is none). `update_id`: the update being handled, which storing the conversation's next
    state marks as handled (ConversationRepository.store), None when something else marks it."""
    seen: bool
    resident: Resident | None
    state: dict | None
    update_id: int | None = None


class ConversationRepository(Protocol):
    def load(self, chat_id: int) -> dict | None: ...
    def opening(self, chat_id: int, update_id: int) -> Opening:
        """The three reads of every resident message in one statement (one round trip to a database server)."""
    def store(self, chat_id: int, state: dict, handled_update: int | None = None) -> None:
        """Save the conversation's state; with `handled_update`, also mark that Telegram update as handled (in the
        same statement where the database allows it)."""
    def delete(self, chat_id: int) -> None: ...


class OutboxRepository(Protocol):
    def add(self, notification: Notification) -> None: ...
    def due(self, now: datetime, limit: int = 100, *, claim_for: timedelta | None = None) -> list[Notification]:
        """Pending notifications whose time has come; with `claim_for`, claimed for that long (SKIP LOCKED)."""
    def save(self, notification: Notification) -> None: ...
    def get(self, notification_id: int) -> Notification | None: ...
    def sent_as(self, chat_id: int, message_id: int, kinds: Iterable[str]) -> Notification | None:
        """The notification of one of these kinds that became this Telegram message (its chat and message id), so
        that a reply to the message is known for what it answers."""
    def already(self, chat_id: int, kind: str, since: datetime) -> bool:
        """Whether a notification of this kind to this chat was written at or after `since`."""
    def failed(self, limit: int = 100) -> list[Notification]: ...
    def retry(self, ids: list[int] | None = None) -> int: ...
    def counts(self) -> dict[str, int]: ...


class EscalationRepository(Protocol):
    def add(self, escalation: Escalation) -> None: ...
    def list(self, open_only: bool = False) -> list[Escalation]: ...
    def for_ticket(self, ref: str) -> list[Escalation]: ...
    def save(self, escalation: Escalation) -> None: ...


class ChatDirectory(Protocol):
    """Group chats bound at run time (`helpline chats set`): keys "department:<key>", "ombudsman", "operators"."""
    def get(self, key: str) -> int | None: ...
    def set(self, key: str, chat_id: int) -> None: ...
    def remove(self, key: str) -> bool: ...
    def all(self) -> dict[str, int]: ...


class ProcessedUpdates(Protocol):
    def seen(self, update_id: int) -> bool: ...
    def first_time(self, update_id: int, at: datetime) -> bool: ...


class UnitOfWork(Protocol):
    """One transaction over all repositories: `with uow: ...; uow.commit()`. Leaving without commit rolls back."""
    tickets: TicketRepository
    residents: ResidentRepository
    staff: StaffRepository
    conversations: ConversationRepository
    outbox: OutboxRepository
    escalations: EscalationRepository
    updates: ProcessedUpdates
    chats: ChatDirectory

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """A fresh unit of work per call. `autocommit=True`: each statement is its own transaction (commit and rollback
    do nothing), for a unit of one statement, or of reads that need not see one moment: on a database server it
    saves the round trips of BEGIN and COMMIT."""

    def __call__(self, *, autocommit: bool = False) -> UnitOfWork: ...


# --- Places ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    address: str


class GeocodingUnavailable(Exception):
    """The geocoding service could not be asked (down, timed out, refused)."""


class Geocoder(Protocol):
    """Addresses <-> coordinates within the municipality. None means: not found."""

    async def geocode(self, query: str) -> Place | None: ...

    async def reverse(self, lat: float, lon: float) -> str | None: ...


# --- Handovers to a human operator -----------------------------------------------------------------

@dataclass
class Handover:
    """A resident who asked to talk to a person at the citizen's line, and where that conversation stands."""
    resident_id: int
    chat_id: int                         # the resident's Telegram chat
    language: str
    requested_at: datetime
    status: str = "waiting"              # waiting | claimed | awaiting_place | ended | ticketed
    operator_id: int | None = None       # the Telegram id of the operator who claimed it
    operator_name: str | None = None     # their first name (shown to the resident only if the profile allows)
    claimed_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None          # resident | operator
    ticket_ref: str | None = None
    id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status in ("waiting", "claimed", "awaiting_place")


@dataclass
class HandoverMessage:
    """One message of a handover, stored before it is relayed, so nothing is lost if a chat is unreachable."""
    handover_id: int
    sender: str                          # resident | operator
    at: datetime
    text: str = ""
    photo: str | None = None             # a Telegram file id
    lat: float | None = None
    lon: float | None = None
    operator_id: int | None = None
    id: int | None = None


class HandoverRepository(Protocol):
    def add(self, handover: Handover) -> None: ...
    def get(self, handover_id: int) -> Handover | None: ...
    def save(self, handover: Handover) -> None: ...
    def open_for_chat(self, chat_id: int) -> Handover | None: ...
    def waiting(self) -> list[Handover]:
        """Open handovers no operator has claimed yet, oldest first."""
    def add_message(self, message: HandoverMessage) -> None: ...
    def messages(self, handover_id: int) -> list[HandoverMessage]: ...
    def undelivered(self, now: datetime, limit: int = 20) -> list[Notification]:
        """Pending outbox rows of handovers, oldest first, whatever their not_before (none a deliverer holds)."""

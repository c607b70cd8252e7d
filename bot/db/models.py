"""The helpline's tables. Alembic migrations (bot/db/migrations) create them; nothing else does."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, MetaData,
                        String, Text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STAFF_ROLES = ("staff", "head", "ombudsman", "admin", "operator")
OUTBOX_STATUSES = ("pending", "sent", "failed")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict: JSON()}


class ResidentRow(Base):
    __tablename__ = "residents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]


class StaffRow(Base):
    __tablename__ = "staff"
    __table_args__ = (CheckConstraint(_one_of("role", STAFF_ROLES), name="role"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    role: Mapped[str] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index(None, "status", "department", "resolve_due"),
        Index(None, "category", "status", "lat", "lon"),     # the nearby-duplicate search (open ones)
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    municipality: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), index=True)
    department: Mapped[str | None] = mapped_column(String(64))
    outside_body: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ack_due: Mapped[datetime | None]
    resolve_due: Mapped[datetime | None]
    reject_reason: Mapped[str | None] = mapped_column(String(32))
    duplicate_of: Mapped[str | None] = mapped_column(String(32))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer)
    # The scheduler's marks: when it was fixed, when the resident was asked, which reminders went out.
    fixed_at: Mapped[datetime | None]
    asked_at: Mapped[datetime | None]
    ack_reminded_at: Mapped[datetime | None]
    resolve_reminded_at: Mapped[datetime | None]
    scheduled_for: Mapped[datetime | None]
    breach_level: Mapped[int] = mapped_column(Integer, server_default="0")

    photos: Mapped[list[TicketPhotoRow]] = relationship(
        order_by="TicketPhotoRow.position", cascade="all, delete-orphan", passive_deletes=True)
    supporters: Mapped[list[TicketSupporterRow]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    events: Mapped[list[TicketEventRow]] = relationship(order_by="TicketEventRow.id", cascade="save-update, merge")

    __mapper_args__ = {"version_id_col": version}


class TicketPhotoRow(Base):
    __tablename__ = "ticket_photos"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    file_id: Mapped[str] = mapped_column(Text)
    file_unique_id: Mapped[str | None] = mapped_column(String(128))


class TicketSupporterRow(Base):
    __tablename__ = "ticket_supporters"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)


class TicketEventRow(Base):
    """The audit trail: rows are inserted, never updated."""
    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[dict]


class TicketCounterRow(Base):
    """The last reference number given out per prefix and year."""
    __tablename__ = "ticket_counters"
    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(Integer)


class ConversationRow(Base):
    __tablename__ = "conversations"
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    state: Mapped[dict]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index(None, "status", "not_before"),
        Index(None, "chat_id", "sent_message_id"),       # which notification a group message is (a reply's)
        CheckConstraint(_one_of("status", OUTBOX_STATUSES), name="status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict]
    ticket_ref: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    not_before: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_until: Mapped[datetime | None]


class EscalationRow(Base):
    __tablename__ = "escalations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_ref: Mapped[str] = mapped_column(ForeignKey("tickets.ref"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime]
    deadline: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(64))   # the department asked to explain, for head level


class ChatBindingRow(Base):
    """Group chats bound with the CLI (a department's, the ombudsman's), overriding the profile's ids."""
    __tablename__ = "chat_bindings"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class ProcessedUpdateRow(Base):
    """Telegram updates already handled, so a redelivered update is not handled twice."""
    __tablename__ = "processed_updates"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(index=True)


HANDOVER_STATUSES = ("waiting", "claimed", "awaiting_place", "ended", "ticketed")


class HandoverRow(Base):
    """A resident passed to a person at the citizen's line. Which group message belongs to which handover is
    read from the outbox rows that relayed it (payload "handover", sent_message_id)."""
    __tablename__ = "handovers"
    __table_args__ = (CheckConstraint(_one_of("status", HANDOVER_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_at: Mapped[datetime]
    operator_id: Mapped[int | None] = mapped_column(BigInteger)
    operator_name: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(16))
    ticket_ref: Mapped[str | None] = mapped_column(String(32))


class HandoverMessageRow(Base):
    """What the resident and the operators wrote during a handover, stored before it is relayed."""
    __tablename__ = "handover_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    operator_id: Mapped[int | None] = mapped_column(BigInteger)

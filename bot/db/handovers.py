"""Handovers to a human operator and their messages. Which group message belongs to which handover is the outbox's
to say (SqlOutboxRepository.sent_as)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.db.models import HandoverMessageRow, HandoverRow, OutboxRow
from core.ports import Handover, HandoverMessage, Notification

OPEN = ("waiting", "claimed", "awaiting_place")


class SqlHandoverRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, handover: Handover) -> None:
        row = HandoverRow()
        _write(row, handover)
        self.session.add(row)
        self.session.flush()
        handover.id = row.id

    def get(self, handover_id: int) -> Handover | None:
        row = self.session.get(HandoverRow, handover_id)
        return _handover(row) if row else None

    def save(self, handover: Handover) -> None:
        row = self.session.get(HandoverRow, handover.id)
        if row is None:
            raise LookupError(f"no handover {handover.id}")
        _write(row, handover)
        self.session.flush()

    def open_for_chat(self, chat_id: int) -> Handover | None:
        query = (select(HandoverRow).where(HandoverRow.chat_id == chat_id, HandoverRow.status.in_(OPEN))
                 .order_by(HandoverRow.id.desc()).limit(1))
        row = self.session.scalars(query).first()
        return _handover(row) if row else None

    def waiting(self) -> list[Handover]:
        query = select(HandoverRow).where(HandoverRow.status == "waiting").order_by(HandoverRow.requested_at,
                                                                                    HandoverRow.id)
        return [_handover(row) for row in self.session.scalars(query)]

    def add_message(self, message: HandoverMessage) -> None:
        row = HandoverMessageRow(handover_id=message.handover_id, sender=message.sender, at=message.at,
                                 text=message.text, photo=message.photo, lat=message.lat, lon=message.lon,
                                 operator_id=message.operator_id)
        self.session.add(row)
        self.session.flush()
        message.id = row.id

    def messages(self, handover_id: int) -> list[HandoverMessage]:
        query = (select(HandoverMessageRow).where(HandoverMessageRow.handover_id == handover_id)
                 .order_by(HandoverMessageRow.id))
        return [HandoverMessage(r.handover_id, r.sender, r.at, r.text, r.photo, r.lat, r.lon, r.operator_id, r.id)
                for r in self.session.scalars(query)]

    def undelivered(self, now: datetime, limit: int = 20) -> list[Notification]:
        query = (select(OutboxRow).where(OutboxRow.status == "pending", OutboxRow.kind.like("handover_%"))
                 .where(or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until <= now))
                 .order_by(OutboxRow.id).limit(limit))
        return [_notification(row) for row in self.session.scalars(query)]


def _notification(r: OutboxRow) -> Notification:
    return Notification(chat_id=r.chat_id, kind=r.kind, payload=dict(r.payload), ticket_ref=r.ticket_ref,
                        language=r.language, created_at=r.created_at, not_before=r.not_before, attempts=r.attempts,
                        status=r.status, sent_message_id=r.sent_message_id, last_error=r.last_error, id=r.id)


def _write(row: HandoverRow, h: Handover) -> None:
    row.resident_id, row.chat_id, row.language, row.status = h.resident_id, h.chat_id, h.language, h.status
    row.requested_at, row.operator_id, row.operator_name = h.requested_at, h.operator_id, h.operator_name
    row.claimed_at, row.ended_at, row.ended_by, row.ticket_ref = h.claimed_at, h.ended_at, h.ended_by, h.ticket_ref


def _handover(row: HandoverRow) -> Handover:
    return Handover(resident_id=row.resident_id, chat_id=row.chat_id, language=row.language,
                    requested_at=row.requested_at, status=row.status, operator_id=row.operator_id,
                    operator_name=row.operator_name, claimed_at=row.claimed_at, ended_at=row.ended_at,
                    ended_by=row.ended_by, ticket_ref=row.ticket_ref, id=row.id)

"""Repositories over the helpline's tables, mapping rows to the core dataclasses (see core/ports.py)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, literal, or_, select, update
from sqlalchemy.orm import Session

from core.ports import Clock, Escalation, Notification, Opening, Resident, StaffMember
from bot.db.models import (ChatBindingRow, ConversationRow, EscalationRow, OutboxRow, ProcessedUpdateRow,
                           ResidentRow, StaffRow)
from bot.db.tickets import SqlTicketRepository
from bot.db.upsert import built_once

__all__ = ["SqlTicketRepository", "SqlResidentRepository", "SqlStaffRepository", "SqlConversationRepository",
           "SqlOutboxRepository", "SqlEscalationRepository", "SqlProcessedUpdates"]

# Every resident message reads or writes these rows. The statements are built once (a statement built per call
# cost more than the query itself), and they read columns rather than ORM objects nothing would change.
_residents, _conversations, _updates = ResidentRow.__table__.c, ConversationRow.__table__.c, \
    ProcessedUpdateRow.__table__.c
_RESIDENT = select(_residents.id, _residents.telegram_id, _residents.name, _residents.language,
                   _residents.created_at)
_RESIDENT_BY_ID = _RESIDENT.where(_residents.id == bindparam("resident_id"))
_RESIDENT_BY_TELEGRAM_ID = _RESIDENT.where(_residents.telegram_id == bindparam("telegram_id"))
_RESIDENT_SAVE = update(ResidentRow.__table__).where(_residents.id == bindparam("resident_id")).values(
    telegram_id=bindparam("new_telegram_id"), name=bindparam("new_name"), language=bindparam("new_language"))
_CONVERSATION_STATE = select(_conversations.state).where(_conversations.chat_id == bindparam("chat_id"))
_UPDATE_SEEN = select(_updates.update_id).where(_updates.update_id == bindparam("update_id"))
# One row whatever exists: the update's mark and the conversation's state as subqueries, the resident (if any)
# joined to a constant row.
_ONE = select(literal(1).label("one")).subquery("one")
_OPENING = select(_UPDATE_SEEN.exists().label("seen"), _CONVERSATION_STATE.scalar_subquery().label("state"),
                  *_RESIDENT.selected_columns).select_from(
    _ONE.outerjoin(ResidentRow.__table__, _residents.telegram_id == bindparam("chat_id")))


def _conversation_upsert(insert):
    table = ConversationRow.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(index_elements=[table.c.chat_id], set_={
        "state": statement.excluded.state, "updated_at": statement.excluded.updated_at,
        "version": table.c.version + 1})


def _resident_register(insert):
    table = ResidentRow.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(index_elements=[table.c.telegram_id], set_={
        "name": func.coalesce(statement.excluded.name, table.c.name)}).returning(*_RESIDENT.selected_columns)


_RESIDENT_LANGUAGE = update(ResidentRow.__table__).where(_residents.id == bindparam("resident_id")).values(
    language=bindparam("new_language"))


def _conversation_upsert_marking(insert):
    """The conversation's upsert and, in a CTE of the same statement, the update's mark (PostgreSQL only)."""
    table = ProcessedUpdateRow.__table__
    mark = insert(table).values(update_id=bindparam("update_id"), processed_at=bindparam("processed_at")) \
        .on_conflict_do_nothing(index_elements=[table.c.update_id]).cte("mark")
    return _conversation_upsert(insert).add_cte(mark)


def _update_first_time(insert):
    table = ProcessedUpdateRow.__table__
    return insert(table).on_conflict_do_nothing(index_elements=[table.c.update_id]).returning(table.c.update_id)


class SqlResidentRepository:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session, self.clock = session, clock

    def get(self, resident_id: int) -> Resident | None:
        row = self.session.execute(_RESIDENT_BY_ID, {"resident_id": resident_id}).one_or_none()
        return _resident(row) if row else None

    def by_telegram_id(self, telegram_id: int) -> Resident | None:
        row = self.session.execute(_RESIDENT_BY_TELEGRAM_ID, {"telegram_id": telegram_id}).one_or_none()
        return _resident(row) if row else None

    def add(self, resident: Resident) -> None:
        resident.created_at = resident.created_at or self.clock.now()
        row = ResidentRow(telegram_id=resident.telegram_id, name=resident.name, language=resident.language,
                          created_at=resident.created_at)
        self.session.add(row)
        self.session.flush()
        resident.id = row.id

    def register(self, telegram_id: int, name: str | None) -> Resident:
        """The resident of this chat, added if new, with this name if one is given: one statement."""
        statement = built_once(self.session, _resident_register)
        return _resident(self.session.execute(statement, {"telegram_id": telegram_id, "name": name,
                                                          "created_at": self.clock.now()}).one())

    def set_language(self, resident_id: int, language: str) -> bool:
        """False when there is no such resident."""
        return bool(self.session.execute(_RESIDENT_LANGUAGE, {"resident_id": resident_id,
                                                              "new_language": language}).rowcount)

    def save(self, resident: Resident) -> None:
        self.session.flush()
        values = {"resident_id": resident.id, "new_telegram_id": resident.telegram_id, "new_name": resident.name,
                  "new_language": resident.language}
        if resident.id is None or not self.session.execute(_RESIDENT_SAVE, values).rowcount:
            raise LookupError(f"no resident with id {resident.id}; add it first")
        _forget(self.session, ResidentRow, resident.id)

    def delete(self, resident_id: int) -> None:
        """Forget a resident: their tickets stay, without a reporter; they follow nothing any more."""
        self.session.flush()
        self.session.execute(delete(ResidentRow).where(ResidentRow.id == resident_id),
                             execution_options={"synchronize_session": False})
        self.session.expire_all()


def _resident(row) -> Resident:
    """From a ResidentRow or a row of its columns."""
    return Resident(telegram_id=row.telegram_id, name=row.name, language=row.language,
                    created_at=row.created_at, id=row.id)


class SqlStaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, member: StaffMember) -> None:
        """Give a person a role (in a department); giving the same role twice keeps one."""
        row = self.session.scalars(self._same(member.telegram_id, member.role, member.department)).first()
        if row is None:
            row = StaffRow(telegram_id=member.telegram_id, role=member.role, department=member.department)
            self.session.add(row)
        row.name = member.name if member.name is not None else row.name
        self.session.flush()
        member.id = row.id

    def remove(self, telegram_id: int, role: str | None = None, department: str | None = None) -> int:
        """Take roles away; returns how many were removed."""
        rows = list(self.session.scalars(self._same(telegram_id, role, department, match_any=True)))
        for row in rows:
            self.session.delete(row)
        self.session.flush()
        return len(rows)

    def list(self, department: str | None = None) -> list[StaffMember]:
        query = select(StaffRow).order_by(StaffRow.department, StaffRow.role, StaffRow.telegram_id)
        if department is not None:
            query = query.where(StaffRow.department == department)
        return [_member(row) for row in self.session.scalars(query)]

    def roles_of(self, telegram_id: int) -> list[StaffMember]:
        query = select(StaffRow).where(StaffRow.telegram_id == telegram_id).order_by(StaffRow.id)
        return [_member(row) for row in self.session.scalars(query)]

    @staticmethod
    def _same(telegram_id: int, role: str | None, department: str | None, match_any: bool = False):
        query = select(StaffRow).where(StaffRow.telegram_id == telegram_id)
        if role is not None or not match_any:
            query = query.where(StaffRow.role == role)
        if department is not None:
            query = query.where(StaffRow.department == department)
        elif not match_any:
            query = query.where(StaffRow.department.is_(None))
        return query


def _member(row: StaffRow) -> StaffMember:
    return StaffMember(telegram_id=row.telegram_id, role=row.role, department=row.department, name=row.name,
                       id=row.id)


class SqlConversationRepository:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session, self.clock = session, clock

    def load(self, chat_id: int) -> dict | None:
        state = self.session.execute(_CONVERSATION_STATE, {"chat_id": chat_id}).scalar_one_or_none()
        return dict(state) if state is not None else None

    def opening(self, chat_id: int, update_id: int) -> Opening:
        row = self.session.execute(_OPENING, {"chat_id": chat_id, "update_id": update_id}).one()
        resident = _resident(row) if row.id is not None else None
        return Opening(bool(row.seen), resident, dict(row.state) if row.state is not None else None, update_id)

    def store(self, chat_id: int, state: dict, handled_update: int | None = None) -> None:
        now = self.clock.now()
        values = {"chat_id": chat_id, "state": state, "updated_at": now, "version": 1}
        if handled_update is not None and self.session.get_bind().dialect.name == "postgresql":
            statement = built_once(self.session, _conversation_upsert_marking)
            self.session.execute(statement, {**values, "update_id": handled_update, "processed_at": now})
        else:
            self.session.execute(built_once(self.session, _conversation_upsert), values)
            if handled_update is not None:
                SqlProcessedUpdates(self.session).first_time(handled_update, now)
        _forget(self.session, ConversationRow, chat_id)

    def delete(self, chat_id: int) -> None:
        self.session.execute(delete(ConversationRow).where(ConversationRow.chat_id == chat_id),
                             execution_options={"synchronize_session": False})
        _forget(self.session, ConversationRow, chat_id)


class SqlOutboxRepository:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session, self.clock = session, clock

    def add(self, notification: Notification) -> None:
        notification.created_at = notification.created_at or self.clock.now()
        row = OutboxRow()
        _write_notification(row, notification)
        self.session.add(row)
        self.session.flush()
        notification.id = row.id

    def due(self, now: datetime, limit: int = 100, *, claim_for: timedelta | None = None) -> list[Notification]:
        """Pending notifications whose time has come, oldest first.

        With `claim_for`, the rows are claimed until now + claim_for: other deliverers skip them meanwhile
        (commit the unit of work to publish the claim)."""
        query = (select(OutboxRow)
                 .where(OutboxRow.status == "pending")
                 .where(or_(OutboxRow.not_before.is_(None), OutboxRow.not_before <= now))
                 .where(or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until <= now))
                 .order_by(OutboxRow.created_at, OutboxRow.id).limit(limit))
        if claim_for is not None:
            query = query.with_for_update(skip_locked=True)
        rows = list(self.session.scalars(query))
        for row in rows if claim_for is not None else ():
            row.claimed_until = now + claim_for
        self.session.flush()
        return [_notification(row) for row in rows]

    def get(self, notification_id: int) -> Notification | None:
        row = self.session.get(OutboxRow, notification_id)
        return _notification(row) if row else None

    def sent_as(self, chat_id: int, message_id: int, kinds: Iterable[str]) -> Notification | None:
        """The notification of one of these kinds that became this Telegram message (its chat and message id)."""
        query = (select(OutboxRow).where(OutboxRow.chat_id == chat_id, OutboxRow.sent_message_id == message_id,
                                         OutboxRow.kind.in_(tuple(kinds)))
                 .order_by(OutboxRow.id.desc()).limit(1))
        row = self.session.scalars(query).first()
        return _notification(row) if row else None

    def already(self, chat_id: int, kind: str, since: datetime) -> bool:
        """Whether a notification of this kind to this chat was written at or after `since`."""
        query = (select(OutboxRow.id).where(OutboxRow.chat_id == chat_id, OutboxRow.kind == kind,
                                            OutboxRow.created_at >= since).limit(1))
        return self.session.scalars(query).first() is not None

    def failed(self, limit: int = 100) -> list[Notification]:
        """Notifications given up on, newest first (`helpline outbox failed`)."""
        query = select(OutboxRow).where(OutboxRow.status == "failed").order_by(OutboxRow.id.desc()).limit(limit)
        return [_notification(row) for row in self.session.scalars(query)]

    def retry(self, ids: list[int] | None = None) -> int:
        """Put failed notifications (these, or all) back in the queue with a fresh count of attempts."""
        query = select(OutboxRow).where(OutboxRow.status == "failed")
        if ids is not None:
            query = query.where(OutboxRow.id.in_(ids))
        rows = list(self.session.scalars(query))
        for row in rows:
            row.status, row.attempts, row.not_before, row.claimed_until = "pending", 0, None, None
        self.session.flush()
        return len(rows)

    def counts(self) -> dict[str, int]:
        """How many notifications are pending, sent and failed."""
        query = select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
        return {status: 0 for status in ("pending", "sent", "failed")} | dict(self.session.execute(query).all())

    def save(self, notification: Notification) -> None:
        """Record a delivery attempt's outcome; this ends any claim on the row."""
        row = _existing(self.session, OutboxRow, notification.id, "notification")
        _write_notification(row, notification)
        row.claimed_until = None


def _write_notification(row: OutboxRow, n: Notification) -> None:
    row.chat_id, row.kind, row.payload, row.ticket_ref = n.chat_id, n.kind, dict(n.payload), n.ticket_ref
    row.language, row.created_at, row.not_before = n.language, n.created_at, n.not_before
    row.attempts, row.status, row.sent_message_id, row.last_error = n.attempts, n.status, n.sent_message_id, \
        n.last_error


def _notification(row: OutboxRow) -> Notification:
    return Notification(
        chat_id=row.chat_id, kind=row.kind, payload=dict(row.payload), ticket_ref=row.ticket_ref,
        language=row.language, created_at=row.created_at, not_before=row.not_before, attempts=row.attempts,
        status=row.status, sent_message_id=row.sent_message_id, last_error=row.last_error, id=row.id)


class SqlEscalationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, escalation: Escalation) -> None:
        row = EscalationRow()
        _write_escalation(row, escalation)
        self.session.add(row)
        self.session.flush()
        escalation.id = row.id

    def list(self, open_only: bool = False) -> list[Escalation]:
        query = select(EscalationRow).order_by(EscalationRow.opened_at, EscalationRow.id)
        if open_only:
            query = query.where(EscalationRow.decision.is_(None))
        return [_escalation(row) for row in self.session.scalars(query)]

    def for_ticket(self, ref: str) -> list[Escalation]:
        query = select(EscalationRow).where(EscalationRow.ticket_ref == ref).order_by(EscalationRow.opened_at,
                                                                                      EscalationRow.id)
        return [_escalation(row) for row in self.session.scalars(query)]

    def save(self, escalation: Escalation) -> None:
        _write_escalation(_existing(self.session, EscalationRow, escalation.id, "escalation"), escalation)


def _write_escalation(row: EscalationRow, e: Escalation) -> None:
    row.ticket_ref, row.reason, row.level, row.opened_at = e.ticket_ref, e.reason, e.level, e.opened_at
    row.deadline, row.decision, row.decided_at, row.note = e.deadline, e.decision, e.decided_at, e.note
    row.decided_by, row.department = e.decided_by, e.department


def _escalation(row: EscalationRow) -> Escalation:
    return Escalation(ticket_ref=row.ticket_ref, reason=row.reason, opened_at=row.opened_at,
                      deadline=row.deadline, level=row.level, decision=row.decision, decided_at=row.decided_at,
                      note=row.note, decided_by=row.decided_by, department=row.department, id=row.id)


class SqlChatDirectory:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session, self.clock = session, clock

    def get(self, key: str) -> int | None:
        row = self.session.get(ChatBindingRow, key)
        return row.chat_id if row else None

    def set(self, key: str, chat_id: int) -> None:
        row = self.session.get(ChatBindingRow, key)
        if row is None:
            self.session.add(ChatBindingRow(key=key, chat_id=chat_id, updated_at=self.clock.now()))
        else:
            row.chat_id, row.updated_at = chat_id, self.clock.now()
        self.session.flush()

    def remove(self, key: str) -> bool:
        return bool(self.session.execute(delete(ChatBindingRow).where(ChatBindingRow.key == key)).rowcount)

    def all(self) -> dict[str, int]:
        return {row.key: row.chat_id for row in self.session.scalars(select(ChatBindingRow))}


class SqlProcessedUpdates:
    """Telegram update ids already handled (Telegram redelivers after a crash or a slow answer)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def seen(self, update_id: int) -> bool:
        return self.session.execute(_UPDATE_SEEN, {"update_id": update_id}).first() is not None

    def first_time(self, update_id: int, at: datetime) -> bool:
        """Record the update; False if it was recorded before (then do not handle it again)."""
        statement = built_once(self.session, _update_first_time)
        return self.session.execute(statement, {"update_id": update_id, "processed_at": at}
                                    ).scalar_one_or_none() is not None

    def forget_before(self, cutoff: datetime) -> int:
        result = self.session.execute(delete(ProcessedUpdateRow).where(ProcessedUpdateRow.processed_at < cutoff),
                                      execution_options={"synchronize_session": False})
        return result.rowcount


def _existing(session: Session, model: type, row_id: int | None, what: str):
    row = session.get(model, row_id) if row_id is not None else None
    if row is None:
        raise LookupError(f"no {what} with id {row_id}; add it first")
    return row


def _forget(session: Session, model: type, key: object) -> None:
    """Drop a row the session may hold, after a statement changed it behind the session's back."""
    row = session.identity_map.get(session.identity_key(model, key))
    if row is not None:
        session.expunge(row)

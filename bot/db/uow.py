"""The unit of work: one transaction over every repository."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.ports import Clock
from bot.db.engine import make_session_factory
from bot.db.handovers import SqlHandoverRepository
from bot.db.repositories import (SqlChatDirectory, SqlConversationRepository, SqlEscalationRepository,
                                 SqlOutboxRepository, SqlProcessedUpdates, SqlResidentRepository, SqlStaffRepository,
                                 SqlTicketRepository)


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SqlUnitOfWork:
    """`with uow: ...; uow.commit()`. Leaving the block without commit rolls everything back."""

    def __init__(self, session_factory: Callable[[], Session], clock: Clock | None = None) -> None:
        self._session_factory = session_factory
        self.clock = clock or _UtcClock()
        self.session: Session | None = None

    def __enter__(self) -> SqlUnitOfWork:
        session = self.session = self._session_factory()
        self.tickets = SqlTicketRepository(session)
        self.residents = SqlResidentRepository(session, self.clock)
        self.staff = SqlStaffRepository(session)
        self.conversations = SqlConversationRepository(session, self.clock)
        self.outbox = SqlOutboxRepository(session, self.clock)
        self.escalations = SqlEscalationRepository(session)
        self.updates = SqlProcessedUpdates(session)
        self.chats = SqlChatDirectory(session, self.clock)
        self.handovers = SqlHandoverRepository(session)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.rollback()
        finally:
            self.session.close()
            self.session = None

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


def unit_of_work_factory(engine: Engine | sessionmaker[Session], clock: Clock | None = None, *,
                         message_engine: Engine | None = None) -> Callable[..., SqlUnitOfWork]:
    """What services are given (core.ports.UnitOfWorkFactory): call it for a fresh SqlUnitOfWork on `engine`;
    with autocommit=True, its statements run on a connection in AUTOCOMMIT (no BEGIN, no COMMIT): on
    `message_engine` when given (bot.db.engine.make_message_engine), else on `engine`'s pool."""
    sessions = engine if isinstance(engine, sessionmaker) else make_session_factory(engine)
    bind = sessions.kw.get("bind")
    if message_engine is not None:
        bind = message_engine
    elif isinstance(bind, Engine):
        bind = bind.execution_options(isolation_level="AUTOCOMMIT")
    autocommitting = sessionmaker(**{**sessions.kw, "bind": bind}, class_=sessions.class_) \
        if isinstance(bind, Engine) else None

    def make(*, autocommit: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(autocommitting if autocommit and autocommitting else sessions, clock)
    return make

"""A whole helpline under attack: the real python-telegram-bot Application from bot/app.py, its Bot API calls
going over HTTP to the fake Telegram, and updates fed one at a time with `application.process_update`.

Synchronous on purpose: hypothesis drives many examples through one world (one database, one bot), each
example run to completion on the world's own event loop.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from telegram import Update

from bot import app as composition
from bot.delivery import Deliverer
from core.handover import Handovers
from core.ports import StaffMember
from core.services import Report
from core.tickets import Location
from tests.support.clock import FixedClock
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import T0
from tests.support.telegram_bot import settings_for

LIGHTING, TECHNICAL, OPERATORS, OMBUDSMAN, ELSEWHERE = -1001001, -1001002, -1009001, -1008001, -1003003
ANNA, KOSTAS, ELENI, OLGA, STRANGER = 2001, 2004, 7001, 8001, 9001
REPORTER, ASKER = 5001, 5002                   # the reporter of the tickets; a resident waiting for a person
RESIDENTS = (5003, 5004, 5005)                 # residents the properties write as
CENTRE = (40.3007, 21.7887)


class Errors(logging.Handler):
    """Every ERROR logged while the world runs (the bot's error handler logs every exception it catches)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        found = [f"{r.name}: {r.getMessage()} {r.exc_info[1]!r}" if r.exc_info else f"{r.name}: {r.getMessage()}"
                 for r in self.records]
        self.records.clear()
        return found


@dataclass
class World:
    loop: asyncio.AbstractEventLoop
    tg: FakeTelegram
    app: composition.App
    application: object
    errors: Errors
    refs: dict[str, str] = field(default_factory=dict)        # department -> its ticket's reference
    escalation: int = 0
    handover: int = 0
    checked_calls: int = 0

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def feed(self, update: dict) -> None:
        """Give the bot one update exactly as it would arrive, and wait until it has been handled."""
        self.run(self.application.process_update(Update.de_json(update, self.application.bot)))

    def refused_calls(self) -> list[str]:
        """Bot API calls the fake (Telegram's rules) refused since the last look."""
        calls = self.tg.calls[self.checked_calls:]
        self.checked_calls = len(self.tg.calls)
        return [f"{c.method} -> {c.status} {c.error}: {c.params}" for c in calls if not c.ok]

    def snapshot(self) -> dict:
        """What a forged action must never change: tickets, escalations, handovers, staff, chat bindings."""
        h = self.app.helpline
        with h.uow() as uow:
            tickets = [(t.ref, t.status, t.department, t.priority, len(t.events), sorted(t.supporters),
                        t.resolve_due) for t in uow.tickets.list()]
            escalations = [(e.id, e.decision, e.deadline, e.department) for e in uow.escalations.list()]
            handovers = [(x.id, x.status, x.operator_id) for x in
                         (uow.handovers.get(i) for i in range(1, self.handover + 1)) if x]
            staff = sorted((m.telegram_id, m.role, m.department) for m in uow.staff.list())
            chats = uow.chats.all()
        return {"tickets": tickets, "escalations": escalations, "handovers": handovers, "staff": staff,
                "chats": chats}

    def bot_messages(self, chat: int) -> list:
        return self.tg.messages_to(chat)


def build_world(migrated_url: str) -> World:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    tg = FakeTelegram()
    loop.run_until_complete(tg.start())
    _people(tg)
    settings = settings_for(tg, migrated_url, limit_reports_per_hour=0, limit_messages_per_minute=0)
    app = composition.build(settings, clock=FixedClock(T0))
    application = app.telegram()
    loop.run_until_complete(application.initialize())
    errors = Errors()
    logging.getLogger().addHandler(errors)
    world = World(loop, tg, app, application, errors)
    _staff_and_work(world)
    return world


def close_world(world: World) -> None:
    logging.getLogger().removeHandler(world.errors)
    world.run(world.application.shutdown())
    world.app.close()
    world.run(world.tg.stop())
    world.loop.close()
    asyncio.set_event_loop(None)


def _people(tg: FakeTelegram) -> None:
    for chat, title in ((LIGHTING, "Lighting"), (TECHNICAL, "Technical"), (OPERATORS, "Citizen's line"),
                        (OMBUDSMAN, "Citizen's Advocate"), (ELSEWHERE, "Coffee corner")):
        tg.group(chat, title)
    for user, name in ((ANNA, "Anna"), (KOSTAS, "Kostas"), (ELENI, "Eleni"), (OLGA, "Olga"),
                       (STRANGER, "Mallory")):
        tg.user(user, name, language_code="el")
    for user, lang in zip((REPORTER, ASKER, *RESIDENTS), ("el", "en", "en", "he", "sl")):
        tg.user(user, f"Resident {user}", language_code=lang, started=True)


def _staff_and_work(world: World) -> None:
    """Bound groups, staff, a ticket in each department, an escalation, a handover; their cards delivered."""
    h = world.app.helpline
    for key, chat in (("department:lighting", LIGHTING), ("department:technical", TECHNICAL),
                      ("operators", OPERATORS), ("ombudsman", OMBUDSMAN)):
        h.bind_chat(key, chat)
    for member in (StaffMember(ANNA, "staff", "lighting", "Anna P."), StaffMember(KOSTAS, "staff", "technical"),
                   StaffMember(ELENI, "operator", name="Eleni"), StaffMember(OLGA, "ombudsman", name="Olga")):
        h.add_staff(member)
    reporter = h.resident_for(REPORTER, "Maria")
    for category in ("streetlight", "pothole"):
        ticket = h.file_report(Report(category, "Dark <b>lamp</b> & hole", Location(*CENTRE, "Plateia Nikis 1"),
                                      reporter.id, "el")).ticket
        world.refs[ticket.department] = ticket.ref
    h.complain(world.refs["lighting"], reporter.id, "Nobody came")
    world.escalation = next(e.id for e in _escalations(world))
    world.feed(world.run(world.tg.send_command(ASKER, "/person")))      # the operators' desk relays it at once
    world.handover = Handovers(h).open_for(ASKER).id
    deliverer = Deliverer(h.uow, world.app.clock, world.app.renderers(), world.application.bot)
    world.run(deliverer.deliver_due())
    for chat in (LIGHTING, TECHNICAL, OPERATORS, OMBUDSMAN):
        assert world.bot_messages(chat), f"nothing delivered to {chat}: {world.tg.summary()}"
    for resident in RESIDENTS:                 # each resident has talked to the bot, so it has messages to press
        world.feed(world.run(world.tg.send_command(resident, "/start")))
    assert not world.refused_calls() and not world.errors.take()


def _escalations(world: World):
    with world.app.helpline.uow() as uow:
        return uow.escalations.list()

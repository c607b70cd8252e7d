"""The municipality's side in fault tests: the helpline built on the bot's database, in the test process, for
staff actions and for reading what was stored (as the `helpline` CLI does beside a running bot)."""
from __future__ import annotations

from bot import app as composition
from bot.settings import Settings
from core.services import Report, department_chat
from core.tickets import Actor, Location, Role, Status
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import PROFILES

CLERK = Actor(Role.ADMIN, "fault-test")
NEXT = {Status.NEW: Status.ACKNOWLEDGED, Status.ACKNOWLEDGED: Status.IN_PROGRESS,
        Status.IN_PROGRESS: Status.FIXED}
KOZANI_CENTRE = (40.3007, 21.7887)


def town_hall(tg: FakeTelegram, database_url: str) -> composition.App:
    """The helpline on the same database as the bot, every department's group bound and known to the fake."""
    settings = Settings(profile="kozani", data_dir=PROFILES.parent, database_url=database_url,
                        telegram_token=tg.token, telegram_api_base_url=tg.base_url, rasa="off")
    app = composition.build(settings, upgrade=False)
    for number, key in enumerate(app.profile.departments, start=1):
        group = -1001700000000 - number
        tg.group(group, f"Department {key}")
        app.helpline.bind_chat(department_chat(key), group)
    return app


def file_directly(app: composition.App, tg: FakeTelegram, telegram_id: int, words: str) -> str:
    """A report filed by a resident (as the conversation files it); returns its reference."""
    tg.user(telegram_id, f"Resident {telegram_id}", started=True)
    resident = app.helpline.resident_for(telegram_id, f"Resident {telegram_id}")
    report = Report("streetlight", words, Location(*KOZANI_CENTRE, "Dimokratias 12"), resident.id, "en")
    return app.helpline.file_report(report).ticket.ref


def move_on(app: composition.App, ref: str) -> Status | None:
    """The department takes the ticket one step further (new -> acknowledged -> in progress -> fixed);
    None when it is already fixed. The resident's notification is written to the outbox with the change."""
    ticket = app.helpline.ticket(ref)
    after = NEXT.get(ticket.status)
    if after is None:
        return None
    app.helpline.change_status(ref, after, CLERK, "Done" if after is Status.FIXED else None)
    return after

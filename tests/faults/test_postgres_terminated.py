"""PostgreSQL connections terminated under load (pg_terminate_backend on every connection of the bot's
database, again and again, while residents file reports): no confirmed report is lost or doubled, nothing is
half-filed, residents get their confirmation or a polite "try again", and the bot recovers by itself."""
from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from sqlalchemy import make_url, text

from bot.db.engine import make_engine
from bot.i18n import Translator
from core.dialogue import T
from tests.faults.residents import Reporter
from tests.support.db import POSTGRES_URL
from tests.support.stack import LOCALES
from tests.support.telegram_bot import Resident, running_bot, settings_for

pytestmark = pytest.mark.parametrize("db_backend", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                     indirect=True)
KILLING_FOR_S = 15.0


async def terminate_connections(database: str, stop: asyncio.Event) -> int:
    """Every few hundred milliseconds, end every connection to `database`; returns how many were ended."""
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    ended = 0

    def end_all() -> int:
        with admin.connect() as connection:
            return len(connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db "
                "AND pid <> pg_backend_pid()"), {"db": database}).all())
    try:
        while not stop.is_set():
            ended += await asyncio.to_thread(end_all)
            await asyncio.sleep(random.uniform(0.1, 0.6))
    finally:
        admin.dispose()
    return ended


@pytest.mark.slow
async def test_reports_survive_connections_terminated_under_load(tg, migrated_url):
    async with running_bot(tg, settings_for(tg, migrated_url)) as app:
        translator = Translator(LOCALES, app.profile.calendar.timezone)
        residents = [Reporter(tg, 5400 + n, translator, random.Random(n)) for n in range(4)]
        stop_filing, stop_killing = asyncio.Event(), asyncio.Event()
        filing = [asyncio.create_task(r.keep_reporting(stop_filing)) for r in residents]
        killer = asyncio.create_task(terminate_connections(make_url(migrated_url).database, stop_killing))
        await asyncio.sleep(KILLING_FOR_S)
        stop_killing.set()
        ended = await killer
        await asyncio.sleep(3)
        stop_filing.set()
        await asyncio.gather(*filing)

        late = Resident(tg, 5499, "Eleni", "en", translator)       # the bot has recovered by itself
        await late.say("/start")
        await late.tap("English")
        await late.say("A deep pothole on Dimokratias")       # not a street light: no duplicates to offer
        await late.tap(late.label("category_pothole", "en"))
        await late.location(40.3007, 21.7887)
        await late.tap(late.label("btn_skip", "en"))
        assert late.expected("filed", "en", ref="", department="", due=None)[:20] in \
            await late.tap(late.label("btn_send", "en"))
        tickets = app.helpline.tickets(limit=10_000)

    print(f"\n{ended} connections ended; {len(tickets)} tickets; "
          f"{sum(len(r.confirmed()) for r in residents)} confirmed")
    assert ended > 0
    confirmed = [ref for r in residents for ref in r.confirmed()]
    assert len(confirmed) == len(set(confirmed))
    by_ref = {t.ref: t for t in tickets}
    assert set(confirmed) <= set(by_ref)
    first_lines = Counter(t.description.splitlines()[0] for t in tickets)
    assert max(first_lines.values()) == 1, first_lines.most_common(3)
    assert all(t.events and t.department and t.resolve_due for t in tickets)        # nothing half-filed
    assert [r.gave_up_waiting for r in residents] == [0] * len(residents)    # nobody was left without an answer
    sorry = translator.plain(T("error_generic"), "en")
    print(f"{sum(m.text == sorry for r in residents for m in r.messages())} polite 'try again' answers")

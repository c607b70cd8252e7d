"""`helpline run` killed with SIGKILL at random moments, 20 times, while residents file reports and the
departments' status changes send notifications. Afterwards every report confirmed to a resident exists once,
no report became two tickets, and every notification reached its chat (a message Telegram took just before a
kill may arrive twice: the documented rare duplicate, never a loss)."""
from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.db.models import OutboxRow
from core.dialogue import T
from tests.faults.residents import Reporter
from tests.faults.town import move_on, town_hall
from tests.support.bot_process import bot_environment

RESTARTS = int(os.environ.get("HELPLINE_FAULT_RESTARTS", "20"))
RESIDENTS = 4
LEASE = timedelta(minutes=5)        # bot/delivery.py DeliveryPolicy.lease_s


async def departments_at_work(town, stop: asyncio.Event, rng: random.Random) -> int:
    """Staff move random open tickets one step on, now and then; returns how many changes they made."""
    changes = 0
    while not stop.is_set():
        await asyncio.sleep(rng.uniform(0.3, 0.8))
        tickets = await asyncio.to_thread(town.helpline.tickets)
        if tickets and await asyncio.to_thread(move_on, town, rng.choice(tickets).ref):
            changes += 1
    return changes


async def kill_at_random(bot, tg, rng: random.Random, restarts: int) -> None:
    """Start, let it run for a random while (sometimes not even up to serving), SIGKILL; `restarts` times."""
    for _ in range(restarts):
        bot.start()
        if rng.random() < 0.25:
            await asyncio.sleep(rng.uniform(0.3, 3.0))       # somewhere in start-up
        else:
            await bot.wait_until_polling(tg)
            await asyncio.sleep(rng.uniform(0.1, 2.5))       # while serving
        bot.kill()


def expire_claims_of_dead_processes(town, since: datetime) -> int:
    """Five minutes pass: the claims of killed processes on notifications expire (the live one's stay)."""
    with town.helpline.uow() as uow:
        expired = uow.session.execute(update(OutboxRow).where(OutboxRow.status == "pending",
                                                              OutboxRow.claimed_until < since + LEASE)
                                      .values(claimed_until=None)).rowcount
        uow.commit()
    return expired


def outbox(town) -> list:
    """(id, chat_id, status, sent_message_id, last_error) of every notification."""
    with town.helpline.uow() as uow:
        return list(uow.session.execute(select(OutboxRow.id, OutboxRow.chat_id, OutboxRow.status,
                                               OutboxRow.sent_message_id, OutboxRow.last_error)
                                        .order_by(OutboxRow.id)))


async def all_delivered(town, timeout: float = 45.0) -> list:
    deadline = time.monotonic() + timeout
    while (rows := await asyncio.to_thread(outbox, town)) and any(r.status == "pending" for r in rows):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    return rows


@pytest.mark.slow
async def test_killed_twenty_times_nothing_lost_nothing_doubled(tg, migrated_url, bot_processes):
    rng = random.Random(int(os.environ.get("HELPLINE_FAULT_SEED", "7")))
    town = town_hall(tg, migrated_url)
    bot = bot_processes(bot_environment(tg, migrated_url))
    residents = [Reporter(tg, 8100 + n, town.translator(), random.Random(rng.random())) for n in range(RESIDENTS)]
    stop = asyncio.Event()
    filing = [asyncio.create_task(r.keep_reporting(stop)) for r in residents]
    staff = asyncio.create_task(departments_at_work(town, stop, random.Random(rng.random())))
    try:
        await kill_at_random(bot, tg, rng, RESTARTS)
        last_start = datetime.now(UTC)
        bot.start()
        await bot.wait_until_polling(tg)
        await asyncio.sleep(5)                         # the last life: queued updates answered, work goes on
    finally:
        stop.set()
        await asyncio.gather(*filing)
        changes = await staff
    await asyncio.sleep(2)                             # answers to the residents' last steps
    expire_claims_of_dead_processes(town, last_start)
    rows = await all_delivered(town)
    assert await bot.terminate() == 0, bot.tail()

    tickets = town.helpline.tickets(limit=10_000)
    confirmed = [ref for r in residents for ref in r.confirmed()]
    begun = [words for r in residents for words in r.reports]
    print(f"\n{bot.starts} starts; {len(begun)} reports begun, {len(tickets)} filed, {len(confirmed)} confirmed; "
          f"{changes} status changes; {len(rows)} notifications")
    assert bot.starts == RESTARTS + 1
    assert len(confirmed) >= RESIDENTS, "too few reports got through to say anything"

    # every confirmed report exists exactly once; no report became two tickets
    assert len(confirmed) == len(set(confirmed)), Counter(confirmed).most_common(3)
    by_ref = {t.ref: t for t in tickets}
    assert set(confirmed) <= set(by_ref), set(confirmed) - set(by_ref)
    first_lines = Counter(t.description.splitlines()[0] for t in tickets)
    assert max(first_lines.values()) == 1, first_lines.most_common(3)
    assert set(first_lines) <= set(begun)
    for r in residents:
        for ref in r.confirmed():
            assert by_ref[ref].reporter_id is not None and by_ref[ref].description.startswith(
                f"Street light {r.id}-"), (ref, by_ref[ref].description)

    sorry = town.translator().plain(T("error_generic"), "en")
    assert not [m.text for r in residents for m in r.messages() if m.text == sorry]

    # every notification was delivered: Telegram has the very message the outbox recorded
    assert changes > 0 and rows
    assert [r.id for r in rows if r.status != "sent"] == [], [(r.id, r.status, r.last_error) for r in rows
                                                                if r.status != "sent"]
    shown = {(m.chat_id, m.message_id): m for m in tg.sent}
    assert all((r.chat_id, r.sent_message_id) in shown for r in rows)

    # duplicates: the same notification text in the same chat more than once (only a kill can cause one)
    texts = Counter((m.chat_id, m.text) for m in tg.sent)
    duplicates = sum(texts[(r.chat_id, shown[(r.chat_id, r.sent_message_id)].text)] - 1 for r in rows)
    print(f"duplicated notifications: {duplicates} (after {RESTARTS} kills)")
    town.close()
    assert duplicates <= RESTARTS

"""Outbox delivery over real HTTP to the fake Telegram, on SQLite and PostgreSQL: Telegram's refusals and outages
lose nothing, a crash between sending and recording costs at most a duplicate, and two deliverers share the work
without sending anything twice."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from telegram.ext import ExtBot

from bot.db.engine import make_engine
from bot.db.uow import unit_of_work_factory
from bot.delivery import Deliverer, DeliveryPolicy, rate_limiter
from bot.outgoing import Outgoing, Renderers
from core.ports import Notification
from tests.support.clock import FixedClock
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import T0

ANNA, BORIS, CLARA = 7001, 7002, 7003
GROUP = -1001234567890
QUICK = DeliveryPolicy(first_retry_s=10, longest_retry_s=60, max_attempts=4, per_chat_interval_s=0,
                       send_timeout_s=0.5, lease_s=120)


def plain_renderers() -> Renderers:
    renderers = Renderers()
    renderers.register("note", lambda n: Outgoing(n.payload["text"]))
    renderers.register("card", lambda n: Outgoing(n.payload["text"], buttons=((("Open", "d:1"),),)))
    return renderers


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        for user_id, name in ((ANNA, "Anna"), (BORIS, "Boris"), (CLARA, "Clara")):
            fake.user(user_id, name, started=True)
        fake.group(GROUP, "Roads department")
        yield fake


@pytest.fixture
async def bot(tg):
    async with tg.bot() as bot:
        yield bot


@pytest.fixture
def clock():
    return FixedClock(T0)


@pytest.fixture
def deliverer(uow_factory, clock, bot):
    return Deliverer(uow_factory, clock, plain_renderers(), bot, QUICK)


def queue(uow_factory, chat_id: int, text: str, kind: str = "note") -> int:
    with uow_factory() as uow:
        notification = Notification(chat_id=chat_id, kind=kind, payload={"text": text}, created_at=T0)
        uow.outbox.add(notification)
        uow.commit()
    return notification.id


def row(uow_factory, notification_id: int) -> Notification:
    with uow_factory() as uow:
        return uow.outbox.get(notification_id)


def texts(tg, chat_id: int) -> list[str]:
    return [m.text for m in tg.messages_to(chat_id)]


# --- the ordinary case ---------------------------------------------------------------------------

async def test_each_notification_reaches_its_chat_once_and_its_message_id_is_recorded(tg, deliverer, uow_factory):
    first = queue(uow_factory, ANNA, "Your report KOZ-2026-00001 is being fixed")
    queue(uow_factory, ANNA, "Your report KOZ-2026-00001 is fixed")
    queue(uow_factory, GROUP, "New report KOZ-2026-00002", kind="card")

    done = await deliverer.deliver_due()
    again = await deliverer.deliver_due()

    assert (done.sent, again.claimed) == (2 + 1, 0)
    assert texts(tg, ANNA) == ["Your report KOZ-2026-00001 is being fixed", "Your report KOZ-2026-00001 is fixed"]
    assert tg.buttons(tg.last_to(GROUP)) == [("Open", "d:1")]
    recorded = row(uow_factory, first)
    assert recorded.status == "sent" and recorded.sent_message_id == tg.messages_to(ANNA)[0].message_id


# --- Telegram failing -----------------------------------------------------------------------------

async def test_too_many_requests_waits_as_long_as_telegram_says_then_delivers(tg, deliverer, uow_factory, clock):
    sent = queue(uow_factory, ANNA, "Your report is acknowledged")
    tg.fail_next("sendMessage", 429, retry_after=7)

    assert (await deliverer.deliver_due()).retrying == 1
    assert row(uow_factory, sent).not_before == T0 + timedelta(seconds=7)
    clock.advance(seconds=6)
    assert (await deliverer.deliver_due()).claimed == 0
    clock.advance(seconds=1)
    assert (await deliverer.deliver_due()).sent == 1
    assert texts(tg, ANNA) == ["Your report is acknowledged"]


@pytest.mark.parametrize("fault", [500, 502, "timeout"])
async def test_an_outage_or_a_timeout_is_retried_later_and_nothing_is_lost(tg, deliverer, uow_factory, clock, fault):
    sent = queue(uow_factory, ANNA, "Your report is acknowledged")
    tg.fail_next("sendMessage", fault, hang_seconds=2)

    assert (await deliverer.deliver_due()).retrying == 1
    assert texts(tg, ANNA) == []
    waiting = row(uow_factory, sent)
    assert waiting.attempts == 1 and waiting.not_before == T0 + timedelta(seconds=10) and waiting.last_error
    clock.advance(seconds=10)
    assert (await deliverer.deliver_due()).sent == 1
    assert texts(tg, ANNA) == ["Your report is acknowledged"]


async def test_waits_double_after_each_failure_up_to_the_longest(tg, deliverer, uow_factory, clock):
    sent = queue(uow_factory, ANNA, "Your report is acknowledged")
    tg.fail_next("sendMessage", 500, times=3)
    waits = []
    for _ in range(3):
        await deliverer.deliver_due()
        waiting = row(uow_factory, sent)
        waits.append((waiting.not_before - clock.now()).total_seconds())
        clock.at = waiting.not_before
    assert waits == [10, 20, 40]
    assert (await deliverer.deliver_due()).sent == 1


async def test_a_notification_failing_too_often_is_marked_failed_and_can_be_retried(tg, deliverer, uow_factory, clock,
                                                                                      caplog):
    sent = queue(uow_factory, ANNA, "Your report is acknowledged")
    tg.fail_next("sendMessage", 500, times=QUICK.max_attempts)
    for _ in range(QUICK.max_attempts):
        await deliverer.deliver_due()
        clock.advance(seconds=QUICK.longest_retry_s)

    failed = row(uow_factory, sent)
    assert failed.status == "failed" and "gave up after 4 tries" in failed.last_error
    assert "failed for good" in caplog.text
    assert (await deliverer.deliver_due()).claimed == 0
    with uow_factory() as uow:
        assert [n.id for n in uow.outbox.failed()] == [sent]
        assert uow.outbox.retry([sent]) == 1
        uow.commit()
    assert (await deliverer.deliver_due()).sent == 1
    assert texts(tg, ANNA) == ["Your report is acknowledged"]


async def test_a_blocked_bot_or_an_unknown_chat_fails_at_once_and_the_others_still_get_theirs(tg, deliverer,
                                                                                                uow_factory):
    tg.block(BORIS)
    blocked = queue(uow_factory, BORIS, "Your report is fixed")
    unknown = queue(uow_factory, 424242, "Your report is fixed")
    queue(uow_factory, CLARA, "Your report is fixed")

    done = await deliverer.deliver_due()

    assert (done.sent, done.failed) == (1, 2)
    assert "blocked" in row(uow_factory, blocked).last_error
    assert "chat not found" in row(uow_factory, unknown).last_error.lower()
    assert texts(tg, CLARA) == ["Your report is fixed"]


async def test_a_notification_nobody_can_render_is_failed_not_dropped(tg, deliverer, uow_factory):
    lost = queue(uow_factory, ANNA, "?", kind="from_the_future")
    assert (await deliverer.deliver_due()).failed == 1
    assert "no renderer" in row(uow_factory, lost).last_error


async def test_a_chat_gets_its_messages_in_order_even_when_the_first_must_wait(tg, deliverer, uow_factory, clock):
    queue(uow_factory, ANNA, "1. acknowledged")
    queue(uow_factory, ANNA, "2. fixed")
    queue(uow_factory, BORIS, "Your report is fixed")
    tg.fail_next("sendMessage", 500)            # whichever chat goes first waits; the other one is not held up

    await deliverer.deliver_due()
    clock.advance(seconds=10)
    await deliverer.deliver_due()

    assert texts(tg, ANNA) == ["1. acknowledged", "2. fixed"]
    assert texts(tg, BORIS) == ["Your report is fixed"]


# --- crashes --------------------------------------------------------------------------------------

async def test_an_answer_lost_on_the_way_back_means_at_most_one_duplicate(tg, deliverer, uow_factory, clock):
    sent = queue(uow_factory, ANNA, "Your report is fixed")
    tg.fail_next("sendMessage", "timeout", delivered=True, hang_seconds=2)

    assert (await deliverer.deliver_due()).retrying == 1
    clock.advance(seconds=10)
    assert (await deliverer.deliver_due()).sent == 1
    assert texts(tg, ANNA) == ["Your report is fixed"] * 2
    assert row(uow_factory, sent).status == "sent"


async def test_a_crash_between_sending_and_recording_resends_after_the_claim_expires(tg, bot, uow_factory, clock):
    sent = queue(uow_factory, ANNA, "Your report is fixed")
    tg.fail_next("sendMessage", "timeout", delivered=True, hang_seconds=30)
    dying = Deliverer(uow_factory, clock, plain_renderers(), bot, DeliveryPolicy(lease_s=120, send_timeout_s=30))
    attempt = asyncio.create_task(dying.deliver_due())
    await tg.wait_for(lambda tg: tg.messages_to(ANNA))
    attempt.cancel()                              # the process dies before it can record the send
    with pytest.raises(asyncio.CancelledError):
        await attempt

    restarted = Deliverer(uow_factory, clock, plain_renderers(), bot, QUICK)
    assert (await restarted.deliver_due()).claimed == 0          # still claimed by the dead process
    clock.advance(seconds=120)
    assert (await restarted.deliver_due()).sent == 1
    assert texts(tg, ANNA) == ["Your report is fixed"] * 2       # a duplicate, never a loss
    assert row(uow_factory, sent).status == "sent"


# --- Telegram's limits ----------------------------------------------------------------------------

async def test_a_private_chat_gets_at_most_one_message_a_second(tg, uow_factory, clock, bot):
    tg.rate_limits = True
    for n in range(3):
        queue(uow_factory, ANNA, f"message {n}")
    paced = Deliverer(uow_factory, clock, plain_renderers(), bot, DeliveryPolicy(per_chat_interval_s=1.0))

    started = asyncio.get_running_loop().time()
    assert (await paced.deliver_due()).sent == 3
    assert asyncio.get_running_loop().time() - started >= 2.0
    assert [c.status for c in tg.calls_to("sendMessage") if c.status == 429] == []
    assert texts(tg, ANNA) == ["message 0", "message 1", "message 2"]


async def test_the_deliverer_remembers_only_the_chats_still_within_their_interval(tg, uow_factory, clock, bot):
    residents = range(900_101, 900_111)
    for chat_id in residents:
        tg.user(chat_id, f"Resident {chat_id}", started=True)
        queue(uow_factory, chat_id, f"news for {chat_id}")
    deliverer = Deliverer(uow_factory, clock, plain_renderers(), bot, DeliveryPolicy(per_chat_interval_s=1.5))
    assert (await deliverer.deliver_due()).sent == 10
    assert deliverer.chats_paced == 10
    await asyncio.sleep(1.6)
    queue(uow_factory, ANNA, "one more")
    assert (await deliverer.deliver_due()).sent == 1
    assert deliverer.chats_paced == 1                    # the ten whose interval has passed are forgotten
    assert texts(tg, ANNA) == ["one more"] and all(texts(tg, c) == [f"news for {c}"] for c in residents)


async def test_bulk_sends_keep_to_thirty_in_any_second_and_telegram_refuses_none(tg, uow_factory, clock, bot):
    tg.rate_limits = True                   # the fake answers 429 to the 31st message within one second
    residents = range(900_001, 900_076)
    for chat_id in residents:
        tg.user(chat_id, f"Resident {chat_id}", started=True)
        queue(uow_factory, chat_id, f"news for {chat_id}")
    deliverer = Deliverer(uow_factory, clock, plain_renderers(), bot, DeliveryPolicy(batch=100))

    started = asyncio.get_running_loop().time()
    assert (await deliverer.deliver_due()).sent == 75
    took = asyncio.get_running_loop().time() - started
    assert [c for c in tg.calls_to("sendMessage") if c.status == 429] == []
    assert 2.0 <= took < 6.0                # 75 at about 30 a second: more than two seconds, not much more
    assert all(texts(tg, chat_id) == [f"news for {chat_id}"] for chat_id in residents)


async def test_answers_to_residents_are_not_held_to_the_bulk_pace(tg):
    """The Application's rate limiter (bot/delivery.py) paces only groups: 60 answers to 60 residents go out at
    once (at 29 a second they took two seconds, and every resident waited behind the others)."""
    residents = range(910_001, 910_061)
    for chat_id in residents:
        tg.user(chat_id, f"Resident {chat_id}", started=True)
    async with ExtBot(tg.token, base_url=tg.base_url, rate_limiter=rate_limiter()) as limited:
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(limited.send_message(chat_id, "Thank you") for chat_id in residents))
        took = asyncio.get_running_loop().time() - started
    assert all(texts(tg, chat_id) == ["Thank you"] for chat_id in residents)
    assert took < 1.5


# --- several processes ----------------------------------------------------------------------------

@pytest.mark.postgres
async def test_two_deliverers_on_postgresql_share_the_work_without_double_sends(tg, migrated_url, db_backend, clock):
    if db_backend != "postgresql":
        pytest.skip("several bot processes need PostgreSQL")
    engines = [make_engine(migrated_url) for _ in range(2)]
    try:
        uows = [unit_of_work_factory(engine) for engine in engines]
        chats = list(range(8001, 8031))
        for chat in chats:
            tg.user(chat, f"Resident {chat}", started=True)
        for n in range(300):
            queue(uows[0], chats[n % len(chats)], f"notification {n}")
        async with tg.bot() as bot_a, tg.bot() as bot_b:
            policy = DeliveryPolicy(batch=40, per_chat_interval_s=0)
            processes = [Deliverer(uows[0], clock, plain_renderers(), bot_a, policy),
                         Deliverer(uows[1], clock, plain_renderers(), bot_b, policy)]
            shares = Counter()
            while True:
                rounds = await asyncio.gather(*(p.deliver_due() for p in processes))
                for index, done in enumerate(rounds):
                    shares[index] += done.sent
                if not any(done.claimed for done in rounds):
                    break
        delivered = Counter((m.chat_id, m.text) for m in tg.sent)
        assert len(delivered) == 300 and set(delivered.values()) == {1}
        assert shares[0] > 0 and shares[1] > 0 and shares[0] + shares[1] == 300
    finally:
        for engine in engines:
            engine.dispose()


# --- what an administrator sees -------------------------------------------------------------------

async def test_failed_notifications_are_listed_for_the_administrator_and_can_be_sent_again(
        tg, deliverer, uow_factory, migrated_url, monkeypatch):
    from click.testing import CliRunner

    from bot.cli import cli
    monkeypatch.setenv("HELPLINE_DATABASE_URL", migrated_url)
    monkeypatch.delenv("HELPLINE_CONFIG", raising=False)
    tg.block(BORIS)
    blocked = queue(uow_factory, BORIS, "Your report is fixed")
    queue(uow_factory, ANNA, "Your report is fixed")
    await deliverer.deliver_due()

    listed = CliRunner().invoke(cli, ["outbox", "failed"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines()[0] == "0 waiting, 1 sent, 1 failed"
    assert str(BORIS) in listed.output and "blocked by the user" in listed.output

    tg.state.users[BORIS].blocked = False                   # the resident unblocks the bot
    assert CliRunner().invoke(cli, ["outbox", "retry"]).exit_code != 0
    again = CliRunner().invoke(cli, ["outbox", "retry", str(blocked)])
    assert again.output.strip() == "1 notification queued again"
    await deliverer.deliver_due()
    assert texts(tg, BORIS) == ["Your report is fixed"]

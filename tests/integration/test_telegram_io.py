"""The bot's Bot API connections (bot/telegram_io.py) against the fake Telegram server over real HTTP: the calls
arrive as python-telegram-bot's own would, a connection is used again (counted by a TCP proxy in between), a closed
one is not, and each failure is the error python-telegram-bot raises for it (so the retries around it work as
before)."""
from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot import telegram_io
from bot.telegram_io import BotApiRequest
from tests.support.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.support.tcp_proxy import TcpProxy

ALICE = 1001
GREEK = "Η λάμπα στην <b>πλατεία</b> είναι σβηστή &amp; κανείς δεν ήρθε"


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        fake.user(ALICE, "Alice", language_code="el", started=True)
        yield fake


@pytest.fixture
async def bot(tg):
    async with tg.bot(request=BotApiRequest()) as client:
        yield client


async def test_a_message_arrives_with_its_text_buttons_and_options(tg, bot):
    buttons = InlineKeyboardMarkup([[InlineKeyboardButton("Λακκούβα", callback_data="3:cat:pothole"),
                                     InlineKeyboardButton("Φως", callback_data="3:cat:streetlight")]])
    message = await bot.send_message(ALICE, GREEK, parse_mode="HTML", reply_markup=buttons,
                                     disable_web_page_preview=True)

    assert message.text == tg.plain_text(tg.last_to(ALICE)) == "Η λάμπα στην πλατεία είναι σβηστή & κανείς δεν ήρθε"
    assert tg.buttons(tg.last_to(ALICE)) == [("Λακκούβα", "3:cat:pothole"), ("Φως", "3:cat:streetlight")]
    call = tg.calls_to("sendMessage")[-1]
    assert call.params["parse_mode"] == "HTML"


def through(proxy: TcpProxy) -> Bot:
    """A bot that reaches the fake server through the proxy."""
    return Bot(DEFAULT_TOKEN, base_url=f"http://127.0.0.1:{proxy.port}/bot", request=BotApiRequest())


@pytest.fixture
async def proxy(tg):
    proxy = await TcpProxy(tg.port).start()
    yield proxy
    await proxy.stop()


async def test_calls_one_after_another_use_one_connection(tg, proxy):
    async with through(proxy) as bot:
        for n in range(5):
            await bot.send_message(ALICE, f"message {n}")
    assert proxy.accepted == 1
    assert [tg.plain_text(m) for m in tg.messages_to(ALICE)] == [f"message {n}" for n in range(5)]


async def test_calls_side_by_side_each_arrive_once_and_their_connections_are_used_again(tg, proxy):
    async with through(proxy) as bot:
        await asyncio.gather(*(bot.send_message(ALICE, f"message {n}") for n in range(20)))
        opened = proxy.accepted
        await asyncio.gather(*(bot.send_message(ALICE, f"again {n}") for n in range(20)))
    assert sorted(tg.plain_text(m) for m in tg.messages_to(ALICE)) == \
        sorted([f"message {n}" for n in range(20)] + [f"again {n}" for n in range(20)])
    assert 1 <= opened <= 20 and proxy.accepted == opened


async def test_telegrams_refusals_are_python_telegram_bots_errors(tg, bot):
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(ALICE, "a" * 4097)
    tg.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter):
        await bot.send_message(ALICE, "later")
    tg.fail_next("sendMessage", 502)
    with pytest.raises(NetworkError):
        await bot.send_message(ALICE, "later")
    await bot.send_message(ALICE, "now")
    assert [tg.plain_text(m) for m in tg.messages_to(ALICE)] == ["now"]


async def test_no_answer_in_time_is_timed_out_and_the_connection_is_not_used_again(tg, proxy):
    async with through(proxy) as bot:
        await bot.send_message(ALICE, "first")
        tg.fail_next("sendMessage", "timeout", hang_seconds=5)
        with pytest.raises(TimedOut):
            await bot.send_message(ALICE, "slow", read_timeout=0.3)
        await bot.send_message(ALICE, "after")
    assert tg.plain_text(tg.last_to(ALICE)) == "after"
    assert proxy.accepted == 2          # the connection that waited in vain was closed, not used for "after"


async def test_a_connection_the_server_closed_while_idle_is_replaced(tg, proxy):
    async with through(proxy) as bot:
        await bot.send_message(ALICE, "before")
        proxy.mode = "refuse"       # closes every open connection
        proxy.mode = "pass"
        await asyncio.sleep(0.05)
        await bot.send_message(ALICE, "after")
    assert [tg.plain_text(m) for m in tg.messages_to(ALICE)] == ["before", "after"]


async def test_an_unreachable_server_is_a_network_error(tg):
    proxy = await TcpProxy(tg.port).start()
    proxy.mode = "refuse"
    try:
        bot = through(proxy)
        with pytest.raises(NetworkError):
            await bot.request.initialize()
            await bot.send_message(ALICE, "hello")
        await bot.request.shutdown()
    finally:
        await proxy.stop()
    assert tg.messages_to(ALICE) == []


async def test_when_every_connection_is_busy_a_call_waits_then_times_out_unsent(tg):
    async with tg.bot(request=BotApiRequest(connection_pool_size=1, pool_timeout=0.2)) as bot:
        tg.fail_next("sendMessage", "timeout", hang_seconds=1)
        hanging = asyncio.create_task(bot.send_message(ALICE, "slow", read_timeout=0.6))
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut, match="not\\* sent"):
            await bot.send_message(ALICE, "second")
        with pytest.raises(TimedOut):
            await hanging
        await bot.send_message(ALICE, "third")
    assert [tg.plain_text(m) for m in tg.messages_to(ALICE)] == ["third"]


async def test_uploads_still_go_through(tg, bot):
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
    message = await bot.send_photo(ALICE, png, caption="Λακκούβα")
    assert message.caption == "Λακκούβα" and message.photo


def test_a_proxy_in_the_environment_is_honoured(monkeypatch):
    telegram_io._proxied.cache_clear()
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    try:
        assert telegram_io._proxied("https", "api.telegram.org")
        assert not telegram_io._proxied("https", "localhost")
        assert not telegram_io._proxied("http", "api.telegram.org")
    finally:
        telegram_io._proxied.cache_clear()

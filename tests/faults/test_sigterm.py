"""`helpline run` stops on SIGTERM (systemd's stop) within seconds, also when its Bot API server has gone away
or stopped answering while notifications were on their way."""
from __future__ import annotations

import asyncio

import pytest

from tests.faults.town import file_directly, move_on, town_hall
from tests.support.bot_process import bot_environment
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
WITHIN = 10.0


@pytest.fixture
async def proxy(tg):
    proxy = await TcpProxy(tg.port).start()
    yield proxy
    await proxy.stop()


def through(proxy: TcpProxy) -> dict:
    return {"telegram_api_base_url": f"http://127.0.0.1:{proxy.port}/bot"}


def notifications_due(tg, migrated_url: str, count: int = 3) -> None:
    """Residents' reports moved on by their department: notifications wait in the outbox."""
    town = town_hall(tg, migrated_url)
    try:
        for n in range(count):
            move_on(town, file_directly(town, tg, 7100 + n, f"Dark street light number {n}"))
    finally:
        town.close()


async def stopped(bot) -> None:
    code = await bot.terminate(within=WITHIN)
    assert code is not None, f"helpline run was still running {WITHIN:.0f} s after SIGTERM:\n{bot.tail()}"
    assert code == 0, bot.tail()


async def test_stops_on_sigterm_while_telegram_answers(tg, migrated_url, bot_processes):
    bot = bot_processes(bot_environment(tg, migrated_url))
    bot.start()
    await bot.wait_until_polling(tg)
    await stopped(bot)


async def test_stops_on_sigterm_after_the_bot_api_server_went_away(tg, migrated_url, bot_processes):
    bot = bot_processes(bot_environment(tg, migrated_url))
    bot.start()
    await bot.wait_until_polling(tg)
    await tg.stop()                         # the Bot API server is gone: connections refused from now on
    notifications_due(tg, migrated_url)
    await asyncio.sleep(3)                  # the bot retries getUpdates and tries to deliver
    await stopped(bot)


async def test_stops_on_sigterm_when_the_bot_api_server_stopped_answering(tg, proxy, migrated_url, bot_processes):
    """The host is still there but answers nothing (a hung server, a dropped route)."""
    bot = bot_processes(bot_environment(tg, migrated_url, **through(proxy)))
    bot.start()
    await bot.wait_until_polling(tg)
    proxy.mode = "blackhole"
    notifications_due(tg, migrated_url)
    await asyncio.sleep(4)                  # a delivery round and a long poll are now waiting for answers
    await stopped(bot)


async def test_stops_on_sigterm_when_the_bot_api_server_never_answered(tg, proxy, migrated_url, bot_processes):
    proxy.mode = "blackhole"
    bot = bot_processes(bot_environment(tg, migrated_url, **through(proxy)))
    bot.start()
    await asyncio.sleep(6)                  # started, and still waiting for Telegram's first answer
    await stopped(bot)

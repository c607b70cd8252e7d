"""The webhook (as `helpline run` serves it) refuses posts without Telegram's secret token and processes
nothing they carry; garbage with the right token harms nothing. (tests/e2e/test_telegram_webhook.py covers
the plain answer to /start.)"""
from __future__ import annotations

import asyncio

import httpx
import pytest

from bot import app as composition
from bot.runner import webhook_options
from core.ports import StaffMember
from core.services import Report
from core.tickets import Location, Status
from tests.support.clock import FixedClock
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import T0
from tests.support.telegram_bot import settings_for

LIGHTING, ANNA, MARIA = -1001001, 2001, 5001
SECRET = "s3cret-token_0123456789"


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        fake.group(LIGHTING, "Lighting")
        fake.user(ANNA, "Anna", language_code="el")
        fake.user(MARIA, "Maria", language_code="en", started=True)
        yield fake


async def post(url: str, body: bytes | dict, headers: dict) -> int:
    async with httpx.AsyncClient() as client:
        send = client.post(url, json=body, headers=headers) if isinstance(body, dict) else \
            client.post(url, content=body, headers={"Content-Type": "application/json", **headers})
        return (await send).status_code


async def test_a_forged_post_changes_nothing_and_garbage_is_survived(tg, migrated_url, unused_tcp_port):
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
    settings = settings_for(tg, migrated_url, telegram_mode="webhook", webhook_url="https://h.example.org/telegram",
                            webhook_port=unused_tcp_port, webhook_secret=SECRET)
    app = composition.build(settings, clock=FixedClock(T0))
    app.helpline.bind_chat("department:lighting", LIGHTING)
    app.helpline.add_staff(StaffMember(ANNA, "staff", "lighting", "Anna P."))
    resident = app.helpline.resident_for(MARIA, "Maria")
    ref = app.helpline.file_report(Report("streetlight", "Dark", Location(40.3007, 21.7887), resident.id,
                                          "en")).ticket.ref
    application = app.telegram()
    async with application:
        await application.start()
        await application.updater.start_webhook(**webhook_options(settings))
        try:
            await application.bot.send_message(LIGHTING, f"🆕 {ref}")
            message = tg.messages_to(LIGHTING)[-1]
            await tg.forge_press(ANNA, message, f"d:ack:{ref}")
            press = tg.pending_updates[-1]
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                            {"X-Telegram-Bot-Api-Secret-Token": SECRET.upper()},
                            {"X-Telegram-Bot-Api-Secret-Token": ""}):
                assert await post(url, press, headers) == 403
            good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            for garbage in (b"{", b"[]", b"null", b'{"update_id": "x"}', b"\xff\xfe", b"{}"):
                await post(url, garbage, good)          # python-telegram-bot answers 400 or 500; nothing breaks
            await asyncio.sleep(0.3)
            assert app.helpline.ticket(ref).status is Status.NEW            # the forged press did nothing
            assert tg.answers == []                                        # ...and was never even seen

            update = await tg.send_command(MARIA, "/start")               # the bot still serves Telegram
            assert await post(url, update, good) == 200
            await tg.wait_for(lambda t: len(t.messages_to(MARIA)) >= 2)
            assert all(call.ok for call in tg.calls)
        finally:
            await application.updater.stop()
            await application.stop()
    app.close()

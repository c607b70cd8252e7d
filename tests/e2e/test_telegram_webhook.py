"""Webhook mode: the bot answers updates Telegram posts, and refuses posts without the secret token."""
import pytest

from bot import app as composition
from bot.runner import webhook_options
from tests.support.clock import FixedClock
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import T0
from tests.support.telegram_bot import settings_for


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


async def test_webhook_answers_telegram_and_refuses_strangers(tg, migrated_url, unused_tcp_port):
    public = "https://helpline.example.org/telegram"        # what Telegram is told (behind a reverse proxy)
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram"    # where the bot listens
    settings = settings_for(tg, migrated_url, telegram_mode="webhook", webhook_url=public,
                            webhook_port=unused_tcp_port, webhook_secret="s3cret-token")
    app = composition.build(settings, clock=FixedClock(T0))
    application = app.telegram()
    tg.user(6001, "Eli", language_code="en")
    async with application:
        await application.start()
        await application.updater.start_webhook(**webhook_options(settings))
        try:
            update = await tg.send_command(6001, "/start")
            assert await tg.post_update_to(url, update) == 403                    # no secret
            assert await tg.post_update_to(url, update, "wrong") == 403
            assert tg.messages_to(6001) == []
            assert await tg.post_update_to(url, update, "s3cret-token") == 200
            await tg.wait_for(lambda t: len(t.messages_to(6001)) >= 2)
            assert "citizen's line" in tg.plain_text(tg.messages_to(6001)[0])
            hook = tg.calls_to("setWebhook")[-1].params
            assert hook["url"] == public and hook["secret_token"] == "s3cret-token"
        finally:
            await application.updater.stop()
            await application.stop()
    app.close()

"""The real bot (bot/app.py's python-telegram-bot Application) running against the fake Bot API over HTTP."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from bot import app as composition
from bot.settings import Settings
from core.dialogue import T
from tests.support.clock import FixedClock
from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import PROFILES, T0


def settings_for(tg: FakeTelegram, database_url: str, profile: str = "kozani", **overrides) -> Settings:
    return Settings(profile=profile, data_dir=PROFILES.parent, database_url=database_url, telegram_token=tg.token,
                    telegram_api_base_url=tg.base_url, rasa="off", geocoder="offline", **overrides)


@asynccontextmanager
async def running_bot(tg: FakeTelegram, settings: Settings, clock: FixedClock | None = None, nlu=None):
    """Build the helpline exactly as `helpline run` does and poll the fake server until the block ends."""
    app = composition.build(settings, clock=clock or FixedClock(T0))
    application = app.telegram(app.conversation(nlu=nlu) if nlu else None)
    async with application:
        await application.post_init(application)      # as run_polling does
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield app
        finally:
            await application.updater.stop()
            await application.stop()
            if application.post_shutdown:
                await application.post_shutdown(application)     # as run_polling does: stops the scheduler
    app.close()


class Resident:
    """A person on Telegram talking to the bot: sends things, waits for the answer, taps buttons."""

    def __init__(self, tg: FakeTelegram, user_id: int, name: str, language_code: str, translator) -> None:
        self.tg, self.id = tg, user_id
        self.translator = translator
        tg.user(user_id, name, language_code=language_code)

    async def _answer(self, send) -> list:
        """Send, then collect the bot's answer: one or more messages, until it has been quiet a moment."""
        before = len(self.tg.messages_to(self.id))
        await send
        await self.tg.wait_for(lambda tg: len(tg.messages_to(self.id)) > before)
        count = -1
        while count != len(self.tg.messages_to(self.id)):
            count = len(self.tg.messages_to(self.id))
            await asyncio.sleep(0.15)
        return self.tg.messages_to(self.id)[before:]

    async def say(self, text: str) -> str:
        sent = self.tg.send_command(self.id, text) if text.startswith("/") else self.tg.send_text(self.id, text)
        return self.text(await self._answer(sent))

    async def location(self, lat: float, lon: float) -> str:
        return self.text(await self._answer(self.tg.send_location(self.id, lat, lon)))

    async def photo(self) -> tuple[str, str]:
        """Send a photo in three sizes; returns the answer and the file id of the largest size."""
        sent = {}

        async def send():
            sent.update(await self.tg.send_photo(self.id, sizes=3))
        answer = self.text(await self._answer(send()))
        return answer, sent["message"]["photo"][-1]["file_id"]

    async def tap(self, label: str) -> str:
        """Tap the button with this label on the newest message that has it."""
        for message in reversed(self.tg.messages_to(self.id)):
            if any(text == label for text, _ in self.tg.buttons(message)):
                return self.text(await self._answer(self.tg.tap(self.id, message, label)))
        raise AssertionError(f"no button {label!r} in chat {self.id}")

    def label(self, key: str, lang: str, **args) -> str:
        return self.translator.label(T(key, **args), lang)

    def expected(self, key: str, lang: str, **args) -> str:
        return self.translator.plain(T(key, **args), lang)

    def text(self, messages) -> str:
        return "\n".join(self.tg.plain_text(m) for m in messages)

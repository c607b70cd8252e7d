"""A local fake of Telegram's Bot API server for tests, served over real HTTP.

    async with FakeTelegram() as tg:
        bot = tg.bot()                      # telegram.Bot(tg.token, base_url=tg.base_url, ...)
        alice = tg.user(1001, "Alice", language_code="el")
        await tg.send_text(alice, "The street light is dark")
        reply = await tg.wait_for(lambda tg: tg.last_to(1001))

It refuses what Telegram refuses (HTML, lengths, keyboards, unknown chats, stale callback queries...)
with Telegram's own error bodies, and records every call in tg.calls. FakeTelegram's methods are grouped:
registering and acting as people (People), observing what the bot did, and fault injection.
"""
from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.fake_telegram.api import BotApi, Upload
from tests.support.fake_telegram.html import HtmlError, parse_html
from tests.support.fake_telegram.markup import buttons
from tests.support.fake_telegram.model import ApiCall, ApiError, Chat, Fault, SentMessage, TelegramUser
from tests.support.fake_telegram.people import People
from tests.support.fake_telegram.server import start_server
from tests.support.fake_telegram.state import TelegramState, default_clock

__all__ = ["DEFAULT_TOKEN", "ApiCall", "ApiError", "Chat", "FakeTelegram", "SentMessage", "TelegramUser", "Upload"]

DEFAULT_TOKEN = "123456789:AAFakeHelplineTokenForTests-0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class FakeTelegram(People):
    def __init__(self, token: str = DEFAULT_TOKEN, *, rate_limits: bool = False, strict_html: bool = True,
                 clock: Callable[[], float] = default_clock, bot_name: str = "Citizen Helpline",
                 bot_username: str = "citizen_helpline_bot"):
        self.state = TelegramState(token, clock=clock, strict_html=strict_html, rate_limits=rate_limits,
                                   bot_name=bot_name, bot_username=bot_username)
        self.api = BotApi(self.state)
        self.port: int | None = None
        self._server = None

    # --- lifecycle

    async def start(self) -> FakeTelegram:
        self._server, self.port = start_server(self.api)
        return self

    async def stop(self) -> None:
        self.state.closing.set()
        if self._server is None:
            return
        self._server.stop()
        await asyncio.sleep(0)
        await self._server.close_all_connections()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @classmethod
    @contextmanager
    def in_thread(cls, **options: Any) -> Iterator[ThreadedTelegram]:
        """The fake on its own event loop in a thread, for sync tests; its async methods become blocking."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="fake-telegram", daemon=True)
        thread.start()
        fake = cls(**options)
        asyncio.run_coroutine_threadsafe(fake.start(), loop).result()
        try:
            yield ThreadedTelegram(fake, loop)
        finally:
            asyncio.run_coroutine_threadsafe(fake.stop(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()

    # --- connecting a client

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def bot(self, **options: Any):
        """A real python-telegram-bot Bot pointed at this fake."""
        from telegram import Bot
        return Bot(self.token, base_url=self.base_url, base_file_url=self.base_file_url, **options)

    # --- the world's settings

    @property
    def rate_limits(self) -> bool:
        return self.state.rate_limits

    @rate_limits.setter
    def rate_limits(self, on: bool) -> None:
        self.state.rate_limits = on

    def advance(self, seconds: float) -> None:
        """Move the fake's clock (message dates, callback query age, rate limits) forward."""
        self.state.skew += seconds

    def fail_next(self, method: str, fault: int | str = 500, *, retry_after: int = 1, times: int = 1,
                  delivered: bool = False, hang_seconds: float = 30.0) -> None:
        """The next `times` calls of `method` fail: an HTTP status (429 carries retry_after), "timeout"
        (no answer for hang_seconds; with delivered=True the call takes effect first), "garbage"
        (a non-JSON body) or "malformed" (JSON cut off in the middle, as by a dropped proxy connection)."""
        if not (isinstance(fault, int) or fault in ("timeout", "garbage", "malformed")):
            raise ValueError(f"unknown fault {fault!r}")
        queue = self.state.faults.setdefault(method.lower(), deque())
        queue.extend(Fault(fault, retry_after, delivered, hang_seconds) for _ in range(times))

    # --- what the bot did

    @property
    def sent(self) -> list[SentMessage]:
        """Every message the bot sent, in order (edits change them in place; see .edits)."""
        return self.state.sent

    @property
    def calls(self) -> list[ApiCall]:
        """Every API call in arrival order, refused ones with .status and .error."""
        return self.state.calls

    @property
    def answers(self) -> list[dict]:
        """Accepted answerCallbackQuery calls: callback_query_id, text, show_alert, url."""
        return self.state.answers

    @property
    def pending_updates(self) -> list[dict]:
        """Updates not yet confirmed by getUpdates."""
        return list(self.state.updates)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def messages_to(self, chat: Chat | TelegramUser | int) -> list[SentMessage]:
        """What the chat still shows from the bot (deleted messages excluded)."""
        chat_id = getattr(chat, "id", chat)
        return [message for message in self.sent if message.chat_id == chat_id and not message.deleted]

    def last_to(self, chat: Chat | TelegramUser | int) -> SentMessage | None:
        messages = self.messages_to(chat)
        return messages[-1] if messages else None

    @staticmethod
    def plain_text(message: SentMessage | str) -> str:
        """What the person reads: tags removed, entities unescaped."""
        if isinstance(message, SentMessage):
            return message.text or ""
        try:
            return parse_html(message, strict=False)[0]
        except HtmlError:
            return message

    @staticmethod
    def buttons(message: SentMessage) -> list[tuple[str, str | None]]:
        """(text, callback_data) of each button in reading order."""
        return buttons(message.reply_markup)

    async def wait_for(self, until: Callable[[FakeTelegram], Any] | int, timeout: float = 5.0) -> Any:
        """Wait until until(tg) is truthy (returns its value) or, given a count, until the bot has sent
        that many messages in total (returns the last one). Fails the test on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = self.sent[-1] if isinstance(until, int) and len(self.sent) >= until else \
                None if isinstance(until, int) else until(self)
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for the bot\n{self.summary()}")
            await self.state.changed(min(remaining, 0.1))

    def summary(self, last: int = 15) -> str:
        """The last calls and messages, for failure messages."""
        calls = [f"  {c.method} -> {c.status} {c.error or ''}" for c in self.calls[-last:]]
        sent = [f"  to {m.chat_id}: {m.text!r} {self.buttons(m)}" for m in self.sent[-last:]]
        return "calls:\n" + "\n".join(calls or ["  none"]) + "\nsent:\n" + "\n".join(sent or ["  none"])

    # --- webhooks

    async def post_update_to(self, url: str, update: dict, secret_token: str | None = None) -> int:
        """POST an update to a webhook as Telegram does; returns the HTTP status the bot answered."""
        import httpx
        headers = {SECRET_HEADER: secret_token} if secret_token else {}
        async with httpx.AsyncClient() as client:
            response = await client.post(url, json=update, headers=headers, timeout=10)
        return response.status_code


class ThreadedTelegram:
    """FakeTelegram running in another thread: coroutine methods block until done, the rest pass through."""

    def __init__(self, fake: FakeTelegram, loop: asyncio.AbstractEventLoop):
        self._fake = fake
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._fake, name)
        if not callable(attribute):
            return attribute

        def in_loop(*args: Any, **kwargs: Any) -> Any:
            async def run() -> Any:
                result = attribute(*args, **kwargs)
                return await result if asyncio.iscoroutine(result) else result
            return asyncio.run_coroutine_threadsafe(run(), self._loop).result()
        return in_loop

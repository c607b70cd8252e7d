"""The fake server's memory and the rules that span methods: known chats, the clock, rate limits, updates."""
from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import deque
from collections.abc import Callable

from tests.support.fake_telegram.model import (ApiCall, ApiError, CallbackQuery, Chat, Fault, SentMessage,
                                               StoredFile, TelegramUser, bad_request)

GROUP_PER_MINUTE = 20
OVERALL_PER_SECOND = 30


class TelegramState:
    def __init__(self, token: str, *, clock: Callable[[], float], strict_html: bool, rate_limits: bool,
                 bot_name: str, bot_username: str):
        self.token = token
        self.bot = {"id": int(token.split(":", 1)[0]), "is_bot": True, "first_name": bot_name,
                    "username": bot_username}
        self.clock = clock
        self.skew = 0.0
        self.strict_html = strict_html
        self.rate_limits = rate_limits
        self.users: dict[int, TelegramUser] = {}
        self.chats: dict[int, Chat] = {}
        self.sent: list[SentMessage] = []
        self.calls: list[ApiCall] = []
        self.answers: list[dict] = []
        self.updates: list[dict] = []
        self.update_ids = itertools.count(100001)
        self.file_numbers = itertools.count(1)
        self.query_numbers = itertools.count(1)
        self.files: dict[str, StoredFile] = {}
        self.photos: dict[str, list[dict]] = {}
        self.queries: dict[str, CallbackQuery] = {}
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.webhook: dict = {}
        self.allowed_updates: list[str] | None = None
        self.faults: dict[str, deque[Fault]] = {}
        self.recent_sends: deque[tuple[float, int]] = deque()
        self.poll_generation = 0
        self.closing = asyncio.Event()
        self._changed = asyncio.Event()

    def now(self) -> float:
        return self.clock() + self.skew

    def wake(self) -> None:
        """Tell waiting long polls and wait_for() that something changed."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self, timeout: float) -> None:
        event = self._changed
        closing = asyncio.ensure_future(self.closing.wait())
        changed = asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait([closing, changed], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            changed.cancel()

    def chat(self, chat_id: object) -> Chat:
        try:
            return self.chats[int(chat_id)]
        except (TypeError, ValueError, KeyError):
            if chat_id in (None, ""):
                raise bad_request("chat_id is empty") from None
            raise bad_request("chat not found") from None

    def recipient(self, chat_id: object) -> Chat:
        """A chat the bot may post to now, or Telegram's refusal."""
        chat = self.chat(chat_id)
        if chat.user and chat.user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.user and not chat.user.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def throttle(self, chat: Chat) -> None:
        """With rate limits on: 1 message/s per private chat, 20/min per group, 30/s overall."""
        if not self.rate_limits:
            return
        now = self.now()
        while self.recent_sends and now - self.recent_sends[0][0] >= 60:
            self.recent_sends.popleft()
        to_chat = [at for at, chat_id in self.recent_sends if chat_id == chat.id]
        overall = [at for at, _ in self.recent_sends if now - at < 1]
        if chat.type == "private" and to_chat and now - to_chat[-1] < 1:
            _too_many(1 - (now - to_chat[-1]))
        if chat.type != "private" and len(to_chat) >= GROUP_PER_MINUTE:
            _too_many(60 - (now - to_chat[-GROUP_PER_MINUTE]))
        if len(overall) >= OVERALL_PER_SECOND:
            _too_many(1 - (now - overall[-OVERALL_PER_SECOND]))
        self.recent_sends.append((now, chat.id))

    def add_update(self, update: dict) -> dict:
        update.setdefault("update_id", next(self.update_ids))
        self.updates.append(update)
        self.wake()
        return update

    def store_file(self, content: bytes, folder: str) -> StoredFile:
        number = next(self.file_numbers)
        stored = StoredFile(f"AgAC{number:06d}{self.bot['id']}", f"AQAD{number:06d}", content,
                            f"{folder}/file_{number}.jpg")
        self.files[stored.file_id] = stored
        return stored

    def bot_message(self, chat: Chat, message_id: object, *, missing: str) -> SentMessage:
        try:
            message = chat.messages[int(message_id)]
        except (TypeError, ValueError, KeyError):
            raise bad_request(missing) from None
        if isinstance(message, SentMessage) and message.deleted:
            raise bad_request(missing)
        if not isinstance(message, SentMessage):
            raise bad_request("message can't be edited")
        return message


def _too_many(seconds: float) -> None:
    retry_after = max(1, math.ceil(seconds))
    raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def default_clock() -> float:
    return time.time()

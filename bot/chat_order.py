"""Updates of different chats side by side, each chat's one after another (python-telegram-bot's concurrent
update processing with a BaseUpdateProcessor of our own).

One at a time for the whole bot made every resident wait for every other one's database work and Bot API calls.
Within a chat the order matters: the conversation's state is read, changed and stored per update, and a second
press must see what the first one did. So an update waits for the earlier ones of its chat (an asyncio.Lock per
chat, kept only while the chat has updates in hand), then for one of `running` places; a chat that floods the bot
waits on its own lock and takes no places from the others. Updates without a chat or a user run as they come.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

RUNNING = 64            # updates being handled at once (each waits on the database or the Bot API most of the time)
ADMITTED = 64 * RUNNING  # python-telegram-bot's own bound: updates handled or waiting for their chat's turn


class OneAtATimePerChat(BaseUpdateProcessor):
    def __init__(self, running: int = RUNNING, admitted: int = ADMITTED) -> None:
        super().__init__(max_concurrent_updates=admitted)
        self.running = running
        self._places = asyncio.Semaphore(running)
        self._turns: dict[int, asyncio.Lock] = {}
        self._in_hand: dict[int, int] = {}      # chat -> its updates holding or waiting for its lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_of(update)
        if key is None:
            async with self._places:
                return await coroutine
        turn = self._turns.setdefault(key, asyncio.Lock())
        self._in_hand[key] = self._in_hand.get(key, 0) + 1
        try:
            async with turn, self._places:
                await coroutine
        finally:
            self._in_hand[key] -= 1
            if not self._in_hand[key]:
                del self._in_hand[key], self._turns[key]

    @property
    def chats_in_hand(self) -> int:
        """Chats with an update being handled or waiting (0 when idle: nothing is kept per chat)."""
        return len(self._turns)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _chat_of(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None

"""Outbox delivery: every notification written by a use case reaches its chat on Telegram, or is marked failed
for an administrator to see (`helpline outbox failed`); none is dropped silently.

One round: claim the due rows for a lease (on PostgreSQL with FOR UPDATE SKIP LOCKED, so several bot processes
share the work), commit the claim, render and send each row, then record the outcome in a new transaction.
A process that dies between sending and recording leaves its claim to expire; the row is then sent again.
So a resident may, rarely, get a message twice, but never not at all (see docs/operations.md).

Telegram's limits: python-telegram-bot's AIORateLimiter on the Application's bot (rate_limiter() below) keeps
groups to 20 messages a minute and sets no overall limit, so answers to residents go out at once. Telegram's "about
30 messages a second" is a limit on bulk sends: the deliverer keeps its own to OVERALL_PER_SECOND in any one second
(SlidingWindow) and private chats to one message a second.
"""
from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections import OrderedDict, defaultdict, deque
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.outgoing import Outgoing, Renderers
from bot.patience import patiently
from core.ports import Clock, Notification, UnitOfWork

log = logging.getLogger(__name__)

OVERALL_PER_SECOND = 30     # Telegram allows "about 30 messages a second" to different chats


IMPATIENT = "impatient"      # rate_limit_args of a call that handles Telegram's failures itself (the deliverer)


class PatientRateLimiter(AIORateLimiter):
    """Every Bot API call of the helpline goes through here. Someone is waiting for most of them (a resident's
    answer, a clerk's card after a press, the Advocate's prompt), so a brief trouble at Telegram (429 with a short
    retry_after, a 5xx, a timeout, an unreadable reply) is waited out a few times (bot.patience) instead of losing
    the answer. The outbox's deliverer passes rate_limit_args=IMPATIENT: it records the failure and retries on its
    own schedule."""

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        if rate_limit_args == IMPATIENT:
            return await super().process_request(callback, args, kwargs, endpoint, data, None)
        limiter = super()
        return await patiently(lambda: limiter.process_request(callback, args, kwargs, endpoint, data,
                                                               rate_limit_args))


def rate_limiter() -> AIORateLimiter:
    """PatientRateLimiter with AIORateLimiter's per-group limit (20 a minute) and no overall one: pacing every call
    at 29 a second queued each resident's answers behind everyone else's (about 11 conversation updates a second at
    most). The outbox's bulk sends are paced by the Deliverer's SlidingWindow instead."""
    return PatientRateLimiter(overall_max_rate=0)


class SlidingWindow:
    """At most `limit` messages reach Telegram in any `period` seconds, however late the event loop wakes or
    however long the way there takes: a send holds a place from its start until `period` after Telegram
    answered it (it arrived somewhere in between), so the message `limit` places earlier arrived at least
    `period` before this one. Unlike even spacing (AIORateLimiter's, which loses every late wake-up for good, or
    its default bucket, which lets 30 through at once and 30 more within the same second), a late send is
    made up at once. The cost: each place is held one answer's time longer than a second."""

    def __init__(self, limit: int = OVERALL_PER_SECOND, period: float = 1.0) -> None:
        self.limit, self.period = limit, period
        self._answered: deque[float] = deque()     # when Telegram answered the sends of the last period
        self._in_flight = 0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def place(self):
        """`async with window.place(): await send()`: waits for a free place and holds it."""
        async with self._changed:
            while (wait := self._wait()) is not None:
                try:
                    await asyncio.wait_for(self._changed.wait(), wait)
                except TimeoutError:
                    pass
            self._in_flight += 1
        try:
            yield
        finally:
            async with self._changed:
                self._in_flight -= 1
                self._answered.append(time.monotonic())
                self._changed.notify()

    def _wait(self) -> float | None:
        """None when a place is free; else how long to wait: until the oldest answered send leaves the window,
        or, with every place still waiting for Telegram, for an answer (at most a period)."""
        now = time.monotonic()
        while self._answered and now - self._answered[0] >= self.period:
            self._answered.popleft()
        if self._in_flight + len(self._answered) < self.limit:
            return None
        return self.period - (now - self._answered[0]) if self._answered else self.period


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard to try (config.yml: delivery_*)."""
    max_attempts: int = 8               # failed sends (not counting Telegram's "retry after") before giving up
    first_retry_s: float = 10.0         # the wait after the first failure, doubled after each further one
    longest_retry_s: float = 1800.0     # ... up to this
    lease_s: float = 300.0              # how long a claim keeps other deliverers off a row
    batch: int = 100                    # rows claimed per round
    per_chat_interval_s: float = 1.0    # at most one message a second to the same chat
    send_timeout_s: float = 10.0        # how long to wait for Telegram's answer to one message

    def backoff(self, attempts: int) -> timedelta:
        """The wait before the next try after `attempts` failed ones."""
        return timedelta(seconds=min(self.first_retry_s * 2 ** max(attempts - 1, 0), self.longest_retry_s))


@dataclass
class Round:
    """What one delivery round did."""
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed


ToThread = Callable[..., Awaitable]


class Deliverer:
    def __init__(self, uow: Callable[[], UnitOfWork], clock: Clock, renderers: Renderers, bot: Bot,
                 policy: DeliveryPolicy | None = None, to_thread: ToThread = asyncio.to_thread,
                 window: SlidingWindow | None = None) -> None:
        self.uow, self.clock, self.renderers, self.bot = uow, clock, renderers, bot
        self.policy = policy or DeliveryPolicy()
        self.window = window or SlidingWindow()
        self.to_thread = to_thread
        self._last_send: OrderedDict[int, float] = OrderedDict()   # chat id -> monotonic time of the last
        # message to it, oldest first; only the chats still within their per-chat interval (see _sent_to)

    async def deliver_due(self) -> Round:
        """Claim what is due and deliver it; each chat's messages in order, chats side by side."""
        claimed = await self.to_thread(self._claim)
        by_chat: dict[int, list[Notification]] = defaultdict(list)
        for notification in claimed:
            by_chat[notification.chat_id].append(notification)
        outcomes = await asyncio.gather(*(self._deliver_chat(rows) for rows in by_chat.values()))
        result = Round()
        for outcome in (o for chat in outcomes for o in chat):
            setattr(result, outcome, getattr(result, outcome) + 1)
        return result

    def _claim(self) -> list[Notification]:
        with self.uow() as uow:
            claimed = uow.outbox.due(self.clock.now(), self.policy.batch,
                                     claim_for=timedelta(seconds=self.policy.lease_s))
            uow.commit()
        return claimed

    async def _deliver_chat(self, rows: list[Notification]) -> list[str]:
        outcomes = []
        for index, notification in enumerate(rows):
            recorded = await self.deliver(notification)
            outcomes.append(_outcome(recorded))
            if recorded.status == "pending":   # keep the chat's order: the rest wait as long as this one
                for later in rows[index + 1:]:
                    outcomes.append(_outcome(await self._record(replace(later, not_before=recorded.not_before))))
                break
        return outcomes

    async def deliver(self, notification: Notification) -> Notification:
        """Send one claimed notification and record the outcome (status sent, failed, or pending again)."""
        try:
            outgoing = self.renderers.render(notification)
        except Exception as error:
            log.exception("notification %s (%s) cannot be rendered", notification.id, notification.kind)
            return await self._record(self._failed(notification, f"render: {error!r}"))
        try:
            await self._pace(notification.chat_id)
            async with self.window.place():
                message = await self._send(notification.chat_id, outgoing)
        except TelegramError as error:
            return await self._record(self._after_error(notification, error))
        finally:
            self._sent_to(notification.chat_id)
        return await self._record(replace(notification, status="sent", attempts=notification.attempts + 1,
                                          sent_message_id=message.message_id, last_error=None))

    async def _send(self, chat_id: int, outgoing: Outgoing) -> Message:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                       for row in outgoing.buttons]) if outgoing.buttons else None
        timeouts = {"read_timeout": self.policy.send_timeout_s, "write_timeout": self.policy.send_timeout_s}
        if getattr(self.bot, "rate_limiter", None) is not None:    # the application's bot (a plain Bot has none)
            timeouts["rate_limit_args"] = IMPATIENT
        if outgoing.photo:
            return await self.bot.send_photo(chat_id, outgoing.photo, caption=outgoing.text, reply_markup=markup,
                                             parse_mode=ParseMode.HTML, **timeouts)
        return await self.bot.send_message(chat_id, outgoing.text, reply_markup=markup, parse_mode=ParseMode.HTML,
                                           **timeouts)

    def _sent_to(self, chat_id: int) -> None:
        """Note the send to this chat; forget the chats whose interval has passed (a bulk send to 10,000 chats
        would otherwise keep 10,000 entries for good, though only those of the last second can make one wait)."""
        now = time.monotonic()
        self._last_send[chat_id] = now
        self._last_send.move_to_end(chat_id)
        while self._last_send:
            chat, at = next(iter(self._last_send.items()))
            if now - at < self.policy.per_chat_interval_s:
                break
            del self._last_send[chat]

    @property
    def chats_paced(self) -> int:
        """Chats a message went to within the last per-chat interval: the only ones the deliverer remembers."""
        return len(self._last_send)

    async def _pace(self, chat_id: int) -> None:
        """Wait until a second has passed since Telegram answered the last message to this chat."""
        last = self._last_send.get(chat_id)
        if last is not None:
            wait = self.policy.per_chat_interval_s - (time.monotonic() - last)
            if wait > 0:
                await asyncio.sleep(wait)

    def _after_error(self, n: Notification, error: TelegramError) -> Notification:
        now, reason = self.clock.now(), _reason(error)
        if isinstance(error, RetryAfter):
            return replace(n, not_before=now + _retry_after(error), last_error=reason)
        if isinstance(error, ChatMigrated):
            return replace(n, chat_id=error.new_chat_id, not_before=None, last_error=reason)
        if isinstance(error, (Forbidden, BadRequest)):
            return self._failed(n, reason)
        attempts = n.attempts + 1
        if attempts >= self.policy.max_attempts:
            return self._failed(replace(n, attempts=attempts), f"{reason} (gave up after {attempts} tries)")
        return replace(n, attempts=attempts, not_before=now + self.policy.backoff(attempts), last_error=reason)

    def _failed(self, n: Notification, reason: str) -> Notification:
        log.error("notification %s (%s to chat %s, ticket %s) failed for good: %s; see `helpline outbox failed`",
                  n.id, n.kind, n.chat_id, n.ticket_ref or "-", reason)
        return replace(n, status="failed", last_error=reason)

    async def _record(self, notification: Notification) -> Notification:
        def save() -> None:
            with self.uow() as uow:
                uow.outbox.save(notification)
                uow.commit()
        await self.to_thread(save)
        return notification


def _outcome(notification: Notification) -> str:
    return {"sent": "sent", "failed": "failed"}.get(notification.status, "retrying")


def _retry_after(error: RetryAfter) -> timedelta:
    with warnings.catch_warnings():     # an int today, a timedelta in python-telegram-bot's next major version
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def _reason(error: TelegramError) -> str:
    name, text = type(error).__name__, str(error)
    return text if text.startswith(name) else f"{name}: {text}"

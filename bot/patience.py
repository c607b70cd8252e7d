"""A person is waiting for this answer: when Telegram is briefly unavailable (429 with retry_after, a 5xx, a
timeout, an unreadable reply), try the call again a few times instead of losing the answer.

A timeout may hide a message Telegram did take, so a retried answer can, rarely, arrive twice; that is
preferred to not at all (the same rule as the outbox, docs/operations.md). Refusals that will not change by
themselves (BadRequest, Forbidden) are not retried.
"""
from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)
Result = TypeVar("Result")
WAITS_S = (0.5, 1.0, 2.0)              # between tries after an outage, a timeout or an unreadable reply
LONGEST_RETRY_AFTER_S = 30.0           # a longer "retry after" is not waited for while the person waits
UNREADABLE = "Invalid server response"  # python-telegram-bot's error for a reply that is not JSON


async def patiently(call: Callable[[], Awaitable[Result]]) -> Result:
    """await call(), again after each transient failure (up to len(WAITS_S) more times)."""
    for wait in (*WAITS_S, None):
        try:
            return await call()
        except RetryAfter as error:
            pause = _seconds(error)
            if wait is None or pause > LONGEST_RETRY_AFTER_S:
                raise
        except BadRequest:
            raise
        except TelegramError as error:
            if wait is None or not (isinstance(error, NetworkError) or str(error) == UNREADABLE):
                raise
            pause = wait
        log.warning("Telegram was unavailable; trying again in %.1f s", pause)
        await asyncio.sleep(pause)
    raise AssertionError("unreachable")


def _seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():     # an int today, a timedelta in python-telegram-bot's next major version
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)

"""What the outbox turns into: one Telegram message per notification, rendered in the recipient's language.

Each part of the helpline registers a renderer for the notification kinds it writes (departments' cards,
residents' status news, the ombudsman's escalations, the scheduler's reminders and digests); the deliverer
looks the kind up here and sends what comes back. A kind with no renderer is a programming error, and the
notification is marked failed with that error instead of vanishing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.ports import Notification

MAX_TEXT = 4096        # Telegram's limit for a message's text
MAX_CAPTION = 1024     # ... and for a photo's caption
MAX_CALLBACK_DATA = 64  # bytes


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the Bot API: HTML text, inline buttons as (label, callback data), an optional photo
    (a Telegram file_id; the text becomes its caption, so it must fit MAX_CAPTION)."""
    text: str
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    photo: str | None = None

    def __post_init__(self) -> None:
        limit = MAX_CAPTION if self.photo else MAX_TEXT
        if not self.text or len(self.text) > limit:
            raise ValueError(f"a message needs 1 to {limit} characters, this one has {len(self.text)}")
        for row in self.buttons:
            for label, data in row:
                if not label or len(data.encode()) > MAX_CALLBACK_DATA:
                    raise ValueError(f"button {label!r}: callback data {data!r} is over {MAX_CALLBACK_DATA} bytes")


Renderer = Callable[[Notification], Outgoing]


class Renderers:
    """Notification kind -> the function that renders it."""

    def __init__(self) -> None:
        self._by_kind: dict[str, Renderer] = {}

    def register(self, kind: str, renderer: Renderer) -> None:
        if kind in self._by_kind:
            raise ValueError(f"notification kind {kind!r} already has a renderer")
        self._by_kind[kind] = renderer

    def render(self, notification: Notification) -> Outgoing:
        try:
            renderer = self._by_kind[notification.kind]
        except KeyError:
            raise LookupError(f"no renderer for notification kind {notification.kind!r}") from None
        return renderer(notification)

    @property
    def kinds(self) -> set[str]:
        return set(self._by_kind)

"""What the fake Telegram remembers: people, chats, the bot's messages, calls, files, callback queries."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    """A refusal, answered as {"ok": false, "error_code": code, "description": description, ...}."""

    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class TelegramUser:
    """A person on Telegram; `started` once they have written to the bot (or pressed /start)."""
    id: int
    first_name: str
    language_code: str | None = "en"
    last_name: str | None = None
    username: str | None = None
    started: bool = False
    blocked: bool = False

    def as_json(self) -> dict:
        user = {"id": self.id, "is_bot": False, "first_name": self.first_name, "last_name": self.last_name,
                "username": self.username, "language_code": self.language_code}
        return {key: value for key, value in user.items() if value is not None}


@dataclass
class Chat:
    id: int
    type: str
    title: str | None = None
    user: TelegramUser | None = None
    next_message_id: int = 1
    messages: dict[int, SentMessage | dict] = field(default_factory=dict)

    def as_json(self) -> dict:
        if self.user:
            chat = {"id": self.id, "type": self.type, "first_name": self.user.first_name,
                    "last_name": self.user.last_name, "username": self.user.username}
            return {key: value for key, value in chat.items() if value is not None}
        return {"id": self.id, "type": self.type, "title": self.title}

    def new_message_id(self) -> int:
        self.next_message_id += 1
        return self.next_message_id - 1


@dataclass
class SentMessage:
    """A message the bot sent. `text` is what the person sees (the caption for a photo)."""
    chat_id: int
    message_id: int
    date: int
    kind: str
    text: str | None
    source: str | None
    parse_mode: str | None
    entities: list[dict]
    reply_markup: dict | None
    media: dict = field(default_factory=dict)
    edits: list[dict] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False

    def content(self) -> dict:
        return {"text": self.text, "source": self.source, "parse_mode": self.parse_mode,
                "entities": self.entities, "reply_markup": self.reply_markup}

    def as_json(self, chat: Chat, bot: dict) -> dict:
        message: dict[str, Any] = {"message_id": self.message_id, "from": bot, "chat": chat.as_json(),
                                   "date": self.date, **self.media}
        if self.edit_date:
            message["edit_date"] = self.edit_date
        if self.text is not None:
            message["text" if self.kind == "text" else "caption"] = self.text
        if self.entities:
            message["entities" if self.kind == "text" else "caption_entities"] = self.entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message


@dataclass
class ApiCall:
    """One request the bot made, refused or not."""
    method: str
    params: dict
    status: int = 200
    result: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str

    def as_json(self) -> dict:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.content),
                "file_path": self.file_path}


@dataclass
class CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float
    answered: bool = False


@dataclass
class Fault:
    """An injected failure for the next call(s) of one method."""
    kind: int | str
    retry_after: int = 1
    delivered: bool = False
    hang_seconds: float = 30.0

"""The Bot API methods the fake serves, each refusing what Telegram would refuse."""
from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from tests.support.fake_telegram.content import caption, message_text
from tests.support.fake_telegram.html import utf16_len
from tests.support.fake_telegram.markup import parse_reply_markup
from tests.support.fake_telegram.model import ApiCall, ApiError, Chat, Fault, SentMessage, bad_request
from tests.support.fake_telegram.params import flag, integer, number, structure, text
from tests.support.fake_telegram.photos import store_photo
from tests.support.fake_telegram.state import TelegramState

_LOGGER = logging.getLogger(__name__)
NOT_FOUND = ApiError(404, "Not Found")
NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are exactly the same "
                "as a current content and reply markup of the message")
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
QUERY_LIFETIME = 15 * 60
DELETE_WINDOW = 48 * 3600
DEFAULT_UPDATE_TYPES = {"message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
                        "business_message", "edited_business_message", "deleted_business_messages",
                        "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
                        "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer", "my_chat_member",
                        "chat_join_request", "chat_boost", "removed_chat_boost"}
CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
                "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"}
WEBHOOK_PORTS = {80, 88, 443, 8443}
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass
class Upload:
    """A file the bot uploaded in a multipart request."""
    filename: str
    content: bytes

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {len(self.content)} bytes)"


class BotApi:
    def __init__(self, state: TelegramState):
        self.state = state
        self.methods = {name.replace("_", ""): getattr(self, name) for name in (
            "get_me", "get_updates", "delete_webhook", "set_webhook", "get_webhook_info", "set_my_commands",
            "get_my_commands", "delete_my_commands", "send_message", "edit_message_text",
            "edit_message_caption", "edit_message_reply_markup", "answer_callback_query", "send_photo", "send_location", "get_file",
            "delete_message", "send_chat_action")}

    async def call(self, token: str, method: str, params: dict) -> tuple[int, dict | bytes]:
        """(HTTP status, JSON body or raw bytes) for one request, recorded in state.calls."""
        call = ApiCall(method, params)
        self.state.calls.append(call)
        handler = self.methods.get(method.lower())
        if token != self.state.token:
            error = ApiError(401, "Unauthorized") if ":" in token else NOT_FOUND
            return self._refused(call, error)
        if handler is None:
            return self._refused(call, NOT_FOUND)
        queue = self.state.faults.get(method.lower())
        fault = queue.popleft() if queue else None
        if fault and not (fault.kind == "timeout" and fault.delivered):
            return await self._fault(call, fault)
        status, body = await self._run(call, handler)
        if fault:
            await self._hang(call, fault)
        return status, body

    async def _run(self, call: ApiCall, handler) -> tuple[int, dict]:
        try:
            result = handler(call.params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as error:
            return self._refused(call, error)
        except Exception as error:
            _LOGGER.exception("the fake Telegram failed on %s", call.method)
            return self._refused(call, ApiError(500, f"Internal Server Error: the fake failed: {error!r}"))
        call.result = result
        return 200, {"ok": True, "result": result}

    def _refused(self, call: ApiCall, error: ApiError) -> tuple[int, dict]:
        call.status, call.error = error.code, error.description
        return error.code, error.body()

    async def _fault(self, call: ApiCall, fault: Fault) -> tuple[int, dict | bytes]:
        if fault.kind == "timeout":
            await self._hang(call, fault)
            call.status = 504
            return 504, ApiError(504, "Gateway Timeout").body()
        if fault.kind == "garbage":
            call.status, call.error = 200, "injected: garbage body"
            return 200, b"<html><body>502 Bad Gateway</body></html>"
        if fault.kind == "malformed":
            call.status, call.error = 200, "injected: malformed JSON"
            return 200, b'{"ok": true, "result": {"message_id": '
        status = int(fault.kind)
        if status == 429:
            error = ApiError(429, f"Too Many Requests: retry after {fault.retry_after}",
                             {"retry_after": fault.retry_after})
        else:
            error = ApiError(status, HTTPStatus(status).phrase)
        return self._refused(call, error)

    async def _hang(self, call: ApiCall, fault: Fault) -> None:
        call.error = f"injected: timeout ({'delivered' if fault.delivered else 'not delivered'})"
        try:
            await asyncio.wait_for(self.state.closing.wait(), fault.hang_seconds)
        except TimeoutError:
            pass

    # --- updates and webhooks

    def get_me(self, params: dict) -> dict:
        return {**self.state.bot, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}

    async def get_updates(self, params: dict) -> list[dict]:
        state = self.state
        if state.webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use "
                                "deleteWebhook to delete the webhook first")
        offset = integer(params, "offset", default=0)
        limit = min(max(integer(params, "limit", default=100), 1), 100)
        timeout = max(integer(params, "timeout", default=0), 0)
        allowed = structure(params, "allowed_updates")
        if allowed is not None:
            state.allowed_updates = list(allowed) or None
        self._confirm(offset)
        state.poll_generation += 1
        generation = state.poll_generation
        state.wake()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if generation != state.poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one "
                                    "bot instance is running")
            ready = self._deliverable()[:limit]
            remaining = deadline - asyncio.get_running_loop().time()
            if ready or remaining <= 0 or state.closing.is_set():
                return ready
            await state.changed(remaining)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.state.updates = self.state.updates[offset:]

    def _deliverable(self) -> list[dict]:
        wanted = set(self.state.allowed_updates or DEFAULT_UPDATE_TYPES)
        self.state.updates = [u for u in self.state.updates if not (u.keys() - {"update_id"}).isdisjoint(wanted)]
        return self.state.updates

    def delete_webhook(self, params: dict) -> bool:
        self.state.webhook = {}
        if flag(params, "drop_pending_updates"):
            self.state.updates.clear()
        return True

    def set_webhook(self, params: dict) -> bool:
        url = text(params, "url")
        if not url:
            return self.delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in WEBHOOK_PORTS:
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = text(params, "secret_token")
        if secret and not _SECRET.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        if flag(params, "drop_pending_updates"):
            self.state.updates.clear()
        self.state.webhook = {"url": url, "secret_token": secret or None,
                              "max_connections": integer(params, "max_connections", default=40),
                              "allowed_updates": structure(params, "allowed_updates")}
        return True

    def get_webhook_info(self, params: dict) -> dict:
        info = {"url": self.state.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.state.updates)}
        if info["url"]:
            info.update(ip_address="127.0.0.1", max_connections=self.state.webhook["max_connections"])
            if self.state.webhook["allowed_updates"]:
                info["allowed_updates"] = self.state.webhook["allowed_updates"]
        return info

    # --- commands

    def _commands_key(self, params: dict) -> tuple[str, str]:
        scope = structure(params, "scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), text(params, "language_code")

    def set_my_commands(self, params: dict) -> bool:
        commands = structure(params, "commands", error="can't parse commands JSON object")
        if not isinstance(commands, list) or not all(isinstance(c, dict) for c in commands):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands")
        for command in commands:
            if not isinstance(command.get("command"), str) or not _COMMAND.fullmatch(command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(command.get("description"), str) or not 1 <= len(command["description"]) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        self.state.commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def get_my_commands(self, params: dict) -> list[dict]:
        return self.state.commands.get(self._commands_key(params), [])

    def delete_my_commands(self, params: dict) -> bool:
        self.state.commands.pop(self._commands_key(params), None)
        return True

    # --- messages

    def _post(self, chat: Chat, kind: str, **content) -> dict:
        message = SentMessage(chat.id, chat.new_message_id(), int(self.state.now()), kind, **content)
        chat.messages[message.message_id] = message
        self.state.sent.append(message)
        self.state.wake()
        return message.as_json(chat, self.state.bot)

    def _check_reply(self, chat: Chat, params: dict) -> None:
        reply = structure(params, "reply_parameters") or {}
        if not isinstance(reply, dict):
            raise bad_request("can't parse reply parameters JSON object")
        message_id = integer({**params, **reply}, "message_id" if "message_id" in reply else "reply_to_message_id",
                             error="message to be replied not found")
        if message_id is None:
            return
        found = chat.messages.get(message_id)
        if (found is None or getattr(found, "deleted", False)) and not reply.get("allow_sending_without_reply"):
            raise bad_request("message to be replied not found")

    def send_message(self, params: dict) -> dict:
        chat = self.state.recipient(params.get("chat_id"))
        source, mode = text(params, "text"), params.get("parse_mode")
        plain, entities = message_text(source, mode, strict=self.state.strict_html)
        markup = parse_reply_markup(params.get("reply_markup"))
        self._check_reply(chat, params)
        self.state.throttle(chat)
        return self._post(chat, "text", text=plain, source=source, parse_mode=mode, entities=entities,
                          reply_markup=markup)

    def send_photo(self, params: dict) -> dict:
        chat = self.state.recipient(params.get("chat_id"))
        source, mode = text(params, "caption"), params.get("parse_mode")
        plain, entities = caption(source, mode, strict=self.state.strict_html)
        markup = parse_reply_markup(params.get("reply_markup"))
        self._check_reply(chat, params)
        sizes = self._photo(params.get("photo"))
        self.state.throttle(chat)
        return self._post(chat, "photo", text=plain, source=source or None, parse_mode=mode, entities=entities,
                          reply_markup=markup, media={"photo": sizes})

    def _photo(self, photo: object) -> list[dict]:
        if isinstance(photo, Upload):
            return store_photo(self.state, 3, original=photo.content)
        if not isinstance(photo, str) or not photo:
            raise bad_request("there is no photo in the request")
        if photo in self.state.photos:
            return self.state.photos[photo]
        if re.match(r"https?://\S+$", photo):
            return store_photo(self.state, 3)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def send_location(self, params: dict) -> dict:
        chat = self.state.recipient(params.get("chat_id"))
        latitude = number(params, "latitude", "wrong location")
        longitude = number(params, "longitude", "wrong location")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise bad_request("wrong location")
        markup = parse_reply_markup(params.get("reply_markup"))
        self._check_reply(chat, params)
        self.state.throttle(chat)
        return self._post(chat, "location", text=None, source=None, parse_mode=None, entities=[],
                          reply_markup=markup, media={"location": {"latitude": latitude, "longitude": longitude}})

    def _edit(self, chat: Chat, message: SentMessage, **changes) -> dict:
        before = {key: getattr(message, key) for key in ("text", "entities", "reply_markup")}
        if {**before, **{k: v for k, v in changes.items() if k in before}} == before:
            raise bad_request(NOT_MODIFIED)
        message.edits.append(message.content())
        for key, value in changes.items():
            setattr(message, key, value)
        message.edit_date = int(self.state.now())
        self.state.wake()
        return message.as_json(chat, self.state.bot)

    def _editable(self, params: dict) -> tuple[Chat, SentMessage]:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self.state.chat(params.get("chat_id"))
        return chat, self.state.bot_message(chat, params.get("message_id"), missing="message to edit not found")

    def edit_message_text(self, params: dict) -> dict:
        chat, message = self._editable(params)
        source, mode = text(params, "text"), params.get("parse_mode")
        plain, entities = message_text(source, mode, strict=self.state.strict_html)
        markup = parse_reply_markup(params.get("reply_markup"), inline_only=True)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        return self._edit(chat, message, text=plain, source=source, parse_mode=mode, entities=entities,
                          reply_markup=markup)

    def edit_message_caption(self, params: dict) -> dict:
        chat, message = self._editable(params)
        source, mode = text(params, "caption"), params.get("parse_mode")
        plain, entities = caption(source, mode, strict=self.state.strict_html)
        markup = parse_reply_markup(params.get("reply_markup"), inline_only=True)
        if message.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        return self._edit(chat, message, text=plain, source=source or None, parse_mode=mode, entities=entities,
                          reply_markup=markup)

    def edit_message_reply_markup(self, params: dict) -> dict:
        chat, message = self._editable(params)
        markup = parse_reply_markup(params.get("reply_markup"), inline_only=True)
        return self._edit(chat, message, reply_markup=markup)

    def delete_message(self, params: dict) -> bool:
        chat = self.state.chat(params.get("chat_id"))
        message_id = integer(params, "message_id", error="message to delete not found")
        message = chat.messages.get(message_id)
        if message is None or getattr(message, "deleted", False):
            raise bad_request("message to delete not found")
        sent_by_bot = isinstance(message, SentMessage)
        if not sent_by_bot and chat.type != "private":
            raise bad_request("message can't be deleted")
        date = message.date if sent_by_bot else message["date"]
        if self.state.now() - date > DELETE_WINDOW:
            raise bad_request("message can't be deleted for everyone")
        if sent_by_bot:
            message.deleted = True
        else:
            del chat.messages[message_id]
        return True

    def answer_callback_query(self, params: dict) -> bool:
        query = self.state.queries.get(text(params, "callback_query_id"))
        if query is None or query.answered or self.state.now() - query.created > QUERY_LIFETIME:
            raise bad_request(QUERY_INVALID)
        answer = text(params, "text")
        if utf16_len(answer) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        self.state.answers.append({"callback_query_id": query.id, "text": answer or None,
                                   "show_alert": flag(params, "show_alert"), "url": params.get("url")})
        return True

    def send_chat_action(self, params: dict) -> bool:
        self.state.recipient(params.get("chat_id"))
        if text(params, "action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def get_file(self, params: dict) -> dict:
        stored = self.state.files.get(text(params, "file_id"))
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.as_json()

"""What residents and staff do on Telegram, turned into Updates exactly as Telegram serialises them."""
from __future__ import annotations

from tests.support.fake_telegram.html import utf16_len
from tests.support.fake_telegram.markup import buttons
from tests.support.fake_telegram.model import CallbackQuery, Chat, SentMessage, TelegramUser
from tests.support.fake_telegram.photos import store_photo
from tests.support.fake_telegram.state import TelegramState

Person = TelegramUser | int


class People:
    """Registering people and groups, and acting as them. Mixed into FakeTelegram (needs self.state)."""
    state: TelegramState

    def user(self, id: int, first_name: str, language_code: str | None = "en", *, last_name: str | None = None,
             username: str | None = None, started: bool = False) -> TelegramUser:
        """A person with a private chat; the bot may write to them once they have written (or started=True)."""
        person = TelegramUser(id, first_name, language_code, last_name, username, started)
        self.state.users[id] = person
        self.state.chats[id] = Chat(id, "private", user=person)
        return person

    def group(self, id: int, title: str) -> Chat:
        """A group the bot is a member of (ids from -100... are supergroups)."""
        kind = "supergroup" if str(id).startswith("-100") else "group"
        self.state.chats[id] = Chat(id, kind, title=title)
        return self.state.chats[id]

    def block(self, person: Person) -> None:
        """The person blocks the bot: sending to them answers 403."""
        self._person(person).blocked = True

    def _person(self, person: Person) -> TelegramUser:
        person_id = person.id if isinstance(person, TelegramUser) else person
        if person_id not in self.state.users:
            raise KeyError(f"register the person first with tg.user({person_id}, ...)")
        return self.state.users[person_id]

    def _chat(self, person: TelegramUser, chat: Chat | int | None) -> Chat:
        chat_id = person.id if chat is None else getattr(chat, "id", chat)
        if chat_id not in self.state.chats:
            raise KeyError(f"register the group first with tg.group({chat_id}, ...)")
        return self.state.chats[chat_id]

    def _message(self, person: Person, chat: Chat | int | None, content: dict,
                 reply_to: SentMessage | None = None) -> dict:
        sender = self._person(person)
        where = self._chat(sender, chat)
        if reply_to is not None:
            content = {**content, "reply_to_message": self._replied(where, reply_to)}
        if where.user:
            sender.started = True
        message = {"message_id": where.new_message_id(), "from": sender.as_json(), "chat": where.as_json(),
                   "date": int(self.state.now()), **content}
        where.messages[message["message_id"]] = message
        return self.state.add_update({"message": message})

    def _replied(self, where: Chat, message: SentMessage) -> dict:
        """The replied-to message as Telegram nests it (one level deep); it must be in the same chat."""
        if message.chat_id != where.id or message.deleted:
            raise AssertionError(f"message {message.message_id} is not in chat {where.id} to reply to")
        return message.as_json(where, self.state.bot)

    async def send_text(self, person: Person, text: str, *, chat: Chat | int | None = None,
                        reply_to: SentMessage | None = None) -> dict:
        """A text message; `reply_to` makes it a reply to one of the bot's messages (e.g. a ForceReply prompt)."""
        return self._message(person, chat, {"text": text}, reply_to)

    async def send_command(self, person: Person, command_line: str, *, chat: Chat | int | None = None) -> dict:
        """E.g. "/start deep-link-args": the text with a bot_command entity on its first word."""
        command = command_line.split()[0]
        entity = {"offset": 0, "length": utf16_len(command), "type": "bot_command"}
        return self._message(person, chat, {"text": command_line, "entities": [entity]})

    async def send_location(self, person: Person, latitude: float, longitude: float, *,
                            chat: Chat | int | None = None) -> dict:
        return self._message(person, chat, {"location": {"latitude": latitude, "longitude": longitude}})

    async def send_venue(self, person: Person, latitude: float, longitude: float, title: str, address: str, *,
                         chat: Chat | int | None = None) -> dict:
        location = {"latitude": latitude, "longitude": longitude}
        venue = {"location": location, "title": title, "address": address}
        return self._message(person, chat, {"location": location, "venue": venue})

    async def send_photo(self, person: Person, sizes: int = 3, *, caption: str | None = None,
                         chat: Chat | int | None = None) -> dict:
        """A photo as Telegram delivers it: `sizes` PhotoSizes, increasing, each a downloadable file."""
        content: dict = {"photo": store_photo(self.state, sizes)}
        if caption:
            content["caption"] = caption
        return self._message(person, chat, content)

    async def press(self, person: Person, message: SentMessage, callback_data: str) -> str:
        """The person taps the inline button carrying callback_data; returns the callback query id."""
        if message.deleted or "inline_keyboard" not in (message.reply_markup or {}):
            raise AssertionError(f"message {message.message_id} has no inline keyboard to press: {message.text!r}")
        if callback_data not in [data for _, data in buttons(message.reply_markup)]:
            raise AssertionError(f"no button with callback_data {callback_data!r} on {buttons(message.reply_markup)}")
        return await self.forge_press(person, message, callback_data)

    async def forge_press(self, person: Person, message: SentMessage, callback_data: str) -> str:
        """A modified client sends a callback query with data of its choosing for a message with an inline
        keyboard; the bot must not trust it. Returns the callback query id."""
        sender = self._person(person)
        chat = self.state.chats[message.chat_id]
        query = CallbackQuery(f"{next(self.state.query_numbers)}{sender.id}", sender.id, chat.id,
                              message.message_id, callback_data, self.state.now())
        self.state.queries[query.id] = query
        self.state.add_update({"callback_query": {
            "id": query.id, "from": sender.as_json(), "message": message.as_json(chat, self.state.bot),
            "chat_instance": str(abs(chat.id) * 7919 + self.state.bot["id"]), "data": callback_data}})
        return query.id

    async def tap(self, person: Person, message: SentMessage, label: str) -> str:
        """Press the inline button whose visible text is `label`, as a person would."""
        matches = [data for text, data in buttons(message.reply_markup) if text == label and data is not None]
        if not matches:
            raise AssertionError(f"no button labelled {label!r} on {buttons(message.reply_markup)}")
        return await self.press(person, message, matches[0])

    async def enqueue(self, update: dict) -> dict:
        """A raw update (e.g. one repeating an update_id); update_id is added when missing."""
        return self.state.add_update(dict(update))

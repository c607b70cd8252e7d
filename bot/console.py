"""The terminal channel (`helpline chat`): the same conversation as on Telegram, typed in a terminal.

A location is typed as `/loc 40.3007,21.7887`, a photo as `/photo path/to/file.jpg`; a button is pressed by
typing its number. `/quit` (or Ctrl-D) leaves.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from bot.i18n import Translator
from core.dialogue import Button, Conversation, Input, Kind, Reply, Sender, T
from core.tickets import Photo

LOCATION = re.compile(r"^/loc\s+(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)\s*$")


class Console:
    def __init__(self, conversation: Conversation, translator: Translator, sender: Sender,
                 write: Callable[[str], None] = print) -> None:
        self.conversation = conversation
        self.translator = translator
        self.sender = sender
        self.write = write
        self.buttons: list[Button] = []

    def parse(self, line: str) -> Input | None:
        """What the typed line means, or None for a line that needs only a local answer."""
        line = line.strip()
        if line.isdigit() and self.buttons:
            index = int(line) - 1
            return Input(Kind.BUTTON, self.buttons[index].data) if 0 <= index < len(self.buttons) else None
        if m := LOCATION.match(line):
            return Input(Kind.LOCATION, lat=float(m.group(1)), lon=float(m.group(2)))
        if line.startswith("/photo"):
            path = Path(line.removeprefix("/photo").strip()).expanduser()
            return Input(Kind.PHOTO, photo=Photo(str(path.resolve()))) if path.is_file() else None
        if line.startswith("/"):
            name, _, args = line[1:].partition(" ")
            return Input(Kind.COMMAND, name, args.strip())
        return Input(Kind.TEXT, line)

    async def send(self, line: str) -> None:
        inp = self.parse(line)
        if inp is None:
            self.write(self.translator.plain(T("console_input_hint"), self.sender.language_code or "en"))
            return
        replies, lang = await self.conversation.handle(self.sender, inp)
        self.buttons = []
        for reply in replies:
            self.show(reply, lang)

    def show(self, reply: Reply, lang: str) -> None:
        self.write("\n\n".join(self.translator.plain(part, lang) for part in reply.parts))
        for row in reply.buttons:
            labels = []
            for button in row:
                self.buttons.append(button)
                labels.append(f"[{len(self.buttons)}] {self.translator.label(button, lang)}")
            self.write("   ".join(labels))
        if reply.ask_location:
            self.write(self.translator.plain(T("console_location_hint"), lang))
        self.write("")


async def chat_loop(console: Console, read: Callable[[str], str] = input) -> None:
    await console.send("/start")
    while True:
        try:
            line = read("> ")
        except (EOFError, KeyboardInterrupt):
            return
        if line.strip() in ("/quit", "/exit"):
            return
        if line.strip():
            await console.send(line)

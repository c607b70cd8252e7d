"""The helpline assembled for tests the way bot/app.py assembles it, on a test database and a fixed clock."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bot.console import Console
from bot.geo import GeopyPlaces, OfflineGazetteer
from bot.i18n import Translator
from bot.knowledge import load_emergency_words
from bot.profiles import load_profile
from core.dialogue import Conversation, Sender
from core.services import Helpline
from nlu.client import NoNLU
from nlu.langid import detect_language
from tests.support.clock import FixedClock

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "data" / "municipalities"
LOCALES = ROOT / "data" / "locales"
# A Tuesday morning in March, office hours everywhere.
T0 = datetime(2026, 3, 3, 8, 0, tzinfo=timezone.utc)


async def same_thread(func, *args, **kwargs):
    return func(*args, **kwargs)


@dataclass
class Stack:
    helpline: Helpline
    conversation: Conversation
    translator: Translator
    clock: FixedClock

    def console(self, chat_id: int = 1001, language: str | None = "en", name: str = "Maria") -> "Transcript":
        transcript = Transcript()
        transcript.console = Console(self.conversation, self.translator, Sender(chat_id, name, language),
                                     transcript.lines.append)
        return transcript


@dataclass
class Transcript:
    """What a resident at a terminal sees, and a way to answer."""
    lines: list[str] = field(default_factory=list)
    console: Console | None = None

    async def say(self, line: str) -> str:
        start = len(self.lines)
        await self.console.send(line)
        return "\n".join(self.lines[start:])

    async def press(self, label_part: str) -> str:
        """Press the button whose label contains `label_part` (as a resident would, by its number)."""
        for number, button in enumerate(self.console.buttons, start=1):
            if label_part.lower() in self.console.translator.label(button, "en").lower() or \
                    label_part in button.data:
                return await self.say(str(number))
        raise AssertionError(f"no button like {label_part!r}; buttons: "
                             f"{[self.console.translator.label(b, 'en') for b in self.console.buttons]}")


def build_stack(uow_factory, slug: str = "kozani", nlu=None, clock: FixedClock | None = None) -> Stack:
    profile = load_profile(slug, PROFILES)
    clock = clock or FixedClock(T0)
    helpline = Helpline(uow_factory, profile, clock)
    geocoder = GeopyPlaces(OfflineGazetteer(profile.gazetteer.streets), profile, to_thread=same_thread)
    conversation = Conversation(helpline, nlu or NoNLU(), geocoder, detect_language,
                                load_emergency_words(ROOT / "data" / "emergency" / "keywords.yml"))
    return Stack(helpline, conversation, Translator(LOCALES, profile.calendar.timezone), clock)

"""Residents who keep reporting problems whatever the bot is going through, as people do: read the bot's last
message, do what it asks (tap the button, share the place), and when the bot says nothing for a while, do it
again. Each report has its own words, so that every ticket can be traced back to the report it came from."""
from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass, field

from core.dialogue import T
from tests.faults.town import KOZANI_CENTRE
from tests.support.fake_telegram import FakeTelegram, SentMessage
from tests.support.stack import T0

PATIENCE_S = 15.0        # how long a resident waits for an answer before doing the same thing again
QUIET_S = 0.3            # the bot's answer is complete when nothing more came for this long


@dataclass
class Reporter:
    tg: FakeTelegram
    id: int
    translator: object
    rng: random.Random
    reports: list[str] = field(default_factory=list)     # the words of each report begun
    gave_up_waiting: int = 0

    def __post_init__(self) -> None:
        self.tg.user(self.id, f"Resident {self.id}", language_code="en")
        self.label = {key: self.translator.label(T(key), "en")
                      for key in ("btn_send", "btn_skip", "btn_new_problem", "category_streetlight")}
        example = "KOZ-0000-00000"
        filed = self.translator.plain(T("filed", ref=example, department="-", due=T0), "en")
        self.filed = re.compile(re.escape(filed.split(example)[0]) + r"([A-Z]+-\d{4}-\d{5})")

    # --- what the resident saw -------------------------------------------------------------------

    def messages(self) -> list[SentMessage]:
        return self.tg.messages_to(self.id)

    def confirmed(self) -> list[str]:
        """References of the reports the bot confirmed as filed, as the resident read them."""
        return [found.group(1) for m in self.messages() if (found := self.filed.search(m.text or ""))]

    # --- acting -----------------------------------------------------------------------------------

    async def keep_reporting(self, stop: asyncio.Event) -> None:
        await self._then_wait(self.tg.send_command(self.id, "/start"), stop)
        while not stop.is_set():
            await self._then_wait(self._next_step(), stop)

    async def _then_wait(self, action, stop: asyncio.Event) -> None:
        before = len(self.messages())
        try:
            await action
        except AssertionError:          # the buttons went away meanwhile: look again
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE_S
        while len(self.messages()) == before and loop.time() < deadline and not stop.is_set():
            await asyncio.sleep(0.05)
        if len(self.messages()) == before:
            self.gave_up_waiting += not stop.is_set()
            return
        count = -1
        while count != len(self.messages()):
            count = len(self.messages())
            await asyncio.sleep(QUIET_S)

    def _next_step(self):
        last = self.messages()[-1] if self.messages() else None
        labels = [text for text, _ in self.tg.buttons(last)] if last else []
        for wanted in ("English", self.label["btn_send"], self.label["category_streetlight"],
                       self.label["btn_new_problem"], self.label["btn_skip"]):
            if wanted in labels:
                return self.tg.tap(self.id, last, wanted)
        if last is not None and _asks_for_location(last):
            lat, lon = KOZANI_CENTRE
            return self.tg.send_location(self.id, lat + self.rng.uniform(-0.002, 0.002),
                                         lon + self.rng.uniform(-0.002, 0.002))
        self.reports.append(f"Street light {self.id}-{len(self.reports) + 1} is dark")
        return self.tg.send_text(self.id, self.reports[-1])


def _asks_for_location(message: SentMessage) -> bool:
    rows = (message.reply_markup or {}).get("keyboard") or []
    return any(isinstance(b, dict) and b.get("request_location") for row in rows for b in row)

"""Per-resident limits: how many new reports an hour and how many messages a minute one person may send.

Beyond a limit the resident is told once per window, in their language, and the extra input is left
unprocessed; nothing already filed is touched. Reports are counted in the database (tickets the resident
filed in the last hour), so the limit holds across restarts and across several bot processes. Messages are
counted in this process's memory: with several processes behind a load balancer each one counts its own. Only
the residents who wrote in the last minute are remembered, so the memory does not grow with the residents served.
Emergencies are never limited (the channel checks core/emergency.py before asking here).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from core.ports import Clock
from core.services import Helpline

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class LimitsPolicy:
    """0 means no limit."""
    reports_per_hour: int = 5
    messages_per_minute: int = 20


class Verdict(StrEnum):
    PASS = "pass"          # handle it as usual
    TELL = "tell"          # over the limit, first time in this window: say so, do not handle it
    DROP = "drop"          # over the limit, already told: do not handle it, say nothing more


@dataclass(slots=True)
class _Window:
    start: datetime
    count: int = 0
    told: bool = False


@dataclass
class MessageCounter:
    """Messages per resident in fixed one-minute windows, in this process's memory.

    `windows` is kept in the order the windows started (a new window moves its resident to the end), so the
    expired ones are at the front and are forgotten as soon as they expire: it holds only the residents who
    started a window in the last minute, however many residents the bot has served.
    """
    per_minute: int
    clock: Clock
    windows: OrderedDict[int, _Window] = field(default_factory=OrderedDict)

    def admit(self, resident: int) -> Verdict:
        if self.per_minute <= 0:
            return Verdict.PASS
        now = self.clock.now()
        self._forget_expired(now)
        window = self.windows.get(resident)
        if window is None or now - window.start >= MINUTE:    # (expired yet kept only if the clock went back)
            self.windows.pop(resident, None)
            window = self.windows[resident] = _Window(now)
        window.count += 1
        if window.count <= self.per_minute:
            return Verdict.PASS
        if window.told:
            return Verdict.DROP
        window.told = True
        return Verdict.TELL

    def _forget_expired(self, now: datetime) -> None:
        """Drop the windows that started a minute ago or more (the oldest first; stop at the first live one)."""
        while self.windows:
            resident, window = next(iter(self.windows.items()))
            if now - window.start < MINUTE:
                return
            del self.windows[resident]


@dataclass
class ReportAllowance:
    """New reports per resident in the last hour, counted from the tickets in the database."""
    per_hour: int
    helpline: Helpline
    told_until: dict[int, datetime] = field(default_factory=dict)

    def admit(self, telegram_id: int) -> tuple[Verdict, datetime | None]:
        """The verdict for filing one more report now, and when the resident may file again."""
        if self.per_hour <= 0:
            return Verdict.PASS, None
        now = self.helpline.clock.now()
        filed = sorted(self.filed_since(telegram_id, now - HOUR))
        if len(filed) < self.per_hour:
            return Verdict.PASS, None
        again = filed[-self.per_hour] + HOUR
        if self.told_until.get(telegram_id, now) > now:
            return Verdict.DROP, again
        self.told_until = {r: t for r, t in self.told_until.items() if t > now}
        self.told_until[telegram_id] = again
        return Verdict.TELL, again

    def filed_since(self, telegram_id: int, since: datetime) -> list[datetime]:
        """When the resident writing from this chat filed each report since `since`."""
        with self.helpline.uow(autocommit=True) as uow:
            return uow.tickets.filed_by(telegram_id, since)

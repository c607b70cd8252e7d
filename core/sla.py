"""Due dates on a municipality's working calendar: work week, office hours, public holidays, time zone.

All rules are wall-clock rules: times are worked out in the municipality's local time with zoneinfo and
converted to UTC at the end, so office hours stay 08:00-16:00 local on both sides of a DST change.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from core.profile import CalendarSpec, Sla

UTC = timezone.utc
_SEARCH_LIMIT_DAYS = 3 * 366


@lru_cache(maxsize=256)
def public_holidays(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    """The days a municipal office closes for: the `holidays` package's "public" category only.

    For Israel that category is the statutory rest days (Rosh Hashanah, Yom Kippur, the first and last days
    of Sukkot and Pesach, Shavuot, Independence Day); Chol HaMoed, Purim and memorial days ("optional") are
    working days. For Slovenia the "workday" category (holidays that are not days off) is left out.
    """
    found = holidays.country_holidays(country, subdiv=subdiv, years=year, categories=("public",))
    return frozenset(found)


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone; due dates need a timezone-aware datetime")


class WorkingCalendar:
    """A municipality's office calendar; every instant it returns is in UTC."""

    def __init__(self, spec: CalendarSpec) -> None:
        _check_spec(spec)
        self.spec = spec
        self.zone = ZoneInfo(spec.timezone)
        self._extra = frozenset(spec.extra_holidays)

    def is_working_day(self, d: date) -> bool:
        if d.isoweekday() not in self.spec.work_week or d in self._extra:
            return False
        return d not in public_holidays(self.spec.holiday_country, self.spec.holiday_subdiv, d.year)

    def is_open(self, at: datetime) -> bool:
        wall = self._wall(at)
        return self.is_working_day(wall.date()) and self.spec.opens <= wall.time() < self.spec.closes

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself (in UTC) while the office is open, otherwise the next time it opens."""
        if self.is_open(at):
            return at.astimezone(UTC)
        return self._utc(self._next_opening_wall(self._wall(at)))

    def closing_time(self, d: date) -> datetime:
        return self._utc(datetime.combine(d, self.spec.closes))

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant when `hours` of office time have passed since `start` (to the second).

        Counting begins at the next opening; a count that ends exactly at closing time ends there.
        Zero hours therefore gives the next opening.
        """
        if hours < 0:
            raise ValueError(f"working hours cannot be negative: {hours}")
        remaining = timedelta(seconds=round(hours * 3600))
        cursor = self._wall(self.next_opening(start))
        while True:
            left_today = datetime.combine(cursor.date(), self.spec.closes) - cursor
            if remaining <= left_today:
                return self._utc(cursor + remaining)
            remaining -= left_today
            cursor = datetime.combine(self._next_working_day(cursor.date()), self.spec.opens)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Closing time of the `days`-th working day after day zero, the day of the next opening."""
        if days < 0:
            raise ValueError(f"working days cannot be negative: {days}")
        day = self._wall(self.next_opening(start)).date()
        for _ in range(days):
            day = self._next_working_day(day)
        return self.closing_time(day)

    def _next_working_day(self, d: date) -> date:
        for offset in range(1, _SEARCH_LIMIT_DAYS):
            candidate = d + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {_SEARCH_LIMIT_DAYS} days after {d}")

    def _next_opening_wall(self, wall: datetime) -> datetime:
        if self.is_working_day(wall.date()) and wall.time() < self.spec.opens:
            return datetime.combine(wall.date(), self.spec.opens)
        return datetime.combine(self._next_working_day(wall.date()), self.spec.opens)

    def _wall(self, at: datetime) -> datetime:
        """Local wall-clock time of an aware instant, as a naive datetime."""
        _require_aware(at)
        return at.astimezone(self.zone).replace(tzinfo=None)

    def _utc(self, wall: datetime) -> datetime:
        return wall.replace(tzinfo=self.zone).astimezone(UTC)


def _check_spec(spec: CalendarSpec) -> None:
    try:
        ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {spec.timezone!r}") from None
    if not spec.work_week or not set(spec.work_week) <= set(range(1, 8)):
        raise ValueError(f"work week must list ISO weekdays 1..7, got {spec.work_week!r}")
    if not spec.opens < spec.closes:
        raise ValueError(f"office must open before it closes, got {spec.opens}-{spec.closes}")
    try:
        holidays.country_holidays(spec.holiday_country, subdiv=spec.holiday_subdiv)
    except NotImplementedError as error:
        raise ValueError(f"no public holiday data: {error}") from None


def due_dates(filed_at: datetime, sla: Sla, calendar: WorkingCalendar) -> tuple[datetime, datetime]:
    """(acknowledge by, resolve by) for a ticket filed at `filed_at`, both in UTC."""
    return (calendar.add_working_hours(filed_at, sla.acknowledge_hours),
            calendar.add_working_days(filed_at, sla.resolve_days))

"""The municipality's small knowledge base, and answering residents' questions from it.

A profile's knowledge.yml (read by bot/knowledge.py) gives each department's office (address, phone, e-mail,
office hours) and a short answer per topic in every language of the profile. A question's NLU intent names
the topic; the answer names the department it comes from and, for office hours, whether that office is open
right now in the municipality's time zone (public holidays closed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from core.profile import CalendarSpec

Names = dict[str, str]

TOPICS = ("bulky_waste", "recycling", "certificates", "fees", "privacy", "how_to_report")
OFFICE_HOURS, CONTACT = "office_hours", "contact"
INTENT_TOPICS = {f"ask_{topic}": topic for topic in (OFFICE_HOURS, CONTACT) + TOPICS}
EMERGENCY, TALK_TO_PERSON = "emergency", "talk_to_person"
MAX_ANSWER = 700                         # characters; a topic's answer fits in one message with room to spare


@dataclass(frozen=True)
class Hours:
    """Opening hours on a run of consecutive weekdays (ISO: 1 = Monday ... 7 = Sunday)."""
    days: tuple[int, ...]
    opens: time
    closes: time


@dataclass(frozen=True)
class Office:
    department: str                       # a department key of the profile
    address: Names
    phone: str | None = None
    email: str | None = None
    hours: tuple[Hours, ...] = ()

    def hours_on(self, day: date) -> Hours | None:
        return next((h for h in self.hours if day.isoweekday() in h.days), None)


@dataclass(frozen=True)
class Topic:
    key: str
    department: str                       # where the answer comes from
    answer: Names


@dataclass(frozen=True)
class Knowledge:
    front_desk: str | None = None         # the office that answers "when are you open?" and "how do I call you?"
    offices: dict[str, Office] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)


@dataclass(frozen=True)
class OpenNow:
    open: bool
    closes: datetime | None = None        # today's closing time, while open
    opens: datetime | None = None         # the next opening, while closed (None: no hours known)


@dataclass(frozen=True)
class Answer:
    topic: str                            # office_hours, contact, or one of TOPICS
    department: str | None
    office: Office | None = None
    text: Names | None = None
    now: OpenNow | None = None


def topic_of(intent: str | None) -> str | None:
    return INTENT_TOPICS.get(intent or "")


def answer(knowledge: Knowledge, intent: str | None, calendar: CalendarSpec, at: datetime) -> Answer | None:
    """The answer to a question with this intent, or None when the knowledge base has none."""
    topic = topic_of(intent)
    if topic in (OFFICE_HOURS, CONTACT):
        office = knowledge.offices.get(knowledge.front_desk or "")
        if office is None:
            return None
        now = open_now(office, calendar, at) if topic == OFFICE_HOURS else None
        return Answer(topic, office.department, office, now=now)
    if topic in knowledge.topics:
        found = knowledge.topics[topic]
        return Answer(topic, found.department, knowledge.offices.get(found.department), found.answer)
    return None


def open_now(office: Office, calendar: CalendarSpec, at: datetime) -> OpenNow:
    """Is the office open at `at`, in the municipality's time zone? Public and local holidays are closed."""
    zone = ZoneInfo(calendar.timezone)
    local = at.astimezone(zone)
    hours = _hours(office, calendar, local.date())
    if hours and hours.opens <= local.time() < hours.closes:
        return OpenNow(True, closes=datetime.combine(local.date(), hours.closes, zone))
    return OpenNow(False, opens=_next_opening(office, calendar, local))


def _hours(office: Office, calendar: CalendarSpec, day: date) -> Hours | None:
    from core.sla import public_holidays   # core.sla imports core.profile, which imports this module

    if day in calendar.extra_holidays or day in public_holidays(calendar.holiday_country, calendar.holiday_subdiv,
                                                                 day.year):
        return None
    return office.hours_on(day)


def _next_opening(office: Office, calendar: CalendarSpec, local: datetime) -> datetime | None:
    for ahead in range(0, 31):
        day = local.date() + timedelta(days=ahead)
        hours = _hours(office, calendar, day)
        if hours and (ahead or local.time() < hours.opens):
            return datetime.combine(day, hours.opens, local.tzinfo)
    return None

"""A municipality's profile as the domain sees it: departments, categories, areas, calendar, SLAs.

Plain frozen data. Loading and validating the YAML files lives in bot/profiles.py.
Polygons are sequences of (lon, lat) pairs, closed (first point == last point), as in GeoJSON.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from core.answers import Knowledge

Polygon = tuple[tuple[float, float], ...]
Names = dict[str, str]   # language code -> text


@dataclass(frozen=True)
class CalendarSpec:
    timezone: str                         # IANA name, e.g. "Europe/Athens"
    work_week: tuple[int, ...]            # ISO weekdays that are working days: 1=Monday .. 7=Sunday
    opens: time                           # office hours, local time
    closes: time
    holiday_country: str                  # for the holidays package: "GR", "SI", "IL"
    holiday_subdiv: str | None = None
    extra_holidays: tuple[date, ...] = () # local feast days and other closures


@dataclass(frozen=True)
class Sla:
    acknowledge_hours: float              # working hours to acknowledge
    resolve_days: int                     # working days to resolve


@dataclass(frozen=True)
class Department:
    key: str
    names: Names
    chat_id: int | None = None            # the department's Telegram group


@dataclass(frozen=True)
class OutsideBody:
    key: str
    names: Names
    referral: Names                       # what the resident is told: whom to contact and how
    contact: str | None = None


@dataclass(frozen=True)
class Area:
    key: str
    names: Names
    polygon: Polygon


@dataclass(frozen=True)
class Category:
    key: str                              # the municipality's own code for it
    canonical: str                        # one of core.tickets.CATEGORIES
    names: Names
    sla: Sla
    department: str | None = None         # responsible department by default
    outside_body: str | None = None       # or: not the municipality's job, refer to this body
    by_area: dict[str, str] = field(default_factory=dict)   # area key -> department or outside body key
    duplicate_radius_m: float = 50.0
    urgent: bool = False


@dataclass(frozen=True)
class Operators:
    """The citizen's line: its operators' group chat, and when a person answers residents."""
    chat_id: int | None = None            # the operators' Telegram group (or bind "operators" with the CLI)
    show_first_names: bool = False        # may residents see the operator's first name?
    work_week: tuple[int, ...] | None = None   # None: the municipality's calendar
    opens: time | None = None
    closes: time | None = None


@dataclass(frozen=True)
class Gazetteer:
    """A small sample street list for offline geocoding: name -> (lat, lon)."""
    streets: dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Profile:
    slug: str
    names: Names
    ref_prefix: str                       # three letters, e.g. "KOZ"
    country: str                          # ISO 3166-1 alpha-2
    languages: tuple[str, ...]            # first is the default; "en" always included
    calendar: CalendarSpec
    departments: dict[str, Department]
    triage_department: str
    categories: dict[str, Category]       # keyed by canonical category
    outside_bodies: dict[str, OutsideBody]
    areas: tuple[Area, ...]
    boundary: Polygon
    gazetteer: Gazetteer
    emergency_numbers: dict[str, str] = field(default_factory=dict)
    ombudsman_chat_id: int | None = None
    operators: Operators = field(default_factory=Operators)
    knowledge: Knowledge = field(default_factory=Knowledge)   # knowledge.yml: offices, answers

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def category(self, canonical: str) -> Category:
        """The profile's category for a canonical one; unmapped ones fall back to "other"."""
        return self.categories.get(canonical) or self.categories["other"]

"""Load a municipality's profile from data/municipalities/<slug>/ and check it before anything uses it.

Every problem becomes one line naming the file, the key and what is wrong. All problems are collected
before raising, so the municipality's IT person can fix them in one go.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml
from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints,
                      ValidationError, field_validator, model_validator)
from shapely.geometry import Point
from shapely.geometry import Polygon as ShapelyPolygon

from bot.knowledge import KNOWLEDGE, read_knowledge
from core import profile as core
from core.tickets import CATEGORIES

PROFILE, DEPARTMENTS, CATEGORIES_FILE, AREAS, GAZETTEER = (
    "profile.yml", "departments.yml", "categories.yml", "areas.yml", "gazetteer.yml")
FILES = (PROFILE, DEPARTMENTS, CATEGORIES_FILE, AREAS, GAZETTEER)
YEARLY_HOLIDAY_YEARS = range(2020, 2051)   # "MM-DD" local holidays are expanded over these years


class ProfileError(Exception):
    """A profile that cannot be used; `.problems` holds one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# --- the shape of each file ---------------------------------------------------------------------------

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Names = dict[str, Text]


def _ring(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) < 4:
        raise ValueError(f"a polygon needs at least 4 points (the first repeated at the end); it has {len(points)}")
    for i, (lon, lat) in enumerate(points):
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(f"point {i} [{lon}, {lat}] is out of range; write [longitude, latitude]")
    if tuple(points[0]) != tuple(points[-1]):
        raise ValueError("the polygon is not closed: the last point must repeat the first")
    return points


Ring = Annotated[list[tuple[float, float]], AfterValidator(_ring)]


def _clock(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError('write the time in quotes, like "08:00"')
    return value


def _holiday(value: Any) -> date | tuple[int, int]:
    """A one-off date (2026-05-04) or a yearly "MM-DD" feast day."""
    text = str(value)
    try:
        if re.fullmatch(r"\d\d-\d\d", text):
            day = date.fromisoformat(f"2000-{text}")
            return (day.month, day.day)
        return value if isinstance(value, date) else date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date; write YYYY-MM-DD once, or \"MM-DD\" for every year") from None


def _phone(value: Any) -> Any:
    return str(value) if isinstance(value, int) else value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CalendarIn(_Model):
    timezone: str
    work_week: list[int]
    opens: Annotated[time, BeforeValidator(_clock)]
    closes: Annotated[time, BeforeValidator(_clock)]
    holiday_country: str
    holiday_subdiv: str | None = None
    extra_holidays: list[Annotated[Any, BeforeValidator(_holiday)]] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use a name like Europe/Athens") from None
        return value

    @field_validator("work_week")
    @classmethod
    def _week(cls, days: list[int]) -> list[int]:
        if not days or len(set(days)) != len(days) or not all(1 <= d <= 7 for d in days):
            raise ValueError(f"{days} is not a work week: list weekday numbers 1 (Monday) to 7 (Sunday), each once")
        return days

    @field_validator("holiday_country")
    @classmethod
    def _country(cls, value: str) -> str:
        if value not in holidays.list_supported_countries():
            raise ValueError(f"unknown holiday country {value!r}; use a two-letter code like GR, SI or IL")
        return value

    @model_validator(mode="after")
    def _hours(self) -> CalendarIn:
        if self.opens >= self.closes:
            raise ValueError(f"office hours: opens ({self.opens:%H:%M}) must be before closes ({self.closes:%H:%M})")
        subdivisions = holidays.list_supported_countries().get(self.holiday_country, [])
        if self.holiday_subdiv is not None and self.holiday_subdiv not in subdivisions:
            raise ValueError(f"holiday_subdiv {self.holiday_subdiv!r} is not a subdivision of {self.holiday_country}")
        return self


class OperatorsIn(_Model):
    chat_id: int | None = None
    show_first_names: bool = False
    work_week: list[int] | None = None
    opens: Annotated[time | None, BeforeValidator(_clock)] = None
    closes: Annotated[time | None, BeforeValidator(_clock)] = None

    @model_validator(mode="after")
    def _hours(self) -> OperatorsIn:
        if (self.opens is None) != (self.closes is None):
            raise ValueError("give both opens and closes for the operators' hours, or neither")
        if self.opens is not None and self.opens >= self.closes:
            raise ValueError(f"operators' hours: opens ({self.opens:%H:%M}) must be before closes "
                             f"({self.closes:%H:%M})")
        if self.work_week is not None and (not self.work_week or not all(1 <= d <= 7 for d in self.work_week)):
            raise ValueError(f"{self.work_week} is not a work week: list weekday numbers 1 (Monday) to 7 (Sunday)")
        return self


class ProfileIn(_Model):
    names: Names
    ref_prefix: str
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    languages: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]] = Field(min_length=1)
    calendar: CalendarIn
    emergency_numbers: dict[str, Annotated[str, BeforeValidator(_phone)]] = {}
    ombudsman_chat_id: int | None = None
    operators: OperatorsIn = OperatorsIn()

    @field_validator("ref_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f"{value!r} must be exactly three capital letters, like KOZ")
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, codes: list[str]) -> list[str]:
        if len(set(codes)) != len(codes):
            raise ValueError("a language is listed twice")
        if "en" not in codes:
            raise ValueError("English (en) must be one of the languages")
        return codes


class DepartmentIn(_Model):
    names: Names
    chat_id: int | None = None


class OutsideBodyIn(_Model):
    names: Names
    referral: Names
    contact: str | None = None


class DepartmentsIn(_Model):
    triage: str
    departments: dict[Key, DepartmentIn] = Field(min_length=1)
    outside_bodies: dict[Key, OutsideBodyIn] = {}


class SlaIn(_Model):
    acknowledge_hours: float = Field(gt=0)
    resolve_days: int = Field(ge=1)


class CategoryIn(_Model):
    canonical: str
    names: Names
    department: str | None = None
    outside_body: str | None = None
    by_area: dict[str, str] = {}
    sla: SlaIn | None = None
    duplicate_radius_m: float | None = Field(default=None, gt=0)
    urgent: bool = False


class DefaultsIn(_Model):
    sla: SlaIn | None = None
    duplicate_radius_m: float = Field(default=50.0, gt=0)


class CategoriesIn(_Model):
    defaults: DefaultsIn = DefaultsIn()
    categories: dict[Key, CategoryIn] = Field(min_length=1)


class AreaIn(_Model):
    names: Names
    polygon: Ring


class AreasIn(_Model):
    boundary: Ring
    areas: dict[Key, AreaIn] = {}


class PlaceIn(_Model):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class GazetteerIn(_Model):
    streets: dict[Text, PlaceIn] = {}


SCHEMAS: dict[str, type[_Model]] = {PROFILE: ProfileIn, DEPARTMENTS: DepartmentsIn,
                                    CATEGORIES_FILE: CategoriesIn, AREAS: AreasIn, GAZETTEER: GazetteerIn}


# --- reading and reporting -------------------------------------------------------------------------

class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key written twice in one mapping (plain YAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} appears twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def key_path(loc: tuple) -> str:
    """('categories', 'x', 'by_area', 0) -> 'categories.x.by_area[0]'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _message(error: dict) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "missing":
        return "is missing"
    if kind == "extra_forbidden":
        return "is not a known key (check the spelling)"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    return f"{msg[0].lower()}{msg[1:]} (found {error['input']!r})"


def _read(path: Path) -> tuple[Any, list[str]]:
    if not path.is_file():
        return None, [f"{path}: the file is missing"]
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(somewhere)"
        return None, [f"{path}: {where}: bad YAML syntax: {getattr(e, 'problem', None) or e}"]
    except UnicodeDecodeError:
        return None, [f"{path}: the file is not UTF-8 text"]
    if not isinstance(data, dict):
        return None, [f"{path}: (top level): must be a mapping of keys, like `names:`"]
    return data, []


def _parse(path: Path, schema: type[_Model]) -> tuple[_Model | None, Any, list[str]]:
    """The file's checked model (None if it has problems), its raw data, and its problems."""
    data, problems = _read(path)
    if data is None:
        return None, None, problems
    try:
        return schema.model_validate(data), data, []
    except ValidationError as e:
        loc_of = lambda err: tuple(p for p in err["loc"] if p != "[key]")
        return None, data, [f"{path}: {key_path(loc_of(err))}: {_message(err)}" for err in e.errors()]


# --- checks across keys and files -------------------------------------------------------------------

def _all_names(parsed: dict[str, Any]) -> Iterator[tuple[str, str, dict]]:
    """Every translated text in the profile: (file, key path, language -> text)."""
    if p := parsed.get(PROFILE):
        yield PROFILE, "names", p.names
    if d := parsed.get(DEPARTMENTS):
        for key, dept in d.departments.items():
            yield DEPARTMENTS, f"departments.{key}.names", dept.names
        for key, body in d.outside_bodies.items():
            yield DEPARTMENTS, f"outside_bodies.{key}.names", body.names
            yield DEPARTMENTS, f"outside_bodies.{key}.referral", body.referral
    if c := parsed.get(CATEGORIES_FILE):
        for key, cat in c.categories.items():
            yield CATEGORIES_FILE, f"categories.{key}.names", cat.names
    if a := parsed.get(AREAS):
        for key, area in a.areas.items():
            yield AREAS, f"areas.{key}.names", area.names


def _languages(raw_profile: Any) -> list[str]:
    """The profile's languages, read even from a profile.yml that has other problems."""
    languages = raw_profile.get("languages") if isinstance(raw_profile, dict) else None
    ok = isinstance(languages, list) and all(isinstance(code, str) for code in languages)
    return languages if ok else []


def _check_translations(parsed: dict[str, Any], languages: list[str]) -> Iterator[tuple[str, str]]:
    for file, path, names in _all_names(parsed):
        for language in languages:
            if language not in names:
                yield file, f"{path}: missing the {language!r} translation (the profile's languages are " \
                            f"{', '.join(languages)})"


def _check_departments(d: DepartmentsIn) -> Iterator[tuple[str, str]]:
    if d.triage not in d.departments:
        yield DEPARTMENTS, f"triage: {d.triage!r} is not one of the departments ({', '.join(d.departments)})"
    for key in d.departments.keys() & d.outside_bodies.keys():
        yield DEPARTMENTS, f"outside_bodies.{key}: the key is also a department's; use a different key"


def _check_category(key: str, cat: CategoryIn, c: CategoriesIn, d: DepartmentsIn | None,
                    a: AreasIn | None) -> Iterator[tuple[str, str]]:
    at = f"categories.{key}"
    if cat.canonical not in CATEGORIES:
        yield CATEGORIES_FILE, f"{at}.canonical: unknown category {cat.canonical!r}; " \
                               f"use one of {', '.join(CATEGORIES)}"
    if cat.sla is None and c.defaults.sla is None:
        yield CATEGORIES_FILE, f"{at}.sla: is missing (and there is no defaults.sla)"
    if cat.department and cat.outside_body:
        yield CATEGORIES_FILE, f"{at}: give either department or outside_body, not both"
    if d is not None:
        if cat.department and cat.department not in d.departments:
            yield CATEGORIES_FILE, f"{at}.department: unknown department {cat.department!r}"
        if cat.outside_body and cat.outside_body not in d.outside_bodies:
            yield CATEGORIES_FILE, f"{at}.outside_body: unknown outside body {cat.outside_body!r}"
        for area, handler in cat.by_area.items():
            if handler not in d.departments and handler not in d.outside_bodies:
                yield CATEGORIES_FILE, f"{at}.by_area.{area}: {handler!r} is neither a department nor " \
                                       f"an outside body"
    if a is not None:
        for area in cat.by_area:
            if area not in a.areas:
                yield CATEGORIES_FILE, f"{at}.by_area.{area}: unknown area {area!r}"


def _check_categories(c: CategoriesIn, d: DepartmentsIn | None, a: AreasIn | None) -> Iterator[tuple[str, str]]:
    first: dict[str, str] = {}
    for key, cat in c.categories.items():
        yield from _check_category(key, cat, c, d, a)
        if cat.canonical in first:
            yield CATEGORIES_FILE, f"categories.{key}.canonical: {cat.canonical!r} is already mapped by " \
                                   f"categories.{first[cat.canonical]}"
        first.setdefault(cat.canonical, key)
    if "other" not in first:
        yield CATEGORIES_FILE, "categories: no category is mapped to 'other'; every profile needs one"


def _check_gazetteer(g: GazetteerIn, a: AreasIn) -> Iterator[tuple[str, str]]:
    boundary = ShapelyPolygon(a.boundary)
    for street, place in g.streets.items():
        if not boundary.covers(Point(place.lon, place.lat)):
            yield GAZETTEER, f"streets.{street}: ({place.lat}, {place.lon}) is outside the boundary in {AREAS}"


def _cross_checks(parsed: dict[str, Any], languages: list[str]) -> Iterator[tuple[str, str]]:
    d, c, a, g = (parsed.get(f) for f in (DEPARTMENTS, CATEGORIES_FILE, AREAS, GAZETTEER))
    yield from _check_translations(parsed, languages)
    if d is not None:
        yield from _check_departments(d)
    if c is not None:
        yield from _check_categories(c, d, a)
    if g is not None and a is not None:
        yield from _check_gazetteer(g, a)


# --- building the domain's Profile ------------------------------------------------------------------

def _ring_out(points: list[tuple[float, float]]) -> core.Polygon:
    return tuple((float(lon), float(lat)) for lon, lat in points)


def _extra_holidays(entries: list[Any]) -> tuple[date, ...]:
    days: set[date] = set()
    for entry in entries:
        if isinstance(entry, date):
            days.add(entry)
            continue
        month, day = entry
        days.update(date(y, month, day) for y in YEARLY_HOLIDAY_YEARS if (month, day) != (2, 29) or y % 4 == 0)
    return tuple(sorted(days))


def _calendar(c: CalendarIn) -> core.CalendarSpec:
    return core.CalendarSpec(c.timezone, tuple(c.work_week), c.opens, c.closes, c.holiday_country,
                             c.holiday_subdiv, _extra_holidays(c.extra_holidays))


def _category(key: str, cat: CategoryIn, defaults: DefaultsIn) -> core.Category:
    sla = cat.sla or defaults.sla
    return core.Category(key, cat.canonical, dict(cat.names), core.Sla(sla.acknowledge_hours, sla.resolve_days),
                         cat.department, cat.outside_body, dict(cat.by_area),
                         cat.duplicate_radius_m or defaults.duplicate_radius_m, cat.urgent)


@dataclass(frozen=True)
class _Parsed:
    p: ProfileIn
    d: DepartmentsIn
    c: CategoriesIn
    a: AreasIn
    g: GazetteerIn


def _build(slug: str, x: _Parsed) -> core.Profile:
    return core.Profile(
        slug=slug, names=dict(x.p.names), ref_prefix=x.p.ref_prefix, country=x.p.country,
        languages=tuple(x.p.languages), calendar=_calendar(x.p.calendar),
        departments={k: core.Department(k, dict(v.names), v.chat_id) for k, v in x.d.departments.items()},
        triage_department=x.d.triage,
        categories={v.canonical: _category(k, v, x.c.defaults) for k, v in x.c.categories.items()},
        outside_bodies={k: core.OutsideBody(k, dict(v.names), dict(v.referral), v.contact)
                        for k, v in x.d.outside_bodies.items()},
        areas=tuple(core.Area(k, dict(v.names), _ring_out(v.polygon)) for k, v in x.a.areas.items()),
        boundary=_ring_out(x.a.boundary),
        gazetteer=core.Gazetteer({name: (pl.lat, pl.lon) for name, pl in x.g.streets.items()}),
        emergency_numbers=dict(x.p.emergency_numbers), ombudsman_chat_id=x.p.ombudsman_chat_id,
        operators=_operators(x.p.operators))


def _operators(o: OperatorsIn) -> core.Operators:
    return core.Operators(o.chat_id, o.show_first_names, tuple(o.work_week) if o.work_week else None,
                          o.opens, o.closes)


# --- public API ---------------------------------------------------------------------------------

def profile_dir(slug_or_path: str | Path, data_dir: Path = Path("data/municipalities")) -> Path:
    """A slug names a folder under data_dir; anything with a slash (or a Path) is the folder itself."""
    if isinstance(slug_or_path, Path) or "/" in slug_or_path or "\\" in slug_or_path:
        return Path(slug_or_path)
    return Path(data_dir) / slug_or_path


def load_profile(slug_or_path: str | Path, data_dir: Path = Path("data/municipalities")) -> core.Profile:
    """Read and check a profile; raise ProfileError listing every problem found."""
    folder = profile_dir(slug_or_path, data_dir)
    if not folder.is_dir():
        raise ProfileError([f"{folder}: no such profile folder"])
    parsed: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    problems: list[str] = []
    for name in FILES:
        parsed[name], raw[name], found = _parse(folder / name, SCHEMAS[name])
        problems += found
    languages = _languages(raw[PROFILE])
    problems += [f"{folder / file}: {text}" for file, text in _cross_checks(parsed, languages)]
    departments = set(parsed[DEPARTMENTS].departments) if parsed[DEPARTMENTS] else set()
    knowledge, found = read_knowledge(folder / KNOWLEDGE, departments, languages)
    problems += found
    if problems:
        raise ProfileError(problems)
    return replace(_build(folder.name, _Parsed(*(parsed[f] for f in FILES))), knowledge=knowledge)


def list_profiles(data_dir: Path = Path("data/municipalities")) -> list[str]:
    """The slugs of the profiles in data_dir (folders holding a profile.yml), sorted."""
    folder = Path(data_dir)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / PROFILE).is_file())

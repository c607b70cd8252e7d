"""Read a profile's knowledge.yml (offices and answers) and the emergency keyword list, with clear errors.

knowledge.yml is optional: a profile without one answers no questions and offers a person instead. When it
is there, every problem is one line naming the file, the key and what is wrong, like the rest of the profile.
"""
from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Any, Iterator

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, \
    field_validator, model_validator

from core.answers import MAX_ANSWER, TOPICS, Hours, Knowledge, Office, Topic
from core.emergency import EmergencyWords

KNOWLEDGE = "knowledge.yml"
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _clock(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError('write the time in quotes, like "08:00"')
    return value


def _phone(value: Any) -> Any:
    return str(value) if isinstance(value, int) else value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HoursIn(_Model):
    days: list[int] = Field(min_length=1)
    opens: Annotated[time, BeforeValidator(_clock)]
    closes: Annotated[time, BeforeValidator(_clock)]

    @model_validator(mode="after")
    def _check(self) -> HoursIn:
        if not all(1 <= d <= 7 for d in self.days) or len(set(self.days)) != len(self.days):
            raise ValueError(f"{self.days} is not a list of weekdays 1 (Monday) to 7 (Sunday), each once")
        if any(b != a % 7 + 1 for a, b in zip(self.days, self.days[1:])):
            raise ValueError(f"{self.days}: list consecutive days in order, like [1, 2, 3, 4, 5] or [7, 1, 2, 3, 4]; "
                             "give other days an entry of their own")
        if self.opens >= self.closes:
            raise ValueError(f"opens ({self.opens:%H:%M}) must be before closes ({self.closes:%H:%M})")
        return self


class OfficeIn(_Model):
    address: dict[str, Text]
    phone: Annotated[str | None, BeforeValidator(_phone)] = None
    email: str | None = None
    hours: list[HoursIn] = []

    @model_validator(mode="after")
    def _days_once(self) -> OfficeIn:
        days = [d for h in self.hours for d in h.days]
        if len(days) != len(set(days)):
            raise ValueError("a weekday appears in two hours entries")
        return self


class TopicIn(_Model):
    department: str
    answer: dict[str, Text]

    @field_validator("answer")
    @classmethod
    def _short(cls, answers: dict[str, str]) -> dict[str, str]:
        for lang, text in answers.items():
            if len(text) > MAX_ANSWER:
                raise ValueError(f"the {lang!r} answer has {len(text)} characters; keep it under {MAX_ANSWER}")
        return answers


class KnowledgeIn(_Model):
    front_desk: str
    offices: dict[str, OfficeIn] = Field(min_length=1)
    topics: dict[str, TopicIn] = {}


def _cross(k: KnowledgeIn, departments: set[str], languages: list[str]) -> Iterator[str]:
    if k.front_desk not in k.offices:
        yield f"front_desk: {k.front_desk!r} is not one of the offices ({', '.join(k.offices)})"
    for key, office in k.offices.items():
        if departments and key not in departments:
            yield f"offices.{key}: not a department in departments.yml"
        yield from (f"offices.{key}.address: missing the {lang!r} translation"
                    for lang in languages if lang not in office.address)
    for key, topic in k.topics.items():
        if key not in TOPICS:
            yield f"topics.{key}: unknown topic; use one of {', '.join(TOPICS)}"
        if departments and topic.department not in departments:
            yield f"topics.{key}.department: unknown department {topic.department!r}"
        yield from (f"topics.{key}.answer: missing the {lang!r} translation"
                    for lang in languages if lang not in topic.answer)


def _build(k: KnowledgeIn) -> Knowledge:
    offices = {key: Office(key, dict(o.address), o.phone, o.email,
                           tuple(Hours(tuple(h.days), h.opens, h.closes) for h in o.hours))
               for key, o in k.offices.items()}
    topics = {key: Topic(key, t.department, dict(t.answer)) for key, t in k.topics.items()}
    return Knowledge(k.front_desk, offices, topics)


def read_knowledge(path: Path, departments: set[str], languages: list[str]) -> tuple[Knowledge, list[str]]:
    """The knowledge base in `path` (empty when the file is absent) and its problems, one line each."""
    if not path.is_file():
        return Knowledge(), []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        return Knowledge(), [f"{path}: bad YAML syntax: {e}"]
    try:
        parsed = KnowledgeIn.model_validate(data)
    except ValidationError as e:
        where = lambda err: ".".join(str(p) for p in err["loc"] if p != "[key]") or "(top level)"  # noqa: E731
        return Knowledge(), [f"{path}: {where(err)}: {err['msg'].removeprefix('Value error, ')}"
                             for err in e.errors()]
    problems = [f"{path}: {line}" for line in _cross(parsed, departments, languages)]
    return (Knowledge(), problems) if problems else (_build(parsed), [])


def load_emergency_words(path: Path) -> EmergencyWords:
    """data/emergency/keywords.yml: language -> phrases."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, list) and all(isinstance(p, str) for p in v)
                                             for v in data.values()):
        raise ValueError(f"{path}: must map each language to a list of phrases")
    return EmergencyWords.of(data)

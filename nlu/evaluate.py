"""How well the NLU understands held-out messages: category accuracy, language id, confusions, speed.

A held-out file is JSON lines: {"text": ..., "category": <canonical category>, "lang": "el"|"sl"|"he"|"en"}
("lang" optional), or {"text", "intent", "lang"} for a message that is not a report (a question, an emergency,
asking for a person: any intent of nlu/intents.py). Report lines and intent lines are scored apart: the
category gate counts report lines only; intent lines get their own table per language and per intent.
For report lines, top-1 counts the intent the NLU settled on (a fallback counts as wrong); top-3 counts
whether the category is among the first three categories of the ranking, the buttons a resident would see.
"""
from __future__ import annotations

import json
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from core.ports import NLU, Understanding
from core.tickets import CATEGORIES
from nlu.intents import INTENTS, category_of

NOT_UNDERSTOOD = "(not understood)"


@dataclass(frozen=True)
class Example:
    text: str
    category: str | None             # a report line's canonical category; None on an intent line
    lang: str | None = None
    intent: str | None = None        # an intent line's expected intent


@dataclass(frozen=True)
class Outcome:
    example: Example
    understanding: Understanding
    seconds: float

    @property
    def predicted(self) -> str:
        u = self.understanding
        if self.example.intent:
            return u.intent or NOT_UNDERSTOOD
        return category_of(u.intent) or u.intent or NOT_UNDERSTOOD

    @property
    def expected(self) -> str:
        return self.example.intent or self.example.category or ""

    @property
    def top1(self) -> bool:
        return self.predicted == self.expected

    @property
    def top3(self) -> bool:
        if self.example.intent:
            return self.example.intent in [s.intent for s in self.understanding.ranking[:3]]
        return self.example.category in top_categories(self.understanding, 3)


def top_categories(understanding: Understanding, n: int = 3) -> list[str]:
    """The first n categories in the ranking, skipping intents that are not reports."""
    found = [c for c in (category_of(s.intent) for s in understanding.ranking) if c]
    return list(dict.fromkeys(found))[:n]


def load_examples(paths: Iterable[str | Path]) -> list[Example]:
    examples = []
    for path in paths:
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if "intent" in row:
                if row["intent"] not in INTENTS:
                    raise ValueError(f"{path}:{number}: intent {row['intent']!r} is not one of nlu/intents.py")
                examples.append(Example(row["text"], None, row.get("lang"), row["intent"]))
                continue
            if row.get("category") not in CATEGORIES:
                raise ValueError(f"{path}:{number}: category {row.get('category')!r} is not canonical")
            examples.append(Example(row["text"], row["category"], row.get("lang")))
    return examples


async def run(nlu: NLU, examples: Iterable[Example]) -> list[Outcome]:
    """Ask the NLU about each example in turn (one at a time, so the timings are honest)."""
    outcomes = []
    for example in examples:
        started = time.perf_counter()
        understanding = await nlu.understand(example.text)
        outcomes.append(Outcome(example, understanding, time.perf_counter() - started))
    return outcomes


@dataclass(frozen=True)
class Score:
    n: int
    top1: float
    top3: float

    @classmethod
    def of(cls, outcomes: list[Outcome]) -> Score:
        n = len(outcomes)
        return cls(n, sum(o.top1 for o in outcomes) / n, sum(o.top3 for o in outcomes) / n) if n else cls(0, 0, 0)


@dataclass
class Report:
    overall: Score
    by_language: dict[str, Score]
    by_category: dict[str, Score]
    language_id: float | None
    language_id_n: int
    confusions: list[tuple[str, str, int]]
    median_ms: float
    p95_ms: float
    unavailable: int
    misses: list[tuple[Example, str]] = field(default_factory=list)
    intents: IntentReport | None = None      # the intent lines, scored apart

    def intents_below(self, min_top1: float | None) -> list[str]:
        """The languages whose intent lines are under the bar, said in words."""
        if self.intents is None or min_top1 is None:
            return []
        return [f"{lang} (intents): top-1 {score.top1:.1%} < {min_top1:.1%}"
                for lang, score in self.intents.by_language.items() if score.top1 < min_top1]

    def below(self, min_top1: float | None, min_top3: float | None) -> list[str]:
        """The languages under the given thresholds, said in words."""
        problems = []
        for lang, score in self.by_language.items():
            if min_top1 is not None and score.top1 < min_top1:
                problems.append(f"{lang}: top-1 {score.top1:.1%} < {min_top1:.1%}")
            if min_top3 is not None and score.top3 < min_top3:
                problems.append(f"{lang}: top-3 {score.top3:.1%} < {min_top3:.1%}")
        return problems


@dataclass
class IntentReport:
    overall: Score
    by_language: dict[str, Score]
    by_intent: dict[str, Score]
    confusions: list[tuple[str, str, int]]
    misses: list[tuple[Example, str]]


def _grouped(outcomes: list[Outcome], key) -> dict[str, Score]:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[key(o)].append(o)
    return {k: Score.of(v) for k, v in sorted(groups.items())}


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(outcomes: list[Outcome], confusions: int = 10) -> Report:
    """The category report over the report lines, with the intent lines' report attached."""
    asked = [o for o in outcomes if o.example.intent]
    result = _category_report([o for o in outcomes if not o.example.intent], confusions)
    result.intents = _intent_report(asked, confusions) if asked else None
    return result


def _intent_report(outcomes: list[Outcome], confusions: int) -> IntentReport:
    pairs = Counter((o.expected, o.predicted) for o in outcomes if not o.top1)
    return IntentReport(Score.of(outcomes), _grouped(outcomes, lambda o: o.example.lang or "?"),
                        _grouped(outcomes, lambda o: o.expected),
                        [(a, b, n) for (a, b), n in pairs.most_common(confusions)],
                        [(o.example, o.predicted) for o in outcomes if not o.top1])


def _category_report(outcomes: list[Outcome], confusions: int) -> Report:
    with_lang = [o for o in outcomes if o.example.lang]
    pairs = Counter((o.example.category, o.predicted) for o in outcomes if not o.top1)
    times = [o.seconds * 1000 for o in outcomes if o.understanding.available]
    return Report(
        overall=Score.of(outcomes),
        by_language=_grouped(outcomes, lambda o: o.example.lang or "?"),
        by_category=_grouped(outcomes, lambda o: o.example.category),
        language_id=(sum(o.understanding.language == o.example.lang for o in with_lang) / len(with_lang)
                     if with_lang else None),
        language_id_n=len(with_lang),
        confusions=[(a, b, n) for (a, b), n in pairs.most_common(confusions)],
        median_ms=statistics.median(times) if times else 0.0,
        p95_ms=_percentile(times, 0.95),
        unavailable=sum(not o.understanding.available for o in outcomes),
        misses=[(o.example, o.predicted) for o in outcomes if not o.top1],
    )


def _score_line(name: str, s: Score) -> str:
    return f"  {name:<24} {s.n:>5} {s.top1:>7.1%} {s.top3:>7.1%}"


def format_report(r: Report, show_misses: int = 0) -> str:
    head = f"  {'':<24} {'n':>5} {'top-1':>7} {'top-3':>7}"
    lines = ["Category accuracy", head, _score_line("all", r.overall), "", "By language", head]
    lines += [_score_line(k, s) for k, s in r.by_language.items()]
    lines += ["", "By category", head] + [_score_line(k, s) for k, s in r.by_category.items()]
    if r.language_id is not None:
        lines += ["", f"Language identification: {r.language_id:.1%} of {r.language_id_n}"]
    lines += ["", "Most common confusions (expected -> understood)"]
    lines += [f"  {n:>4}  {a} -> {b}" for a, b, n in r.confusions] or ["  none"]
    lines += ["", f"Parse time: median {r.median_ms:.0f} ms, p95 {r.p95_ms:.0f} ms"]
    if r.unavailable:
        lines.append(f"NLU unavailable for {r.unavailable} messages (counted as not understood)")
    if show_misses:
        lines += ["", "Misses"] + [f"  [{e.lang}] {e.category} -> {p}: {e.text}" for e, p in r.misses[:show_misses]]
    if r.intents:
        lines += ["", ""] + _format_intents(r.intents, show_misses)
    return "\n".join(lines)


def _format_intents(r: IntentReport, show_misses: int) -> list[str]:
    head = f"  {'':<24} {'n':>5} {'top-1':>7} {'top-3':>7}"
    lines = ["Intent accuracy (questions, emergencies, asking for a person)", head, _score_line("all", r.overall),
             "", "By language", head] + [_score_line(k, s) for k, s in r.by_language.items()]
    lines += ["", "By intent", head] + [_score_line(k, s) for k, s in r.by_intent.items()]
    lines += ["", "Most common confusions (expected -> understood)"]
    lines += [f"  {n:>4}  {a} -> {b}" for a, b, n in r.confusions] or ["  none"]
    if show_misses:
        lines += ["", "Misses"] + [f"  [{e.lang}] {e.intent} -> {p}: {e.text}" for e, p in r.misses[:show_misses]]
    return lines


def report_json(r: Report) -> dict:
    score = lambda s: {"n": s.n, "top1": round(s.top1, 4), "top3": round(s.top3, 4)}  # noqa: E731
    return {
        "overall": score(r.overall),
        "by_language": {k: score(s) for k, s in r.by_language.items()},
        "by_category": {k: score(s) for k, s in r.by_category.items()},
        "language_id": r.language_id,
        "confusions": [{"expected": a, "understood": b, "n": n} for a, b, n in r.confusions],
        "median_ms": round(r.median_ms, 1),
        "p95_ms": round(r.p95_ms, 1),
        "unavailable": r.unavailable,
        "intents": None if r.intents is None else {
            "overall": score(r.intents.overall),
            "by_language": {k: score(s) for k, s in r.intents.by_language.items()},
            "by_intent": {k: score(s) for k, s in r.intents.by_intent.items()},
            "confusions": [{"expected": a, "understood": b, "n": n} for a, b, n in r.intents.confusions],
        },
    }

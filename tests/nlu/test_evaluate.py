"""The evaluation report and the `nlu` commands, with a scripted NLU and the stand-in Rasa server."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from core.ports import IntentScore, Understanding
from core.tickets import CATEGORIES
from nlu.commands import nlu
from nlu.evaluate import Example, load_examples, report, run
from nlu.intents import INTENTS, category_of
from tests.nlu.fake_rasa import FakeRasa


class ScriptedNLU:
    """Answers each text with the ranking it was given."""

    def __init__(self, rankings: dict[str, list[str]], language: str = "en") -> None:
        self.rankings = rankings
        self.language = language

    async def understand(self, text: str) -> Understanding:
        ranking = tuple(IntentScore(i, 0.9 - 0.1 * n) for n, i in enumerate(self.rankings[text]))
        return Understanding(ranking[0].intent, ranking[0].confidence, ranking, language=self.language)


def test_every_category_has_a_report_intent():
    assert {category_of(i) for i in INTENTS} - {None} == set(CATEGORIES)
    assert category_of("check_status") is None and category_of("report_unicorns") is None


async def test_report_counts_top1_top3_per_language_and_confusions():
    examples = [
        Example("a", "pothole", "en"), Example("b", "pothole", "en"),
        Example("c", "tree", "sl"), Example("d", "noise", "sl"),
    ]
    scripted = ScriptedNLU({
        "a": ["report_pothole", "report_tree"],
        "b": ["greet", "report_tree", "report_sidewalk_accessibility", "report_water_leak", "report_pothole"],
        "c": ["report_tree"],
        "d": ["greet", "report_graffiti", "report_tree", "report_noise"],
    })
    result = report(await run(scripted, examples))

    assert (result.overall.top1, result.overall.top3) == (0.5, 0.75)
    assert (result.by_language["en"].top1, result.by_language["en"].top3) == (0.5, 0.5)
    assert (result.by_language["sl"].top1, result.by_language["sl"].top3) == (0.5, 1.0)
    assert result.language_id == 0.5
    assert sorted(result.confusions) == [("noise", "greet", 1), ("pothole", "greet", 1)]
    assert result.below(0.5, 0.75) == ["en: top-3 50.0% < 75.0%"]


def test_a_held_out_line_with_an_unknown_category_is_refused(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "ok", "category": "pothole"}\n\n{"text": "x", "category": "unicorns"}\n')
    with pytest.raises(ValueError, match="x.jsonl:3"):
        load_examples([path])


@pytest.fixture
def rasa():
    with FakeRasa(token="secret") as fake:
        yield fake


def test_classify_prints_category_language_and_reference(rasa):
    result = CliRunner().invoke(nlu, ["--url", rasa.url, "--token", "secret", "classify",
                                      "Big pothole again, see koz-2026-00042"])

    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert (answer["category"], answer["language"]) == ("pothole", "en")
    assert answer["top_categories"] == ["pothole", "sidewalk_accessibility", "water_leak"]
    assert answer["entities"][0]["value"] == "KOZ-2026-00042"


def test_eval_passes_and_fails_on_the_thresholds(rasa, tmp_path):
    path = tmp_path / "en.jsonl"
    path.write_text(json.dumps({"text": "hole", "category": "pothole", "lang": "en"}) + "\n"
                    + json.dumps({"text": "tree down", "category": "tree", "lang": "en"}) + "\n")
    args = ["--url", rasa.url, "--token", "secret", "eval", str(path)]

    relaxed = CliRunner().invoke(nlu, args + ["--min-top1", "0.5"])
    strict = CliRunner().invoke(nlu, args + ["--min-top1", "0.9"])

    assert relaxed.exit_code == 0 and "50.0%" in relaxed.output
    assert strict.exit_code == 1 and "en: top-1 50.0% < 90.0%" in strict.output


def test_eval_says_so_when_rasa_is_not_reachable(rasa, tmp_path):
    path = tmp_path / "en.jsonl"
    path.write_text(json.dumps({"text": "hole", "category": "pothole"}) + "\n")
    result = CliRunner().invoke(nlu, ["--url", rasa.url, "--token", "wrong", "eval", str(path)])

    assert result.exit_code == 1 and "not ready" in result.output


async def test_intent_lines_are_scored_apart_from_report_lines(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "a", "category": "pothole", "lang": "en"}\n'
                    '{"text": "b", "intent": "ask_fees", "lang": "en"}\n'
                    '{"text": "c", "intent": "emergency", "lang": "sl"}\n')
    scripted = ScriptedNLU({"a": ["report_pothole"], "b": ["ask_fees"], "c": ["report_water_leak", "emergency"]})
    result = report(await run(scripted, load_examples([path])))

    assert result.overall.n == 1 and result.overall.top1 == 1.0
    assert result.intents.by_language["en"].top1 == 1.0
    assert (result.intents.by_language["sl"].top1, result.intents.by_language["sl"].top3) == (0.0, 1.0)
    assert result.intents.confusions == [("emergency", "report_water_leak", 1)]
    assert result.intents_below(0.85) == ["sl (intents): top-1 0.0% < 85.0%"]

"""The sentences the NLU is judged on are not in its training data, so the live tests and the held-out figures say
how the model does on what residents write next, not on what it has already seen. Case, accents, punctuation and
spacing do not make a sentence new. Stock phrases of up to three words ("good morning", "agent") are said alike by
everyone and may be in both."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

from nlu.evaluate import load_examples
from tests.nlu.test_dialogue_with_rasa import QUESTIONS, UNLISTED_EMERGENCIES
from tests.nlu.test_rasa_live import ANSWERS, CONVERSATION, REPORTS, STATUS_QUESTIONS

ROOT = Path(__file__).resolve().parents[2]
STOCK_PHRASE_WORDS = 3
ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")     # [text](entity) or [text]{"entity": ...}


def normalised(text: str) -> str:
    text = ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def training_sentences() -> dict[str, str]:
    """Every training example, normalised, with the file it is in."""
    found = {}
    for path in sorted((ROOT / "nlu" / "data").rglob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            for line in (block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    found.setdefault(normalised(line.strip()[2:]), path.name)
    return found


def trained_on(texts, trained: dict[str, str]) -> list[tuple[str, str]]:
    """The sentences (longer than a stock phrase) found in the training data, with the file they are in."""
    return [(text, trained[key]) for text in texts
            if len((key := normalised(text)).split()) > STOCK_PHRASE_WORDS and key in trained]


def test_normalising_ignores_case_accents_punctuation_and_annotations():
    assert normalised("Πού  ΠΆΝΕ τα μπουκάλια;") == normalised("που πανε τα μπουκαλια")
    assert normalised("Kaj je s [KRA-2026-00105](ticket_ref)?") == normalised("kaj je s kra 2026 00105")
    assert normalised("kam naj vržem steklenice") != normalised("kam naj nesem steklenice")


def test_the_sentences_of_the_live_tests_are_not_trained_on():
    judged = [text for _, text, _ in (*REPORTS, *STATUS_QUESTIONS, *CONVERSATION, *ANSWERS)]
    judged += [text for _, text, _ in QUESTIONS.values()] + [text for _, text, _ in UNLISTED_EMERGENCIES.values()]
    trained = training_sentences()

    assert len(trained) > 1000
    assert trained_on(judged, trained) == []


def test_the_held_out_lines_are_not_trained_on():
    held_out = load_examples(sorted((ROOT / "nlu" / "tests" / "heldout").glob("*.jsonl")))
    trained = training_sentences()

    assert len(held_out) > 100
    assert trained_on([e.text for e in held_out], trained) == []

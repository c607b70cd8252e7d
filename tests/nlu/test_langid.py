"""Language of a message, as the helpline tells residents' languages apart."""
import pytest

from nlu.langid import detect_language


@pytest.mark.parametrize("text, language", [
    ("Υπάρχει μεγάλη λακκούβα στην οδό Δημοκρατίας", "el"),
    ("Τι γίνεται με την αναφορά KOZ-2026-00042;", "el"),
    ("Δεν ανάβει το φανάρι", "el"),
    ("יש בור גדול בכביש ליד הבית שלי", "he"),
    ("מה המצב של SDE-2026-00017?", "he"),
    ("Na cesti pred šolo je velika luknja", "sl"),
    ("na cesti pred solo je velika luknja", "sl"),
    ("ulicna luc ne gori ze en teden", "sl"),
    ("smeti niso odpeljane", "sl"),
    ("There is a big pothole in front of the school", "en"),
    ("the street light has been out for a week", "en"),
    ("rubbish was not collected", "en"),
])
def test_each_language_is_recognised(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize("text", [
    "exei megali lakouva sto dromo",
    "den anavei to fanari stin odo Kolokotroni",
    "kalimera",
])
def test_greeklish_counts_as_greek(text):
    assert detect_language(text) == "el"


@pytest.mark.parametrize("text", ["", "   ", "12345", "👍", "KOZ-2026-00042"[3:]])
def test_nothing_to_judge_by(text):
    assert detect_language(text) is None

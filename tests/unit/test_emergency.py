"""Danger is recognised by keywords in every language, as residents type it, and ordinary reports are not."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import load_emergency_words
from core.emergency import EmergencyWords, normalise

KEYWORDS = Path(__file__).resolve().parents[2] / "data" / "emergency" / "keywords.yml"


@pytest.fixture(scope="module")
def words() -> EmergencyWords:
    return load_emergency_words(KEYWORDS)


def test_normalising_drops_case_accents_final_sigma_and_hebrew_final_letters():
    assert normalise("ΜΥΡΊΖΕΙ Γκάζι") == normalise("μυριζει γκαζι") == "μυριζει γκαζι"
    assert normalise("διαρροής") == "διαρροησ"
    assert normalise("Požar") == "pozar"
    assert normalise("שלום, דליפה") == "שלומ, דליפה"


@pytest.mark.parametrize("text", [
    # Greek, with and without accents, in capitals, in Greeklish
    "Μυρίζει γκάζι στην πολυκατοικία!!",
    "μυριζει πολυ γκαζι στο υπογειο",
    "ΦΩΤΙΑ ΣΤΟ ΔΙΠΛΑΝΟ ΣΠΙΤΙ",
    "έπεσε το καλώδιο της ΔΕΗ και βγάζει σπίθες",
    "πλημμύρισε το υπόγειο, το νερό ανεβαίνει",
    "υπάρχει τραυματίας στη διασταύρωση",
    "mirizei gkazi stin kouzina",
    "fotia sto dasos konta sta spitia",
    # Slovenian, with and without č/š/ž
    "V stanovanju močno smrdi po plinu",
    "smrdi po plinu na stopniscu",
    "Požar v bloku na Cesti talcev",
    "pozar v kleti",
    "na cesto je padla električna žica",
    "moški se je zgrudil pred trgovino in ne diha",
    "babica je omedlela v kuhinji",
    # Hebrew, with prefixes
    "יש ריח של גז בחדר המדרגות",
    "שריפה בבניין ליד",
    "ויש עשן בכל הקומה",
    "נפל כבל חשמל לכביש",
    "השכן מכה את אשתו",
    # English
    "I smell gas in the hallway",
    "there's a fire in the flat upstairs",
    "a power line is down on Main St and sparking",
    "my neighbour collapsed on the stairs, not breathing",
    "my grandma fainted and won't wake up",
    "a man passed out at the bus stop",
])
def test_danger_is_recognised(words, text):
    assert words.match(text) is not None


@pytest.mark.parametrize("text", [
    "η λάμπα στην Ερμού δεν ανάβει",
    "λακκούβα στην Κολοκοτρώνη",
    "φωτιστικό χαλασμένο στο πάρκο",
    "Luč javne razsvetljave ne gori že en teden",
    "poškodovan pločnik na Jezerski cesti",
    "בור בכביש ברחוב הרצל",
    "פג תוקף התרופות, איפה זורקים?",
    "the street light outside number 12 is out",
    "fire hydrant leaking on Kolokotroni",
    "people smoke in the playground at night",
    "the gas station on Ionias has rubbish everywhere",
])
def test_ordinary_reports_are_not_emergencies(words, text):
    assert words.match(text) is None


def test_a_phrase_allows_a_couple_of_words_between_its_words_but_not_more():
    words = EmergencyWords.of({"en": ["smell gas"]})
    assert words.match("I smell a strong gas") is not None
    assert words.match("I smell the bins, and the gas station is near") is None
    assert words.match("I smell a lot of gas") is None


def test_a_star_matches_any_ending_and_hebrew_prefixes_are_tried():
    words = EmergencyWords.of({"el": ["πλημμυρ* υπογει*"], "he": ["גז"]})
    assert words.match("πλημμύρισαν τα υπόγεια") is not None
    assert words.match("יש ריח חזק מהגז") is not None
    assert words.match("הגזים") is None


def test_every_phrase_of_the_list_is_found_as_the_whole_list_would_find_it(words):
    """The first-word index (core/emergency.py) finds what comparing with every phrase in order finds."""
    from core.emergency import words as split

    def every_phrase(text: str):
        message = split(text)
        return next((p for ps in words.phrases.values() for p in ps if p.found_in(message)), None)
    for phrase in (p for ps in words.phrases.values() for p in ps):
        for text in (phrase.text.replace("*", "aki"), f"Look, {phrase.text.replace('*', '')} here, help!",
                     f"ו{phrase.text.replace('*', 'ות')}"):
            assert words.match(text) == every_phrase(text), text

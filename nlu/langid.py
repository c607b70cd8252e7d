"""Which of the helpline's languages a message is written in.

Greek and Hebrew are told apart by their scripts. Latin-script text is Slovenian or English, decided by
lingua restricted to those two. Greeklish (Greek typed in Latin letters, "exei lakouva sto dromo") is
recognised by a short list of common Greek function words and phrases spelled in Latin letters.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

GREEK, HEBREW, LATIN = "el", "he", "latin"

GREEKLISH_WORDS = frozenset({
    "kalimera", "kalispera", "geia", "yia", "efxaristo", "eyxaristo", "euxaristo", "parakalo", "einai",
    "exei", "ehei", "eixe", "sto", "stin", "stn", "ston", "stous", "apo", "kai", "gia", "pou", "mia",
    "enas", "oxi", "ohi", "nai", "dromo", "dromos", "odos", "lakouva", "lakkouva", "skoupidia",
    "fanari", "fotistiko", "nero", "spasmeno", "spasmenos", "mprosta", "brosta", "den", "tha", "mou",
    "sas", "tou", "tis", "poli", "polu", "meres", "edw", "edo", "ekei", "thelo", "dimos", "dimarxeio",
})
_WORD = re.compile(r"[^\W\d_]+")


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    if name.startswith("GREEK"):
        return GREEK
    if name.startswith("HEBREW"):
        return HEBREW
    if name.startswith("LATIN"):
        return LATIN
    return None


def _script_counts(text: str) -> dict[str, int]:
    counts = {GREEK: 0, HEBREW: 0, LATIN: 0}
    for ch in text:
        script = _script(ch)
        if script:
            counts[script] += 1
    return counts


def looks_greeklish(text: str) -> bool:
    """Two or more Greeklish words, or a message that is one Greeklish word of four letters or more."""
    words = [w.lower() for w in _WORD.findall(text)]
    hits = [w for w in words if w in GREEKLISH_WORDS]
    return len(hits) >= 2 or (len(words) == 1 and len(hits) == 1 and len(hits[0]) > 3)


@lru_cache(maxsize=1)
def _latin_detector():
    from lingua import Language, LanguageDetectorBuilder
    return LanguageDetectorBuilder.from_languages(Language.SLOVENE, Language.ENGLISH).build()


def _latin_language(text: str) -> str | None:
    from lingua import Language
    found = _latin_detector().detect_language_of(text)
    return {Language.SLOVENE: "sl", Language.ENGLISH: "en"}.get(found)


def detect_language(text: str) -> str | None:
    """ "el", "he", "sl" or "en"; None when the text has no letters to judge by."""
    counts = _script_counts(text or "")
    script = max(counts, key=counts.get)
    if counts[script] == 0:
        return None
    if script != LATIN or counts[GREEK] + counts[HEBREW] > counts[LATIN] / 2:
        return GREEK if counts[GREEK] >= counts[HEBREW] else HEBREW
    if looks_greeklish(text):
        return GREEK
    return _latin_language(text)

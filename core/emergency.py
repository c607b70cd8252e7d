"""Recognising immediate danger in a resident's words, without the NLU: a keyword list per language.

The list lives in data/emergency/keywords.yml (read by bot/knowledge.py). A phrase is a few words; a word
ending in `*` matches any ending (for inflections). The words of a phrase must come in order, with at most
`GAP` other words between neighbours. Both the phrase and the message are normalised first: case, accents
(Greek tonos, č/š/ž, Hebrew points), the Greek final sigma, Hebrew final letters, and Hebrew one-letter
prefixes (ו ה ב ל מ ש כ) on the message's words.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

GAP = 2
HEBREW_FINALS = str.maketrans("ךםןףץ", "כמנפצ")
HEBREW_PREFIXES = "והבלמשכ"
_WORD = re.compile(r"[\w*]+", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, no accents or points, Greek final sigma and Hebrew final letters made plain."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("ς", "σ").translate(HEBREW_FINALS)


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def _forms(word: str) -> tuple[str, ...]:
    """The word, and for Hebrew the word without up to two one-letter prefixes (ו, ה, ב, ...)."""
    forms = [word]
    while len(word) > 2 and word[0] in HEBREW_PREFIXES and len(forms) < 3:
        word = word[1:]
        forms.append(word)
    return tuple(forms)


def _same(pattern: str, word: str) -> bool:
    if pattern.endswith("*"):
        return any(form.startswith(pattern[:-1]) for form in _forms(word))
    return pattern in _forms(word)


@dataclass(frozen=True)
class Phrase:
    text: str                            # as written in the list
    pattern: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Phrase:
        pattern = tuple(words(text))
        if not pattern:
            raise ValueError(f"{text!r} has no words")
        return cls(text, pattern)

    def found_in(self, message: list[str]) -> bool:
        return any(self._from(message, start) for start, word in enumerate(message) if _same(self.pattern[0], word))

    def _from(self, message: list[str], start: int) -> bool:
        at = start
        for pattern in self.pattern[1:]:
            window = message[at + 1:at + 2 + GAP]
            nxt = next((i for i, word in enumerate(window) if _same(pattern, word)), None)
            if nxt is None:
                return False
            at += 1 + nxt
        return True


@dataclass(frozen=True)
class EmergencyWords:
    """The phrases that mean danger, per language; a message in any language is checked against all."""
    phrases: dict[str, tuple[Phrase, ...]]
    _first_words: FirstWords = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_first_words", FirstWords([p for ps in self.phrases.values() for p in ps]))

    @classmethod
    def of(cls, lists: dict[str, list[str]]) -> EmergencyWords:
        return cls({lang: tuple(Phrase.of(p) for p in phrases) for lang, phrases in lists.items()})

    def match(self, text: str) -> Phrase | None:
        """The first phrase found in the message, or None."""
        message = words(text)
        if not message:
            return None
        return next((p for p in self._first_words.candidates(message) if p.found_in(message)), None)


class FirstWords:
    """The phrases indexed by their first word (exact, or the stem of a `word*`): a message is compared only with
    the phrases one of its words can begin, a few dictionary look-ups a word instead of thousands of comparisons."""

    def __init__(self, phrases: list[Phrase]) -> None:
        self.phrases = phrases
        self.exact: dict[str, list[int]] = {}
        self.stems: dict[str, list[int]] = {}
        for number, phrase in enumerate(phrases):
            first = phrase.pattern[0]
            if first.endswith("*"):
                self.stems.setdefault(first[:-1], []).append(number)
            else:
                self.exact.setdefault(first, []).append(number)
        self.stem_lengths = sorted({len(stem) for stem in self.stems})

    def candidates(self, message: list[str]) -> list[Phrase]:
        """The phrases whose first word matches a word of the message, in the list's order."""
        found: set[int] = set()
        for form in {form for word in message for form in _forms(word)}:
            found.update(self.exact.get(form, ()))
            for length in self.stem_lengths:
                if length > len(form):
                    break
                found.update(self.stems.get(form[:length], ()))
        return [self.phrases[number] for number in sorted(found)]


NO_WORDS = EmergencyWords({})

"""The translations a resident reads: complete, well-formed for Telegram, and rendered without errors."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.i18n import Translator
from core.dialogue import LANGUAGES, Text
from tests.support.catalogs import (SAMPLE_REF, SOURCE, catalog_problems, forms, key_of, languages,
                                    placeholders, read_catalog)

LOCALES = Path(__file__).resolve().parents[2] / "data" / "locales"
HOSTILE = "<script>alert(1)</script>"
DATES = {"due", "filed"}
COUNTS = (*range(0, 25), 100, 101, 102, 103, 104, 105, 111, 1000, 1001)


def source_messages() -> dict[str, tuple[str, ...]]:
    return {key_of(m): forms(m) for m in read_catalog(LOCALES, SOURCE) if m.id}


def sample_args(names: set[str]) -> dict:
    return {name: datetime(2026, 3, 3, 12, 30, tzinfo=timezone.utc) if name in DATES else HOSTILE
            for name in names - {"count"}}


# --- the real catalogs ----------------------------------------------------------------------------

def test_every_language_of_the_conversation_has_a_catalog():
    assert set(LANGUAGES) <= set(languages(LOCALES))


def test_catalogs_have_no_problems():
    problems = catalog_problems(LOCALES)
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator(LOCALES, "Europe/Athens")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_renders_and_escapes_what_people_typed(translator, lang):
    for key, texts in source_messages().items():
        names = set().union(*(placeholders(t) for t in texts))
        for count in COUNTS if len(texts) > 1 else (None,):
            rendered = translator.text(Text(key, sample_args(names), count), lang)
            assert rendered and rendered != key, f"{lang}: {key} is not translated"
            assert "<script>" not in rendered, f"{lang}: {key} lets markup through"
            if names - DATES - {"count"}:
                assert "&lt;script&gt;" in rendered, f"{lang}: {key} drops an argument"
            if count is not None:
                assert str(count) in rendered, f"{lang}: {key} does not show the number {count}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_category_and_status_names_are_translated_inside_sentences(translator, lang):
    line = Text("my_ticket_line", {"ref": SAMPLE_REF, "category": Text("category_streetlight"),
                                   "status": Text("status_in_progress")})
    rendered = translator.text(line, lang)
    assert translator.text(Text("category_streetlight"), lang) in rendered
    assert translator.text(Text("status_in_progress"), lang) in rendered
    assert not re.search(r"category_|status_", rendered)


@pytest.mark.parametrize("lang", ["el", "sl", "he"])
def test_each_language_reads_differently_from_english(translator, lang):
    keys = [k for k, texts in source_messages().items() if len(texts) == 1 and not placeholders(texts[0])]
    same = [k for k in keys if translator.text(Text(k), lang) == translator.text(Text(k), "en")]
    assert not same, f"{lang}: still English: {same}"


def test_slovenian_uses_its_dual_and_few_forms(translator):
    rendered = {n: translator.text(Text("my_tickets", count=n), "sl") for n in (1, 2, 3, 5, 101, 102)}
    assert rendered[1] != rendered[2] != rendered[5]
    assert rendered[101].replace("101", "1") == rendered[1]
    assert rendered[102].replace("102", "2") == rendered[2]
    assert rendered[3].replace("3", "5") == rendered[5]


# --- the checker catches a broken catalog ---------------------------------------------------------

HEADER = ('msgid ""\nmsgstr ""\n"Language: {lang}\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
          '"Plural-Forms: {plural}\\n"\n\n')
TWO_FORMS = "nplurals=2; plural=(n != 1);"
ENGLISH = {
    "greeting": "Hello from {town}!",
    "btn_no": "No",
    "privacy_notice": "<b>Your data</b> is safe.",
    "btn_send": "✅ Send the report",
}
ENGLISH_PLURAL = ('#, python-brace-format\nmsgid "my_tickets"\nmsgid_plural "my_tickets_plural"\n'
                  'msgstr[0] "Your report ({count}):"\nmsgstr[1] "Your reports ({count}):"\n')


def po_text(lang: str, messages: dict[str, str], plural: str = TWO_FORMS, extra: str = "") -> str:
    body = "".join(("#, python-brace-format\n" if "{" in text else "") + f'msgid "{key}"\nmsgstr "{text}"\n\n'
                   for key, text in messages.items())
    return HEADER.format(lang=lang, plural=plural) + body + extra


def locales(tmp_path: Path, greek: str) -> Path:
    for lang, text in (("en", po_text("en", ENGLISH, extra=ENGLISH_PLURAL)), ("el", greek)):
        folder = tmp_path / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "helpline.po").write_text(text, encoding="utf-8")
    return tmp_path


GOOD_GREEK = {"greeting": "Γεια σας από {town}!", "btn_no": "Όχι",
              "privacy_notice": "<b>Τα στοιχεία σας</b> είναι ασφαλή.", "btn_send": "✅ Αποστολή αναφοράς"}
GOOD_PLURAL = ENGLISH_PLURAL.replace("Your report (", "Η αναφορά σας (").replace("Your reports (", "Οι αναφορές σας (")


def test_checker_accepts_a_complete_catalog(tmp_path):
    assert catalog_problems(locales(tmp_path, po_text("el", GOOD_GREEK, extra=GOOD_PLURAL))) == []


def test_checker_names_a_missing_key_and_a_changed_placeholder(tmp_path):
    broken = {k: v for k, v in GOOD_GREEK.items() if k != "btn_no"} | {"greeting": "Γεια σας από {city}!"}
    problems = catalog_problems(locales(tmp_path, po_text("el", broken, extra=GOOD_PLURAL)))
    assert any(p.startswith("el:") and "missing key btn_no" in p for p in problems), problems
    assert any(p.startswith("el: greeting:") and "city" in p and "town" in p for p in problems), problems


BREAKAGES = [
    ("extra key", {"btn_maybe": "Ίσως"}, "extra key btn_maybe"),
    ("empty", {"btn_no": ""}, "btn_no: empty translation"),
    ("unclosed tag", {"privacy_notice": "<b>Τα στοιχεία σας είναι ασφαλή."}, "privacy_notice: <b> is never closed"),
    ("foreign tag", {"privacy_notice": "<b>Τα στοιχεία σας</b> <br> ασφαλή."}, "tag <br> is not allowed"),
    ("stray bracket", {"privacy_notice": "<b>Τα στοιχεία σας</b> < ασφαλή."}, "stray '<'"),
    ("lost emoji", {"btn_send": "Αποστολή αναφοράς"}, "btn_send: emoji"),
    ("long button", {"btn_no": "Όχι, ευχαριστώ, δεν θέλω κάτι τέτοιο"}, "btn_no: button label"),
    ("broken brace", {"greeting": "Γεια σας από {town!"}, "greeting: broken braces"),
]


@pytest.mark.parametrize("change, expected", [(c, e) for _, c, e in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_checker_reports_each_kind_of_breakage(tmp_path, change, expected):
    problems = catalog_problems(locales(tmp_path, po_text("el", GOOD_GREEK | change, extra=GOOD_PLURAL)))
    assert any(expected in p for p in problems), problems


def test_checker_reports_plural_forms_that_do_not_match_the_header(tmp_path):
    three = "nplurals=3; plural=(n==1 ? 0 : n==2 ? 1 : 2);"
    problems = catalog_problems(locales(tmp_path, po_text("el", GOOD_GREEK, plural=three, extra=GOOD_PLURAL)))
    assert any("el: my_tickets: 2 plural forms, the header says 3" in p for p in problems), problems


@pytest.mark.parametrize("plural", ["nplurals=2; plural=(n !=;", "nplurals=two; plural=(n != 1);",
                                    "nplurals=2; plural=(n > 1 ? 2 : 0);"])
def test_checker_reports_a_plural_header_that_does_not_work(tmp_path, plural):
    problems = catalog_problems(locales(tmp_path, po_text("el", GOOD_GREEK, plural=plural, extra=GOOD_PLURAL)))
    assert any(p.startswith("el:") and "plural" in p.lower() for p in problems), problems


def test_checker_reports_a_lost_format_flag(tmp_path):
    greek = po_text("el", GOOD_GREEK, extra=GOOD_PLURAL).replace("#, python-brace-format\n", "", 1)
    problems = catalog_problems(locales(tmp_path, greek))
    assert any("el: greeting: lost the flag python-brace-format" in p for p in problems), problems


def test_checker_reports_a_fuzzy_translation(tmp_path):
    greek = po_text("el", GOOD_GREEK, extra=GOOD_PLURAL).replace('msgid "btn_no"', '#, fuzzy\nmsgid "btn_no"')
    problems = catalog_problems(locales(tmp_path, greek))
    assert any("el: btn_no: marked fuzzy" in p for p in problems), problems


def test_checker_reports_a_key_kept_in_two_files_and_a_file_missing_in_a_language(tmp_path):
    folder = locales(tmp_path, po_text("el", GOOD_GREEK, extra=GOOD_PLURAL))
    (folder / "en" / "LC_MESSAGES" / "departments.po").write_text(po_text("en", {"btn_no": "No"}), encoding="utf-8")
    problems = catalog_problems(folder)
    assert any("btn_no is in both" in p for p in problems), problems
    assert any(p.startswith("el:") and "departments.po is missing" in p for p in problems), problems


def test_translator_merges_every_file_of_a_language(tmp_path):
    folder = locales(tmp_path, po_text("el", GOOD_GREEK, extra=GOOD_PLURAL))
    for lang, text in (("en", "Acknowledge"), ("el", "Παραλαβή")):
        (folder / lang / "LC_MESSAGES" / "departments.po").write_text(po_text(lang, {"btn_ack": text}),
                                                                       encoding="utf-8")
    translator = Translator(folder, "Europe/Athens", languages=("el", "en"))
    assert translator.label(Text("btn_ack"), "el") == "Παραλαβή"
    assert translator.label(Text("btn_no"), "el") == "Όχι"

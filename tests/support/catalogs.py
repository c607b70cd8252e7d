"""What a translator can break in data/locales, listed as problems a reviewer can act on.

Each language has the same set of files (helpline.po, departments.po...); English (en) is the source: every
other language's file must carry exactly the keys of English's file of the same name, with the same placeholders,
the same HTML tags and the same emoji, in as many plural forms as its own Plural-Forms header states.
"""
from __future__ import annotations

import gettext
import re
import unicodedata
from collections import Counter
from pathlib import Path
from string import Formatter

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

SOURCE = "en"
DOMAIN = "helpline"
ALLOWED_TAGS = {"b", "i", "u", "s", "a", "code"}
BUTTON_PREFIXES = ("btn_", "category_")      # category names are shown on buttons too
BUTTON_LIMIT = 30
SAMPLE_REF = "KOZ-2026-00042"                 # a placeholder on a button is counted as long as a reference

TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)([^<>]*)>")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
PLURAL_FORMS = re.compile(r"^\s*nplurals\s*=\s*(\d+)\s*;\s*plural\s*=\s*(.+?)\s*;?\s*$")


def catalog_problems(locales_dir: Path) -> list[str]:
    """Every problem found in the catalogs under `locales_dir`, each naming the language, file and key."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for domain in domains(locales_dir):
        for key in _messages(read_catalog(locales_dir, SOURCE, domain)):
            if key in seen:
                problems.append(f"{SOURCE}: {key} is in both {seen[key]}.po and {domain}.po")
            seen.setdefault(key, domain)
        problems += _domain_problems(locales_dir, domain)
    for lang in languages(locales_dir):
        extra = sorted(p.stem for p in (locales_dir / lang / "LC_MESSAGES").glob("*.po")
                       if p.stem not in domains(locales_dir))
        problems += [f"{lang}: {name}.po has no {SOURCE} original" for name in extra]
    return problems


def _domain_problems(locales_dir: Path, domain: str) -> list[str]:
    source = _messages(read_catalog(locales_dir, SOURCE, domain))
    source_raw = _raw_entries(_po_path(locales_dir, SOURCE, domain))
    problems: list[str] = []
    for lang in languages(locales_dir):
        path = _po_path(locales_dir, lang, domain)
        if not path.exists():
            problems.append(f"{lang}: {domain}.po is missing")
            continue
        nplurals, header_problems = _plural_header(path)
        problems += [f"{lang}: {domain}.po: {p}" for p in header_problems]
        try:
            catalog = read_catalog(locales_dir, lang, domain)
        except (ValueError, SyntaxError) as error:
            problems.append(f"{lang}: {domain}.po: the file does not parse: {error}")
            continue
        problems += [f"{lang}: {domain}.po: {p}" for p in _header_problems(catalog, lang)]
        problems += [f"{lang}: {domain}.po: {p}" for p in _key_problems(source, _messages(catalog))]
        raw = _raw_entries(path)
        for key, message in _messages(catalog).items():
            if key in source:
                found = _raw_problems(key, raw, source_raw, nplurals)
                found += _message_problems(key, message, source[key])
                problems += [f"{lang}: {key}: {p}" for p in found]
    return problems


def languages(locales_dir: Path) -> list[str]:
    return sorted(p.parent.parent.name for p in locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def domains(locales_dir: Path) -> list[str]:
    """The catalog files, by name without .po, that English has."""
    return sorted(p.stem for p in (locales_dir / SOURCE / "LC_MESSAGES").glob("*.po"))


def placeholders(text: str) -> set[str]:
    """The {names} a text expects; raises ValueError when its braces are broken."""
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in Formatter().parse(text) if field is not None}


def forms(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, (tuple, list)) else (message.string,)


def key_of(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _po_path(locales_dir: Path, lang: str, domain: str = DOMAIN) -> Path:
    return locales_dir / lang / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(locales_dir: Path, lang: str, domain: str | None = None) -> Catalog:
    """One file of a language's catalogs, or (without `domain`) all of them merged."""
    names = [domain] if domain else [p.stem for p in sorted((locales_dir / lang / "LC_MESSAGES").glob("*.po"))]
    merged = None
    for name in names:
        with _po_path(locales_dir, lang, name).open("rb") as f:
            catalog = read_po(f, domain=name)
        if merged is None:
            merged = catalog
        else:
            for message in catalog:
                if message.id:
                    merged[message.id] = message
    return merged


def _messages(catalog: Catalog) -> dict[str, Message]:
    return {key_of(m): m for m in catalog if m.id}


def _raw_entries(path: Path) -> dict[str, tuple[set[str], int]]:
    """Flags and written plural forms per key, read from the file itself: Babel recomputes
    python-brace-format from the msgid and pads missing plural forms with empty strings."""
    entries: dict[str, tuple[set[str], int]] = {}
    pending: set[str] = set()
    key = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#,"):
            pending = {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("msgid "):
            key = line[len('msgid "'):-1]
            entries[key], pending = (pending, 0), set()
        elif line.startswith("msgstr[") and key is not None:
            entries[key] = (entries[key][0], entries[key][1] + 1)
    return entries


def _plural_header(path: Path) -> tuple[int, list[str]]:
    header = re.search(r'^"Plural-Forms:\s*(.*?)\\n"\s*$', path.read_text(encoding="utf-8"), re.MULTILINE)
    if not header:
        return 2, ["the header has no Plural-Forms"]
    parsed = PLURAL_FORMS.match(header.group(1))
    if not parsed:
        return 2, [f"Plural-Forms does not parse: {header.group(1)!r}"]
    nplurals = int(parsed.group(1))
    try:
        choose = gettext.c2py(parsed.group(2))
    except ValueError as error:
        return nplurals, [f"the plural expression does not parse: {error}"]
    chosen = {choose(n) for n in range(1000)}
    if not chosen <= set(range(nplurals)) or len(chosen) != nplurals:
        return nplurals, [f"the plural expression picks forms {sorted(chosen)}, not 0..{nplurals - 1}"]
    return nplurals, []


def _header_problems(catalog: Catalog, lang: str) -> list[str]:
    problems = []
    if str(catalog.locale) != lang:
        problems.append(f"the header says Language {catalog.locale}, the folder says {lang}")
    if catalog.charset.lower() != "utf-8":
        problems.append(f"the header says charset {catalog.charset}, not UTF-8")
    if catalog.fuzzy:
        problems.append("the header is marked fuzzy")
    return problems


def _key_problems(source: dict[str, Message], messages: dict[str, Message]) -> list[str]:
    missing = [f"missing key {key}" for key in source if key not in messages]
    extra = [f"extra key {key} (not in {SOURCE})" for key in messages if key not in source]
    return missing + extra


def _raw_problems(key: str, raw: dict, source_raw: dict, nplurals: int) -> list[str]:
    flags, written = raw.get(key, (set(), 0))
    problems = [f"lost the flag {flag}" for flag in sorted(source_raw.get(key, (set(), 0))[0] - flags)]
    if written and written != nplurals:
        problems.append(f"{written} plural forms, the header says {nplurals}")
    return problems


def _message_problems(key: str, message: Message, source: Message) -> list[str]:
    if message.id != source.id:
        return [f"msgid {message.id!r} differs from {SOURCE}'s {source.id!r}"]
    texts = forms(message)
    problems = ["marked fuzzy"] if message.fuzzy else []
    expected = set().union(*(placeholders(t) for t in forms(source)))
    for text in texts:
        problems += _text_problems(key, text, expected, forms(source)[0])
    return problems


def _text_problems(key: str, text: str, expected: set[str], source: str) -> list[str]:
    if not text.strip():
        return ["empty translation"]
    try:
        found = placeholders(text)
    except ValueError as error:
        return [f"broken braces ({error})"]
    problems = []
    if found != expected:
        problems.append(f"placeholders {sorted(found)} instead of {sorted(expected)}")
    problems += _html_problems(text)
    if Counter(t[1].lower() for t in TAG.findall(text)) != Counter(t[1].lower() for t in TAG.findall(source)):
        problems.append(f"HTML tags differ from {SOURCE}")
    if _symbols(text) != _symbols(source):
        problems.append(f"emoji {sorted(_symbols(text))} instead of {sorted(_symbols(source))}")
    if key.startswith(BUTTON_PREFIXES) and len(label := _label(text)) > BUTTON_LIMIT:
        problems.append(f"button label {label!r} has {len(label)} characters, more than {BUTTON_LIMIT}")
    return problems


def _html_problems(text: str) -> list[str]:
    """Telegram rejects a whole message over one stray '<', unknown tag or unclosed tag."""
    problems, open_tags = [], []
    for closing, name, attributes in TAG.findall(text):
        name = name.lower()
        if name not in ALLOWED_TAGS:
            problems.append(f"tag <{name}> is not allowed")
        elif closing:
            if not open_tags or open_tags.pop() != name:
                problems.append(f"</{name}> closes nothing open")
        else:
            if attributes.strip() and not (name == "a" and re.fullmatch(r'\s+href="[^"<>]+"\s*', attributes)):
                problems.append(f"tag <{name}{attributes}> has attributes Telegram does not take")
            if name == "a" and not attributes.strip():
                problems.append("<a> without href")
            open_tags.append(name)
    problems += [f"<{name}> is never closed" for name in open_tags]
    rest = ENTITY.sub("", TAG.sub("", text))
    problems += [f"stray {ch!r} outside a tag (write it as an entity)" for ch in "<>&" if ch in rest]
    return problems


def _symbols(text: str) -> set[str]:
    return {ch for ch in text if unicodedata.category(ch) == "So"}


def _label(text: str) -> str:
    return re.sub(r"\{[^{}]*\}", SAMPLE_REF, text)

"""Translations: gettext catalogs in data/locales/<lang>/LC_MESSAGES/*.po, rendered to Telegram HTML.

Each part of the helpline keeps its texts in a file of its own (helpline.po for the resident conversation,
departments.po for the staff's cards...); a language's files are merged into one catalog, and a key may live
in one file only.

Catalogs are compiled in memory with Babel when the helpline starts, so editing a .po file needs no build
step. Every argument that comes from a person (a description, an address, a name) is HTML-escaped before it
goes into a message; only the catalog's own text may carry tags.
"""
from __future__ import annotations

import gettext
import html
import io
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.dialogue import Button, Text

DOMAIN = "helpline"
# A person's text shown inside a message is cut here, so that no message outgrows Telegram's 4096 characters;
# what they wrote is stored whole.
MAX_ARGUMENT = 800


def load_catalog(folder: Path) -> gettext.GNUTranslations:
    """Every .po file in a language's LC_MESSAGES folder, merged and compiled in memory."""
    paths = sorted(folder.glob("*.po"))
    if not paths:
        raise FileNotFoundError(f"no .po catalogs in {folder}")
    merged = None
    for path in paths:
        with path.open("rb") as f:
            catalog = read_po(f, domain=DOMAIN)
        if merged is None:
            merged = catalog
            continue
        for message in catalog:
            if message.id and message.id in merged:
                raise ValueError(f"{path}: key {message.id!r} is already defined in another file of {folder}")
            if message.id:
                merged[message.id] = message
    buf = io.BytesIO()
    write_mo(buf, merged)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class Translator:
    """Renders message keys in a language, in the municipality's time zone."""

    def __init__(self, locales_dir: Path, timezone: str, languages: tuple[str, ...] = ("el", "sl", "he", "en")):
        self.zone = ZoneInfo(timezone)
        self.catalogs = {lang: load_catalog(locales_dir / lang / "LC_MESSAGES")
                         for lang in languages}

    def text(self, text: Text, lang: str) -> str:
        """The message as Telegram HTML: catalog markup kept, every argument escaped."""
        catalog = self.catalogs.get(lang) or self.catalogs["en"]
        args = {name: self._argument(value, lang) for name, value in text.args.items()}
        if text.count is not None:
            template = catalog.ngettext(text.key, text.key + "_plural", text.count)
            args.setdefault("count", str(text.count))
        else:
            template = catalog.gettext(text.key)
        return template.format(**args) if args else template

    def plain(self, text: Text, lang: str) -> str:
        """The message as a person reads it (for the terminal): tags removed, entities resolved."""
        chunks: list[str] = []
        parser = HTMLParser(convert_charrefs=True)
        parser.handle_data = chunks.append
        parser.feed(self.text(text, lang))
        parser.close()
        return "".join(chunks)

    def label(self, item: Button | Text | str, lang: str) -> str:
        """A button's label is plain text on Telegram (no HTML), so it is not escaped."""
        label = item.label if isinstance(item, Button) else item
        return label if isinstance(label, str) else html.unescape(self.text(label, lang))

    def _argument(self, value, lang: str) -> str:
        if isinstance(value, Text):
            return self.text(value, lang)
        if isinstance(value, datetime):
            local, locale = value.astimezone(self.zone), _locale(lang)
            return html.escape(f"{format_date(local, 'full', locale=locale)}, "
                               f"{format_time(local, 'HH:mm', locale=locale)}")
        text = str(value)
        if len(text) > MAX_ARGUMENT:
            text = text[:MAX_ARGUMENT] + "…"
        return html.escape(text, quote=False)


def _locale(lang: str) -> str:
    return {"he": "he_IL", "el": "el_GR", "sl": "sl_SI"}.get(lang, "en_GB")

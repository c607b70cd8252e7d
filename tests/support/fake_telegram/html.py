"""Telegram's HTML parse mode: the visible text and its entities, or the error Telegram answers.

Follows the Bot API's "HTML style": supported tags only, properly nested and closed, entities
&lt; &gt; &amp; &quot; and numeric ones. Offsets and lengths are in UTF-16 code units, as Telegram
counts them. With strict=True (the documented rule) every '>' and '&' outside a tag or an entity
is refused too; strict=False accepts them literally, as the real server tolerates.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "span": "spoiler",
    "tg-spoiler": "spoiler", "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.\-]*")


class HtmlError(ValueError):
    """The text is not valid Telegram HTML; str() is Telegram's description after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    name: str
    start: int
    attrs: dict[str, str]
    byte_offset: int
    language: str | None = None


@dataclass
class _Parser:
    source: str
    strict: bool
    pos: int = 0
    out: list[str] = field(default_factory=list)
    length16: int = 0
    stack: list[_OpenTag] = field(default_factory=list)
    entities: list[dict] = field(default_factory=list)

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8"))

    def fail(self, message: str) -> None:
        raise HtmlError(message)

    def emit(self, chars: str) -> None:
        self.out.append(chars)
        self.length16 += utf16_len(chars)

    def run(self) -> tuple[str, list[dict]]:
        text = self.source
        while self.pos < len(text):
            char = text[self.pos]
            if char == "<":
                self.tag()
            elif char == "&":
                self.entity()
            elif char == ">" and self.strict:
                self.fail(f"Character '>' is reserved and must be escaped as '&gt;' at byte offset "
                          f"{self.byte_offset(self.pos)}")
            else:
                self.emit(char)
                self.pos += 1
        if self.stack:
            self.fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        return "".join(self.out), sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))

    def entity(self) -> None:
        match = _ENTITY.match(self.source, self.pos)
        decoded = _decode(match) if match else None
        if decoded is None:
            if self.strict:
                self.fail(f"Character '&' is reserved and must be escaped as '&amp;' at byte offset "
                          f"{self.byte_offset(self.pos)}")
            self.emit("&")
            self.pos += 1
            return
        self.emit(decoded)
        self.pos = match.end()

    def tag(self) -> None:
        if self.source.startswith("</", self.pos):
            self.end_tag()
        else:
            self.start_tag()

    def scan_word(self, stops: str) -> str:
        begin = self.pos
        while self.pos < len(self.source) and not self.source[self.pos].isspace() \
                and self.source[self.pos] not in stops:
            self.pos += 1
        return self.source[begin:self.pos]

    def skip_spaces(self) -> None:
        while self.pos < len(self.source) and self.source[self.pos].isspace():
            self.pos += 1

    def at_end(self, begin: int) -> None:
        if self.pos >= len(self.source):
            self.fail(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")

    def start_tag(self) -> None:
        begin = self.pos
        self.pos += 1
        name = self.scan_word(">").lower()
        self.at_end(begin)
        if name not in ENTITY_TYPES:
            self.fail(f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}')
        attrs = self.attributes(name, begin)
        self.pos += 1
        if name == "span" and attrs.get("class") != "tg-spoiler":
            self.fail(f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}')
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            self.fail(f'Custom emoji entity must have a numeric "emoji-id" at byte offset {self.byte_offset(begin)}')
        self.stack.append(_OpenTag(name, self.length16, attrs, self.byte_offset(begin)))

    def attributes(self, tag: str, begin: int) -> dict[str, str]:
        attrs: dict[str, str] = {}
        while True:
            self.skip_spaces()
            self.at_end(begin)
            if self.source[self.pos] == ">":
                return attrs
            name = self.scan_word("=>").lower()
            if not name:
                self.fail(f'Empty attribute name in the tag "{tag}" at byte offset {self.byte_offset(begin)}')
            self.skip_spaces()
            self.at_end(begin)
            if self.source[self.pos] != "=":
                if tag != "blockquote" or name != "expandable":
                    self.fail(f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                              f"at byte offset {self.byte_offset(begin)}")
                attrs[name] = ""
                continue
            self.pos += 1
            self.skip_spaces()
            self.at_end(begin)
            attrs[name] = self.attribute_value(begin)

    def attribute_value(self, begin: int) -> str:
        quote = self.source[self.pos]
        if quote not in "\"'":
            token = _NAME_TOKEN.match(self.source, self.pos)
            self.pos = token.end()
            self.at_end(begin)
            if not self.source[self.pos].isspace() and self.source[self.pos] != ">":
                self.fail(f"Unexpected end of name token at byte offset {self.byte_offset(token.start())}")
            return token.group().lower()
        end = self.source.find(quote, self.pos + 1)
        if end < 0:
            self.fail(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        raw = self.source[self.pos + 1:end]
        self.pos = end + 1
        return _ENTITY.sub(lambda m: _decode(m) or m.group(), raw)

    def end_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            self.fail(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        self.pos += 2
        name = self.scan_word(">").lower()
        self.skip_spaces()
        if self.pos >= len(self.source) or self.source[self.pos] != ">":
            self.fail(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        self.pos += 1
        opened = self.stack.pop()
        if name and name != opened.name:
            self.fail(f'Unmatched end tag at byte offset {self.byte_offset(begin)}, expected "</{opened.name}>", '
                      f'found "</{name}>"')
        self.close(opened)

    def close(self, tag: _OpenTag) -> None:
        length = self.length16 - tag.start
        language = tag.attrs.get("class", "").removeprefix("language-") \
            if tag.attrs.get("class", "").startswith("language-") else None
        if tag.name == "code" and self.stack and self.stack[-1].name == "pre" and language:
            self.stack[-1].language = language
            return
        if length == 0 or (tag.name == "a" and "href" not in tag.attrs):
            return
        self.entities.append(_entity(tag, length))


def _entity(tag: _OpenTag, length: int) -> dict:
    entity = {"offset": tag.start, "length": length, "type": ENTITY_TYPES[tag.name]}
    if tag.name == "a":
        entity["url"] = tag.attrs["href"]
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    return entity


def _decode(match: re.Match) -> str | None:
    name, decimal, hexadecimal = match.groups()
    if name:
        return NAMED[name]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[dict]]:
    """The visible text and its entities; raises HtmlError with Telegram's description."""
    return _Parser(text, strict).run()


def strip_message(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Telegram drops leading and trailing whitespace; entities shift and shrink with the text."""
    stripped = text.strip()
    lead = utf16_len(text[:len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept

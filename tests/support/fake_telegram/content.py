"""Message text and captions as Telegram accepts them: parsed, stripped, within length limits."""
from __future__ import annotations

from tests.support.fake_telegram.html import HtmlError, parse_html, strip_message, utf16_len
from tests.support.fake_telegram.model import bad_request

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
PARSE_MODES = {"html", "markdown", "markdownv2"}


def visible(source: str, parse_mode: str | None, *, strict: bool) -> tuple[str, list[dict]]:
    """What the person sees and its entities; MarkdownV2 is accepted unchecked (not implemented)."""
    mode = (parse_mode or "").lower()
    if mode and mode not in PARSE_MODES:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    if mode != "html":
        return strip_message(source, [])
    try:
        plain, entities = parse_html(source, strict=strict)
    except HtmlError as error:
        raise bad_request(f"can't parse entities: {error}") from None
    return strip_message(plain, entities)


def message_text(source: str, parse_mode: str | None, *, strict: bool) -> tuple[str, list[dict]]:
    plain, entities = visible(source, parse_mode, strict=strict)
    if not plain:
        raise bad_request("message text is empty")
    if utf16_len(plain) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return plain, entities


def caption(source: str, parse_mode: str | None, *, strict: bool) -> tuple[str | None, list[dict]]:
    plain, entities = visible(source, parse_mode, strict=strict)
    if utf16_len(plain) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return plain or None, entities

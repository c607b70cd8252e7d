"""reply_markup as Telegram checks it: inline keyboards, reply keyboards, ReplyKeyboardRemove, ForceReply."""
from __future__ import annotations

import json
import re

from tests.support.fake_telegram.model import bad_request as bad

INLINE_ACTIONS = ("url", "callback_data", "web_app", "login_url", "switch_inline_query",
                  "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
                  "callback_game", "pay")
KEYBOARD_REQUESTS = ("request_users", "request_chat", "request_contact", "request_location", "request_poll",
                     "web_app")
MAX_BUTTONS = 100
_URL = re.compile(r"^(https?|tg)://[^\s]+$", re.IGNORECASE)


def parse_reply_markup(raw: object, *, inline_only: bool = False) -> dict | None:
    """The markup as a dict without empty fields; raises ApiError as Telegram would refuse it."""
    if raw is None or raw == "":
        return None
    markup = _load(raw)
    if "inline_keyboard" in markup:
        return {"inline_keyboard": _inline_keyboard(markup["inline_keyboard"])}
    if inline_only:
        raise bad("inline keyboard expected")
    if "keyboard" in markup:
        return _reply_keyboard(markup)
    if markup.get("force_reply") is True:
        return _force_reply(markup)
    if markup.get("remove_keyboard") is True:
        return _without_none(markup)
    raise bad("can't parse reply keyboard markup JSON object")


def _force_reply(markup: dict) -> dict:
    placeholder = markup.get("input_field_placeholder")
    if placeholder is not None and not (isinstance(placeholder, str) and 1 <= len(placeholder) <= 64):
        raise bad("input field placeholder must be 1-64 characters long")
    if not isinstance(markup.get("selective", False), bool):
        raise bad('field "selective" must be of type Boolean')
    return _without_none(markup)


def _load(raw: object) -> dict:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise bad("can't parse reply keyboard markup JSON object") from None
    if not isinstance(raw, dict):
        raise bad("object expected as reply markup")
    return raw


def _rows(rows: object, field: str, kind: str) -> list[list]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad(f'field "{field}" of the {kind} should be an Array of Arrays')
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise bad("reply markup is too long")
    return rows


def _inline_keyboard(rows: object) -> list[list[dict]]:
    return [[_inline_button(button) for button in row] for row in _rows(rows, "inline_keyboard",
                                                                          "InlineKeyboardMarkup")]


def _inline_button(button: object) -> dict:
    def refuse(reason: str) -> Exception:
        return bad(f"can't parse inline keyboard button: {reason}")
    if not isinstance(button, dict):
        raise refuse("InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise refuse('Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise refuse('Field "text" must be of type String')
    if not button["text"].strip():
        raise bad("BUTTON_TEXT_INVALID")
    actions = [name for name in INLINE_ACTIONS if button.get(name) is not None]
    if not actions:
        raise refuse("Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise refuse(f"exactly one of the optional fields must be used, found {', '.join(actions)}")
    _check_action(button, actions[0])
    return _without_none(button)


def _check_action(button: dict, action: str) -> None:
    value = button[action]
    if action == "callback_data" and not (isinstance(value, str) and 1 <= len(value.encode("utf-8")) <= 64):
        raise bad("BUTTON_DATA_INVALID")
    if action == "url" and not (isinstance(value, str) and _URL.match(value)):
        raise bad("BUTTON_URL_INVALID")


def _reply_keyboard(markup: dict) -> dict:
    rows = _rows(markup["keyboard"], "keyboard", "ReplyKeyboardMarkup")
    keyboard = [[_keyboard_button(button) for button in row] for row in rows]
    return _without_none({**markup, "keyboard": keyboard})


def _keyboard_button(button: object) -> dict:
    if isinstance(button, str):
        button = {"text": button}
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad('can\'t parse keyboard button: Field "text" must be of type String')
    if not button["text"].strip():
        raise bad("BUTTON_TEXT_INVALID")
    requests = [name for name in KEYBOARD_REQUESTS if button.get(name) not in (None, False)]
    if len(requests) > 1:
        raise bad(f"can't parse keyboard button: only one of {', '.join(requests)} may be used")
    return _without_none(button)


def _without_none(value: object) -> object:
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value]
    return value


def buttons(markup: dict | None) -> list[tuple[str, str | None]]:
    """(text, callback_data) of every button in reading order; callback_data is None for other buttons."""
    if not markup:
        return []
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [(button["text"], button.get("callback_data")) for row in rows for button in row]

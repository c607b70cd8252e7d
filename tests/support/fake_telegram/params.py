"""Reading Bot API parameters as Telegram does: form fields are strings, nested objects are JSON strings."""
from __future__ import annotations

import json

from tests.support.fake_telegram.model import bad_request


def text(params: dict, name: str) -> str:
    value = params.get(name)
    return "" if value is None else str(value)


def integer(params: dict, name: str, *, default: int | None = None, error: str | None = None) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(error or f"wrong parameter {name} in request") from None


def number(params: dict, name: str, error: str) -> float:
    try:
        return float(params[name])
    except (KeyError, TypeError, ValueError):
        raise bad_request(error) from None


def flag(params: dict, name: str) -> bool:
    value = params.get(name)
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def structure(params: dict, name: str, *, error: str | None = None) -> object:
    """A JSON-serialised object or array parameter, decoded."""
    value = params.get(name)
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise bad_request(error or f"can't parse {name} JSON object") from None

"""Photos as Telegram stores them: several sizes of one picture, each its own file."""
from __future__ import annotations

from tests.support.fake_telegram.state import TelegramState

SIZES = [(90, 68), (320, 240), (800, 600), (1280, 960), (2560, 1920)]


def fake_jpeg(label: str, width: int, height: int) -> bytes:
    body = f"{label} {width}x{height} ".encode() * (width // 16)
    return b"\xff\xd8\xff\xe0" + body + b"\xff\xd9"


def store_photo(state: TelegramState, count: int, *, original: bytes | None = None,
                folder: str = "photos") -> list[dict]:
    """PhotoSize dicts in increasing size; `original` (an upload) becomes the largest size's content."""
    if not 1 <= count <= len(SIZES):
        raise ValueError(f"a photo has 1 to {len(SIZES)} sizes")
    sizes = []
    for index, (width, height) in enumerate(SIZES[:count]):
        content = original if original is not None and index == count - 1 else \
            fake_jpeg(f"photo {next(state.file_numbers)}", width, height)
        stored = state.store_file(content, folder)
        sizes.append({**{k: v for k, v in stored.as_json().items() if k != "file_path"},
                      "width": width, "height": height})
    for size in sizes:
        state.photos[size["file_id"]] = sizes
    return sizes

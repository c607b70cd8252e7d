"""The house rule of DESIGN.md: core/ knows nothing of Telegram, Rasa, SQL, HTTP, geocoding or scheduling."""
import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"
FORBIDDEN = {"telegram", "sqlalchemy", "alembic", "httpx", "aiohttp", "requests", "geopy", "apscheduler", "rasa",
             "psycopg", "sqlite3", "socket", "urllib", "http", "bot", "handlers", "nlu", "yaml"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(CORE.glob("**/*.py")), ids=lambda p: p.name)
def test_core_imports_no_io_library(path):
    offending = {name for name in imported_modules(path) if name.split(".")[0] in FORBIDDEN}
    assert not offending, f"{path.name} imports {sorted(offending)}: core/ must stay free of I/O"


def test_the_check_would_notice_an_io_import(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from sqlalchemy.orm import Session\nimport telegram.ext\n")
    assert imported_modules(sneaky) == {"sqlalchemy.orm", "telegram.ext"}

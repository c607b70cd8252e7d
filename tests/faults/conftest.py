"""Fault tests: the helpline under the failures a municipality will meet (issue #7). Each is bounded in time.

The database fixtures (migrated_url on SQLite and PostgreSQL) come from tests/conftest.py.
"""
from __future__ import annotations

import pytest

from tests.support.bot_process import BotProcess
from tests.support.fake_telegram import FakeTelegram


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def bot_processes(tmp_path):
    """Make `helpline run` child processes; every one still running at the end is killed."""
    made: list[BotProcess] = []

    def make(env: dict, name: str = "bot") -> BotProcess:
        made.append(BotProcess(env, tmp_path / f"{name}.log"))
        return made[-1]
    yield make
    for process in made:
        process.kill()

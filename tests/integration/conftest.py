"""Database fixtures for integration tests, on SQLite and PostgreSQL (see tests/support/db.py)."""
from tests.support.db import *  # noqa: F401,F403

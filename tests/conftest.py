"""Fixtures shared by every test folder: the databases (both backends) and a hand-moved clock."""
from tests.support.db import *  # noqa: F401,F403 - pytest fixtures

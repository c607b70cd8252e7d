"""Database fixtures for integration tests, on SQLite and PostgreSQL (see tests/support/db.py), and the helpline with
the review's group chats bound (`stack`, `review`); a module that needs another helpline defines its own `stack`."""
import pytest

from core.ports import StaffMember
from core.review import Review
from tests.support.db import *  # noqa: F401,F403
from tests.support.groups import ADVOCATE_ID, GREEN_CHAT, OMBUDSMAN_CHAT, TECHNICAL_CHAT
from tests.support.stack import build_stack


@pytest.fixture
def stack(uow_factory):
    """The helpline on the test database with the technical and green departments' groups and the Citizen's
    Advocate's chat bound, and the Advocate on the staff list."""
    stack = build_stack(uow_factory)
    stack.helpline.bind_chat("department:technical", TECHNICAL_CHAT)
    stack.helpline.bind_chat("department:green", GREEN_CHAT)
    stack.helpline.bind_chat("ombudsman", OMBUDSMAN_CHAT)
    stack.helpline.add_staff(StaffMember(ADVOCATE_ID, "ombudsman"))
    return stack


@pytest.fixture
def review(stack):
    return Review(stack.helpline)

"""The intents the Rasa model knows, and how they map onto the helpline's canonical categories."""
from __future__ import annotations

from core.tickets import CATEGORIES

REPORT_PREFIX = "report_"
FALLBACK = "nlu_fallback"

REPORT_INTENTS: tuple[str, ...] = tuple(REPORT_PREFIX + c for c in CATEGORIES)

CHECK_STATUS = "check_status"
GREET = "greet"
GOODBYE = "goodbye"
THANKS = "thanks"
HELP = "help"
CANCEL = "cancel"
AFFIRM = "affirm"
DENY = "deny"
CHANGE_LANGUAGE = "change_language"
COMPLAIN_ABOUT_HANDLING = "complain_about_handling"
OUT_OF_SCOPE = "out_of_scope"

CONVERSATION_INTENTS: tuple[str, ...] = (
    CHECK_STATUS, GREET, GOODBYE, THANKS, HELP, CANCEL, AFFIRM, DENY, CHANGE_LANGUAGE,
    COMPLAIN_ABOUT_HANDLING, OUT_OF_SCOPE,
)

EMERGENCY = "emergency"
TALK_TO_PERSON = "talk_to_person"
QUESTION_INTENTS: tuple[str, ...] = (
    "ask_office_hours", "ask_contact", "ask_bulky_waste", "ask_recycling", "ask_certificates", "ask_fees",
    "ask_privacy", "ask_how_to_report",
)

# Questions reach Rasa's DIET as one retrieval intent, `ask`; its ResponseSelector names the topic as
# `ask/<topic>`, which the client turns into the intent `ask_<topic>`.
RETRIEVAL_INTENT = "ask"

INTENTS: tuple[str, ...] = REPORT_INTENTS + CONVERSATION_INTENTS + (EMERGENCY, TALK_TO_PERSON) + QUESTION_INTENTS

TICKET_REF = "ticket_ref"


def category_of(intent: str | None) -> str | None:
    """The canonical category a report_<category> intent names, else None."""
    if not intent or not intent.startswith(REPORT_PREFIX):
        return None
    category = intent[len(REPORT_PREFIX):]
    return category if category in CATEGORIES else None


def is_report(intent: str | None) -> bool:
    return category_of(intent) is not None


def question_intent(response_key: str | None) -> str | None:
    """`ask/office_hours` (a ResponseSelector's answer) as the intent `ask_office_hours`, if it is one."""
    if not response_key or "/" not in response_key:
        return None
    base, topic = response_key.split("/", 1)
    intent = f"{base}_{topic}"
    return intent if base == RETRIEVAL_INTENT and intent in QUESTION_INTENTS else None

"""Per-resident limits on Telegram (core/limits.py), applied before any other handler sees the update.

Only private chats are limited: messages and button presses count towards the messages a minute; the
"Send" press on the report's summary is a new report and counts towards the reports an hour. An emergency
(core/emergency.py's words) always goes through. A refused press is still answered, so the app stops
waiting; the resident's draft stays as it was, so "Send" works again once the hour has passed.
"""
from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.i18n import Translator
from core.dialogue import LANGUAGES, Conversation, Step, T
from core.limits import LimitsPolicy, MessageCounter, ReportAllowance, Verdict

log = logging.getLogger(__name__)
GROUP = -2                               # before the residents' repeated-update check (-1) and everything else
SEND_PRESS = re.compile(r"^(\d+):send:")   # the summary's "Send" button (core/dialogue.py, _summary)


class ResidentLimits:
    def __init__(self, policy: LimitsPolicy, conversation: Conversation, translator: Translator) -> None:
        self.conversation = conversation
        self.helpline = conversation.helpline
        self.translator = translator
        self.messages = MessageCounter(policy.messages_per_minute, self.helpline.clock)
        self.reports = ReportAllowance(policy.reports_per_hour, self.helpline)

    def install(self, app: Application) -> None:
        app.add_handler(TypeHandler(Update, self.check), group=GROUP)

    async def check(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or chat.type != ChatType.PRIVATE or self.is_emergency(update):
            return
        verdict = self.messages.admit(user.id)
        if verdict is Verdict.PASS and self.is_new_report(update):
            verdict, again = self.reports.admit(chat.id)
            if verdict is not Verdict.PASS:
                log.info("chat %s: report limit reached; may file again at %s", chat.id, again)
                await self.refuse(update, verdict, T("limit_reports", after=again))
        elif verdict is not Verdict.PASS:
            log.info("chat %s: message limit reached", chat.id)
            await self.refuse(update, verdict, T("limit_messages"))
        if verdict is not Verdict.PASS:
            raise ApplicationHandlerStop

    def is_emergency(self, update: Update) -> bool:
        message = update.effective_message if update.callback_query is None else None
        words = (message.text or message.caption) if message else None
        return bool(words) and self.conversation.emergency_words.match(words) is not None

    def is_new_report(self, update: Update) -> bool:
        """A press of the summary's current "Send" button (a stale one files nothing and is let through)."""
        query = update.callback_query
        found = SEND_PRESS.match(query.data or "") if query and isinstance(query.data, str) else None
        if not found:
            return False
        state = self.helpline.load_conversation(update.effective_chat.id) or {}
        return state.get("step") == Step.SUMMARY and str(state.get("v", 0)) == found.group(1)

    async def refuse(self, update: Update, verdict: Verdict, text) -> None:
        lang = self.language(update)
        if update.callback_query:
            await update.callback_query.answer(self.translator.label(T("limit_wait"), lang))
        if verdict is Verdict.TELL:
            await update.get_bot().send_message(update.effective_chat.id, self.translator.text(text, lang),
                                                parse_mode=ParseMode.HTML)

    def language(self, update: Update) -> str:
        """The conversation's language, else the app's, else the municipality's."""
        state = self.helpline.load_conversation(update.effective_chat.id) or {}
        code = state.get("lang") or (update.effective_user.language_code or "").split("-")[0].lower()
        return code if code in LANGUAGES else self.helpline.profile.default_language


def install_limits(app: Application, settings, conversation: Conversation, translator: Translator) -> None:
    """`settings`: bot/settings.py's Settings (limit_reports_per_hour, limit_messages_per_minute)."""
    policy = LimitsPolicy(settings.limit_reports_per_hour, settings.limit_messages_per_minute)
    ResidentLimits(policy, conversation, translator).install(app)

"""The ombudsman's chat on Telegram: decisions on escalation cards, with replies for notes and deadlines.

Every press and every reply is checked against the staff list (Helpline.ombudsman_actor), never against what a
button says. A decision that needs words asks for them in a reply (ForceReply); the open prompts live in the
database with the chat's state, so a restart between the question and the answer loses nothing.
"""
from __future__ import annotations

import logging

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.notices import OPEN_DECISIONS, Notices
from core.dialogue import T
from core.review import DEADLINE_DAYS, MovedOn, Review
from core.services import OMBUDSMAN_CHAT, NotFound
from core.tickets import DomainError, NotAllowed

log = logging.getLogger(__name__)
BUTTONS = r"^o:"
STATE = "ombudsman"          # the key of the prompts in the chat's stored state


class InOmbudsmanChat(filters.MessageFilter):
    """Messages in the chat bound as the ombudsman's (read at each message: the CLI may rebind it)."""

    def __init__(self, helpline) -> None:
        super().__init__(name="InOmbudsmanChat")
        self.helpline = helpline

    def filter(self, message) -> bool:
        return message.chat.id == self.helpline.chat_of(OMBUDSMAN_CHAT)


class OmbudsmanChat:
    def __init__(self, notices: Notices) -> None:
        self.notices = notices
        self.helpline = notices.helpline
        self.review = Review(self.helpline)
        self.lang = self.helpline.profile.default_language

    def install(self, app: Application) -> None:
        app.add_handler(CallbackQueryHandler(self.on_button, pattern=BUTTONS))
        app.add_handler(MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND
                                       & InOmbudsmanChat(self.helpline), self.on_reply))

    # --- buttons ----------------------------------------------------------------------------------------

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        _, action, escalation_id, *rest = (query.data or "").split(":") + ["", ""]
        try:
            self.helpline.ombudsman_actor(query.from_user.id)
            if query.message is None or query.data not in _button_data(query.message):
                return await query.answer(self._plain("o_not_this_card"), show_alert=True)   # forged or garbage
            case = self.review.case(int(escalation_id))
        except NotAllowed:
            return await query.answer(self._plain("o_not_allowed"), show_alert=True)
        except (NotFound, ValueError):
            return await query.answer(self._plain("o_already_decided"), show_alert=True)
        if case.escalation.decision not in OPEN_DECISIONS:
            await query.answer(self._plain("o_already_decided"), show_alert=True)
            return await self._show_card(context, query.message.chat.id, query.message.message_id, case)
        await query.answer()
        choice = rest[0] if rest else ""
        if not choice:
            self._remember_card(query.message.chat.id, case.escalation.id, query.message.message_id)
        else:
            await self._clear_buttons(query)
        await self._next_step(context, query.message.chat.id, action, case, choice, query.from_user.id)

    async def _next_step(self, context, chat_id: int, action: str, case, choice: str, user_id: int) -> None:
        e = case.escalation
        args = {"id": e.id, "ref": e.ticket_ref}
        if action in ("explain", "reopen") and not choice:
            rows = [[(T("btn_o_days", days=d), f"o:{action}:{e.id}:{d}") for d in DEADLINE_DAYS]]
            return await self._send(context, chat_id, T("o_ask_deadline", **args), rows)
        if action in ("explain", "reopen", "uphold"):
            return await self._ask_note(context, chat_id, action, e.id, int(choice or 0) or None, args)
        if action == "reassign" and not choice:
            depts = [k for k in self.helpline.profile.departments if k != case.ticket.department]
            rows = [[(_name(self.helpline.profile.departments[k].names, self.lang), f"o:reassign:{e.id}:{k}")]
                    for k in depts]
            return await self._send(context, chat_id, T("o_ask_department", **args), rows)
        if action == "reassign":
            return await self._decide(context, chat_id, e.id, "reassign", user_id, department=choice)

    async def _ask_note(self, context, chat_id: int, action: str, escalation_id: int, days, args) -> None:
        placeholder = self.notices.tr.label(T("o_placeholder"), self.lang)
        prompt = await context.bot.send_message(chat_id, self.notices.tr.text(T(f"o_ask_note_{action}", **args),
                                                                             self.lang),
                                                parse_mode=ParseMode.HTML,
                                                reply_markup=ForceReply(input_field_placeholder=placeholder))
        state = self._state(chat_id)
        state["prompts"][str(prompt.message_id)] = {"action": action, "escalation": escalation_id, "days": days}
        self._store(chat_id, state)

    # --- replies ----------------------------------------------------------------------------------------

    async def on_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        chat_id = message.chat.id
        prompt = self._state(chat_id)["prompts"].get(str(message.reply_to_message.message_id))
        if prompt is None:
            return
        try:
            self.helpline.ombudsman_actor(message.from_user.id)
        except NotAllowed:
            return await self._send(context, chat_id, T("o_not_allowed"))
        note = (message.text or "").strip()
        if not note:
            return await self._send(context, chat_id, T("o_note_needed"))
        await self._decide(context, chat_id, prompt["escalation"], prompt["action"], message.from_user.id,
                           note=note, days=prompt.get("days"))
        state = self._state(chat_id)
        state["prompts"].pop(str(message.reply_to_message.message_id), None)
        self._store(chat_id, state)

    # --- deciding ---------------------------------------------------------------------------------------

    async def _decide(self, context, chat_id: int, escalation_id: int, decision: str, user_id: int,
                      **options) -> None:
        try:
            actor = self.helpline.ombudsman_actor(user_id)
            outcome = self.review.decide(escalation_id, decision, actor, **options)
        except NotAllowed:
            return await self._send(context, chat_id, T("o_not_allowed"))
        except MovedOn:
            return await self._send(context, chat_id, T("o_already_decided"))
        except DomainError as error:
            return await self._send(context, chat_id, T("o_refused", why=str(error)))
        await self._send(context, chat_id, T("o_done", id=escalation_id, ref=outcome.ticket.ref,
                                             decision=T(f"decision_name_{decision}")))
        card = self._state(chat_id)["cards"].get(str(escalation_id))
        if card:
            await self._show_card(context, chat_id, card, self.review.case(escalation_id))

    async def _show_card(self, context, chat_id: int, message_id: int, case) -> None:
        """Edit the card in place to show the decision (Telegram refuses an edit that changes nothing)."""
        card = self.notices.card(case, self.lang)
        try:
            await context.bot.edit_message_text(card.text, chat_id, message_id, parse_mode=ParseMode.HTML,
                                                reply_markup=_markup(card.buttons),
                                                disable_web_page_preview=True)
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                log.warning("could not update escalation card %s: %s", message_id, error)

    # --- helpers ----------------------------------------------------------------------------------------

    async def _send(self, context, chat_id: int, text, rows=()) -> None:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(self.notices.tr.label(label, self.lang),
                                                             callback_data=data) for label, data in row]
                                       for row in rows]) if rows else None
        await context.bot.send_message(chat_id, self.notices.tr.text(text, self.lang), parse_mode=ParseMode.HTML,
                                       reply_markup=markup)

    async def _clear_buttons(self, query) -> None:
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except BadRequest as error:
            log.debug("could not clear buttons: %s", error)

    def _plain(self, key: str) -> str:
        return self.notices.tr.plain(T(key), self.lang)

    def _remember_card(self, chat_id: int, escalation_id: int, message_id: int) -> None:
        state = self._state(chat_id)
        state["cards"][str(escalation_id)] = message_id
        self._store(chat_id, state)

    def _state(self, chat_id: int) -> dict:
        stored = (self.helpline.load_conversation(chat_id) or {}).get(STATE) or {}
        return {"prompts": stored.get("prompts", {}), "cards": stored.get("cards", {})}

    def _store(self, chat_id: int, state: dict) -> None:
        whole = self.helpline.load_conversation(chat_id) or {}
        whole[STATE] = state
        self.helpline.store_conversation(chat_id, whole)


def _button_data(message) -> set[str]:
    """The callback data of the buttons the bot put on this message (a press must be one of them)."""
    markup = getattr(message, "reply_markup", None)
    return {button.callback_data for row in (markup.inline_keyboard if markup else ()) for button in row
            if isinstance(button.callback_data, str)}


def _markup(rows):
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                 for row in rows])


def _name(names: dict[str, str], lang: str) -> str:
    return names.get(lang) or names.get("en") or next(iter(names.values()))

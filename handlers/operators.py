"""The operators' group chat of the citizen's line: claim, end or turn a handover into a report with one tap, and
answer a resident by replying to their relayed message. The rules live in core/handover.py.

Who may act is read from the staff list on every press and every reply (role operator or admin), never from
the button. Relays to and from the group go through the outbox; the desk delivers them at once, in order.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.i18n import Translator
from bot.outgoing import Outgoing, Renderers
from core.dialogue import T
from core.handover import ClaimedByOther, HandoverClosed, Handovers
from core.ports import Handover, Notification
from core.tickets import NotAllowed

log = logging.getLogger(__name__)
OPERATOR_BUTTON = r"^op:(claim|end|ticket):\d+$"


class OperatorsChat(filters.MessageFilter):
    """Messages in the operators' group (bound with the CLI or set in the profile, looked up each time)."""

    def __init__(self, handovers: Handovers) -> None:
        super().__init__(name="OperatorsChat")
        self.handovers = handovers

    def filter(self, message: Message) -> bool:
        return message.chat.id == self.handovers.operators_chat()


class OperatorDesk:
    def __init__(self, handovers: Handovers, renderers: Renderers, translator: Translator) -> None:
        self.handovers = handovers
        self.renderers = renderers
        self.translator = translator
        self.lang = handovers.profile.default_language
        self._delivering = asyncio.Lock()       # chats are handled side by side: one relay round at a time

    def install(self, app: Application) -> None:
        app.add_handler(CallbackQueryHandler(self.on_press, pattern=OPERATOR_BUTTON))
        app.add_handler(MessageHandler(OperatorsChat(self.handovers) & filters.REPLY & ~filters.COMMAND
                                       & (filters.TEXT | filters.PHOTO), self.on_reply))

    # --- buttons ----------------------------------------------------------------------------------

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        message = query.message
        found = self.handovers.relay_at(message.chat.id, message.message_id) if message else None
        if found is None:
            return await query.answer(self._plain("op_closed"), show_alert=True)
        relay, handover = found
        action = query.data.split(":")[1]
        try:
            if action == "claim":
                handover = self.handovers.claim(handover.id, user.id, user.first_name)
            elif action == "end":
                handover = self.handovers.end(handover.id, user.id)
            else:
                handover = self.handovers.to_ticket(handover.id, user.id, user.first_name)
        except NotAllowed:
            return await query.answer(self._plain("op_not_operator"), show_alert=True)
        except ClaimedByOther as taken:
            await query.answer(self._plain("op_claimed_by_other", operator=taken.name or T("op_someone")),
                               show_alert=True)
            return await self._refresh(message, relay, self.handovers.relay_at(message.chat.id, message.message_id)[1])
        except HandoverClosed:
            await query.answer(self._plain("op_closed"), show_alert=True)
            return await self._refresh(message, relay, self.handovers.relay_at(message.chat.id, message.message_id)[1])
        await query.answer()
        await self._refresh(message, relay, handover)
        await self.deliver(context.bot)

    async def _refresh(self, message: Message, relay: Notification, handover: Handover) -> None:
        """Show the handover's state of the moment on the pressed card, edited in place."""
        payload = {**relay.payload, "status": handover.status, "operator": handover.operator_name}
        out = self.renderers.render(replace(relay, payload=payload))
        markup = _markup(out)
        try:
            if message.photo:
                await message.edit_caption(out.text, parse_mode=ParseMode.HTML, reply_markup=markup)
            else:
                await message.edit_text(out.text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                        disable_web_page_preview=True)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise

    # --- replies ----------------------------------------------------------------------------------

    async def on_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
            return
        found = self.handovers.relay_at(message.chat.id, replied.message_id)
        if found is None:
            return
        relay, before = found
        photo = max(message.photo, key=lambda p: p.width * p.height).file_id if message.photo else None
        try:
            handover = self.handovers.reply(before.id, user.id, user.first_name, message.text or message.caption or "",
                                            photo)
        except NotAllowed:
            return await message.reply_text(self.translator.text(T("op_not_operator"), self.lang))
        except HandoverClosed:
            return await message.reply_text(self.translator.text(T("op_closed"), self.lang))
        if handover.status != before.status:
            await self._refresh(replied, relay, handover)
        await self.deliver(context.bot)

    # --- delivery ---------------------------------------------------------------------------------

    async def deliver(self, bot: Bot) -> None:
        """Send the handovers' waiting outbox rows now, in order; a chat that fails is retried later. One round at
        a time (two at once would both send what they found waiting)."""
        async with self._delivering:
            await self._deliver(bot)

    async def _deliver(self, bot: Bot) -> None:
        failed: set[int] = set()
        for notification in self.handovers.undelivered():
            if notification.chat_id in failed:
                continue
            try:
                sent = await _send(bot, notification.chat_id, self.renderers.render(notification))
            except (TelegramError, LookupError, ValueError) as exc:
                log.warning("handover notification %s to %s not delivered: %s", notification.id,
                            notification.chat_id, exc)
                failed.add(notification.chat_id)
                self.handovers.not_delivered(notification, str(exc))
                continue
            self.handovers.delivered(notification, sent.message_id)

    async def after_resident(self, bot: Bot) -> None:
        """Called after a resident's message in (or into, or out of) a handover: relay what it queued."""
        await self.deliver(bot)

    def _plain(self, key: str, **args) -> str:
        return self.translator.plain(T(key, **args), self.lang)[:200]


def _markup(out: Outgoing) -> InlineKeyboardMarkup | None:
    if not out.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                 for row in out.buttons])


async def _send(bot: Bot, chat_id: int, out: Outgoing) -> Message:
    if out.photo:
        return await bot.send_photo(chat_id, out.photo, caption=out.text, parse_mode=ParseMode.HTML,
                                    reply_markup=_markup(out))
    return await bot.send_message(chat_id, out.text, parse_mode=ParseMode.HTML, reply_markup=_markup(out),
                                  disable_web_page_preview=True)

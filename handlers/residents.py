"""Residents on Telegram: turn each Update into a dialogue Input, and the dialogue's Replies into Bot API calls.

One small callback per kind of message, as in python-telegram-bot's conversationbot example; the rules of
the conversation live in core/dialogue.py, not here.
"""
from __future__ import annotations

import asyncio
import logging

from telegram import (BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup,
                      ReplyKeyboardRemove, Update)
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import (Application, CallbackQueryHandler, ContextTypes, MessageHandler, TypeHandler,
                          ApplicationHandlerStop, filters)

from bot.i18n import Translator
from core.dialogue import Conversation, Input, Kind, Reply, Sender, T
from core.tickets import Photo

log = logging.getLogger(__name__)
PRIVATE = filters.ChatType.PRIVATE
MAX_TEXT = 4096
RESIDENT_BUTTON = r"^(\d+|g):"   # the conversation's buttons; d: o: op: belong to departments, ombudsman, operators
COMMANDS = ("report", "status", "mytickets", "follow", "complain", "info", "person", "language", "help", "cancel",
            "mydata", "forget")


class ResidentChannel:
    """The Telegram side of the resident conversation."""

    def __init__(self, conversation: Conversation, translator: Translator, after_reply=None) -> None:
        self.conversation = conversation
        self.after_reply = after_reply      # async (bot) -> None: relay what a handover queued, at once
        self.translator = translator
        self.helpline = conversation.helpline

    def install(self, app: Application) -> None:
        app.add_handler(TypeHandler(Update, self.skip_repeated_update), group=-1)
        app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, self.on_command))
        app.add_handler(MessageHandler(PRIVATE & (filters.LOCATION | filters.VENUE), self.on_location))
        app.add_handler(MessageHandler(PRIVATE & filters.PHOTO, self.on_photo))
        app.add_handler(MessageHandler(PRIVATE & filters.TEXT, self.on_text))
        app.add_handler(CallbackQueryHandler(self.on_button, pattern=RESIDENT_BUTTON))
        app.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND, self.on_other))
        app.add_handler(TypeHandler(Update, self.mark_done), group=1)
        app.add_error_handler(self.on_error)

    async def publish_commands(self, app: Application) -> None:
        """The command menu Telegram shows beside the text field, in each language (English by default)."""
        for lang in ("en", "el", "sl", "he"):
            commands = [BotCommand(c, self.translator.label(T(f"cmd_{c}"), lang)) for c in COMMANDS]
            await app.bot.set_my_commands(commands, language_code=None if lang == "en" else lang)

    # --- idempotence ------------------------------------------------------------------------------

    async def skip_repeated_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Telegram may deliver an update again (after a restart): handle each update_id once. In a private chat the
        same read brings the resident and the conversation, for the dialogue (context.opening)."""
        chat = update.effective_chat
        if chat is not None and chat.type == ChatType.PRIVATE:
            context.opening = self.helpline.open_message(chat.id, update.update_id)
            seen = context.opening.seen
        else:
            seen = self.helpline.update_seen(update.update_id)
        if seen:
            log.info("update %s already handled; skipped", update.update_id)
            raise ApplicationHandlerStop

    async def mark_done(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """After the handlers: the update is handled (unless the conversation's state already said so, in the same
        statement, before the replies went out)."""
        if not getattr(context, "marked", False):
            self.helpline.mark_update(update.update_id)

    # --- inputs -----------------------------------------------------------------------------------

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        text = update.effective_message.text or ""
        name, _, args = text.lstrip("/").partition(" ")
        await self.respond(update, context, Input(Kind.COMMAND, name.split("@")[0], args.strip()))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.respond(update, context, Input(Kind.TEXT, update.effective_message.text or ""))

    async def on_location(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        venue, loc = message.venue, message.location or (message.venue.location if message.venue else None)
        name = ", ".join(p for p in (venue.title, venue.address) if p) if venue else None
        await self.respond(update, context, Input(Kind.LOCATION, lat=loc.latitude, lon=loc.longitude,
                                                  place_name=name))

    async def on_photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        largest = max(update.effective_message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        caption = update.effective_message.caption
        await self.respond(update, context, Input(Kind.PHOTO, caption or "",
                                                  photo=Photo(largest.file_id, largest.file_unique_id)))

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, voice notes, documents...: the dialogue re-asks for what it is waiting for."""
        await self.respond(update, context, Input(Kind.TEXT, ""))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        private = query.message is not None and query.message.chat.type == ChatType.PRIVATE
        clear = private and query.data and not query.data.startswith("g:") and query.message.reply_markup
        # the app stops waiting and the pressed buttons go while the answer is worked out, not before it
        acknowledged = asyncio.gather(_answer(query), *([_clear_buttons(query)] if clear else []))
        try:
            if private:
                await self.respond(update, context, Input(Kind.BUTTON, query.data or ""))
        finally:
            await acknowledged

    # --- output -----------------------------------------------------------------------------------

    async def respond(self, update: Update, context: ContextTypes.DEFAULT_TYPE, inp: Input) -> None:
        chat, user = update.effective_chat, update.effective_user
        sender = Sender(chat.id, user.full_name if user else None, user.language_code if user else None)
        outcome = await self.conversation.answer(sender, inp, getattr(context, "opening", None))
        context.marked = outcome.marked
        replies, lang = outcome.replies, outcome.lang
        for reply in replies:
            text, markup = self.render(reply, lang), self.markup(reply, lang)
            # Telegram's brief troubles are waited out by the Application's rate limiter (bot.delivery)
            await update.get_bot().send_message(chat.id, text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                                disable_web_page_preview=True)
        if self.after_reply and outcome.with_person:
            await self.after_reply(update.get_bot())

    def render(self, reply: Reply, lang: str) -> str:
        text = "\n\n".join(self.translator.text(part, lang) for part in reply.parts)
        return text if len(text) <= MAX_TEXT else self.translator.text(T("error_generic"), lang)

    def markup(self, reply: Reply, lang: str):
        if reply.buttons:
            return InlineKeyboardMarkup([[InlineKeyboardButton(self.translator.label(b, lang), callback_data=b.data)
                                          for b in row] for row in reply.buttons])
        if reply.ask_location:
            label = self.translator.label(T("btn_send_location"), lang)
            return ReplyKeyboardMarkup([[KeyboardButton(label, request_location=True)]], resize_keyboard=True,
                                       one_time_keyboard=True)
        if reply.remove_keyboard:
            return ReplyKeyboardRemove()
        return None

    def unknown_button_handler(self) -> CallbackQueryHandler:
        """Install last: a press no part of the helpline recognises (a forged or very old button) is answered,
        so the person's app stops waiting, and nothing else happens."""
        async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            user = update.effective_user
            lang = (user.language_code or "en").split("-")[0] if user else "en"
            await update.callback_query.answer(self.translator.label(T("button_unknown"), lang), show_alert=True)
        return CallbackQueryHandler(answer)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log everything about the failure and tell the resident, in their language, to try again."""
        log.error("error while handling %s", update.to_dict() if isinstance(update, Update) else update,
                  exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        if update.effective_chat.type != ChatType.PRIVATE:
            return
        user = update.effective_user
        lang = (user.language_code or "en").split("-")[0] if user else "en"
        try:
            await context.bot.send_message(update.effective_chat.id, self.translator.text(T("error_generic"), lang),
                                           parse_mode=ParseMode.HTML)
        except Exception:  # noqa: BLE001 - the error handler must never raise
            log.exception("could not tell chat %s about the error", update.effective_chat.id)


async def _answer(query) -> None:
    try:
        await query.answer()
    except TelegramError as exc:      # the spinner stops by itself; the answer that follows matters more
        log.warning("could not answer the button press: %s", exc)


async def _clear_buttons(query) -> None:
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError as exc:
        log.debug("could not clear buttons: %s", exc)

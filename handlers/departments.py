"""Department staff on Telegram: the buttons on ticket cards, the replies to the bot's questions and to the
Citizen's Advocate's requests to explain, and the group commands /queue, /overdue and /ticket.

Every press is checked against the staff list (Helpline.actor_for), never against what the button says. The
rules live in core/ (tickets.py, services.py, desk.py); this module turns Updates into those calls and their
results into edited cards and short messages, in the department's language.
"""
from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from telegram import (CallbackQuery, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters,
                      Update, User)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.cards import ACTIONS, BODIES, DEPARTMENTS, REASONS, REFER, Cards
from bot.i18n import Translator, _locale
from bot.outgoing import Outgoing
from core import desk
from core.desk import CARD, INFO, MOVE, PLAN, REJECT, TARGETS, Prompt
from core.dialogue import T, Text
from core.review import ExplainRequest, MovedOn, Review, has_words
from core.services import Helpline, NotFound
from core.tickets import DomainError, NotAllowed, RejectReason, Status, Ticket, parse_ref

log = logging.getLogger(__name__)
GROUPS = filters.ChatType.GROUPS
DEPARTMENT_BUTTON = r"^d:"
MAX_LINES = 30                       # tickets listed by /queue and /overdue; the rest are counted
_DATE = re.compile(r"(\d{1,2})\s*[./-]\s*(\d{1,2})\s*(?:[./-]\s*(\d{2}|\d{4}))?\s*\.?")


class DepartmentChannel:
    """The Telegram side of a department's group."""

    def __init__(self, helpline: Helpline, cards: Cards, translator: Translator) -> None:
        self.helpline, self.cards, self.translator = helpline, cards, translator
        self.review = Review(helpline)

    @classmethod
    def build(cls, helpline: Helpline, translator: Translator) -> DepartmentChannel:
        return cls(helpline, Cards(helpline, translator), translator)

    def install(self, app: Application) -> None:
        app.add_handler(CommandHandler("queue", self.on_queue, filters=GROUPS))
        app.add_handler(CommandHandler("overdue", self.on_overdue, filters=GROUPS))
        app.add_handler(CommandHandler("ticket", self.on_ticket, filters=GROUPS))
        app.add_handler(CallbackQueryHandler(self.on_button, pattern=DEPARTMENT_BUTTON))
        app.add_handler(MessageHandler(GROUPS & filters.REPLY & filters.TEXT & ~filters.COMMAND, self.on_reply))
        app.add_handler(MessageHandler(GROUPS & filters.REPLY & ~filters.TEXT & ~filters.COMMAND
                                       & ~filters.StatusUpdate.ALL, self.on_wordless_reply))
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.on_migrated))

    async def on_migrated(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group of ours became a supergroup: follow it to its new id (Telegram tells the old group and the new
        one; either message is enough, and the second changes nothing)."""
        message = update.effective_message
        if message.migrate_to_chat_id:
            old, new = message.chat.id, message.migrate_to_chat_id
        else:
            old, new = message.migrate_from_chat_id, message.chat.id
        moved = self.helpline.chat_moved(old, new)
        if moved:
            log.info("chat %s became supergroup %s: %s now bound to it", old, new, ", ".join(moved))

    @property
    def lang(self) -> str:
        return self.cards.lang

    def text(self, *parts: Text) -> str:
        return "\n\n".join(self.translator.text(part, self.lang) for part in parts)

    def plain(self, part: Text) -> str:
        return self.translator.plain(part, self.lang)

    # --- buttons ----------------------------------------------------------------------------------

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        _, action, ref, arg = ((query.data or "").split(":", 3) + [None, None, None])[:4]
        if query.message is None or not ref or ref != _card_ref(query.message):
            await query.answer(self.plain(T("alert_not_this_card")), show_alert=True)   # forged: not this card's
            return
        try:
            ticket = self.helpline.ticket(ref)
        except NotFound:
            await query.answer(self.plain(T("alert_gone")), show_alert=True)
            return
        group = self.helpline.department_of_chat(query.message.chat.id)
        try:
            actor = self.helpline.actor_for(query.from_user.id, ticket.department, head=action == MOVE)
        except NotAllowed:
            await self.refuse(query, ticket, group, head=action == MOVE)
            return
        if group != ticket.department or not _still_fits(ticket, action):
            await self.show(query.message, ticket, group, query.from_user)
            await query.answer(self.plain(T("alert_stale")), show_alert=True)
            return
        await self.act(query, ticket, actor, action, arg)

    async def refuse(self, query: CallbackQuery, ticket: Ticket, group: str | None, *, head: bool) -> None:
        """Not staff (or not the head): an alert, and nothing changes, unless the card is plainly stale."""
        if group != ticket.department:
            await self.show(query.message, ticket, group, None)
            await query.answer(self.plain(T("alert_stale")), show_alert=True)
            return
        key = "alert_not_head" if head else "alert_not_staff"
        await query.answer(self.plain(T(key, department=self.cards.department_name(ticket.department))),
                           show_alert=True)

    async def act(self, query: CallbackQuery, ticket: Ticket, actor, action: str, arg: str | None) -> None:
        message, user, group = query.message, query.from_user, ticket.department
        menu = _menu(action, arg)
        if action == REJECT and arg and arg not in set(RejectReason):
            await query.answer(self.plain(T("alert_not_this_card")), show_alert=True)
        elif menu:
            await self.show(message, ticket, group, user, keyboard=menu)
            await query.answer()
        elif action == CARD:
            await self.show(message, ticket, group, user)
            await query.answer()
        elif action == INFO or action == PLAN or (action == REJECT and arg):
            await self.ask(message, ticket, user, Prompt(action, ticket.ref, user.id, message.message_id,
                                                         bool(message.photo), arg))
            await query.answer(self.plain(T("alert_answer_below")))
        else:
            await self.perform(query, ticket, actor, action, arg)

    async def perform(self, query: CallbackQuery, ticket: Ticket, actor, action: str, arg: str | None) -> None:
        """One tap, one change: acknowledge, in progress, fixed, referral, reassignment."""
        try:
            if action == MOVE:
                ticket = self.helpline.assign(ticket.ref, arg or "", actor)
            elif action == REFER:
                ticket = self.helpline.change_status(ticket.ref, Status.REJECTED, actor,
                                                     reason=RejectReason.NOT_RESPONSIBLE, referral=arg)
            else:
                ticket = self.helpline.change_status(ticket.ref, TARGETS[action], actor)
        except DomainError as error:
            log.info("%s on %s refused: %s", action, ticket.ref, error)
            ticket = self.helpline.ticket(ticket.ref)
            await self.show(query.message, ticket, self.helpline.department_of_chat(query.message.chat.id),
                            query.from_user)
            await query.answer(self.plain(T("alert_stale")), show_alert=True)
            return
        await self.show(query.message, ticket, self.helpline.department_of_chat(query.message.chat.id),
                        query.from_user)
        await query.answer(self.plain(T("alert_done")))

    # --- the card ---------------------------------------------------------------------------------

    async def show(self, message: Message, ticket: Ticket, group: str | None, user: User | None, *,
                   keyboard: str = ACTIONS) -> None:
        """Edit the card in place to show the ticket as it stands (an identical edit is skipped)."""
        out = self.cards.card(ticket, group, photo=bool(message.photo), names=self.names(group, user),
                              keyboard=keyboard)
        await self.edit(message.get_bot(), message.chat.id, message.message_id, out)

    async def edit(self, bot, chat_id: int, message_id: int, out: Outgoing) -> None:
        markup = _markup(out)
        try:
            if out.photo:
                await bot.edit_message_caption(chat_id, message_id, caption=out.text, reply_markup=markup,
                                               parse_mode=ParseMode.HTML)
            else:
                await bot.edit_message_text(out.text, chat_id, message_id, reply_markup=markup,
                                            parse_mode=ParseMode.HTML, disable_web_page_preview=True)
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                raise

    def names(self, group: str | None, user: User | None) -> dict[str, str]:
        names = self.cards.staff_names(group)
        if user is not None and str(user.id) not in names:
            names[str(user.id)] = user.full_name
        return names

    async def post(self, bot, chat_id: int, out: Outgoing) -> Message:
        if out.photo:
            return await bot.send_photo(chat_id, out.photo, caption=out.text, reply_markup=_markup(out),
                                        parse_mode=ParseMode.HTML)
        return await bot.send_message(chat_id, out.text, reply_markup=_markup(out), parse_mode=ParseMode.HTML,
                                      disable_web_page_preview=True)

    # --- questions answered by a reply ------------------------------------------------------------

    async def ask(self, card: Message, ticket: Ticket, user: User, prompt: Prompt,
                  before: Text | None = None) -> None:
        """Post a ForceReply question naming the ticket and the person, and remember it in the database."""
        question = self._question(ticket, user, prompt)
        sent = await card.get_bot().send_message(
            card.chat.id, self.text(*([before] if before else []), question), parse_mode=ParseMode.HTML,
            reply_markup=ForceReply(selective=True), disable_web_page_preview=True,
            reply_parameters=ReplyParameters(prompt.card, allow_sending_without_reply=True))
        desk.remember_prompt(self.helpline, card.chat.id, sent.message_id, prompt)

    def _question(self, ticket: Ticket, user: User, prompt: Prompt) -> Text:
        who = {"link": f"tg://user?id={user.id}", "name": user.full_name, "ref": ticket.ref}
        if prompt.action == INFO:
            return T("prompt_info", **who)
        if prompt.action == PLAN:
            return T("prompt_plan", **who, example=self._date_example())
        if prompt.arg == RejectReason.DUPLICATE:
            return T("prompt_duplicate", **who, example=f"{self.helpline.profile.ref_prefix}-"
                                                         f"{self.helpline.clock.now().year}-00042")
        return T("prompt_reason", **who, reason=T(f"desk_reason_{prompt.arg}"))

    async def on_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
            return
        chat_id = message.chat.id
        prompt = desk.peek_prompt(self.helpline, chat_id, replied.message_id)
        if prompt is None:
            await self.explain(message, replied)
            return
        if message.from_user.id != prompt.asked_by:
            await message.reply_text(self.text(T("reply_not_yours")), parse_mode=ParseMode.HTML)
            return
        desk.take_prompt(self.helpline, chat_id, replied.message_id)
        await self.answer_prompt(message, prompt)

    async def answer_prompt(self, message: Message, prompt: Prompt) -> None:
        ticket = self.helpline.ticket(prompt.ref)
        try:
            actor = self.helpline.actor_for(message.from_user.id, ticket.department)
        except NotAllowed:
            await message.reply_text(self.text(T("alert_not_staff", department=self.cards.department_name(
                ticket.department))), parse_mode=ParseMode.HTML)
            return
        answer = (message.text or "").strip()
        problem = self._problem(prompt, answer)
        if problem:
            await self.reask(message, ticket, prompt, problem)
            return
        try:
            ticket, done = self._do(prompt, actor, answer)
        except DomainError as error:
            log.info("answer to %s on %s refused: %s", prompt.action, prompt.ref, error)
            ticket = self.helpline.ticket(prompt.ref)
            done = T("action_failed", ref=ticket.ref, status=T(f"desk_status_{ticket.status}"))
        out = self.cards.card(ticket, self.helpline.department_of_chat(message.chat.id), photo=prompt.photo_card,
                              names=self.names(ticket.department, message.from_user))
        await self.edit(message.get_bot(), message.chat.id, prompt.card, out)
        await message.reply_text(self.text(done), parse_mode=ParseMode.HTML)

    def _problem(self, prompt: Prompt, answer: str) -> Text | None:
        """Why an answer cannot be used (then the question is asked again), or None."""
        if prompt.action == PLAN:
            return None if self._day(answer) else T("reask_date")
        if prompt.action == REJECT and prompt.arg == RejectReason.DUPLICATE:
            original = parse_ref(answer)
            if original is None or original == prompt.ref:
                return T("reask_ref")
            try:
                self.helpline.ticket(original)
            except NotFound:
                return T("reask_ref")
            return None
        return None if sum(ch.isalnum() for ch in answer) >= 3 else T("reask_text")

    def _do(self, prompt: Prompt, actor, answer: str) -> tuple[Ticket, Text]:
        if prompt.action == PLAN:
            ticket = desk.plan(self.helpline, prompt.ref, actor, self._day(answer))
            return ticket, T("done_planned", ref=ticket.ref, planned=ticket.scheduled_for)
        if prompt.action == INFO:
            ticket = self.helpline.change_status(prompt.ref, Status.NEEDS_INFO, actor, answer)
        elif prompt.arg == RejectReason.DUPLICATE:
            ticket = self.helpline.change_status(prompt.ref, Status.REJECTED, actor, reason=prompt.arg,
                                                 duplicate_of=parse_ref(answer))
        else:
            ticket = self.helpline.change_status(prompt.ref, Status.REJECTED, actor, answer, reason=prompt.arg)
        return ticket, T("done_status", ref=ticket.ref, status=T(f"desk_status_{ticket.status}"))

    async def reask(self, message: Message, ticket: Ticket, prompt: Prompt, problem: Text) -> None:
        await self.ask(message, ticket, message.from_user, prompt, before=problem)

    # --- the Citizen's Advocate's requests to explain --------------------------------------------

    async def on_wordless_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reply without text (a photo, a sticker...): only a reply to a request to explain is answered."""
        message = update.effective_message
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == context.bot.id:
            await self.explain(message, replied)

    async def explain(self, message: Message, replied: Message) -> None:
        """A reply to the Advocate's request to explain (known by the outbox row that delivered it): recorded and
        passed on to the Advocate when it comes from the department's staff, has words, and the escalation still
        waits for a decision; otherwise say why not. A reply to any other message of the bot is left alone."""
        request = self.review.explain_request_at(message.chat.id, replied.message_id)
        if request is None:
            return
        try:
            actor = self.helpline.actor_for(message.from_user.id, request.department) if message.from_user else None
        except NotAllowed:
            actor = None
        if actor is None:
            return await self.say(message, T("explain_not_staff",
                                             department=self.cards.department_name(request.department)))
        if not request.answerable:
            return await self.say(message, self._closed(request))
        if not has_words(message.text):
            return await self.say(message, T("explain_need_words"))
        try:
            self.review.explain(request, actor, message.text)
        except MovedOn:                  # decided between reading the request and recording the answer
            request = self.review.explain_request_at(message.chat.id, replied.message_id) or request
            return await self.say(message, self._closed(request))
        await self.say(message, T("explain_sent", ref=request.ticket.ref))

    def _closed(self, request: ExplainRequest) -> Text:
        return T("explain_closed", ref=request.ticket.ref, decision=T(f"decision_name_{request.escalation.decision}"))

    async def say(self, message: Message, text: Text) -> None:
        await message.reply_text(self.text(text), parse_mode=ParseMode.HTML, disable_web_page_preview=True)

    # --- dates ------------------------------------------------------------------------------------

    def _today(self) -> date:
        return self.helpline.clock.now().astimezone(ZoneInfo(self.helpline.profile.calendar.timezone)).date()

    def _date_example(self) -> str:
        return format_date(self._today() + timedelta(days=7), "short", locale=_locale(self.lang))

    def _day(self, answer: str) -> date | None:
        """A date typed day first (12.3.2026, 12/03, 12. 3. 26) or as 2026-03-12, from today to a year on."""
        today, day = self._today(), None
        try:
            day = date.fromisoformat(answer)
        except ValueError:
            found = _DATE.fullmatch(answer)
            if found:
                year = int(found.group(3)) if found.group(3) else today.year
                year += 2000 if year < 100 else 0
                try:
                    day = date(year, int(found.group(2)), int(found.group(1)))
                except ValueError:
                    return None
                if not found.group(3) and day < today:
                    day = day.replace(year=today.year + 1)
        if day is None or not today <= day <= today + timedelta(days=desk.PLAN_AHEAD_DAYS):
            return None
        return day

    # --- commands ---------------------------------------------------------------------------------

    async def on_queue(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._listing(update, desk.queue, "queue_title", "queue_empty")

    async def on_overdue(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._listing(update, desk.overdue, "overdue_title", "overdue_empty")

    async def _listing(self, update: Update, find, title: str, empty: str) -> None:
        message = update.effective_message
        department = await self._department(message)
        if department is None:
            return
        name = self.cards.department_name(department)
        tickets = find(self.helpline, department)
        if not tickets:
            await message.reply_text(self.text(T(empty, department=name)), parse_mode=ParseMode.HTML)
            return
        lines = [T(title, count=len(tickets), department=name)]
        lines += [self._line(t) for t in tickets[:MAX_LINES]]
        if len(tickets) > MAX_LINES:
            lines.append(T("queue_more", count=len(tickets) - MAX_LINES))
        text = "\n".join(self.translator.text(line, self.lang) for line in lines)
        await message.reply_text(text, parse_mode=ParseMode.HTML, disable_web_page_preview=True)

    def _line(self, ticket: Ticket) -> Text:
        key = "queue_line_urgent" if desk.is_urgent(self.helpline, ticket) else "queue_line"
        return T(key, ref=ticket.ref, category=T(f"category_{ticket.category}"),
                 status=T(f"desk_status_{ticket.status}"), due=ticket.resolve_due)

    async def on_ticket(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        department = await self._department(message)
        if department is None:
            return
        ref = parse_ref(" ".join(context.args or []))
        example = f"{self.helpline.profile.ref_prefix}-{self.helpline.clock.now().year}-00042"
        if ref is None:
            await message.reply_text(self.text(T("ticket_usage", example=example)), parse_mode=ParseMode.HTML)
            return
        try:
            ticket = self.helpline.ticket(ref)
        except NotFound:
            await message.reply_text(self.text(T("ticket_not_found", ref=ref)), parse_mode=ParseMode.HTML)
            return
        if ticket.department != department and not desk.is_admin(self.helpline, message.from_user.id):
            await message.reply_text(self.text(T("ticket_elsewhere", ref=ref)), parse_mode=ParseMode.HTML)
            return
        card = self.cards.card(ticket, department, names=self.cards.staff_names(department))
        await self.post(message.get_bot(), message.chat.id, card)

    async def _department(self, message: Message) -> str | None:
        """The department whose group this is, if the sender is its staff (or an admin); otherwise say why not
        (how to bind the chat, or that its reports are for its staff), and None."""
        department = self.helpline.department_of_chat(message.chat.id)
        if department is None:
            await message.reply_text(self.text(T("chat_not_bound", chat_id=message.chat.id)),
                                     parse_mode=ParseMode.HTML)
            return None
        try:
            self.helpline.actor_for(message.from_user.id, department)
        except NotAllowed:
            await message.reply_text(self.text(T("staff_only", department=self.cards.department_name(department))),
                                     parse_mode=ParseMode.HTML)
            return None
        return department


def _menu(action: str, arg: str | None) -> str | None:
    """The keyboard an action opens instead of acting at once, if any."""
    if action == REJECT and arg is None:
        return REASONS
    if action == REJECT and arg == RejectReason.NOT_RESPONSIBLE:
        return BODIES
    if action == MOVE and arg is None:
        return DEPARTMENTS
    return None


def _card_ref(message) -> str | None:
    """The reference of the ticket whose card this message is, read from its own department buttons."""
    markup = getattr(message, "reply_markup", None)
    for row in (markup.inline_keyboard if markup else ()):
        for button in row:
            parts = (button.callback_data or "").split(":") if isinstance(button.callback_data, str) else []
            if len(parts) >= 3 and parts[0] == "d":
                return parts[2]
    return None


def _still_fits(ticket: Ticket, action: str) -> bool:
    if action == CARD:
        return True
    return desk.still_possible(ticket, REJECT if action == REFER else action)


def _markup(out: Outgoing) -> InlineKeyboardMarkup | None:
    if not out.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                 for row in out.buttons])


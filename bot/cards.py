"""A ticket's card in its department's group: everything staff need on one message, and the buttons to act.

The same card is sent for the outbox kinds "ticket_new", "ticket_assigned", "ticket_info" and
"ticket_reopened" (with a headline saying why it came), and is re-rendered to edit the message in place after
an action. With a photo the card is the photo's caption (at most 1024 characters: the resident's words are cut
to fit); otherwise it is a text message. Callback data: "d:<action>:<ref>[:arg]".
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import MAX_ARGUMENT, Translator
from bot.outgoing import MAX_CAPTION, MAX_TEXT, Outgoing, Renderers
from core.desk import CARD, MOVE, REJECT, card_actions, is_urgent
from core.dialogue import T, Text
from core.ports import Notification
from core.services import Helpline
from core.tickets import EventKind, RejectReason, Role, Status, Ticket, TicketEvent

REFER = "refer"               # d:refer:<ref>:<outside body>, after "not responsible"
CARD_KINDS = {"ticket_new": "card_new", "ticket_assigned": "card_assigned", "ticket_info": "card_info",
              "ticket_reopened": "card_reopened"}
WORDS = {"address", "question", "answer", "reason"}   # card arguments that hold a person's words, cut to fit
REOPENED_BY = ("resident", "ombudsman")      # who may reopen a ticket, named on the card by role only
LABEL_LIMIT = 40              # the profile's names on buttons are cut to this
MAP_URL = "https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=18/{lat:.6f}/{lon:.6f}"

# Which keyboard a card shows: the actions, or one of the menus an action opens.
ACTIONS, REASONS, BODIES, DEPARTMENTS, NONE = "actions", "reasons", "bodies", "departments", "none"


def data(action: str, ref: str, arg: str | None = None) -> str:
    return f"d:{action}:{ref}" + (f":{arg}" if arg else "")


def map_link(lat: float, lon: float) -> str:
    return MAP_URL.format(lat=lat, lon=lon)


@dataclass
class Cards:
    """Renders cards in the department's language (the profile's first), in the municipality's time zone."""
    helpline: Helpline
    translator: Translator

    @property
    def lang(self) -> str:
        return self.helpline.profile.default_language

    def card(self, ticket: Ticket, group_department: str | None, *, headline: Text | None = None,
             photo: bool | None = None, names: dict[str, str] | None = None, keyboard: str = ACTIONS) -> Outgoing:
        """The card as shown in `group_department`'s group; a ticket that has moved on gets no buttons there.

        `names` maps Telegram ids to the names of this department's staff (shown only in its own group)."""
        here = group_department is not None and ticket.department == group_department
        photo_id = ticket.photos[-1].file_id if ticket.photos and photo is not False else None
        buttons = self.keyboard(ticket, keyboard if here else NONE)
        limit = MAX_CAPTION if photo_id else MAX_TEXT
        text = self._text(ticket, headline, here, names or {}, MAX_ARGUMENT)
        if len(text) <= limit:
            return Outgoing(text, buttons, photo_id)
        shortest, longest = 0, MAX_ARGUMENT          # escaping makes the length uneven: search the cut
        while shortest < longest:
            middle = (shortest + longest + 1) // 2
            if len(self._text(ticket, headline, here, names or {}, middle)) <= limit:
                shortest = middle
            else:
                longest = middle - 1
        return Outgoing(self._text(ticket, headline, here, names or {}, shortest), buttons, photo_id)

    # --- text -------------------------------------------------------------------------------------

    def _text(self, ticket: Ticket, headline: Text | None, here: bool, names: dict[str, str], room: int) -> str:
        """The card's text, every person's words (description, address, question, answer, reason) cut to `room`."""
        parts = [headline] if headline else []
        if is_urgent(self.helpline, ticket):
            parts.append(T("card_urgent"))
        parts.append(T("card_head", ref=ticket.ref, category=T(f"category_{ticket.category}")))
        description = _cut(ticket.description, room)
        parts.append(T("card_words", description=description) if description else T("card_words_cut"))
        parts.append(self._place(ticket))
        if ticket.supporter_count:
            parts.append(T("card_supporters", count=ticket.supporter_count))
        parts += self._dates(ticket)
        parts.append(T("card_status", status=T(f"desk_status_{ticket.status}")))
        parts += self._outcome(ticket, here)
        last = _last_event(ticket)
        if last is not None:
            parts.append(self._last(last, names))
        return "\n".join(self.translator.text(_cut_words(part, room), self.lang) for part in parts)

    def _place(self, ticket: Ticket) -> Text:
        loc = ticket.location
        if loc is None:
            return T("card_no_place")
        address = loc.address or f"{loc.lat:.5f}, {loc.lon:.5f}"
        return T("card_place", address=address, map=map_link(loc.lat, loc.lon))

    def _dates(self, ticket: Ticket) -> list[Text]:
        dates = []
        if ticket.ack_due and ticket.status in (Status.NEW, Status.REOPENED):
            dates.append(T("card_ack_due", ack_due=ticket.ack_due))
        if ticket.resolve_due and ticket.is_open:
            dates.append(T("card_resolve_due", resolve_due=ticket.resolve_due))
        if ticket.scheduled_for and ticket.is_open:
            dates.append(T("card_planned", planned=ticket.scheduled_for))
        return dates

    def _outcome(self, ticket: Ticket, here: bool) -> list[Text]:
        profile, found = self.helpline.profile, []
        if not here:
            found.append(T("card_moved", department=self.department_name(ticket.department)))
        if ticket.status is Status.NEEDS_INFO:
            asked = _last(ticket, lambda e: e.to_status is Status.NEEDS_INFO)
            if asked and asked.note:
                found.append(T("card_asked", question=asked.note))
        answer = _last(ticket, lambda e: e.kind is EventKind.INFO)
        if answer and answer.note and ticket.is_open:
            found.append(T("card_answer", answer=answer.note))
        if ticket.status is Status.REJECTED and ticket.reject_reason:
            found.append(T("card_reason", reason=T(f"desk_reason_{ticket.reject_reason}")))
            if ticket.reject_reason is RejectReason.NOT_RESPONSIBLE and ticket.outside_body in profile.outside_bodies:
                found.append(T("card_referred", body=self.name(profile.outside_bodies[ticket.outside_body].names)))
            if ticket.reject_reason is RejectReason.DUPLICATE and ticket.duplicate_of:
                found.append(T("card_duplicate", original=ticket.duplicate_of))
        return found

    def _last(self, event: TicketEvent, names: dict[str, str]) -> Text:
        name = names.get(event.actor_id or "") if event.actor_role in (Role.STAFF, Role.HEAD) else None
        who = name or T(f"who_{event.actor_role}")
        if event.kind is EventKind.ASSIGNED:
            return T("card_last_assigned", who=who, at=event.at,
                     department=self.department_name(event.data.get("from")))
        if event.kind is EventKind.NOTE:
            return T("card_last_planned", who=who, at=event.at)
        if event.kind is EventKind.INFO or (event.actor_role is Role.RESIDENT and event.kind is EventKind.STATUS):
            return T("card_last_answered", at=event.at)
        if event.kind is EventKind.CREATED:
            return T("card_last_filed", at=event.at)
        return T("card_last_status", who=who, at=event.at, status=T(f"desk_status_{event.to_status}"))

    # --- buttons ----------------------------------------------------------------------------------

    def keyboard(self, ticket: Ticket, which: str) -> tuple[tuple[tuple[str, str], ...], ...]:
        ref, profile = ticket.ref, self.helpline.profile
        if which == REASONS:
            reasons = [r for r in RejectReason if r is not RejectReason.NOT_RESPONSIBLE or profile.outside_bodies]
            return _rows([(self.label(f"btn_reason_{r}"), data(REJECT, ref, r)) for r in reasons]
                         + [self._back(ref)], 2)
        if which == BODIES:
            return _rows([(self.name(body.names, short=True), data(REFER, ref, key))
                          for key, body in profile.outside_bodies.items()] + [self._back(ref)], 1)
        if which == DEPARTMENTS:
            return _rows([(self.department_name(key, short=True), data(MOVE, ref, key))
                          for key in profile.departments if key != ticket.department] + [self._back(ref)], 1)
        if which == ACTIONS:
            return _rows([(self.label(f"btn_desk_{action}"), data(action, ref)) for action in card_actions(ticket)], 2)
        return ()

    def _back(self, ref: str) -> tuple[str, str]:
        return self.label("btn_desk_back"), data(CARD, ref)

    def label(self, key: str) -> str:
        return self.translator.label(T(key), self.lang)

    def name(self, names: dict[str, str], short: bool = False) -> str:
        """A profile's name in the department's language; `short` for a button."""
        text = names.get(self.lang) or names.get("en") or next(iter(names.values()), "?")
        return text if not short or len(text) <= LABEL_LIMIT else text[:LABEL_LIMIT - 1] + "…"

    def department_name(self, key: str | None, short: bool = False) -> str:
        department = self.helpline.profile.departments.get(key or "")
        return self.name(department.names, short) if department else (key or "?")

    # --- the outbox -------------------------------------------------------------------------------

    def staff_names(self, department: str | None) -> dict[str, str]:
        """Names of the department's own staff, from the staff list (never shown outside its group)."""
        return {str(m.telegram_id): m.name for m in self.helpline.staff(department)
                if m.name and m.department == department}

    def for_notification(self, notification: Notification) -> Outgoing:
        ticket = self.helpline.ticket(notification.payload.get("ref") or notification.ticket_ref or "")
        group = self.helpline.department_of_chat(notification.chat_id) or ticket.department
        return self.card(ticket, group, headline=self.headline(notification, ticket), names=self.staff_names(group))

    def headline(self, notification: Notification, ticket: Ticket) -> Text:
        """Why the card came: new, passed on, answered, or reopened (by whom, as a role, and why)."""
        if notification.kind == "ticket_reopened":
            by, reason = notification.payload.get("by"), (notification.payload.get("note") or "").strip()
            if reason and by in REOPENED_BY:
                return T(f"card_reopened_{by}", reason=reason)
            return T("card_reopened")
        return T(CARD_KINDS[notification.kind], department=self.department_name(_moved_from(ticket)))


def register_department_cards(renderers: Renderers, helpline: Helpline, translator: Translator) -> Cards:
    cards = Cards(helpline, translator)
    for kind in CARD_KINDS:
        renderers.register(kind, cards.for_notification)
    return cards


def _cut(words: str, length: int) -> str:
    if len(words) <= length:
        return words
    return words[:length].rstrip() + "…" if length else ""


def _cut_words(part: Text, room: int) -> Text:
    """The part with every person's words in it cut to `room` characters."""
    if not WORDS & part.args.keys():
        return part
    return Text(part.key, {k: _cut(v, room) if k in WORDS and isinstance(v, str) else v for k, v in part.args.items()},
                part.count)


def _rows(buttons: list[tuple[str, str]], per_row: int) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(tuple(buttons[i:i + per_row]) for i in range(0, len(buttons), per_row))


def _last(ticket: Ticket, wanted) -> TicketEvent | None:
    return next((e for e in reversed(ticket.events) if wanted(e)), None)


def _last_event(ticket: Ticket) -> TicketEvent | None:
    """The last thing someone did to the ticket (not "me too"s, escalations or anonymising)."""
    shown = (EventKind.CREATED, EventKind.STATUS, EventKind.ASSIGNED, EventKind.INFO, EventKind.NOTE)
    return _last(ticket, lambda e: e.kind in shown and (e.kind is not EventKind.NOTE or "scheduled_for" in e.data))


def _moved_from(ticket: Ticket) -> str | None:
    moved = _last(ticket, lambda e: e.kind is EventKind.ASSIGNED)
    return moved.data.get("from") if moved else None

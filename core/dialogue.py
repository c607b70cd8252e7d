"""The resident's conversation, channel-neutral: (state, input) -> (new state, replies).

Telegram and the terminal both turn what the resident did into an `Input`, call `Conversation.handle`, and
render the `Reply` objects it returns (message keys with arguments, translated by the channel). The state is a
plain dict stored per chat in the database, so a conversation survives a restart at the very same step.

Buttons carry `<version>:<action>`; the version changes with every new step, so a press on a button of a step
that has passed is recognised and answered, never acted on. Actions prefixed `g:` are valid at any time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from enum import StrEnum
from typing import Any, Callable

from core.handover import Handovers
from core.answers import EMERGENCY, INTENT_TOPICS, Answer, answer, topic_of
from core.emergency import NO_WORDS, EmergencyWords
from core.ports import NLU, Geocoder, GeocodingUnavailable, Opening, Understanding
from core.routing import inside_boundary
from core.review import MovedOn, NotYours, Review
from core.services import Filed, Helpline, NotFound, Report
from core.tickets import CATEGORIES, DomainError, Location, Photo, Status, Ticket, parse_ref

LANGUAGES = ("el", "sl", "he", "en")
LANGUAGE_NAMES = {"el": "Ελληνικά", "sl": "Slovenščina", "he": "עברית", "en": "English"}
CONFIDENT = 0.55
EMERGENCY_SERVICES = ("emergency", "ambulance", "fire", "police")
SURE = 0.8          # how sure the NLU must be to take "cancel" or "help" out of the middle of a report


class Step(StrEnum):
    IDLE = "idle"
    LANGUAGE = "language"
    DESCRIBE = "describe"
    CATEGORY = "category"
    DETAILS = "details"
    PLACE = "place"
    DUPLICATES = "duplicates"
    PHOTO = "photo"
    SUMMARY = "summary"
    EDIT_DESCRIPTION = "edit_description"
    FORGET = "forget"
    INFO = "info"
    COMPLAINT = "complaint"
    HANDOVER = "handover"                # talking to a person: what the resident sends is relayed to operators
    DISPUTE = "dispute"


# Steps where a question is answered on the side, keeping the report's draft (elsewhere free text is content).
ASIDE_STEPS = (Step.CATEGORY, Step.PLACE, Step.DUPLICATES, Step.PHOTO, Step.SUMMARY)


class Kind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"
    LOCATION = "location"
    PHOTO = "photo"


@dataclass(frozen=True)
class Sender:
    chat_id: int
    name: str | None = None
    language_code: str | None = None     # what the resident's app is set to


@dataclass(frozen=True)
class Input:
    kind: Kind
    text: str = ""                       # message text, command name (no slash) or button data
    args: str = ""                       # command arguments
    lat: float | None = None
    lon: float | None = None
    place_name: str | None = None        # a shared venue's title and address
    photo: Photo | None = None

    def __post_init__(self) -> None:
        """A NUL character carries nothing a person meant, and PostgreSQL refuses it in text: drop it."""
        for name in ("text", "args", "place_name"):
            value = getattr(self, name)
            if value and "\x00" in value:
                object.__setattr__(self, name, value.replace("\x00", ""))


@dataclass(frozen=True)
class Text:
    """A message key and its arguments. Arguments may be Text (translated too), datetimes or plain values."""
    key: str
    args: dict[str, Any] = field(default_factory=dict)
    count: int | None = None             # for plural forms


@dataclass(frozen=True)
class Button:
    label: Text | str                    # a str is shown as it is (e.g. a language's own name)
    data: str


@dataclass(frozen=True)
class Reply:
    parts: tuple[Text, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    ask_location: bool = False           # offer the "send my location" keyboard
    remove_keyboard: bool = False


@dataclass(frozen=True)
class Outcome:
    """What one input led to. `with_person`: the chat is (or was, until this input) talking to an operator, so
    the input may have queued relays for the operators' group (core/handover.py) that are best sent at once."""
    replies: list[Reply]
    lang: str
    with_person: bool = False
    marked: bool = False        # the update of `opened` was marked handled with the conversation's state


def T(key: str, count: int | None = None, **args: Any) -> Text:
    return Text(key, args, count)


def say(*parts: Text, buttons=(), **flags) -> Reply:
    return Reply(tuple(parts), tuple(tuple(row) for row in buttons), **flags)


@dataclass
class Turn:
    """One exchange: the state being changed and the replies being gathered."""
    state: dict
    sender: Sender
    resident_id: int
    lang: str
    replies: list[Reply] = field(default_factory=list)
    understood: Understanding | None = None

    @property
    def step(self) -> Step:
        return Step(self.state.get("step", Step.IDLE))

    @property
    def draft(self) -> dict:
        return self.state.setdefault("draft", {})

    def go(self, step: Step) -> None:
        self.state["step"] = str(step)
        self.state["v"] = self.state.get("v", 0) + 1

    def button(self, label: Text | str, action: str) -> Button:
        return Button(label, f"{self.state.get('v', 0)}:{action}")

    def send(self, *parts: Text, **kwargs) -> None:
        self.replies.append(say(*parts, **kwargs))


class Conversation:
    """The resident side of the helpline."""

    def __init__(self, helpline: Helpline, nlu: NLU, geocoder: Geocoder,
                 detect_language: Callable[[str], str | None], emergency_words: EmergencyWords = NO_WORDS) -> None:
        self.helpline = helpline
        self.emergency_words = emergency_words
        self.profile = helpline.profile
        self.nlu = nlu
        self.geocoder = geocoder
        self.detect_language = detect_language

    # --- entry point ------------------------------------------------------------------------------

    async def handle(self, sender: Sender, inp: Input) -> tuple[list[Reply], str]:
        """Process one input from a chat; returns the replies and the language to show them in."""
        outcome = await self.answer(sender, inp)
        return outcome.replies, outcome.lang

    async def answer(self, sender: Sender, inp: Input, opened: Opening | None = None) -> Outcome:
        """Process one input from a chat: the replies, their language, and whether a person was involved.
        `opened`: the resident and the conversation as the message's first read found them (else read here)."""
        resident, state = self.helpline.resident_and_conversation(sender.chat_id, sender.name, opened)
        state = state or {"step": str(Step.IDLE), "v": 0}
        turn = Turn(state, sender, resident.id, self._language(resident.language, state, sender, inp))
        with_person = turn.step is Step.HANDOVER or bool((state.get("draft") or {}).get("handover"))
        state["lang"] = turn.lang
        await self._dispatch(turn, inp)
        handled = opened.update_id if opened is not None and not turn.state.get("forgotten") else None
        if not turn.state.get("forgotten"):
            self.helpline.store_conversation(sender.chat_id, turn.state, handled)
        return Outcome(turn.replies, turn.lang, with_person or turn.step is Step.HANDOVER, handled is not None)

    def _language(self, chosen: str | None, state: dict, sender: Sender, inp: Input) -> str:
        if chosen:
            return chosen
        if inp.kind is Kind.TEXT and (found := self.detect_language(inp.text)) in LANGUAGES:
            return found
        if state.get("lang") in LANGUAGES:
            return state["lang"]
        code = (sender.language_code or "").split("-")[0].lower()
        return code if code in LANGUAGES else self.profile.default_language

    async def _dispatch(self, turn: Turn, inp: Input) -> None:
        if inp.kind is Kind.COMMAND:
            return await self._command(turn, inp.text.lower(), inp.args)
        if inp.kind is Kind.BUTTON:
            return await self._button(turn, inp.text)
        if inp.kind is Kind.TEXT and inp.text.strip() and await self._emergency(turn, inp.text):
            return
        if inp.kind is Kind.TEXT and turn.step not in (Step.IDLE, Step.LANGUAGE, Step.HANDOVER) and inp.text.strip():
            understood = await self._understand(turn, inp.text)
            if understood.intent in ("cancel", "help") and understood.confidence >= SURE:
                return await self._command(turn, understood.intent, "")
            if topic_of(understood.intent) and understood.confidence >= SURE and turn.step in ASIDE_STEPS:
                self._answer_question(turn, understood.intent)
                return self._prompt(turn)
        handler = getattr(self, f"_on_{turn.step}")
        await handler(turn, inp)

    async def _understand(self, turn: Turn, text: str):
        """Ask the NLU once per message."""
        if turn.understood is None:
            turn.understood = await self.nlu.understand(text)
        return turn.understood

    # --- commands ---------------------------------------------------------------------------------

    async def _command(self, turn: Turn, name: str, args: str) -> None:
        if name == "start":
            return self._start(turn)
        if name == "cancel" and turn.step is Step.HANDOVER:
            return self._leave_person(turn)
        if name == "cancel":
            return self._cancel(turn)
        if name == "person":
            return self._ask_for_person(turn)
        if name == "info":
            return self._info_menu(turn)
        if name in ("report", "new"):
            return self._begin_report(turn)
        if name == "status":
            return self._status(turn, parse_ref(args))
        if name == "mytickets":
            return self._my_tickets(turn)
        if name == "follow":
            return self._follow(turn, parse_ref(args))
        if name == "language":
            return self._ask_language(turn)
        if name == "mydata":
            return self._my_data(turn)
        if name == "complain":
            return self._complain(turn, args)
        if name == "forget":
            turn.go(Step.FORGET)
            return turn.send(T("forget_confirm"), buttons=[[turn.button(T("btn_forget_yes"), "forget:yes"),
                                                            turn.button(T("btn_no"), "forget:no")]])
        if name == "help":
            turn.send(T("help", example=self._example_ref()))
            return self._prompt(turn)
        turn.send(T("unknown_command", command="/" + name))

    def _start(self, turn: Turn) -> None:
        turn.state["draft"] = {}
        turn.send(T("greeting", town=self._town(turn)), T("privacy_notice"))
        self._ask_language(turn)

    def _ask_language(self, turn: Turn) -> None:
        turn.go(Step.LANGUAGE)
        turn.send(T("choose_language"),
                  buttons=[[turn.button(LANGUAGE_NAMES[code], f"lang:{code}") for code in LANGUAGES[i:i + 2]]
                           for i in (0, 2)])

    def _cancel(self, turn: Turn) -> None:
        had_draft = bool(turn.state.get("draft")) or turn.step is not Step.IDLE
        turn.state["draft"] = {}
        turn.go(Step.IDLE)
        turn.send(T("cancelled" if had_draft else "nothing_to_cancel"), remove_keyboard=True)
        self._menu(turn)

    # --- buttons ----------------------------------------------------------------------------------

    async def _button(self, turn: Turn, data: str) -> None:
        version, _, action = data.partition(":")
        if version == "g":
            return self._global_action(turn, action)
        if version != str(turn.state.get("v", 0)):
            turn.send(T("stale_button"))
            return self._prompt(turn)
        kind, _, value = action.partition(":")
        handler = getattr(self, f"_press_{kind}", None)
        if handler is None:
            turn.send(T("stale_button"))
            return self._prompt(turn)
        await handler(turn, value)

    def _global_action(self, turn: Turn, action: str) -> None:
        kind, _, ref = action.partition(":")
        if kind == "info":
            return self._info(turn, ref)
        if kind == "answer":
            ticket = self._ticket_or_none(ref)
            if ticket and ticket.reporter_id == turn.resident_id and ticket.status is Status.NEEDS_INFO:
                turn.state["info_ref"] = ticket.ref
                turn.go(Step.INFO)
                return turn.send(T("ask_info_answer", ref=ticket.ref))
        elif kind == "status":
            return self._status(turn, parse_ref(ref))
        elif kind == "person":
            return self._ask_for_person(turn)
        elif kind in ("dispute", "fixed"):
            return self._review_button(turn, kind, ref)
        turn.send(T("stale_button"))

    def _review_button(self, turn: Turn, kind: str, value: str) -> None:
        """The buttons under a "fixed" or "rejected" notice and the questionnaire: confirm, or say why not."""
        ref, _, answer = value.partition(":")
        review, fix_only = Review(self.helpline), kind == "fixed"
        try:
            if fix_only and answer == "yes":
                return turn.send(T("fixed_thanks", ref=review.confirm_fixed(ref, turn.resident_id).ref))
            ticket = review.disputable(ref, turn.resident_id, fix_only=fix_only)
        except (MovedOn, NotFound):
            return self._moved_on(turn, ref)
        except NotYours:
            return turn.send(T("review_not_yours", ref=ref))
        turn.state["dispute"] = {"ref": ticket.ref, "fix_only": fix_only}
        turn.go(Step.DISPUTE)
        turn.send(T("ask_dispute_reason", ref=ticket.ref))

    def _moved_on(self, turn: Turn, ref: str) -> None:
        ticket = self._ticket_or_none(ref)
        turn.send(T("review_moved_on", ref=ref, status=T(f"status_{ticket.status}")) if ticket
                  else T("status_not_found", ref=ref, example=self._example_ref()))

    async def _press_menu(self, turn: Turn, value: str) -> None:
        {"report": self._begin_report, "mine": self._my_tickets, "help": self._help,
         "language": self._ask_language, "info": self._info_menu}.get(value, self._menu)(turn)

    async def _press_lang(self, turn: Turn, code: str) -> None:
        if code not in LANGUAGES:
            return self._ask_language(turn)
        self.helpline.set_language(turn.resident_id, code)
        turn.lang = turn.state["lang"] = code
        turn.send(T("language_set"))
        if turn.draft.get("category"):
            return self._resume_report(turn)
        turn.go(Step.IDLE)
        self._menu(turn)

    async def _press_cat(self, turn: Turn, category: str) -> None:
        if category == "more":
            return self._ask_category(turn, proposals=())
        if category not in CATEGORIES:
            return self._ask_category(turn, proposals=())
        turn.draft["category"] = category
        if not turn.draft.get("description"):
            turn.go(Step.DETAILS)
            return turn.send(T("ask_details", category=T(f"category_{category}")),
                             buttons=[[turn.button(T("btn_skip"), "details:skip")]])
        self._resume_report(turn)

    async def _press_details(self, turn: Turn, _value: str) -> None:
        turn.draft.setdefault("description", "")
        self._resume_report(turn)

    async def _press_dup(self, turn: Turn, ref: str) -> None:
        if ref == "new":
            turn.draft.pop("dups", None)
            return self._resume_report(turn)
        self._follow(turn, parse_ref(ref))

    async def _press_photo(self, turn: Turn, _value: str) -> None:
        self._summary(turn)

    async def _press_edit(self, turn: Turn, what: str) -> None:
        if what == "category":
            return self._ask_category(turn, proposals=())
        if what == "place":
            turn.draft.pop("lat", None)
            return self._ask_place(turn)
        if what == "description":
            turn.go(Step.EDIT_DESCRIPTION)
            return turn.send(T("ask_new_description"))
        self._summary(turn)

    async def _press_send(self, turn: Turn, _value: str) -> None:
        await self._file(turn)

    async def _press_cancel(self, turn: Turn, _value: str) -> None:
        self._cancel(turn)

    async def _press_complain(self, turn: Turn, ref: str) -> None:
        self._record_complaint(turn, ref, turn.state.pop("complaint", ""))

    async def _press_forget(self, turn: Turn, answer: str) -> None:
        if answer != "yes":
            turn.go(Step.IDLE)
            turn.send(T("forget_kept"))
            return self._menu(turn)
        self.helpline.forget_resident(turn.resident_id, turn.sender.chat_id)
        turn.state["forgotten"] = True
        turn.send(T("forgotten"), remove_keyboard=True)

    # --- free text and other input, by step ------------------------------------------------------

    async def _on_idle(self, turn: Turn, inp: Input) -> None:
        if inp.kind is Kind.LOCATION:
            self._begin_report(turn, prompt=False)
            return await self._on_place(turn, inp)
        if inp.kind is Kind.PHOTO:
            turn.draft["photos"] = [inp.photo.file_id]
            return self._begin_report(turn)
        if ref := parse_ref(inp.text):
            return self._status(turn, ref)
        understood = await self._understand(turn, inp.text)
        intent = understood.intent or ""
        simple = {"greet": "greeting_again", "thanks": "you_are_welcome", "goodbye": "goodbye"}
        if intent in simple and understood.confidence >= CONFIDENT:
            turn.send(T(simple[intent], town=self._town(turn)))
            return self._menu(turn) if intent == "greet" else None
        if intent == "help" and understood.confidence >= CONFIDENT:
            return self._help(turn)
        if intent == "cancel" and understood.confidence >= CONFIDENT:
            return self._cancel(turn)
        if intent == "change_language" and understood.confidence >= CONFIDENT:
            return self._ask_language(turn)
        if intent == "check_status" and understood.confidence >= CONFIDENT:
            return self._my_tickets(turn)
        if intent == "talk_to_person" and understood.confidence >= CONFIDENT:
            return self._ask_for_person(turn)
        if intent == "complain_about_handling" and understood.confidence >= CONFIDENT:
            return self._complain(turn, inp.text)
        if topic_of(intent) and understood.confidence >= CONFIDENT:
            return self._answer_question(turn, intent)
        if intent == "out_of_scope" and understood.confidence >= CONFIDENT or _is_question(inp.text) and not (
                intent.startswith("report_") and understood.confidence >= CONFIDENT):
            return self._offer_person(turn)
        if intent in ("out_of_scope", "affirm", "deny") and understood.confidence >= CONFIDENT:
            turn.send(T("not_understood"))
            return self._menu(turn)
        await self._describe(turn, inp.text, understood)

    async def _on_language(self, turn: Turn, inp: Input) -> None:
        turn.go(Step.IDLE)
        await self._on_idle(turn, inp)

    async def _on_describe(self, turn: Turn, inp: Input) -> None:
        if inp.kind is Kind.LOCATION:
            return await self._on_place(turn, inp)
        if inp.kind is Kind.PHOTO:
            turn.draft.setdefault("photos", []).append(inp.photo.file_id)
            return self._prompt(turn)
        await self._describe(turn, inp.text, await self._understand(turn, inp.text))

    async def _on_category(self, turn: Turn, inp: Input) -> None:
        if inp.kind is Kind.TEXT:
            return await self._on_describe(turn, inp)
        self._prompt(turn)

    async def _on_details(self, turn: Turn, inp: Input) -> None:
        if inp.kind is Kind.TEXT and inp.text.strip():
            turn.draft["description"] = inp.text.strip()
            return self._resume_report(turn)
        self._prompt(turn)

    async def _on_edit_description(self, turn: Turn, inp: Input) -> None:
        await self._on_details(turn, inp)

    async def _on_place(self, turn: Turn, inp: Input) -> None:
        if inp.kind is Kind.LOCATION and inp.lat is not None and inp.lon is not None:
            return await self._place_chosen(turn, inp.lat, inp.lon, inp.place_name)
        if inp.kind is not Kind.TEXT or not inp.text.strip():
            return self._prompt(turn)
        try:
            place = await self.geocoder.geocode(inp.text.strip())
        except GeocodingUnavailable:
            return turn.send(T("geocoder_down"), ask_location=True)
        if place is None:
            return turn.send(T("address_not_found", address=inp.text.strip()[:200], town=self._town(turn)),
                             ask_location=True)
        await self._place_chosen(turn, place.lat, place.lon, place.address)

    async def _on_duplicates(self, turn: Turn, inp: Input) -> None:
        self._prompt(turn)

    async def _on_photo(self, turn: Turn, inp: Input) -> None:
        if inp.kind is Kind.PHOTO and inp.photo:
            turn.draft.setdefault("photos", []).append(inp.photo.file_id)
            return self._summary(turn)
        turn.send(T("photo_expected"), buttons=[[turn.button(T("btn_skip"), "photo:skip")]])

    async def _on_summary(self, turn: Turn, inp: Input) -> None:
        if inp.kind is Kind.PHOTO and inp.photo:
            turn.draft.setdefault("photos", []).append(inp.photo.file_id)
        self._summary(turn)

    async def _on_complaint(self, turn: Turn, inp: Input) -> None:
        if inp.kind is Kind.TEXT and (ref := parse_ref(inp.text)):
            return self._record_complaint(turn, ref, turn.state.pop("complaint", "") or inp.text)
        self._prompt(turn)

    async def _on_forget(self, turn: Turn, inp: Input) -> None:
        self._prompt(turn)

    async def _on_dispute(self, turn: Turn, inp: Input) -> None:
        dispute = turn.state.get("dispute") or {}
        if inp.kind is not Kind.TEXT or not inp.text.strip():
            return self._prompt(turn)
        review, ref = Review(self.helpline), dispute.get("ref", "")
        turn.state.pop("dispute", None)
        turn.go(Step.IDLE)
        try:
            act = review.not_fixed if dispute.get("fix_only") else review.dispute
            outcome = act(ref, turn.resident_id, inp.text.strip())
        except (MovedOn, NotFound):
            return self._moved_on(turn, ref)
        except NotYours:
            return turn.send(T("review_not_yours", ref=ref))
        ticket = outcome.ticket
        if ticket.status is Status.REOPENED:
            turn.send(T("reopened_by_you", ref=ticket.ref, due=ticket.resolve_due),
                      *([T("sent_to_ombudsman", ref=ticket.ref)] if outcome.escalation else []))
        else:
            turn.send(T("sent_to_ombudsman", ref=ticket.ref))

    async def _on_info(self, turn: Turn, inp: Input) -> None:
        ref = turn.state.get("info_ref", "")
        if inp.kind is Kind.TEXT and inp.text.strip():
            note, photo = inp.text.strip(), None
        elif inp.kind is Kind.PHOTO and inp.photo:
            note, photo = "", inp.photo
        else:
            return self._prompt(turn)
        try:
            self.helpline.add_information(ref, turn.resident_id, note, photo)
        except DomainError:
            turn.send(T("info_not_needed", ref=ref))
        else:
            turn.send(T("info_saved", ref=ref))
        turn.state.pop("info_ref", None)
        turn.go(Step.IDLE)
        self._menu(turn)

    # --- emergencies and questions (core/emergency.py, core/answers.py) ------------------------

    def _emergency_numbers(self) -> list[Text]:
        return [T("emergency_number_line", service=T(f"emergency_service_{key}") if key in EMERGENCY_SERVICES
                  else key, number=number) for key, number in self.profile.emergency_numbers.items()]

    async def _emergency(self, turn: Turn, text: str) -> bool:
        """Danger first: the emergency numbers at once (by keyword, or by the NLU), then the usual flow."""
        if not await self._in_danger(turn, text):
            return False
        numbers = self._emergency_numbers()
        if turn.step in (Step.IDLE, Step.LANGUAGE):
            turn.state["emergency_text"] = text.strip()
            turn.go(Step.IDLE)
            turn.send(T("emergency_call_now"), *numbers, T("emergency_offer_report"),
                      buttons=[[turn.button(T("btn_emergency_report"), "emergency:report")]])
            return True
        turn.send(T("emergency_call_now"), *numbers)
        if turn.step is Step.HANDOVER:
            return False                        # and the message still goes to the operators
        self._prompt(turn)
        return True

    async def _in_danger(self, turn: Turn, text: str) -> bool:
        if self.emergency_words.match(text):
            return True
        if turn.step is Step.HANDOVER:          # a person is reading already; no NLU there
            return False
        understood = await self._understand(turn, text)
        return understood.intent == EMERGENCY and understood.confidence >= CONFIDENT

    async def _press_emergency(self, turn: Turn, _value: str) -> None:
        text = turn.state.pop("emergency_text", "")
        self._begin_report(turn, prompt=not text)
        if text:
            await self._describe(turn, text, await self._understand(turn, text))

    def _answer_question(self, turn: Turn, intent: str) -> None:
        found = answer(self.profile.knowledge, intent, self.profile.calendar, self.helpline.clock.now())
        if found is None:
            return self._offer_person(turn)
        person = Button(T("btn_person"), "g:person")
        rows = [[person]]
        if found.topic == "bulky_waste" and turn.step is Step.IDLE:
            rows.insert(0, [turn.button(T("btn_book_collection"), "cat:bulky_waste")])
        turn.send(*self._answer_parts(found, turn.lang), buttons=rows)

    def _answer_parts(self, found: Answer, lang: str) -> list[Text]:
        office, names = found.office, self.profile.departments[found.department].names
        department = _pick(names, lang)
        parts = []
        if found.text:
            parts.append(T("answer_topic", answer=_pick(found.text, lang), department=department))
        if found.topic == "office_hours":
            parts.append(T("answer_office_hours", department=department))
            parts += [T("answer_hours_line", days=_days(h.days), opens=f"{h.opens:%H:%M}", closes=f"{h.closes:%H:%M}")
                      for h in office.hours]
            now = found.now
            parts.append(T("answer_open_now", closes=f"{now.closes:%H:%M}") if now.open else
                         T("answer_closed_now", opens=now.opens) if now.opens else T("answer_closed_now_unknown"))
        if office:
            parts.append(T("answer_contact", department=department, address=_pick(office.address, lang),
                           phone=office.phone or "-", email=office.email or "-"))
        return parts

    def _offer_person(self, turn: Turn) -> None:
        """A question the helpline cannot answer: a person can, or it may be a problem to report after all."""
        turn.send(T("answer_unknown"), buttons=[[Button(T("btn_person"), "g:person")],
                                               [turn.button(T("btn_report"), "menu:report")]])

    # --- the report flow --------------------------------------------------------------------------

    def _begin_report(self, turn: Turn, prompt: bool = True) -> None:
        photos = turn.draft.get("photos", [])
        turn.state["draft"] = {"photos": photos} if photos else {}
        turn.go(Step.DESCRIBE)
        if prompt:
            self._prompt(turn)

    async def _describe(self, turn: Turn, text: str, understood) -> None:
        text = text.strip()
        if not text:
            return self._prompt(turn)
        previous = turn.draft.get("description")
        turn.draft["description"] = f"{previous}\n{text}" if previous and turn.step is Step.CATEGORY else text
        proposals = tuple(dict.fromkeys(
            score.intent.removeprefix("report_") for score in understood.ranking
            if score.intent.startswith("report_") and score.intent.removeprefix("report_") in CATEGORIES))[:3]
        confident = (understood.intent or "").startswith("report_") and understood.confidence >= CONFIDENT
        self._ask_category(turn, proposals if confident else (), understood.available)

    def _ask_category(self, turn: Turn, proposals: tuple[str, ...], nlu_available: bool = True) -> None:
        turn.go(Step.CATEGORY)
        if proposals:
            rows = [[turn.button(T(f"category_{c}"), f"cat:{c}")] for c in proposals]
            rows.append([turn.button(T("btn_something_else"), "cat:more")])
            return turn.send(T("propose_category"), buttons=rows)
        buttons = [turn.button(T(f"category_{c}"), f"cat:{c}") for c in CATEGORIES]
        key = "pick_category" if nlu_available or not turn.draft.get("description") else "pick_category_plain"
        turn.send(T(key), buttons=[buttons[i:i + 2] for i in range(0, len(buttons), 2)])

    def _resume_report(self, turn: Turn) -> None:
        """Go on to the first thing the draft still lacks (or the summary, when editing)."""
        d = turn.draft
        if not d.get("category"):
            return self._ask_category(turn, ())
        if d.get("lat") is None:
            return self._ask_place(turn)
        if "photo_step_done" not in d:
            return self._ask_photo(turn)
        self._summary(turn)

    def _ask_place(self, turn: Turn) -> None:
        turn.go(Step.PLACE)
        turn.send(T("ask_location"), ask_location=True)

    async def _place_chosen(self, turn: Turn, lat: float, lon: float, name: str | None) -> None:
        try:
            Location(lat, lon)
        except DomainError:
            return turn.send(T("outside_boundary", town=self._town(turn)), ask_location=True)
        if not inside_boundary(self.profile, lat, lon):
            return turn.send(T("outside_boundary", town=self._town(turn)), ask_location=True)
        address = name
        if not address:
            try:
                address = await self.geocoder.reverse(lat, lon)
            except GeocodingUnavailable:
                address = None
        turn.draft.update(lat=lat, lon=lon, address=address or f"{lat:.5f}, {lon:.5f}")
        turn.send(T("place_noted", address=turn.draft["address"]), remove_keyboard=True)
        if not turn.draft.get("category"):
            turn.go(Step.DESCRIBE)
            return self._prompt(turn)
        similar = self.helpline.open_tickets_nearby(turn.draft["category"], Location(lat, lon))
        similar = [(t, d) for t, d in similar if t.reporter_id != turn.resident_id][:3]
        if not similar:
            return self._resume_report(turn)
        turn.draft["dups"] = [{"ref": t.ref, "category": t.category, "metres": round(d),
                               "address": t.address or "",
                               "count": t.supporter_count + 1} for t, d in similar]
        self._show_duplicates(turn)

    def _show_duplicates(self, turn: Turn) -> None:
        turn.go(Step.DUPLICATES)
        dups = turn.draft.get("dups", [])
        lines = [T("duplicate_line", ref=d["ref"], category=T(f"category_{d['category']}"), metres=d["metres"],
                   address=d["address"], count=d["count"]) for d in dups]
        rows = [[turn.button(T("btn_same_problem", ref=d["ref"]), f"dup:{d['ref']}")] for d in dups]
        rows.append([turn.button(T("btn_new_problem"), "dup:new")])
        turn.send(T("duplicates_found"), *lines, buttons=rows)

    def _ask_photo(self, turn: Turn) -> None:
        if "photo_step_done" in turn.draft or turn.draft.get("photos"):
            turn.draft["photo_step_done"] = True
            return self._summary(turn)
        turn.draft["photo_step_done"] = True
        turn.go(Step.PHOTO)
        turn.send(T("ask_photo"), buttons=[[turn.button(T("btn_skip"), "photo:skip")]])

    def _summary(self, turn: Turn) -> None:
        d = turn.draft
        turn.draft["photo_step_done"] = True
        turn.go(Step.SUMMARY)
        description = d.get("description") or "-"
        turn.send(T("summary", category=T(f"category_{d['category']}"), address=d.get("address", ""),
                    description=description, photos=len(d.get("photos", []))),
                  buttons=[[turn.button(T("btn_send"), "send:yes")],
                           [turn.button(T("btn_change_category"), "edit:category"),
                            turn.button(T("btn_change_place"), "edit:place")],
                           [turn.button(T("btn_change_description"), "edit:description"),
                            turn.button(T("btn_cancel"), "cancel:yes")]])

    async def _file(self, turn: Turn) -> None:
        d = turn.draft
        report = Report(category=d["category"], description=d.get("description") or "",
                        location=Location(d["lat"], d["lon"], d.get("address")), resident_id=turn.resident_id,
                        language=turn.lang, photos=tuple(Photo(p) for p in d.get("photos", [])))
        done_state = {"step": str(Step.IDLE), "v": turn.state.get("v", 0) + 1, "lang": turn.lang, "draft": {}}
        handover = d.get("handover")
        filed = self.helpline.file_report(report, chat=(turn.sender.chat_id, done_state), also=(
            (lambda uow, f: self.handovers.record_filed(uow, handover, f.ticket.ref)) if handover else None))
        turn.state.clear()
        turn.state.update(done_state)
        turn.send(self._filed_text(filed, turn.lang), remove_keyboard=True)
        if self.profile.category(report.category).urgent and not filed.route.outside_body:
            turn.send(T("emergency_call_now"), *self._emergency_numbers())    # dangerous by nature

    def _filed_text(self, filed: Filed, lang: str) -> Text:
        t = filed.ticket
        if filed.route.outside_body:
            body = self.profile.outside_bodies[filed.route.outside_body]
            return T("referred", ref=t.ref, body=_pick(body.names, lang), referral=_pick(body.referral, lang))
        dept = self.profile.departments[t.department]
        return T("filed", ref=t.ref, department=_pick(dept.names, lang), due=t.resolve_due)

    # --- status, following, personal data --------------------------------------------------------

    def _status(self, turn: Turn, ref: str | None) -> None:
        if not ref:
            return self._my_tickets(turn)
        ticket = self._ticket_or_none(ref)
        if ticket is None:
            return turn.send(T("status_not_found", ref=ref, example=self._example_ref()))
        buttons = []
        if ticket.status is Status.NEEDS_INFO and ticket.reporter_id == turn.resident_id:
            buttons = [[Button(T("btn_answer"), f"g:answer:{ticket.ref}")]]
        turn.send(self._status_text(ticket), buttons=buttons)

    def _status_text(self, t: Ticket) -> Text:
        question = next((e.note for e in reversed(t.events)
                         if e.to_status is Status.NEEDS_INFO and e.public and e.note), None)
        latest = next((e.note for e in reversed(t.events) if e.public and e.note), None)
        return T("status_of", ref=t.ref, status=T(f"status_{t.status}"), category=T(f"category_{t.category}"),
                 address=(t.location.address if t.location else "") or "-", filed=t.created_at,
                 due=t.resolve_due, note=(question if t.status is Status.NEEDS_INFO else latest) or "-")

    def _my_tickets(self, turn: Turn) -> None:
        mine = self.helpline.tickets_of(turn.resident_id)
        if not mine:
            turn.send(T("no_tickets", example=self._example_ref()))
            return self._menu(turn)
        lines = [T("my_ticket_line", ref=t.ref, category=T(f"category_{t.category}"),
                   status=T(f"status_{t.status}")) for t in mine[:10]]
        turn.send(T("my_tickets", count=len(mine)), *lines,
                  buttons=[[Button(t.ref, f"g:status:{t.ref}")] for t in mine[:5]])

    def _follow(self, turn: Turn, ref: str | None) -> None:
        if not ref:
            return turn.send(T("follow_which", example=self._example_ref()))
        try:
            ticket = self.helpline.follow(ref, turn.resident_id)
        except NotFound:
            return turn.send(T("status_not_found", ref=ref, example=self._example_ref()))
        except DomainError:
            return turn.send(T("cannot_follow_closed", ref=ref))
        turn.state["draft"] = {}
        turn.go(Step.IDLE)
        turn.send(T("followed", ref=ticket.ref, count=ticket.supporter_count + 1), remove_keyboard=True)

    def _complain(self, turn: Turn, text: str) -> None:
        """A resident disputes how a ticket was handled: the complaint goes to the Citizen's Advocate."""
        if ref := parse_ref(text):
            return self._record_complaint(turn, ref, text)
        mine = self.helpline.tickets_of(turn.resident_id)
        if not mine:
            return turn.send(T("complaint_no_tickets", example=self._example_ref()))
        turn.state["complaint"] = text.strip()
        turn.go(Step.COMPLAINT)
        turn.send(T("complaint_which"), buttons=[[turn.button(f"{t.ref}", f"complain:{t.ref}")] for t in mine[:6]])

    def _record_complaint(self, turn: Turn, ref: str, text: str) -> None:
        turn.go(Step.IDLE)
        try:
            ticket = self.helpline.complain(ref, turn.resident_id, text.strip())
        except NotFound:
            return turn.send(T("status_not_found", ref=ref, example=self._example_ref()))
        except DomainError:
            return turn.send(T("complaint_not_yours", ref=ref))
        turn.send(T("complaint_recorded", ref=ticket.ref))

    def _my_data(self, turn: Turn) -> None:
        data = self.helpline.personal_data(turn.resident_id)
        turn.send(T("my_data", name=data["name"] or "-", language=LANGUAGE_NAMES.get(data["language"] or "", "-"),
                    reports=data["reports"], following=data["following"], chat=turn.sender.chat_id))

    # --- talking to a person (core/handover.py) --------------------------------------------------

    @cached_property
    def handovers(self) -> Handovers:
        return Handovers(self.helpline)

    def _ask_for_person(self, turn: Turn) -> None:
        asked = self.handovers.request(turn.resident_id, turn.sender.chat_id, turn.lang)
        turn.state["draft"] = {}
        turn.go(Step.HANDOVER)
        end = [[turn.button(T("btn_handover_end"), "handover:end")]]
        if asked.already_open:
            return turn.send(T("handover_prompt"), buttons=end)
        if asked.on_duty:
            return turn.send(T("handover_on_duty"), buttons=end)
        turn.send(T("handover_closed", opens=asked.opens_at), buttons=end)

    async def _on_handover(self, turn: Turn, inp: Input) -> None:
        handover = self.handovers.open_for(turn.sender.chat_id)
        if handover is None:                         # an operator ended it: carry on as usual
            turn.go(Step.IDLE)
            return await self._on_idle(turn, inp)
        if handover.status == "awaiting_place":      # an operator turned it into a report: where is it?
            turn.state["draft"] = self.handovers.take_for_report(handover)
            turn.go(Step.PLACE)
            return await self._on_place(turn, inp)
        if inp.kind is Kind.PHOTO and inp.photo:
            return self.handovers.relay(handover, inp.text, photo=inp.photo.file_id)
        if inp.kind is Kind.LOCATION and inp.lat is not None:
            return self.handovers.relay(handover, inp.place_name or "", lat=inp.lat, lon=inp.lon)
        if inp.kind is Kind.TEXT and inp.text.strip():
            return self.handovers.relay(handover, inp.text.strip())
        self._prompt(turn)

    async def _press_handover(self, turn: Turn, _value: str) -> None:
        self._leave_person(turn)

    def _leave_person(self, turn: Turn) -> None:
        if handover := self.handovers.open_for(turn.sender.chat_id):
            self.handovers.leave(handover)
        turn.go(Step.IDLE)
        turn.send(T("handover_left"))
        self._menu(turn)

    # --- prompts ----------------------------------------------------------------------------------

    def _menu(self, turn: Turn) -> None:
        turn.send(T("menu"), buttons=[[turn.button(T("btn_report"), "menu:report")],
                                      [turn.button(T("btn_my_tickets"), "menu:mine"),
                                       turn.button(T("btn_help"), "menu:help")],
                                      [turn.button(T("btn_info"), "menu:info"),
                                       turn.button(T("btn_language"), "menu:language")],
                                      [Button(T("btn_person"), "g:person")]])

    def _info_menu(self, turn: Turn) -> None:
        """Municipal information with buttons alone: the topics the profile's knowledge base answers."""
        now = self.helpline.clock.now()
        topics = [t for intent, t in INTENT_TOPICS.items()
                  if answer(self.profile.knowledge, intent, self.profile.calendar, now) is not None]
        if not topics:
            return self._offer_person(turn)
        buttons = [Button(T(f"btn_topic_{t}"), f"g:info:{t}") for t in topics]
        turn.send(T("info_pick"), buttons=[buttons[i:i + 2] for i in range(0, len(buttons), 2)])

    def _info(self, turn: Turn, topic: str) -> None:
        intent = f"ask_{topic}"
        if intent not in INTENT_TOPICS:
            turn.send(T("stale_button"))
            return self._prompt(turn)
        self._answer_question(turn, intent)
        if turn.step is not Step.IDLE:
            self._prompt(turn)                      # a question mid-report: the report goes on where it was

    def _help(self, turn: Turn) -> None:
        turn.send(T("help", example=self._example_ref()))
        self._menu(turn)

    def _prompt(self, turn: Turn) -> None:
        """Ask again for what the current step is waiting for."""
        step = turn.step
        if step is Step.DESCRIBE:
            buttons = [turn.button(T(f"category_{c}"), f"cat:{c}") for c in CATEGORIES]
            return turn.send(T("ask_description"), buttons=[buttons[i:i + 2] for i in range(0, len(buttons), 2)])
        if step is Step.CATEGORY:
            return self._ask_category(turn, ())
        if step is Step.DETAILS:
            return turn.send(T("ask_details", category=T(f"category_{turn.draft.get('category', 'other')}")),
                             buttons=[[turn.button(T("btn_skip"), "details:skip")]])
        if step is Step.PLACE:
            return turn.send(T("ask_location"), ask_location=True)
        if step is Step.DUPLICATES:
            return self._show_duplicates(turn)
        if step is Step.PHOTO:
            return turn.send(T("ask_photo"), buttons=[[turn.button(T("btn_skip"), "photo:skip")]])
        if step is Step.SUMMARY:
            return self._summary(turn)
        if step is Step.EDIT_DESCRIPTION:
            return turn.send(T("ask_new_description"))
        if step is Step.LANGUAGE:
            return self._ask_language(turn)
        if step is Step.FORGET:
            return turn.send(T("forget_confirm"), buttons=[[turn.button(T("btn_forget_yes"), "forget:yes"),
                                                            turn.button(T("btn_no"), "forget:no")]])
        if step is Step.INFO:
            return turn.send(T("ask_info_answer", ref=turn.state.get("info_ref", "")))
        if step is Step.COMPLAINT:
            return self._complain(turn, turn.state.get("complaint", ""))
        if step is Step.HANDOVER:
            return turn.send(T("handover_prompt"), buttons=[[turn.button(T("btn_handover_end"), "handover:end")]])
        if step is Step.DISPUTE:
            return turn.send(T("ask_dispute_reason", ref=(turn.state.get("dispute") or {}).get("ref", "")))
        self._menu(turn)

    def _ticket_or_none(self, ref: str) -> Ticket | None:
        try:
            return self.helpline.ticket(ref)
        except NotFound:
            return None

    def _town(self, turn: Turn) -> str:
        return _pick(self.profile.names, turn.lang)

    def _example_ref(self) -> str:
        return f"{self.profile.ref_prefix}-{self.helpline.clock.now().year}-00042"


def _is_question(text: str) -> bool:
    return text.rstrip().endswith(("?", ";", "\u037e", "\u061f"))


def _days(days: tuple[int, ...]) -> Text:
    if len(days) == 1:
        return T(f"weekday_{days[0]}")
    return T("days_range", first=T(f"weekday_{days[0]}"), last=T(f"weekday_{days[-1]}"))


def _pick(names: dict[str, str], lang: str) -> str:
    return names.get(lang) or names.get("en") or next(iter(names.values()))


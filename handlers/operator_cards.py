"""What the handover notifications look like: relays and cards in the operators' group, news for the resident.

Each renderer turns one outbox row (core/handover.py writes them) into an Outgoing message. Relays carry
the handover's state as it was when written; the desk re-renders them with the state of the moment when an
operator presses a button, and edits the message in place.
"""
from __future__ import annotations

from datetime import datetime

from bot.i18n import Translator
from bot.outgoing import MAX_TEXT, Outgoing, Renderers
from core import handover as h
from core.dialogue import LANGUAGE_NAMES, T, Text
from core.ports import Notification
from core.profile import Profile

CAPTION_ROOM = 600      # a photo's caption holds the header, the resident's words and the state line


def register_handovers(renderers: Renderers, translator: Translator, profile: Profile) -> None:
    cards = OperatorCards(translator, profile)
    for kind, render in {h.REQUEST: cards.relay, h.RELAY: cards.relay, h.LEFT: cards.left,
                         h.TICKETED: cards.ticketed, h.DIGEST: cards.digest, h.CLAIMED: cards.claimed,
                         h.REPLY: cards.reply, h.ENDED: cards.ended, h.ASK_PLACE: cards.ask_place,
                         h.FILED: cards.filed}.items():
        renderers.register(kind, render)


class OperatorCards:
    def __init__(self, translator: Translator, profile: Profile) -> None:
        self.translator = translator
        self.profile = profile

    def _text(self, n: Notification, *parts: Text) -> str:
        return "\n\n".join(self.translator.text(part, n.language) for part in parts)

    # --- the operators' group ---------------------------------------------------------------------

    def relay(self, n: Notification) -> Outgoing:
        p = n.payload
        header = T("op_header", number=p["handover"], name=p.get("name") or "-",
                   language=LANGUAGE_NAMES.get(p.get("language", ""), p.get("language", "")),
                   tickets=p.get("tickets") or "-")
        parts = [header, *self._body(n)]
        if p.get("status") in ("waiting", "claimed", "awaiting_place", "ended", "ticketed"):
            parts.append(self._state(n))
        return Outgoing(self._text(n, *parts), self._buttons(n), photo=p.get("photo"))

    def _body(self, n: Notification) -> list[Text]:
        p = n.payload
        if n.kind == h.REQUEST:
            return [T("op_request" if p.get("on_duty", True) else "op_request_closed")]
        words = p.get("text") or ""
        if p.get("photo") and len(words) > CAPTION_ROOM:
            words = words[:CAPTION_ROOM] + "…"
        body = [T("op_words", text=words)] if words else []
        if p.get("lat") is not None:
            body.append(T("op_place", place=f"{p['lat']:.5f}, {p['lon']:.5f}"))
        return body

    def _state(self, n: Notification) -> Text:
        status = n.payload["status"]
        if status == "claimed":
            return T("op_state_claimed", operator=n.payload.get("operator") or T("op_someone"))
        return T(f"op_state_{status}")

    def _buttons(self, n: Notification) -> tuple:
        status, number = n.payload.get("status"), n.payload["handover"]
        label = lambda key: self.translator.label(T(key), n.language)  # noqa: E731
        end, ticket = (label("btn_op_end"), f"op:end:{number}"), (label("btn_op_ticket"), f"op:ticket:{number}")
        if status == "waiting":
            return (((label("btn_op_claim"), f"op:claim:{number}"),), (end, ticket))
        if status == "claimed":
            return ((end, ticket),)
        if status == "awaiting_place":
            return ((end,),)
        return ()

    def left(self, n: Notification) -> Outgoing:
        return Outgoing(self._text(n, T("op_left", number=n.payload["handover"])))

    def ticketed(self, n: Notification) -> Outgoing:
        return Outgoing(self._text(n, T("op_ticketed", number=n.payload["handover"], ref=n.payload["ref"])))

    def digest(self, n: Notification) -> Outgoing:
        """The waiting requests, oldest first, as many as fit one message; the rest are counted."""
        items, lang = n.payload["items"], n.language
        title = self.translator.text(T("op_digest", count=n.payload["count"]), lang)
        lines = [self.translator.text(self._digest_line(item), lang) for item in items]
        for shown in range(len(lines), -1, -1):
            rest = [self.translator.text(T("op_digest_more", waiting=len(lines) - shown), lang)] \
                if shown < len(lines) else []
            text = "\n".join([title, *lines[:shown], *rest])
            if len(text) <= MAX_TEXT:
                break
        return Outgoing(text)

    def _digest_line(self, item: dict) -> Text:
        return T("op_digest_line", number=item["handover"], name=item["name"] or "-",
                 language=LANGUAGE_NAMES.get(item["language"], item["language"]),
                 at=datetime.fromisoformat(item["requested_at"]), first=item["first"][:120] or "-")

    # --- the resident ------------------------------------------------------------------------------

    def claimed(self, n: Notification) -> Outgoing:
        name = n.payload.get("operator")
        return Outgoing(self._text(n, T("handover_claimed_named", name=name) if name else T("handover_claimed")))

    def reply(self, n: Notification) -> Outgoing:
        p = n.payload
        words = p.get("text") or ""
        if p.get("photo") and len(words) > CAPTION_ROOM:
            words = words[:CAPTION_ROOM] + "…"
        key = T("handover_reply_named", name=p["operator"], text=words) if p.get("operator") \
            else T("handover_reply", text=words)
        return Outgoing(self._text(n, key), photo=p.get("photo"))

    def ended(self, n: Notification) -> Outgoing:
        return Outgoing(self._text(n, T("handover_ended")))

    def ask_place(self, n: Notification) -> Outgoing:
        return Outgoing(self._text(n, T("handover_place")))

    def filed(self, n: Notification) -> Outgoing:
        p, lang = n.payload, n.language
        if p.get("outside_body"):
            body = self.profile.outside_bodies[p["outside_body"]]
            news = T("referred", ref=p["ref"], body=_pick(body.names, lang), referral=_pick(body.referral, lang))
        else:
            news = T("filed", ref=p["ref"], department=_pick(self.profile.departments[p["department"]].names, lang),
                     due=datetime.fromisoformat(p["due"]))
        return Outgoing(self._text(n, T("handover_filed"), news))


def _pick(names: dict[str, str], lang: str) -> str:
    return names.get(lang) or names.get("en") or next(iter(names.values()))

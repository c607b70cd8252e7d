"""What residents and the ombudsman read: status news, the questionnaire, decisions, and escalation cards.

Residents read each notice in their own language, with the municipality's note but never the name of the
staff member who acted. The ombudsman's chat gets each escalation with the ticket's whole history and a
button per decision ("o:<decision>:<escalation id>"); the card is rendered again, decision shown, after each
decision. A department's answer to a request to explain reaches the ombudsman's chat as a message of its own.
"""
from __future__ import annotations

import html
from datetime import datetime

from bot.i18n import Translator
from bot.outgoing import MAX_TEXT, Outgoing, Renderers
from core.dialogue import T, Text
from core.ports import Notification
from core.review import EXPLAIN_REQUEST, EXPLANATION_NOTICE, RESIDENT_NOTICE, Case, Review
from core.services import Helpline
from core.tickets import EventKind, Status, TicketEvent

STATUS_NOTICES = {"acknowledged", "in_progress", "needs_info", "fixed", "rejected", "closed", "reopened"}
ESCALATION_REASONS = {"overdue", "disputed", "reopened_twice", "complaint"}
AUTO_CLOSED = {"no_answer", "nobody_to_ask"}    # why the helpline closed a fixed ticket itself (core/sweeps.py)
OPEN_DECISIONS = (None, "explain")        # the ombudsman may still decide
_SPOT = "\ue000"                          # where a long text goes into its rendered frame (no HTML meaning)


class Notices:
    """Renders the notification kinds of the resident's side and the ombudsman's chat."""

    def __init__(self, translator: Translator, helpline: Helpline) -> None:
        self.tr = translator
        self.helpline = helpline
        self.profile = helpline.profile

    def register(self, renderers: Renderers) -> None:
        renderers.register("status_changed", self.status_changed)
        renderers.register("questionnaire", self.questionnaire)
        renderers.register(RESIDENT_NOTICE, self.decision)
        renderers.register("escalation_ombudsman", self.escalation)
        renderers.register(EXPLAIN_REQUEST, self.explain_requested)
        renderers.register(EXPLANATION_NOTICE, self.explanation)

    # --- residents --------------------------------------------------------------------------------------

    def status_changed(self, n: Notification) -> Outgoing:
        ref, status, lang = n.payload["ref"], n.payload.get("status", ""), n.language
        parts = [self._status_text(n.payload, lang)]
        if n.payload.get("note"):
            parts.append(T("notice_note", note=n.payload["note"]))
        buttons = {
            "needs_info": [[("btn_answer", f"g:answer:{ref}")]],
            "fixed": [[("btn_fixed_yes", f"g:fixed:{ref}:yes"), ("btn_fixed_no", f"g:fixed:{ref}:no")]],
            "rejected": [[("btn_dispute", f"g:dispute:{ref}")]],
            "closed": [[("btn_dispute", f"g:dispute:{ref}")]],
        }.get(status, [])
        return self._outgoing(parts, buttons, lang)

    def _status_text(self, payload: dict, lang: str) -> Text:
        ref, status = payload["ref"], payload.get("status", "")
        if status == "rejected":
            return T("notice_rejected", ref=ref, reason=self._reject_reason(payload, lang))
        if status == "closed" and payload.get("auto") in AUTO_CLOSED:
            return T(f"notice_closed_{payload['auto']}", ref=ref)
        if status in STATUS_NOTICES:
            return T(f"notice_{status}", ref=ref)
        return T("notice_status", ref=ref, status=T(f"status_{Status(status)}") if status in set(Status) else status)

    def _reject_reason(self, payload: dict, lang: str) -> Text:
        reason = payload.get("reason", "invalid")
        if reason == "duplicate":
            return T("reason_duplicate", original=payload.get("duplicate_of", "-"))
        if reason == "not_responsible":
            body = self.profile.outside_bodies.get(payload.get("referral", ""))
            return T("reason_not_responsible", body=_pick(body.names, lang) if body else payload.get("referral", "-"),
                     referral=_pick(body.referral, lang) if body else "")
        return T("reason_no_action" if reason == "no_action" else "reason_invalid")

    def questionnaire(self, n: Notification) -> Outgoing:
        ref = n.payload["ref"]
        return self._outgoing([T("questionnaire", ref=ref)],
                              [[("btn_fixed_yes", f"g:fixed:{ref}:yes"), ("btn_fixed_no", f"g:fixed:{ref}:no")]],
                              n.language)

    def decision(self, n: Notification) -> Outgoing:
        p = n.payload
        if p.get("decision") == "reopen":
            parts = [T("decision_reopen", ref=p["ref"], due=_when(p.get("due")) or "-")]
        else:
            parts = [T("decision_uphold", ref=p["ref"])]
        if p.get("note"):
            parts.append(T("decision_note", note=p["note"]))
        return self._outgoing(parts, [], n.language)

    # --- the ombudsman and the departments ---------------------------------------------------------------

    def escalation(self, n: Notification) -> Outgoing:
        return self.card(Review(self.helpline).case(int(n.payload["escalation"])), n.language)

    def explain_requested(self, n: Notification) -> Outgoing:
        p = n.payload
        return self._outgoing([T("explain_requested", ref=p["ref"], due=_when(p.get("due")) or "-",
                                 note=p.get("note") or "-"), T("explain_how")], [], n.language)

    def explanation(self, n: Notification) -> Outgoing:
        """The department's answer, escaped and whole when it fits; cut at a word, saying where the rest is, if not."""
        p, lang = n.payload, n.language
        dept = self.profile.departments.get(p.get("department") or "")
        frame = self.tr.text(T("explanation_given", id=p.get("escalation", "-"), ref=p.get("ref", "-"),
                               department=_pick(dept.names, lang) if dept else (p.get("department") or "-"),
                               explanation=_SPOT), lang)
        before, _, after = frame.partition(_SPOT)
        room = MAX_TEXT - _size(before) - _size(after)
        text = (p.get("text") or "").strip() or "-"
        if _size(html.escape(text, quote=False)) > room:
            tail = " " + self.tr.text(T("explanation_cut", id=p.get("escalation", "-")), lang)
            return Outgoing(before + _cut(text, room - _size(tail)) + tail + after)
        return Outgoing(before + html.escape(text, quote=False) + after)

    def card(self, case: Case, lang: str) -> Outgoing:
        """The escalation with the ticket's whole history; the oldest entries give way if it is too long."""
        e, t = case.escalation, case.ticket
        head = [self._card_header(case, lang)]
        if e.note:
            head.append(T("decision_note", note=e.note) if e.decision else T("notice_note", note=e.note))
        lines = [self._history_line(event, lang) for event in t.events]
        tail = [T("esc_decided", decision=T(f"decision_name_{e.decision}"), at=e.decided_at)] if e.decision else []
        buttons = []
        if e.decision in OPEN_DECISIONS:
            buttons = [[("btn_o_explain", f"o:explain:{e.id}"), ("btn_o_uphold", f"o:uphold:{e.id}")],
                       [("btn_o_reopen", f"o:reopen:{e.id}"), ("btn_o_reassign", f"o:reassign:{e.id}")]]
        dropped = 0
        while True:
            shown = lines[dropped:]
            cut = [T("esc_history_cut", entries=dropped, id=e.id)] if dropped else []
            text = self.join([*head, T("esc_history"), *cut, *shown, *tail], lang)
            if len(text) <= MAX_TEXT or not shown:
                return Outgoing(text[:MAX_TEXT], self._buttons(buttons, lang))
            dropped += 1

    def _card_header(self, case: Case, lang: str) -> Text:
        e, t = case.escalation, case.ticket
        reason = T(f"esc_reason_{e.reason}") if e.reason in ESCALATION_REASONS else e.reason
        dept = self.profile.departments.get(t.department or "")
        return T("esc_card", id=e.id, ref=t.ref, reason=reason, opened=e.opened_at,
                 department=_pick(dept.names, lang) if dept else (t.department or "-"),
                 status=T(f"status_{t.status}"), due=t.resolve_due or "-"), \
            T("esc_report", category=T(f"category_{t.category}"),
              address=(t.location.address if t.location else None) or "-", reporter=case.reporter or "-",
              supporters=len(t.supporters), description=t.description or "-")

    def _history_line(self, event: TicketEvent, lang: str) -> Text:
        who = T(f"esc_who_{event.actor_role}")
        what = self._what(event, lang)
        if event.note:
            return T("esc_line_note", at=event.at, who=who, what=what, note=event.note)
        return T("esc_line", at=event.at, who=who, what=what)

    def _what(self, event: TicketEvent, lang: str) -> Text:
        data, kind = event.data, event.kind
        if kind is EventKind.STATUS:
            return T("esc_what_status", before=T(f"status_{event.from_status}"), after=T(f"status_{event.to_status}"))
        if kind is EventKind.ASSIGNED:
            dept = self.profile.departments.get(data.get("to", ""))
            return T("esc_what_assigned", department=_pick(dept.names, lang) if dept else data.get("to", "-"))
        if kind is EventKind.ESCALATED:
            reason = data.get("reason", "")
            return T("esc_what_escalated",
                     reason=T(f"esc_reason_{reason}") if reason in ESCALATION_REASONS else reason)
        if kind is EventKind.REVIEWED:
            return T("esc_what_reviewed", decision=T(f"decision_name_{data.get('decision')}"))
        if kind is EventKind.NOTE and data.get("explanation"):
            dept = self.profile.departments.get(data.get("department", ""))
            return T("esc_what_explained", department=_pick(dept.names, lang) if dept else data.get("department", "-"))
        return T(f"esc_what_{kind}")

    # --- helpers ----------------------------------------------------------------------------------------

    def join(self, parts, lang: str) -> str:
        """Parts that are header pairs (tuples) or single texts, one per line; a blank line after the header."""
        flat: list[str] = []
        for part in parts:
            if isinstance(part, tuple):
                flat.append("\n\n".join(self.tr.text(p, lang) for p in part) + "\n")
            else:
                flat.append(self.tr.text(part, lang))
        return "\n".join(flat)

    def _outgoing(self, parts: list[Text], buttons, lang: str) -> Outgoing:
        return Outgoing("\n\n".join(self.tr.text(p, lang) for p in parts), self._buttons(buttons, lang))

    def _buttons(self, rows, lang: str):
        return tuple(tuple((self.tr.label(T(key), lang), data) for key, data in row) for row in rows)


def register_notices(renderers: Renderers, translator: Translator, helpline: Helpline) -> Notices:
    notices = Notices(translator, helpline)
    notices.register(renderers)
    return notices


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _size(text: str) -> int:
    """At least Telegram's count (UTF-16 units of what is shown) and the length of the HTML sent."""
    return len(text) + sum(ord(ch) > 0xFFFF for ch in text)


def _cut(text: str, room: int) -> str:
    """The start of `text`, HTML-escaped, within `room` (see _size), ending at a space when one is near, with "…"."""
    room -= 1
    used, end = 0, 0
    for end, ch in enumerate(text):
        used += _size(html.escape(ch, quote=False))
        if used > room:
            break
    else:
        end = len(text)
    kept = text[:end]
    space = max(kept.rfind(" "), kept.rfind("\n"))
    if 0 < space and space > len(kept) - 200:
        kept = kept[:space]
    return html.escape(kept.rstrip(), quote=False) + "…"


def _pick(names: dict[str, str], lang: str) -> str:
    return names.get(lang) or names.get("en") or next(iter(names.values()))

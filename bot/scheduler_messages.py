"""How the scheduler's notifications read: reminders and escalations to a department's group, the morning digest.
Texts live in data/locales/<lang>/LC_MESSAGES/scheduler.po; a department's group reads the profile's language,
which the notification carries."""
from __future__ import annotations

from datetime import datetime

from bot.i18n import Translator
from bot.outgoing import Outgoing, Renderers
from core.dialogue import T
from core.ports import Notification


def register_scheduler_renderers(renderers: Renderers, translator: Translator) -> None:
    def reminder(n: Notification) -> Outgoing:
        key = "reminder_ack" if n.payload.get("deadline") == "ack" else "reminder_resolve"
        return Outgoing(translator.text(T(key, ref=n.payload["ref"], due=datetime.fromisoformat(n.payload["due"])),
                                        n.language))

    def escalation_head(n: Notification) -> Outgoing:
        key = "escalation_head_overdue" if n.payload.get("reason") == "overdue" else "escalation_head"
        return Outgoing(translator.text(T(key, ref=n.payload["ref"]), n.language))

    def digest(n: Notification) -> Outgoing:
        p = n.payload
        parts = [translator.text(T("digest", open=p["open"], due_today=p["due_today"], overdue=p["overdue"]),
                                 n.language)]
        if p.get("urgent"):
            parts.append(translator.text(T("digest_urgent", refs=", ".join(p["urgent"])), n.language))
        return Outgoing("\n\n".join(parts))

    renderers.register("reminder", reminder)
    renderers.register("escalation_head", escalation_head)
    renderers.register("digest", digest)

"""Talking to a person: a resident's request waits in a queue until an operator of the citizen's line claims it.

Everything either side writes is stored first and relayed through the outbox, so nothing is lost while a chat
is unreachable. The bot delivers relays at once; the rows carry a short `not_before`, after which the
scheduler's deliverer retries whatever the bot could not send. Operators reply in their group by replying to
a relayed message; the group message is mapped back to its handover through the outbox row that sent it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from core.ports import Handover, HandoverMessage, Notification, UnitOfWork
from core.routing import inside_boundary
from core.services import OPERATORS_CHAT, Filed, Helpline, Report
from core.sla import WorkingCalendar
from core.tickets import DomainError, Location, NotAllowed, Photo

REQUEST, RELAY, REPLY = "handover_request", "handover_relay", "handover_reply"      # card, resident -> group, back
CLAIMED, ENDED, LEFT = "handover_claimed", "handover_ended", "handover_left"
ASK_PLACE, FILED, TICKETED = "handover_place", "handover_filed", "handover_ticketed"
DIGEST = "operators_digest"
OPERATOR_ROLES = ("operator", "admin")
RELAY_GRACE = timedelta(minutes=1)      # the scheduler leaves a relay to the bot this long
CHUNK = 700                             # longer texts are relayed in several messages, none of them cut
MAX_ATTEMPTS = 5


class HandoverClosed(DomainError):
    pass


class ClaimedByOther(DomainError):
    def __init__(self, name: str | None) -> None:
        super().__init__(f"already claimed by {name or 'another operator'}")
        self.name = name


@dataclass(frozen=True)
class Request:
    """What a resident's request for a person came to: the handover, and whether someone is on duty now."""
    handover: Handover
    on_duty: bool
    opens_at: datetime | None           # when closed: the next time the line opens (UTC)
    already_open: bool = False


class Handovers:
    """The use cases of the citizen's line's operators."""

    def __init__(self, helpline: Helpline) -> None:
        self.helpline = helpline
        self.profile = helpline.profile
        self.clock = helpline.clock
        hours = self.profile.operators
        self.calendar = WorkingCalendar(replace(
            self.profile.calendar, work_week=hours.work_week or self.profile.calendar.work_week,
            opens=hours.opens or self.profile.calendar.opens, closes=hours.closes or self.profile.calendar.closes))

    # --- the resident's side ----------------------------------------------------------------------

    def request(self, resident_id: int, chat_id: int, language: str) -> Request:
        """Queue a request for a person (or find the one already open) and show it to the operators."""
        now = self.clock.now()
        on_duty = self.calendar.is_open(now)
        opens_at = None if on_duty else self.calendar.next_opening(now)
        with self.helpline.uow() as uow:
            if existing := uow.handovers.open_for_chat(chat_id):
                return Request(existing, on_duty, opens_at, already_open=True)
            handover = Handover(resident_id, chat_id, language, now)
            uow.handovers.add(handover)
            self._to_operators(uow, handover, REQUEST, on_duty=on_duty)
            uow.commit()
        return Request(handover, on_duty, opens_at)

    def open_for(self, chat_id: int) -> Handover | None:
        with self.helpline.uow() as uow:
            return uow.handovers.open_for_chat(chat_id)

    def relay(self, handover: Handover, text: str = "", photo: str | None = None, lat: float | None = None,
              lon: float | None = None) -> None:
        """Store what the resident wrote and queue it for the operators' group."""
        with self.helpline.uow() as uow:
            uow.handovers.add_message(HandoverMessage(handover.id, "resident", self.clock.now(), text, photo,
                                                      lat, lon))
            for i, part in enumerate(_chunks(text)):
                first = i == 0
                self._to_operators(uow, handover, RELAY, text=part, photo=photo if first else None,
                                   lat=lat if first else None, lon=lon if first else None)
            uow.commit()

    def leave(self, handover: Handover) -> None:
        """The resident ends the conversation."""
        with self.helpline.uow() as uow:
            self._close(uow, handover, "ended", "resident")
            self._to_operators(uow, handover, LEFT)
            uow.commit()

    def take_for_report(self, handover: Handover) -> dict:
        """The operator asked for a ticket and the resident now gives the place: the report's draft so far."""
        with self.helpline.uow() as uow:
            messages = uow.handovers.messages(handover.id)
            self._close(uow, handover, "ticketed", "operator")
            uow.commit()
        return {"category": "other", "description": _description(messages), "photo_step_done": True,
                "photos": [m.photo for m in messages if m.sender == "resident" and m.photo],
                "handover": handover.id}

    def record_filed(self, uow: UnitOfWork, handover_id: int, ref: str) -> None:
        """The report the operator asked for is being filed (in `uow`, the filing's own transaction): keep its
        reference on the handover and tell the operators."""
        handover = uow.handovers.get(handover_id)
        if handover is None:
            return
        handover.ticket_ref = ref
        uow.handovers.save(handover)
        self._to_operators(uow, handover, TICKETED, ref=ref)

    # --- the operators' side ----------------------------------------------------------------------

    def operator(self, telegram_id: int) -> str:
        """The role a Telegram user works the line with, from the staff list; NotAllowed for anyone else."""
        with self.helpline.uow() as uow:
            roles = {m.role for m in uow.staff.roles_of(telegram_id)}
        for role in OPERATOR_ROLES:
            if role in roles:
                return role
        raise NotAllowed(f"{telegram_id} is not an operator of the citizen's line")

    def operators_chat(self, uow: UnitOfWork | None = None) -> int | None:
        """The operators' group: bound with the CLI (key "operators"), else the profile's."""
        return self.helpline.chat_of(OPERATORS_CHAT, uow) or self.profile.operators.chat_id

    def relay_at(self, chat_id: int, message_id: int) -> tuple[Notification, Handover] | None:
        """The relay (or request card) a group message is, and its handover as it stands now."""
        with self.helpline.uow() as uow:
            relay = uow.outbox.sent_as(chat_id, message_id, (REQUEST, RELAY))
            handover_id = relay.payload.get("handover") if relay else None
            handover = uow.handovers.get(int(handover_id)) if handover_id is not None else None
        return (relay, handover) if handover else None

    def claim(self, handover_id: int, operator_id: int, name: str | None) -> Handover:
        self.operator(operator_id)
        with self.helpline.uow() as uow:
            handover = self._open(uow, handover_id)
            if handover.status == "claimed" and handover.operator_id != operator_id:
                raise ClaimedByOther(handover.operator_name)
            if handover.operator_id != operator_id:
                self._claim(handover, operator_id, name)
                uow.handovers.save(handover)
                self._to_resident(uow, handover, CLAIMED, operator=self._shown_name(handover))
                uow.commit()
            return handover

    def reply(self, handover_id: int, operator_id: int, name: str | None, text: str = "",
              photo: str | None = None) -> Handover:
        """An operator's answer, relayed to the resident; answering a waiting request claims it."""
        self.operator(operator_id)
        with self.helpline.uow() as uow:
            handover = self._open(uow, handover_id)
            if handover.status == "waiting":
                self._claim(handover, operator_id, name)
                uow.handovers.save(handover)
            uow.handovers.add_message(HandoverMessage(handover.id, "operator", self.clock.now(), text, photo,
                                                      operator_id=operator_id))
            shown = name if self.profile.operators.show_first_names else None
            for i, part in enumerate(_chunks(text)):
                self._to_resident(uow, handover, REPLY, text=part, photo=None if i else photo, operator=shown)
            uow.commit()
            return handover

    def end(self, handover_id: int, operator_id: int) -> Handover:
        self.operator(operator_id)
        with self.helpline.uow() as uow:
            handover = self._open(uow, handover_id)
            self._close(uow, handover, "ended", "operator")
            self._to_resident(uow, handover, ENDED)
            uow.commit()
            return handover

    def to_ticket(self, handover_id: int, operator_id: int, name: str | None, category: str = "other") -> Handover:
        """File the conversation so far as a report; without a usable place, ask the resident for it first."""
        self.operator(operator_id)
        with self.helpline.uow() as uow:
            handover = self._open(uow, handover_id)
            messages = uow.handovers.messages(handover.id)
        if handover.status == "awaiting_place":
            return handover
        place = next(((m.lat, m.lon) for m in reversed(messages) if m.sender == "resident" and m.lat is not None
                      and inside_boundary(self.profile, m.lat, m.lon)), None)
        if place is None:
            return self._ask_place(handover_id, operator_id, name)
        photos = tuple(Photo(m.photo) for m in messages if m.sender == "resident" and m.photo)
        report = Report(category, _description(messages), Location(*place, f"{place[0]:.5f}, {place[1]:.5f}"),
                        handover.resident_id, handover.language, photos)
        done: list[Handover] = []

        def mark(uow: UnitOfWork, filed: Filed) -> None:     # in the filing's transaction: one ticket, ever
            handover = self._open(uow, handover_id)          # made a ticket already: HandoverClosed, nothing filed
            if handover.operator_id is None:
                self._claim(handover, operator_id, name)
            handover.ticket_ref = filed.ticket.ref
            self._close(uow, handover, "ticketed", "operator")
            t = filed.ticket
            self._to_resident(uow, handover, FILED, ref=t.ref, department=t.department,
                              outside_body=filed.route.outside_body, due=t.resolve_due.isoformat())
            done.append(handover)

        self.helpline.file_report(report, also=mark)
        return done[0]

    def _ask_place(self, handover_id: int, operator_id: int, name: str | None) -> Handover:
        with self.helpline.uow() as uow:
            handover = self._open(uow, handover_id)
            if handover.operator_id is None:
                self._claim(handover, operator_id, name)
            handover.status = "awaiting_place"
            uow.handovers.save(handover)
            self._to_resident(uow, handover, ASK_PLACE)
            uow.commit()
            return handover

    # --- the queue and the morning digest ----------------------------------------------------------

    def waiting(self) -> list[Handover]:
        """Requests no operator has claimed yet, oldest first."""
        with self.helpline.uow() as uow:
            return uow.handovers.waiting()

    def write_digest(self) -> Notification | None:
        """Queue the list of waiting requests for the operators' group (the scheduler calls this each
        morning); once a working day; None when nobody waits, there is no operators' group, or it was sent today."""
        now = self.clock.now()
        today = now.astimezone(self.calendar.zone).date()
        if not self.calendar.is_working_day(today):
            return None
        with self.helpline.uow() as uow:
            chat, waiting = self.operators_chat(uow), uow.handovers.waiting()
            start_of_day = datetime.combine(today, time(0), self.calendar.zone)
            if not chat or not waiting or uow.outbox.already(chat, DIGEST, start_of_day):
                return None
            items = [self._digest_item(uow, h) for h in waiting]
            digest = Notification(chat_id=chat, kind=DIGEST, payload={"count": len(items), "items": items},
                                  language=self.profile.default_language, created_at=self.clock.now())
            uow.outbox.add(digest)
            uow.commit()
            return digest

    def _digest_item(self, uow: UnitOfWork, h: Handover) -> dict:
        first = next((m.text for m in uow.handovers.messages(h.id) if m.sender == "resident" and m.text), "")
        resident = uow.residents.get(h.resident_id)
        return {"handover": h.id, "name": (resident.name if resident else None) or "", "language": h.language,
                "requested_at": h.requested_at.isoformat(), "first": first[:200]}

    # --- delivery bookkeeping for the bot's immediate relays --------------------------------------

    def undelivered(self) -> list[Notification]:
        with self.helpline.uow() as uow:
            return uow.handovers.undelivered(self.clock.now())

    def delivered(self, notification: Notification, message_id: int) -> None:
        notification.status, notification.sent_message_id = "sent", message_id
        notification.attempts += 1
        self._save(notification)

    def not_delivered(self, notification: Notification, error: str) -> None:
        notification.attempts += 1
        notification.last_error = error
        if notification.attempts >= MAX_ATTEMPTS:
            notification.status = "failed"
        self._save(notification)

    def _save(self, notification: Notification) -> None:
        with self.helpline.uow() as uow:
            uow.outbox.save(notification)
            uow.commit()

    # --- helpers ----------------------------------------------------------------------------------

    def _open(self, uow: UnitOfWork, handover_id: int) -> Handover:
        handover = uow.handovers.get(handover_id)
        if handover is None or not handover.is_open:
            raise HandoverClosed(f"handover {handover_id} is not open")
        return handover

    def _claim(self, handover: Handover, operator_id: int, name: str | None) -> None:
        handover.status, handover.operator_id, handover.operator_name = "claimed", operator_id, name
        handover.claimed_at = self.clock.now()

    def _close(self, uow: UnitOfWork, handover: Handover, status: str, by: str) -> None:
        handover.status, handover.ended_by, handover.ended_at = status, by, self.clock.now()
        uow.handovers.save(handover)

    def _shown_name(self, handover: Handover) -> str | None:
        return handover.operator_name if self.profile.operators.show_first_names else None

    def _to_operators(self, uow: UnitOfWork, handover: Handover, kind: str, **payload) -> None:
        chat = self.operators_chat(uow)
        if not chat:
            return
        resident = uow.residents.get(handover.resident_id)
        tickets = [t.ref for t in uow.tickets.of_resident(handover.resident_id) if t.is_open]
        header = {"handover": handover.id, "name": (resident.name if resident else None) or "",
                  "language": handover.language, "tickets": ", ".join(sorted(tickets)), "status": handover.status,
                  "operator": handover.operator_name}
        self._queue(uow, chat, kind, self.profile.default_language, {**header, **payload})

    def _to_resident(self, uow: UnitOfWork, handover: Handover, kind: str, **payload) -> None:
        self._queue(uow, handover.chat_id, kind, handover.language, {"handover": handover.id, **payload})

    def _queue(self, uow: UnitOfWork, chat_id: int, kind: str, language: str, payload: dict) -> None:
        now = self.clock.now()
        uow.outbox.add(Notification(chat_id=chat_id, kind=kind, payload=payload, language=language, created_at=now,
                                    not_before=now + RELAY_GRACE))


def _description(messages: list[HandoverMessage]) -> str:
    return "\n".join(m.text for m in messages if m.sender == "resident" and m.text.strip())


def _chunks(text: str) -> list[str]:
    return [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]

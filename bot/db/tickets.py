"""Tickets with their photos, supporters and append-only audit trail."""
from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from geopy.distance import distance
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from core.ports import NearbyReport
from core.tickets import EventKind, Location, Photo, RejectReason, Role, Status, Ticket, TicketEvent
from bot.db.models import ResidentRow, TicketCounterRow, TicketEventRow, TicketPhotoRow, TicketRow, TicketSupporterRow
from bot.db.upsert import insert_for

METRES_PER_DEGREE_LAT = 110_574.0      # the shortest degree of latitude (at the equator), so boxes err wide
METRES_PER_DEGREE_LON_EQUATOR = 111_320.0
_DETAILS = (selectinload(TicketRow.photos), selectinload(TicketRow.supporters), selectinload(TicketRow.events))
_SUPPORTERS = (select(func.count()).where(TicketSupporterRow.ticket_id == TicketRow.id).correlate(TicketRow)
               .scalar_subquery().label("supporters"))
_NEARBY = select(TicketRow.ref, TicketRow.category, TicketRow.status, TicketRow.address, TicketRow.reporter_id,
                 TicketRow.lat, TicketRow.lon, _SUPPORTERS)


class SqlTicketRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._seen: dict[int, TicketRow] = {}   # rows read in this unit of work, kept for their version

    def add(self, ticket: Ticket) -> None:
        row = TicketRow(ref=ticket.ref)
        _write(row, ticket)
        self.session.add(row)
        new_events = _append_events(row, ticket)
        self.session.flush()
        ticket.id = row.id
        _set_event_ids(new_events)
        self._seen[row.id] = row

    def get(self, ref: str) -> Ticket | None:
        row = self.session.scalars(select(TicketRow).where(TicketRow.ref == ref).options(*_DETAILS)).one_or_none()
        return self._ticket(row) if row else None

    def save(self, ticket: Ticket) -> None:
        """Write the ticket's changes; new events are appended, recorded ones are never rewritten.

        A ticket changed by someone else since it was read in this unit of work raises StaleDataError."""
        row = self._row(ticket)
        _write(row, ticket)
        new_events = _append_events(row, ticket)
        self.session.flush()
        _set_event_ids(new_events)

    def next_number(self, prefix: str, year: int) -> int:
        """The next reference number for prefix/year: one atomic upsert, safe under concurrent reports."""
        table = TicketCounterRow.__table__
        statement = insert_for(self.session, table).values(prefix=prefix, year=year, value=1)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.prefix, table.c.year], set_={"value": table.c.value + 1},
        ).returning(table.c.value)
        return int(self.session.execute(statement).scalar_one())

    def list(self, *, status: Iterable[Status] | None = None, department: str | None = None,
             reporter_id: int | None = None, limit: int = 100) -> list[Ticket]:
        """Tickets matching every filter given, the most urgent (earliest resolve_due) first."""
        query = select(TicketRow).options(*_DETAILS)
        if status is not None:
            query = query.where(TicketRow.status.in_([str(s) for s in status]))
        if department is not None:
            query = query.where(TicketRow.department == department)
        if reporter_id is not None:
            query = query.where(TicketRow.reporter_id == reporter_id)
        query = query.order_by(TicketRow.resolve_due.asc().nulls_last(), TicketRow.created_at, TicketRow.id)
        return [self._ticket(row) for row in self.session.scalars(query.limit(limit))]

    def of_resident(self, resident_id: int) -> list[Ticket]:
        """Tickets the resident reported or follows, newest first."""
        follows = select(TicketSupporterRow.ticket_id).where(TicketSupporterRow.resident_id == resident_id)
        query = (select(TicketRow).options(*_DETAILS)
                 .where(or_(TicketRow.reporter_id == resident_id, TicketRow.id.in_(follows)))
                 .order_by(TicketRow.created_at.desc(), TicketRow.id.desc()))
        return [self._ticket(row) for row in self.session.scalars(query)]

    def nearby(self, category: str, lat: float, lon: float, radius_m: float,
               statuses: Iterable[Status] | None = None) -> list[tuple[NearbyReport, float]]:
        """Reports of `category` within `radius_m` metres (geodesic) of lat/lon, nearest first: one query, of the
        columns the duplicate check shows (a whole Ticket with its photos and history took four).

        `statuses` None means any status; pass core.tickets.OPEN_STATUSES for a duplicate check."""
        query = _within_box(_NEARBY, lat, lon, radius_m).where(TicketRow.category == category)
        if statuses is not None:
            query = query.where(TicketRow.status.in_([str(s) for s in statuses]))
        found = [(row, distance((lat, lon), (row.lat, row.lon)).meters) for row in self.session.execute(query)]
        return sorted(((NearbyReport(row.ref, row.category, Status(row.status), row.address, row.reporter_id,
                                     row.supporters), metres) for row, metres in found if metres <= radius_m),
                      key=lambda pair: pair[1])

    def filed_by(self, telegram_id: int, since: datetime) -> list[datetime]:
        query = (select(TicketRow.created_at).join(ResidentRow, TicketRow.reporter_id == ResidentRow.id)
                 .where(ResidentRow.telegram_id == telegram_id, TicketRow.created_at >= since))
        return list(self.session.scalars(query))

    def _ticket(self, row: TicketRow) -> Ticket:
        self._seen[row.id] = row
        return _to_ticket(row)

    def _row(self, ticket: Ticket) -> TicketRow:
        row = self._seen.get(ticket.id) if ticket.id is not None else None
        row = row or self.session.scalars(select(TicketRow).where(TicketRow.ref == ticket.ref)).one_or_none()
        if row is None:
            raise LookupError(f"no ticket {ticket.ref} to save; add it first")
        return row


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float | None, float | None]:
    """(south, north, west, east) degrees around a circle; west/east None when the box spans all longitudes."""
    dlat = radius_m / METRES_PER_DEGREE_LAT
    south, north = max(lat - dlat, -90.0), min(lat + dlat, 90.0)
    widest = math.cos(math.radians(max(abs(south), abs(north))))
    if widest < 1e-9:
        return south, north, None, None
    dlon = radius_m / (METRES_PER_DEGREE_LON_EQUATOR * widest) * 1.01
    west, east = lon - dlon, lon + dlon
    if west < -180.0 or east > 180.0:
        return south, north, None, None
    return south, north, west, east


def _within_box(query: Select, lat: float, lon: float, radius_m: float) -> Select:
    south, north, west, east = bounding_box(lat, lon, radius_m)
    query = query.where(TicketRow.lat.between(south, north))
    if west is None:
        return query.where(TicketRow.lon.is_not(None))
    return query.where(TicketRow.lon.between(west, east))


def _write(row: TicketRow, ticket: Ticket) -> None:
    location = ticket.location
    row.municipality, row.category, row.description = ticket.municipality, ticket.category, ticket.description
    row.lat, row.lon = (location.lat, location.lon) if location else (None, None)
    row.address = location.address if location else None
    row.status, row.priority = str(ticket.status), ticket.priority
    row.reporter_id, row.department, row.outside_body = ticket.reporter_id, ticket.department, ticket.outside_body
    row.language, row.created_at, row.updated_at = ticket.language, ticket.created_at, ticket.updated_at
    row.ack_due, row.resolve_due = ticket.ack_due, ticket.resolve_due
    row.reject_reason = str(ticket.reject_reason) if ticket.reject_reason else None
    row.duplicate_of, row.reopen_count = ticket.duplicate_of, ticket.reopen_count
    row.fixed_at, row.asked_at, row.scheduled_for = ticket.fixed_at, ticket.asked_at, ticket.scheduled_for
    row.ack_reminded_at, row.resolve_reminded_at = ticket.ack_reminded_at, ticket.resolve_reminded_at
    row.breach_level = ticket.breach_level
    _write_photos(row, ticket.photos)
    _write_supporters(row, ticket.supporters)


def _write_photos(row: TicketRow, photos: list[Photo]) -> None:
    wanted = [(photo.file_id, photo.file_unique_id) for photo in photos]
    if [(p.file_id, p.file_unique_id) for p in row.photos] != wanted:
        row.photos = [TicketPhotoRow(position=i, file_id=f, file_unique_id=u) for i, (f, u) in enumerate(wanted)]


def _write_supporters(row: TicketRow, supporters: set[int]) -> None:
    for supporter in [s for s in row.supporters if s.resident_id not in supporters]:
        row.supporters.remove(supporter)
    present = {s.resident_id for s in row.supporters}
    row.supporters.extend(TicketSupporterRow(resident_id=r) for r in sorted(supporters - present))


def _append_events(row: TicketRow, ticket: Ticket) -> list[tuple[TicketEvent, TicketEventRow]]:
    pairs = [(event, _event_row(event)) for event in ticket.events if event.id is None]
    row.events.extend(event_row for _, event_row in pairs)
    return pairs


def _set_event_ids(pairs: list[tuple[TicketEvent, TicketEventRow]]) -> None:
    for event, event_row in pairs:
        event.id = event_row.id


def _event_row(event: TicketEvent) -> TicketEventRow:
    return TicketEventRow(
        kind=str(event.kind), at=event.at, actor_role=str(event.actor_role), actor_id=event.actor_id,
        from_status=_str_or_none(event.from_status), to_status=_str_or_none(event.to_status),
        note=event.note, public=event.public, data=dict(event.data))


def _to_event(row: TicketEventRow) -> TicketEvent:
    return TicketEvent(
        kind=EventKind(row.kind), at=row.at, actor_role=Role(row.actor_role), actor_id=row.actor_id,
        from_status=Status(row.from_status) if row.from_status else None,
        to_status=Status(row.to_status) if row.to_status else None,
        note=row.note, public=row.public, data=dict(row.data or {}), id=row.id)


def _to_ticket(row: TicketRow) -> Ticket:
    location = Location(row.lat, row.lon, row.address) if row.lat is not None and row.lon is not None else None
    return Ticket(
        ref=row.ref, municipality=row.municipality, category=row.category, description=row.description,
        location=location, created_at=row.created_at, reporter_id=row.reporter_id, department=row.department,
        outside_body=row.outside_body, status=Status(row.status), priority=row.priority,
        photos=[Photo(p.file_id, p.file_unique_id) for p in row.photos],
        supporters={s.resident_id for s in row.supporters}, language=row.language, ack_due=row.ack_due,
        resolve_due=row.resolve_due, updated_at=row.updated_at,
        reject_reason=RejectReason(row.reject_reason) if row.reject_reason else None,
        duplicate_of=row.duplicate_of, reopen_count=row.reopen_count,
        fixed_at=row.fixed_at, asked_at=row.asked_at, scheduled_for=row.scheduled_for,
        ack_reminded_at=row.ack_reminded_at, resolve_reminded_at=row.resolve_reminded_at,
        breach_level=row.breach_level or 0,
        events=[_to_event(e) for e in row.events], id=row.id)


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)

"""The duplicate check: open reports of the same problem near a place, nearest first."""
import pytest
from geopy.distance import distance

from bot.db.tickets import bounding_box
from core.tickets import OPEN_STATUSES, Status
from tests.support.db import a_ticket

HERE = (40.3007, 21.7887)   # Kozani, central square


def _at(metres: float, bearing: float) -> dict:
    point = distance(meters=metres).destination(HERE, bearing)
    return {"lat": point.latitude, "lon": point.longitude}


def _file(uow_factory, tickets):
    with uow_factory() as uow:
        for ticket in tickets:
            uow.tickets.add(ticket)
        uow.commit()


def test_finds_reports_within_the_radius_nearest_first(uow_factory):
    places = {"00001": (40, 0), "00002": (20, 270), "00003": (55, 180), "00004": (49, 90), "00005": (51, 225)}
    _file(uow_factory, [a_ticket(f"KOZ-2026-{n}", **_at(*place)) for n, place in places.items()])
    with uow_factory() as uow:
        found = uow.tickets.nearby("streetlight", *HERE, 50.0)
    assert [t.ref[-5:] for t, _ in found] == ["00002", "00001", "00004"]
    assert [round(m) for _, m in found] == [20, 40, 49]


def test_ignores_other_categories_and_closed_reports(uow_factory):
    _file(uow_factory, [
        a_ticket("KOZ-2026-00001", category="pothole", lat=HERE[0], lon=HERE[1]),
        a_ticket("KOZ-2026-00002", status=Status.CLOSED, lat=HERE[0], lon=HERE[1]),
        a_ticket("KOZ-2026-00003", status=Status.REOPENED, lat=HERE[0], lon=HERE[1]),
        a_ticket("KOZ-2026-00004", location=None),
    ])
    with uow_factory() as uow:
        open_ones = uow.tickets.nearby("streetlight", *HERE, 250.0, statuses=OPEN_STATUSES)
        any_status = uow.tickets.nearby("streetlight", *HERE, 250.0)
    assert [t.ref for t, _ in open_ones] == ["KOZ-2026-00003"]
    assert sorted(t.ref for t, _ in any_status) == ["KOZ-2026-00002", "KOZ-2026-00003"]


def test_far_north_the_box_still_covers_the_whole_circle(uow_factory):
    north_cape = (71.17, 25.78)
    east = distance(meters=990).destination(north_cape, 90)
    _file(uow_factory, [a_ticket(lat=east.latitude, lon=east.longitude)])
    with uow_factory() as uow:
        assert len(uow.tickets.nearby("streetlight", *north_cape, 1000.0)) == 1
        assert uow.tickets.nearby("streetlight", *north_cape, 900.0) == []


@pytest.mark.parametrize("lat, lon", [(89.9999, 0.0), (0.0, 179.9999)])
def test_box_at_the_pole_and_date_line_spans_every_longitude(lat, lon):
    south, north, west, east = bounding_box(lat, lon, 500.0)
    assert south < lat <= north and (west, east) == (None, None)


def test_the_duplicate_check_reads_what_it_shows_in_one_statement(uow_factory, db_engine):
    """Ref, category, status, street, reporter and how many follow it: one query, whatever it finds."""
    from sqlalchemy import event

    from core.ports import NearbyReport, Resident
    from tests.support.db import T0
    with uow_factory() as uow:
        for telegram_id in (71, 72, 73):
            uow.residents.add(Resident(telegram_id, f"Resident {telegram_id}", "el", T0))
        ids = [uow.residents.by_telegram_id(t).id for t in (71, 72, 73)]
        near, farther = a_ticket("KOZ-2026-00001", reporter_id=ids[0], **_at(10, 0)), \
            a_ticket("KOZ-2026-00002", status=Status.IN_PROGRESS, **_at(30, 90))
        near.add_supporter(ids[1], T0)
        near.add_supporter(ids[2], T0)
        uow.tickets.add(near)
        uow.tickets.add(farther)
        uow.commit()
    statements = []
    event.listen(db_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with uow_factory(autocommit=True) as uow:
        found = uow.tickets.nearby("streetlight", *HERE, 50.0, statuses=OPEN_STATUSES)
    assert len(statements) == 1
    assert [(report, round(metres)) for report, metres in found] == [
        (NearbyReport("KOZ-2026-00001", "streetlight", Status.NEW, "Dimokratias 12", ids[0], 2), 10),
        (NearbyReport("KOZ-2026-00002", "streetlight", Status.IN_PROGRESS, "Dimokratias 12", None, 0), 30)]

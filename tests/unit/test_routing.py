"""Routing: which department (or outside body) gets a report, by category and place."""
from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.profiles import load_profile
from core.profile import Area, CalendarSpec, Category, Department, Gazetteer, OutsideBody, Profile, Sla
from core.routing import area_at, inside_boundary, route

DATA = Path(__file__).resolve().parents[2] / "data" / "municipalities"


def square(lon: float, lat: float, size: float) -> tuple[tuple[float, float], ...]:
    """A closed square ring with its south-west corner at (lon, lat)."""
    return ((lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size), (lon, lat))


def names(text: str) -> dict[str, str]:
    return {"xx": text, "en": text}


def category(canonical: str, **kw) -> Category:
    return Category(canonical, canonical, names(canonical), Sla(8, 5), **kw)


def town(areas: tuple[Area, ...] = (), categories: tuple[Category, ...] = ()) -> Profile:
    """A made-up town on a 1x1 degree square, so the tests do not depend on the shipped data."""
    departments = {k: Department(k, names(k)) for k in ("desk", "roads", "lights", "old_town", "parks")}
    water = OutsideBody("water", names("Water company"), {"xx": "Call the water company", "en": "Call them"})
    cats = {c.canonical: c for c in categories}
    cats.setdefault("other", category("other"))
    return Profile(
        slug="testtown", names=names("Test Town"), ref_prefix="TST", country="GR", languages=("xx", "en"),
        calendar=CalendarSpec("Europe/Athens", (1, 2, 3, 4, 5), time(8), time(15), "GR"),
        departments=departments, triage_department="desk", categories=cats, outside_bodies={"water": water},
        areas=areas, boundary=square(10.0, 50.0, 1.0), gazetteer=Gazetteer({}))


WEST = Area("west", names("West"), square(10.0, 50.0, 0.5))
OLD_TOWN = Area("old_town", names("Old town"), square(10.1, 50.1, 0.1))   # inside WEST


def test_a_category_goes_to_its_department():
    profile = town(categories=(category("pothole", department="roads"),))
    assert route(profile, "pothole", 50.7, 10.7).department == "roads"


def test_an_area_override_wins_over_the_category_department():
    profile = town(areas=(WEST,), categories=(category("streetlight", department="lights",
                                                       by_area={"west": "roads"}),))
    assert route(profile, "streetlight", 50.2, 10.2) == route(profile, "streetlight", 50.2, 10.2)
    assert route(profile, "streetlight", 50.2, 10.2).department == "roads"
    assert route(profile, "streetlight", 50.8, 10.8).department == "lights"


@pytest.mark.parametrize("areas", [(WEST, OLD_TOWN), (OLD_TOWN, WEST)])
def test_the_smallest_of_nested_areas_decides(areas):
    profile = town(areas=areas, categories=(category("pothole", department="roads",
                                                     by_area={"west": "parks", "old_town": "old_town"}),))
    in_old_town = route(profile, "pothole", 50.15, 10.15)
    assert (in_old_town.area, in_old_town.department) == ("old_town", "old_town")
    in_west_only = route(profile, "pothole", 50.4, 10.4)
    assert (in_west_only.area, in_west_only.department) == ("west", "parks")


def test_an_outside_body_gives_the_resident_its_referral():
    profile = town(categories=(category("water_leak", outside_body="water"),))
    result = route(profile, "water_leak", 50.5, 10.5)
    assert (result.department, result.outside_body, result.is_referral) == (None, "water", True)
    assert result.referral["xx"] == "Call the water company"


def test_an_area_override_can_refer_to_an_outside_body():
    profile = town(areas=(WEST,), categories=(category("sewage", department="roads", by_area={"west": "water"}),))
    assert route(profile, "sewage", 50.2, 10.2).outside_body == "water"
    assert route(profile, "sewage", 50.8, 10.8).department == "roads"


def test_triage_gets_what_nobody_else_handles():
    profile = town(categories=(category("noise"),))
    assert route(profile, "noise", 50.5, 10.5).department == "desk"
    assert route(profile, "graffiti", 50.5, 10.5).department == "desk"   # unmapped: falls back to "other"


def test_a_place_outside_the_boundary():
    profile = town(areas=(WEST,), categories=(category("pothole", department="roads", by_area={"west": "parks"}),))
    assert inside_boundary(profile, 50.5, 10.5)
    assert not inside_boundary(profile, 48.0, 10.5)
    outside = route(profile, "pothole", 48.0, 10.5)
    assert (outside.area, outside.department) == (None, "roads")


def test_without_a_place_area_rules_are_skipped():
    profile = town(areas=(WEST,), categories=(category("pothole", department="roads", by_area={"west": "parks"}),))
    assert route(profile, "pothole").department == "roads"
    assert area_at(profile, None, None) is None


def test_two_profiles_with_the_same_slug_keep_their_own_areas():
    first = town(areas=(WEST,))
    second = town(areas=(OLD_TOWN,))
    assert area_at(first, 50.4, 10.4) == "west"
    assert area_at(second, 50.4, 10.4) is None
    assert area_at(second, 50.15, 10.15) == "old_town"


def test_shipped_profiles_route_sensibly():
    kozani = load_profile("kozani", DATA)
    assert route(kozani, "water_leak", 40.3007, 21.7887).outside_body == "deyak"
    assert route(kozani, "streetlight", 40.3007, 21.7887).department == "lighting"
    assert route(kozani, "streetlight", 40.285, 21.79).outside_body == "hedno"
    sderot = load_profile("sderot", DATA)
    in_industrial_zone = route(sderot, "streetlight", 31.516, 34.583)
    assert in_industrial_zone.outside_body == "iec" and "103" in in_industrial_zone.referral["he"]
    assert not inside_boundary(sderot, 40.3007, 21.7887)

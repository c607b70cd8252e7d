"""The shipped municipality profiles, and the loader's error messages for broken ones."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Callable

import pytest
import yaml

from bot.profiles import ProfileError, list_profiles, load_profile
from core.routing import inside_boundary
from core.tickets import CATEGORIES

DATA = Path(__file__).resolve().parents[2] / "data" / "municipalities"
SHIPPED = {"kozani": ("KOZ", "el"), "petroupoli": ("PET", "el"), "kranj": ("KRA", "sl"),
           "velenje": ("VEL", "sl"), "sderot": ("SDE", "he")}


def test_the_five_profiles_are_listed():
    assert list_profiles(DATA) == sorted(SHIPPED)


@pytest.mark.parametrize("slug", sorted(SHIPPED))
def test_a_shipped_profile_loads_cleanly(slug):
    profile = load_profile(slug, DATA)
    prefix, language = SHIPPED[slug]
    assert (profile.slug, profile.ref_prefix, profile.languages) == (slug, prefix, (language, "en"))
    assert set(profile.categories) == set(CATEGORIES)
    assert profile.triage_department in profile.departments
    assert 5 <= len(profile.departments) <= 8 and 2 <= len(profile.areas) <= 4
    assert 25 <= len(profile.gazetteer.streets) <= 40
    assert all(inside_boundary(profile, lat, lon) for lat, lon in profile.gazetteer.streets.values())
    for cat in profile.categories.values():
        assert set(cat.names) == {language, "en"}
        assert cat.department in profile.departments or cat.outside_body in profile.outside_bodies


def test_sderot_works_sunday_to_thursday():
    assert sorted(load_profile("sderot", DATA).calendar.work_week) == [1, 2, 3, 4, 7]


def test_a_yearly_local_holiday_applies_every_year():
    holidays = load_profile("kozani", DATA).calendar.extra_holidays
    assert date(2026, 12, 6) in holidays and date(2031, 12, 6) in holidays


def test_a_profile_loads_from_a_folder_path(tmp_path):
    shutil.copytree(DATA / "velenje", tmp_path / "velenje")
    assert load_profile(tmp_path / "velenje").slug == "velenje"


# --- broken profiles ------------------------------------------------------------------------------

@pytest.fixture
def kozani(tmp_path) -> Path:
    folder = tmp_path / "kozani"
    shutil.copytree(DATA / "kozani", folder)
    return folder


def edit(folder: Path, file: str, change: Callable[[dict], object]) -> None:
    path = folder / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        load_profile(folder)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def assert_reported(folder: Path, file: str, *fragments: str) -> None:
    problems = problems_of(folder)
    wanted = (str(folder / file), *fragments)
    assert any(all(f in line for f in wanted) for line in problems), problems


def categories(data: dict) -> dict:
    return data["categories"]


BROKEN = {
    "missing translation": ("departments.yml", lambda d: d["departments"]["technical"]["names"].pop("el"),
                            ("departments.technical.names", "'el'")),
    "missing referral translation": ("departments.yml", lambda d: d["outside_bodies"]["deyak"]["referral"].pop("en"),
                                     ("outside_bodies.deyak.referral", "'en'")),
    "unknown canonical": ("categories.yml", lambda d: categories(d)["odostroma"].update(canonical="potholes"),
                          ("categories.odostroma.canonical", "'potholes'")),
    "canonical twice": ("categories.yml", lambda d: categories(d)["fotismos"].update(canonical="pothole"),
                        ("categories.fotismos.canonical", "already mapped by categories.odostroma")),
    "missing other": ("categories.yml", lambda d: categories(d).pop("allo"), ("'other'",)),
    "polygon not closed": ("areas.yml", lambda d: d["areas"]["kentro"]["polygon"].pop(),
                           ("areas.kentro.polygon", "not closed")),
    "polygon too short": ("areas.yml", lambda d: d["boundary"].__delitem__(slice(1, -2)),
                          ("boundary", "at least 4 points")),
    "latitude out of range": ("areas.yml", lambda d: d["areas"]["notia"]["polygon"].__setitem__(1, [21.8, 140.3]),
                              ("areas.notia.polygon", "out of range")),
    "unknown department": ("categories.yml", lambda d: categories(d)["odostroma"].update(department="roads"),
                           ("categories.odostroma.department", "'roads'")),
    "unknown outside body": ("categories.yml", lambda d: categories(d)["ydrefsi"].update(outside_body="water_co"),
                             ("categories.ydrefsi.outside_body", "'water_co'")),
    "unknown area": ("categories.yml", lambda d: categories(d)["fotismos"].update(by_area={"south": "hedno"}),
                     ("categories.fotismos.by_area.south", "unknown area")),
    "unknown area handler": ("categories.yml", lambda d: categories(d)["fotismos"].update(by_area={"notia": "dei"}),
                             ("categories.fotismos.by_area.notia", "'dei'")),
    "unknown triage": ("departments.yml", lambda d: d.update(triage="front_desk"), ("triage", "'front_desk'")),
    "unknown timezone": ("profile.yml", lambda d: d["calendar"].update(timezone="Europe/Kozani"),
                         ("calendar.timezone", "Europe/Kozani")),
    "weekday zero": ("profile.yml", lambda d: d["calendar"].update(work_week=[0, 1, 2]), ("calendar.work_week",)),
    "weekday twice": ("profile.yml", lambda d: d["calendar"].update(work_week=[1, 1, 2]), ("calendar.work_week",)),
    "no work days": ("profile.yml", lambda d: d["calendar"].update(work_week=[]), ("calendar.work_week",)),
    "opens after closes": ("profile.yml", lambda d: d["calendar"].update(opens="15:00", closes="07:00"),
                           ("calendar", "opens (15:00) must be before closes (07:00)")),
    "unknown holiday country": ("profile.yml", lambda d: d["calendar"].update(holiday_country="XX"),
                                ("calendar.holiday_country", "'XX'")),
    "bad local holiday": ("profile.yml", lambda d: d["calendar"].update(extra_holidays=["13-40"]),
                          ("calendar.extra_holidays[0]", "'13-40'")),
    "prefix too short": ("profile.yml", lambda d: d.update(ref_prefix="KO"), ("ref_prefix", "'KO'")),
    "prefix too long": ("profile.yml", lambda d: d.update(ref_prefix="KOZA"), ("ref_prefix", "'KOZA'")),
    "prefix with a digit": ("profile.yml", lambda d: d.update(ref_prefix="K0Z"), ("ref_prefix", "'K0Z'")),
    "no English": ("profile.yml", lambda d: d.update(languages=["el"]), ("languages", "English")),
    "street outside": ("gazetteer.yml", lambda d: d["streets"].update({"Εγνατίας": {"lat": 40.64, "lon": 22.94}}),
                       ("streets.Εγνατίας", "outside the boundary")),
    "misspelt key": ("categories.yml", lambda d: categories(d)["allo"].update(deparment="citizens_desk"),
                     ("categories.allo.deparment", "not a known key")),
    "missing key": ("profile.yml", lambda d: d.pop("country"), ("country", "is missing")),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_profile_names_file_and_key(kozani, case):
    file, change, fragments = BROKEN[case]
    edit(kozani, file, change)
    assert_reported(kozani, file, *fragments)


def test_bad_yaml_syntax_names_the_line(kozani):
    path = kozani / "categories.yml"
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.strip() == "fotismos:")
    lines[number] = "    canonical: [streetlight"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert_reported(kozani, "categories.yml", "bad YAML syntax", "line ")


def test_a_key_written_twice_names_the_line(kozani):
    path = kozani / "departments.yml"
    path.write_text(path.read_text(encoding="utf-8") + "\ntriage: technical\n", encoding="utf-8")
    line_count = len(path.read_text(encoding="utf-8").splitlines())
    assert_reported(kozani, "departments.yml", f"line {line_count}", "'triage' appears twice")


def test_an_unquoted_time_is_caught(kozani):
    path = kozani / "profile.yml"
    path.write_text(path.read_text(encoding="utf-8").replace('closes: "15:00"', "closes: 15:00"), encoding="utf-8")
    assert_reported(kozani, "profile.yml", "calendar.closes", "quotes")


def test_a_missing_file_is_named(kozani):
    (kozani / "areas.yml").unlink()
    assert_reported(kozani, "areas.yml", "missing")


def test_every_problem_is_reported_at_once(kozani):
    edit(kozani, "profile.yml", lambda d: d.update(ref_prefix="KOZANI"))
    edit(kozani, "categories.yml", lambda d: categories(d)["odostroma"].update(department="roads"))
    edit(kozani, "categories.yml", lambda d: categories(d)["allo"]["names"].pop("en"))
    edit(kozani, "areas.yml", lambda d: d["areas"]["kentro"]["polygon"].pop())
    problems = problems_of(kozani)
    assert {Path(line.split(": ")[0]).name for line in problems} == {"profile.yml", "categories.yml", "areas.yml"}
    assert any("categories.allo.names: missing the 'en' translation" in line for line in problems)


def test_an_unknown_profile_is_named():
    with pytest.raises(ProfileError, match="atlantis"):
        load_profile("atlantis", DATA)

"""The knowledge base: which entry answers a question, and whether the office is open at a given moment."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.profiles import ProfileError, load_profile
from core.answers import TOPICS, answer, open_now
from nlu.intents import QUESTION_INTENTS

PROFILES = Path(__file__).resolve().parents[2] / "data" / "municipalities"
SLUGS = ("kozani", "petroupoli", "kranj", "velenje", "sderot")


def local(slug_zone: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(slug_zone))


@pytest.fixture(scope="module", params=SLUGS)
def profile(request):
    return load_profile(request.param, PROFILES)


def test_every_profile_answers_every_question_in_each_of_its_languages(profile):
    at = datetime(2026, 3, 3, 8, 0, tzinfo=timezone.utc)
    for intent in QUESTION_INTENTS:
        found = answer(profile.knowledge, intent, profile.calendar, at)
        assert found is not None, intent
        assert found.department in profile.departments
        if found.text:
            assert set(profile.languages) <= set(found.text), intent
    assert set(profile.knowledge.topics) == set(TOPICS)


def test_an_intent_that_is_not_a_question_has_no_answer():
    kozani = load_profile("kozani", PROFILES)
    assert answer(kozani.knowledge, "report_pothole", kozani.calendar, datetime.now(timezone.utc)) is None
    assert answer(kozani.knowledge, None, kozani.calendar, datetime.now(timezone.utc)) is None


def test_sderot_is_closed_on_a_friday_afternoon_and_opens_on_sunday_morning():
    sderot = load_profile("sderot", PROFILES)
    desk = sderot.knowledge.offices[sderot.knowledge.front_desk]
    now = open_now(desk, sderot.calendar, local("Asia/Jerusalem", 2026, 3, 6, 14, 0))   # Friday
    assert not now.open
    assert now.opens == local("Asia/Jerusalem", 2026, 3, 8, 8, 0)                          # Sunday 08:00


def test_kozani_is_closed_on_sunday_and_open_on_a_weekday_morning():
    kozani = load_profile("kozani", PROFILES)
    desk = kozani.knowledge.offices[kozani.knowledge.front_desk]
    sunday = open_now(desk, kozani.calendar, local("Europe/Athens", 2026, 3, 8, 11, 0))
    assert not sunday.open and sunday.opens == local("Europe/Athens", 2026, 3, 9, 7, 30)
    tuesday = open_now(desk, kozani.calendar, local("Europe/Athens", 2026, 3, 3, 10, 0))
    assert tuesday.open and tuesday.closes == local("Europe/Athens", 2026, 3, 3, 15, 0)


def test_open_and_closed_follow_the_municipality_clock_not_utc():
    kozani = load_profile("kozani", PROFILES)
    desk = kozani.knowledge.offices[kozani.knowledge.front_desk]
    # 05:45 UTC is 07:45 in Kozani (winter): open; the same instant in UTC terms would be before opening
    assert open_now(desk, kozani.calendar, datetime(2026, 3, 3, 5, 45, tzinfo=timezone.utc)).open
    early = open_now(desk, kozani.calendar, datetime(2026, 3, 3, 5, 15, tzinfo=timezone.utc))
    assert not early.open and early.opens == local("Europe/Athens", 2026, 3, 3, 7, 30)


def test_a_public_holiday_is_closed():
    kozani = load_profile("kozani", PROFILES)
    desk = kozani.knowledge.offices[kozani.knowledge.front_desk]
    independence_day = local("Europe/Athens", 2026, 3, 25, 10, 0)          # a Wednesday, Greek national holiday
    now = open_now(desk, kozani.calendar, independence_day)
    assert not now.open and now.opens == local("Europe/Athens", 2026, 3, 26, 7, 30)


def test_kranj_opens_longer_on_wednesday():
    kranj = load_profile("kranj", PROFILES)
    desk = kranj.knowledge.offices[kranj.knowledge.front_desk]
    assert open_now(desk, kranj.calendar, local("Europe/Ljubljana", 2026, 3, 4, 16, 0)).open         # Wednesday
    assert not open_now(desk, kranj.calendar, local("Europe/Ljubljana", 2026, 3, 5, 16, 0)).open     # Thursday


def _copy_profile(tmp_path, slug="kozani"):
    folder = tmp_path / slug
    folder.mkdir()
    for f in (PROFILES / slug).iterdir():
        (folder / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def test_a_knowledge_base_with_mistakes_is_refused_line_by_line(tmp_path):
    folder = _copy_profile(tmp_path)
    text = (folder / "knowledge.yml").read_text(encoding="utf-8")
    text = text.replace("front_desk: citizens_desk", "front_desk: reception")
    text = text.replace("{days: [1, 2, 3, 4, 5], opens: \"07:30\"", "{days: [1, 2, 4, 5], opens: \"07:30\"")
    text = text.replace("  recycling:\n    department: cleaning", "  recycling:\n    department: recycling_dept")
    (folder / "knowledge.yml").write_text(text, encoding="utf-8")

    with pytest.raises(ProfileError) as error:
        load_profile(folder)
    problems = "\n".join(error.value.problems)
    assert "offices.citizens_desk.hours.0" in problems and "consecutive" in problems
    text = text.replace("{days: [1, 2, 4, 5], opens", "{days: [1, 2, 3, 4, 5], opens")
    (folder / "knowledge.yml").write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as error:
        load_profile(folder)
    problems = error.value.problems
    assert any("front_desk: 'reception' is not one of the offices" in p for p in problems)
    assert any("topics.recycling.department: unknown department 'recycling_dept'" in p for p in problems)
    assert all(p.startswith(str(folder / "knowledge.yml")) for p in problems)


def test_a_missing_translation_is_named(tmp_path):
    folder = _copy_profile(tmp_path)
    text = (folder / "knowledge.yml").read_text(encoding="utf-8")
    text = text.replace('      el: "Μπλε κάδος', '      fr: "Μπλε κάδος')
    (folder / "knowledge.yml").write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match="topics.recycling.answer: missing the 'el' translation"):
        load_profile(folder)


def test_a_profile_without_a_knowledge_base_still_loads(tmp_path):
    folder = _copy_profile(tmp_path)
    (folder / "knowledge.yml").unlink()
    assert load_profile(folder).knowledge.offices == {}

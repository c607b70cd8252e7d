"""Due dates on real municipal calendars: Sderot (Sunday-Thursday), Greece, Slovenia, across DST and holidays."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zoneinfo import ZoneInfo

from core.profile import CalendarSpec, Sla
from core.sla import WorkingCalendar, due_dates

UTC = timezone.utc
JERUSALEM = ZoneInfo("Asia/Jerusalem")
ATHENS = ZoneInfo("Europe/Athens")
LJUBLJANA = ZoneInfo("Europe/Ljubljana")

SDEROT = CalendarSpec("Asia/Jerusalem", (7, 1, 2, 3, 4), time(8, 0), time(16, 0), "IL")
GREECE = CalendarSpec("Europe/Athens", (1, 2, 3, 4, 5), time(7, 30), time(15, 0), "GR")
KRANJ_MUNICIPAL_DAY = date(2026, 6, 26)
SLOVENIA = CalendarSpec("Europe/Ljubljana", (1, 2, 3, 4, 5), time(8, 0), time(15, 0), "SI",
                        extra_holidays=(KRANJ_MUNICIPAL_DAY,))
SPECS = (SDEROT, GREECE, SLOVENIA)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- Sderot: Sunday to Thursday ---------------------------------------------------------------------

def test_sderot_ticket_after_thursday_closing_is_due_on_sunday_and_tuesday():
    filed = datetime(2026, 1, 15, 16, 55, tzinfo=JERUSALEM)   # Thursday, winter time (UTC+2)
    acknowledge, resolve = due_dates(filed, Sla(acknowledge_hours=4, resolve_days=2), WorkingCalendar(SDEROT))
    assert acknowledge == utc(2026, 1, 18, 10, 0)             # Sunday 12:00 local
    assert resolve == utc(2026, 1, 20, 14, 0)                 # Tuesday 16:00 local


def test_sderot_friday_and_saturday_are_closed_sunday_is_open():
    calendar = WorkingCalendar(SDEROT)
    assert not calendar.is_working_day(date(2026, 1, 16))
    assert not calendar.is_working_day(date(2026, 1, 17))
    assert calendar.is_open(datetime(2026, 1, 18, 9, 0, tzinfo=JERUSALEM))
    assert calendar.next_opening(datetime(2026, 1, 16, 10, 0, tzinfo=JERUSALEM)) == utc(2026, 1, 18, 6, 0)


def test_sderot_office_is_closed_from_closing_time_on():
    calendar = WorkingCalendar(SDEROT)
    closing = datetime(2026, 1, 15, 16, 0, tzinfo=JERUSALEM)
    assert calendar.closing_time(date(2026, 1, 15)) == closing
    assert calendar.is_open(closing - timedelta(minutes=1))
    assert not calendar.is_open(closing)
    assert calendar.next_opening(closing) == utc(2026, 1, 18, 6, 0)


def test_sderot_skips_the_first_day_of_pesach_but_works_chol_hamoed():
    calendar = WorkingCalendar(SDEROT)
    assert not calendar.is_working_day(date(2026, 4, 2))      # Pesach, a Thursday
    assert calendar.is_working_day(date(2026, 4, 5))          # Chol HaMoed Sunday
    filed = datetime(2026, 4, 1, 12, 0, tzinfo=JERUSALEM)
    assert calendar.add_working_days(filed, 1) == utc(2026, 4, 5, 13, 0)


def test_sderot_due_dates_across_spring_dst_use_summer_offset():
    filed = datetime(2026, 3, 26, 16, 55, tzinfo=JERUSALEM)   # Thursday; clocks go forward Friday 27 March
    calendar = WorkingCalendar(SDEROT)
    acknowledge, resolve = due_dates(filed, Sla(4, 2), calendar)
    assert acknowledge == utc(2026, 3, 29, 9, 0)              # Sunday 12:00 at UTC+3
    assert resolve == utc(2026, 3, 31, 13, 0)
    assert calendar.add_working_days(filed, 5) == utc(2026, 4, 6, 13, 0)   # skips Pesach on 2 April


def test_sderot_ticket_filed_on_the_friday_before_autumn_dst_change():
    filed = datetime(2026, 10, 23, 10, 0, tzinfo=JERUSALEM)   # Friday; clocks go back Sunday 25 October
    calendar = WorkingCalendar(SDEROT)
    assert calendar.next_opening(filed) == utc(2026, 10, 25, 6, 0)        # Sunday 08:00 at UTC+2
    acknowledge, resolve = due_dates(filed, Sla(4, 2), calendar)
    assert acknowledge == utc(2026, 10, 25, 10, 0)
    assert resolve == utc(2026, 10, 27, 14, 0)
    assert acknowledge.astimezone(JERUSALEM).time() == time(12, 0)


# --- Greece: Orthodox Easter ----------------------------------------------------------------------

def test_greek_orthodox_easter_2026_holidays_come_from_the_package():
    greek = holidays.country_holidays("GR", years=2026)
    assert date(2026, 4, 10) in greek and date(2026, 4, 13) in greek   # Good Friday, Easter Monday


def test_greek_ticket_filed_before_easter_skips_good_friday_and_easter_monday():
    filed = datetime(2026, 4, 9, 14, 0, tzinfo=ATHENS)         # Thursday, summer time (UTC+3)
    acknowledge, resolve = due_dates(filed, Sla(4, 2), WorkingCalendar(GREECE))
    assert acknowledge == utc(2026, 4, 14, 7, 30)              # 1 h Thursday + 3 h Tuesday: 10:30 local
    assert resolve == utc(2026, 4, 15, 12, 0)                  # Wednesday 15:00 local


def test_hours_that_end_exactly_at_closing_are_due_that_day():
    filed = datetime(2026, 4, 9, 11, 0, tzinfo=ATHENS)         # Thursday before Good Friday
    assert WorkingCalendar(GREECE).add_working_hours(filed, 4) == utc(2026, 4, 9, 12, 0)   # 15:00 local


def test_greek_ticket_filed_on_good_friday_counts_from_tuesday():
    filed = datetime(2026, 4, 10, 10, 0, tzinfo=ATHENS)
    acknowledge, resolve = due_dates(filed, Sla(4, 2), WorkingCalendar(GREECE))
    assert acknowledge == utc(2026, 4, 14, 8, 30)              # Tuesday 11:30 local
    assert resolve == utc(2026, 4, 16, 12, 0)                  # Thursday 15:00 local


def test_greek_due_dates_across_the_new_year_holidays():
    filed = datetime(2026, 12, 31, 14, 0, tzinfo=ATHENS)       # Thursday; 1 January and 6 January closed
    assert WorkingCalendar(GREECE).add_working_days(filed, 3) == utc(2027, 1, 7, 13, 0)


def test_athens_spring_dst_weekend_keeps_office_hours_in_local_time():
    filed = datetime(2026, 3, 27, 13, 0, tzinfo=ATHENS)        # Friday 11:00 UTC; clocks go forward Sunday
    calendar = WorkingCalendar(GREECE)
    acknowledge, resolve = due_dates(filed, Sla(4, 1), calendar)
    assert calendar.next_opening(utc(2026, 3, 27, 14, 0)) == utc(2026, 3, 30, 4, 30)   # Monday 07:30 local
    assert acknowledge == utc(2026, 3, 30, 6, 30)              # 2 h Friday + 2 h Monday: 09:30 local
    assert resolve == utc(2026, 3, 30, 12, 0)


def test_athens_autumn_dst_weekend_and_ohi_day():
    filed = datetime(2026, 10, 23, 14, 0, tzinfo=ATHENS)       # Friday 11:00 UTC; clocks go back Sunday
    acknowledge, resolve = due_dates(filed, Sla(4, 3), WorkingCalendar(GREECE))
    assert acknowledge == utc(2026, 10, 26, 8, 30)             # Monday 10:30 at UTC+2
    assert resolve == utc(2026, 10, 29, 13, 0)                 # skips Ohi Day, Wednesday 28 October
    assert acknowledge.astimezone(ATHENS).time() == time(10, 30)


# --- Slovenia -------------------------------------------------------------------------------------

def test_slovenian_statehood_day_is_skipped():
    filed = datetime(2026, 6, 24, 14, 0, tzinfo=LJUBLJANA)     # Wednesday; 25 June is Statehood Day
    plain = WorkingCalendar(CalendarSpec("Europe/Ljubljana", (1, 2, 3, 4, 5), time(8), time(15), "SI"))
    acknowledge, resolve = due_dates(filed, Sla(2, 1), plain)
    assert acknowledge == utc(2026, 6, 26, 7, 0)               # Friday 09:00 local
    assert resolve == utc(2026, 6, 26, 13, 0)


def test_municipal_extra_holiday_moves_the_due_date():
    filed = datetime(2026, 6, 24, 14, 0, tzinfo=LJUBLJANA)
    acknowledge, resolve = due_dates(filed, Sla(2, 1), WorkingCalendar(SLOVENIA))
    assert acknowledge == utc(2026, 6, 29, 7, 0)               # Monday 09:00 local
    assert resolve == utc(2026, 6, 29, 13, 0)


def test_preseren_day_on_a_monday_is_skipped():
    filed = datetime(2027, 2, 5, 10, 0, tzinfo=LJUBLJANA)      # Friday; 8 February 2027 is a Monday
    assert WorkingCalendar(SLOVENIA).add_working_days(filed, 1) == utc(2027, 2, 9, 14, 0)


# --- Inputs ---------------------------------------------------------------------------------------

def test_naive_datetime_is_refused_with_a_clear_message():
    calendar = WorkingCalendar(GREECE)
    with pytest.raises(ValueError, match="time zone"):
        calendar.add_working_hours(datetime(2026, 4, 9, 14, 0), 4)
    with pytest.raises(ValueError, match="time zone"):
        due_dates(datetime(2026, 4, 9, 14, 0), Sla(4, 2), calendar)


def test_any_input_time_zone_gives_the_same_instant():
    calendar = WorkingCalendar(GREECE)
    athens = datetime(2026, 4, 9, 14, 0, tzinfo=ATHENS)
    assert calendar.add_working_hours(athens, 4) == calendar.add_working_hours(athens.astimezone(JERUSALEM), 4)


@pytest.mark.parametrize("change", [
    {"timezone": "Mars/Olympus"}, {"work_week": ()}, {"work_week": (0, 1)},
    {"opens": time(16), "closes": time(8)}, {"holiday_country": "XX"}, {"holiday_subdiv": "nowhere"},
])
def test_a_broken_calendar_is_refused(change):
    with pytest.raises(ValueError):
        WorkingCalendar(replace(GREECE, **change))


def test_negative_hours_or_days_are_refused():
    calendar, filed = WorkingCalendar(GREECE), utc(2026, 4, 9, 10, 0)
    with pytest.raises(ValueError):
        calendar.add_working_hours(filed, -1)
    with pytest.raises(ValueError):
        calendar.add_working_days(filed, -1)


# --- Properties -----------------------------------------------------------------------------------

CALENDARS = {spec.holiday_country: WorkingCalendar(spec) for spec in SPECS}
calendars = st.sampled_from(SPECS).map(lambda spec: (spec, CALENDARS[spec.holiday_country]))
instants = st.datetimes(datetime(2024, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC))
minutes = st.integers(0, 60 * 120)
fast = settings(max_examples=60, deadline=None)


def is_official_working_day(spec: CalendarSpec, day: date) -> bool:
    """Independent oracle: the work week, the package's public holidays, the spec's extra days."""
    public = holidays.country_holidays(spec.holiday_country, years=day.year, categories=("public",))
    return day.isoweekday() in spec.work_week and day not in public and day not in spec.extra_holidays


def within_office_hours(spec: CalendarSpec, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(spec.timezone))
    return is_official_working_day(spec, local.date()) and spec.opens <= local.time() <= spec.closes


@fast
@given(calendars, instants, minutes)
def test_working_hours_end_inside_office_hours_never_before_start(cal, start, mins):
    spec, calendar = cal
    due = calendar.add_working_hours(start, mins / 60)
    assert due >= start
    assert within_office_hours(spec, due)
    local_day = due.astimezone(ZoneInfo(spec.timezone)).date()
    assert calendar.is_open(due) or due == calendar.closing_time(local_day)


@fast
@given(calendars, instants, minutes, minutes)
def test_working_hours_are_monotonic_in_hours(cal, start, a, b):
    _, calendar = cal
    assert calendar.add_working_hours(start, a / 60) <= calendar.add_working_hours(start, (a + b) / 60)


@fast
@given(calendars, instants, st.integers(0, 60 * 24 * 10), minutes)
def test_working_hours_are_monotonic_in_start(cal, start, later_by, mins):
    _, calendar = cal
    later = start + timedelta(minutes=later_by)
    assert calendar.add_working_hours(start, mins / 60) <= calendar.add_working_hours(later, mins / 60)


@fast
@given(calendars, instants, minutes, st.integers(1, 60 * 120))
def test_working_hours_add_up(cal, start, a, b):
    _, calendar = cal
    in_two_steps = calendar.add_working_hours(calendar.add_working_hours(start, a / 60), b / 60)
    assert calendar.add_working_hours(start, (a + b) / 60) == in_two_steps


@fast
@given(calendars, instants, st.integers(0, 30))
def test_working_days_land_at_closing_on_an_official_working_day(cal, start, days):
    spec, calendar = cal
    due = calendar.add_working_days(start, days)
    local = due.astimezone(ZoneInfo(spec.timezone))
    assert due > start
    assert is_official_working_day(spec, local.date())
    assert local.time() == spec.closes


@fast
@given(calendars, instants, st.integers(1, 30))
def test_each_extra_working_day_moves_the_due_date_to_a_later_day(cal, start, days):
    spec, calendar = cal
    zone = ZoneInfo(spec.timezone)
    before = calendar.add_working_days(start, days - 1).astimezone(zone).date()
    after = calendar.add_working_days(start, days).astimezone(zone).date()
    assert after > before
    assert all(not is_official_working_day(spec, before + timedelta(n)) for n in range(1, (after - before).days))

"""Calendar arithmetic where the town is: the date of an instant at the day boundaries (23:59, 00:00 and the first
eight hours of a China day, still the previous day in UTC), month, quarter and year ends, the leap day."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.periods import (
    DEFAULT_TIMEZONE,
    Period,
    local_date,
    local_time,
    month_of,
    month_start,
    months_back,
    next_month,
    period_of,
)

D = dt.date
CHINA = dt.timezone(dt.timedelta(hours=8))


def china(*args) -> dt.datetime:
    """An instant given by the wall clock in China, as the server holds it (UTC)."""
    return dt.datetime(*args, tzinfo=CHINA).astimezone(dt.timezone.utc)


# ---- periods ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, day, start, end", [
    ("month", D(2024, 2, 10), D(2024, 2, 1), D(2024, 2, 29)),      # leap year
    ("month", D(2026, 2, 28), D(2026, 2, 1), D(2026, 2, 28)),
    ("month", D(2026, 12, 31), D(2026, 12, 1), D(2026, 12, 31)),
    ("quarter", D(2026, 3, 31), D(2026, 1, 1), D(2026, 3, 31)),
    ("quarter", D(2026, 4, 1), D(2026, 4, 1), D(2026, 6, 30)),
    ("quarter", D(2026, 11, 22), D(2026, 10, 1), D(2026, 12, 31)),
    ("year", D(2024, 2, 29), D(2024, 1, 1), D(2024, 12, 31)),
])
def test_calendar_periods(kind, day, start, end):
    assert period_of(kind, day) == Period(kind, start, end)


def test_previous_period_crosses_the_year():
    assert period_of("month", D(2026, 1, 5)).previous() == Period("month", D(2025, 12, 1), D(2025, 12, 31))
    assert period_of("quarter", D(2026, 2, 5)).previous() == Period("quarter", D(2025, 10, 1), D(2025, 12, 31))


def test_midnight_in_shanghai_is_the_next_day_while_still_the_day_before_in_utc():
    instant = dt.datetime(2026, 10, 31, 16, 30, tzinfo=dt.timezone.utc)   # 00:30 on 1 November in Shanghai
    assert local_date(instant, "Asia/Shanghai") == D(2026, 11, 1)
    assert local_date(instant, "UTC") == D(2026, 10, 31)
    assert local_date(instant.replace(tzinfo=None), "Asia/Shanghai") == D(2026, 11, 1)



# ---- the date of an instant ------------------------------------------------------------------------------------

def test_the_default_time_zone_is_chinas():
    assert DEFAULT_TIMEZONE == "Asia/Shanghai"


@pytest.mark.parametrize("instant, day", [
    (china(2026, 11, 30, 23, 59), D(2026, 11, 30)),        # the last minute of the day
    (china(2026, 11, 30, 23, 59, 59, 999999), D(2026, 11, 30)),
    (china(2026, 12, 1, 0, 0), D(2026, 12, 1)),            # midnight: already the next day
    (china(2026, 12, 1, 1, 30), D(2026, 12, 1)),
    (china(2026, 12, 1, 7, 59), D(2026, 12, 1)),
    (china(2026, 12, 1, 8, 0), D(2026, 12, 1)),            # from 08:00 UTC agrees
])
def test_the_date_of_an_instant_is_the_towns_date(instant, day):
    assert local_date(instant, DEFAULT_TIMEZONE) == day


@pytest.mark.parametrize("hour, minute", [(0, 0), (1, 30), (4, 0), (7, 59)])
def test_from_midnight_to_eight_the_utc_date_is_still_yesterday(hour, minute):
    instant = china(2026, 12, 1, hour, minute)
    assert instant.date() == D(2026, 11, 30)                           # what `.date()` on the instant gives
    assert local_date(instant, DEFAULT_TIMEZONE) == D(2026, 12, 1)     # the day it is in the town
    assert month_of(local_date(instant, DEFAULT_TIMEZONE)).start == D(2026, 12, 1)


@pytest.mark.parametrize("instant, day, quarter_start", [
    (china(2026, 3, 31, 23, 59), D(2026, 3, 31), D(2026, 1, 1)),      # the last minute of a quarter
    (china(2026, 4, 1, 0, 0), D(2026, 4, 1), D(2026, 4, 1)),           # the first of the next (UTC: 31 March)
    (china(2026, 12, 31, 23, 59), D(2026, 12, 31), D(2026, 10, 1)),
    (china(2027, 1, 1, 0, 30), D(2027, 1, 1), D(2027, 1, 1)),          # a new year (UTC: still 2026)
])
def test_quarter_and_year_ends_follow_the_towns_clock(instant, day, quarter_start):
    assert local_date(instant, DEFAULT_TIMEZONE) == day
    assert period_of("quarter", day).start == quarter_start
    assert period_of("year", day).start == D(day.year, 1, 1)


def test_the_leap_day_in_china_is_the_28th_in_utc_until_eight():
    assert local_date(china(2024, 2, 29, 7, 0), DEFAULT_TIMEZONE) == D(2024, 2, 29)
    assert china(2024, 2, 29, 7, 0).date() == D(2024, 2, 28)
    assert local_date(china(2024, 3, 1, 0, 0), DEFAULT_TIMEZONE) == D(2024, 3, 1)
    assert month_of(D(2024, 2, 29)) == Period("month", D(2024, 2, 1), D(2024, 2, 29))


def test_wall_time_for_printing():
    assert local_time(china(2026, 12, 1, 1, 30), DEFAULT_TIMEZONE).strftime("%Y-%m-%d %H:%M") == "2026-12-01 01:30"
    assert local_time(dt.datetime(2026, 11, 30, 17, 30), DEFAULT_TIMEZONE).hour == 1      # naive: taken as UTC


# ---- months and the period a visit counts for --------------------------------------------------------------------

@pytest.mark.parametrize("day, start, following", [
    (D(2026, 1, 31), D(2026, 1, 1), D(2026, 2, 1)),
    (D(2024, 2, 29), D(2024, 2, 1), D(2024, 3, 1)),
    (D(2026, 12, 31), D(2026, 12, 1), D(2027, 1, 1)),
])
def test_month_start_and_next_month(day, start, following):
    assert (month_start(day), next_month(day)) == (start, following)
    assert month_of(day) == Period("month", start, following - dt.timedelta(days=1))


def test_months_back_are_oldest_first_across_the_year():
    months = months_back(D(2026, 2, 14), 3)
    assert [month.label("en") for month in months] == ["2025-12", "2026-01", "2026-02"]
    assert months[-1].end == D(2026, 2, 28) and len(months_back(D(2026, 11, 1), 12)) == 12


@pytest.mark.parametrize("kind, day, start", [
    ("month", D(2026, 11, 30), D(2026, 11, 1)), ("month", D(2026, 12, 1), D(2026, 12, 1)),
    ("quarter", D(2026, 3, 31), D(2026, 1, 1)), ("quarter", D(2026, 4, 1), D(2026, 4, 1)),
    ("year", D(2024, 2, 29), D(2024, 1, 1)),
])
def test_the_period_a_visit_counts_for(kind, day, start):
    assert period_of(kind, day).start == start
    assert day in period_of(kind, day)

"""Visit coverage: what became of the visits due in a period (on time, late, overdue, open) as of a date, per group
and as monthly rates; at the day boundaries (the as-of date of an instant between 00:00 and 08:00 China time),
month and quarter ends and the leap day."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.coverage import Outcomes, monthly_rates, outcomes_by_group, outcomes_in, period_outcomes
from sync.periods import DEFAULT_TIMEZONE, local_date, month_of, period_of
from sync.schedules import Anchor, PersonSchedule, VisitDone, default_schedule

D = dt.date
SCHEDULE = default_schedule()
CHINA = dt.timezone(dt.timedelta(hours=8))


def key_person(*visits: dt.date, person: str = "p", since: dt.date = D(2023, 1, 1)) -> PersonSchedule:
    return PersonSchedule(person, tiers=((since, "key"),), visits=tuple(VisitDone(day) for day in visits))


# ---- what became of the visits due in a period (the coverage report) ------------------------------------------

def test_tier_periods_ending_in_the_report_month():
    person = PersonSchedule("p", tiers=((D(2025, 1, 1), "key"),), visits=(VisitDone(D(2026, 10, 3)),))
    assert period_outcomes(person, SCHEDULE, D(2026, 10, 1), D(2026, 10, 31), D(2026, 11, 5)) == [
        ("tier_key", "on_time")]
    assert period_outcomes(person, SCHEDULE, D(2026, 11, 1), D(2026, 11, 30), D(2026, 12, 2)) == [
        ("tier_key", "overdue")]
    assert period_outcomes(person, SCHEDULE, D(2026, 11, 1), D(2026, 11, 30), D(2026, 11, 20)) == [
        ("tier_key", "open")]
    general = PersonSchedule("g", tiers=((D(2025, 1, 1), "general"),), visits=(VisitDone(D(2026, 8, 3)),))
    assert period_outcomes(general, SCHEDULE, D(2026, 10, 1), D(2026, 10, 31), D(2026, 11, 5)) == []
    assert period_outcomes(general, SCHEDULE, D(2026, 9, 1), D(2026, 9, 30), D(2026, 11, 5)) == [
        ("tier_general", "on_time")]

def test_event_windows_on_time_late_and_overdue():
    def with_visit(day):
        return PersonSchedule("m", anchors=(Anchor("birth", D(2026, 10, 20)),),
                              visits=(VisitDone(day, "postpartum"),) if day else ())
    month = (D(2026, 10, 1), D(2026, 10, 31), D(2026, 11, 30))   # due by 27 October, asked for until 1 December
    assert period_outcomes(with_visit(D(2026, 10, 25)), SCHEDULE, *month) == [("postpartum", "on_time")]
    assert period_outcomes(with_visit(D(2026, 11, 10)), SCHEDULE, *month) == [("postpartum", "late")]
    assert period_outcomes(with_visit(None), SCHEDULE, *month) == [("postpartum", "overdue")]
    dead = PersonSchedule("m", anchors=(Anchor("birth", D(2026, 10, 20)),), active_until=D(2026, 10, 22))
    assert period_outcomes(dead, SCHEDULE, *month) == []


# ---- the as-of date at the day boundaries ------------------------------------------------------------------------

@pytest.mark.parametrize("wall_clock, outcome", [
    ((2026, 11, 30, 23, 59), "open"),        # still November in the town: the month's visit may still come
    ((2026, 12, 1, 0, 0), "overdue"),        # December has begun: November is missed
    ((2026, 12, 1, 1, 30), "overdue"),       # UTC says 30 November until 08:00
    ((2026, 12, 1, 7, 59), "overdue"),
])
def test_a_month_is_judged_by_the_towns_date_of_the_instant(wall_clock, outcome):
    instant = dt.datetime(*wall_clock, tzinfo=CHINA).astimezone(dt.timezone.utc)
    as_of = local_date(instant, DEFAULT_TIMEZONE)
    november = period_of("month", D(2026, 11, 1))
    assert period_outcomes(key_person(D(2026, 10, 3)), SCHEDULE, november.start, november.end, as_of) == [
        ("tier_key", outcome)]


def test_the_utc_date_of_an_early_morning_instant_would_leave_the_month_open():
    instant = dt.datetime(2026, 12, 1, 1, 30, tzinfo=CHINA).astimezone(dt.timezone.utc)
    november = period_of("month", D(2026, 11, 1))
    assert period_outcomes(key_person(), SCHEDULE, november.start, november.end, instant.date()) == [
        ("tier_key", "open")]
    assert period_outcomes(key_person(), SCHEDULE, november.start, november.end,
                           local_date(instant, DEFAULT_TIMEZONE)) == [("tier_key", "overdue")]


def test_a_visit_on_the_months_last_day_is_on_time_and_the_next_day_belongs_to_the_next_month():
    november = period_of("month", D(2026, 11, 1))
    assert period_outcomes(key_person(D(2026, 11, 30)), SCHEDULE, november.start, november.end, D(2026, 12, 1)) == [
        ("tier_key", "on_time")]
    assert period_outcomes(key_person(D(2026, 12, 1)), SCHEDULE, november.start, november.end, D(2026, 12, 5)) == [
        ("tier_key", "overdue")]


def test_a_quarter_ends_on_its_last_day():
    general = PersonSchedule("g", tiers=((D(2025, 1, 1), "general"),), visits=(VisitDone(D(2026, 7, 2)),))
    december = month_of(D(2026, 12, 1))       # the fourth quarter's deadline falls in December
    assert period_outcomes(general, SCHEDULE, december.start, december.end, D(2026, 12, 31)) == [
        ("tier_general", "open")]
    assert period_outcomes(general, SCHEDULE, december.start, december.end, D(2027, 1, 1)) == [
        ("tier_general", "overdue")]
    november = month_of(D(2026, 11, 1))       # no quarter ends in November
    assert period_outcomes(general, SCHEDULE, november.start, november.end, D(2027, 1, 1)) == []


def test_the_leap_day_closes_february():
    february = month_of(D(2024, 2, 1))
    assert period_outcomes(key_person(D(2024, 2, 29)), SCHEDULE, february.start, february.end, D(2024, 3, 1)) == [
        ("tier_key", "on_time")]
    assert period_outcomes(key_person(), SCHEDULE, february.start, february.end, D(2024, 2, 29)) == [
        ("tier_key", "open")]
    assert period_outcomes(key_person(), SCHEDULE, february.start, february.end, D(2024, 3, 1)) == [
        ("tier_key", "overdue")]


@pytest.mark.parametrize("visit, as_of, outcome", [
    (None, D(2026, 10, 27), "open"),                      # the deadline day itself: not yet overdue
    (None, D(2026, 10, 28), "overdue"),
    (D(2026, 10, 27), D(2026, 10, 28), "on_time"),         # on the deadline
    (D(2026, 10, 28), D(2026, 10, 28), "late"),            # the day after
    (D(2026, 10, 28), D(2026, 10, 27), "open"),            # a visit after the as-of date is not seen yet
])
def test_an_event_deadline_at_its_day_boundary(visit, as_of, outcome):
    mother = PersonSchedule("m", anchors=(Anchor("birth", D(2026, 10, 20)),),
                            visits=(VisitDone(visit, "postpartum"),) if visit else ())
    october = month_of(D(2026, 10, 1))                    # due by 27 October (day 7)
    assert period_outcomes(mother, SCHEDULE, october.start, october.end, as_of) == [("postpartum", outcome)]


# ---- a month per group, and the monthly rates ----------------------------------------------------------------------

def test_outcomes_by_group_list_every_group_and_count_due_as_on_time_late_and_overdue():
    people = [key_person(D(2026, 11, 3), person="a"), key_person(person="b"), key_person(person="c"),
              PersonSchedule("m", anchors=(Anchor("birth", D(2026, 11, 1)),),
                             visits=(VisitDone(D(2026, 11, 20), "postpartum"),))]
    by_group = outcomes_by_group(people, SCHEDULE, D(2026, 11, 17), D(2026, 12, 1),
                                 {"a": 1, "b": 1, "c": 2, "m": 2}, [1, 2, 3])
    assert by_group == {1: Outcomes(on_time=1, overdue=1), 2: Outcomes(late=1, overdue=1), 3: Outcomes()}
    assert (by_group[1].due, by_group[1].rate, by_group[2].rate, by_group[3].due, by_group[3].rate) == (
        2, 0.5, 0.5, 0, None)
    still_open = outcomes_by_group(people, SCHEDULE, D(2026, 11, 1), D(2026, 11, 30), {"a": 1, "b": 1, "c": 2, "m": 2},
                                   [1, 2])
    assert still_open == {1: Outcomes(on_time=1, open=1), 2: Outcomes(late=1, open=1)}
    assert still_open[1].due == 1


def test_monthly_rates_are_oldest_first_across_the_year_and_none_where_nothing_was_due():
    people = [key_person(D(2026, 1, 5), D(2026, 2, 27), since=D(2025, 12, 15)),
              key_person(D(2026, 2, 1), person="q", since=D(2025, 12, 15))]
    rates = monthly_rates(people, SCHEDULE, D(2026, 2, 10), D(2026, 3, 2), months=4)
    assert [(period.label("en"), rate) for period, rate in rates] == [
        ("2025-11", None), ("2025-12", None), ("2026-01", 0.5), ("2026-02", 1.0)]
    assert outcomes_in(people, SCHEDULE, month_of(D(2026, 1, 1)), D(2026, 3, 2)) == Outcomes(on_time=1, overdue=1)

"""The indicators (sync.indicators): each one on a small worked example whose answer is written here, adding up the
tree (numerators and denominators, never rates), no data for a zero denominator, the monthly reports' due day, the
service counts of a quarter, and periods as written in an address."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.coverage import outcomes_in
from sync.errors import PeriodInvalid
from sync.indicators import (
    INDICATORS,
    KEY_INDICATORS,
    LEVELS,
    ReportMonth,
    ServiceItem,
    Tally,
    Value,
    VisitWindow,
    followup_tally,
    parse_period,
    period_code,
    report_due_date,
    report_tallies,
    roll_up,
    service_tallies,
    values_of,
    visit_window,
)
from sync.periods import period_of
from sync.schedules import Anchor, PersonSchedule, VisitDone, default_schedule
from sync.service_counts import ItemRow

D = dt.date
SCHEDULE = default_schedule()
NOVEMBER = period_of("month", D(2026, 11, 1))
Q4 = period_of("quarter", D(2026, 11, 1))


def test_the_registry_answers_the_same_questions_for_every_indicator():
    assert list(INDICATORS) == ["followup_rate", "on_time_rate", "entry_rate", "accuracy", "report_timeliness",
                                "supplies_given", "referrals_made", "referrals_closed", "requests_received",
                                "requests_decided"]
    for code, indicator in INDICATORS.items():
        assert indicator.code == code
        assert indicator.unit in ("rate", "count")
        assert (indicator.denominator is not None) == (indicator.unit == "rate")
        assert indicator.label_zh and indicator.label_en and indicator.formula_zh and indicator.formula_en
        assert indicator.levels <= set(LEVELS)
    assert set(KEY_INDICATORS) <= set(INDICATORS)
    assert INDICATORS["report_timeliness"].levels == {"village", "town", "county"}


def test_follow_up_and_on_time_rates_from_the_visits_due_in_the_month():
    """Four people of one group, judged on 2026-12-05: a key-tier visit done on 11-10 (on time), a key-tier visit
    never done (overdue), a postpartum visit (birth 11-01: due by day 7, 11-08; expires day 42) done on 11-20
    (late), and a general-tier person (their quarter ends in December: not due in November)."""
    people = [
        PersonSchedule("a", tiers=((D(2026, 1, 1), "key"),), visits=(VisitDone(D(2026, 11, 10)),)),
        PersonSchedule("b", tiers=((D(2026, 1, 1), "key"),)),
        PersonSchedule("c", visits=(VisitDone(D(2026, 11, 20), "postpartum"),),
                       anchors=(Anchor("birth", D(2026, 11, 1)),)),
        PersonSchedule("d", tiers=((D(2026, 1, 1), "general"),)),
    ]
    outcomes = outcomes_in(people, SCHEDULE, NOVEMBER, D(2026, 12, 5))
    tally = followup_tally(outcomes)
    assert (tally.on_time, tally.late, tally.overdue, tally.due) == (1, 1, 1, 3)
    values = values_of(tally, "group")
    assert values["followup_rate"] == Value(2, 3)
    assert values["followup_rate"].percent() == "66.7%"
    assert values["on_time_rate"] == Value(1, 3)
    assert values["on_time_rate"].percent() == "33.3%"


def test_entry_rate_counts_people_found_on_sweeps_and_re_checks():
    """Sweeps found 40 people, 38 of them already on the register (2 registered as missed); re-checks found 10, 9 on
    the register: (38 + 9) ÷ (40 + 10) = 94.0%."""
    tally = Tally(swept=40, swept_on_register=38, recheck_found=10, recheck_found_on_register=9)
    assert values_of(tally, "village")["entry_rate"] == Value(47, 50)
    assert values_of(tally, "village")["entry_rate"].percent() == "94.0%"


def test_accuracy_is_people_correct_over_people_re_checked():
    tally = Tally(rechecked=200, correct=187)
    assert values_of(tally, "town")["accuracy"] == Value(187, 200)
    assert values_of(tally, "town")["accuracy"].percent() == "93.5%"


def test_a_zero_denominator_is_no_data_never_a_percentage():
    value = values_of(Tally(), "village")["accuracy"]
    assert value == Value(0, 0)
    assert value.no_data and value.rate is None and value.percent() is None
    assert values_of(Tally(correct=0, rechecked=5), "village")["accuracy"].percent() == "0.0%"


def test_report_timeliness_applies_to_villages_and_above_only():
    tally = Tally(reports_due=3, reports_on_time=2)
    group = values_of(tally, "group")["report_timeliness"]
    assert not group.applies and group.rate is None and not group.no_data
    assert values_of(tally, "village")["report_timeliness"] == Value(2, 3)
    assert values_of(tally, "county")["report_timeliness"].percent() == "66.7%"


def test_monthly_reports_are_counted_once_their_due_day_has_passed():
    """The fourth quarter of 2026 as of 2026-12-03 with the due day the 2nd: October's report (due 11-02) and
    November's (due 12-02) are due, December's is not yet. 东村 sent October's on time and November's late; 西村
    sent October's on time and November's not at all; 南村 sent nothing."""
    assert report_due_date(D(2026, 11, 1), 2) == D(2026, 12, 2)
    assert report_due_date(D(2026, 12, 1), 2) == D(2027, 1, 2)
    submitted = [ReportMonth("东村", D(2026, 10, 1), late=False), ReportMonth("东村", D(2026, 11, 1), late=True),
                 ReportMonth("西村", D(2026, 10, 1), late=False), ReportMonth("东村", D(2026, 12, 1), late=False)]
    tallies = report_tallies(["东村", "西村", "南村"], submitted, Q4, D(2026, 12, 3), 2)
    assert {village: (tally.reports_on_time, tally.reports_due) for village, tally in tallies.items()} == {
        "东村": (1, 2), "西村": (1, 2), "南村": (0, 2)}
    # On the due day itself November's report is not due yet.
    on_due_day = report_tallies(["东村"], submitted, Q4, D(2026, 12, 2), 2)
    assert (on_due_day["东村"].reports_on_time, on_due_day["东村"].reports_due) == (1, 1)
    town = values_of(sum(tallies.values(), Tally()), "town")["report_timeliness"]
    assert town == Value(2, 6) and town.percent() == "33.3%"


def test_adding_up_the_tree_adds_numerators_and_denominators_never_rates():
    """Group 1: 9 of 10 visits done (90%); group 2: 1 of 2 (50%). Their village: 10 of 12 (83.3%), not the mean
    of the rates (70%)."""
    tallies = {1: Tally(on_time=9, overdue=1, supplies={"condoms": 20}),
               2: Tally(on_time=1, overdue=1, supplies={"condoms": 5, "folic_acid": 30}),
               3: Tally(on_time=4)}
    villages = roll_up(tallies, {1: "东村", 2: "东村", 3: "西村"}.get)
    assert villages["东村"] == Tally(on_time=10, overdue=2, supplies={"condoms": 25, "folic_acid": 30})
    assert values_of(villages["东村"], "village")["followup_rate"].percent() == "83.3%"
    assert values_of(villages["东村"], "village")["supplies_given"] == Value(55, None)
    assert values_of(villages["东村"], "village")["supplies_given"].count == 55
    assert roll_up(tallies, lambda group: "青山镇" if group != 3 else None) == {"青山镇": villages["东村"]}


def test_service_counts_of_a_quarter():
    """Group 7 in the fourth quarter: condoms 10 on 10-05 and 5 on 11-20, folic acid 30 on 12-01 (and 3 requested
    but not handed out), an odd quantity left out; two referrals made in the quarter, one made in September and
    closed in October, one made in October and closed in January (not counted as closed); two support requests,
    one decided."""
    items = [
        ItemRow(7, "supply", "condoms", D(2026, 10, 5), quantity=10, given=True),
        ItemRow(7, "supply", "condoms", D(2026, 11, 20), quantity=5, given=True),
        ItemRow(7, "supply", "folic_acid", D(2026, 12, 1), quantity=30, given=True),
        ItemRow(7, "supply", "folic_acid", D(2026, 12, 1), quantity=3, given=False),
        ItemRow(7, "supply", "oral_pills", D(2026, 12, 1), quantity=None, given=True, problems=("quantity_absurd",)),
        ItemRow(7, "referral", "prepregnancy_check", D(2026, 9, 20), result="attended", result_on=D(2026, 10, 2)),
        ItemRow(7, "referral", "health_centre", D(2026, 10, 20), result="declined", result_on=D(2027, 1, 4)),
        ItemRow(7, "referral", "health_centre", D(2026, 12, 30)),
    ]
    rows = [ServiceItem(item) for item in items] + [
        ServiceItem(ItemRow(7, "support_request", "elderly_support", D(2026, 11, 3)), decided=True),
        ServiceItem(ItemRow(7, "support_request", "hardship", D(2026, 12, 9)), decided=False),
        ServiceItem(ItemRow(7, "support_request", "hardship", D(2026, 9, 9)), decided=True),
    ]
    tally = service_tallies(rows, Q4)[7]
    assert tally.supplies == {"condoms": 15, "folic_acid": 30}
    values = values_of(tally, "group")
    assert {code: values[code].count for code in ("supplies_given", "referrals_made", "referrals_closed",
                                                   "requests_received", "requests_decided")} == {
        "supplies_given": 45, "referrals_made": 2, "referrals_closed": 1, "requests_received": 2,
        "requests_decided": 1}


@pytest.mark.parametrize(("text", "kind", "start", "end", "code"), [
    ("2026-11", "month", D(2026, 11, 1), D(2026, 11, 30), "2026-11"),
    ("2026-Q4", "quarter", D(2026, 10, 1), D(2026, 12, 31), "2026-Q4"),
    ("2026-q1", "quarter", D(2026, 1, 1), D(2026, 3, 31), "2026-Q1"),
    ("2026", "year", D(2026, 1, 1), D(2026, 12, 31), "2026"),
    (" 2024-02 ", "month", D(2024, 2, 1), D(2024, 2, 29), "2024-02"),
])
def test_periods_as_written_in_an_address(text, kind, start, end, code):
    period = parse_period(text)
    assert (period.kind, period.start, period.end) == (kind, start, end)
    assert period_code(period) == code


@pytest.mark.parametrize("text", ["", None, "2026-13", "2026-00", "2026-Q5", "2026-Q0", "26-11", "2026/11", "2026-1",
                                  "1899", "2200-01", "2026-11-01", "十一月", "2026-Q4x"])
def test_a_period_not_written_as_one_is_refused(text):
    with pytest.raises(PeriodInvalid) as raised:
        parse_period(text)
    assert raised.value.code == "400.23" and raised.value.status == 400


def test_the_visits_that_can_count_for_a_period():
    """November: only the month's own tier visits (no quarter or year ends in it); December: the quarter's and the
    year's too; follow-ups from the earliest anchor whose deadline can fall in the period (the pregnancy outcome's,
    300 days) up to the as-of date."""
    november = visit_window(SCHEDULE, NOVEMBER, D(2026, 12, 5))
    assert november == VisitWindow(D(2026, 11, 1), D(2026, 11, 30), D(2026, 1, 5), D(2026, 12, 5))
    december = visit_window(SCHEDULE, period_of("month", D(2026, 12, 1)), D(2026, 12, 5))
    assert december == VisitWindow(D(2026, 1, 1), D(2026, 12, 5), D(2026, 1, 1), D(2026, 12, 5))
    assert visit_window(SCHEDULE, Q4, D(2027, 2, 1)).household_since == D(2026, 1, 1)
    assert visit_window(SCHEDULE, period_of("quarter", D(2026, 5, 1)), D(2027, 2, 1)).household_since == D(2026, 4, 1)

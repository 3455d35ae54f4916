"""Visit schedules: tier cadences, event windows, explanations, and the schedule file."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.errors import ScheduleInvalid
from sync.periods import Period, period_of
from sync.schedules import (
    Anchor,
    PersonSchedule,
    ReferralMade,
    ReferralRule,
    VisitAgreed,
    VisitDone,
    default_schedule,
    flags_for,
    flags_of,
    parse_schedule,
)

D = dt.date
SCHEDULE = default_schedule()


def flag(person: PersonSchedule, as_of: dt.date, rule: str):
    found = [f for f in flags_for(person, SCHEDULE, as_of) if f.rule == rule]
    return found[0] if found else None


def key_person(*visits: dt.date, since: dt.date = D(2025, 1, 1), **kwargs) -> PersonSchedule:
    return PersonSchedule("p", tiers=((since, "key"),), visits=tuple(VisitDone(day) for day in visits), **kwargs)


# ---- tier cadences -------------------------------------------------------------------------------------------

def test_a_visit_in_the_current_month_makes_the_key_tier_done():
    done = flag(key_person(D(2026, 11, 3)), D(2026, 11, 22), "tier_key")
    assert (done.status, done.last_visit, done.due_by) == ("done", D(2026, 11, 3), D(2026, 11, 30))
    assert done.explain(SCHEDULE) == "重点服务对象例行访视（每月一次）：2026年11月已访视；上次访视 2026-11-03。"


def test_due_until_the_end_of_the_month_when_last_month_was_visited():
    due = flag(key_person(D(2026, 10, 31)), D(2026, 11, 30), "tier_key")
    assert (due.status, due.due_since, due.due_by, due.overdue_days) == ("due", D(2026, 11, 1), D(2026, 11, 30), 0)
    assert due.explain(SCHEDULE, "en") == ("Routine visit, key service target (once a month): no completed visit "
                                           "yet in 2026-11, due by 2026-11-30; last visit 2026-10-31.")


def test_missed_months_are_counted_back_and_explained():
    overdue = flag(key_person(D(2026, 8, 20)), D(2026, 11, 22), "tier_key")
    assert (overdue.status, overdue.overdue_days, [p.label("en") for p in overdue.missed]) == (
        "overdue", 53, ["2026-09", "2026-10"])
    assert overdue.explain(SCHEDULE) == ("重点服务对象例行访视（每月一次）：2026年9月、2026年10月没有完成的访视，"
                                         "已逾期 53 天；上次访视 2026-08-20。")


def test_a_month_is_over_at_its_last_day_not_thirty_days_later():
    person = key_person(D(2026, 1, 31))
    assert flag(person, D(2026, 2, 28), "tier_key").status == "due"
    march = flag(person, D(2026, 3, 1), "tier_key")
    assert (march.status, march.overdue_days, march.missed) == (
        "overdue", 1, (Period("month", D(2026, 2, 1), D(2026, 2, 28)),))


def test_a_leap_february_ends_on_the_29th():
    person = key_person(D(2024, 1, 15), since=D(2023, 1, 1))
    assert flag(person, D(2024, 2, 29), "tier_key").status == "due"
    assert flag(person, D(2024, 3, 1), "tier_key").overdue_days == 1


def test_quarters_for_the_general_tier():
    person = PersonSchedule("p", tiers=((D(2025, 1, 1), "general"),), visits=(VisitDone(D(2026, 6, 30)),))
    assert flag(person, D(2026, 9, 30), "tier_general").status == "due"
    october = flag(person, D(2026, 10, 1), "tier_general")
    assert (october.status, october.overdue_days, october.missed[0].label()) == ("overdue", 1, "2026年第3季度")


def test_a_late_synced_visit_dated_in_the_missed_month_clears_the_flag():
    as_of = D(2026, 11, 22)
    assert flag(key_person(D(2026, 9, 1)), as_of, "tier_key").status == "overdue"
    assert flag(key_person(D(2026, 9, 1), D(2026, 10, 30)), as_of, "tier_key").status == "due"


def test_follow_ups_of_another_type_do_not_count_for_a_tier_but_household_visits_do():
    person = PersonSchedule("p", tiers=((D(2025, 1, 1), "key"),),
                            visits=(VisitDone(D(2026, 11, 2), "postpartum"), VisitDone(D(2026, 10, 2), "tier_key")))
    assert flag(person, D(2026, 11, 22), "tier_key").status == "due"


def test_a_tier_given_mid_month_is_first_judged_the_next_month():
    person = key_person(since=D(2026, 11, 15))
    assert flag(person, D(2026, 11, 22), "tier_key") is None
    december = flag(person, D(2026, 12, 5), "tier_key")
    assert (december.status, december.missed) == ("due", ())


def test_each_period_is_judged_by_the_tier_on_its_first_day():
    # general since 2025, key from 15 November 2026
    person = PersonSchedule("p", tiers=((D(2025, 1, 1), "general"), (D(2026, 11, 15), "key")),
                            visits=(VisitDone(D(2026, 9, 10)),))
    as_of = D(2026, 12, 10)
    assert flag(person, as_of, "tier_key").status == "due"          # December is the first key month
    general = flag(person, as_of, "tier_general")                      # the fourth quarter began as general
    assert (general.status, general.due_by) == ("due", D(2026, 12, 31))
    assert flag(person, D(2027, 1, 5), "tier_general") is None         # 2027 Q1 began as key
    january = flag(person, D(2027, 1, 5), "tier_key")
    assert (january.status, [p.label("en") for p in january.missed]) == ("overdue", ["2026-12"])


def test_lookback_stops_where_the_tier_began():
    overdue = flag(key_person(since=D(2026, 9, 1)), D(2026, 11, 22), "tier_key")
    assert [p.label("en") for p in overdue.missed] == ["2026-09", "2026-10"]


def test_people_who_died_or_moved_away_are_not_due():
    assert flags_for(key_person(active_until=D(2026, 11, 2)), SCHEDULE, D(2026, 11, 22)) == []
    assert flag(key_person(active_until=D(2026, 12, 2)), D(2026, 11, 22), "tier_key").status == "overdue"


def test_flags_as_of_a_past_date_reproduce():
    person = key_person(D(2026, 9, 3), D(2026, 11, 20))
    assert flag(person, D(2026, 10, 31), "tier_key").status == "due"
    assert flag(person, D(2026, 11, 1), "tier_key").status == "overdue"
    assert flag(person, D(2026, 11, 22), "tier_key").status == "done"
    assert flag(person, D(2026, 11, 1), "tier_key") == flag(person, D(2026, 11, 1), "tier_key")


def _period_by_period(person: PersonSchedule, rule, as_of: dt.date):
    """The tier rule as docs/schedules.md states it, period by period (every visited period looked up): status,
    missed periods and last visit, for the test below."""
    current = period_of(rule.period, as_of)
    if person.tier_on(current.start) != rule.tier:
        return None
    qualifying = [visit.day for visit in person.visits
                  if visit.day <= as_of and visit.followup_type in (None, rule.code)]
    last = max(qualifying, default=None)
    if any(day in current for day in qualifying):
        return "done", (), last
    missed, period = [], current.previous()
    while (len(missed) < SCHEDULE.lookback_periods and person.tier_on(period.start) == rule.tier
           and not any(day in period for day in qualifying)):
        missed.insert(0, period)
        period = period.previous()
    return ("overdue" if missed else "due"), tuple(missed), last


_DAYS = st.dates(D(2024, 1, 1), D(2027, 6, 30))


@settings(max_examples=300, deadline=None)
@given(changes=st.lists(st.tuples(_DAYS, st.sampled_from(("key", "general", "followup", None))), max_size=4),
       visits=st.lists(st.tuples(_DAYS, st.sampled_from((None, "tier_key", "tier_general", "postpartum"))),
                       max_size=12),
       as_of=_DAYS)
def test_tier_flags_are_the_period_by_period_reading(changes, visits, as_of):
    person = PersonSchedule("p", tiers=tuple(sorted(changes, key=lambda change: change[0])),
                            visits=tuple(VisitDone(day, kind) for day, kind in visits))
    for rule in SCHEDULE.tiers:
        expected = _period_by_period(person, rule, as_of)
        found = flag(person, as_of, rule.code)
        assert (found and (found.status, found.missed, found.last_visit)) == (expected or None), rule.code


# ---- event windows -------------------------------------------------------------------------------------------

def mother(*visits: VisitDone) -> PersonSchedule:
    return PersonSchedule("m", anchors=(Anchor("birth", D(2026, 11, 10)),), visits=visits)


@pytest.mark.parametrize("as_of, status, overdue_days", [
    (D(2026, 11, 10), "upcoming", 0), (D(2026, 11, 13), "due", 0), (D(2026, 11, 17), "due", 0),
    (D(2026, 11, 18), "overdue", 1), (D(2026, 12, 22), "overdue", 35), (D(2026, 12, 23), "expired", 0),
])
def test_postpartum_window(as_of, status, overdue_days):
    found = flag(mother(), as_of, "postpartum")
    assert (found.status, found.overdue_days, found.due_since, found.due_by) == (
        status, overdue_days, D(2026, 11, 13), D(2026, 11, 17))


def test_a_follow_up_of_the_type_after_the_event_makes_it_done():
    found = flag(mother(VisitDone(D(2026, 11, 20), "postpartum")), D(2026, 11, 22), "postpartum")
    assert (found.status, found.last_visit) == ("done", D(2026, 11, 20))
    assert found.explain(SCHEDULE) == ("产后随访（分娩 2026-11-10 后第 3–7 天，第 42 天后不再随访）：已随访；"
                                       "上次访视 2026-11-20。")
    assert flag(mother(VisitDone(D(2026, 11, 20))), D(2026, 11, 22), "postpartum").status == "overdue"
    assert flag(mother(VisitDone(D(2026, 11, 1), "postpartum")), D(2026, 11, 22), "postpartum").status == "overdue"


def test_overdue_event_explains_itself_in_english():
    found = flag(mother(), D(2026, 11, 22), "postpartum")
    assert found.explain(SCHEDULE, "en") == ("Follow-up after a birth (days 3–7 after the birth on 2026-11-10, "
                                             "not asked after day 42): overdue by 5 days; no visit recorded.")
    assert found.key == "m:postpartum:2026-11-10"


def test_a_person_with_several_anchor_events_has_a_flag_for_each():
    person = PersonSchedule("m", anchors=(Anchor("pregnancy_reported", D(2026, 3, 2)), Anchor("birth", D(2026, 11, 10)),
                                          Anchor("birth", D(2024, 5, 1))))
    assert [(found.rule, found.anchor.day, found.status) for found in flags_for(person, SCHEDULE, D(2026, 11, 15))] == [
        ("postpartum", D(2024, 5, 1), "expired"), ("postpartum", D(2026, 11, 10), "due"),
        ("pregnancy_outcome", D(2026, 3, 2), "due")]


def test_anchors_after_today_are_not_flagged_yet():
    assert flag(mother(), D(2026, 11, 9), "postpartum") is None


# ---- the schedule file ---------------------------------------------------------------------------------------

def test_the_default_schedule():
    assert [(rule.code, rule.tier, rule.period) for rule in SCHEDULE.tiers] == [
        ("tier_key", "key", "month"), ("tier_general", "general", "quarter"), ("tier_followup", "followup", "year")]
    assert [(rule.code, rule.anchor) for rule in SCHEDULE.events] == [
        ("postpartum", "birth"), ("post_operation", "operation"), ("pregnancy_outcome", "pregnancy_reported")]
    assert (SCHEDULE.timezone, SCHEDULE.lookback_periods) == ("Asia/Shanghai", 12)
    assert (SCHEDULE.referral.due_after_day, SCHEDULE.referral.overdue_after_day) == (14, 30)
    assert SCHEDULE.agreed_visit.overdue_after_day == 7
    # A file without the sections keeps the defaults; one with them sets them.
    assert parse_schedule("").referral == ReferralRule()
    own = parse_schedule('[referrals]\ndue_after_day = 7\noverdue_after_day = 21\nlabel_zh = "转介"\nlabel_en = "R"\n')
    assert (own.referral.due_after_day, own.referral.overdue_after_day, own.rule("referral").label_zh) == (7, 21, "转介")


REFERRAL = ReferralMade(dt.date(2026, 11, 2), "uuid:visit#2", place="青山镇卫生院")


@pytest.mark.parametrize("as_of, status, overdue_days", [
    (dt.date(2026, 11, 15), "upcoming", 0), (dt.date(2026, 11, 16), "due", 0), (dt.date(2026, 12, 2), "due", 0),
    (dt.date(2026, 12, 4), "overdue", 2)])
def test_an_open_referral_is_due_after_the_days_configured(as_of, status, overdue_days):
    (flag,) = flags_for(PersonSchedule("p", referrals=(REFERRAL,)), SCHEDULE, as_of)
    assert (flag.rule, flag.status, flag.overdue_days, flag.due_since, flag.due_by) == (
        "referral", status, overdue_days, dt.date(2026, 11, 16), dt.date(2026, 12, 2))
    assert flag.key == "p:referral:uuid:visit#2"


def test_a_referral_explains_itself_and_stops_when_closed():
    (flag,) = flags_for(PersonSchedule("p", referrals=(REFERRAL,)), SCHEDULE, dt.date(2026, 12, 4))
    assert flag.explain(SCHEDULE) == ("转介跟进（2026-11-02 转介到青山镇卫生院，还没有结果；第 14 天起跟进，第 30 天后逾期）："
                                      "已逾期 2 天。")
    assert flag.explain(SCHEDULE, "en") == (
        "Follow-up of a referral (referred to 青山镇卫生院 on 2026-11-02, no result yet; follow up from day 14, "
        "overdue after day 30): overdue by 2 days.")
    closed = ReferralMade(REFERRAL.day, REFERRAL.key, closed_on=dt.date(2026, 11, 20), place=REFERRAL.place)
    person = PersonSchedule("p", referrals=(closed,))
    assert flags_for(person, SCHEDULE, dt.date(2026, 12, 4)) == []
    # As of a day before it was closed, it was still open: flags reproduce for past dates.
    assert [flag.status for flag in flags_for(person, SCHEDULE, dt.date(2026, 11, 19))] == ["due"]


def test_a_visit_agreed_with_the_household_is_due_on_the_day_and_done_by_a_later_visit():
    agreed = VisitAgreed(dt.date(2026, 11, 1), dt.date(2026, 11, 20))
    person = PersonSchedule("p", agreed=(agreed,))
    statuses = [(day, flags_for(person, SCHEDULE, dt.date(2026, 11, day))[0].status) for day in (10, 20, 27, 28)]
    assert statuses == [(10, "upcoming"), (20, "due"), (27, "due"), (28, "overdue")]
    visited = PersonSchedule("p", agreed=(agreed,), visits=(VisitDone(dt.date(2026, 11, 1)),
                                                            VisitDone(dt.date(2026, 11, 18), "tier_key")))
    (flag,) = flags_for(visited, SCHEDULE, dt.date(2026, 11, 25))
    assert (flag.status, flag.last_visit, flag.key) == ("done", dt.date(2026, 11, 18), "p:agreed_visit:2026-11-20")
    assert flag.explain(SCHEDULE) == "约定的访视（2026-11-01 访视时与住户约定 2026-11-20 再访）：已随访。"
    # Only the latest agreement made by the as-of date counts.
    later = PersonSchedule("p", agreed=(agreed, VisitAgreed(dt.date(2026, 11, 18), dt.date(2026, 12, 18))))
    assert [(flag.due_since, flag.status) for flag in flags_for(later, SCHEDULE, dt.date(2026, 11, 25))] == [
        (dt.date(2026, 12, 18), "upcoming")]


def test_flags_of_many_people_are_each_persons_flags_in_turn():
    """What a read's people share (the periods, the rules' windows) is worked out once; nothing of one person's
    flags leaks into the next one's."""
    as_of = dt.date(2026, 11, 25)
    people = [
        key_person(D(2026, 9, 3)),
        PersonSchedule("gone", tiers=((D(2025, 1, 1), "key"),), active_until=D(2026, 10, 1)),
        PersonSchedule("q", tiers=((D(2025, 1, 1), "general"), (D(2026, 10, 2), "key")),
                       visits=(VisitDone(D(2026, 11, 18), "tier_key"), VisitDone(D(2026, 11, 1))),
                       agreed=(VisitAgreed(D(2026, 11, 1), D(2026, 11, 20)),)),
        PersonSchedule("m", anchors=(Anchor("birth", D(2026, 11, 10)),), referrals=(REFERRAL,)),
        PersonSchedule("r", agreed=(VisitAgreed(D(2026, 11, 1), D(2026, 11, 20)),)),
    ]
    found = flags_of(people, SCHEDULE, as_of)
    assert [(flag.person, flag.rule, flag.status) for flag in found] == [
        ("p", "tier_key", "overdue"), ("q", "tier_key", "done"), ("q", "tier_general", "done"),
        ("q", "agreed_visit", "done"),
        ("m", "postpartum", "overdue"), ("m", "referral", "due"), ("r", "agreed_visit", "due")]
    assert found == [flag for person in people for flag in flags_for(person, SCHEDULE, as_of)]
    assert flags_of([], SCHEDULE, as_of) == []


@pytest.mark.parametrize("text, problem", [
    ('timezone = "Mars/Olympus"', "timezone: unknown timezone 'Mars/Olympus'"),
    ('[tiers.tier_key]\ntier = "key"\nperiod = "fortnight"\nlabel_zh = "a"\nlabel_en = "a"',
     "tiers.tier_key.value.period: Must be one of: month, quarter, year."),
    ('[events.postpartum]\nanchor = "birth"\ndue_from_day = 9\noverdue_after_day = 7\nexpires_after_day = 42\n'
     'label_zh = "a"\nlabel_en = "a"', "events.postpartum.value: need due_from_day <= overdue_after_day"),
    ('[events.postpartum]\nanchor = "birth"\ndue_from_day = "3"\noverdue_after_day = 7\nexpires_after_day = 42\n'
     'label_zh = "a"\nlabel_en = "a"', "events.postpartum.value.due_from_day: Not a valid integer."),
    ("timezone = ", "Invalid value"),
    ('[tiers.A]\ntier = "key"\nperiod = "month"\nlabel_zh = "a"\nlabel_en = "a"', "tiers.A.key: codes are lowercase"),
    ('[referrals]\ndue_after_day = 30\noverdue_after_day = 14\nlabel_zh = "a"\nlabel_en = "a"',
     "referrals: need due_after_day <= overdue_after_day"),
    ('[events.referral]\nanchor = "birth"\ndue_from_day = 1\noverdue_after_day = 7\nexpires_after_day = 42\n'
     'label_zh = "a"\nlabel_en = "a"', "agreed_visit and referral are the codes"),
])
def test_invalid_schedule_files_say_what_is_wrong(text, problem):
    with pytest.raises(ScheduleInvalid) as raised:
        parse_schedule(text, source="town.toml")
    assert raised.value.code == "400.11"
    assert problem in raised.value.detail and raised.value.detail.startswith("town.toml: ")

"""The home pages' pure figures: flags tallied per area for a month, silent collectors, the chart's bars."""

from __future__ import annotations

import datetime as dt

from sync.dashboard import Bar, bars, not_synced_since, tally_flags
from sync.periods import month_of
from sync.schedules import Flag

NOVEMBER = month_of(dt.date(2026, 11, 22))
DAY = dt.date(2026, 11, 1)


def flag(person: str, status: str, last_visit: dt.date | None = None, rule: str = "tier_key") -> Flag:
    return Flag(person, rule, status, DAY, None, last_visit=last_visit)


def test_flags_are_asked_for_when_open_or_done_this_month_and_people_overdue_are_counted_once():
    flags = [flag("a", "overdue"), flag("a", "overdue", rule="postpartum"), flag("b", "due"),
             flag("c", "done", dt.date(2026, 11, 3)), flag("d", "done", dt.date(2026, 10, 30)),
             flag("e", "upcoming"), flag("f", "expired"), flag("g", "overdue")]
    units = {"a": "东村", "b": "东村", "c": "东村", "d": "东村", "e": "东村", "f": "东村", "g": None}
    figures = tally_flags(flags, units.get, NOVEMBER)
    assert list(figures) == ["东村"]
    found = figures["东村"]
    assert (found.asked, found.done, found.overdue) == (4, 1, 1)


def test_a_collector_is_silent_after_the_days_given_or_when_never_synced():
    now = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.timezone.utc)
    assert not_synced_since(None, now, 7)
    assert not_synced_since(now - dt.timedelta(days=7, seconds=1), now, 7)
    assert not not_synced_since(now - dt.timedelta(days=7), now, 7)


def test_bars_scale_to_the_largest_figure():
    assert bars([("东村", 40, 10), ("西村", 0, 0), ("南村", 20, 20)], width=300, row_height=30) == [
        Bar("东村", 40, 10, 0, 300.0, 75.0), Bar("西村", 0, 0, 30, 0.0, 0.0), Bar("南村", 20, 20, 60, 150.0, 150.0)]
    assert bars([("西村", 0, 0)], width=300, row_height=30) == [Bar("西村", 0, 0, 0, 0.0, 0.0)]

"""The schedule summary's text: what is written reads back as the schedule's inputs, each piece made once."""

from __future__ import annotations

import datetime as dt

from sync.schedule_summary import (
    SummaryReader,
    anchors_of,
    anchors_text,
    followups_of,
    followups_text,
    household_visits_of,
    household_visits_text,
    tier_changes_of,
    tiers_text,
)
from sync.schedules import Anchor, VisitDone, tiers_from

SHANGHAI = "Asia/Shanghai"


def test_every_column_reads_back_what_was_written():
    days = [dt.date(2026, 3, 1), dt.date(2026, 1, 5), dt.date(2026, 1, 5)]
    assert household_visits_text(days) == "2026-01-05,2026-01-05,2026-03-01"
    assert household_visits_of(household_visits_text(days)) == tuple(VisitDone(day) for day in sorted(days))
    followups = [(dt.date(2026, 4, 2), "tier_key"), (dt.date(2026, 2, 1), None)]
    assert followups_text(followups) == "2026-02-01:,2026-04-02:tier_key"
    assert followups_of(followups_text(followups)) == (VisitDone(dt.date(2026, 2, 1)),
                                                       VisitDone(dt.date(2026, 4, 2), "tier_key"))
    changes = [(dt.datetime(2026, 1, 20, 17, 0, tzinfo=dt.timezone.utc), "key"),
               (dt.datetime(2026, 5, 1, 2, 0), "")]   # naive: UTC (SQLite)
    text = tiers_text(changes)
    assert text == "2026-01-20T17:00:00+00:00=key;2026-05-01T02:00:00+00:00="
    assert tiers_from(tier_changes_of(text), SHANGHAI) == tiers_from(changes, SHANGHAI) == (
        (dt.date(2026, 1, 21), "key"), (dt.date(2026, 5, 1), None))
    anchors = [("operation", dt.date(2026, 9, 1)), ("birth", dt.date(2026, 9, 18))]
    assert anchors_of(anchors_text(anchors)) == (Anchor("birth", dt.date(2026, 9, 18)),
                                                 Anchor("operation", dt.date(2026, 9, 1)))
    assert (household_visits_of(""), followups_of(None), tier_changes_of(""), anchors_of("")) == ((), (), (), ())


def test_the_reader_gives_the_same_values_making_each_piece_once():
    read = SummaryReader(SHANGHAI)
    first = read.household_visits("2026-01-05,2026-03-01")
    assert first == household_visits_of("2026-01-05,2026-03-01")
    assert read.household_visits("2026-03-01")[0] is first[1]
    assert read.followups("2026-02-01:,2026-04-02:tier_key") == followups_of("2026-02-01:,2026-04-02:tier_key")
    text = "2026-01-20T17:00:00+00:00=key"
    assert read.tiers(text) is read.tiers(text)
    assert read.tiers(text) == ((dt.date(2026, 1, 21), "key"),)
    assert (read.household_visits(None), read.followups(""), read.tiers(None)) == ((), (), ())

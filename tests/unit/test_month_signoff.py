"""When a village's month may be submitted, returned or accepted, and when its first submission is late."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sync.month_signoff import decide_refusal, due_at, due_date, is_late, submit_refusal

CHINA = ZoneInfo("Asia/Shanghai")
OCTOBER = dt.date(2026, 10, 1)


def test_a_month_is_submitted_once_it_is_over_and_again_only_after_a_return():
    assert submit_refusal(None, OCTOBER, dt.date(2026, 10, 31)) == "not_over"
    assert submit_refusal(None, dt.date(2026, 12, 1), dt.date(2026, 11, 2)) == "not_over"
    assert submit_refusal(None, OCTOBER, dt.date(2026, 11, 1)) is None
    assert submit_refusal("submitted", OCTOBER, dt.date(2026, 11, 2)) == "submitted"
    assert submit_refusal("returned", OCTOBER, dt.date(2026, 11, 9)) is None
    assert submit_refusal("accepted", OCTOBER, dt.date(2027, 1, 1)) == "accepted"


def test_the_town_office_decides_on_a_submitted_month_only():
    assert decide_refusal("submitted") is None
    assert [decide_refusal(state) for state in (None, "returned", "accepted")] == ["open", "returned", "accepted"]


def test_late_is_after_the_end_of_the_due_day_where_the_town_is():
    assert due_date(OCTOBER, 2) == dt.date(2026, 11, 2)
    assert due_date(dt.date(2026, 12, 15), 2) == dt.date(2027, 1, 2)
    assert due_at(OCTOBER, 2, "Asia/Shanghai") == dt.datetime(2026, 11, 3, tzinfo=CHINA)
    assert not is_late(dt.datetime(2026, 11, 2, 23, 59, tzinfo=CHINA), OCTOBER, 2, "Asia/Shanghai")
    assert is_late(dt.datetime(2026, 11, 3, 0, 0, tzinfo=CHINA), OCTOBER, 2, "Asia/Shanghai")
    # 2026-11-02 17:00 UTC is already the 3rd in China.
    assert is_late(dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.timezone.utc), OCTOBER, 2, "Asia/Shanghai")
    assert not is_late(dt.datetime(2026, 11, 4, 12, 0, tzinfo=CHINA), OCTOBER, 5, "Asia/Shanghai")

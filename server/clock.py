"""The server's clock and calendar, in one place so tests can set the clock (the one thing they may fake): the
current instant, and the date and wall time it is where the town is.

The town's time zone is the schedule's `timezone` (TAIZHANG_SCHEDULE_FILE; Asia/Shanghai by default), its one
source. Every date derived from an instant goes through `date_of`: an instant's own `.date()` is the UTC date,
the previous day in China from 00:00 to 08:00.
"""

from __future__ import annotations

import datetime as dt

from server.schedules.current import current_schedule
from sync.periods import local_date, local_time

__all__ = ["now", "timezone", "today", "date_of", "wall_time"]


def now() -> dt.datetime:
    """The current instant, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def timezone() -> str:
    """The town's time zone (an IANA name): the schedule's."""
    return current_schedule().timezone


def date_of(instant: dt.datetime) -> dt.date:
    """The calendar date where the town is at an instant."""
    return local_date(instant, timezone())


def today() -> dt.date:
    """Today's date where the town is: the default as-of date of every computation."""
    return date_of(now())


def wall_time(instant: dt.datetime) -> dt.datetime:
    """An instant as the town's clocks show it (for printing; store and compare instants in UTC)."""
    return local_time(instant, timezone())

"""Calendar arithmetic where the town is: the date and wall time of an instant in a time zone, and the calendar
periods (month, quarter, year) that dates fall in.

An instant (a UTC moment on the server) becomes a date only through `local_date` with the town's time zone: in
China the first eight hours of a day are still the previous day in UTC, so an instant's own `.date()` is wrong
for a third of every day.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sync.errors import BadRequest

__all__ = ["parse_month", "DEFAULT_TIMEZONE", "PERIOD_KINDS", "as_utc", "local_date", "local_time", "Period", "period_of",
           "month_start", "next_month", "month_of", "months_back"]

DEFAULT_TIMEZONE = "Asia/Shanghai"
"""The town's time zone when the schedule file names none."""

PERIOD_KINDS = ("month", "quarter", "year")


def as_utc(moment: dt.datetime) -> dt.datetime:
    """An instant as an aware UTC datetime (a naive one is taken as UTC: SQLite keeps no offset, and the register
    stores instants in UTC)."""
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


@functools.lru_cache(maxsize=65536)
def local_date(instant: dt.datetime, timezone: str) -> dt.date:
    """The calendar day of an instant in a time zone (a naive instant is taken as UTC)."""
    return local_time(instant, timezone).date()


def local_time(instant: dt.datetime, timezone: str) -> dt.datetime:
    """An instant as the wall clock shows it in a time zone (a naive instant is taken as UTC)."""
    return as_utc(instant).astimezone(ZoneInfo(timezone))


@dataclass(frozen=True, order=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date    # the last day, inclusive

    def label(self, language: str = "zh") -> str:
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月" if language == "zh" else f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            quarter = (self.start.month - 1) // 3 + 1
            return f"{self.start.year}年第{quarter}季度" if language == "zh" else f"{self.start.year} Q{quarter}"
        return f"{self.start.year}年" if language == "zh" else str(self.start.year)

    def previous(self) -> Period:
        return period_of(self.kind, self.start - dt.timedelta(days=1))

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@functools.lru_cache(maxsize=1024)
def period_of(kind: str, day: dt.date) -> Period:
    """The calendar month, quarter or year containing a day."""
    if kind == "year":
        return Period(kind, dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))
    months = 1 if kind == "month" else 3
    first_month = (day.month - 1) // months * months + 1
    start = dt.date(day.year, first_month, 1)
    following = dt.date(day.year + (first_month + months > 12), (first_month + months - 1) % 12 + 1, 1)
    return Period(kind, start, following - dt.timedelta(days=1))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    """The first day of the month after the one `month` is in."""
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_of(day: dt.date) -> Period:
    """The calendar month containing a day."""
    return period_of("month", day)


def months_back(month: dt.date, count: int) -> list[Period]:
    """The `count` calendar months up to and including the one containing `month`, oldest first."""
    months = [month_of(month)]
    while len(months) < count:
        months.append(months[-1].previous())
    return months[::-1]


def parse_month(text: str | None) -> dt.date:
    """A month given as YYYY-MM, as its first day (BadRequest otherwise)."""
    try:
        return dt.datetime.strptime(text or "", "%Y-%m").date()
    except ValueError as exc:
        raise BadRequest("month: YYYY-MM") from exc

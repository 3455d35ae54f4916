"""The home pages' figures: schedule flags tallied per area in one pass (asked for and done this month, people
overdue), collectors who have not synced lately, and the bars of the town office's chart.

"Visits asked for this month" are the flags (sync.schedules) still open on the as-of date (due or overdue) and those
done by a visit dated in the month (from its first day to the as-of date); "done" are the latter. A quarterly or
yearly visit already made earlier in its period is asked for in no month but that one; an upcoming or expired
window, or a flag done in an earlier month, is not counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sync.periods import Period
from sync.schedules import Flag

__all__ = ["UnitFigures", "tally_flags", "not_synced_since", "Bar", "bars"]

OPEN_STATUSES = frozenset({"due", "overdue"})


@dataclass
class UnitFigures:
    """One area's (a village's, a town's, a group's) figures from the schedule."""

    asked: int = 0                                       # visits asked for this month (open, or done this month)
    done: int = 0                                        # of them, done by a visit dated this month
    overdue_people: set[str] = field(default_factory=set)

    @property
    def overdue(self) -> int:
        return len(self.overdue_people)


def tally_flags(flags: Iterable[Flag], unit_of: Callable[[str], object | None], month: Period
                ) -> dict[object, UnitFigures]:
    """Each area's figures, in one pass over the flags; `unit_of(person uuid)` names the area a person counts in
    (None: not counted). `month` is the month of the as-of date."""
    figures: dict[object, UnitFigures] = {}
    for flag in flags:
        unit = unit_of(flag.person)
        if unit is None:
            continue
        found = figures.get(unit)
        if found is None:
            found = figures[unit] = UnitFigures()
        if flag.status in OPEN_STATUSES:
            found.asked += 1
            if flag.status == "overdue":
                found.overdue_people.add(flag.person)
        elif flag.status == "done" and flag.last_visit is not None and flag.last_visit in month:
            found.asked += 1
            found.done += 1
    return figures


def not_synced_since(last_sync: dt.datetime | None, now: dt.datetime, days: int) -> bool:
    """Whether a collector last synced (sent a visit) more than `days` days before `now`, or never did."""
    return last_sync is None or now - last_sync > dt.timedelta(days=days)


@dataclass(frozen=True)
class Bar:
    """One row of the chart: the area's label, its figures, and the bars' lengths in chart units."""

    label: str
    asked: int
    done: int
    y: int
    asked_width: float
    done_width: float


def bars(rows: Iterable[tuple[str, int, int]], *, width: float, row_height: int) -> list[Bar]:
    """Horizontal bars of visits asked for and done per area, scaled so the largest figure fills `width`."""
    rows = list(rows)
    largest = max((max(asked, done) for _, asked, done in rows), default=0) or 1
    return [Bar(label, asked, done, index * row_height, round(width * asked / largest, 1),
                round(width * done / largest, 1)) for index, (label, asked, done) in enumerate(rows)]

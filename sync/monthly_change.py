"""The monthly change report's numbers (月变更报告单): per group and calendar month, the people living there at the
start, the month's events, and at the end, as the register stood when the report was produced; events that reached
the server after an earlier month's report are late corrections, shown in the next report instead of silently
changing a printed one.

Counts are of people living in the group (常住): births, moves in, people registered for the first time
(registration of a household, or someone missed before) and people coming back from work away add one; deaths,
moves out and leaving to work away take one away; marriages are counted but change nothing. So for every group

    closing = opening + births + moved_in + registered + returned - deaths - moved_out - left_for_work

and the opening of a month is the closing of the month before as it stands when this report is produced: the
printed closing plus the late corrections listed with this report.

Beneath the counts the report lists each change person by person (`ChangeLine`, `month_changes`): the month's
events as counted, and the moves between households of the group (listed, not counted: they change no group's
head count).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sync.periods import month_start, next_month

__all__ = ["EVENT_KINDS", "LISTED_KINDS", "POPULATION_EFFECT", "ChangeLine", "DatedEvent", "GroupMonth",
           "LateCorrection", "group_months", "late_corrections", "month_changes", "sync_deadline", "synced_in_time"]

EVENT_KINDS = ("birth", "death", "marriage", "moved_in", "moved_out", "left_for_work", "returned", "registered")
"""The report's event columns, in its order."""

POPULATION_EFFECT = {"birth": 1, "moved_in": 1, "registered": 1, "returned": 1, "death": -1, "moved_out": -1,
                     "left_for_work": -1, "marriage": 0}
"""How each event changes the number of people living in the group."""

LISTED_KINDS = (*EVENT_KINDS, "changed_household", "household_split")
"""The events the person-by-person list shows, in this order on a day: the counted ones, then the moves between
households of the group."""


@dataclass(frozen=True)
class DatedEvent:
    group: str          # the group (its full name) of the person's household
    kind: str           # one of EVENT_KINDS (other kinds are ignored)
    day: dt.date        # when it happened
    received: dt.datetime  # when the visit that told it reached the server (aware)


@dataclass(frozen=True)
class GroupMonth:
    group: str
    opening: int
    counts: Mapping[str, int]   # by EVENT_KINDS
    closing: int


@dataclass(frozen=True)
class LateCorrection:
    group: str
    month: dt.date      # the month the events belong to (its first day)
    kind: str
    count: int


@dataclass(frozen=True)
class ChangeLine:
    """One person's change as the list prints it: who, in which household, what, when, and the visit that told it."""

    village: str
    group: str                  # the group (its full name) of the person's household
    kind: str                   # one of LISTED_KINDS (other kinds are left out)
    day: dt.date
    received: dt.datetime       # when the visit reached the server (aware)
    person_name: str
    household_no: str
    head_name: str              # the household head's name ("" when the household has none recorded)
    place: str | None           # a move's destination or origin
    spouse_name: str | None     # a marriage's spouse
    submission_id: int          # the visit (its page: /visits/<id>)
    collector: str              # the collector's name


def month_changes(lines: Iterable[ChangeLine], month: dt.date, produced_at: dt.datetime) -> list[ChangeLine]:
    """The changes dated in `month` that reached the server by `produced_at` (the ones its counts count, plus the
    moves between households), group by group, day by day, household by household, person by person."""
    start, end = month_start(month), next_month(month)
    order = {kind: position for position, kind in enumerate(LISTED_KINDS)}
    return sorted((line for line in lines
                   if line.kind in order and start <= line.day < end and line.received <= produced_at),
                  key=lambda line: (line.group, line.day, line.household_no, line.person_name,
                                    order[line.kind], line.submission_id))


def group_months(events: Iterable[DatedEvent], month: dt.date, produced_at: dt.datetime,
                 groups: Iterable[str] = ()) -> list[GroupMonth]:
    """Each group's numbers for `month` from the events received by `produced_at` (groups without events listed
    too when named in `groups`), in group order."""
    start, end = month_start(month), next_month(month)
    opening: Counter[str] = Counter()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for event in events:
        if event.kind not in POPULATION_EFFECT or event.received > produced_at:
            continue
        if event.day < start:
            opening[event.group] += POPULATION_EFFECT[event.kind]
        elif event.day < end:
            counts[event.group][event.kind] += 1
    result = []
    for group in sorted(set(groups) | set(opening) | set(counts)):
        month_counts = {kind: counts[group][kind] for kind in EVENT_KINDS}
        closing = opening[group] + sum(POPULATION_EFFECT[kind] * count for kind, count in month_counts.items())
        result.append(GroupMonth(group, opening[group], month_counts, closing))
    return result


def late_corrections(events: Iterable[DatedEvent], month: dt.date, previous_report_at: dt.datetime | None,
                     produced_at: dt.datetime) -> list[LateCorrection]:
    """Events of months before `month` that reached the server after the previous report was produced (and by
    this one): what the earlier printed reports did not show."""
    if previous_report_at is None:
        return []
    start = month_start(month)
    late: Counter[tuple[str, dt.date, str]] = Counter(
        (event.group, month_start(event.day), event.kind) for event in events
        if event.kind in POPULATION_EFFECT and event.day < start and previous_report_at < event.received <= produced_at)
    return [LateCorrection(group, month_of, kind, count) for (group, month_of, kind), count in sorted(late.items())]


def sync_deadline(month: dt.date, timezone: str) -> dt.datetime:
    """The end of the 2nd of the next month where the town is: a month's data is due at the town office by then."""
    following = next_month(month)
    return dt.datetime.combine(following.replace(day=3), dt.time(), tzinfo=ZoneInfo(timezone))


def synced_in_time(receipts: Mapping[str, Iterable[dt.datetime]], month: dt.date, timezone: str) -> dict[str, bool]:
    """For each group: did its collector's phone sync at the month's close, that is, did a submission arrive from
    the month's last day to the deadline? (The server cannot see forms left on a phone; a sync in that window is
    the sign that the month's visits were sent.)"""
    last_day = dt.datetime.combine(next_month(month) - dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(timezone))
    deadline = sync_deadline(month, timezone)
    return {group: any(last_day <= at < deadline for at in times) for group, times in receipts.items()}

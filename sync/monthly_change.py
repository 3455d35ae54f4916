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

An event counts in the group the person lived in when it happened (docs/moves.md): a move out in the group left, a
move in in the group arrived in, each group's earlier events staying where they were. A person moving between two
groups of the report's area is one person moving inside it: `moves_within` pairs a move in with the person's move
out before it (both dated in the month), so the area's total counts the move once (moved within), not as one more
in and one more out; each group keeps its own move in or out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sync.periods import month_start, next_month

__all__ = ["EVENT_KINDS", "LISTED_KINDS", "POPULATION_EFFECT", "ChangeLine", "DatedEvent", "GroupMonth",
           "LateCorrection", "group_months", "late_corrections", "month_changes", "move_place", "moves_within",
           "place_name", "sync_deadline", "synced_in_time"]

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
    group: str          # the group (its full name) the person lived in when it happened
    kind: str           # one of EVENT_KINDS (other kinds are ignored)
    day: dt.date        # when it happened
    received: dt.datetime  # when the visit that told it reached the server (aware)
    person: str = ""    # whose (pairs a move in with the move out before it)
    seq: int = 0        # the order of a person's events of one day (the event's id)


@dataclass(frozen=True)
class GroupMonth:
    group: str
    opening: int
    counts: Mapping[str, int]   # by EVENT_KINDS
    closing: int
    moved_within: int = 0       # of its moves out, people who arrived in another group of the area in the month


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
    group: str                  # the group (its full name) the person lived in when it happened
    kind: str                   # one of LISTED_KINDS (other kinds are left out)
    day: dt.date
    received: dt.datetime       # when the visit reached the server (aware)
    person_name: str
    household_no: str
    head_name: str              # the household head's name ("" when the household has none recorded)
    place: str | None           # a move's destination or origin, by name
    spouse_name: str | None     # a marriage's spouse
    submission_id: int | None   # the visit (its page: /visits/<id>); None: entered on the web (a decision)
    collector: str              # the collector's name (or, entered on the web, the staff member's)


def place_name(full_name: str) -> str:
    """A village or town of the register as a move's other end is named: its names run together, as an address is
    written (青山镇/西村 → 青山镇西村)."""
    return full_name.replace("/", "")


def move_place(kind: str, place: str | None, destination: str | None = None,
               left_group: str | None = None) -> str | None:
    """Where a move went or came from, by name: a move out's `destination` (the full name of a village or town of
    the register) else the place as written; a move in's village the person left (`left_group`: the full name of
    the group of their move out before it) else the origin as written; any other event's place as written."""
    if kind == "moved_out" and destination:
        return place_name(destination)
    if kind == "moved_in" and left_group:
        return place_name(left_group.rsplit("/", 1)[0])
    return place or None


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
    groups = set(groups)
    within = moves_within(events, month, produced_at, groups) if groups else Counter()
    result = []
    for group in sorted(groups | set(opening) | set(counts)):
        month_counts = {kind: counts[group][kind] for kind in EVENT_KINDS}
        closing = opening[group] + sum(POPULATION_EFFECT[kind] * count for kind, count in month_counts.items())
        result.append(GroupMonth(group, opening[group], month_counts, closing, within[group]))
    return result


def moves_within(events: Iterable[DatedEvent], month: dt.date, produced_at: dt.datetime,
                 area_groups: Collection[str]) -> Counter[str]:
    """People who moved between two groups of an area in `month`, by the group they left: a move in to one of
    `area_groups` (all of the area's) paired with the same person's move out before it (their latest, in day and
    event order) from another of them, both dated in the month and received by `produced_at`."""
    start, end = month_start(month), next_month(month)
    moves = sorted((event for event in events if event.kind in ("moved_in", "moved_out") and event.person
                    and event.received <= produced_at), key=lambda event: (event.person, event.day, event.seq))
    found: Counter[str] = Counter()
    left: DatedEvent | None = None
    for event in moves:
        if left is not None and left.person != event.person:
            left = None
        if event.kind == "moved_out":
            left = event
            continue
        if (left is not None and start <= left.day and event.day < end and left.group != event.group
                and left.group in area_groups and event.group in area_groups):
            found[left.group] += 1
        left = None
    return found


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

"""Visit coverage arithmetic for the coverage report: what became of the visits due in a period (on time, late,
overdue, still open), judged on an as-of date, per person, per group for a month, and as monthly rates.

A visit is due in a period when its deadline falls in it: a tier period's last day, an event window's
`overdue_after_day`. Everything here is pure: the same inputs and `as_of` give the same figures on any day.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from sync.periods import Period, month_of, months_back, period_of
from sync.schedules import PersonSchedule, Schedule

__all__ = ["OUTCOMES", "period_outcomes", "Outcomes", "outcomes_in", "outcomes_by_group", "monthly_rates"]

OUTCOMES = ("on_time", "late", "overdue", "open")

Group = TypeVar("Group", bound=Hashable)


def period_outcomes(person: PersonSchedule, schedule: Schedule, start: dt.date, end: dt.date,
                    as_of: dt.date) -> list[tuple[str, str]]:
    """What became of each visit a person was due whose deadline fell in [start, end], judged on `as_of`:
    (rule code, outcome) with outcome on_time (a qualifying visit by the deadline), late (after it, while the
    visit was still asked for), overdue (none, and the deadline has passed) or open (none yet, deadline ahead).

    A tier period's deadline is its last day (a visit after it belongs to the next period, so a tier visit is
    never late); an event window's deadline is `overdue_after_day`, and a visit up to `expires_after_day` is late.
    People who died or moved away before the deadline are not due."""
    outcomes = []
    ended = person.active_until
    for rule in schedule.tiers:
        period = period_of(rule.period, end)
        while period.end >= start:
            if start <= period.end <= end and person.tier_on(period.start) == rule.tier and (
                    ended is None or ended > period.end):
                visited = any(period.start <= visit.day <= min(period.end, as_of) for visit in person.visits
                              if visit.followup_type is None or visit.followup_type == rule.code)
                outcomes.append((rule.code, "on_time" if visited else "overdue" if as_of > period.end else "open"))
            period = period.previous()
    for rule in schedule.events:
        for anchor in sorted(set(person.anchors)):
            due_by = anchor.day + dt.timedelta(days=rule.overdue_after_day)
            if anchor.kind != rule.anchor or not start <= due_by <= end or (ended is not None and ended <= due_by):
                continue
            expires = anchor.day + dt.timedelta(days=rule.expires_after_day)
            days = [visit.day for visit in person.visits
                    if visit.followup_type == rule.code and anchor.day <= visit.day <= min(expires, as_of)]
            outcome = ("on_time" if any(day <= due_by for day in days) else "late" if days
                       else "overdue" if as_of > due_by else "open")
            outcomes.append((rule.code, outcome))
    return outcomes


@dataclass(frozen=True)
class Outcomes:
    """How many of the visits due in a period ended each way, as of a date."""

    on_time: int = 0
    late: int = 0
    overdue: int = 0
    open: int = 0       # deadline still ahead: not yet counted as due

    @property
    def due(self) -> int:
        """The visits whose deadline has passed or that were done: on time + late + overdue."""
        return self.on_time + self.late + self.overdue

    @property
    def rate(self) -> float | None:
        """The follow-up rate, (on time + late) ÷ due; None when nothing was due."""
        return (self.on_time + self.late) / self.due if self.due else None


def outcomes_in(people: Iterable[PersonSchedule], schedule: Schedule, period: Period, as_of: dt.date) -> Outcomes:
    """What became of the people's visits due in a period (deadline in it), judged on `as_of`."""
    return Outcomes(**Counter(outcome for person in people
                              for _rule, outcome in period_outcomes(person, schedule, period.start, period.end, as_of)))


def outcomes_by_group(people: Iterable[PersonSchedule], schedule: Schedule, month: dt.date, as_of: dt.date,
                      group_of: Mapping[str, Group], groups: Iterable[Group]) -> dict[Group, Outcomes]:
    """What became of the visits due in the calendar month containing `month`, judged on `as_of`, per group
    (`group_of`: person uuid → group); every group of `groups` is listed, with zeros when nothing was due."""
    members: dict[Group, list[PersonSchedule]] = defaultdict(list)
    for person in people:
        members[group_of[person.person]].append(person)
    period = month_of(month)
    return {group: outcomes_in(members.get(group, ()), schedule, period, as_of) for group in groups}


def monthly_rates(people: Collection[PersonSchedule], schedule: Schedule, month: dt.date, as_of: dt.date, *,
                  months: int = 12) -> list[tuple[Period, float | None]]:
    """The follow-up rate of the visits due in each of the `months` calendar months up to and including the one
    containing `month`, judged on `as_of`, oldest first (None for a month when nothing was due)."""
    return [(period, outcomes_in(people, schedule, period, as_of).rate) for period in months_back(month, months)]

"""The indicators the town is judged on (随访率, 及时率, 录入率, 准确率, 月报及时率, service counts), defined once: the
registry `INDICATORS`, the tally of counts they are read from, and the arithmetic from tallies per area to values (pure).

An indicator is one entry of `INDICATORS`, answering the same questions as every other: its code, its label in
Chinese and English, its unit (a rate or a count), its formula in words, how its numerator and denominator are read
from a `Tally`, and the levels of area it applies to. The server tallies counts per group (per village for the
monthly reports) for a period; the tallies of an area are added up the tree (numerators and denominators, never
rates); values are read from the sums. A rate whose denominator is zero has no data: never 0% nor 100%.

docs/indicators.md gives each indicator's period rule and a worked example.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from sync.coverage import Outcomes
from sync.errors import PeriodInvalid
from sync.periods import Period, next_month, period_of
from sync.schedules import Schedule
from sync.service_counts import ItemRow, service_counts

__all__ = ["LEVELS", "UNITS", "Tally", "Value", "Indicator", "INDICATORS", "KEY_INDICATORS", "indicator_named",
           "values_of", "total_of", "roll_up", "followup_tally", "report_due_date", "ReportMonth", "report_tallies",
           "ServiceItem", "service_tallies", "months_in", "VisitWindow", "visit_window", "parse_period",
           "period_code"]

LEVELS = ("group", "village", "town", "county")
"""The levels of area indicators are computed for, smallest first."""

UNITS = ("rate", "count")

ALL_LEVELS = frozenset(LEVELS)

Unit = TypeVar("Unit", bound=Hashable)


@dataclass(frozen=True)
class Tally:
    """The counts of one area (a group; a village for the monthly reports) for a period, and of any sum of areas.

    on_time, late, overdue: the visits due in the period (deadline in it) and what became of them (sync.coverage);
    swept, swept_on_register: people found on the period's sweeps (completed household visits), and of them those
    already on the register before the visit; recheck_found, recheck_found_on_register: people the period's
    re-checks found, and of them those on the register; rechecked, correct: people re-checked, and of them those
    found correct; reports_due, reports_on_time: villages' monthly reports due (due day passed), and of them those
    first submitted by the due day; supplies: quantity handed out on request, by item code; referrals made and
    closed; support requests received, and of them those decided."""

    on_time: int = 0
    late: int = 0
    overdue: int = 0
    swept: int = 0
    swept_on_register: int = 0
    recheck_found: int = 0
    recheck_found_on_register: int = 0
    rechecked: int = 0
    correct: int = 0
    reports_due: int = 0
    reports_on_time: int = 0
    supplies: Mapping[str, int] = field(default_factory=dict)
    referrals_made: int = 0
    referrals_closed: int = 0
    requests_received: int = 0
    requests_decided: int = 0

    def __add__(self, other: Tally) -> Tally:
        return total_of((self, other))

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.overdue

    @property
    def found(self) -> int:
        """People found on sweeps and re-checks (录入率's denominator)."""
        return self.swept + self.recheck_found

    @property
    def found_on_register(self) -> int:
        return self.swept_on_register + self.recheck_found_on_register

    @property
    def supplies_given(self) -> int:
        return sum(self.supplies.values())


@dataclass(frozen=True)
class Value:
    """An indicator's value for an area: a rate's numerator and denominator (a count's number in `numerator`,
    `denominator` None); `applies` False where the indicator does not apply to the area's level."""

    numerator: int = 0
    denominator: int | None = None
    applies: bool = True

    @property
    def rate(self) -> float | None:
        """numerator ÷ denominator; None for a count, no data (a zero denominator) or not applicable."""
        if not self.applies or not self.denominator:
            return None
        return self.numerator / self.denominator

    @property
    def no_data(self) -> bool:
        """A rate with nothing to count (a zero denominator)."""
        return self.applies and self.denominator == 0

    @property
    def count(self) -> int | None:
        return self.numerator if self.applies and self.denominator is None else None

    def percent(self, digits: int = 1) -> str | None:
        """The rate as a percentage, e.g. "93.5%" (None when there is no rate)."""
        rate = self.rate
        return None if rate is None else f"{rate * 100:.{digits}f}%"


@dataclass(frozen=True)
class Indicator:
    """One indicator: what it is called, what it counts, how it is read from a tally, where it applies."""

    code: str
    label_zh: str
    label_en: str
    unit: str                                   # rate or count
    formula_zh: str
    formula_en: str
    numerator: Callable[[Tally], int]
    denominator: Callable[[Tally], int] | None = None     # None for a count
    levels: frozenset[str] = ALL_LEVELS         # the levels of area it applies to

    def label(self, language: str) -> str:
        return self.label_zh if language == "zh" else self.label_en

    def formula(self, language: str) -> str:
        return self.formula_zh if language == "zh" else self.formula_en

    def value(self, tally: Tally, level: str) -> Value:
        if level not in self.levels:
            return Value(applies=False)
        return Value(self.numerator(tally), self.denominator(tally) if self.denominator else None)


INDICATORS: dict[str, Indicator] = {indicator.code: indicator for indicator in (
    Indicator("followup_rate", "随访率", "Follow-up rate", "rate",
              "期内到期的访视中已完成的（按时＋逾期后补做）÷ 期内到期的访视",
              "visits due in the period (deadline in it) that were done, on time or late ÷ visits due",
              lambda tally: tally.on_time + tally.late, lambda tally: tally.due),
    Indicator("on_time_rate", "及时率", "On-time rate", "rate",
              "期内到期的访视中按时完成的 ÷ 期内到期的访视",
              "visits due in the period done by their deadline ÷ visits due",
              lambda tally: tally.on_time, lambda tally: tally.due),
    Indicator("entry_rate", "录入率", "Register entry rate", "rate",
              "入户走访和复核发现的人中已在台账上的 ÷ 入户走访和复核发现的人",
              "people found on sweeps and re-checks who were on the register ÷ people found",
              lambda tally: tally.found_on_register, lambda tally: tally.found),
    Indicator("accuracy", "准确率", "Accuracy", "rate",
              "复核正确的人 ÷ 复核的人", "people correct on re-check ÷ people re-checked",
              lambda tally: tally.correct, lambda tally: tally.rechecked),
    Indicator("report_timeliness", "月报及时率", "Monthly report timeliness", "rate",
              "按期（截止日前）首次上报的村月报 ÷ 已到截止日的村月报",
              "villages' monthly reports first submitted by the due day ÷ reports whose due day has passed",
              lambda tally: tally.reports_on_time, lambda tally: tally.reports_due,
              levels=frozenset({"village", "town", "county"})),
    Indicator("supplies_given", "药具发放数量", "Supplies given", "count",
              "期内走访按本人要求发放的药具数量（按品种）", "quantity of supplies handed out on request on visits "
              "dated in the period (by item)",
              lambda tally: tally.supplies_given),
    Indicator("referrals_made", "转介", "Referrals made", "count",
              "期内走访提出的转介", "referrals made on visits dated in the period",
              lambda tally: tally.referrals_made),
    Indicator("referrals_closed", "转介结案", "Referrals closed", "count",
              "期内记录结果（已就诊或拒绝）的转介", "referrals whose closing result (attended, declined) was recorded "
              "in the period",
              lambda tally: tally.referrals_closed),
    Indicator("requests_received", "扶助需求", "Support requests", "count",
              "期内走访收到的扶助与关爱需求", "support requests recorded on visits dated in the period",
              lambda tally: tally.requests_received),
    Indicator("requests_decided", "扶助需求已处理", "Support requests decided", "count",
              "期内收到的需求中已有处理结果的", "of the period's support requests, those with an outcome recorded",
              lambda tally: tally.requests_decided),
)}

KEY_INDICATORS = ("followup_rate", "on_time_rate", "entry_rate", "accuracy", "report_timeliness")
"""The indicators the dashboards show, in their order."""


def indicator_named(code: str) -> Indicator | None:
    return INDICATORS.get(code)


def values_of(tally: Tally, level: str) -> dict[str, Value]:
    """Every indicator's value for an area of a level, from its tally, in the registry's order."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    return {code: indicator.value(tally, level) for code, indicator in INDICATORS.items()}


_COUNTS = tuple(name.name for name in dataclasses.fields(Tally) if name.name != "supplies")


def total_of(tallies: Iterable[Tally]) -> Tally:
    """The tallies added up in one pass (a county's thousands of groups: no Tally made per addition); supplies by
    item code, as Counter addition keeps them (positive quantities only)."""
    sums = dict.fromkeys(_COUNTS, 0)
    supplies: Counter = Counter()
    for tally in tallies:
        for name in _COUNTS:
            sums[name] += getattr(tally, name)
        supplies.update(tally.supplies)
    return Tally(**sums, supplies={code: quantity for code, quantity in supplies.items() if quantity > 0})


def roll_up(tallies: Mapping[Hashable, Tally], unit_of: Callable[[Hashable], Unit | None]) -> dict[Unit, Tally]:
    """The tallies added up per unit (`unit_of(key)`: the village, town … a group or village counts in; None: not
    counted): numerators and denominators are added, never rates."""
    members: dict = defaultdict(list)
    for key, tally in tallies.items():
        unit = unit_of(key)
        if unit is not None:
            members[unit].append(tally)
    return {unit: total_of(found) for unit, found in members.items()}


def followup_tally(outcomes: Outcomes) -> Tally:
    """The visits due in a period and what became of them (sync.coverage.outcomes_in): open ones are not due yet."""
    return Tally(on_time=outcomes.on_time, late=outcomes.late, overdue=outcomes.overdue)


@dataclass(frozen=True)
class VisitWindow:
    """The visits that can decide what became of the visits due in a period (sync.coverage.period_outcomes): household
    visits dated in the tier periods that end in it (up to the as-of date), and follow-ups from the earliest of
    those periods, or of the event windows whose deadline falls in it, up to the as-of date."""

    household_since: dt.date
    household_until: dt.date
    followup_since: dt.date
    followup_until: dt.date


def visit_window(schedule: Schedule, period: Period, as_of: dt.date) -> VisitWindow:
    """Which visits to read for the visits due in `period`, judged on `as_of`: those outside the window change
    nothing period_outcomes counts (a tier visit counts only inside its own period; an event's visits only from
    its anchor, which lies at most `overdue_after_day` days before a deadline in the period)."""
    tier_since = period.start
    for rule in schedule.tiers:
        earlier = period_of(rule.period, period.end)
        while earlier.end >= period.start:
            if earlier.end <= period.end:
                tier_since = min(tier_since, earlier.start)
            earlier = earlier.previous()
    event_since = min((period.start - dt.timedelta(days=rule.overdue_after_day) for rule in schedule.events),
                      default=period.start)
    until = min(period.end, as_of)
    return VisitWindow(tier_since, until, min(tier_since, event_since), as_of)


# ---- 月报及时率 ------------------------------------------------------------------------------------------------------

def report_due_date(month: dt.date, due_day: int) -> dt.date:
    """The last day a month's report is on time: the `due_day`th of the next month (2: the 2nd)."""
    return next_month(month).replace(day=due_day)


def months_in(period: Period) -> list[dt.date]:
    """The first days of the calendar months of a period, oldest first."""
    months, month = [], period.start.replace(day=1)
    while month <= period.end:
        months.append(month)
        month = next_month(month)
    return months


@dataclass(frozen=True)
class ReportMonth:
    """A village's month that was submitted: whether its first submission came after the due day."""

    village: Hashable
    month: dt.date             # the month's first day
    late: bool


def report_tallies(villages: Iterable[Unit], submitted: Iterable[ReportMonth], period: Period, as_of: dt.date,
                   due_day: int) -> dict[Unit, Tally]:
    """Each village's monthly reports of the months in the period whose due day has passed by `as_of` (the due
    day itself still being on time): due, and first submitted by the due day. A month never submitted counts as
    not on time; a month submitted but not yet past its due day is not counted yet."""
    late = {(row.village, row.month): row.late for row in submitted}
    due_months = [month for month in months_in(period) if report_due_date(month, due_day) < as_of]
    return {village: Tally(reports_due=len(due_months),
                           reports_on_time=sum(late.get((village, month)) is False for month in due_months))
            for village in villages}


# ---- service counts ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServiceItem:
    """A service item as the indicators count it: the area it counts in (`item.village`: a group), and for a
    support request whether an outcome has been recorded."""

    item: ItemRow
    decided: bool = False


def service_tallies(items: Iterable[ServiceItem], period: Period) -> dict[Hashable, Tally]:
    """Each area's service counts for a period, from the service record's monthly counts (sync.service_counts,
    month by month): supplies handed out (quantity, by item; odd quantities left out), referrals made on visits
    dated in the period, referrals closed in the period (a closing result recorded in it, whenever made), support
    requests recorded on visits dated in the period and of them those decided (an outcome recorded, as of now)."""
    items = list(items)
    tallies: dict[Hashable, Tally] = {}
    for month in months_in(period):
        for area, counts in service_counts((), [row.item for row in items], month).items():
            tally = Tally(supplies={code: supply.quantity for code, supply in counts.supplies_given.items()
                                    if supply.quantity},
                          referrals_made=counts.referrals_made, referrals_closed=sum(counts.referrals_closed.values()),
                          requests_received=sum(counts.requests.values()))
            tallies[area] = tallies[area] + tally if area in tallies else tally
    for row in items:
        if row.item.kind == "support_request" and row.decided and row.item.day is not None and row.item.day in period:
            tallies[row.item.village] = tallies.get(row.item.village, Tally()) + Tally(requests_decided=1)
    return tallies


# ---- periods ------------------------------------------------------------------------------------------------------------

_PERIOD = re.compile(r"(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|[Qq](?P<quarter>[1-4])))?")


def parse_period(text: str | None) -> Period:
    """A period as written in an address: 2026-11 (a month), 2026-Q4 (a quarter), 2026 (a year)."""
    found = _PERIOD.fullmatch((text or "").strip())
    if found is None:
        raise PeriodInvalid(f"{text!r}")
    year = int(found["year"])
    if not 1900 <= year <= 2199:
        raise PeriodInvalid(f"{text!r}")
    if found["month"]:
        month = int(found["month"])
        if not 1 <= month <= 12:
            raise PeriodInvalid(f"{text!r}")
        return period_of("month", dt.date(year, month, 1))
    if found["quarter"]:
        return period_of("quarter", dt.date(year, (int(found["quarter"]) - 1) * 3 + 1, 1))
    return period_of("year", dt.date(year, 1, 1))


def period_code(period: Period) -> str:
    """A period as parse_period reads it: 2026-11, 2026-Q4, 2026."""
    if period.kind == "month":
        return f"{period.start:%Y-%m}"
    if period.kind == "quarter":
        return f"{period.start.year}-Q{(period.start.month - 1) // 3 + 1}"
    return str(period.start.year)

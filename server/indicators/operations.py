"""The indicators of an area for a period (sync/indicators.py): its child units' rows and its own total, each with
every indicator's value, numerator and denominator, counted per group and added up the tree."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass

from flask import current_app

from server import clock
from server.areas.operations import staff_area
from server.forms.queries import form_labels
from server.indicators import queries
from server.indicators.queries import AreaRow
from server.principal import Principal
from server.rechecks.queries import recheck_counts
from server.schedules.counted import counted
from server.schedules.current import current_schedule
from server.schedules.queries import end_dates
from server.services.queries import items_in
from sync.access import STAFF_ROLES
from sync.code_labels import code_label
from sync.coverage import outcomes_in
from sync.errors import Forbidden
from sync.indicators import (
    LEVELS,
    ServiceItem,
    Tally,
    Value,
    followup_tally,
    report_tallies,
    roll_up,
    service_tallies,
    total_of,
    values_of,
    visit_window,
)
from sync.periods import Period
from sync.schedules import Anchor, PersonSchedule, Schedule, VisitDone, tiers_from
from sync.service_counts import ItemRow
from sync.services import SUPPLY_ITEMS

__all__ = ["IndicatorRow", "IndicatorTable", "SupplyItem", "area_indicators", "group_tallies", "period_schedules",
           "REFUSAL"]

REFUSAL = "indicators are for village cadres and the town office"

# An area's kind → the kind of its child units on the table (a group has none).
_CHILD_KIND = {None: "town", "town": "village", "village": "group", "group": None}
_LEVEL = {None: "county", "town": "town", "village": "village", "group": "group"}
# The forms whose words name the supply items (the first that knows the code wins).
_SUPPLY_FORMS = ("household_visit", "followup")


@dataclass(frozen=True)
class IndicatorRow:
    """One area's tally and every indicator's value (sync.indicators.INDICATORS' order); `area` None: the county."""

    area: AreaRow | None
    level: str                       # group, village, town or county
    tally: Tally
    values: dict[str, Value]

    @property
    def full_name(self) -> str | None:
        return self.area.full_name if self.area is not None else None


@dataclass(frozen=True)
class SupplyItem:
    """A supply item handed out in the area in the period, in the forms' words."""

    code: str
    label_zh: str
    label_en: str

    def label(self, language: str) -> str:
        return self.label_zh if language == "zh" else self.label_en


@dataclass(frozen=True)
class IndicatorTable:
    """An area's indicators for a period: a row per child unit (a town's villages, a village's groups, the
    county's towns; a group has none) and the area's own total."""

    area: AreaRow | None             # None: the county
    level: str                       # the area's level
    unit_level: str | None           # the rows' level (None: a group, no rows)
    period: Period
    as_of: dt.date                   # what was due and done is judged on this day
    rows: list[IndicatorRow]
    total: IndicatorRow
    supply_items: list[SupplyItem]   # the items handed out in the area in the period, in the forms' order
    counted_at: dt.datetime          # when the schedule's figures were counted (server.schedules.counted)
    fresh: bool                      # False: the register changed since, they are being counted again


def area_indicators(principal: Principal, area_full_name: str | None, period: Period, *,
                    as_of: dt.date | None = None) -> IndicatorTable:
    """The indicators of an area (the principal's own when None: the county for a county administrator) for a
    period, judged on `as_of` (default today): one row per child unit and the area's total. Staff only, inside
    their own area (another area: Forbidden; none such: NotFound). Only aggregates leave: not audited."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden(REFUSAL)
    if area_full_name:
        found = staff_area(principal, area_full_name, refusal=REFUSAL)
        area = AreaRow(found.id, found.kind, found.parent_id, found.path, found.full_name)
    elif principal.area_path is not None:
        area = queries.area_by_path(principal.area_path)
        if area is None:
            raise Forbidden(REFUSAL)
    else:
        area = None
    as_of = as_of or clock.today()
    path = area.path if area is not None else None
    areas = queries.areas_under(path)
    by_id = {row.id: row for row in areas}
    kind = area.kind if area is not None else None
    unit_kind = _CHILD_KIND[kind]
    tallies, counted_at, fresh = _tallies(path, period, as_of, areas)

    def ancestor(area_id: Hashable, wanted: str | None) -> int | None:
        """The area of kind `wanted` an area lies in (itself included)."""
        row = by_id.get(area_id)
        while row is not None and row.kind != wanted:
            row = by_id.get(row.parent_id)
        return row.id if row is not None else None

    units = [row for row in areas if row.kind == unit_kind] if unit_kind else []
    sums = roll_up(tallies, lambda area_id: ancestor(area_id, unit_kind)) if unit_kind else {}
    rows = [IndicatorRow(unit, unit_kind, sums.get(unit.id, Tally()), values_of(sums.get(unit.id, Tally()), unit_kind))
            for unit in units]
    total_tally = total_of(tallies.values())
    level = _LEVEL[kind]
    total = IndicatorRow(area, level, total_tally, values_of(total_tally, level))
    return IndicatorTable(area, level, unit_kind, period, as_of, rows, total, _supply_items(total_tally), counted_at,
                          fresh)


def _tallies(path: str | None, period: Period, as_of: dt.date, areas: list[AreaRow]
             ) -> tuple[dict[int, Tally], dt.datetime, bool]:
    """Every group's tally of an area for the period (and every village's, for its monthly reports): what the
    register gives as last counted (kept while it is unchanged: server.schedules.counted), re-checks and month
    sign-offs as they are now."""
    schedule = current_schedule()
    kept = counted(("indicators", path, period, as_of, schedule),
                   functools.partial(group_tallies, path, period, as_of, schedule))
    tallies: dict[int, Tally] = defaultdict(Tally, kept.value)
    for group, counts in recheck_counts(path, period.start, period.end).items():
        tallies[group] += Tally(rechecked=counts.rechecked, correct=counts.correct, recheck_found=counts.found,
                                recheck_found_on_register=counts.found_on_register)
    due_day = current_app.config.get("TAIZHANG_REPORT_DUE_DAY", 2)
    villages = [row.id for row in areas if row.kind == "village"]
    submitted = queries.report_months(path, period.start, period.end)
    for village, tally in report_tallies(villages, submitted, period, as_of, due_day).items():
        tallies[village] += tally
    return dict(tallies), kept.counted_at, kept.fresh


def group_tallies(path: str | None, period: Period, as_of: dt.date, schedule: Schedule) -> dict[int, Tally]:
    """Every group's tally from the register (the schedule's visits due and done, the sweeps, the service record):
    the part that takes seconds for a town."""
    tallies: dict[int, Tally] = defaultdict(Tally)
    for group, scheduled in period_schedules(path, schedule, period, as_of).items():
        tallies[group] += followup_tally(outcomes_in(scheduled, schedule, period, as_of))
    for group, (swept, on_register) in queries.sweeps_by_group(path, period.start, period.end).items():
        tallies[group] += Tally(swept=swept, swept_on_register=on_register)
    placed = [*items_in(path, ("supply", "support_request"), since=period.start, until=period.end),
              *items_in(path, ("referral",), until=period.end)]
    items = [ServiceItem(ItemRow(item.group_id, item.item.kind, item.item.code, item.visit_date,
                                 quantity=item.item.quantity, given=item.item.given, problems=item.item.problems,
                                 result=item.state.result,
                                 result_on=clock.date_of(item.state.result_at) if item.state.result_at else None),
                         decided=bool(item.state.support.get("outcome")))
             for item in placed if item.group_id is not None]
    for group, tally in service_tallies(items, period).items():
        tallies[group] += tally
    return dict(tallies)


def period_schedules(path: str | None, schedule: Schedule, period: Period, as_of: dt.date
                     ) -> dict[int, list[PersonSchedule]]:
    """What sync.coverage needs to judge the visits due in a period, per group: the people of the area with a tier
    (ever) or an anchor event, each with their tier history, anchors, end, and only the visits that can count for
    the period (sync.indicators.visit_window): what server.schedules.operations.person_schedules gives for every
    flag, read for one period (a county's month in seconds, not a year of visits)."""
    tiers: dict[str, list] = defaultdict(list)
    anchors: dict[str, list[Anchor]] = defaultdict(list)
    where: dict[str, tuple[str, int]] = {}
    ended: set[str] = set()
    for row in queries.tier_changes(path):
        tiers[row.person].append((row.at, row.value))
        where[row.person] = (row.household, row.group_id)
        if row.ended:
            ended.add(row.person)
    for row in queries.anchors(path):
        anchors[row.person].append(Anchor(row.value, row.at))
        where[row.person] = (row.household, row.group_id)
        if row.ended:
            ended.add(row.person)
    household_visits, followups = queries.visits_in_window(path, visit_window(schedule, period, as_of))
    by_household: dict[str, list[VisitDone]] = defaultdict(list)
    for household, day in household_visits:
        by_household[household].append(VisitDone(day))
    by_person: dict[str, list[VisitDone]] = defaultdict(list)
    for person, day, kind in followups:
        if person in where:
            by_person[person].append(VisitDone(day, kind))
    ends = end_dates(ended)
    members: dict[int, list[PersonSchedule]] = defaultdict(list)
    none: tuple = ()
    for person, (household, group) in where.items():
        visits = by_household.get(household, none)
        if person in by_person:
            visits = [*visits, *by_person[person]]
        members[group].append(PersonSchedule(
            person, tiers_from(tiers.get(person, none), schedule.timezone), tuple(visits),
            tuple(anchors.get(person, none)), ends.get(person, dt.date.min) if person in ended else None))
    return dict(members)


def _supply_items(total: Tally) -> list[SupplyItem]:
    """The items handed out, in the forms' order (the list's), then any other code, each in the forms' words."""
    forms = [form_labels(form, None) for form in _SUPPLY_FORMS]
    ordered = [*SUPPLY_ITEMS, *sorted(set(total.supplies) - set(SUPPLY_ITEMS))]
    found = []
    for code in ordered:
        if total.supplies.get(code):
            words = {language: next((label for label in (code_label("supply_item", code, language, form)
                                                         for form in forms) if label),
                                    "其他药具" if language == "zh" else "Other item")
                     for language in ("zh", "en")}
            found.append(SupplyItem(code, words["zh"], words["en"]))
    return found


assert set(_LEVEL.values()) == set(LEVELS)

"""The town office's reports from the register: monthly change report (with its changes person by person and the
month's service counts), visit coverage, register export; for the requester's own area only, each one audited (and
the monthly report's run kept, for the next report's late corrections)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import BinaryIO

from reports.coverage import CoverageReport, CoverageRow, MonthlyRate, OverdueItem, build_coverage_report
from reports.monthly_change import (
    GroupChanges,
    LateCorrection,
    MonthlyChangeReport,
    PersonChange,
    VillageSync,
    build_monthly_change_report,
)
from reports.register_export import GroupRows, PersonRow, build_register_export
from reports.workbook import group_sheet_names
from server import clock
from server.areas.models import Area
from server.areas.operations import staff_area
from server.audit import queries as audit
from server.exports import queries
from server.forms.queries import form_labels
from server.principal import Principal
from server.schedules.operations import collector_paused, current_schedule, person_schedules
from server.services.queries import items_in
from sync.access import STAFF_ROLES
from sync.coverage import monthly_rates, outcomes_by_group
from sync.errors import Forbidden
from sync.monthly_change import (
    ChangeLine,
    DatedEvent,
    group_months,
    late_corrections,
    month_changes,
    sync_deadline,
    synced_in_time,
)
from sync.periods import month_of, month_start, next_month
from sync.privacy import MASKED_FIELDS, export_action, export_reason
from sync.schedules import flags_for
from sync.service_counts import (
    ChoiceWords,
    ItemRow,
    ServiceCounts,
    SummaryTable,
    VisitRow,
    service_counts,
    summary_tables,
)

__all__ = ["COUNTY", "MonthCounts", "ProducedReport", "month_counts", "monthly_change_report", "produce_monthly_change",
           "coverage_report", "register_export", "village_service_counts"]

# sync.monthly_change's event kinds → the report's columns (and the list's other changes, named alike).
_COLUMNS = {"birth": "births", "death": "deaths", "marriage": "marriages", "moved_in": "moved_in",
            "moved_out": "moved_out", "left_for_work": "left_to_work", "returned": "returned",
            "registered": "registered", "changed_household": "changed_household",
            "household_split": "household_split"}
# The forms whose current versions' words label the service counts (the first that has a choice list wins).
_SERVICE_FORMS = ("followup", "household_visit")


def _area_name(full_name: str) -> str:
    """An area as a report's title names it: 青山镇 › 东村 (as the pages do, server.templating.area_name)."""
    return full_name.replace("/", " › ")


_REFUSAL = "reports are for village cadres and the town office"
COUNTY = "全县"
"""The name the county's monthly change report is asked for by (the county has no area of its own): its summary by
town, for those who read the whole county."""


@dataclass(frozen=True)
class _WholeCounty:
    """The county as a report's area: every group of this server."""

    id: None = None
    path: str = "/"
    full_name: str = COUNTY


def _area(principal: Principal, full_name: str):
    return staff_area(principal, full_name, refusal=_REFUSAL)


def _report_area(principal: Principal, full_name: str):
    """A monthly change report's area: a town or village of the reader's, or the county for one who reads all of
    it (anyone else asking for the county: Forbidden)."""
    if full_name != COUNTY:
        return _area(principal, full_name)
    if principal.role not in STAFF_ROLES:
        raise Forbidden(_REFUSAL)
    if principal.area_path is not None:
        raise Forbidden("the county's report is for the county")
    return _WholeCounty()


@dataclass(frozen=True)
class MonthCounts:
    """A monthly change report's counts: each group's month, and the late corrections of earlier months."""

    groups: tuple[GroupChanges, ...]
    late_corrections: tuple[LateCorrection, ...]


@dataclass(frozen=True)
class ProducedReport:
    """A monthly change report as produced: its workbook's bytes and what it shows."""

    content: bytes
    report: MonthlyChangeReport


def month_counts(area: Area | _WholeCounty, month: dt.date, produced_at: dt.datetime) -> MonthCounts:
    """The counts of an area's monthly change report for a calendar month as the register stands at `produced_at`
    (per group: opening, the month's events, closing, the moves out that arrived in another group of the area; the
    late corrections since the previous month's report). Each event counts in the group the person lived in when
    it happened. Only figures; the caller has checked that the area is the reader's."""
    month = month_start(month)
    rows = queries.dated_events(area.path)
    groups = queries.groups_in(area.path)
    if isinstance(area, _WholeCounty):      # the county's summary: by town
        village_of = {group: group.split("/")[0] for group in {row.group for row in rows} | {n.group for n in groups}}
    else:
        village_of = {row.group: row.village for row in rows}
        village_of.update({named.group: named.village for named in groups})
    own_name = {named.group: named.name for named in groups}        # a full name → what the report shows
    events = [DatedEvent(row.group, row.kind, row.day, row.received, row.person, row.seq) for row in rows]
    return MonthCounts(
        groups=tuple(GroupChanges(village=village_of[row.group], group=own_name[row.group], opening=row.opening,
                                  moved_within=row.moved_within,
                                  **{_COLUMNS[kind]: count for kind, count in row.counts.items()})
                     for row in group_months(events, month, produced_at, groups=[named.group for named in groups])),
        late_corrections=tuple(LateCorrection(village_of[late.group], own_name[late.group], late.month,
                                              _COLUMNS[late.kind], late.count)
                               for late in late_corrections(events, month, None if area.id is None else
                                                            queries.previous_run(area.id, month), produced_at)))


def monthly_change_report(principal: Principal, area_full_name: str, month: dt.date, *,
                          now: dt.datetime | None = None) -> bytes:
    """月变更报告单 of a town (or village) for a calendar month, as the register stands now (`produce_monthly_change`)."""
    return produce_monthly_change(principal, area_full_name, month, now=now).content


def produce_monthly_change(principal: Principal, area_full_name: str, month: dt.date, *,
                           now: dt.datetime | None = None, submitted: bool = False) -> ProducedReport:
    """月变更报告单 of a town (or village) for a calendar month, as the register stands now; events that arrived
    after the previous month's report are listed as late corrections; the month's changes person by person; the
    month's service counts per village (服务情况). Its run is kept: the next month's late corrections start from
    the last report a village `submitted` (signed off) for an earlier month, else from the last one produced.
    The county's (`COUNTY`, for a reader of the whole county): its summary by town only, a move between two towns
    one move within the county; no run kept, so no late corrections (each town's report lists its own)."""
    area = _report_area(principal, area_full_name)
    county = isinstance(area, _WholeCounty)
    month, produced_at, timezone = month_start(month), now or clock.now(), clock.timezone()
    groups = queries.groups_in(area.path)
    deadline = sync_deadline(month, timezone)
    received = queries.receipts(area.path, deadline - dt.timedelta(days=4), deadline)
    synced = synced_in_time({named.group: received.get(named.group, []) for named in groups}, month, timezone)
    last_day = next_month(month) - dt.timedelta(days=1)
    changes = [] if county else month_changes(
        (ChangeLine(**row._asdict()) for row in queries.person_events(area.path, month, last_day)), month, produced_at)
    villages = [village for village, _ in itertools.groupby(named.village for named in groups)]
    own_name = {named.group: named.name for named in groups}        # a full name → what the report shows

    def unit(named) -> str:
        return named.group.split("/")[0] if county else named.village

    counts = month_counts(area, month, produced_at)
    report = MonthlyChangeReport(
        town=_area_name(area.full_name), month=month, produced_at=clock.wall_time(produced_at),
        groups=counts.groups, late_corrections=counts.late_corrections,
        sync=tuple(VillageSync(name, len(members), sum(synced[named.group] for named in members))
                   for name, members in ((name, list(members)) for name, members
                                         in itertools.groupby(groups, key=unit))),
        changes=tuple(PersonChange(change.village, own_name[change.group], _COLUMNS[change.kind], change.day,
                                   change.person_name, change.household_no, change.head_name,
                                   visit=change.submission_id, collector=change.collector, place=change.place,
                                   spouse_name=change.spouse_name) for change in changes),
        services=() if county else _service_tables(area.path, month, last_day, villages), county=county)
    content = build_monthly_change_report(report)
    if not county:
        queries.add_run(kind=queries.SUBMITTED_RUN if submitted else queries.PRODUCED_RUN, area_id=area.id,
                        month=month, produced_at=produced_at, produced_by=principal.id)
    audit.record(principal.id, "export.monthly_change", area_path=None if county else area.path,
                 subject=f"{month:%Y-%m}", records=len(changes))
    return ProducedReport(content, report)


def _service_tables(path: str, month: dt.date, last_day: dt.date, villages: list[str]) -> tuple[SummaryTable, ...]:
    """服务情况 of the area's villages for the month (`village_service_counts`), as the report's tables."""
    words = ChoiceWords([form_labels(form, None) for form in _SERVICE_FORMS])
    return summary_tables(village_service_counts(path, month, last_day), villages, words)


def village_service_counts(path: str, month: dt.date, last_day: dt.date) -> dict[str, ServiceCounts]:
    """The month's service counts of each village of an area (by the village's name): visits, and items as they
    stand (corrections applied); the referrals of every month up to this one, for those closed in it and still open
    at its end. Only figures; the caller has checked that the area is the reader's."""
    village_of = {group_id: named.village for group_id, named in queries.group_names(path).items()}
    visits = [VisitRow(row.village, row.day, row.outcome)
              for row in queries.visit_outcomes_by_village(path, month, last_day)]
    placed = [*items_in(path, ("service", "supply", "support_request"), since=month, until=last_day),
              *items_in(path, ("referral",), until=last_day)]
    items = [ItemRow(village_of[item.group_id], item.item.kind, item.item.code, item.visit_date,
                     quantity=item.item.quantity, given=item.item.given, problems=item.item.problems,
                     result=item.state.result,
                     result_on=clock.date_of(item.state.result_at) if item.state.result_at else None)
             for item in placed if item.group_id in village_of]
    return service_counts(visits, items, month)


def coverage_report(principal: Principal, area_full_name: str, month: dt.date, *, now: dt.datetime | None = None) -> bytes:
    """随访情况 of a town or village for a calendar month, as of the day it is produced (`now`, default the clock's
    instant; its date where the town is): per group the visits due in the month (tier periods ending in it, event
    deadlines in it), done on time, done late and overdue; the overdue list of each collector as of that day; the
    follow-up rate of the twelve months up to this one."""
    area = _area(principal, area_full_name)
    schedule = current_schedule()
    produced_at = now or clock.now()
    as_of = clock.date_of(produced_at)
    period = month_of(month)
    with collector_paused():    # a town's schedules and flags, as the due list reads them
        people, schedules = person_schedules(area.path, schedule)
        groups = queries.group_names(area.path)
        collectors = queries.collectors_by_group(area.path)
        outcomes = outcomes_by_group(schedules, schedule, period.start, as_of,
                                     {uuid: row.group_id for uuid, row in people.items()}, groups)
        rows = tuple(CoverageRow(village=named.village, group=named.name, due=counts.due, on_time=counts.on_time,
                                 late=counts.late, overdue=counts.overdue)
                     for group_id, named in sorted(groups.items(), key=lambda item: item[1].group)
                     for counts in (outcomes[group_id],))
        overdue = []
        for person in schedules:
            row = people[person.person]
            named = groups[row.group_id]
            for flag in flags_for(person, schedule, as_of):
                if flag.status == "overdue":
                    rule = schedule.rule(flag.rule)
                    overdue.append(OverdueItem(collectors.get(row.group_id, ""), named.village, named.name, row.name or "",
                                               row.household_no or "", rule.label_zh, flag.due_since, flag.overdue_days,
                                               flag.last_visit, flag.explain(schedule, "zh")))
    content = build_coverage_report(CoverageReport(
        town=_area_name(area.full_name), period_start=period.start, period_end=period.end, as_of=as_of,
        produced_at=clock.wall_time(produced_at), rows=rows,
        overdue=tuple(sorted(overdue, key=lambda item: (item.collector, -item.overdue_days, item.person_name))),
        monthly_rates=tuple(MonthlyRate(earlier.start, rate)
                            for earlier, rate in monthly_rates(schedules, schedule, period.start, as_of))))
    audit.record(principal.id, "export.coverage", area_path=area.path, subject=f"{period.start:%Y-%m}",
                 records=len({item.person_name for item in overdue}))
    return content


def register_export(principal: Principal, area_full_name: str, output: str | BinaryIO, *,
                    language: str = "zh", full: bool = False, reason: str | None = None) -> int:
    """台账: the area's people, one sheet per group (named by the group), codes in the `language`'s words, streamed
    to `output`; returns how many people. The county's (`COUNTY`, for a reader of the whole county): one sheet per
    town, village and group in columns (6,000 group sheets would be unusable), the index listing every group. ID
    numbers and phones masked unless `full`, which needs a `reason` (audited with it; none: ExportReasonRequired,
    nothing written)."""
    reason = export_reason(full, reason)
    area = _report_area(principal, area_full_name)
    county = isinstance(area, _WholeCounty)
    count = 0
    id_number, phone = ((lambda value: value), (lambda value: value)) if full else (
        MASKED_FIELDS["id_number"], MASKED_FIELDS["phone"])

    dates: dict[str | None, dt.date | None] = {}       # a county's 800,000 birth dates are ~30,000 days

    def people_of(rows):
        nonlocal count
        for row in rows:
            count += 1
            birth_date = dates.get(row.birth_date, dates)
            if birth_date is dates:
                birth_date = dates[row.birth_date] = _date(row.birth_date)
            yield PersonRow(row.household_no or "", row.address or "", row.name or "", row.sex or "", birth_date,
                            id_number(row.id_number) or "", row.relationship or "", phone(row.phone) or "",
                            row.residence or "", row.hukou or "", row.status or "", row.tier or "")

    if county:
        sheets = {}
    else:
        named = queries.groups_with_people(area.path)
        sheets = dict(zip((group.group for group in named), group_sheet_names(
            ((group.village, group.name) for group in named), {"目录 index"})))
    groups = (GroupRows(town=group.split("/")[0], village=village, group=name, people=people_of(rows),
                        sheet=sheets.get(group, ""))
              for (village, group, name), rows in itertools.groupby(
                  queries.register_people(area.path), key=lambda row: (row.village, row.group, row.group_name)))
    build_register_export(groups, output, exported_at=clock.wall_time(clock.now()), language=language,
                          by_town=county)
    audit.record(principal.id, export_action("export.register", full), area_path=None if county else area.path,
                 records=count, reason=reason)
    return count


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None

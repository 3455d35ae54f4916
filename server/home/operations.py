"""The home pages' services: a village cadre's to-do, and the dashboard of the town office (per village) and of the
county (per town), each read in one pass of the schedule over the reader's area and aggregate counts; and what the
town office and the county watch in the audit log: unusual reading by their staff, and exports of personal data."""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field

from server import clock
from server.audit import queries as audit
from server.home import queries
from server.months.operations import MonthsList, last_month
from server.moves import queries as moves_queries
from server.principal import Principal
from server.register import queries as register_queries
from server.schedules.counted import Counted, counted
from server.schedules.current import current_schedule
from server.schedules.operations import flags_of_people
from server.services import queries as service_queries
from sync.access import STAFF_ROLES, TOWN_OFFICE_ROLES
from sync.dashboard import not_synced_since, tally_flags
from sync.errors import Forbidden
from sync.monthly_change import LISTED_KINDS
from sync.periods import Period, month_of
from sync.reading import READ_ACTIONS, PersonRead, export_is_full, unusual_reading

__all__ = ["GroupOverdue", "CadreTodo", "cadre_todo", "UnitRow", "Dashboard", "dashboard", "ReadingWatch",
           "reading_watch"]


def _staff(principal: Principal) -> None:
    if principal.role not in STAFF_ROLES:
        raise Forbidden("home pages are for village cadres and the town office")


@dataclass(frozen=True)
class GroupOverdue:
    full_name: str
    overdue: int


@dataclass(frozen=True)
class CadreTodo:
    area: queries.AreaRow | None
    as_of: dt.date
    unreviewed: int
    conflicts: int
    duplicates: int
    open_referrals: int
    oldest_referral: dt.date | None    # the day of the oldest open referral (the register's period starts there)
    overdue_by_group: list[GroupOverdue]
    silent: list[queries.CollectorSync]     # collectors who have not synced for `days` days, or never
    days: int
    names: dict[int, str]                   # area id → full name (the collectors' groups)
    counted_at: dt.datetime                 # when the schedule's figures (overdue, referrals) were counted
    fresh: bool                             # False: something changed since, they are being counted again
    last_month: MonthsList | None = None    # the village's last month: to submit, submitted, returned, accepted
    expected_arrivals: int = 0              # people who moved out elsewhere towards this village, not confirmed yet


@dataclass
class GroupFigures:
    """One group's figures for a day's month (what the dashboard adds up per village or town)."""

    asked: int = 0                 # visits the schedule asks for this month (open, or done this month)
    done: int = 0                  # of them, done by a visit dated this month
    overdue: int = 0               # people with an overdue visit (a person is in one group: these add up)
    completed: int = 0             # completed visits dated this month (scheduled or not)
    changes: int = 0               # life events dated this month (the monthly change report's kinds of line)
    unreviewed: int = 0            # visits nobody has reviewed yet
    open_referrals: int = 0        # referrals nobody has attended or declined yet
    oldest_referral: dt.date | None = None     # the day the oldest of them was made


def _count_scheduled(path: str | None, as_of: dt.date) -> dict[int, GroupFigures]:
    """Every group's schedule figures of an area (visits asked for and done, people overdue) and open referrals:
    the schedule's flags of its people in one pass. This is what takes seconds for a town (kept: server.schedules.counted)."""
    month = month_of(as_of)
    found: dict[int, GroupFigures] = defaultdict(GroupFigures)
    people, flags = flags_of_people(path or "/", current_schedule(), as_of)
    for group, tallied in tally_flags(flags, lambda person: people[person].group_id, month).items():
        found[group].asked, found[group].done, found[group].overdue = tallied.asked, tallied.done, tallied.overdue
    for item in service_queries.items_in(path, ("referral",)):
        if item.state.is_open and item.group_id is not None:
            figures = found[item.group_id]
            figures.open_referrals += 1
            if item.visit_date is not None and (figures.oldest_referral is None
                                                or item.visit_date < figures.oldest_referral):
                figures.oldest_referral = item.visit_date
    return dict(found)


def _count_aggregates(path: str | None, month) -> dict[str, dict[int, int]]:
    """The aggregate counts per group of an area: completed visits and life events of the month, the review
    backlog (at county size each reads hundreds of thousands of rows: kept by server.schedules.counted)."""
    return {"completed": queries.completed_visits_by_group(path, month.start, month.end),
            "changes": queries.life_events_by_group(path, LISTED_KINDS, month.start, month.end),
            "unreviewed": queries.unreviewed_by_group(path)}


def _kept_counts(path: str | None, as_of: dt.date) -> tuple[Counted, dict[str, dict[int, int]]]:
    """The schedule's figures of every group of an area and the aggregate counts (completed visits, life events, the
    review backlog), each as last counted (server.schedules.counted: counted again once anything they are counted
    from changes); the schedule's count says when it was made. Kept objects: read, never changed."""
    scheduled = counted(("home figures", path, as_of, current_schedule()),
                        functools.partial(_count_scheduled, path, as_of))
    month = month_of(as_of)
    aggregates = counted(("home counts", path, month.start), functools.partial(_count_aggregates, path, month))
    return scheduled, aggregates.value


def _group_figures(path: str | None, as_of: dt.date) -> tuple[dict[int, GroupFigures], Counted]:
    """Every group's figures of an area (_kept_counts, put together per group)."""
    scheduled, aggregates = _kept_counts(path, as_of)
    found: dict[int, GroupFigures] = defaultdict(GroupFigures)
    for group, figures in scheduled.value.items():
        found[group] = copy.copy(figures)      # the kept figures stay as counted
    for column, counts in aggregates.items():
        for group, count in counts.items():
            setattr(found[group], column, count)
    return dict(found), scheduled


def cadre_todo(principal: Principal, *, days: int, due_day: int) -> CadreTodo:
    """What a village cadre has to do now: visits to review, conflicts, duplicate pairs, open referrals, people
    expected to move in, people overdue per group, collectors who have not synced for `days` days, last month to sign off (due on `due_day`)."""
    _staff(principal)
    path = principal.area_path
    as_of, now = clock.today(), clock.now()
    areas = queries.areas_under(path)
    groups = [area for area in areas if area.kind == "group"]
    figures, scheduled = _group_figures(path, as_of)
    return CadreTodo(
        area=next((area for area in areas if area.path == path), None), as_of=as_of,
        unreviewed=sum(found.unreviewed for found in figures.values()),
        conflicts=len(register_queries.open_conflicts(path)),
        duplicates=register_queries.count_open_candidates(path),
        open_referrals=sum(found.open_referrals for found in figures.values()),
        oldest_referral=min((found.oldest_referral for found in figures.values() if found.oldest_referral),
                            default=None),
        overdue_by_group=[GroupOverdue(group.full_name, figures[group.id].overdue) for group in groups
                          if group.id in figures and figures[group.id].overdue],
        silent=[collector for collector in queries.collector_syncs(path)
                if not_synced_since(collector.last_sync, now, days)],
        days=days, names={area.id: area.full_name for area in areas}, counted_at=scheduled.counted_at,
        fresh=scheduled.fresh, last_month=last_month(principal, due_day=due_day),
        expected_arrivals=len(moves_queries.departures(towards=path or "/")))


@dataclass
class UnitRow:
    """One village of a town (or one town of the county) on the dashboard."""

    area: queries.AreaRow
    asked: int = 0                 # visits the schedule asks for this month (open, or done this month)
    done: int = 0                  # of them, done by a visit dated this month
    completed: int = 0             # completed visits dated this month (scheduled or not)
    overdue: int = 0               # people with an overdue visit
    changes: int = 0               # life events dated this month (the monthly change report's kinds of line)
    unreviewed: int = 0            # visits nobody has reviewed yet
    collectors: int = 0
    last_sync: dt.datetime | None = None     # the latest sync of any of its collectors
    silent: list[queries.CollectorSync] = field(default_factory=list)


@dataclass(frozen=True)
class Dashboard:
    area: queries.AreaRow | None     # the town (None: the county)
    unit_kind: str                   # village or town
    as_of: dt.date
    month: Period
    rows: list[UnitRow]
    total: UnitRow
    days: int
    names: dict[int, str]            # area id → full name (the collectors' groups)
    counted_at: dt.datetime          # when the schedule's figures (asked for, done, overdue) were counted
    fresh: bool                      # False: something changed since, they are being counted again
    last_month: MonthsList | None = None     # last month of every village: where its sign-off stands, late or not


def dashboard(principal: Principal, *, days: int, due_day: int) -> Dashboard:
    """The town office's figures per village of its town, or the county's per town (a county administrator): this
    month's visits asked for and done, completed visits, people overdue, life events, review backlog, last syncs;
    last month's sign-off of every village (due on `due_day`)."""
    _staff(principal)
    path = principal.area_path
    as_of, now = clock.today(), clock.now()
    month = month_of(as_of)
    areas = queries.areas_under(path)
    by_id = {area.id: area for area in areas}
    unit_kind = "town" if path is None else "village"
    units = [area for area in areas if area.kind == unit_kind]
    unit_of_group: dict[int, int] = {}
    for area in areas:
        if area.kind == "group":
            village = by_id.get(area.parent_id)
            unit = area.parent_id if unit_kind == "village" else (village.parent_id if village else None)
            if unit is not None:
                unit_of_group[area.id] = unit
    rows = {unit.id: UnitRow(unit) for unit in units}
    scheduled, aggregates = _kept_counts(path, as_of)   # added up per unit as kept (a county: 6,000 groups)
    for group, found in scheduled.value.items():
        if group in unit_of_group:
            row = rows[unit_of_group[group]]
            row.asked += found.asked
            row.done += found.done
            row.overdue += found.overdue
    for column, counts in aggregates.items():
        for group, count in counts.items():
            if group in unit_of_group:
                row = rows[unit_of_group[group]]
                setattr(row, column, getattr(row, column) + count)
    for collector in queries.collector_syncs(path):
        if collector.group_id not in unit_of_group:
            continue
        row = rows[unit_of_group[collector.group_id]]
        row.collectors += 1
        if collector.last_sync is not None and (row.last_sync is None or collector.last_sync > row.last_sync):
            row.last_sync = collector.last_sync
        if not_synced_since(collector.last_sync, now, days):
            row.silent.append(collector)
    listed = [rows[unit.id] for unit in units]
    total = UnitRow(queries.AreaRow(0, unit_kind, None, path or "/", ""))
    for row in listed:
        for column in ("asked", "done", "completed", "overdue", "changes", "unreviewed", "collectors"):
            setattr(total, column, getattr(total, column) + getattr(row, column))
    return Dashboard(next((area for area in areas if area.path == path), None), unit_kind, as_of, month, listed, total,
                     days, {area.id: area.full_name for area in areas}, scheduled.counted_at, scheduled.fresh,
                     last_month(principal, due_day=due_day))


@dataclass(frozen=True)
class PersonOpened:
    uuid: str
    name: str | None              # None: not in the reader's area now (moved away, purged): not named


@dataclass(frozen=True)
class UnusualRow:
    staff: queries.StaffMember | None
    start: dt.datetime
    end: dt.datetime
    people: list[PersonOpened]    # in the order first opened
    peak: int                     # the most different people opened within one 60 minutes


@dataclass(frozen=True)
class ExportRow:
    at: dt.datetime
    staff: queries.StaffMember | None
    action: str
    area_full_name: str | None
    subject: str | None
    records: int
    reason: str | None
    full: bool                    # ID numbers and phones in full (asked for, with a reason), else masked


@dataclass(frozen=True)
class ReadingWatch:
    limit: int                    # more than this many different people within 60 minutes is unusual
    days: int
    since: dt.datetime
    unusual: list[UnusualRow]     # newest first
    exports: list[ExportRow]      # newest first


def reading_watch(principal: Principal, *, limit: int, days: int) -> ReadingWatch | None:
    """For the town office (its town's staff) and the county (all staff): who opened more than `limit` different
    people's records within any 60 minutes in the last `days` days, with the people (named when they live in the
    reader's area; naming them is audited as a read), and every export of personal data in that time. None for a
    village cadre."""
    _staff(principal)
    if principal.role not in TOWN_OFFICE_ROLES:
        return None
    path = principal.area_path
    since = clock.now() - dt.timedelta(days=days)
    found = unusual_reading((PersonRead(*row) for row in queries.heavy_person_reads(path, READ_ACTIONS, since, limit)),
                            limit=limit)
    names = queries.people_named({uuid for stretch in found for uuid in stretch.people}, path)
    exported = queries.exports(path, since)
    staff = queries.staff_members({stretch.user_id for stretch in found}
                                  | {event.user_id for event in exported if event.user_id is not None})
    if names:
        audit.record(principal.id, "reading.unusual", area_path=path, records=len(names))
    unusual = [UnusualRow(staff.get(stretch.user_id), stretch.start, stretch.end,
                          [PersonOpened(uuid, names.get(uuid)) for uuid in stretch.people], stretch.peak)
               for stretch in sorted(found, key=lambda stretch: stretch.start, reverse=True)]
    exports = [ExportRow(event.at, staff.get(event.user_id), event.action, event.area_full_name, event.subject,
                         event.records, event.reason, export_is_full(event.reason)) for event in exported]
    return ReadingWatch(limit, days, since, unusual, exports)

"""The monthly meeting sheet (月例会) of a village: last month's results (indicators, register changes, services) and
this month's plan (who is due, open referrals, open support requests), as one printable page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from server import clock
from server.areas import queries as area_queries
from server.areas.models import Area
from server.areas.operations import staff_area
from server.audit import queries as audit
from server.exports.operations import month_counts, village_service_counts
from server.exports.queries import group_names
from server.indicators.operations import IndicatorTable, area_indicators
from server.principal import Principal
from server.schedules.operations import flags_in_area
from server.services.queries import PlacedItem, items_in
from sync.access import STAFF_ROLES
from sync.errors import BadRequest, Forbidden
from sync.periods import month_of, month_start
from sync.service_counts import ServiceCounts, combined
from sync.services import CLOSING_RESULTS

__all__ = ["NAMES_SHOWN", "ITEMS_SHOWN", "Names", "GroupChangeRow", "OpenItem", "MeetingSheet", "meeting_sheet",
           "meeting_village", "REFUSAL"]

REFUSAL = "the meeting sheet is for village cadres and the town office"
NAMES_SHOWN = 12
"""How many names of a group's people due the sheet prints; the rest are counted ("等 N 人")."""
ITEMS_SHOWN = 8
"""How many open referrals and open requests the sheet lists; the rest are counted."""
# The monthly change report's columns (reports.monthly_change.GroupChanges) → their life-event codes (the words).
CHANGE_KINDS = {"births": "birth", "deaths": "death", "marriages": "marriage", "moved_in": "moved_in",
                "moved_out": "moved_out", "left_to_work": "left_for_work", "returned": "returned",
                "registered": "registered"}
_OPEN = frozenset({"due", "overdue"})


@dataclass(frozen=True)
class Names:
    """A list too long for one page: the first names and how many there are in all."""

    shown: tuple[str, ...]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


def _names(names: list[str], shown: int) -> Names:
    return Names(tuple(names[:shown]), len(names))


@dataclass(frozen=True)
class GroupChangeRow:
    """One group's month as the monthly change report counts it."""

    group: str
    opening: int
    counts: dict[str, int]          # life-event code → count in the month
    closing: int


@dataclass(frozen=True)
class GroupDue:
    """One group's people with a visit open this month."""

    group: str
    people: Names                   # people with a visit due or overdue, most overdue first
    overdue: int                    # of them, overdue


@dataclass(frozen=True)
class OpenItem:
    """An open referral or support request: whose, where, what, since when."""

    person: str
    group: str
    code: str | None                # the referral's purpose or the request's kind
    day: dt.date | None             # the visit that made it


@dataclass(frozen=True)
class MeetingSheet:
    """What the sheet prints: last month's results and this month's plan of one village."""

    village: Area
    month: dt.date                  # the meeting's month (this month's plan)
    last_month: dt.date             # the month whose results are shown
    as_of: dt.date                  # the plan is as of this day
    indicators: IndicatorTable      # of the village for last month
    changes: list[GroupChangeRow]
    services: ServiceCounts         # the village's, last month
    due: list[GroupDue]
    due_counted_at: dt.datetime | None   # the village's flags as last worked out (kept, as the due list's)
    due_fresh: bool                      # False: visits have arrived since and are being worked in
    referrals: tuple[OpenItem, ...]
    referrals_total: int
    requests: tuple[OpenItem, ...]
    requests_total: int


def meeting_village(principal: Principal, full_name: str | None) -> Area:
    """The village a sheet is of: the one named (inside the reader's area: Forbidden otherwise), or a village
    cadre's own when none is named; anything but a village is a BadRequest."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden(REFUSAL)
    if not full_name and principal.role == "village_cadre" and principal.area_id is not None:
        full_name = area_queries.by_id(principal.area_id).full_name
    if not full_name:
        raise BadRequest("the meeting sheet is of a village: choose one")
    area = staff_area(principal, full_name, refusal=REFUSAL)
    if area.kind != "village":
        raise BadRequest("the meeting sheet is of a village: choose one")
    return area


def meeting_sheet(principal: Principal, village_full_name: str | None, month: dt.date, *,
                  now: dt.datetime | None = None) -> MeetingSheet:
    """A village's meeting sheet for a month (not a future one): last month's indicators, register changes per
    group and services; and this month's plan as of today (or the month's first day, for an earlier month): the
    people due per group, open referrals and open support requests. Reads names: audited."""
    village = meeting_village(principal, village_full_name)
    now = now or clock.now()
    today = clock.date_of(now)
    month = month_start(month)
    if month > month_start(today):
        raise BadRequest("the meeting sheet of a month that has not begun")
    last = month_of(month - dt.timedelta(days=1))
    as_of = today if month == month_start(today) else month
    indicators = area_indicators(principal, village.full_name, last)
    counts = month_counts(village, last.start, now)
    changes = [GroupChangeRow(row.group, row.opening,
                              {code: getattr(row, field) for field, code in CHANGE_KINDS.items()}, row.closing)
               for row in counts.groups]
    services = combined(village_service_counts(village.path, last.start, last.end).values())
    groups = group_names(village.path)
    flags = flags_in_area(principal, village.full_name, as_of, statuses=_OPEN, kept=True)
    referrals = [item for item in items_in(village.path, ("referral",), until=as_of)
                 if item.state.result not in CLOSING_RESULTS]
    requests = [item for item in items_in(village.path, ("support_request",), until=as_of)
                if not item.state.support.get("outcome")]
    audit.record(principal.id, "meeting.read", area_path=village.path, subject=f"{month:%Y-%m}",
                 records=len({flag.person for flag in flags.flags}))
    return MeetingSheet(village, month, last.start, as_of, indicators, changes, services,
                        _due_by_group(flags, groups), flags.counted_at, flags.fresh,
                        tuple(_open_item(item, groups) for item in referrals[:ITEMS_SHOWN]), len(referrals),
                        tuple(_open_item(item, groups) for item in requests[:ITEMS_SHOWN]), len(requests))


def _open_item(item: PlacedItem, groups: dict) -> OpenItem:
    group = groups.get(item.group_id)
    return OpenItem(item.person_name or item.item.person_name or "", group.name if group else "", item.item.code,
                    item.visit_date)


def _due_by_group(found, groups: dict) -> list[GroupDue]:
    """Each group's people with a visit open (due or overdue), most overdue first, names compact; every group of
    the village, by name."""
    worst: dict[str, int] = {}
    overdue: set[str] = set()
    for flag in found.flags:
        worst[flag.person] = max(worst.get(flag.person, 0), flag.overdue_days)
        if flag.status == "overdue":
            overdue.add(flag.person)
    by_group: dict[int, list[str]] = {}
    for person in sorted(worst, key=lambda uuid: (-worst[uuid], found.people[uuid].name or "", uuid)):
        by_group.setdefault(found.people[person].group_id, []).append(person)
    return [GroupDue(named.name, _names([found.people[uuid].name or "" for uuid in by_group.get(group_id, [])],
                                        NAMES_SHOWN),
                     sum(1 for uuid in by_group.get(group_id, []) if uuid in overdue))
            for group_id, named in sorted(groups.items(), key=lambda item: item[1].group)]

"""A village's month signed off: the sign-off page (what is left to do, the month's report figures, the history),
the cadre's submission (the report produced now, archived byte for byte), the town office's return or acceptance,
and the months of an area as they stand; every step scoped to the village's cadre or town office and audited."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass

from server import clock
from server.archive.operations import keep
from server.areas import queries as area_queries
from server.areas.operations import village_in_area
from server.areas.queries import AreaRow
from server.audit import queries as audit
from server.exports.downloads import file_name
from server.exports.operations import MonthCounts, month_counts, produce_monthly_change
from server.months import queries
from server.months.models import MonthSignoff, MonthSignoffStep
from server.principal import Principal
from server.register import queries as register_queries
from server.schedules.counted import counted
from server.schedules.current import current_schedule
from server.schedules.operations import flags_of_people
from sync.access import STAFF_ROLES, area_contains
from sync.errors import (
    CommentRequired,
    ConfirmationRequired,
    Forbidden,
    MonthAccepted,
    MonthAlreadySubmitted,
    MonthNotOver,
    MonthNotSubmitted,
    SignoffNotYours,
)
from sync.month_signoff import decide_refusal, due_at, due_date, is_late, submit_refusal
from sync.periods import Period, month_of, month_start, months_back

__all__ = ["REPORT_NAME", "MONTHS_SHOWN", "LeftToDo", "SignoffPage", "signoff_page", "submit_month", "decide_month",
           "MonthLine", "MonthsList", "months_list", "last_month"]

REPORT_NAME = "月变更报告单"
"""The report a village submits, as its archived file is named (东村_2026-11_月变更报告单.xlsx)."""
MONTHS_SHOWN = 6
"""How many months a village cadre's list of months shows (the last one first)."""
MAX_COMMENT = 500
_REFUSED = {"not_over": MonthNotOver, "submitted": MonthAlreadySubmitted, "accepted": MonthAccepted,
            "open": MonthNotSubmitted, "returned": MonthNotSubmitted}


def _staff(principal: Principal) -> None:
    if principal.role not in STAFF_ROLES:
        raise Forbidden("months are signed off by village cadres and the town office")


def _village(principal: Principal, village_id: int) -> AreaRow:
    """The village asked for: it must be one (404) and lie inside the reader's area (403)."""
    return village_in_area(principal, village_id, roles=STAFF_ROLES,
                           refusal="months are signed off by village cadres and the town office")


def _is_cadre_of(principal: Principal, village: AreaRow) -> bool:
    return principal.role == "village_cadre" and principal.area_path == village.path


def _is_town_office_of(principal: Principal, village: AreaRow) -> bool:
    """The town office of the village's town decides on its months (the county reads them, it does not decide)."""
    return principal.role == "town_officer" and area_contains(principal.area_path, village.path)


@dataclass(frozen=True)
class LeftToDo:
    """What is left in a village before its month is signed: warnings, the cadre decides."""

    unreviewed: int          # visits dated in the month nobody has reviewed
    conflicts: int           # open conflicts of the village's records
    duplicates: int          # open possible duplicate pairs
    overdue: int             # people overdue for a visit today
    counted_at: dt.datetime  # when the overdue people were counted (server.schedules.counted)
    fresh: bool

    @property
    def total(self) -> int:
        return self.unreviewed + self.conflicts + self.duplicates + self.overdue


@dataclass(frozen=True)
class SignoffPage:
    village: AreaRow
    month: Period
    as_of: dt.date
    due: dt.date                           # the day the month is due by (its end, where the town is)
    signoff: queries.SignoffRow | None     # None: the month is open (never submitted)
    steps: list[queries.StepRow]
    left: LeftToDo
    counts: MonthCounts
    signer: str                            # the reader's name as the sign box shows it
    refusal: str | None                    # why the month cannot be submitted now (sync.month_signoff), or None
    may_submit: bool                       # the reader is the village's cadre and the month can be submitted
    may_decide: bool                       # the reader is its town office and the month waits for it


def _overdue(path: str, as_of: dt.date):
    """People of an area overdue for a visit today, as last counted (the due list's count, kept per process)."""
    schedule = current_schedule()
    found = counted(("flags", path, as_of, schedule), functools.partial(flags_of_people, path, schedule, as_of))
    people, flags = found.value
    return len({flag.person for flag in flags if flag.status == "overdue"}), found


def signoff_page(principal: Principal, village_id: int, month: dt.date, *, due_day: int) -> SignoffPage:
    """A village's month as its sign-off page shows it: what is left, the report's counts as the register stands
    now, where the month stands and its history (figures only: no one's personal data)."""
    village = _village(principal, village_id)
    period, now = month_of(month), clock.now()
    as_of = clock.date_of(now)
    overdue, kept = _overdue(village.path, as_of)
    left = LeftToDo(queries.unreviewed_visits(village.path, period.start, period.end),
                    len(register_queries.open_conflicts(village.path)),
                    register_queries.count_open_candidates(village.path), overdue, kept.counted_at, kept.fresh)
    found = queries.signoffs_of_village(village.id, period.start).get(period.start)
    refusal = submit_refusal(found.state if found else None, period.start, as_of)
    return SignoffPage(
        village, period, as_of, due_date(period.start, due_day), found,
        queries.steps(village.id, period.start), left,
        month_counts(area_queries.by_id(village.id), period.start, now),
        register_queries.display_names({principal.id}).get(principal.id, principal.username), refusal,
        may_submit=refusal is None and _is_cadre_of(principal, village),
        may_decide=found is not None and found.state == "submitted" and _is_town_office_of(principal, village))


def _figures(counts: MonthCounts, month: dt.date) -> dict:
    """What an archived monthly report showed, as JSON-able values: per group its month, and the late corrections."""
    return {"month": f"{month:%Y-%m}",
            "groups": [{**dataclasses.asdict(group), "closing": group.closing} for group in counts.groups],
            "late_corrections": [dataclasses.asdict(late) for late in counts.late_corrections]}


def _refuse(reason: str | None) -> None:
    if reason is not None:
        raise _REFUSED[reason]()


def submit_month(principal: Principal, village_id: int, month: dt.date, *, confirmed: bool, due_day: int,
                 now: dt.datetime | None = None) -> MonthSignoff:
    """The village's cadre signs the month and submits its monthly change report: produced now (its run is the one
    the next month's late corrections start from), archived byte for byte as the next version, the month submitted
    (late when first submitted after the due day), the step recorded and audited."""
    village = _village(principal, village_id)
    if not _is_cadre_of(principal, village):
        raise SignoffNotYours(f"village {village_id}")
    month, now = month_start(month), now or clock.now()
    row = queries.signoff(village.id, month)
    _refuse(submit_refusal(row.state if row else None, month, clock.date_of(now)))
    if not confirmed:
        raise ConfirmationRequired()
    produced = produce_monthly_change(principal, village.full_name, month, now=now, submitted=True)
    period = month_of(month)
    report = keep(principal, "monthly_change", area_queries.by_id(village.id), period.start, period.end,
                  file_name(village.full_name, f"{month:%Y-%m}", REPORT_NAME), produced.content,
                  _figures(MonthCounts(produced.report.groups, produced.report.late_corrections), month))
    late = is_late(now, month, due_day, clock.timezone())
    if row is None:
        row = MonthSignoff(village_id=village.id, month=month, version=0, first_submitted_at=now, late=late)
    row.state, row.version, row.report_id = "submitted", row.version + 1, report.id
    row.submitted_by, row.submitted_at = principal.id, now
    row.decided_by, row.decided_at, row.comment = None, None, None
    queries.add(row)
    queries.add(MonthSignoffStep(signoff_id=row.id, step="submitted", version=row.version, report_id=report.id,
                                 user_id=principal.id, at=now, late=late))
    audit.record(principal.id, "month.submitted", area_path=village.path, subject=f"{month:%Y-%m} v{row.version}")
    return row


def decide_month(principal: Principal, village_id: int, month: dt.date, step: str, comment: str = "", *,
                 now: dt.datetime | None = None) -> MonthSignoff:
    """The town office returns a submitted month to the village (`step` "returned", with a comment: the village may
    submit it again) or accepts it ("accepted", a comment optional: final); recorded and audited."""
    if step not in ("returned", "accepted"):
        raise ValueError(step)
    village = _village(principal, village_id)
    if not _is_town_office_of(principal, village):
        raise SignoffNotYours(f"village {village_id}")
    month, now = month_start(month), now or clock.now()
    row = queries.signoff(village.id, month)
    _refuse(decide_refusal(row.state if row else None))
    comment = " ".join(comment.split())[:MAX_COMMENT]
    if step == "returned" and not comment:
        raise CommentRequired()
    row.state, row.decided_by, row.decided_at, row.comment = step, principal.id, now, comment or None
    queries.add(MonthSignoffStep(signoff_id=row.id, step=step, version=row.version, report_id=row.report_id,
                                 user_id=principal.id, at=now, late=False, comment=comment or None))
    audit.record(principal.id, "month.returned" if step == "returned" else "month.accepted", area_path=village.path,
                 subject=f"{month:%Y-%m} v{row.version}")
    return row


@dataclass(frozen=True)
class MonthLine:
    """A village's month as a list shows it: where it stands (None: open), and whether it is past its due time."""

    village: AreaRow
    month: dt.date
    signoff: queries.SignoffRow | None
    due: dt.date              # the day it is due by (its end, where the town is)
    past_due: bool            # not submitted yet, and its due time has passed

    @property
    def state(self) -> str:
        return self.signoff.state if self.signoff else "open"


@dataclass(frozen=True)
class MonthsList:
    lines: list[MonthLine]
    month: dt.date | None       # the month listed (a town's or the county's villages), None: a village's months
    submitted: int              # how many of the lines have been submitted (in any state since)
    on_time: int                # … first submitted by the due time
    late: int                   # … first submitted after it
    accepted: int
    returned: int
    past_due: int               # not submitted and past due


def _line(village: AreaRow, month: dt.date, found: queries.SignoffRow | None, due_day: int,
          now: dt.datetime) -> MonthLine:
    return MonthLine(village, month, found, due_date(month, due_day),
                     found is None and now >= due_at(month, due_day, clock.timezone()))


def _listed(lines: list[MonthLine], month: dt.date | None) -> MonthsList:
    submitted = [line.signoff for line in lines if line.signoff]
    return MonthsList(lines, month, len(submitted), sum(not found.late for found in submitted),
                      sum(found.late for found in submitted), sum(found.state == "accepted" for found in submitted),
                      sum(found.state == "returned" for found in submitted), sum(line.past_due for line in lines))


def months_list(principal: Principal, month: dt.date | None, *, due_day: int) -> MonthsList:
    """A village cadre's village month by month (the last MONTHS_SHOWN months that are over, the last first); the
    town office's (or the county's) villages for one month (default: last month), each as it stands."""
    _staff(principal)
    now = clock.now()
    last = month_of(clock.date_of(now)).previous().start
    if principal.role == "village_cadre":
        village = next(iter(area_queries.villages_in(principal.area_path)), None)
        if village is None:
            return _listed([], None)
        months = [period.start for period in reversed(months_back(last, MONTHS_SHOWN))]
        found = queries.signoffs_of_village(village.id, months[-1])
        return _listed([_line(village, start, found.get(start), due_day, now) for start in months], None)
    month = month_start(month) if month else last
    found = queries.signoffs_of_month(principal.area_path, month)
    return _listed([_line(village, month, found.get(village.id), due_day, now)
                    for village in area_queries.villages_in(principal.area_path)], month)


def last_month(principal: Principal, *, due_day: int) -> MonthsList:
    """Last month of the reader's villages (a cadre's one, a town's every one): for the home pages."""
    _staff(principal)
    now = clock.now()
    month = month_of(clock.date_of(now)).previous().start
    found = queries.signoffs_of_month(principal.area_path, month)
    return _listed([_line(village, month, found.get(village.id), due_day, now)
                    for village in area_queries.villages_in(principal.area_path)], month)

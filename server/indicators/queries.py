"""What the indicators read, in aggregate SQL per group (or per village for the monthly reports): the areas of the
tree, the people found on a period's sweeps, the villages' months submitted."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import and_, case, exists, func, select

from server.areas.models import Area
from server.areas.queries import AreaRow, area_by_path, areas_under, inside_area
from server.extensions import db
from server.months.models import MonthSignoff
from server.register.models import Household, LifeEventRecord, Person, RegisterFieldValue, ServiceAnchor, Visit
from sync.indicators import ReportMonth, VisitWindow

__all__ = ["AreaRow", "area_by_path", "areas_under", "ScheduledRow", "tier_changes", "anchors", "visits_in_window",
           "sweeps_by_group", "report_months", "JOINING_EVENTS", "ENDING_EVENTS", "MISSED_EVENT"]

JOINING_EVENTS = ("birth", "moved_in", "registered")
"""Life events that bring a person into a household of the register."""
ENDING_EVENTS = ("death", "moved_out")
"""Life events after which a person no longer lives in the household."""
MISSED_EVENT = "registered"
"""A person registered by a visit as someone already living there (a miss of the register), not a birth or a move."""


def _rows(query) -> list:
    """A query's rows through the session's connection (Core: a county's hundreds of thousands of rows without the
    ORM's processing of each)."""
    return db.session.connection().execute(query).all()


class ScheduledRow(NamedTuple):
    """A tier change or an anchor event of a person of the area, with where the person is in the register."""

    person: str
    household: str
    group_id: int
    ended: bool                   # died or moved away, as the register says now
    at: dt.datetime | dt.date     # a tier change's instant; an anchor's day
    value: str                    # the tier ("" for none); the anchor's kind


def _of_people(query, path: str | None):
    query = (query.add_columns(Person.household_uuid, Household.group_id,
                               (Person.status == "died") | (Person.residence == "moved_away"))
             .join(Household, Household.uuid == Person.household_uuid).where(Household.group_id.is_not(None)))
    if path is not None:
        query = query.join(Area, Area.id == Household.group_id).where(inside_area(Area.path, path))
    return query


def tier_changes(path: str | None) -> list[ScheduledRow]:
    """Every tier change of the area's people, each person's oldest first (what a schedule's tiers are read from)."""
    query = _of_people(select(RegisterFieldValue.record_uuid, RegisterFieldValue.visited_at, RegisterFieldValue.value)
                       .join(Person, Person.uuid == RegisterFieldValue.record_uuid)
                       .where(RegisterFieldValue.field == "tier", RegisterFieldValue.record_kind == "person"), path)
    query = query.order_by(RegisterFieldValue.record_uuid, RegisterFieldValue.version, RegisterFieldValue.id)
    return [ScheduledRow(person, household, group, bool(ended), at, value)
            for person, at, value, household, group, ended in _rows(query)]


def anchors(path: str | None) -> list[ScheduledRow]:
    """Every anchor event (a birth, an operation, a pregnancy told) of the area's people."""
    query = _of_people(select(ServiceAnchor.person_uuid, ServiceAnchor.anchor_date, ServiceAnchor.kind)
                       .join(Person, Person.uuid == ServiceAnchor.person_uuid), path)
    return [ScheduledRow(person, household, group, bool(ended), day, kind)
            for person, day, kind, household, group, ended in _rows(query)]


def visits_in_window(path: str | None, window: VisitWindow):
    """The area's completed household visits dated in the window's household range, (household uuid, day), and
    follow-ups dated in its follow-up range, (person uuid, day, follow-up type)."""
    def inside(query):
        if path is None:
            return query
        return (query.join(Household, Household.uuid == Visit.household_uuid)
                .join(Area, Area.id == Household.group_id).where(inside_area(Area.path, path)))

    households = _rows(inside(select(Visit.household_uuid, Visit.visit_date).where(
        Visit.form == "household_visit", Visit.completed.is_(True), Visit.household_uuid.is_not(None),
        Visit.visit_date >= window.household_since, Visit.visit_date <= window.household_until)))
    followups = _rows(inside(select(Visit.person_uuid, Visit.visit_date, Visit.followup_type).where(
        Visit.form == "followup", Visit.completed.is_(True), Visit.person_uuid.is_not(None),
        Visit.visit_date >= window.followup_since, Visit.visit_date <= window.followup_until)))
    return households, followups


def _sweep():
    return and_(Visit.form == "household_visit", Visit.completed.is_(True))


def sweeps_by_group(path: str | None, since: dt.date, until: dt.date) -> dict[int, tuple[int, int]]:
    """Per group: (people found on the sweeps dated from `since` to `until`, of them those already on the register
    before the visit). A sweep is a completed household visit; the people it found are the people the register
    has in that household who lived there on the day of a sweep: not dead or moved away before the household's
    first sweep of the period, not joined (born, moved in, registered) after its last. Of them, a person
    registered by one of the period's sweeps of their household as someone living there already (the life event
    "registered") was missing from the register; births and moves in are new people, on the register."""
    # Each swept household with its group and its first and last sweep (the visits grouped before people are
    # joined: a county's month is ~170,000 households, ~600,000 people).
    sweeps = (select(Visit.household_uuid, Household.group_id, func.min(Visit.visit_date).label("first"),
                     func.max(Visit.visit_date).label("last"))
              .join(Household, Household.uuid == Visit.household_uuid)
              .where(_sweep(), Visit.visit_date >= since, Visit.visit_date <= until, Household.group_id.is_not(None))
              .group_by(Visit.household_uuid, Household.group_id))
    if path is not None:
        sweeps = sweeps.join(Area, Area.id == Household.group_id).where(inside_area(Area.path, path))
    sweeps = sweeps.subquery()
    # Only what happened in the swept household's group: a move out of another village before the person arrived
    # here does not take them off this household's sweeps (docs/moves.md).
    here = func.coalesce(LifeEventRecord.group_id, sweeps.c.group_id) == sweeps.c.group_id
    ended_before = exists().where(LifeEventRecord.person_uuid == Person.uuid, here,
                                  LifeEventRecord.kind.in_(ENDING_EVENTS), LifeEventRecord.event_date < sweeps.c.first)
    joined_after = exists().where(LifeEventRecord.person_uuid == Person.uuid, here,
                                  LifeEventRecord.kind.in_(JOINING_EVENTS), LifeEventRecord.event_date > sweeps.c.last)
    registered = Visit.__table__.alias("registered_by")
    missed = exists().where(LifeEventRecord.person_uuid == Person.uuid, LifeEventRecord.kind == MISSED_EVENT,
                            registered.c.submission_id == LifeEventRecord.submission_id,
                            registered.c.household_uuid == Person.household_uuid,
                            registered.c.form == "household_visit", registered.c.completed.is_(True),
                            registered.c.visit_date >= since, registered.c.visit_date <= until)
    query = (select(sweeps.c.group_id, func.count(), func.sum(case((missed, 0), else_=1)))
             .select_from(sweeps)
             .join(Person, Person.household_uuid == sweeps.c.household_uuid)
             .where(~ended_before, ~joined_after)
             .group_by(sweeps.c.group_id))
    return {group: (found, int(on_register or 0)) for group, found, on_register in _rows(query)}


def report_months(path: str | None, since: dt.date, until: dt.date) -> list[ReportMonth]:
    """The villages' months from `since` to `until` (first days) that were submitted, with whether the first
    submission was late."""
    query = (select(MonthSignoff.village_id, MonthSignoff.month, MonthSignoff.late)
             .where(MonthSignoff.month >= since, MonthSignoff.month <= until))
    if path is not None:
        query = query.join(Area, Area.id == MonthSignoff.village_id).where(inside_area(Area.path, path))
    return [ReportMonth(village, month, bool(late)) for village, month, late in db.session.execute(query)]

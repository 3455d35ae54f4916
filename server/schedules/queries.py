"""What schedules and phone lists read from the register, for the groups of an area (Core selects, no ORM rows:
a town's or county's people are read at once)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select

from server.areas.models import Area
from server.extensions import db
from server.register.models import Household, LifeEventRecord, Person, RegisterFieldValue, ServiceAnchor, Visit

__all__ = ["area_of", "households_in", "people_in", "tier_history", "anchors_of", "completed_visits", "end_dates"]

# Events after which a person is no longer due (with the field value that says they still apply).
_ENDING_EVENTS = {"death": (Person.status, "died"), "moved_out": (Person.residence, "moved_away")}


def area_of(full_name: str) -> Area | None:
    return db.session.scalar(select(Area).where(Area.full_name == full_name))


def _in_area(path: str):
    """Households whose group lies in the area with this path."""
    return select(Household.uuid).join(Area, Area.id == Household.group_id).where(Area.path.startswith(path))


def households_in(path: str):
    """uuid, group, number, address, version, head's name and number of current members, per household."""
    members = (select(Person.household_uuid, func.count().label("members"))
               .where(Person.status.is_distinct_from("died"), Person.residence.is_distinct_from("moved_away"))
               .group_by(Person.household_uuid).subquery())
    heads = (select(Person.household_uuid, func.min(Person.name).label("head_name"))
             .where(Person.relationship == "head", Person.status.is_distinct_from("died"))
             .group_by(Person.household_uuid).subquery())
    return db.session.execute(
        select(Household.uuid, Household.group_id, Household.household_no, Household.address, Household.version,
               heads.c.head_name, func.coalesce(members.c.members, 0).label("members"))
        .join(Area, Area.id == Household.group_id).where(Area.path.startswith(path))
        .outerjoin(members, members.c.household_uuid == Household.uuid)
        .outerjoin(heads, heads.c.household_uuid == Household.uuid)).all()


def people_in(path: str, *, current_only: bool):
    """The people of the area's households, with their household's group and number (current members only: not
    dead, not moved away)."""
    query = (select(Person.uuid, Person.household_uuid, Person.name, Person.sex, Person.birth_date, Person.id_number,
                    Person.relationship, Person.phone, Person.residence, Person.hukou, Person.status, Person.tier,
                    Person.version, Household.household_no, Household.group_id)
             .join(Household, Household.uuid == Person.household_uuid)
             .join(Area, Area.id == Household.group_id).where(Area.path.startswith(path)))
    if current_only:
        query = query.where(Person.status.is_distinct_from("died"), Person.residence.is_distinct_from("moved_away"))
    return db.session.execute(query).all()


def tier_history(path: str) -> dict[str, list[tuple[dt.datetime, str]]]:
    """Each person's tier values, oldest first: (when it was set, tier or "")."""
    rows = db.session.execute(
        select(RegisterFieldValue.record_uuid, RegisterFieldValue.visited_at, RegisterFieldValue.value)
        .join(Person, Person.uuid == RegisterFieldValue.record_uuid)
        .where(RegisterFieldValue.record_kind == "person", RegisterFieldValue.field == "tier",
               Person.household_uuid.in_(_in_area(path)))
        .order_by(RegisterFieldValue.record_uuid, RegisterFieldValue.version, RegisterFieldValue.id))
    history: dict[str, list] = defaultdict(list)
    for uuid, at, value in rows:
        history[uuid].append((at, value))
    return history


def anchors_of(path: str) -> dict[str, list[tuple[str, dt.date]]]:
    rows = db.session.execute(
        select(ServiceAnchor.person_uuid, ServiceAnchor.kind, ServiceAnchor.anchor_date)
        .join(Person, Person.uuid == ServiceAnchor.person_uuid).where(Person.household_uuid.in_(_in_area(path))))
    anchors: dict[str, list] = defaultdict(list)
    for uuid, kind, day in rows:
        anchors[uuid].append((kind, day))
    return anchors


def completed_visits(path: str) -> tuple[dict[str, list[dt.date]], dict[str, list[tuple[dt.date, str]]]]:
    """Completed household visits by household ({household: [dates]}) and completed follow-ups by person
    ({person: [(date, followup type)]}), in the area."""
    in_area = _in_area(path)
    households: dict[str, list] = defaultdict(list)
    for uuid, day in db.session.execute(select(Visit.household_uuid, Visit.visit_date).where(
            Visit.completed.is_(True), Visit.form == "household_visit", Visit.visit_date.is_not(None),
            Visit.household_uuid.in_(in_area))):
        households[uuid].append(day)
    people: dict[str, list] = defaultdict(list)
    for uuid, day, kind in db.session.execute(
            select(Visit.person_uuid, Visit.visit_date, Visit.followup_type)
            .join(Person, Person.uuid == Visit.person_uuid).where(
                Visit.completed.is_(True), Visit.form == "followup", Visit.visit_date.is_not(None),
                Person.household_uuid.in_(in_area))):
        people[uuid].append((day, kind))
    return households, people


def end_dates(path: str) -> dict[str, dt.date]:
    """When people who died or moved away did so (their latest such event, where the register still says so)."""
    ends: dict[str, dt.date] = {}
    for kind, (column, value) in _ENDING_EVENTS.items():
        for uuid, day in db.session.execute(
                select(LifeEventRecord.person_uuid, func.max(LifeEventRecord.event_date))
                .join(Person, Person.uuid == LifeEventRecord.person_uuid)
                .where(LifeEventRecord.kind == kind, column == value, LifeEventRecord.event_date.is_not(None),
                       Person.household_uuid.in_(_in_area(path)))
                .group_by(LifeEventRecord.person_uuid)):
            ends[uuid] = min(day, ends.get(uuid, day))
    return ends

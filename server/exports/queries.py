"""What the reports read: dated register events with their group and arrival, collectors' syncs, earlier report
runs, and the register's people group by group (streamed)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from server.areas.models import Area
from server.exports.models import ReportRun
from server.extensions import db
from server.register.models import Household, LifeEventRecord, Person
from server.submissions.models import Submission
from server.users.models import User
from sync.periods import as_utc

__all__ = ["GroupName", "GroupEvent", "dated_events", "groups_in", "group_names", "collectors_by_group", "receipts",
           "previous_run", "add_run", "register_people"]

_group, _village = aliased(Area), aliased(Area)


class GroupName(NamedTuple):
    """A group as the reports name it: its village's name and its own full name."""

    village: str
    group: str


class GroupEvent(NamedTuple):
    """A life event of a person of a group, on its day, with when the submission telling it arrived."""

    village: str
    group: str
    kind: str
    day: dt.date
    received: dt.datetime


def groups_in(path: str) -> list[GroupName]:
    """The village name and group full name of every group in the area, in name order."""
    return [GroupName(row.village, row.group) for row in db.session.execute(
        select(_village.name.label("village"), _group.full_name.label("group"))
        .join(_village, _village.id == _group.parent_id)
        .where(_group.kind == "group", _group.path.startswith(path)).order_by(_group.full_name))]


def group_names(path: str) -> dict[int, GroupName]:
    """group id → the village name and group full name of the area's groups."""
    return {row.id: GroupName(row.village, row.group) for row in db.session.execute(
        select(_group.id, _village.name.label("village"), _group.full_name.label("group"))
        .join(_village, _village.id == _group.parent_id)
        .where(_group.kind == "group", _group.path.startswith(path)))}


def collectors_by_group(path: str) -> dict[int, str]:
    """group id → its collectors' user names (joined when a group has more than one)."""
    found: dict[int, list[str]] = {}
    for row in db.session.execute(
            select(User.area_id, User.username).join(_group, _group.id == User.area_id)
            .where(User.role == "collector", User.active.is_(True), _group.path.startswith(path))
            .order_by(User.username)):
        found.setdefault(row.area_id, []).append(row.username)
    return {group_id: "、".join(names) for group_id, names in found.items()}


def dated_events(path: str) -> list[GroupEvent]:
    """Every dated life event of the area's people (in their household's group now), with when the submission
    telling it arrived."""
    rows = db.session.execute(
        select(_village.name.label("village"), _group.full_name.label("group"), LifeEventRecord.kind,
               LifeEventRecord.event_date, Submission.received_at)
        .join(Person, Person.uuid == LifeEventRecord.person_uuid)
        .join(Household, Household.uuid == Person.household_uuid)
        .join(_group, _group.id == Household.group_id).join(_village, _village.id == _group.parent_id)
        .join(Submission, Submission.id == LifeEventRecord.submission_id)
        .where(_group.path.startswith(path), LifeEventRecord.event_date.is_not(None)))
    return [GroupEvent(row.village, row.group, row.kind, row.event_date, as_utc(row.received_at)) for row in rows]


def receipts(path: str, since: dt.datetime, until: dt.datetime) -> dict[str, list[dt.datetime]]:
    """When submissions collected in each group arrived in [since, until)."""
    found: dict[str, list[dt.datetime]] = {}
    for row in db.session.execute(
            select(_group.full_name, Submission.received_at).join(_group, _group.id == Submission.area_id)
            .where(_group.path.startswith(path), Submission.received_at >= since, Submission.received_at < until)):
        found.setdefault(row.full_name, []).append(as_utc(row.received_at))
    return found


def previous_run(kind: str, area_id: int, month: dt.date) -> dt.datetime | None:
    """When the report of the month before was last produced for this area."""
    at = db.session.scalar(select(func.max(ReportRun.produced_at)).where(
        ReportRun.kind == kind, ReportRun.area_id == area_id, ReportRun.month < month))
    return as_utc(at) if at else None


def add_run(**values) -> None:
    db.session.add(ReportRun(**values))


def register_people(path: str):
    """The area's people, group after group, household after household: a streamed result (rows fetched in
    batches), for the register export."""
    return db.session.execute(
        select(_village.name.label("village"), _group.full_name.label("group"), Household.household_no,
               Household.address, Person.name, Person.sex, Person.birth_date, Person.id_number, Person.relationship,
               Person.phone, Person.residence, Person.hukou, Person.status, Person.tier)
        .join(Household, Household.uuid == Person.household_uuid)
        .join(_group, _group.id == Household.group_id).join(_village, _village.id == _group.parent_id)
        .where(_group.path.startswith(path))
        .order_by(_group.full_name, Household.household_no, Household.uuid, Person.relationship != "head",
                  Person.birth_date, Person.uuid)
        .execution_options(yield_per=2000))

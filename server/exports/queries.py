"""What the reports read: dated register events with their group and arrival, the month's changes person by person,
the month's visits by outcome, collectors' syncs, earlier report runs, and the register's people group by group
(streamed)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import case, func, select, union_all
from sqlalchemy.orm import aliased

from server.areas.models import Area
from server.exports.models import ReportRun
from server.extensions import db
from server.register.models import Household, LifeEventRecord, Person, RegisterDecision, Visit
from server.register.queries import (
    area_full_names,
    departure_group_id,
    event_group_id,
    event_household_uuid,
    event_in_area,
)
from server.submissions.models import Submission
from server.users.models import User
from sync.monthly_change import move_place
from sync.periods import as_utc

__all__ = ["GroupName", "GroupEvent", "PersonEvent", "VisitOutcome", "dated_events", "person_events",
           "visit_outcomes_by_village", "groups_in", "group_names", "collectors_by_group", "receipts", "PRODUCED_RUN",
           "SUBMITTED_RUN", "previous_run", "add_run", "groups_with_people", "register_people"]

_group, _village, _head, _then = aliased(Area), aliased(Area), aliased(Person), aliased(Household)


class GroupName(NamedTuple):
    """A group as the reports know it: its village's name, its full name (which tells it from every other) and its
    own name (第一组, what a report shows)."""

    village: str
    group: str
    name: str


class GroupEvent(NamedTuple):
    """A life event of a person of a group, on its day, with when the submission telling it arrived."""

    village: str
    group: str
    kind: str
    day: dt.date
    received: dt.datetime
    person: str = ""
    seq: int = 0                # the event's id (the order of a person's events of one day)


class PersonEvent(NamedTuple):
    """A life event of a person of a group, with the person, the household and the visit that told it."""

    village: str
    group: str
    kind: str
    day: dt.date
    received: dt.datetime
    person_name: str
    household_no: str
    head_name: str
    place: str | None           # where a move went or came from, by name
    spouse_name: str | None
    submission_id: int | None   # None: entered on the web (a decision)
    collector: str              # the collector's name (their user name when the account is not on this server), or
                                # the staff member's who entered it on the web


class VisitOutcome(NamedTuple):
    """A visit of a group's household (or, for a household not in the register, of its collector's group)."""

    village: str
    day: dt.date
    outcome: str


def groups_in(path: str) -> list[GroupName]:
    """The village name, full name and own name of every group in the area, in full name order."""
    return [GroupName(row.village, row.group, row.name) for row in db.session.execute(
        select(_village.name.label("village"), _group.full_name.label("group"), _group.name)
        .join(_village, _village.id == _group.parent_id)
        .where(_group.kind == "group", _group.path.startswith(path)).order_by(_group.full_name))]


def group_names(path: str) -> dict[int, GroupName]:
    """group id → the village name, full name and own name of the area's groups."""
    return {row.id: GroupName(row.village, row.group, row.name) for row in db.session.execute(
        select(_group.id, _village.name.label("village"), _group.full_name.label("group"), _group.name)
        .join(_village, _village.id == _group.parent_id)
        .where(_group.kind == "group", _group.path.startswith(path)))}


def collectors_by_group(path: str) -> dict[int, str]:
    """group id → its collectors' names as people know them (the display name, else the user name; joined when a
    group has more than one)."""
    found: dict[int, list[str]] = {}
    name = func.coalesce(func.nullif(User.display_name, ""), User.username)
    for row in db.session.execute(
            select(User.area_id, name.label("name")).join(_group, _group.id == User.area_id)
            .where(User.role == "collector", User.active.is_(True), _group.path.startswith(path))
            .order_by(name)):
        found.setdefault(row.area_id, []).append(row.name)
    return {group_id: "、".join(names) for group_id, names in found.items()}


# When the register learnt of a life event: the visit telling it arrived, or a person registered it on the web.
_EVENT_RECEIVED = func.coalesce(Submission.received_at, RegisterDecision.decided_at).label("received_at")


def dated_events(path: str) -> list[GroupEvent]:
    """Every dated life event of the area's groups (the group the person lived in when it happened: a move out in
    the group left, a move in in the group arrived in), with whose it is and when the submission telling it
    arrived."""
    group_id = event_group_id()
    rows = db.session.execute(
        select(_village.name.label("village"), _group.full_name.label("group"), LifeEventRecord.kind,
               LifeEventRecord.event_date, _EVENT_RECEIVED, LifeEventRecord.person_uuid, LifeEventRecord.id)
        .outerjoin(Person, Person.uuid == LifeEventRecord.person_uuid)
        .outerjoin(Household, Household.uuid == Person.household_uuid)
        .join(_group, _group.id == group_id).join(_village, _village.id == _group.parent_id)
        .outerjoin(Submission, Submission.id == LifeEventRecord.submission_id)
        .outerjoin(RegisterDecision, RegisterDecision.id == LifeEventRecord.decision_id)
        .where(event_in_area(path), _group.path.startswith(path), LifeEventRecord.event_date.is_not(None)))
    return [GroupEvent(row.village, row.group, row.kind, row.event_date, as_utc(row.received_at), row.person_uuid,
                       row.id) for row in rows]


def person_events(path: str, since: dt.date, until: dt.date) -> list[PersonEvent]:
    """The life events of the area's groups (the group the person lived in when it happened) dated from `since`
    to `until` (inclusive), with the person's name, the household they lived in then and its head's name, where a
    move went or came from (by name: sync.monthly_change.move_place), and the visit's collector (or, entered on
    the web, the staff member who entered it)."""
    group_id = event_group_id()
    household_uuid = event_household_uuid(group_id)
    head_name = (select(_head.name).where(_head.household_uuid == _then.uuid, _head.relationship == "head")
                 .order_by(case((_head.status == "died", 1), else_=0), _head.name).limit(1).scalar_subquery())
    decider = aliased(User)
    rows = list(db.session.execute(
        select(_village.name.label("village"), _group.full_name.label("group"), LifeEventRecord.kind,
               LifeEventRecord.event_date, _EVENT_RECEIVED, Person.name, _then.household_no,
               head_name.label("head_name"), LifeEventRecord.place, LifeEventRecord.spouse_name,
               LifeEventRecord.submission_id, LifeEventRecord.destination_id,
               departure_group_id().label("left_group_id"),
               func.coalesce(func.nullif(User.display_name, ""), Submission.collector_name,
                             func.nullif(decider.display_name, ""), decider.username).label("collector"))
        .join(Person, Person.uuid == LifeEventRecord.person_uuid)
        .outerjoin(Household, Household.uuid == Person.household_uuid)
        .join(_group, _group.id == group_id).join(_village, _village.id == _group.parent_id)
        .outerjoin(_then, _then.uuid == household_uuid)
        .outerjoin(Submission, Submission.id == LifeEventRecord.submission_id)
        .outerjoin(RegisterDecision, RegisterDecision.id == LifeEventRecord.decision_id)
        .outerjoin(User, User.username == Submission.collector_name)
        .outerjoin(decider, decider.id == RegisterDecision.decided_by)
        .where(event_in_area(path), _group.path.startswith(path), LifeEventRecord.event_date >= since,
               LifeEventRecord.event_date <= until)))
    names = area_full_names([*(row.destination_id for row in rows), *(row.left_group_id for row in rows)])
    return [PersonEvent(row.village, row.group, row.kind, row.event_date, as_utc(row.received_at), row.name or "",
                        row.household_no or "", row.head_name or "",
                        move_place(row.kind, row.place, names.get(row.destination_id),
                                   names.get(row.left_group_id)),
                        row.spouse_name, row.submission_id, row.collector or "") for row in rows]


def visit_outcomes_by_village(path: str, since: dt.date, until: dt.date) -> list[VisitOutcome]:
    """The outcome of every visit in the area dated from `since` to `until` (inclusive), by the village of the
    household visited (a household not in the register: the collector's group's); visits the merge refused as
    outside their collector's group are left out."""
    # Two index-driven halves instead of one join on coalesce(household's group, collector's group), which no index
    # serves (it read every visit of the month in the county for one village): the visits of the area's households,
    # then those of the area's collectors to a household not in the register (or in no group).
    def in_area(query):
        return (query.join(_village, _village.id == _group.parent_id)
                .where(_group.path.startswith(path), Visit.refusal.is_(None), Visit.visit_date >= since,
                       Visit.visit_date <= until))
    columns = (_village.name.label("village"), Visit.visit_date, Visit.outcome)
    registered = in_area(select(*columns).select_from(_group).join(Household, Household.group_id == _group.id)
                         .join(Visit, Visit.household_uuid == Household.uuid))
    unregistered = in_area(select(*columns).select_from(_group).join(Submission, Submission.area_id == _group.id)
                           .join(Visit, Visit.submission_id == Submission.id)
                           .outerjoin(Household, Household.uuid == Visit.household_uuid)
                           .where(Household.group_id.is_(None)))
    rows = db.session.execute(union_all(registered, unregistered))
    return [VisitOutcome(row.village, row.visit_date, row.outcome) for row in rows]


def receipts(path: str, since: dt.datetime, until: dt.datetime) -> dict[str, list[dt.datetime]]:
    """When submissions collected in each group arrived in [since, until)."""
    found: dict[str, list[dt.datetime]] = {}
    for row in db.session.execute(
            select(_group.full_name, Submission.received_at).join(_group, _group.id == Submission.area_id)
            .where(_group.path.startswith(path), Submission.received_at >= since, Submission.received_at < until)):
        found.setdefault(row.full_name, []).append(as_utc(row.received_at))
    return found


PRODUCED_RUN, SUBMITTED_RUN = "monthly_change", "monthly_change_submitted"
"""A monthly change report downloaded, and one a village submitted when it signed its month off."""


def previous_run(area_id: int, month: dt.date) -> dt.datetime | None:
    """Where the late corrections of the area's report for `month` start: when the area last submitted a report of
    an earlier month (signed off: what the town office holds), else when one was last produced (downloaded). A
    download after a sign-off does not move it, so no correction falls between two reports."""
    for kinds in ((SUBMITTED_RUN,), (SUBMITTED_RUN, PRODUCED_RUN)):
        at = db.session.scalar(select(func.max(ReportRun.produced_at)).where(
            ReportRun.kind.in_(kinds), ReportRun.area_id == area_id, ReportRun.month < month))
        if at:
            return as_utc(at)
    return None


def add_run(**values) -> None:
    db.session.add(ReportRun(**values))


def groups_with_people(path: str) -> list[GroupName]:
    """The area's groups that have someone in the register (the register export's sheets), in full name order."""
    return [GroupName(row.village, row.group, row.name) for row in db.session.execute(
        select(_village.name.label("village"), _group.full_name.label("group"), _group.name)
        .join(_village, _village.id == _group.parent_id)
        .where(_group.kind == "group", _group.path.startswith(path),
               select(Person.uuid).join(Household, Household.uuid == Person.household_uuid)
               .where(Household.group_id == _group.id).exists())
        .order_by(_group.full_name))]


def register_people(path: str):
    """The area's people, group after group, household after household: a streamed result (rows fetched in
    batches), for the register export."""
    return db.session.execute(
        select(_village.name.label("village"), _group.full_name.label("group"), _group.name.label("group_name"),
               Household.household_no,
               Household.address, Person.name, Person.sex, Person.birth_date, Person.id_number, Person.relationship,
               Person.phone, Person.residence, Person.hukou, Person.status, Person.tier)
        .join(Household, Household.uuid == Person.household_uuid)
        .join(_group, _group.id == Household.group_id).join(_village, _village.id == _group.parent_id)
        .where(_group.path.startswith(path))
        .order_by(_group.full_name, Household.household_no, Household.uuid, Person.relationship != "head",
                  Person.birth_date, Person.uuid)
        .execution_options(yield_per=2000))

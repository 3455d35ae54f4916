"""What the named registers read: life events, the people working away, follow-up visits, the areas to choose from, the forms of visits (named rows)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import NamedTuple

from sqlalchemy import and_, false, func, or_, select, true, union_all
from sqlalchemy.orm import aliased

from server.areas.models import Area
from server.areas.queries import inside_area
from server.boundary import chunks
from server.database import matching
from server.extensions import db
from server.register.models import Household, LifeEventRecord, Person, RegisterFieldValue, ServiceItemRecord, Visit
from server.register.queries import (
    area_full_names,
    departure_group_id,
    event_group_id,
    event_household_uuid,
    event_in_area,
)
from server.services.queries import ITEMS_ORDER, ItemKey, PlacedItem, item_keys, items_of, items_query, placed
from server.submissions.models import Submission
from server.users.models import User
from sync.monthly_change import move_place, place_name

__all__ = ["Listing", "EventRecord", "AwayRecord", "FollowupRecord", "AreaName", "life_events", "working_away",
           "followup_visits", "service_items", "service_item_keys", "service_items_by_key", "services_given",
           "area_menu", "area_by_id", "area_by_name", "area_by_path", "group_names"]

_group = aliased(Area, name="group_area")
_village = aliased(Area, name="village_area")
_then = aliased(Household, name="household_then")   # the household a person lived in when an event happened


class Listing:
    """A register's source rows for an area and a period: how many there are, and any stretch of them in the
    register's order, each read when asked for (a page reads its fifty rows, a workbook all of them)."""

    def __init__(self, query, order: tuple, record: type | None, complete: Callable[[list], list] | None = None) -> None:
        self.query, self.order, self.record, self.complete = query, order, record, complete

    def count(self) -> int:
        return db.session.scalar(select(func.count()).select_from(self.query.subquery()))

    def rows(self, offset: int = 0, limit: int | None = None) -> list:
        query = self.query.order_by(*self.order).offset(offset or None).limit(limit)
        found = list(db.session.execute(query))
        found = [self.record(**row._mapping) for row in found] if self.record is not None else found
        return self.complete(found) if self.complete else found


class EventRecord(NamedTuple):
    """A life event with its person as the register has them now, placed where they lived when it happened (the
    group, the household), where a move came from and went to (by name), and the visit that told it."""

    kind: str
    event_date: dt.date | None
    place: str | None
    spouse_name: str | None
    submission_id: int
    visit_date: dt.date | None
    person_name: str | None
    sex: str | None
    birth_date: str | None
    phone: str | None
    residence: str | None
    household_no: str | None
    address: str | None
    village: str
    group: str
    group_full_name: str = ""
    destination_id: int | None = None
    left_group_id: int | None = None
    origin: str | None = None           # a move: where from, by name (sync.monthly_change.move_place)
    destination: str | None = None      # a move: where to, by name


def _placed(query, area_path: str | None):
    """People placed in their household's group and village, inside an area (None: everywhere)."""
    query = (query.join(Household, Household.uuid == Person.household_uuid)
             .join(_group, _group.id == Household.group_id).join(_village, _village.id == _group.parent_id))
    return query if area_path is None else query.where(inside_area(_group.path, area_path))


_PLACE_COLUMNS = (Household.household_no, Household.address, _village.name.label("village"),
                  _group.name.label("group"))
_PERSON_COLUMNS = (Person.name.label("person_name"), Person.sex, Person.birth_date, Person.phone, Person.residence)


def _visit_date_of_event():
    """The date of the visit that told a life event (read per event, by the visit's key)."""
    return (select(Visit.visit_date).where(Visit.submission_id == LifeEventRecord.submission_id)
            .correlate(LifeEventRecord).scalar_subquery())


def _dated_in(since: dt.date | None, until: dt.date | None):
    """A life event dated in the period: by its own date, or by its visit's when the visit gave it none (the visit
    is read only for those, and so costs nothing in the plan of the common case)."""
    def within(day):
        return and_(*([day >= since] if since is not None else []), *([day <= until] if until is not None else []))

    if since is None and until is None:
        return true()
    return or_(within(LifeEventRecord.event_date),
               and_(LifeEventRecord.event_date.is_(None), within(_visit_date_of_event())))


def life_events(area_path: str | None, kinds: Iterable[str], since: dt.date | None,
                until: dt.date | None) -> Listing:
    """Life events of these kinds in the groups of an area (the group the person lived in when it happened: a move
    out in the group left, a move in in the group arrived in), dated from `since` to `until` (inclusive; an event
    the visit gave no date is dated by the visit), oldest first; a move with where from and where to."""
    group_id = event_group_id()
    query = (select(LifeEventRecord.kind, LifeEventRecord.event_date, LifeEventRecord.place,
                    LifeEventRecord.spouse_name, LifeEventRecord.submission_id,
                    _visit_date_of_event().label("visit_date"), *_PERSON_COLUMNS, _then.household_no, _then.address,
                    _village.name.label("village"), _group.name.label("group"),
                    _group.full_name.label("group_full_name"), LifeEventRecord.destination_id,
                    departure_group_id().label("left_group_id"))
             .select_from(LifeEventRecord).join(Person, Person.uuid == LifeEventRecord.person_uuid)
             .outerjoin(Household, Household.uuid == Person.household_uuid)
             .join(_group, _group.id == group_id).join(_village, _village.id == _group.parent_id)
             .outerjoin(_then, _then.uuid == event_household_uuid(group_id)))
    if area_path is not None:
        query = query.where(event_in_area(area_path), inside_area(_group.path, area_path))
    query = query.where(LifeEventRecord.kind.in_(list(kinds)), _dated_in(since, until))
    day = func.coalesce(LifeEventRecord.event_date, _visit_date_of_event())
    return Listing(query, (day, LifeEventRecord.id), EventRecord, _with_move_ends)


def _with_move_ends(found: list[EventRecord]) -> list[EventRecord]:
    """Moves with where from and where to, by name: a move out from the village it left to its destination; a
    move in from the village the person left (their move out before it) to the village it arrived in."""
    names = area_full_names([*(row.destination_id for row in found), *(row.left_group_id for row in found)])
    ends = []
    for row in found:
        here = place_name(row.group_full_name.rsplit("/", 1)[0])
        there = move_place(row.kind, row.place, names.get(row.destination_id), names.get(row.left_group_id))
        if row.kind == "moved_out":
            row = row._replace(origin=here, destination=there)
        elif row.kind == "moved_in":
            row = row._replace(origin=there, destination=here)
        ends.append(row)
    return ends


class AwayRecord(NamedTuple):
    """Someone working away (now, or having left in the period) with their latest departure a visit told."""

    person_uuid: str
    person_name: str | None
    sex: str | None
    birth_date: str | None
    phone: str | None
    residence: str | None
    household_no: str | None
    address: str | None
    village: str
    group: str
    left_on: dt.date | None
    destination: str | None
    submission_id: int | None


def working_away(area_path: str | None, since: dt.date | None, until: dt.date | None) -> Listing:
    """Everyone of an area working away now (with their latest departure, if a visit told one; else the visit
    that last set where they live), and the departures dated in the period of people who are back or gone since
    (where they lived when they left); by village, group, household and name."""
    left = LifeEventRecord.kind == "left_for_work"

    def latest(column):   # of the person's latest departure, looked up by person (not the county's grouped)
        return (select(column).where(LifeEventRecord.person_uuid == Person.uuid, left)
                .order_by(LifeEventRecord.id.desc()).limit(1).correlate(Person).scalar_subquery())

    columns = (Person.uuid.label("person_uuid"), *_PERSON_COLUMNS, *_PLACE_COLUMNS,
               latest(LifeEventRecord.event_date).label("left_on"), latest(LifeEventRecord.place).label("destination"),
               latest(LifeEventRecord.submission_id).label("submission_id"))
    away_now = _placed(select(*columns).select_from(Person), area_path)
    away_now = away_now.where(Person.residence == "working_away")
    # A departure of someone back or gone since: placed where they lived when they left (they may have moved).
    group_id = event_group_id()
    left_since = (select(Person.uuid.label("person_uuid"), *_PERSON_COLUMNS, _then.household_no, _then.address,
                         _village.name.label("village"), _group.name.label("group"),
                         LifeEventRecord.event_date.label("left_on"), LifeEventRecord.place.label("destination"),
                         LifeEventRecord.submission_id)
                  .select_from(LifeEventRecord).join(Person, Person.uuid == LifeEventRecord.person_uuid)
                  .outerjoin(Household, Household.uuid == Person.household_uuid)
                  .join(_group, _group.id == group_id).join(_village, _village.id == _group.parent_id)
                  .outerjoin(_then, _then.uuid == event_household_uuid(group_id)))
    if area_path is not None:   # the period's departures of the county, then placed (not the area's people's events)
        left_since = left_since.where(inside_area(_group.path, area_path))
    left_since = left_since.where(left, or_(Person.residence.is_(None), Person.residence != "working_away"),
                                  _dated_in(since, until))
    both = union_all(away_now, left_since).subquery()
    order = (both.c.village, both.c.group, both.c.household_no, both.c.person_name, both.c.left_on.desc(),
             both.c.person_uuid)
    return Listing(select(both), order, AwayRecord, _with_residence_visits)


def _with_residence_visits(found: list[AwayRecord]) -> list[AwayRecord]:
    """Records of people registered as working away (no departure told) linked to the visit that last set where
    they live."""
    set_by: dict[str, int | None] = {}
    for chunk in chunks(row.person_uuid for row in found if row.submission_id is None):
        for row in db.session.execute(
                select(RegisterFieldValue.record_uuid, RegisterFieldValue.submission_id)
                .where(RegisterFieldValue.record_kind == "person", RegisterFieldValue.field == "residence",
                       RegisterFieldValue.record_uuid.in_(chunk))
                .order_by(RegisterFieldValue.record_uuid, RegisterFieldValue.version, RegisterFieldValue.id)):
            set_by[row.record_uuid] = row.submission_id       # the last one wins
    return [row._replace(submission_id=set_by.get(row.person_uuid)) if row.submission_id is None else row
            for row in found]


class FollowupRecord(NamedTuple):
    submission_id: int
    form_version: str | None
    followup_type: str | None
    outcome: str | None
    visit_date: dt.date | None
    next_visit: dt.date | None
    collector: str | None
    person_name: str | None
    household_no: str | None
    village: str
    group: str


def followup_visits(area_path: str | None, types: Iterable[str], since: dt.date | None,
                    until: dt.date | None) -> Listing:
    """Follow-up visits of these types (completed or not) of people in an area, dated in the period, oldest first
    (visits the merge refused are not in the register)."""
    query = _placed(select(Visit.submission_id, Visit.form_version, Visit.followup_type, Visit.outcome,
                           Visit.visit_date, Visit.next_visit,
                           func.coalesce(User.display_name, Submission.collector_name).label("collector"),
                           Person.name.label("person_name"), Household.household_no,
                           _village.name.label("village"), _group.name.label("group"))
                    .select_from(Visit).join(Submission, Submission.id == Visit.submission_id)
                    .outerjoin(User, User.username == Submission.collector_name)   # the collector by display name
                    .join(Person, Person.uuid == Visit.person_uuid), area_path)
    query = query.where(Visit.form == "followup", Visit.followup_type.in_(list(types)), Visit.refusal.is_(None))
    if since is not None:
        query = query.where(Visit.visit_date >= since)
    if until is not None:
        query = query.where(Visit.visit_date <= until)
    return Listing(query, (Visit.visit_date, Visit.submission_id), FollowupRecord)


def service_items(area_path: str | None, kinds: Iterable[str], since: dt.date | None, until: dt.date | None,
                  codes: Iterable[str] | None = None, or_recoded: bool = False) -> Listing:
    """Service items of these kinds (and codes, as the visit wrote them; `or_recoded`: or as a correction may have
    made them) of households in an area, on visits dated in the period, oldest visit first, read as they stand a
    stretch at a time (a page reads its own items' states)."""
    return Listing(items_query(area_path, kinds, since=since, until=until, codes=codes, or_recoded=or_recoded),
                   ITEMS_ORDER, None, placed)


def service_item_keys(area_path: str | None, kinds: Iterable[str], since: dt.date | None, until: dt.date | None,
                      codes: Iterable[str]) -> list[ItemKey]:
    """The keys of the service items of service_items(…, codes, or_recoded=True), in its order, each with its code
    as written and whether it was recoded since."""
    return item_keys(items_query(area_path, kinds, since=since, until=until, codes=codes, or_recoded=True))


def service_items_by_key(keys: Iterable[str]) -> list[PlacedItem]:
    """Service items by key, as they stand, in the order of the keys."""
    return items_of(keys)


def services_given(submission_ids: Iterable[int]) -> dict[int, list[tuple[str, str | None]]]:
    """The services each of these visits gave: (code, the "other" service's text), in the visit's order."""
    given: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for chunk in chunks(submission_ids):
        for row in db.session.execute(
                select(ServiceItemRecord.submission_id, ServiceItemRecord.code, ServiceItemRecord.text)
                .where(ServiceItemRecord.kind == "service", ServiceItemRecord.submission_id.in_(chunk))
                .order_by(ServiceItemRecord.submission_id, ServiceItemRecord.seq)):
            given[row.submission_id].append((row.code or "", row.text))
    return given


class AreaName(NamedTuple):
    id: int
    kind: str               # town, village, group
    full_name: str
    path: str


def area_menu(area_path: str | None, village_path: str | None) -> list[AreaName]:
    """An area and the towns and villages inside it (None: all), and the groups of one village (None: none), by
    name: a menu that offers a county's villages, not its six thousand groups."""
    groups = inside_area(Area.path, village_path) if village_path is not None else false()
    query = (select(Area.id, Area.kind, Area.full_name, Area.path).where(or_(Area.kind != "group", groups))
             .order_by(Area.full_name))
    if area_path is not None:
        query = query.where(inside_area(Area.path, area_path))
    return [AreaName(**row._mapping) for row in db.session.execute(query)]


def area_by_name(full_name: str) -> AreaName | None:
    row = db.session.execute(select(Area.id, Area.kind, Area.full_name, Area.path)
                             .where(Area.full_name == full_name)).first()
    return None if row is None else AreaName(**row._mapping)


def area_by_path(path: str) -> AreaName | None:
    row = db.session.execute(select(Area.id, Area.kind, Area.full_name, Area.path).where(Area.path == path)).first()
    return None if row is None else AreaName(**row._mapping)


def area_by_id(area_id: int) -> AreaName | None:
    row = db.session.execute(select(Area.id, Area.kind, Area.full_name, Area.path).where(Area.id == area_id)).first()
    return None if row is None else AreaName(**row._mapping)


class GroupName(NamedTuple):
    village: str
    group: str


def group_names(area_path: str | None, ids: Iterable[int | None] | None = None) -> dict[int, GroupName]:
    """The village and group names of each group of an area (or of these of its groups: a page's), by the group's
    id."""
    query = select(_group.id, _village.name.label("village"), _group.name.label("group")).join(
        _village, _village.id == _group.parent_id).where(_group.kind == "group")
    if area_path is not None:
        query = query.where(inside_area(_group.path, area_path))
    if ids is None:
        return {row.id: GroupName(row.village, row.group) for row in db.session.execute(query)}
    return {row.id: GroupName(row.village, row.group)
            for asked in matching(_group.id, {group_id for group_id in ids if group_id is not None})
            for row in db.session.execute(query.where(asked))}

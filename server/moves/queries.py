"""What the moves pages read (named rows): people's moves out with where they left from and where they are expected,
their arrivals, the households an arrival may join, the villages and towns a person may move to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import aliased

from server.areas.models import Area
from server.areas.queries import inside_area
from server.extensions import db
from server.register.models import Household, LifeEventRecord, Person

__all__ = ["Departure", "departures", "Arrival", "arrivals_of", "HouseholdChoice", "households_in", "Destination",
           "destinations", "last_arrival", "moved_out_on"]


class Departure(NamedTuple):
    """A move out of a person: who, from which group and village, when, to where; `open` while they are recorded
    as moved away and it is their last move out (expected at the destination, if it is one of the register's)."""

    event_id: int
    person_uuid: str
    name: str | None
    sex: str | None
    birth_date: str | None
    moved_on: dt.date | None
    place: str | None                   # a place outside the register, as written
    origin_path: str | None             # the group they left
    origin_name: str | None             # its full name ("青山镇/东村/第一组")
    destination_path: str | None        # the village or town they are expected in
    destination_name: str | None
    open: bool


_ORIGIN, _DESTINATION = aliased(Area), aliased(Area)


def _departures_query():
    latest = (select(LifeEventRecord.person_uuid, func.max(LifeEventRecord.id).label("id"))
              .where(LifeEventRecord.kind == "moved_out").group_by(LifeEventRecord.person_uuid).subquery())
    is_open = and_(LifeEventRecord.id == latest.c.id, Person.residence == "moved_away")
    query = (select(LifeEventRecord.id, LifeEventRecord.person_uuid, Person.name, Person.sex, Person.birth_date,
                    LifeEventRecord.event_date, LifeEventRecord.place, _ORIGIN.path.label("origin_path"),
                    _ORIGIN.full_name.label("origin_name"), _DESTINATION.path.label("destination_path"),
                    _DESTINATION.full_name.label("destination_name"), latest.c.id.label("latest"),
                    Person.residence)
             .join(Person, Person.uuid == LifeEventRecord.person_uuid)
             .join(latest, latest.c.person_uuid == LifeEventRecord.person_uuid)
             .outerjoin(_ORIGIN, _ORIGIN.id == LifeEventRecord.group_id)
             .outerjoin(_DESTINATION, _DESTINATION.id == LifeEventRecord.destination_id)
             .where(LifeEventRecord.kind == "moved_out"))
    return query, is_open


def departures(*, from_area: str | None = None, towards: str | None = None, since: dt.date | None = None,
               everywhere: bool = False) -> list[Departure]:
    """Moves out, oldest first: those that left `from_area` (on or after `since`, or still open), or the open ones
    expected in `towards` (its villages, or the town holding it); `everywhere` (the county): every open one."""
    query, is_open = _departures_query()
    if from_area is not None:
        query = query.where(inside_area(_ORIGIN.path, from_area),
                            or_(is_open, LifeEventRecord.event_date >= since) if since is not None else is_open)
    elif towards is not None:
        query = query.where(is_open, or_(inside_area(_DESTINATION.path, towards),
                                         literal(towards).startswith(_DESTINATION.path)))
    elif everywhere:
        query = query.where(is_open)
    else:
        return []
    rows = db.session.execute(query.order_by(LifeEventRecord.event_date, LifeEventRecord.id))
    return [Departure(row.id, row.person_uuid, row.name, row.sex, row.birth_date, row.event_date, row.place,
                      row.origin_path, row.origin_name, row.destination_path, row.destination_name,
                      row.id == row.latest and row.residence == "moved_away") for row in rows]


class Arrival(NamedTuple):
    """A move in of a person: when, into which group."""

    event_id: int
    person_uuid: str
    arrived_on: dt.date | None
    group_name: str | None


def arrivals_of(person_uuids: Iterable[str]) -> dict[str, list[Arrival]]:
    """The moves in of these people, oldest first, by person."""
    uuids = set(person_uuids)
    found: dict[str, list[Arrival]] = {uuid: [] for uuid in uuids}
    if not uuids:
        return found
    rows = db.session.execute(
        select(LifeEventRecord.id, LifeEventRecord.person_uuid, LifeEventRecord.event_date, Area.full_name)
        .outerjoin(Area, Area.id == LifeEventRecord.group_id)
        .where(LifeEventRecord.kind == "moved_in", LifeEventRecord.person_uuid.in_(uuids))
        .order_by(LifeEventRecord.id))
    for row in rows:
        found[row.person_uuid].append(Arrival(row.id, row.person_uuid, row.event_date, row.full_name))
    return found


def last_arrival(person_uuid: str) -> int | None:
    """The id of a person's last move in (None: none)."""
    return db.session.scalar(select(func.max(LifeEventRecord.id)).where(
        LifeEventRecord.person_uuid == person_uuid, LifeEventRecord.kind == "moved_in"))


def moved_out_on(person_uuid: str) -> tuple[int, dt.date | None] | None:
    """(id, day) of a person's last move out (None: none)."""
    row = db.session.execute(select(LifeEventRecord.id, LifeEventRecord.event_date).where(
        LifeEventRecord.person_uuid == person_uuid, LifeEventRecord.kind == "moved_out")
        .order_by(LifeEventRecord.id.desc()).limit(1)).first()
    return (row.id, row.event_date) if row else None


class HouseholdChoice(NamedTuple):
    """A household an arrival may join, as the menu names it: its number and head, its group."""

    uuid: str
    household_no: str | None
    head: str | None
    group_name: str


def households_in(area_path: str) -> list[HouseholdChoice]:
    """The households of an area, by group and number, with their head's name."""
    head = (select(Person.household_uuid, func.min(Person.name).label("head"))
            .where(Person.relationship == "head")
            .group_by(Person.household_uuid).subquery())
    rows = db.session.execute(
        select(Household.uuid, Household.household_no, head.c.head, Area.full_name)
        .join(Area, Area.id == Household.group_id).outerjoin(head, head.c.household_uuid == Household.uuid)
        .where(inside_area(Area.path, area_path)).order_by(Area.full_name, Household.household_no, Household.uuid))
    return [HouseholdChoice(row.uuid, row.household_no, row.head, row.full_name) for row in rows]


class Destination(NamedTuple):
    kind: str                # town or village
    full_name: str
    path: str


def destinations() -> list[Destination]:
    """The county's towns and villages, each town followed by its villages."""
    rows = db.session.execute(select(Area.kind, Area.full_name, Area.path)
                              .where(Area.kind.in_(("town", "village"))).order_by(Area.full_name))
    return [Destination(row.kind, row.full_name, row.path) for row in rows]

"""People who move, as staff see and record them (docs/moves.md): the people expected to arrive in the reader's area
and where they may join, the departures from it and what became of them, the town office's list of moves that
waited too long; a move out recorded on the web (record_move) and an expected arrival confirmed (confirm_arrival).
Every record named is checked against the reader's area before anything else, then the move's own rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from server import clock
from server.audit import queries as audit
from server.moves import queries
from server.moves.queries import Departure, Destination, HouseholdChoice
from server.principal import Principal
from server.register import queries as register_queries
from server.register.decisions import authorise, record_decision
from sync.access import STAFF_ROLES, TOWN_OFFICE_ROLES, area_contains, village_of
from sync.decisions import CONFIRM_ARRIVAL, RECORD_MOVE, SET_FIELD, check_field_value, move_target
from sync.errors import (
    ArrivalAlreadyConfirmed,
    ArrivalNotExpected,
    DestinationUnknown,
    Forbidden,
    MoveDayInvalid,
    MovePlaceMissing,
    MoveToOwnVillage,
    PersonCannotMove,
    RecordNotFound,
)
from sync.visits import OUTSIDE

__all__ = ["OUTSIDE", "ExpectedArrival", "DepartureRow", "MovesPage", "moves_page", "MoveForm", "move_form",
           "record_move", "confirm_arrival", "MAX_PLACE", "Done"]

MAX_PLACE = 200
"""The longest place outside the county a move may name (the life event's column)."""


@dataclass(frozen=True)
class ExpectedArrival:
    """A person expected in the reader's area: their move out, days waiting, the households they may join."""

    departure: Departure
    from_village: str                  # the village they left (full name)
    days_waiting: int | None
    households: list[HouseholdChoice]


@dataclass(frozen=True)
class DepartureRow:
    """A move out of the reader's area and what became of it: expected (at `where`), arrived (in `where` on
    `arrived_on`), outside (the place written) or back (no longer moved away)."""

    departure: Departure
    state: str
    where: str | None
    arrived_on: dt.date | None
    days_waiting: int | None


@dataclass(frozen=True)
class MovesPage:
    expected: list[ExpectedArrival]
    departures: list[DepartureRow]
    aged: list[DepartureRow] | None    # the town office's: moves open longer than `wait_days` (None: not shown)
    wait_days: int
    month_start: dt.date


def _days(since: dt.date | None, today: dt.date) -> int | None:
    return (today - since).days if since is not None else None


def _village_name(full_name: str | None) -> str:
    """"青山镇/东村/第一组" → "青山镇/东村"."""
    return (full_name or "").rsplit("/", 1)[0]


def moves_page(principal: Principal, *, today: dt.date, wait_days: int) -> MovesPage:
    """The reader's area's expected arrivals (with the households of the area they may join), its departures of
    this month and those still open, and for the town office the moves to or from the town open over `wait_days`
    days. The read is audited."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden("the moves are for village cadres and the town office")
    area = principal.area_path or "/"
    month_start = today.replace(day=1)
    households: dict[str, list[HouseholdChoice]] = {}
    expected = []
    towards = queries.departures(towards=area)
    for departure in towards:
        where = departure.destination_path if area_contains(area, departure.destination_path) else area
        if where not in households:
            households[where] = queries.households_in(where)
        expected.append(ExpectedArrival(departure, _village_name(departure.origin_name),
                                        _days(departure.moved_on, today), households[where]))
    left = queries.departures(from_area=area, since=month_start)
    arrivals = queries.arrivals_of(departure.person_uuid for departure in left)
    rows = [_departure_row(departure, arrivals.get(departure.person_uuid, []), today) for departure in left]
    aged = None
    if principal.role in TOWN_OFFICE_ROLES:
        both = {row.departure.event_id: row for row in rows if row.state == "expected"}
        both.update((departure.event_id, _departure_row(departure, [], today)) for departure in towards)
        aged = sorted((row for row in both.values() if row.days_waiting is not None and row.days_waiting > wait_days),
                      key=lambda row: (row.departure.moved_on, row.departure.event_id))
    audit.record(principal.id, "moves.read", area_path=principal.area_path,
                 records=len({d.person_uuid for d in towards} | {d.person_uuid for d in left}))
    return MovesPage(expected, rows, aged, wait_days, month_start)


def _departure_row(departure: Departure, arrivals: list, today: dt.date) -> DepartureRow:
    if departure.open:
        if departure.destination_path is None:
            return DepartureRow(departure, "outside", departure.place, None, None)
        return DepartureRow(departure, "expected", departure.destination_name, None,
                            _days(departure.moved_on, today))
    arrival = next((arrival for arrival in arrivals if arrival.event_id > departure.event_id), None)
    if arrival is not None:
        return DepartureRow(departure, "arrived", _village_name(arrival.group_name), arrival.arrived_on, None)
    if departure.destination_path is None:
        return DepartureRow(departure, "outside", departure.place, None, None)
    return DepartureRow(departure, "back", None, None, None)


class Done(NamedTuple):
    """A move recorded or an arrival confirmed: the decision (undo with it) and whom it was about."""

    decision_id: int
    name: str


@dataclass(frozen=True)
class MoveForm:
    """What the form of a move out needs: the person (with household and group) and the places to choose."""

    placed: object
    destinations: list[Destination]


def _person_to_move(principal: Principal, person_uuid: str):
    placed = register_queries.person_page_rows(person_uuid)
    if placed is None:
        raise RecordNotFound(person_uuid)
    authorise(principal, RECORD_MOVE, placed.group.path)
    return placed


def move_form(principal: Principal, person_uuid: str) -> MoveForm:
    """The person to move (in the reader's area; the read audited) and the county's towns and villages but
    the person's own."""
    placed = _person_to_move(principal, person_uuid)
    audit.record(principal.id, "person.read", area_path=placed.group.path, subject=person_uuid, records=1)
    own = village_of(placed.group.path)   # a move within the village is no move out: not offered
    return MoveForm(placed, [place for place in queries.destinations() if place.path != own])


def _day(text: str, today: dt.date, *, not_before: dt.date | None = None) -> dt.date:
    try:
        day = dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise MoveDayInvalid() from None
    if day > today or (not_before is not None and day < not_before):
        raise MoveDayInvalid(day.isoformat())
    return day


def record_move(principal: Principal, person_uuid: str, destination: str, place: str, moved_on: str, *,
                now: dt.datetime | None = None) -> Done:
    """Record that a person of the reader's area moved out, to a village or town of the county (its full name) or
    to a place outside it (`destination` OUTSIDE, `place` as written), on a day."""
    placed = _person_to_move(principal, person_uuid)
    person = placed.person
    if person.residence == "moved_away" or person.status == "died":
        raise PersonCannotMove()
    now = now or clock.now()
    day = _day(moved_on, clock.date_of(now))
    place = (place or "").strip()
    if destination == OUTSIDE:
        if not place:
            raise MovePlaceMissing()
        full_name, place = "", place[:MAX_PLACE]
    else:
        area = register_queries.destination_area(destination)
        if area is None:
            raise DestinationUnknown(destination[:100])
        if area.path == village_of(placed.group.path):
            raise MoveToOwnVillage()
        full_name, place = destination, ""
    return Done(record_decision(RECORD_MOVE, person_uuid, move_target(full_name, place, day), by=principal.id,
                                now=now, area_path=village_of(placed.group.path)), person.name or "")


def confirm_arrival(principal: Principal, person_uuid: str, household_uuid: str, arrived_on: str, *,
                    relationship: str = "", now: dt.datetime | None = None) -> Done:
    """Confirm that a person expected in the reader's area arrived and joined a household of it on a day, with their
    relationship to its head (recorded with the arrival, as a correction of the field, when it differs from the one
    they had). Confirmed already, or not expected where the household is: refused, nothing changed."""
    if relationship:
        check_field_value("person:relationship", relationship)
    household = register_queries.household_page_rows(household_uuid)
    if household is None:
        raise RecordNotFound(household_uuid)
    authorise(principal, CONFIRM_ARRIVAL, household.group.path)
    placed = register_queries.person_page_rows(person_uuid)
    if placed is None:
        raise RecordNotFound(person_uuid)
    expected = register_queries.open_departure_path(person_uuid)
    if expected is None or not household.group.path.startswith(expected):
        moved = queries.moved_out_on(person_uuid)
        arrived = queries.last_arrival(person_uuid)
        if (moved is not None and arrived is not None and arrived > moved[0] and placed.person.residence != "moved_away"
                and area_contains(principal.area_path, placed.group.path)):
            raise ArrivalAlreadyConfirmed()
        raise ArrivalNotExpected()
    now = now or clock.now()
    moved = queries.moved_out_on(person_uuid)
    day = _day(arrived_on, clock.date_of(now), not_before=moved[1] if moved else None)
    decision = record_decision(CONFIRM_ARRIVAL, person_uuid, household_uuid, field=day.isoformat(), by=principal.id,
                               now=now, area_path=household.group.path)
    if relationship and relationship != placed.person.relationship:
        record_decision(SET_FIELD, person_uuid, relationship, field="person:relationship", by=principal.id, now=now,
                        area_path=household.group.path)
    return Done(decision, placed.person.name or "")

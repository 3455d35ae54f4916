"""The register as staff read it: a person's page, a household's page, the duplicate queue. Every read is
scoped to the reader's area and written to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import NamedTuple

from server.areas import queries as area_queries
from server.audit import queries as audit
from server.principal import Principal
from server.register import queries
from sync.access import FORMER, FULL, NONE, STAFF_ROLES, area_contains, person_visibility, shows_record_of, shows_visit
from sync.errors import Forbidden, RecordNotFound
from sync.households import HOUSEHOLD_REASONS
from sync.identity import REASONS
from sync.scope import REFUSALS

__all__ = ["person_page", "household_page", "duplicate_queue", "conflict_queue", "inbox", "visit_page",
           "PersonPage", "HouseholdPage", "PairView", "Departed", "VisitPage", "DuplicateQueue"]

def _staff_in(principal: Principal, area_path: str) -> None:
    if principal.role not in STAFF_ROLES or not area_contains(principal.area_path, area_path):
        raise Forbidden("this record is outside your area")


@dataclass(frozen=True)
class PersonPage:
    person: object
    household: object
    group: object
    history: list
    events: list
    visits: list
    merges: list
    visibility: str = FULL          # sync.access: FULL, or FORMER (a village the person moved out of)
    left: tuple[str, ...] = ()      # the groups the person moved out of (paths)


# A person's columns the register's history sets, by the history's field name.
_PERSON_COLUMNS = {"name": "name", "sex": "sex", "birth_date": "birth_date", "id_number": "id_number",
                   "relationship": "relationship", "phone": "phone", "residence": "residence", "hukou": "hukou",
                   "status": "status", "tier": "tier", "household": "household_uuid"}


def person_page(principal: Principal, uuid: str) -> PersonPage:
    """A person as the reader may see them (sync.access.person_visibility): the area they live in sees all of them
    but the visits of the villages they left; a village they left sees what it recorded while they lived there."""
    found = queries.person_page_rows(uuid)
    if found is None:
        raise RecordNotFound(uuid)
    left = tuple(queries.groups_left(uuid))
    visibility = person_visibility(principal.role, principal.area_path, found.group.path, list(left))
    if visibility == NONE:
        raise Forbidden("this record is outside your area")
    person, household, group = found.person, found.household, found.group
    history, events, merges = queries.history("person", uuid), queries.life_events(uuid), queries.merges_kept_in(uuid)
    visits = queries.visits_to(person_uuid=uuid)
    paths = queries.submission_paths(visit.submission_id for visit in visits)
    visits = [visit for visit in visits
              if shows_visit(principal.area_path, visibility, paths.get(visit.submission_id), list(left))]
    if visibility == FORMER:
        history = _recorded_by(principal.area_path, history)
        areas = queries.areas_by_id(event.group_id for event in events)
        events = [event for event in events if event.group_id in areas
                  and shows_record_of(principal.area_path, FORMER, areas[event.group_id].path)]
        person, household, group = _as_they_were(principal.area_path, found.person, history, events, areas)
        merges = []
    audit.record(principal.id, "person.read", area_path=group.path, subject=uuid, records=1)
    return PersonPage(person, household, group, history, events, visits, merges, visibility, left)


def _recorded_by(reader_path: str | None, history: list) -> list:
    """The history rows a former area recorded (by its collectors' visits or its staff's decisions)."""
    submissions = queries.submission_paths(row.submission_id for row in history if row.submission_id)
    decisions = queries.decision_paths(row.decision_id for row in history if row.decision_id)
    return [row for row in history if shows_record_of(
        reader_path, FORMER, submissions.get(row.submission_id) if row.submission_id else decisions.get(row.decision_id))]


def _as_they_were(reader_path: str | None, current, history: list, events: list, areas: dict):
    """The person as a former area last recorded them, with the household and group they lived in then."""
    values = {"uuid": current.uuid, "version": current.version, **{column: None for column in _PERSON_COLUMNS.values()}}
    for row in history:
        if row.field in _PERSON_COLUMNS:
            values[_PERSON_COLUMNS[row.field]] = row.value
    person = SimpleNamespace(**values)
    placed = queries.household_page_rows(person.household_uuid) if person.household_uuid else None
    if placed is not None and area_contains(reader_path, placed.group.path):
        return person, placed.household, placed.group
    moved_from = next(areas[event.group_id] for event in reversed(events) if event.kind == "moved_out")
    return person, None, moved_from


@dataclass(frozen=True)
class HouseholdPage:
    household: object
    group: object
    members: list
    history: list
    visits: list
    merges: list


def household_page(principal: Principal, uuid: str) -> HouseholdPage:
    found = queries.household_page_rows(uuid)
    if found is None:
        raise RecordNotFound(uuid)
    household, group = found.household, found.group
    _staff_in(principal, group.path)
    members = queries.members(uuid)
    audit.record(principal.id, "household.read", area_path=group.path, subject=uuid, records=len(members))
    return HouseholdPage(household, group, members, queries.history("household", uuid),
                         queries.visits_to(household_uuid=uuid), queries.merges_kept_in(uuid))


class Departed(NamedTuple):
    """What the arrival's cadre reads of a person who moved out of another village (a move pair): not their record."""

    uuid: str
    name: str | None
    sex: str | None
    birth_date: str | None
    village: str | None            # the village they left, by its full name
    moved_on: object               # the day of their latest move out (a date, or None)


@dataclass(frozen=True)
class PairView:
    candidate: object
    a: object                          # a person or household row; of a move pair, the arrival
    b: object                          # the other; of a move pair, None (see `departed`)
    reasons: list[tuple[str, str]]     # (Chinese, English) explanations
    departed: Departed | None = None   # a move pair's person who moved out


class DuplicateQueue(NamedTuple):
    pairs: list[PairView]          # this page's pairs
    total: int                     # how many pairs the queue holds


def duplicate_queue(principal: Principal, *, offset: int = 0, limit: int | None = None) -> DuplicateQueue:
    """Open candidate pairs of the reader's area, best first, each record side by side: `limit` of them from
    `offset`, and how many there are."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden("the duplicate queue is for village cadres and the town office")
    candidates = queries.open_candidates(principal.area_path, offset=offset, limit=limit)
    people = queries.people_by_uuid({uuid for c in candidates if c.record_kind == "person" for uuid in (c.a_uuid, c.b_uuid)})
    households = queries.households_by_uuid({uuid for c in candidates if c.record_kind == "household"
                                             for uuid in (c.a_uuid, c.b_uuid)})
    gone = {row.uuid: row for row in queries.departure_rows({c.departed_uuid for c in candidates
                                                              if c.departed_uuid is not None})}
    pairs = []
    for candidate in candidates:
        records = people if candidate.record_kind == "person" else households
        explained = REASONS if candidate.record_kind == "person" else HOUSEHOLD_REASONS
        reasons = [explained[code] for code in candidate.reasons.split()]
        if candidate.departed_uuid is None:
            pairs.append(PairView(candidate, records[candidate.a_uuid], records[candidate.b_uuid], reasons))
            continue
        (arrival,) = {candidate.a_uuid, candidate.b_uuid} - {candidate.departed_uuid}
        pairs.append(PairView(candidate, records[arrival], None, reasons, _departed(
            records[candidate.departed_uuid], gone.get(candidate.departed_uuid))))
    audit.record(principal.id, "duplicates.read", area_path=principal.area_path, records=2 * len(pairs))
    total = len(pairs) if limit is None else queries.count_open_candidates(principal.area_path)
    return DuplicateQueue(pairs, total)


def _departed(person, departure) -> Departed:
    """Of a person who moved out: their name, sex, birth date, the village they left and when."""
    return Departed(person.uuid, person.name, person.sex, person.birth_date,
                    departure.village_full_name if departure else None, departure.moved_on if departure else None)


def conflict_queue(principal: Principal) -> list:
    """Open conflicts of the reader's area (queries.OpenConflict: the conflict, its record's name, its group)."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden("the conflict queue is for village cadres and the town office")
    found = queries.open_conflicts(principal.area_path)
    audit.record(principal.id, "conflicts.read", area_path=principal.area_path, records=len(found))
    return found


INBOX_PAGE_SIZE = 50


class InboxMenus(NamedTuple):
    """What the inbox's filters offer besides its collectors (InboxPage.collectors): the villages (to a reader above
    one), and the groups of the village chosen or of the reader's own area (none for the whole county until a
    village is chosen: its collectors likewise)."""

    villages: list
    groups: list


def inbox(principal: Principal, *, page: int = 1, **filters) -> tuple[queries.InboxPage, InboxMenus]:
    """Synced visits of the reader's area, newest first, a page of INBOX_PAGE_SIZE at a time (see queries.inbox for
    the filters), and the menus to filter by."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden("the inbox is for village cadres and the town office")
    village = _chosen_village(principal, filters.get("village_id"), filters.get("group_id"))
    scope = village or principal.area_path     # None: the whole county, with no village chosen
    # Read inside the village chosen (the same rows: the filter names it): the county's inbox of one village is
    # then counted and sorted among the village's submissions, not found by walking the county's newest first.
    found = queries.inbox(scope, offset=(page - 1) * INBOX_PAGE_SIZE, limit=INBOX_PAGE_SIZE, **filters)
    audit.record(principal.id, "inbox.read", area_path=principal.area_path, records=len(found.rows))
    villages = [] if principal.role == "village_cadre" else area_queries.villages_in(principal.area_path)
    if scope is None:
        return found, InboxMenus(villages, [])
    return found._replace(collectors=queries.inbox_collectors(scope)), InboxMenus(villages, queries.groups_in(scope))


def _chosen_village(principal: Principal, village_id: int | None, group_id: int | None) -> str | None:
    """The path of the village the inbox is filtered to (by its id, or a group's), when inside the reader's area."""
    area = area_queries.by_id(village_id if village_id is not None else group_id) if (
        village_id is not None or group_id is not None) else None
    if area is None or area.kind not in ("village", "group") or not area_contains(principal.area_path, area.path):
        return None
    return "/".join(area.path.split("/")[:3]) + "/"


@dataclass(frozen=True)
class VisitPage:
    submission_id: int
    area_path: str
    review: object
    changes: list
    names: dict
    refusal: tuple[str, str] | None    # why the merge refused it (Chinese, English)


def visit_page(principal: Principal, submission_id: int) -> VisitPage:
    """What one synced visit changed in the register (before → after), and its review."""
    area_path = queries.submission_area_path(submission_id)
    if area_path is None:
        raise RecordNotFound(f"visit {submission_id}")
    _staff_in(principal, area_path)
    changes = queries.changes_made_by(submission_id)
    names = {uuid: person.name for uuid, person in queries.people_by_uuid(
        {change.value.record_uuid for change in changes}).items()}
    audit.record(principal.id, "visit.read", area_path=area_path, subject=str(submission_id), records=len(names))
    refused = queries.refusal_of(submission_id)
    return VisitPage(submission_id, area_path, queries.review_of(submission_id), changes, names,
                     REFUSALS[refused] if refused else None)

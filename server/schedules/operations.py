"""Schedules on the server: the town's schedule, flags for an area as of a date, a collector's phone lists."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from server import clock
from server.areas import queries as area_queries
from server.areas.operations import staff_area
from server.audit import queries as audit
from server.principal import Principal
from server.register import open_events
from server.schedules import queries
from server.schedules.counted import counted
from server.schedules.current import current_schedule
from server.services import queries as service_queries
from sync.access import STAFF_ROLES
from sync.errors import Forbidden
from sync.phone_lists import (
    ArrivalRow,
    HouseholdRow,
    PersonRow,
    arrivals_csv,
    destinations_csv,
    due_csv,
    households_csv,
    people_csv,
)
from sync.schedule_summary import SummaryReader, anchors_of
from sync.schedules import (
    Flag,
    PersonSchedule,
    ReferralMade,
    Schedule,
    VisitAgreed,
    flags_of,
    most_overdue_first,
    tiers_from,
)
from sync.services import CLOSING_RESULTS

__all__ = ["current_schedule", "AreaFlags", "collector_paused", "flags_in_area", "flags_of_people", "phone_lists",
           "person_schedules", "recomputed_person_schedules"]


@dataclass(frozen=True)
class AreaFlags:
    schedule: Schedule
    as_of: dt.date
    flags: list[Flag]
    people: dict[str, object]       # person uuid → row (name, household, group, …)
    counted_at: dt.datetime | None = None   # kept flags: when they were worked out (None: just now)
    fresh: bool = True                      # False: the register changed since; they are being worked out again


def flags_in_area(principal: Principal, area_full_name: str | None, as_of: dt.date | None,
                  *, statuses: frozenset[str] | None = None, kept: bool = False) -> AreaFlags:
    """Every flag for the people of an area (the principal's own area by default) as of a date (default today).
    Reads personal data: only staff whose area holds the area asked for, and the read is audited. `kept`: the flags
    as last worked out for a page (server.schedules.counted: a town's take seconds), saying when, most overdue
    first (sync.schedules.most_overdue_first)."""
    refusal = "due lists of an area are for village cadres and the town office"
    if principal.role not in STAFF_ROLES:
        raise Forbidden(refusal)
    path = staff_area(principal, area_full_name, refusal=refusal).path if area_full_name else principal.area_path
    schedule = current_schedule()
    as_of = as_of or clock.today()
    counted_at, fresh = None, True
    if kept:
        found = counted(("flags", path, as_of, schedule), functools.partial(_due_list, path or "/", schedule, as_of))
        (people, flags), counted_at, fresh = found.value, found.counted_at, found.fresh
    else:
        people, flags = flags_of_people(path or "/", schedule, as_of)
    if statuses is not None:
        flags = [flag for flag in flags if flag.status in statuses]
    audit.record(principal.id, "due.read", area_path=path, records=len({flag.person for flag in flags}))
    return AreaFlags(schedule, as_of, flags, people, counted_at, fresh)


def _due_list(path: str, schedule: Schedule, as_of: dt.date) -> tuple[dict, list[Flag]]:
    """An area's flags kept for its due list, in the list's order (a county's hundreds of thousands are put in order
    once when counted, not on every page)."""
    people, flags = flags_of_people(path, schedule, as_of)
    return people, most_overdue_first(flags)


def flags_of_people(path: str, schedule: Schedule, as_of: dt.date, *, people: dict | None = None,
                    recomputed: bool = False) -> tuple[dict, list[Flag]]:
    """Flags for an area's people a schedule concerns, or for the given people (a group's: read by their uuids).
    `recomputed`: from the register's visit rows instead of the schedule summary (the reference the tests compare
    the summary with)."""
    read = recomputed_person_schedules if recomputed else _streamed_schedules
    with collector_paused():
        people, schedules = read(path, schedule, people=people)
        return people, flags_of(schedules, schedule, as_of)


@contextlib.contextmanager
def collector_paused():
    """Python's cyclic garbage collector held off while an area's flags are read and worked out: a county's make
    a million small tuples that hold no cycles (rows, schedules, flags), and the collector walked every one of them
    again and again (a third of the county's CPU time); reference counting still frees them. Not resumed here if
    someone else (another request's thread) had paused it already."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            # What was made meanwhile and lives on (the area's rows and flags, kept for its pages) is moved out of
            # the collector's sight first: its next collection would walk every one of them (a second a county).
            gc.freeze()
            gc.enable()


def person_schedules(path: str, schedule: Schedule, *, people: dict | None = None
                     ) -> tuple[dict, list[PersonSchedule]]:
    """What the schedule needs of each scheduled person of an area (or of the given people), from the schedule
    summary (server.register.summaries: one row a person and one a household, never the visit, referral or member
    rows): tier history, anchors, completed visits, when they died or moved away, referrals and next visits agreed;
    with the people's rows by uuid."""
    people, schedules = _streamed_schedules(path, schedule, people=people)
    return people, list(schedules)


def _streamed_schedules(path: str, schedule: Schedule, *, people: dict | None = None
                        ) -> tuple[dict, Iterator[PersonSchedule]]:
    """As person_schedules, each person's schedule made as their row comes (flags_of_people works each one's flags
    out while the database reads the next rows): `people` is complete once the schedules are."""
    if people is None:
        people = {}
        summarised = _kept(queries.summarised_people(path), people)
    else:
        summaries = queries.summaries_of(people)
        summarised = [queries.Summarised(uuid, row.household_uuid, None, None, row.residence, row.status, None, None,
                                         *summaries[uuid]) for uuid, row in people.items()]   # (what is read below)
    return people, _schedules(summarised, schedule)


def _schedules(summarised: Iterable, schedule: Schedule) -> Iterator[PersonSchedule]:
    """The schedules of the people of these rows (queries.Summarised) a schedule concerns."""
    homes: dict[str | None, tuple] = {}    # a household's visits read once for all its people
    read = SummaryReader(schedule.timezone)
    household_visits, followups_of, tiers_of, agreed_of, referrals_of = (
        read.household_visits, read.followups, read.tiers, read.agreed, read.referrals)
    # A county's 440,000 rows, unpacked by position (queries.Summarised): kept lean.
    for (uuid, household, _, _, residence, status, _, _, followups, tiers, anchors, died_on, moved_out_on, scheduled,
         agreed, referrals, home_visits, home_agreed, head) in summarised:
        heads_home = head == uuid     # the household's agreed visit is due for its head
        if not (scheduled or heads_home):
            continue
        home = homes.get(household)
        if home is None:
            home = homes[household] = household_visits(home_visits)
        died, moved = status == "died", residence == "moved_away"
        yield PersonSchedule(
            uuid, tiers_of(tiers), home + followups_of(followups) if followups else home,
            anchors_of(anchors) if anchors else (),
            _active_until(died, moved, died_on, moved_out_on) if died or moved else None,
            referrals_of(referrals) if referrals else (),
            (agreed_of(home_agreed) if heads_home else ()) + (agreed_of(agreed) if agreed else ()))


def _kept(batches, people: dict) -> Iterator:
    """The rows of the batches, each kept in `people` by uuid as it comes."""
    for batch in batches:
        people.update({row[0]: row for row in batch})
        yield from batch


def _active_until(died: bool, moved: bool, died_on: dt.date | None, moved_out_on: dt.date | None) -> dt.date:
    """When a person who died or moved away did so (their latest such event, from the summary; the earlier of the
    two if both; date.min if none is dated), as server.schedules.queries.end_dates."""
    ends = [day for day, ended in ((died_on, died), (moved_out_on, moved)) if ended and day]
    return min(ends) if ends else dt.date.min


def recomputed_person_schedules(path: str, schedule: Schedule, *, people: dict | None = None
                                ) -> tuple[dict, list[PersonSchedule]]:
    """As person_schedules, read from the register's own rows (every visit of the people's households): the
    reference the schedule summary is checked against."""
    if people is None:
        people = {row.uuid: row for row in queries.scheduled_people(path)}
    tiers = queries.tier_history(set(people))
    anchors = queries.anchors_of(set(people))
    referrals = _referrals_of(path, people)
    agreements = open_events.agreements_about({row.household_uuid for row in people.values()}, set(people))
    agreed = _agreed_visits_of(people, agreements, open_events.household_heads(
        {agreement.household_uuid for agreement in agreements if agreement.person_uuid is None}))
    # Only people with a tier, an event, a referral or an agreed visit are scheduled; only their visits and ends
    # are read.
    scheduled = {uuid: row for uuid, row in people.items()
                 if uuid in tiers or uuid in anchors or uuid in referrals or uuid in agreed}
    visits = queries.completed_visits(set(scheduled), {row.household_uuid for row in scheduled.values()})
    ended = {uuid for uuid, row in scheduled.items() if row.status == "died" or row.residence == "moved_away"}
    ends = queries.end_dates(ended)
    return people, [PersonSchedule(
        person=uuid,
        tiers=tiers_from(tiers.get(uuid, ()), schedule.timezone),
        visits=visits.by_household.get(row.household_uuid, ()) + visits.by_person.get(uuid, ()),
        anchors=anchors.get(uuid, ()),
        active_until=ends.get(uuid, dt.date.min) if uuid in ended else None,
        referrals=tuple(referrals.get(uuid, ())), agreed=tuple(agreed.get(uuid, ())))
        for uuid, row in scheduled.items()]


def _referrals_of(path: str, people: dict | None) -> dict[str, list[ReferralMade]]:
    """The referrals of these people (None: of anyone living in the area) (sync.services), with the day a result
    closed them."""
    found: dict[str, list[ReferralMade]] = defaultdict(list)
    for placed in service_queries.referrals_of_people_in(path):   # made here, or before they moved here
        state = placed.state
        if (people is None or placed.person_uuid in people) and placed.visit_date is not None:
            closed = clock.date_of(state.result_at) if state.result in CLOSING_RESULTS and state.result_at else None
            found[placed.person_uuid].append(ReferralMade(placed.visit_date, placed.key, closed, placed.item.place))
    return found


def _agreed_visits_of(people: dict, agreements, heads: dict[str, str]) -> dict[str, list[VisitAgreed]]:
    """Next visits agreed, for those of these people they are due for: one agreed with a household on a household
    visit for its head (`heads`: open_events.household_heads), one agreed on a follow-up for its person, wherever
    they live now."""
    found: dict[str, list[VisitAgreed]] = defaultdict(list)
    for agreement in agreements:
        person = agreement.person_uuid or heads.get(agreement.household_uuid)
        if person in people:
            found[person].append(VisitAgreed(agreement.agreed_on, agreement.next_visit))
    return found


def phone_lists(principal: Principal) -> dict[str, bytes]:
    """households.csv, people.csv and due.csv for a collector's own group, as of today; destinations.csv (the
    register's villages and towns) and arrivals.csv (the people expected in the collector's village,
    docs/moves.md). Empty for anyone else: a phone only ever gets its own group's people."""
    schedule = current_schedule()
    if principal.role != "collector" or principal.area_path is None:
        return {"households.csv": households_csv(()), "people.csv": people_csv(()),
                "due.csv": due_csv((), {}, schedule), "destinations.csv": destinations_csv(()),
                "arrivals.csv": arrivals_csv(())}
    path = principal.area_path
    rows = queries.people_in(path, current_only=False)
    current = [row for row in rows if row.status != "died" and row.residence != "moved_away"]
    members = Counter(row.household_uuid for row in current)
    heads = {}
    for row in sorted(current, key=lambda row: row.name or ""):
        if row.relationship == "head":
            heads.setdefault(row.household_uuid, row.name or "")
    households = [HouseholdRow(row.uuid, row.household_no or "", heads.get(row.uuid, ""), row.address or "",
                               members[row.uuid], row.version) for row in queries.households_in(path)]
    people = {row.uuid: PersonRow(row.uuid, row.household_uuid, row.household_no or "", row.name or "", row.sex or "",
                                  row.birth_date or "", row.id_number or "", row.relationship or "", row.phone or "",
                                  row.residence or "", row.hukou or "", row.version) for row in current}
    _, flags = flags_of_people(path, schedule, clock.today(), people={row.uuid: row for row in rows})
    return {"households.csv": households_csv(households, queries.review_notes(path)),
            "people.csv": people_csv(people.values()),
            "due.csv": due_csv(flags, people, schedule),
            "destinations.csv": destinations_csv(queries.destination_names()),
            "arrivals.csv": _arrivals(path)}


def _arrivals(group_path: str) -> bytes:
    """arrivals.csv for a collector of the group with this path ("/town/village/group/")."""
    ids = [int(part) for part in group_path.strip("/").split("/")]
    if len(ids) < 2:
        return arrivals_csv(())
    town = area_queries.by_id(ids[0])
    return arrivals_csv((ArrivalRow(row.uuid, row.name or "", row.sex or "", row.birth_date or "", row.version,
                                    row.origin or "", row.moved_on)
                         for row in queries.expected_arrivals(ids[1], ids[0])), town.full_name if town else "")

"""Duplicate detection: the check of people a merge changed, the full scan, and the automatic merge of sure pairs;
across villages, arrivals nobody expected matched with the county's recent departures (move pairs, sync.arrivals)."""

from __future__ import annotations

import datetime as dt

from flask import current_app

from server import clock
from server.boundary import chunks
from server.register import queries
from server.register.decisions import record_decision
from server.register.matching import (
    arrivals,
    departures,
    index_people,
    person_records,
    queue_candidate,
    queue_household_pair,
    queue_move_pair,
)
from sync.arrivals import ARRIVAL_EVENTS, MOVE_MATCH_DAYS, move_candidates, move_pairs
from sync.decisions import MERGE_PEOPLE
from sync.identity import LARGEST_BLOCK, block_keys, candidate_pairs, candidates_for

__all__ = ["check_duplicates", "check_households", "scan_duplicates", "check_arrivals", "scan_moves"]


def check_duplicates(uuids: set[str], *, after: int, now: dt.datetime) -> None:
    """The incremental check: compare each changed person with the people of their village sharing a block key.
    An automatic pair is merged at once (the changed record into the one already there); others are queued."""
    found = index_people(uuids)
    present = set(found)   # those in the register (an automatic merge below takes away the person it merges)
    neighbours: dict[str, list] = {}
    for uuid, (record, village) in sorted(found.items()):
        if uuid not in present:
            continue
        if uuid not in neighbours:   # read for every person left at once, and again after an automatic merge
            neighbours = _neighbours({other: found[other] for other in present if other >= uuid})
        for candidate in candidates_for(record, neighbours[uuid]):
            row = queue_candidate(candidate, village, now)
            if row is not None and uuid in present:
                _merge_automatically(row, uuid, candidate.b if candidate.a == uuid else candidate.a, village, now,
                                     after=after)
                present.discard(uuid)
                neighbours = {}   # the merge changed the register
    check_arrivals(present, now=now)


def _neighbours(people: dict[str, tuple]) -> dict[str, list]:
    """For each of these people (uuid → record, village): the records of the people of their village sharing one
    of their block keys (queries.people_sharing_keys), read in two statements for them all."""
    sharing = queries.people_sharing_keys({uuid: (village, block_keys(record))
                                           for uuid, (record, village) in people.items()},
                                          largest_block=LARGEST_BLOCK)
    records = {}
    for chunk in chunks(set().union(*sharing.values())):
        records |= {record.id: record for record, _ in person_records(queries.identity_rows(set(chunk)))}
    return {uuid: [records[other] for other in sorted(others) if other in records]
            for uuid, others in sharing.items()}


def check_households(created: set[str], *, now: dt.datetime) -> None:
    """A new household with the number of another household of its group is queued for review with it."""
    for uuid in sorted(created):
        for other in queries.households_numbered_alike(uuid):
            queue_household_pair(uuid, other, share_a_person=False, now=now)


def scan_duplicates(*, village_ids: list[int] | None = None, now: dt.datetime | None = None) -> tuple[int, int]:
    """The full scan: candidate pairs of every village (or those given), queued or merged automatically;
    returns (candidates found, automatic merges made)."""
    now = now or clock.now()
    found = merged = 0
    for village in (village_ids if village_ids is not None else queries.villages_with_people()):
        records = [record for record, _ in person_records(queries.identity_rows(village_id=village))]
        for candidate in candidate_pairs(records):
            found += 1
            row = queue_candidate(candidate, village, now)
            if row is not None and queries.person_exists(candidate.a) and queries.person_exists(candidate.b):
                _merge_automatically(row, candidate.b, candidate.a, village, now)
                merged += 1
    return found + scan_moves(now=now, village_ids=village_ids), merged


def _match_days() -> int:
    return current_app.config.get("TAIZHANG_MOVE_MATCH_DAYS", MOVE_MATCH_DAYS)


COUNTY_LARGEST_BLOCK = 10 * LARGEST_BLOCK
"""Followed from a departure to the arrivals of the whole register, a key held by more people than this is a
placeholder (a county holds many villages' worth of people sharing a common name)."""


def check_arrivals(uuids: set[str], *, now: dt.datetime) -> None:
    """The incremental check across villages (sync.arrivals): each of these people who is an arrival is compared
    with the people who moved away from other villages sharing one of their keys, and each who moved away with the
    arrivals sharing one of theirs; pairs are queued, never merged."""
    as_of, days = clock.date_of(now), _match_days()
    found = arrivals(queries.arrival_rows(uuids, ARRIVAL_EVENTS))
    sharing = queries.departed_sharing_keys({arrival.record.id: (block_keys(arrival.record, as_of=as_of),
                                                                 int(arrival.record.village)) for arrival in found},
                                            largest_block=LARGEST_BLOCK)
    gone = {departure.record.id: departure
            for departure in departures(queries.departure_rows(set().union(set(), *sharing.values())))}
    for arrival in found:
        their = [gone[uuid] for uuid in sorted(sharing[arrival.record.id]) if uuid in gone]
        for pair in move_candidates(arrival, their, as_of=as_of, days=days):
            queue_move_pair(pair, int(arrival.record.village), now)
    _queue_moves(departures(queries.departure_rows(uuids)), as_of, days, now)


def scan_moves(*, now: dt.datetime | None = None, village_ids: list[int] | None = None) -> int:
    """The full scan across villages: every recent departure of the register against the arrivals (of these
    villages, or any) sharing one of its keys; returns how many move pairs were found (queued, never merged)."""
    now = now or clock.now()
    as_of, days = clock.date_of(now), _match_days()
    since = as_of - dt.timedelta(days=days)
    return _queue_moves(departures(queries.departure_rows(queries.recent_departures(since))), as_of, days, now,
                        village_ids)


def _queue_moves(gone: list, as_of: dt.date, days: int, now: dt.datetime, village_ids: list[int] | None = None) -> int:
    """Queue the move pairs of these departures with the arrivals (of these villages, or any) sharing one of
    their keys; how many."""
    keys = {key for departure in gone for key in block_keys(departure.record, as_of=as_of)}
    if not keys:
        return 0
    new = [arrival for arrival in arrivals(queries.arrival_rows(
        queries.people_with_keys(keys, largest_block=COUNTY_LARGEST_BLOCK), ARRIVAL_EVENTS))
        if village_ids is None or int(arrival.record.village) in village_ids]
    villages = {arrival.record.id: int(arrival.record.village) for arrival in new}
    pairs = move_pairs(new, gone, as_of=as_of, days=days)
    for pair in pairs:
        queue_move_pair(pair, villages[pair.arrival], now)
    return len(pairs)


def _merge_automatically(row, merged: str, kept: str, village: int, now: dt.datetime, *,
                         after: int | None = None) -> None:
    """The automatic merge of a sure pair: a decision by no one, the candidate marked merged."""
    row.state, row.decided_at = "merged", now
    record_decision(MERGE_PEOPLE, merged, kept, by=None, candidate_id=row.id, now=now, after=after,
                    area_path=queries.area_path(village).path)

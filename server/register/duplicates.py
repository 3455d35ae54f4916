"""Duplicate detection: the check of people a merge changed, the full scan, and the automatic merge of sure pairs."""

from __future__ import annotations

import datetime as dt

from server import clock
from server.register import queries
from server.register.decisions import record_decision
from server.register.matching import index_people, person_records, queue_candidate, queue_household_pair
from sync.decisions import MERGE_PEOPLE
from sync.identity import LARGEST_BLOCK, block_keys, candidate_pairs, candidates_for

__all__ = ["check_duplicates", "check_households", "scan_duplicates"]


def check_duplicates(uuids: set[str], *, after: int, now: dt.datetime) -> None:
    """The incremental check: compare each changed person with the people of their village sharing a block key.
    An automatic pair is merged at once (the changed record into the one already there); others are queued."""
    found = index_people(uuids)
    for uuid, (record, village) in sorted(found.items()):
        if not queries.person_exists(uuid):
            continue  # merged away by an earlier automatic merge in this loop
        others = queries.people_sharing_keys(village, block_keys(record), exclude=uuid, largest_block=LARGEST_BLOCK)
        for candidate in candidates_for(record, [other for other, _ in person_records(queries.identity_rows(others))]):
            row = queue_candidate(candidate, village, now)
            if row is not None and queries.person_exists(uuid):
                _merge_automatically(row, uuid, candidate.b if candidate.a == uuid else candidate.a, village, now,
                                     after=after)


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
    return found, merged


def _merge_automatically(row, merged: str, kept: str, village: int, now: dt.datetime, *,
                         after: int | None = None) -> None:
    """The automatic merge of a sure pair: a decision by no one, the candidate marked merged."""
    row.state, row.decided_at = "merged", now
    record_decision(MERGE_PEOPLE, merged, kept, by=None, candidate_id=row.id, now=now, after=after,
                    area_path=queries.area_path(village).path)

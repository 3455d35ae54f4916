"""The match-key index duplicate detection reads, and the review queue of candidate pairs it feeds (pairs of one
village, and move pairs: an arrival and a person who moved out of another village)."""

from __future__ import annotations

import datetime as dt

from server.register import queries
from sync.arrivals import Arrival, Departure, MovePair, origin_names
from sync.households import HOUSEHOLD_THRESHOLD, HouseholdRecord, score_households
from sync.identity import Candidate, PersonRecord, block_keys

__all__ = ["person_records", "index_people", "index_villages", "queue_candidate", "queue_household_pair",
           "arrivals", "departures", "queue_move_pair"]


def person_records(rows) -> list[tuple[PersonRecord, int]]:
    """People's identity rows (queries.identity_rows) as records to compare, with their village's id."""
    return [(PersonRecord(id=row.uuid, village=str(row.village_id), household=row.household_uuid, name=row.name or "",
                          sex=row.sex, birth_date=_date(row.birth_date), id_number=row.id_number, phone=row.phone),
             row.village_id) for row in rows]


def arrivals(rows) -> list[Arrival]:
    """Arrival rows (queries.arrival_rows) as sync.arrivals reads them."""
    return [Arrival(record, row.arrived_on, row.origin, tuple(str(area) for area in (row.village_id, row.town_id)
                                                                if area is not None))
            for row, (record, _) in zip(rows, person_records(rows), strict=True)]


def departures(rows) -> list[Departure]:
    """Departure rows (queries.departure_rows) as sync.arrivals reads them."""
    return [Departure(record, row.moved_on, origin_names(row.village_name, row.village_full_name, row.town_name),
                      None if row.destination_id is None else str(row.destination_id))
            for row, (record, _) in zip(rows, person_records(rows), strict=True)]


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def index_people(uuids: set[str]) -> dict[str, tuple[PersonRecord, int]]:
    """Refresh these people's match keys; returns the ones still in the register (merged-away ones drop out)."""
    found = {record.id: (record, village) for record, village in person_records(queries.identity_rows(uuids))}
    queries.set_match_keys({uuid: (found[uuid][1], block_keys(found[uuid][0])) if uuid in found else (None, [])
                            for uuid in uuids})
    return found


def index_villages(villages: list[int] | None) -> None:
    """Rebuild the index of whole villages (None: every village with people)."""
    rows = []
    for village in (villages if villages is not None else queries.villages_with_people()):
        for record, village_id in person_records(queries.identity_rows(village_id=village)):
            rows += [dict(person_uuid=record.id, key=key, village_id=village_id)
                     for key in dict.fromkeys(block_keys(record))]
    queries.replace_match_keys(rows, villages)


def queue_candidate(candidate: Candidate, village: int, now: dt.datetime, kind: str = "person"):
    """Record or refresh a candidate pair; returns its row when it is to be merged automatically now."""
    row = queries.candidate_for_pair(kind, candidate.a, candidate.b)
    score = candidate.score
    if row is None:
        row = queries.add_candidate(record_kind=kind, village_id=village, a_uuid=candidate.a, b_uuid=candidate.b,
                                    score=score.score, reasons=" ".join(score.reasons), automatic=score.automatic,
                                    state="open", found_at=now)
    elif row.state == "open":   # (a move pair now of one village is a pair of the village)
        row.score, row.reasons, row.automatic = score.score, " ".join(score.reasons), score.automatic
        row.departed_uuid = None
    automatic = row.state == "open" and score.automatic and not queries.decided_against(row.id)
    return row if automatic else None


def queue_household_pair(first: str, second: str, *, share_a_person: bool, now: dt.datetime) -> None:
    """Queue two households of one village for review when they score as one."""
    records = {row.uuid: row for row in queries.household_rows({first, second})}
    if len(records) != 2 or len({row.village_id for row in records.values()}) != 1:
        return
    a, b = sorted(records)
    score = score_households(*(HouseholdRecord(uuid, records[uuid].group_id, records[uuid].household_no,
                                               records[uuid].address) for uuid in (a, b)),
                             share_a_person=share_a_person)
    if score.score >= HOUSEHOLD_THRESHOLD:
        queue_candidate(Candidate(a, b, score), records[a].village_id, now, kind="household")


def queue_move_pair(pair: MovePair, village: int, now: dt.datetime) -> None:
    """Record or refresh a move pair in the arrival's village (`village`): always for a person to decide, never
    merged automatically (a merge across villages records a move: server.register.decisions.merge_arrival)."""
    row = queries.candidate_for_pair("person", pair.a, pair.b)
    score = pair.score
    if row is None:
        queries.add_candidate(record_kind="person", village_id=village, a_uuid=pair.a, b_uuid=pair.b,
                              score=score.score, reasons=" ".join(score.reasons), automatic=score.automatic,
                              state="open", found_at=now, departed_uuid=pair.departed)
    elif row.state == "open" and row.departed_uuid == pair.departed:
        row.score, row.reasons, row.automatic = score.score, " ".join(score.reasons), score.automatic

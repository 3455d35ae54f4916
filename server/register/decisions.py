"""Decisions people take on the register: merges of duplicates, moves, tiers, settled conflicts, reviews, undo.

Each is recorded (the decision log and the audit log) at its place after the newest merged submission and the
records it concerns are replayed (server.register.replays); what depends on the kind of decision is its entry in
sync.decisions. Every decision is checked against the areas of the records it names, as they stand, before it
changes anything.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from server import clock
from server.audit import queries as audit
from server.register import queries
from server.register.matching import queue_household_pair
from server.register.replays import replay_decision, replay_visit
from sync.decisions import (
    DECISION_KINDS,
    MERGE_HOUSEHOLDS,
    MERGE_MOVED,
    MERGE_PEOPLE,
    MOVE_HOUSEHOLD,
    REJECT_VISIT,
    SET_FIELD,
    SET_TIER,
    DecisionKind,
    DecisionRow,
    RecordAreas,
    check_tier,
)
from sync.errors import (
    ArrivalNotHere,
    DecisionNotPossible,
    Forbidden,
    NotMovedAway,
    OutsideArea,
    RecordNotFound,
    SameVillageMove,
)

__all__ = ["RECORD_AREAS", "CONFLICT_REGISTER_VALUE", "CONFLICT_VISIT_VALUE", "REVIEW_STATES", "PreviousReview", "area_paths_of", "authorise", "record_decision",
           "merge_duplicates", "merge_arrival",
           "merge_households", "move_household", "set_tier", "resolve_conflict", "review_visit", "mark_distinct",
           "merge_candidate", "undo_decision", "undo_distinct", "undo_review"]

REVIEW_STATES = ("approved", "has_issues", "rejected")


def _group_path(area_id: int) -> str | None:
    area = queries.area_path(area_id)
    return area.path if area is not None and area.kind == "group" else None


def _group_path_of(household_uuid: str) -> str | None:
    area = queries.household_area(household_uuid)
    return area.group_path if area else None


RECORD_AREAS = RecordAreas(household_of=queries.household_of, group_path_of=_group_path_of, group_path=_group_path,
                           submission_group_path=queries.submission_area_path,
                           service_item_path=queries.service_item_path)
"""Where records are in this register now, for the decision kinds' area rules."""


def area_paths_of(decision: DecisionRow) -> list[str | None]:
    """The areas a stored decision concerns now (sync.decisions.DecisionKind.area_paths)."""
    return DECISION_KINDS[decision.kind].area_paths(decision.subject_uuid, decision.target, decision.field,
                                                   RECORD_AREAS)


def authorise(principal, kind: DecisionKind, *area_paths: str | None) -> None:
    """The principal may take (or undo) a decision of this kind about records in these areas."""
    if not kind.may_take(principal.role, principal.area_path, *area_paths):
        raise Forbidden("only the village cadre or the town office of these records may change them")


def record_decision(kind: DecisionKind, subject: str, target: str, *, by: int | None, now: dt.datetime,
                    area_path: str | None, field: str | None = None, candidate_id: int | None = None,
                    after: int | None = None, note: str | None = None) -> int:
    """Record a decision (in the decision log and the audit log: `by` None is the automatic merge; `note` why, as
    the person wrote it) and replay the records it concerns; returns its id."""
    households = ({queries.household_of(subject), queries.household_of(target)} - {None}
                  if kind.proposes_households else set())
    decision = queries.add_decision(
        kind=kind.name, subject_uuid=subject, target=target, field=field, candidate_id=candidate_id, decided_by=by,
        decided_at=now, area_path=area_path, note=note,
        after_submission_id=queries.last_merged_submission_id() if after is None else after)
    audit.record(by, f"register.{kind.name}", area_path=area_path, subject=subject)
    replay_decision(decision)
    if len(households) == 2:
        queue_household_pair(*households, share_a_person=True, now=now)
    return decision.id


def merge_duplicates(principal, kept_uuid: str, merged_uuid: str, *, candidate_id: int | None = None,
                     now: dt.datetime | None = None) -> int:
    """Merge one person's duplicate record into the record kept; returns the decision's id (undo with it)."""
    if kept_uuid == merged_uuid:
        raise DecisionNotPossible("a record cannot be merged into itself")
    villages = {person_village(kept_uuid), person_village(merged_uuid)}
    if len(villages) != 1:
        raise DecisionNotPossible("the two people live in different villages")
    (village_path,) = (path for _, path in villages)
    authorise(principal, MERGE_PEOPLE, village_path)
    return record_decision(MERGE_PEOPLE, merged_uuid, kept_uuid, by=principal.id,
                           candidate_id=candidate_id, now=now or clock.now(), area_path=village_path)


def merge_arrival(principal, arrival_uuid: str, departed_uuid: str, *, candidate_id: int | None = None,
                  now: dt.datetime | None = None) -> int:
    """The cadre of the village a person was registered in anew says they are someone who moved out of another
    village (docs/moves.md): the new record is merged into the one who left (a merge_moved decision), who keeps
    their identity and history and now lives in the new record's household. Returns the decision's id."""
    if arrival_uuid == departed_uuid:
        raise DecisionNotPossible("a record cannot be merged into itself")
    arrival_village, village_path = person_village(arrival_uuid)
    authorise(principal, MERGE_MOVED, village_path)
    departed_village, _ = person_village(departed_uuid)
    if departed_village == arrival_village:
        raise SameVillageMove()
    if not queries.departure_rows({departed_uuid}):
        raise NotMovedAway()
    arrival = queries.people_by_uuid({arrival_uuid})[arrival_uuid]
    if arrival.residence == "moved_away" or arrival.status == "died":
        raise ArrivalNotHere()
    return record_decision(MERGE_MOVED, arrival_uuid, departed_uuid, by=principal.id, candidate_id=candidate_id,
                           now=now or clock.now(), area_path=village_path)


def merge_households(principal, kept_uuid: str, merged_uuid: str, *, candidate_id: int | None = None,
                     now: dt.datetime | None = None) -> int:
    """Merge a household's duplicate record into the one kept: its members move to the household kept."""
    if kept_uuid == merged_uuid:
        raise DecisionNotPossible("a record cannot be merged into itself")
    kept, merged = queries.household_area(kept_uuid), queries.household_area(merged_uuid)
    if kept is None or merged is None:
        raise RecordNotFound(kept_uuid if kept is None else merged_uuid)
    if kept.village_id != merged.village_id:
        raise DecisionNotPossible("the two households are in different villages")
    authorise(principal, MERGE_HOUSEHOLDS, kept.group_path, merged.group_path)
    return record_decision(MERGE_HOUSEHOLDS, merged_uuid, kept_uuid, by=principal.id,
                           candidate_id=candidate_id, now=now or clock.now(), area_path=kept.group_path)


def move_household(principal, household_uuid: str, group_id: int, *, now: dt.datetime | None = None) -> int:
    """Move a household to another group (of the same town or not, within the deciding person's area)."""
    area = queries.household_area(household_uuid)
    if area is None:
        raise RecordNotFound(household_uuid)
    new_group = queries.area_path(group_id)
    if new_group is None or new_group.kind != "group":
        raise RecordNotFound(f"group {group_id}")
    if area.group_id == group_id:
        raise DecisionNotPossible("the household is in that group already")
    authorise(principal, MOVE_HOUSEHOLD, area.group_path, new_group.path)
    return record_decision(MOVE_HOUSEHOLD, household_uuid, str(group_id), by=principal.id,
                           now=now or clock.now(), area_path=area.group_path)


def set_tier(principal, person_uuid: str, tier: str, *, tiers: tuple[str, ...], now: dt.datetime | None = None,
             note: str | None = None) -> int:
    """Give a person a service tier (one of `tiers`, the schedule's), or none (""), from today on."""
    _, village_path = person_village(person_uuid)
    authorise(principal, SET_TIER, village_path)
    check_tier(tier, tiers)
    return record_decision(SET_TIER, person_uuid, tier, by=principal.id, now=now or clock.now(),
                           area_path=village_path, note=note)


CONFLICT_REGISTER_VALUE, CONFLICT_VISIT_VALUE = "__register__", "__visit__"
"""What the conflicts page posts for one of the two values of a field shown masked (an ID number, a phone): the value
now in the register, or the visit's."""


def resolve_conflict(principal, conflict_id: int, value: str, *, now: dt.datetime | None = None) -> int:
    """Settle a conflict by setting the field to one of the two values (given as such, or as CONFLICT_REGISTER_VALUE
    or CONFLICT_VISIT_VALUE) or a corrected one (a decision)."""
    conflict = queries.conflict(conflict_id)
    if conflict is None or conflict.state != "open":
        raise RecordNotFound(f"conflict {conflict_id}")
    value = {CONFLICT_REGISTER_VALUE: conflict.value, CONFLICT_VISIT_VALUE: conflict.other_value}.get(value, value)
    value = (value or "").strip()
    if not value or len(value) > 200:
        raise DecisionNotPossible("a value of 1 to 200 characters is needed")
    record_kind = "person" if queries.person_exists(conflict.record_uuid) else "household"
    field = f"{record_kind}:{conflict.field}"
    kind = SET_FIELD
    paths = kind.area_paths(conflict.record_uuid, value, field, RECORD_AREAS)
    if paths[0] is None:
        raise RecordNotFound(conflict.record_uuid)
    if None in paths:  # the value typed names a group or household that is not in the register
        raise DecisionNotPossible(f"{conflict.field} {value!r}")
    authorise(principal, kind, *paths)
    kind.check(value, field, tiers=())   # a corrected value as the forms check it (a valid ID number, a date …)
    return record_decision(kind, conflict.record_uuid, value, field=field, by=principal.id, now=now or clock.now(),
                           area_path=paths[0])


class PreviousReview(NamedTuple):
    """A visit's review before the one just saved: what undoing it puts back ("" state: not reviewed)."""

    state: str
    comment: str | None


def review_visit(principal, submission_id: int, state: str, comment: str | None = None, *,
                 now: dt.datetime | None = None) -> PreviousReview:
    """A cadre's review of a synced visit, after the fact: approved, has issues (with a comment for the collector)
    or rejected, which takes the visit out of the register (a decision; reviewing it again puts it back). Returns
    the review it replaced."""
    if state not in REVIEW_STATES:
        raise DecisionNotPossible(f"state must be one of {', '.join(REVIEW_STATES)}")
    area_path = queries.submission_area_path(submission_id)
    if area_path is None:
        raise RecordNotFound(f"visit {submission_id}")
    authorise(principal, REJECT_VISIT, area_path)
    now = now or clock.now()
    previous = queries.review_of(submission_id)
    was_rejected = previous is not None and previous.state == "rejected"
    before = PreviousReview(previous.state, previous.comment) if previous is not None else PreviousReview("", None)
    queries.save_review(submission_id, state=state, comment=(comment or "").strip()[:500] or None,
                        reviewed_by=principal.id, reviewed_at=now)
    audit.record(principal.id, f"visit.{state}", area_path=area_path, subject=str(submission_id))
    if (state == "rejected") == was_rejected:
        return before
    if state == "rejected":
        queries.add_decision(kind=REJECT_VISIT.name, subject_uuid=str(submission_id), target="",
                             area_path=area_path, decided_by=principal.id, decided_at=now,
                             after_submission_id=queries.last_merged_submission_id())
    else:
        for decision in queries.rejections_of({submission_id}):
            decision.undone_by, decision.undone_at = principal.id, now
    replay_visit(submission_id)
    return before


def mark_distinct(principal, candidate_id: int, *, now: dt.datetime | None = None) -> None:
    """Record that a candidate pair is two different people; the pair is not proposed again."""
    candidate = _open_candidate(principal, candidate_id)
    candidate.state, candidate.decided_by, candidate.decided_at = "distinct", principal.id, now or clock.now()
    audit.record(principal.id, "register.distinct", area_path=_candidate_paths(candidate)[0],
                 subject=str(candidate_id))


def undo_distinct(principal, candidate_id: int) -> None:
    """Undo "not the same": the pair is proposed again."""
    candidate = queries.candidate(candidate_id)
    if candidate is None:
        raise RecordNotFound(f"candidate {candidate_id}")
    paths = _candidate_paths(candidate)
    authorise(principal, _candidate_kind(candidate), *paths)
    if candidate.state != "distinct":
        raise DecisionNotPossible(f"candidate {candidate_id} is not marked as two different records")
    queries.reopen_candidate(candidate_id)
    audit.record(principal.id, "register.undo_distinct", area_path=paths[0], subject=str(candidate_id))


def undo_review(principal, submission_id: int, state: str, comment: str | None = None, *,
                now: dt.datetime | None = None) -> None:
    """Put a visit's review back as it was before the last one: `state` one of REVIEW_STATES, or "" for not reviewed
    (a rejection in force is undone: the visit is back in the register)."""
    if state:
        review_visit(principal, submission_id, state, comment, now=now)
        return
    area_path = queries.submission_area_path(submission_id)
    if area_path is None:
        raise RecordNotFound(f"visit {submission_id}")
    authorise(principal, REJECT_VISIT, area_path)
    now = now or clock.now()
    queries.forget_review(submission_id)
    audit.record(principal.id, "visit.undo_review", area_path=area_path, subject=str(submission_id))
    rejections = queries.rejections_of({submission_id})
    for decision in rejections:
        decision.undone_by, decision.undone_at = principal.id, now
    if rejections:
        replay_visit(submission_id)


def merge_candidate(principal, candidate_id: int, kept_uuid: str, *, now: dt.datetime | None = None) -> int:
    """Merge a reviewed candidate pair, keeping the record `kept_uuid` (one of the two)."""
    candidate = _open_candidate(principal, candidate_id)
    pair = {candidate.a_uuid, candidate.b_uuid}
    if kept_uuid not in pair:
        raise DecisionNotPossible("the record kept must be one of the pair")
    (merged_uuid,) = pair - {kept_uuid}
    now = now or clock.now()
    if candidate.departed_uuid is not None:   # a move pair: the one who moved out is kept
        if kept_uuid != candidate.departed_uuid:
            raise DecisionNotPossible("the record kept is the person who moved out")
        decision_id = merge_arrival(principal, merged_uuid, kept_uuid, candidate_id=candidate_id, now=now)
    else:
        merge = merge_duplicates if candidate.record_kind == "person" else merge_households
        decision_id = merge(principal, kept_uuid, merged_uuid, candidate_id=candidate_id, now=now)
    candidate.state, candidate.decided_by, candidate.decided_at = "merged", principal.id, now
    return decision_id


def undo_decision(principal, decision_id: int, *, now: dt.datetime | None = None) -> None:
    """Undo a decision exactly: the records concerned are replayed as if it had never been made (it stays in the
    log, marked undone); a candidate it decided is open again."""
    decision = queries.decision(decision_id)
    if decision is None:
        raise RecordNotFound(f"decision {decision_id}")
    if decision.undone_at is not None:
        raise DecisionNotPossible("this decision was undone already")
    if decision.area_path is None:  # made before areas were recorded, about records no longer here: nobody's
        raise OutsideArea(f"decision {decision_id}")
    paths = [decision.area_path, *(path for path in area_paths_of(decision) if path is not None)]
    authorise(principal, DECISION_KINDS[decision.kind], *paths)
    undo(principal.id, decision, now=now or clock.now(), action=f"register.undo_{decision.kind}",
         area_path=decision.area_path, subject=str(decision_id))


def undo(by: int, decision, *, now: dt.datetime, action: str, area_path: str, subject: str) -> None:
    """Mark a decision undone (audited as `action` about `subject` in `area_path`), open the candidate it decided
    again and replay what it concerned."""
    decision.undone_by, decision.undone_at = by, now
    audit.record(by, action, area_path=area_path, subject=subject)
    if decision.candidate_id is not None:
        queries.reopen_candidate(decision.candidate_id)
    replay_decision(decision)


def person_village(person_uuid: str) -> tuple[int, str]:
    """(village id, village path) of a person in the register."""
    household_uuid = queries.household_of(person_uuid)
    area = queries.household_area(household_uuid) if household_uuid else None
    if area is None:
        raise RecordNotFound(person_uuid)
    return area.village_id, _village_path(area.group_path)


def _village_path(group_path: str) -> str:
    """"/1/5/23/" (a group) → "/1/5/" (its village)."""
    return group_path.rsplit("/", 2)[0] + "/"


def _open_candidate(principal, candidate_id: int):
    candidate = queries.candidate(candidate_id)
    if candidate is None:
        raise RecordNotFound(f"candidate {candidate_id}")
    if candidate.state != "open":
        raise DecisionNotPossible(f"candidate {candidate_id} was decided already")
    authorise(principal, _candidate_kind(candidate), *_candidate_paths(candidate))
    return candidate


def _candidate_kind(candidate) -> DecisionKind:
    if candidate.departed_uuid is not None:
        return MERGE_MOVED
    return MERGE_PEOPLE if candidate.record_kind == "person" else MERGE_HOUSEHOLDS


def _candidate_paths(candidate) -> list[str]:
    """The village a pair was found in and where each of its records is now (one may have moved away since); of a
    move pair, where the arrival is (the one who moved out lives in another village: not the decider's)."""
    paths = [queries.area_path(candidate.village_id).path]
    uuids = (candidate.a_uuid, candidate.b_uuid)
    for uuid in (uuids if candidate.departed_uuid is None else set(uuids) - {candidate.departed_uuid}):
        household = uuid if candidate.record_kind == "household" else queries.household_of(uuid)
        path = _group_path_of(household) if household else None
        if path is None:
            raise RecordNotFound(f"candidate {candidate.id}")
        paths.append(path)
    return paths

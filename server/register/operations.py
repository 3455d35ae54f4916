"""Merging queued submissions into the register, replaying records with the recorded decisions, and rebuilding.

Submissions are merged in arrival order (submission id), one at a time: the merge worker locks the oldest queue
entry (FOR UPDATE, not SKIP LOCKED: a second worker waits instead of overtaking, which keeps record versions
deterministic, so a rebuild reproduces the live register exactly). Intake only stores and queues, so Collect gets
its 201 at once and a crash between acceptance and merge leaves the entry queued.

A new submission is merged into the stored records directly. Anything that changes the past is a replay: an edit
(or an original arriving after its edit), a decision (a duplicate merge, a household moved to another group) and
the undo of a decision. A replay forgets the records concerned (closed over the decisions that join them) and
applies, in memory, every submission naming them and every decision in force about them, in one order
(`sync.merge.replay_order`), then writes the result. `rebuild_register` is the same replay over everything.

A decision replicated from a town server (`record_replicated_decision`) is recorded with the town's uuid at its
place after the visit it followed there, and replayed like one made here; so is its undoing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from server import clock
from server.audit import queries as audit
from server.register import queries
from sync.access import may_decide_register
from sync.errors import (
    DecisionNotPossible,
    DecisionNotYetMergeable,
    Forbidden,
    OutsideArea,
    RecordNotFound,
    TaizhangError,
)
from sync.households import HOUSEHOLD_THRESHOLD, HouseholdRecord, score_households
from sync.identity import LARGEST_BLOCK, Candidate, PersonRecord, block_keys, candidate_pairs, candidates_for
from sync.merge import (
    DecisionPoint,
    FieldValue,
    RecordPlan,
    RecordState,
    SubmissionVersion,
    VisitRef,
    apply_plan,
    fold_record,
    plan_record,
    replay_order,
)
from sync.scope import RegisterLookup, refusal
from sync.visits import PERSON_FIELDS, PersonObservation, Visit, read_visit

__all__ = ["MergeOutcome", "merge_next", "note_merge_failure", "rebuild_register", "merge_duplicates",
           "merge_households", "merge_candidate", "mark_distinct", "set_tier", "resolve_conflict", "review_visit", "undo_decision", "move_household", "scan_duplicates",
           "REGISTER_FORMS"]

REGISTER_FORMS = {"household_visit", "followup"}
# Field values that name a household: they follow a household merge.
_HOUSEHOLD_REFERENCES = ("household", "split_from")
# Decisions that set one field of one record: (record kind, field).
_FIELD_DECISIONS = {"move_household": ("household", "group"), "set_tier": ("person", "tier")}
# Decisions joining two records (replayed together).
_MERGE_KINDS = {"merge_people", "merge_households"}
# Person fields duplicate detection reads: a change to one of them re-checks the person.
_IDENTITY_FIELDS = {"name", "sex", "birth_date", "id_number", "phone", "household", "status"}


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    submission_id: int
    applied: bool
    replayed_records: int = 0


# ---- the merge worker ----------------------------------------------------------------------------------------

def merge_next(*, now: dt.datetime | None = None) -> MergeOutcome | None:
    """Merge the oldest queued submission (the caller commits); None when the queue is empty."""
    claimed = queries.claim_next()
    if claimed is None:
        return None
    submission_id, xml, _instance_id, deprecated_id, area_id = claimed
    visit = _register_visit(xml)
    outcome = MergeOutcome(submission_id, applied=False)
    if visit is not None:
        if deprecated_id or queries.is_superseded(visit.instance_id):
            replayed = _replay_records(_raw_uuids(visit) | _chain_uuids(submission_id),
                                       extra_submissions=queries.chain_ids(submission_id))
            outcome = MergeOutcome(submission_id, applied=True, replayed_records=len(replayed))
            changed = {uuid for kind, uuid in replayed if kind == "person"}
        else:
            store = _DatabaseStore()
            _apply_visit(store, submission_id, visit, area_id, _StoredAliases(_named_uuids(visit)), only=None)
            store.flush()
            outcome = MergeOutcome(submission_id, applied=True)
            changed = store.identity_changed
            _check_households(store.created_households, now=now or _now())
        _check_duplicates(changed, after=submission_id, now=now or _now())
    queries.dequeue(submission_id)
    return outcome


def note_merge_failure(error: BaseException) -> int | None:
    """After a failed merge was rolled back: count the attempt on its queue entry (the error's type only: messages
    can quote personal data). After MAX_ATTEMPTS the entry is left for a person and the worker moves on."""
    return queries.note_failure(type(error).__name__)


def rebuild_register() -> int:
    """Forget the derived register and replay every effective submission and every decision in force."""
    queries.forget_everything()
    store = _MemoryStore()
    applied = _replay(store, queries.submission_rows(), queries.decisions_in_force(), only=None)
    store.flush()
    _index_villages(None)
    return applied


# ---- decisions by people -----------------------------------------------------------------------------------------

def merge_duplicates(principal, kept_uuid: str, merged_uuid: str, *, candidate_id: int | None = None,
                     now: dt.datetime | None = None) -> int:
    """Merge one person's duplicate record into the record kept; returns the decision's id (undo with it)."""
    if kept_uuid == merged_uuid:
        raise DecisionNotPossible("a record cannot be merged into itself")
    villages = {_person_village(kept_uuid), _person_village(merged_uuid)}
    if len(villages) != 1:
        raise DecisionNotPossible("the two people live in different villages")
    (village_path,) = (path for _, path in villages)
    _authorise(principal, village_path)
    return _decide("merge_people", merged_uuid, kept_uuid, by=principal.id, candidate_id=candidate_id,
                   now=now or _now(), area_path=village_path)


def merge_households(principal, kept_uuid: str, merged_uuid: str, *, candidate_id: int | None = None,
                     now: dt.datetime | None = None) -> int:
    """Merge a household's duplicate record into the one kept: its members move to the household kept."""
    if kept_uuid == merged_uuid:
        raise DecisionNotPossible("a record cannot be merged into itself")
    areas = [queries.household_area(uuid) for uuid in (kept_uuid, merged_uuid)]
    if None in areas:
        raise RecordNotFound(kept_uuid if areas[0] is None else merged_uuid)
    if areas[0][1] != areas[1][1]:
        raise DecisionNotPossible("the two households are in different villages")
    _authorise(principal, areas[0][2], areas[1][2])
    return _decide("merge_households", merged_uuid, kept_uuid, by=principal.id, candidate_id=candidate_id,
                   now=now or _now(), area_path=areas[0][2])


def move_household(principal, household_uuid: str, group_id: int, *, now: dt.datetime | None = None) -> int:
    """Move a household to another group (of the same town or not, within the deciding person's area)."""
    area = queries.household_area(household_uuid)
    if area is None:
        raise RecordNotFound(household_uuid)
    new_group = queries.area_path(group_id)
    if new_group is None or new_group[0] != "group":
        raise RecordNotFound(f"group {group_id}")
    if area[0] == group_id:
        raise DecisionNotPossible("the household is in that group already")
    _authorise(principal, area[2], new_group[1])
    return _decide("move_household", household_uuid, str(group_id), by=principal.id, now=now or _now(),
                   area_path=area[2])


def set_tier(principal, person_uuid: str, tier: str, *, tiers: tuple[str, ...], now: dt.datetime | None = None) -> int:
    """Give a person a service tier (one of `tiers`, the schedule's), or none (""), from today on."""
    check_tier(tier, tiers)
    village = _person_village(person_uuid)
    _authorise(principal, village[1])
    return _decide("set_tier", person_uuid, tier, by=principal.id, now=now or _now(), area_path=village[1])


def check_tier(tier: str, tiers: tuple[str, ...]) -> None:
    """A tier given must be one of the schedule's (or none, "")."""
    if tier and tier not in tiers:
        raise DecisionNotPossible(f"unknown tier {tier!r}; the schedule has {', '.join(tiers)}")


def resolve_conflict(principal, conflict_id: int, value: str, *, now: dt.datetime | None = None) -> int:
    """Settle a conflict by setting the field to one of the two values or a corrected one (a decision)."""
    conflict = queries.conflict(conflict_id)
    if conflict is None or conflict.state != "open":
        raise RecordNotFound(f"conflict {conflict_id}")
    value = value.strip()
    if not value or len(value) > 200:
        raise DecisionNotPossible("a value of 1 to 200 characters is needed")
    kind = "person" if queries.person_exists(conflict.record_uuid) else "household"
    field = f"{kind}:{conflict.field}"
    paths = decision_area_paths("set_field", conflict.record_uuid, value, field)
    if paths[0] is None:
        raise RecordNotFound(conflict.record_uuid)
    if None in paths:  # the value typed names a group or household that is not in the register
        raise DecisionNotPossible(f"{conflict.field} {value!r}")
    _authorise(principal, *paths)
    decision = queries.add_decision(
        kind="set_field", subject_uuid=conflict.record_uuid, target=value, field=field, area_path=paths[0],
        decided_by=principal.id, decided_at=now or _now(), after_submission_id=queries.last_merged_submission_id())
    replayed = _replay_records({conflict.record_uuid})
    _index_people({uuid for record_kind, uuid in replayed if record_kind == "person"})
    audit.record(principal.id, "register.set_field", area_path=paths[0], subject=conflict.record_uuid)
    return decision.id


REVIEW_STATES = ("approved", "has_issues", "rejected")


def review_visit(principal, submission_id: int, state: str, comment: str | None = None, *,
                 now: dt.datetime | None = None) -> None:
    """A cadre's review of a synced visit, after the fact: approved, has issues (with a comment for the collector)
    or rejected, which takes the visit out of the register (a decision; reviewing it again puts it back)."""
    if state not in REVIEW_STATES:
        raise DecisionNotPossible(f"state must be one of {', '.join(REVIEW_STATES)}")
    area_path = queries.submission_area_path(submission_id)
    if area_path is None:
        raise RecordNotFound(f"visit {submission_id}")
    _authorise(principal, area_path)
    now = now or _now()
    previous = queries.review_of(submission_id)
    was_rejected = previous is not None and previous.state == "rejected"
    queries.save_review(submission_id, state=state, comment=(comment or "").strip()[:500] or None,
                        reviewed_by=principal.id, reviewed_at=now)
    audit.record(principal.id, f"visit.{state}", area_path=area_path, subject=str(submission_id))
    if (state == "rejected") == was_rejected:
        return
    if state == "rejected":
        queries.add_decision(kind="reject_visit", subject_uuid=str(submission_id), target="", area_path=area_path,
                             decided_by=principal.id, decided_at=now,
                             after_submission_id=queries.last_merged_submission_id())
    else:
        for decision in queries.rejections_of({submission_id}):
            decision.undone_by, decision.undone_at = principal.id, now
    _replay_visit(submission_id)


def mark_distinct(principal, candidate_id: int, *, now: dt.datetime | None = None) -> None:
    """Record that a candidate pair is two different people; the pair is not proposed again."""
    candidate = _open_candidate(principal, candidate_id)
    candidate.state, candidate.decided_by, candidate.decided_at = "distinct", principal.id, now or _now()
    audit.record(principal.id, "register.distinct", area_path=_candidate_paths(candidate)[0],
                 subject=str(candidate_id))


def merge_candidate(principal, candidate_id: int, kept_uuid: str, *, now: dt.datetime | None = None) -> int:
    """Merge a reviewed candidate pair, keeping the record `kept_uuid` (one of the two)."""
    candidate = _open_candidate(principal, candidate_id)
    pair = {candidate.a_uuid, candidate.b_uuid}
    if kept_uuid not in pair:
        raise DecisionNotPossible("the record kept must be one of the pair")
    (merged_uuid,) = pair - {kept_uuid}
    now = now or _now()
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
    current = decision_area_paths(decision.kind, decision.subject_uuid, decision.target, decision.field)
    paths = [decision.area_path, *(path for path in current if path is not None)]
    _authorise(principal, *paths)
    decision.undone_by, decision.undone_at = principal.id, now or _now()
    audit.record(principal.id, f"register.undo_{decision.kind}", area_path=decision.area_path,
                 subject=str(decision_id))
    if decision.candidate_id is not None:
        queries.reopen_candidate(decision.candidate_id)
    _replay_decision(decision)


# ---- decisions replicated from a town server ------------------------------------------------------------------

REPLICATED_KINDS = ("merge_people", "merge_households", "move_household", "set_tier", "set_field", "reject_visit")


@dataclass(frozen=True, slots=True)
class ReplicatedDecision:
    """A decision made on a town server, its ids already those of this server: a group's id as `target` of a move,
    a submission's id as `subject` of a rejection, `after_submission_id` the id here of the submission it followed."""

    uuid: str
    kind: str
    subject: str
    target: str
    field: str | None
    after_submission_id: int
    decided_at: dt.datetime
    undone_at: dt.datetime | None
    automatic: bool = False   # the town's automatic merge: only its undoing is replicated


def record_replicated_decision(principal, decision: ReplicatedDecision) -> bool:
    """Record a town's decision at its place among the submissions and replay the records it concerns; one
    recorded already is only undone, when the town has undone it. Whether anything changed."""
    if decision.kind not in REPLICATED_KINDS or decision.automatic and decision.kind != "merge_people":
        raise DecisionNotPossible(f"decision kind {decision.kind!r}")
    if decision.kind == "set_field":
        check_field(decision.field)
    if not queries.merged_through(decision.after_submission_id):
        raise DecisionNotYetMergeable(decision.uuid)
    paths = decision_area_paths(decision.kind, decision.subject, decision.target, decision.field)
    if None in paths:  # a record not in this register yet: its visits are still on their way
        raise DecisionNotYetMergeable(decision.uuid)
    _authorise(principal, *paths)
    if decision.automatic:
        return _undo_own_automatic_merge(principal, decision, paths)
    recorded = queries.decision_by_uuid(decision.uuid)
    changed = recorded is None
    if recorded is None:
        recorded = queries.add_decision(
            uuid=decision.uuid, kind=decision.kind, subject_uuid=decision.subject, target=decision.target,
            field=decision.field, area_path=paths[0], decided_by=principal.id, decided_at=decision.decided_at,
            after_submission_id=decision.after_submission_id)
        audit.record(principal.id, f"replication.{decision.kind}", area_path=paths[0], subject=decision.subject)
        _replay_decision(recorded)
    if decision.undone_at is not None and recorded.undone_at is None:
        recorded.undone_by, recorded.undone_at = principal.id, decision.undone_at
        audit.record(principal.id, f"replication.undo_{decision.kind}", area_path=paths[0], subject=decision.subject)
        _replay_decision(recorded)
        changed = True
    return changed


def _undo_own_automatic_merge(principal, decision: ReplicatedDecision, paths: list[str]) -> bool:
    """The town undid its automatic merge of a pair. This server made its own by the same rule from the same visits:
    it is undone too (and, as any undone automatic merge, not made again)."""
    own = queries.automatic_merge(decision.subject, decision.target) if decision.undone_at else None
    if own is None:
        return False
    own.undone_by, own.undone_at = principal.id, decision.undone_at
    if own.candidate_id is not None:
        queries.reopen_candidate(own.candidate_id)
    audit.record(principal.id, "replication.undo_automatic_merge", area_path=paths[0], subject=decision.subject)
    _replay_decision(own)
    return True


# Fields a decision may set, by kind of record: what visits state, and a household's group and split origin.
SETTABLE_FIELDS = {"person": frozenset(PERSON_FIELDS),
                   "household": frozenset({"household_no", "address", "group", "split_from"})}
# Fields whose value names another record: (kind of record named) — the value must lie in the decider's area too.
_REFERENCE_FIELDS = {"person:household": "household", "household:split_from": "household", "household:group": "group"}


def check_field(field: str | None) -> tuple[str, str]:
    """A set_field decision's "kind:field", checked against the fields a decision may set."""
    record_kind, _, name = (field or "").partition(":")
    if name not in SETTABLE_FIELDS.get(record_kind, ()):
        raise DecisionNotPossible(f"field {field!r}")
    return record_kind, name


def _reject_paths(subject: str, target: str, field: str | None) -> list[str | None]:
    return [queries.submission_area_path(int(subject)) if subject.isdigit() else None]


def _set_field_paths(subject: str, target: str, field: str | None) -> list[str | None]:
    record_kind, _ = check_field(field)
    household = subject if record_kind == "household" else queries.household_of(subject)
    paths = [_group_path_of(household) if household else None]
    named = _REFERENCE_FIELDS.get(field)
    if named == "household":
        paths.append(_group_path_of(target))
    elif named == "group":
        group = queries.area_path(int(target)) if target.isdigit() else None
        paths.append(group[1] if group and group[0] == "group" else None)
    return paths


def _move_paths(subject: str, target: str, field: str | None) -> list[str | None]:
    return [_group_path_of(subject), _area_path(int(target)) if target.isdigit() else None]


def _merge_paths(record_kind: str):
    def paths(subject: str, target: str, field: str | None) -> list[str | None]:
        """The records still in the register (the one merged away is gone once merged)."""
        households = [uuid if record_kind == "household" else queries.household_of(uuid) for uuid in (subject, target)]
        return [path for household in households if household and (path := _group_path_of(household))] or [None]
    return paths


def _tier_paths(subject: str, target: str, field: str | None) -> list[str | None]:
    household = queries.household_of(subject)
    return [_group_path_of(household) if household else None]


DECISION_AREAS = {"reject_visit": _reject_paths, "set_field": _set_field_paths, "move_household": _move_paths,
                  "merge_people": _merge_paths("person"), "merge_households": _merge_paths("household"),
                  "set_tier": _tier_paths}
"""For each kind of decision: the group paths of the records it concerns as the register holds them now, the
first one where it is recorded (None for a record or group not in this register). Whoever makes or undoes a
decision must hold every one of them."""


def decision_area_paths(kind: str, subject: str, target: str, field: str | None) -> list[str | None]:
    """The areas a decision concerns (see DECISION_AREAS); an unknown kind concerns no known area."""
    if kind not in DECISION_AREAS:
        return [None]
    return DECISION_AREAS[kind](subject, target, field)


def _replay_decision(decision) -> None:
    """Replay what a decision (just recorded or just undone) concerns."""
    if decision.kind == "reject_visit":
        _replay_visit(int(decision.subject_uuid))
        return
    replayed = _replay_records(_decision_records(decision.kind, decision.subject_uuid, decision.target))
    _index_people({uuid for kind, uuid in replayed if kind == "person"})


def _replay_visit(submission_id: int) -> None:
    """Replay the records a visit names, with the visit itself (taken out of the register, or put back)."""
    (row,) = queries.submission_rows({submission_id})
    visit = _register_visit(row[1])
    replayed = _replay_records(_raw_uuids(visit) if visit else set(), extra_submissions={submission_id})
    _index_people({uuid for kind, uuid in replayed if kind == "person"})


def _decide(kind: str, subject: str, target: str, *, by: int | None, now: dt.datetime, area_path: str | None,
            candidate_id: int | None = None, after: int | None = None) -> int:
    """Record a decision (in the decision log and the audit log: `by` None is the automatic merge) and replay
    the records it concerns."""
    households = ({queries.household_of(subject), queries.household_of(target)} - {None}
                  if kind == "merge_people" else set())
    decision = queries.add_decision(
        kind=kind, subject_uuid=subject, target=target, candidate_id=candidate_id, decided_by=by, decided_at=now,
        area_path=area_path, after_submission_id=queries.last_merged_submission_id() if after is None else after)
    audit.record(by, f"register.{kind}", area_path=area_path, subject=subject)
    replayed = _replay_records(_decision_records(kind, subject, target))
    _index_people({uuid for record_kind, uuid in replayed if record_kind == "person"})
    if len(households) == 2:
        _queue_household_pair(*households, share_a_person=True, now=now)
    return decision.id


def _decision_records(kind: str, subject: str, target: str) -> set[str]:
    return {subject, target} if kind in _MERGE_KINDS else {subject}


def _authorise(principal, *area_paths: str) -> None:
    if not may_decide_register(principal.role, principal.area_path, *area_paths):
        raise Forbidden("only the village cadre or the town office of these records may change them")


def _person_village(person_uuid: str) -> tuple[int, str]:
    """(village id, village path) of a person in the register."""
    household_uuid = queries.household_of(person_uuid)
    area = queries.household_area(household_uuid) if household_uuid else None
    if area is None:
        raise RecordNotFound(person_uuid)
    return area[1], _village_path(area[2])


def _village_path(group_path: str) -> str:
    """"/1/5/23/" (a group) → "/1/5/" (its village)."""
    return group_path.rsplit("/", 2)[0] + "/"


def _group_path_of(household_uuid: str) -> str | None:
    area = queries.household_area(household_uuid)
    return area[2] if area else None


def _area_path(area_id: int) -> str | None:
    area = queries.area_path(area_id)
    return area[1] if area else None


def _open_candidate(principal, candidate_id: int):
    candidate = queries.candidate(candidate_id)
    if candidate is None:
        raise RecordNotFound(f"candidate {candidate_id}")
    if candidate.state != "open":
        raise DecisionNotPossible(f"candidate {candidate_id} was decided already")
    _authorise(principal, *_candidate_paths(candidate))
    return candidate


def _candidate_paths(candidate) -> list[str]:
    """The village a pair was found in and where each of its records is now (one may have moved away since)."""
    paths = [queries.area_path(candidate.village_id)[1]]
    for uuid in (candidate.a_uuid, candidate.b_uuid):
        household = uuid if candidate.record_kind == "household" else queries.household_of(uuid)
        path = _group_path_of(household) if household else None
        if path is None:
            raise RecordNotFound(f"candidate {candidate.id}")
        paths.append(path)
    return paths


def _now() -> dt.datetime:
    return clock.now()


# ---- duplicate detection ---------------------------------------------------------------------------------------

def _person_records(rows) -> list[tuple[PersonRecord, int]]:
    return [(PersonRecord(id=row.uuid, village=str(row.village_id), household=row.household_uuid, name=row.name or "",
                          sex=row.sex, birth_date=_date(row.birth_date), id_number=row.id_number, phone=row.phone),
             row.village_id) for row in rows]


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _index_people(uuids: set[str]) -> dict[str, tuple[PersonRecord, int]]:
    """Refresh these people's match keys; returns the ones still in the register (merged-away ones drop out)."""
    found = {record.id: (record, village) for record, village in _person_records(queries.identity_rows(uuids))}
    for uuid in uuids:
        record, village = found.get(uuid, (None, None))
        queries.set_match_keys(uuid, village, block_keys(record) if record else [])
    return found


def _index_villages(villages: list[int] | None) -> None:
    rows = []
    for village in (villages if villages is not None else queries.villages_with_people()):
        for record, village_id in _person_records(queries.identity_rows(village_id=village)):
            rows += [dict(person_uuid=record.id, key=key, village_id=village_id)
                     for key in dict.fromkeys(block_keys(record))]
    queries.replace_match_keys(rows, villages)


def _check_duplicates(uuids: set[str], *, after: int, now: dt.datetime) -> None:
    """The incremental check: compare each changed person with the people of their village sharing a block key.
    An automatic pair is merged at once (the changed record into the one already there); others are queued."""
    found = _index_people(uuids)
    for uuid, (record, village) in sorted(found.items()):
        if not queries.person_exists(uuid):
            continue  # merged away by an earlier automatic merge in this loop
        others = queries.people_sharing_keys(village, block_keys(record), exclude=uuid, largest_block=LARGEST_BLOCK)
        for candidate in candidates_for(record, [other for other, _ in _person_records(queries.identity_rows(others))]):
            row = _queue_candidate(candidate, village, now)
            if row is not None and queries.person_exists(uuid):
                _merge_automatically(row, uuid, candidate.b if candidate.a == uuid else candidate.a, village, now,
                                     after=after)


def _queue_candidate(candidate, village: int, now: dt.datetime, kind: str = "person"):
    """Record or refresh a candidate pair; returns its row when it is to be merged automatically now."""
    row = queries.candidate_for_pair(kind, candidate.a, candidate.b)
    score = candidate.score
    if row is None:
        row = queries.add_candidate(record_kind=kind, village_id=village, a_uuid=candidate.a, b_uuid=candidate.b,
                                    score=score.score, reasons=" ".join(score.reasons), automatic=score.automatic,
                                    state="open", found_at=now)
    elif row.state == "open":
        row.score, row.reasons, row.automatic = score.score, " ".join(score.reasons), score.automatic
    automatic = row.state == "open" and score.automatic and not queries.decided_against(row.id)
    return row if automatic else None


def _merge_automatically(row, merged: str, kept: str, village: int, now: dt.datetime, *,
                         after: int | None = None) -> None:
    """The automatic merge of a sure pair: a decision by no one, the candidate marked merged."""
    row.state, row.decided_at = "merged", now
    _decide("merge_people", merged, kept, by=None, candidate_id=row.id, now=now, after=after,
            area_path=queries.area_path(village)[1])


def _check_households(created: set[str], *, now: dt.datetime) -> None:
    """A new household with the number of another household of its group is queued for review with it."""
    for uuid in sorted(created):
        for other in queries.households_numbered_alike(uuid):
            _queue_household_pair(uuid, other, share_a_person=False, now=now)


def _queue_household_pair(first: str, second: str, *, share_a_person: bool, now: dt.datetime) -> None:
    records = {row.uuid: row for row in queries.household_rows({first, second})}
    if len(records) != 2 or len({row.village_id for row in records.values()}) != 1:
        return
    a, b = sorted(records)
    score = score_households(*(HouseholdRecord(uuid, records[uuid].group_id, records[uuid].household_no,
                                               records[uuid].address) for uuid in (a, b)),
                             share_a_person=share_a_person)
    if score.score >= HOUSEHOLD_THRESHOLD:
        _queue_candidate(Candidate(a, b, score), records[a].village_id, now, kind="household")


def scan_duplicates(*, village_ids: list[int] | None = None, now: dt.datetime | None = None) -> tuple[int, int]:
    """The full scan: candidate pairs of every village (or those given), queued or merged automatically;
    returns (candidates found, automatic merges made)."""
    now = now or _now()
    found = merged = 0
    for village in (village_ids if village_ids is not None else queries.villages_with_people()):
        records = [record for record, _ in _person_records(queries.identity_rows(village_id=village))]
        for candidate in candidate_pairs(records):
            found += 1
            row = _queue_candidate(candidate, village, now)
            if row is not None and queries.person_exists(candidate.a) and queries.person_exists(candidate.b):
                _merge_automatically(row, candidate.b, candidate.a, village, now)
                merged += 1
    return found, merged


# ---- applying visits and decisions -------------------------------------------------------------------------------

def _register_visit(xml: bytes) -> Visit | None:
    try:
        visit = read_visit(xml)
    except TaizhangError:
        return None  # not a register form, or unreadable: kept raw, nothing to merge
    return visit if visit.form_id in REGISTER_FORMS else None


def _raw_uuids(visit: Visit) -> set[str]:
    """The register uuids a visit names, as the phone wrote them."""
    found = {observation.person_uuid for observation in visit.people} | {anchor.person_uuid for anchor in visit.anchors}
    if visit.household is not None:
        found.add(visit.household.household_uuid)
    return found


def _named_uuids(visit: Visit) -> set[str]:
    """Every uuid a visit names: its records and the households its field values point to."""
    return _raw_uuids(visit) | {value for observation in visit.people for name, value in observation.fields.items()
                                if name in _HOUSEHOLD_REFERENCES} | (
        {visit.household.fields["split_from"]} if visit.household and "split_from" in visit.household.fields else set())


def _chain_uuids(submission_id: int) -> set[str]:
    uuids: set[str] = set()
    for row in queries.submission_rows(queries.chain_ids(submission_id)):
        chained = _register_visit(row[1])
        if chained is not None:
            uuids |= _raw_uuids(chained)
    return uuids


class _StoredAliases:
    """Merged-away uuids resolved through the decisions in force (the live merge: every decision is in the past);
    the uuids a visit names are looked up in one query."""

    def __init__(self, uuids: set[str]) -> None:
        self.merged_into = queries.merged_into(uuids)

    def resolve(self, uuid: str) -> str:
        seen = set()
        while uuid not in seen and (step := self.merged_into.get(uuid)) is not None:
            seen.add(uuid)
            self.merged_into.update(queries.merged_into({step}))
            uuid = step
        return uuid


class _ReplayAliases:
    """Merged-away uuids resolved through the decisions replayed so far."""

    def __init__(self) -> None:
        self.merged_into: dict[str, str] = {}

    def resolve(self, uuid: str) -> str:
        seen = set()
        while uuid in self.merged_into and uuid not in seen:
            seen.add(uuid)
            uuid = self.merged_into[uuid]
        return uuid


def _apply_visit(store, submission_id: int, visit: Visit, area_id: int | None, aliases, *,
                 only: set[str] | None, chain: frozenset[int] = frozenset()) -> str | None:
    """Merge one visit's observations (restricted to `only` records when replaying part of the register), unless
    it names records outside its collector's group: then nothing changes and the visit is kept with the reason,
    which is returned (sync.scope). `chain`: the ids of the stored versions this one replaces."""
    refused = refusal(visit, None if area_id is None else str(area_id), store.lookup(aliases, chain))
    if refused is not None:
        store.add_visit(submission_id, _named_uuids(visit), queries.visit_row(
            submission_id, form=visit.form_id, household_uuid=None, person_uuid=None, visited_at=visit.visited_at,
            visit_date=visit.visit_date, outcome=visit.outcome, completed=visit.completed,
            followup_type=visit.followup.followup_type if visit.followup else None, refusal=refused))
        return refused
    ref = VisitRef(visit.instance_id, visit.visited_at)
    household = visit.household
    household_uuid = aliases.resolve(household.household_uuid) if household else None
    if household is not None and household.fields and (only is None or household_uuid in only):
        fields = _resolved(household.fields, aliases)
        if area_id is not None:
            fields.setdefault("group", str(area_id))  # a new household is in its collector's group
        observation = PersonObservation(household_uuid, household.base_version, fields)
        _merge_record(store, "household", observation, ref, submission_id=submission_id,
                      redirected=household_uuid != household.household_uuid)
    person_uuid = None
    for observation in visit.people:
        uuid = aliases.resolve(observation.person_uuid)
        person_uuid = person_uuid or uuid
        if only is None or uuid in only:
            _merge_record(store, "person", replace(observation, person_uuid=uuid,
                                                   fields=_resolved(observation.fields, aliases)),
                          ref, submission_id=submission_id, redirected=uuid != observation.person_uuid)
    for anchor in visit.anchors:
        uuid = aliases.resolve(anchor.person_uuid)
        if only is None or uuid in only:
            store.anchors.append(queries.anchor_row(uuid, anchor, submission_id))
    store.add_visit(submission_id, _named_uuids(visit), queries.visit_row(
        submission_id, form=visit.form_id, household_uuid=household_uuid,
        person_uuid=person_uuid if visit.followup is not None else None, visited_at=visit.visited_at,
        visit_date=visit.visit_date, outcome=visit.outcome, completed=visit.completed,
        followup_type=visit.followup.followup_type if visit.followup else None))
    return None


def _resolved(fields, aliases) -> dict[str, str]:
    return {name: aliases.resolve(value) if name in _HOUSEHOLD_REFERENCES else value for name, value in fields.items()}


def _merge_record(store, kind: str, observation: PersonObservation, ref: VisitRef, *, submission_id: int | None = None,
                  decision_id: int | None = None, redirected: bool = False) -> None:
    state = store.state(kind, observation.person_uuid)
    if redirected and observation.base_version is not None and state is not None:
        # The phone saw the duplicate, merged away since: it counts as having seen the kept record as it stands.
        observation = replace(observation, base_version=state.version)
    plan = plan_record(state, observation, ref)
    if plan.changes_anything:
        store.save(kind, plan, apply_plan(state, plan, ref), ref, submission_id=submission_id,
                   decision_id=decision_id)


def _apply_decision(store, decision, aliases: _ReplayAliases, *, only: set[str] | None) -> None:
    ref = VisitRef(f"decision:{decision.id}", _aware(decision.decided_at))
    if decision.kind == "reject_visit":
        return  # the replay leaves the rejected submission out
    if decision.kind in _FIELD_DECISIONS or decision.kind == "set_field":
        kind, name = (_FIELD_DECISIONS[decision.kind] if decision.kind in _FIELD_DECISIONS
                      else decision.field.split(":", 1))
        uuid = aliases.resolve(decision.subject_uuid)
        state = store.state(kind, uuid)
        if state is not None and (only is None or uuid in only):
            _merge_record(store, kind, PersonObservation(uuid, state.version, {name: decision.target}), ref,
                          decision_id=decision.id)
            if decision.kind == "set_field":
                store.resolve_conflicts(uuid, name)
        return
    kind = "person" if decision.kind == "merge_people" else "household"
    kept, merged = aliases.resolve(decision.target), aliases.resolve(decision.subject_uuid)
    if kept == merged or store.state(kind, kept) is None or store.state(kind, merged) is None:
        return
    store.fold(kind, kept, merged, decision.id)
    aliases.merged_into[merged] = kept
    if kind == "household":
        for person_uuid in store.members(merged):
            state = store.state("person", person_uuid)
            _merge_record(store, "person", PersonObservation(person_uuid, state.version, {"household": kept}), ref,
                          decision_id=decision.id)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


# ---- replays -----------------------------------------------------------------------------------------------------

def _closure(uuids: set[str]) -> tuple[set[str], list]:
    """The records to replay with these (joined to them by decisions, in force or undone) and those decisions."""
    records, decisions, pending = set(uuids), {}, set(uuids)
    while pending:
        found = set()
        for decision in queries.decisions_naming(pending):
            decisions[decision.id] = decision
            found |= {decision.subject_uuid} | ({decision.target} if decision.kind in _MERGE_KINDS else set())
            if decision.kind == "merge_households":
                found |= queries.people_ever_in({decision.subject_uuid, decision.target})
        pending = found - records
        records |= found
    return records, [decision for decision in decisions.values() if decision.undone_at is None]


def _replay_records(uuids: set[str], *, extra_submissions: Iterable[int] = ()) -> set[tuple[str, str]]:
    """Forget these records (and those joined to them by decisions) and replay them; returns (kind, uuid) of the
    records now in the register among them."""
    records, decisions = _closure(uuids)
    verdicts: dict[int, str | None] = {}   # whether each visit was refused before this replay
    submission_ids = set(extra_submissions)
    while True:
        submission_ids |= queries.submissions_touching(records)   # (those forgotten already are in the set)
        verdicts.update(queries.refusals(submission_ids - set(verdicts)))
        queries.forget_records(records, submission_ids)
        store = _MemoryStore(only=records)
        _replay(store, queries.submission_rows(submission_ids), decisions + queries.rejections_of(submission_ids),
                only=records)
        # A visit the replay judged otherwise than before (a decision moved a record into or out of its group)
        # changes records outside this replay too: replay again with every record it names.
        judged = {row["submission_id"]: row["refusal"] for row in store.visits}
        changed = {row["record_uuid"] for row in store.submission_records
                   if row["submission_id"] in verdicts and judged.get(row["submission_id"], 0) != verdicts[
                       row["submission_id"]]} - records
        if not changed:
            break
        more_records, more_decisions = _closure(changed)
        records |= more_records
        decisions += [decision for decision in more_decisions if decision not in decisions]
    store.flush()
    return store.record_keys()


def _replay(store, rows, decisions, *, only: set[str] | None) -> int:
    by_instance = {row[2]: row for row in rows}
    versions = [SubmissionVersion(instance_id, deprecated_id, arrival=row_id)
                for row_id, _xml, instance_id, deprecated_id, _area in rows]
    by_decision = {decision.id: decision for decision in decisions}
    points = [DecisionPoint(decision.id, decision.after_submission_id) for decision in by_decision.values()]
    rejected = {int(decision.subject_uuid) for decision in by_decision.values() if decision.kind == "reject_visit"}
    aliases = _ReplayAliases()
    applied = 0
    for item in replay_order(versions, points):
        if isinstance(item, DecisionPoint):
            _apply_decision(store, by_decision[item.id], aliases, only=only)
            continue
        row = by_instance[item.instance_id]
        while row is not None and row[0] not in rejected and (visit := _register_visit(row[1])) is not None:
            if _apply_visit(store, row[0], visit, row[4], aliases, only=only,
                            chain=_versions_replaced(row, by_instance)) is None:
                applied += 1
                break
            # A refused edit changes nothing: the version it replaces stays in force, where it was.
            row = by_instance.get(row[3]) if row[3] else None
    return applied


def _versions_replaced(row, by_instance) -> frozenset[int]:
    """The ids of a submission version and of the stored versions it replaces (its edit chain, back to the root)."""
    ids = set()
    while row is not None and row[0] not in ids:
        ids.add(row[0])
        row = by_instance.get(row[3]) if row[3] else None
    return frozenset(ids)


# ---- where merged records go -------------------------------------------------------------------------------------

def _settle_conflict(row: dict, rows: list[dict], *, stored: bool = False) -> None:
    """Take a new conflict into the open ones of its record and field, kept as the cadre sees them whatever order
    the visits arrived in: one per value that lost, each against the latest winner (the winner's own row goes).
    `stored`: the database already holds an open row for this losing value (see queries.settle_stored_conflict)."""
    same_field = [other for other in rows if other.get("state", "open") == "open"
                  and other["record_uuid"] == row["record_uuid"] and other["field"] == row["field"]]
    for other in same_field:
        other["value"], other["instance_id"] = row["value"], row["instance_id"]
    rows[:] = [other for other in rows if not any(other is same and same["other_value"] == row["value"]
                                                  for same in same_field)]
    known = next((other for other in same_field if other["other_value"] == row["other_value"]), None)
    if known is not None:
        known["other_instance_id"] = row["other_instance_id"]
    elif not stored:
        rows.append(row)


class _DatabaseStore:
    """Records read from and written to the database one by one: the live merge of a new submission."""

    def __init__(self) -> None:
        self.field_values: list[dict] = []
        self.events: list[dict] = []
        self.conflicts: list[dict] = []
        self.visits: list[dict] = []
        self.anchors: list[dict] = []
        self.submission_records: list[dict] = []
        self.identity_changed: set[str] = set()
        self.created_households: set[str] = set()

    def state(self, kind: str, uuid: str) -> RecordState | None:
        return queries.record_state(kind, uuid)

    def lookup(self, aliases, chain: frozenset[int]) -> RegisterLookup:
        """The register as it stands: every record is here."""
        return RegisterLookup(aliases.resolve, queries.household_group, queries.household_of)

    def save(self, kind: str, plan: RecordPlan, after: RecordState, ref: VisitRef, *, submission_id: int | None,
             decision_id: int | None) -> None:
        self.field_values += [queries.field_value_row(kind, plan.uuid, name, FieldValue(value, plan.new_version, ref),
                                                      submission_id=submission_id, decision_id=decision_id)
                              for name, value in plan.updates.items()]
        queries.save_record(kind, plan.uuid, after.values(), after.version)
        if plan.event is not None and kind == "person":
            self.events.append(queries.event_row(plan.uuid, plan.event, submission_id))
        for row in map(queries.conflict_row, plan.conflicts):
            _settle_conflict(row, self.conflicts, stored=queries.settle_stored_conflict(row))
        if kind == "person" and (plan.create or _IDENTITY_FIELDS & set(plan.updates)):
            self.identity_changed.add(plan.uuid)
        if kind == "household" and plan.create:
            self.created_households.add(plan.uuid)

    def add_visit(self, submission_id: int, uuids: set[str], visit: dict) -> None:
        self.visits.append(visit)
        self.submission_records += [dict(submission_id=submission_id, record_uuid=uuid) for uuid in sorted(uuids)]

    def flush(self) -> None:
        queries.add_field_values(self.field_values)
        queries.add_rows(events=self.events, conflicts=self.conflicts, visits=self.visits, anchors=self.anchors,
                         submission_records=self.submission_records)


class _MemoryStore:
    """Records replayed from nothing, in memory, written in bulk at the end: replays and the rebuild."""

    def __init__(self, only: set[str] | None = None) -> None:
        self.only = only                   # the records a partial replay rebuilds (None: all of them)
        self.records: dict[tuple[str, str], RecordState] = {}
        self.removed: set[tuple[str, str]] = set()
        self.field_values: list[dict] = []
        self.events: list[dict] = []       # person_uuid is re-pointed when a person is merged
        self.conflicts: list[dict] = []
        self.visits: list[dict] = []
        self.anchors: list[dict] = []      # person_uuid is re-pointed when a person is merged
        self.submission_records: list[dict] = []

    def state(self, kind: str, uuid: str) -> RecordState | None:
        return self.records.get((kind, uuid))

    def lookup(self, aliases, chain: frozenset[int]) -> RegisterLookup:
        """The register at the visit's place in the replay: records replayed are as replayed so far; a record left
        out of a partial replay is as stored (unless this visit's own edit chain made it: then it is not there yet,
        as in a rebuild)."""
        def stored(kind: str, uuid: str, read) -> str | None:
            state = self.records.get((kind, uuid))
            if state is not None:
                return state.values().get("group", "") if kind == "household" else state.values().get("household")
            if self.only is None or uuid in self.only or queries.created_by(kind, uuid) in chain:
                return None
            return read(uuid)
        return RegisterLookup(aliases.resolve, lambda uuid: stored("household", uuid, queries.household_group),
                              lambda uuid: stored("person", uuid, queries.household_of))

    def save(self, kind: str, plan: RecordPlan, after: RecordState, ref: VisitRef, *, submission_id: int | None,
             decision_id: int | None) -> None:
        self.records[(kind, plan.uuid)] = after
        self.field_values += [queries.field_value_row(kind, plan.uuid, name, FieldValue(value, plan.new_version, ref),
                                                      submission_id=submission_id, decision_id=decision_id)
                              for name, value in plan.updates.items()]
        if plan.event is not None and kind == "person":
            self.events.append(queries.event_row(plan.uuid, plan.event, submission_id))
        self._add_conflicts(plan.conflicts)

    def _add_conflicts(self, conflicts) -> None:
        for row in map(queries.conflict_row, conflicts):
            _settle_conflict(row, self.conflicts)

    def fold(self, kind: str, kept: str, merged: str, decision_id: int) -> None:
        after, taken, conflicts = fold_record(self.records[(kind, kept)], self.records[(kind, merged)])
        self.records[(kind, kept)] = after
        del self.records[(kind, merged)]
        self.removed.add((kind, merged))
        self.field_values += [queries.field_value_row(kind, kept, name, value, submission_id=None,
                                                      decision_id=decision_id) for name, value in taken.items()]
        self._add_conflicts(conflicts)
        for row in self.conflicts:
            if row["record_uuid"] == merged:
                row["record_uuid"] = kept
        for row in (*self.events, *self.anchors) if kind == "person" else ():
            if row["person_uuid"] == merged:
                row["person_uuid"] = kept
        column = "person_uuid" if kind == "person" else "household_uuid"
        for row in self.visits:
            if row[column] == merged:
                row[column] = kept

    def resolve_conflicts(self, uuid: str, name: str) -> None:
        """A decision set this field: the conflicts about it so far are resolved."""
        for row in self.conflicts:
            if row["record_uuid"] == uuid and row["field"] == name:
                row["state"] = "resolved"

    def members(self, household_uuid: str) -> list[str]:
        return sorted(uuid for (kind, uuid), state in self.records.items()
                      if kind == "person" and state.values().get("household") == household_uuid)

    def add_visit(self, submission_id: int, uuids: set[str], visit: dict) -> None:
        self.visits.append(visit)
        self.submission_records += [dict(submission_id=submission_id, record_uuid=uuid) for uuid in sorted(uuids)]

    def record_keys(self) -> set[tuple[str, str]]:
        return set(self.records) | self.removed

    def flush(self) -> None:
        for kind in ("household", "person"):
            queries.add_records(kind, [(uuid, state.values(), state.version)
                                       for (record_kind, uuid), state in self.records.items() if record_kind == kind])
        queries.add_field_values(self.field_values)
        queries.add_rows(events=self.events, conflicts=self.conflicts, visits=self.visits, anchors=self.anchors,
                         submission_records=self.submission_records)

"""Merging queued submissions into the register, and rebuilding it from the raw submissions.

Submissions are merged in arrival order (submission id), one at a time: the merge worker locks the oldest queue
entry (FOR UPDATE, not SKIP LOCKED: a second worker waits instead of overtaking, which keeps record versions
deterministic, so a rebuild reproduces the live register exactly). Intake only stores and queues, so Collect gets
its 201 at once and a crash between acceptance and merge leaves the entry queued. An edit, or an original that
arrives after its edit, makes the records it touches replay from their submissions with the edit in place.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.register import queries
from sync.errors import TaizhangError
from sync.merge import SubmissionVersion, VisitRef, apply_plan, effective_versions, plan_record
from sync.visits import PersonObservation, Visit, read_visit

__all__ = ["MergeOutcome", "merge_next", "note_merge_failure", "rebuild_register"]

REGISTER_FORMS = {"household_visit", "followup"}


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    submission_id: int
    applied: bool
    replayed_records: int = 0


def merge_next() -> MergeOutcome | None:
    """Merge the oldest queued submission (the caller commits); None when the queue is empty."""
    claimed = queries.claim_next()
    if claimed is None:
        return None
    submission_id, xml, _instance_id, deprecated_id, area_id = claimed
    visit = _register_visit(xml)
    outcome = MergeOutcome(submission_id, applied=False)
    if visit is not None:
        superseded = queries.is_superseded(visit.instance_id)
        if deprecated_id or superseded:
            outcome = MergeOutcome(submission_id, applied=True, replayed_records=_replay_chain(submission_id, visit))
        else:
            _apply(submission_id, visit, area_id, only=None)
            outcome = MergeOutcome(submission_id, applied=True)
    queries.dequeue(submission_id)
    return outcome


def note_merge_failure(error: BaseException) -> int | None:
    """After a failed merge was rolled back: count the attempt on its queue entry (the error's type only: messages
    can quote personal data). After MAX_ATTEMPTS the entry is left for a person and the worker moves on."""
    return queries.note_failure(type(error).__name__)


def rebuild_register() -> int:
    """Forget the derived register and merge every effective submission again, in arrival order."""
    queries.forget_everything()
    return _replay(queries.submission_rows(), only=None)


def _register_visit(xml: bytes) -> Visit | None:
    try:
        visit = read_visit(xml)
    except TaizhangError:
        return None  # not a register form, or unreadable: kept raw, nothing to merge
    return visit if visit.form_id in REGISTER_FORMS else None


def _uuids(visit: Visit) -> set[str]:
    found = {observation.person_uuid for observation in visit.people}
    if visit.household is not None:
        found.add(visit.household.household_uuid)
    return found


def _replay_chain(submission_id: int, visit: Visit) -> int:
    """Replay every record this submission's chain touches, from all submissions touching those records."""
    uuids = _uuids(visit)
    for row in queries.submission_rows(queries.chain_ids(submission_id)):
        chained = _register_visit(row[1])
        if chained is not None:
            uuids |= _uuids(chained)
    ids = queries.submissions_touching(uuids) | queries.chain_ids(submission_id)
    queries.forget_records(uuids, ids)
    _replay(queries.submission_rows(ids), only=uuids)
    return len(uuids)


def _replay(rows, *, only: set[str] | None) -> int:
    by_arrival = {row[0]: row for row in rows}
    versions = [SubmissionVersion(instance_id, deprecated_id, arrival=row_id)
                for row_id, _xml, instance_id, deprecated_id, _area in rows]
    instance_to_id = {row[2]: row[0] for row in rows}
    applied = 0
    for version in effective_versions(versions):
        row_id, xml, _instance_id, _deprecated, area_id = by_arrival[instance_to_id[version.instance_id]]
        visit = _register_visit(xml)
        if visit is not None:
            _apply(row_id, visit, area_id, only=only)
            applied += 1
    return applied


def _apply(submission_id: int, visit: Visit, area_id: int | None, *, only: set[str] | None) -> None:
    """Merge one visit's observations (restricted to `only` records when replaying)."""
    ref = VisitRef(visit.instance_id, visit.visited_at)
    household = visit.household
    if household is not None and household.fields and (only is None or household.household_uuid in only):
        observation = PersonObservation(household.household_uuid, household.base_version, household.fields)
        _merge_record("household", observation, submission_id, ref, group_id=area_id)
    for observation in visit.people:
        if only is None or observation.person_uuid in only:
            _merge_record("person", observation, submission_id, ref)
    person_uuid = visit.people[0].person_uuid if visit.followup is not None and visit.people else None
    queries.add_visit(submission_id, form=visit.form_id,
                      household_uuid=household.household_uuid if household else None, person_uuid=person_uuid,
                      visited_at=visit.visited_at, visit_date=visit.visit_date, outcome=visit.outcome,
                      completed=visit.completed)


def _merge_record(kind: str, observation: PersonObservation, submission_id: int, ref: VisitRef, *,
                  group_id: int | None = None) -> None:
    state = queries.record_state(kind, observation.person_uuid)
    plan = plan_record(state, observation, ref)
    if not plan.changes_anything:
        return
    after = apply_plan(state, plan, ref)
    queries.add_field_values(kind, plan.uuid, dict(plan.updates), plan.new_version, submission_id, ref)
    queries.save_record(kind, plan.uuid, after.values(), after.version, group_id=group_id)
    if plan.event is not None and kind == "person":
        queries.add_event(plan.uuid, plan.event, submission_id)
    for conflict in plan.conflicts:
        queries.add_conflict(conflict)

"""The register replay: raw visits and recorded decisions, applied in one order, give the register (pure).

One code path serves the live merge of a new visit, the partial replay after anything changes the past (an edit,
a decision, an undo) and the full rebuild: `apply_visit` merges one visit into a `RegisterStore`, and `replay`
applies a set of stored submissions and decisions in `sync.merge.replay_order`. The store decides where records
come from and go (the server's database store for the live merge, its in-memory store for replays); the rules
that decide what a visit or a decision does to a record are here and in sync.merge, sync.scope and
sync.decisions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import NamedTuple, Protocol

from sync.decisions import DECISION_KINDS, DecisionRow
from sync.errors import TaizhangError
from sync.merge import (
    DecisionPoint,
    RecordPlan,
    RecordState,
    SubmissionVersion,
    VisitRef,
    apply_plan,
    keyed_replay_order,
    plan_record,
)
from sync.retention import PurgedRecords
from sync.scope import RegisterLookup, refusal
from sync.services import ServiceItem
from sync.visits import AnchorObservation, PersonObservation, Visit, read_visit

__all__ = ["REGISTER_FORMS", "HOUSEHOLD_REFERENCES", "StoredSubmission", "VisitEntry", "RegisterStore",
           "ReplayAliases", "register_visit", "raw_uuids", "named_uuids", "apply_visit", "merge_record", "replay"]

REGISTER_FORMS = frozenset({"household_visit", "followup"})
"""The forms whose visits change the register."""

HOUSEHOLD_REFERENCES = ("household", "split_from")
"""Field values that name a household: they follow a household merge."""


class StoredSubmission(NamedTuple):
    """A raw submission as stored: what a replay reads."""

    id: int
    xml: bytes
    instance_id: str
    deprecated_id: str | None
    area_id: int | None      # the group of the collector who sent it


@dataclass(frozen=True, slots=True)
class VisitEntry:
    """What the register keeps of a visit besides the records it changed (the service record's header)."""

    form: str
    household_uuid: str | None
    person_uuid: str | None
    visited_at: dt.datetime | None
    visit_date: dt.date | None
    outcome: str | None
    completed: bool
    followup_type: str | None
    refusal: str | None = None     # why the merge refused it (sync.scope.REFUSALS); None: merged
    form_version: str | None = None
    next_visit: dt.date | None = None    # agreed with the household
    notes: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    accuracy: float | None = None


class RegisterStore(Protocol):
    """Where a replay reads records from and writes its results to. `fold`, `members`, `resolve_conflicts` and
    `withdraw_consent` are needed only where decisions are replayed (the live merge of a new visit applies none)."""

    def state(self, kind: str, uuid: str) -> RecordState | None: ...

    def lookup(self, aliases: ReplayAliases, chain: frozenset[int]) -> RegisterLookup: ...

    def save(self, kind: str, plan: RecordPlan, after: RecordState, ref: VisitRef, *, submission_id: int | None,
             decision_id: int | None) -> None: ...

    def fold(self, kind: str, kept: str, merged: str, decision_id: int) -> None: ...

    def members(self, household_uuid: str) -> list[str]: ...

    def resolve_conflicts(self, uuid: str, name: str) -> None: ...

    def add_anchor(self, person_uuid: str, anchor: AnchorObservation, submission_id: int) -> None: ...

    def add_visit(self, submission_id: int, uuids: set[str], entry: VisitEntry) -> None: ...

    def add_service_items(self, submission_id: int, visit: Visit, household_uuid: str | None,
                          items: Iterable[ServiceItem]) -> None: ...

    def withdraw_consent(self, person_uuid: str, household_uuid: str, *, anchors: bool) -> None: ...


class ReplayAliases:
    """Merged-away uuids resolved through the decisions replayed so far (a live merge starts from those stored)."""

    def __init__(self, merged_into: dict[str, str] | None = None) -> None:
        self.merged_into: dict[str, str] = dict(merged_into or {})

    def resolve(self, uuid: str) -> str:
        seen = set()
        while uuid in self.merged_into and uuid not in seen:
            seen.add(uuid)
            uuid = self.merged_into[uuid]
        return uuid


def register_visit(xml: bytes) -> Visit | None:
    """The visit a submission records, if it is one of the register's forms (None: kept raw, nothing to merge)."""
    try:
        visit = read_visit(xml)
    except TaizhangError:
        return None
    return visit if visit.form_id in REGISTER_FORMS else None


def raw_uuids(visit: Visit) -> set[str]:
    """The register uuids a visit names, as the phone wrote them."""
    found = ({observation.person_uuid for observation in visit.people} | {anchor.person_uuid for anchor in visit.anchors}
             | {item.person_uuid for item in visit.services.items if item.person_uuid})
    if visit.household is not None:
        found.add(visit.household.household_uuid)
    return found


def named_uuids(visit: Visit) -> set[str]:
    """Every uuid a visit names: its records and the households its field values point to."""
    referenced = {value for observation in visit.people for name, value in observation.fields.items()
                  if name in HOUSEHOLD_REFERENCES}
    if visit.household is not None and "split_from" in visit.household.fields:
        referenced.add(visit.household.fields["split_from"])
    return raw_uuids(visit) | referenced


def apply_visit(store: RegisterStore, submission_id: int, visit: Visit, area_id: int | None, aliases, *,
                only: set[str] | None, chain: frozenset[int] = frozenset(),
                purged: PurgedRecords | None = None) -> str | None:
    """Merge one visit's observations (restricted to `only` records when replaying part of the register), unless
    it names records outside its collector's group: then nothing changes and the visit is kept with the reason,
    which is returned (sync.scope). `chain`: the ids of the stored versions this one replaces. `purged`: the
    tombstones of purged records (sync.retention): what the visit says of them is left out, and a visit sent after
    the purge naming a person purged is refused."""
    group = None if area_id is None else str(area_id)
    if purged:
        if purged.refuses(visit, submission_id, aliases.resolve):
            store.add_visit(submission_id, named_uuids(visit), _entry(visit, None, None, "person_purged"))
            return "person_purged"
        visit = purged.visit_without(visit, submission_id, aliases.resolve)
    lookup = store.lookup(aliases, chain)
    refused = refusal(visit, group, lookup)
    if refused is not None:
        store.add_visit(submission_id, named_uuids(visit), _entry(visit, None, None, refused))
        return refused
    ref = VisitRef(visit.instance_id, visit.visited_at)
    household = visit.household
    household_uuid = aliases.resolve(household.household_uuid) if household else None
    if household is not None and household.fields and (only is None or household_uuid in only):
        fields = _resolved(household.fields, aliases)
        if area_id is not None:
            fields.setdefault("group", str(area_id))  # a new household is in its collector's group
        merge_record(store, "household", PersonObservation(household_uuid, household.base_version, fields), ref,
                     submission_id=submission_id, redirected=household_uuid != household.household_uuid)
    person_uuid = None
    for observation in visit.people:
        uuid = aliases.resolve(observation.person_uuid)
        person_uuid = person_uuid or uuid
        if observation.arrival and not lookup.expected_in(uuid, group):
            # Their arrival was confirmed already (by another phone, or the cadre): applied once.
            observation = replace(observation, fields={}, event=None)
        if only is None or uuid in only:
            merge_record(store, "person", PersonObservation(uuid, observation.base_version,
                                                            _resolved(observation.fields, aliases),
                                                            observation.event, observation.arrival),
                         ref, submission_id=submission_id, redirected=uuid != observation.person_uuid)
    for anchor in visit.anchors:
        uuid = aliases.resolve(anchor.person_uuid)
        if only is None or uuid in only:
            store.add_anchor(uuid, anchor, submission_id)
    store.add_visit(submission_id, named_uuids(visit),
                    _entry(visit, household_uuid, person_uuid if visit.followup is not None else None, None))
    store.add_service_items(submission_id, visit, household_uuid, [
        replace(item, person_uuid=aliases.resolve(item.person_uuid)) if item.person_uuid else item
        for item in visit.services.items])
    return None


def _entry(visit: Visit, household_uuid: str | None, person_uuid: str | None, refused: str | None) -> VisitEntry:
    services = visit.services
    location = services.location
    return VisitEntry(form=visit.form_id, household_uuid=household_uuid, person_uuid=person_uuid,
                      visited_at=visit.visited_at, visit_date=visit.visit_date, outcome=visit.outcome,
                      completed=visit.completed, followup_type=visit.followup.followup_type if visit.followup else None,
                      refusal=refused, form_version=visit.form_version or None, next_visit=services.next_visit,
                      notes=services.notes, latitude=location.latitude if location else None,
                      longitude=location.longitude if location else None,
                      altitude=location.altitude if location else None,
                      accuracy=location.accuracy if location else None)


def _resolved(fields, aliases) -> dict[str, str]:
    if not aliases.merged_into:   # nothing merged away (yet): every value is its own
        return dict(fields)
    return {name: aliases.resolve(value) if name in HOUSEHOLD_REFERENCES else value for name, value in fields.items()}


def merge_record(store: RegisterStore, kind: str, observation: PersonObservation, ref: VisitRef, *,
                 submission_id: int | None = None, decision_id: int | None = None, redirected: bool = False) -> None:
    """Merge one observation of a record (from a visit or a decision) into the store."""
    state = store.state(kind, observation.person_uuid)
    if redirected and observation.base_version is not None and state is not None:
        # The phone saw the duplicate, merged away since: it counts as having seen the kept record as it stands.
        observation = replace(observation, base_version=state.version)
    plan = plan_record(state, observation, ref)
    if plan.changes_anything:
        store.save(kind, plan, apply_plan(state, plan, ref), ref, submission_id=submission_id,
                   decision_id=decision_id)


def replay(store: RegisterStore, submissions: Iterable[StoredSubmission], decisions: Iterable[DecisionRow], *,
           only: set[str] | None, purged: PurgedRecords | None = None,
           visit_of: Callable[[StoredSubmission], Visit | None] | None = None,
           mark: Callable[[tuple[int, int, int]], None] | None = None) -> int:
    """Apply stored submissions and decisions in force in their one order (sync.merge.replay_order); returns how
    many visits were merged. `only`: the records a partial replay rebuilds (None: all of them). `purged`: the
    tombstones of purged records; a decision naming a person purged is skipped. `visit_of`: a submission's visit
    when it was read already (default: register_visit of its XML); `mark`: told each item's key in the order
    (sync.merge.keyed_replay_order) before it is applied."""
    visit_of = visit_of or (lambda row: register_visit(row.xml))
    by_instance = {row.instance_id: row for row in submissions}
    versions = [SubmissionVersion(row.instance_id, row.deprecated_id, arrival=row.id) for row in by_instance.values()]
    by_decision = {decision.id: decision for decision in decisions}
    points = [DecisionPoint(decision.id, decision.after_submission_id) for decision in by_decision.values()]
    left_out = {int(decision.subject_uuid) for decision in by_decision.values()
                if DECISION_KINDS[decision.kind].takes_visit_out}
    aliases = ReplayAliases()
    applied = 0
    for key, item in keyed_replay_order(versions, points):
        if mark is not None:
            mark(key)
        if isinstance(item, DecisionPoint):
            decision = by_decision[item.id]
            if purged and purged.names_purged(aliases.resolve(decision.subject_uuid), decision.subject_uuid,
                                              decision.target):
                continue
            DECISION_KINDS[decision.kind].replay(store, decision, aliases, only=only, merge_record=merge_record)
            continue
        row = by_instance[item.instance_id]
        while row is not None and row.id not in left_out and (visit := visit_of(row)) is not None:
            if apply_visit(store, row.id, visit, row.area_id, aliases, only=only,
                           chain=_versions_replaced(row, by_instance), purged=purged) is None:
                applied += 1
                break
            # A refused edit changes nothing: the version it replaces stays in force, where it was.
            row = by_instance.get(row.deprecated_id) if row.deprecated_id else None
    return applied


def _versions_replaced(row: StoredSubmission, by_instance: dict[str, StoredSubmission]) -> frozenset[int]:
    """The ids of a submission version and of the stored versions it replaces (its edit chain, back to the root)."""
    ids = set()
    while row is not None and row.id not in ids:
        ids.add(row.id)
        row = by_instance.get(row.deprecated_id) if row.deprecated_id else None
    return frozenset(ids)

"""Merging visits into register records: field-level plans, conflicts, parallel updates, replay with edits.

The rules (pure functions; the caller supplies state and visits):

* Submissions are applied in arrival order, which numbers record versions deterministically, so a rebuild from
  the raw submissions gives the same versions the phones were sent.
* A visit states field values and the record version its phone saw (`base_version`). A field whose stated
  value equals what the phone saw was not changed by the visit and is left alone.
* A changed field that nobody else changed since that version is applied; if other fields changed meanwhile,
  the update is a "parallel update" (noted, both kept).
* A field the visit changed that someone else also changed, to another value, since that version is a
  conflict: the observation made later on the phone (not the later arrival) wins provisionally, and the conflict
  keeps both values and both visits for the village cadre.
* An edit (`deprecatedID`) takes the place of the version it replaces: replay the record's visits with the edit
  in the original's position, so what the original contributed is replaced, not added to.
* A merge of two records of one person (or household) folds the duplicate into the record kept: fields the kept
  record lacks are taken over, a field both hold with different values keeps the kept record's value and is a
  conflict (with both values and visits) for the village cadre, and the duplicate's events follow it.
* Decisions (merges, household moves) are replayed with the submissions, at the position in arrival order where
  they were made (`replay_order`), so a rebuild, or a replay after an edit or an undo, reproduces them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from sync.visits import LifeEvent, PersonObservation

__all__ = ["FieldValue", "RecordState", "Conflict", "RecordPlan", "VisitRef", "plan_record", "apply_plan",
           "replay_record", "effective_versions", "SubmissionVersion", "fold_record", "DecisionPoint", "replay_order",
           "keyed_replay_order"]


_EARLIEST = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True, slots=True)
class VisitRef:
    """The visit an observation comes from: its instanceID and when it happened on the phone."""

    instance_id: str
    visited_at: dt.datetime | None

    def happened_after(self, other: VisitRef) -> bool:
        """True when this visit happened later on the phone (unknown times count as earliest; ties by id)."""
        return self._phone_order() > other._phone_order()

    def _phone_order(self) -> tuple:
        return (self.visited_at is not None, self.visited_at or _EARLIEST, self.instance_id)


@dataclass(frozen=True, slots=True)
class FieldValue:
    value: str
    version: int        # the record version this value was set in
    visit: VisitRef


@dataclass(frozen=True, slots=True)
class RecordState:
    """A register record (household or person) as its history of field values, oldest first per field."""

    uuid: str
    version: int
    history: Mapping[str, tuple[FieldValue, ...]] = field(default_factory=dict)
    events: tuple[tuple[LifeEvent, str], ...] = ()   # (event, instanceID that recorded it)

    def current(self, name: str) -> FieldValue | None:
        values = self.history.get(name, ())
        return values[-1] if values else None

    def value_at(self, name: str, version: int | None) -> str | None:
        """The field's value as of a record version (what a phone that saw that version showed)."""
        if version is None:
            return None
        seen = [entry for entry in self.history.get(name, ()) if entry.version <= version]
        return seen[-1].value if seen else None

    def value(self, name: str) -> str | None:
        """The field's current value (values().get(name) without the others)."""
        values = self.history.get(name)
        return values[-1].value if values else None

    def values(self) -> dict[str, str]:
        return {name: entries[-1].value for name, entries in self.history.items() if entries}

    def values_with_visits(self) -> dict[str, FieldValue]:
        return {name: entries[-1] for name, entries in self.history.items() if entries}


@dataclass(frozen=True, slots=True)
class Conflict:
    uuid: str
    field: str
    value: str                # the value now in the register (the provisional winner)
    visit: VisitRef
    other_value: str          # the value that lost, and the visit that stated it
    other_visit: VisitRef


@dataclass(frozen=True, slots=True)
class RecordPlan:
    uuid: str
    create: bool
    updates: Mapping[str, str]
    conflicts: tuple[Conflict, ...]
    parallel_update: bool     # other fields changed since the phone's version; both kept
    event: LifeEvent | None
    new_version: int

    @property
    def changes_anything(self) -> bool:
        return self.create or bool(self.updates) or bool(self.conflicts) or self.event is not None


def plan_record(state: RecordState | None, observation: PersonObservation, visit: VisitRef) -> RecordPlan:
    """What one observation does to one record, given the record's current state (None: not in the register)."""
    if state is None:
        return RecordPlan(uuid=observation.person_uuid, create=True, updates=dict(observation.fields), conflicts=(),
                          parallel_update=False, event=observation.event, new_version=1)
    seen = observation.base_version
    updates: dict[str, str] = {}
    conflicts: list[Conflict] = []
    for name, value in observation.fields.items():
        if seen is not None and value == state.value_at(name, seen):
            continue  # the phone showed this value and the visit kept it
        current = state.current(name)
        if current is None or current.value == value:
            if current is None or visit.happened_after(current.visit):
                # New, or the value the register holds stated again later: the later phone time is the one a
                # conflicting statement must beat (so the outcome does not depend on which arrived first).
                updates[name] = value
            continue
        unseen = [entry for entry in state.history.get(name, ())
                  if (seen is None or entry.version > seen) and entry.value != value]
        if not unseen:
            updates[name] = value
            continue
        other = unseen[-1]
        if visit.happened_after(other.visit):
            updates[name] = value
            conflicts.append(Conflict(state.uuid, name, value, visit, other.value, other.visit))
        else:
            conflicts.append(Conflict(state.uuid, name, other.value, other.visit, value, visit))
    parallel = bool(updates) and seen is not None and state.version > seen and not conflicts
    changed = bool(updates) or observation.event is not None
    return RecordPlan(uuid=state.uuid, create=False, updates=updates, conflicts=tuple(conflicts),
                      parallel_update=parallel, event=observation.event,
                      new_version=state.version + 1 if changed else state.version)


def apply_plan(state: RecordState | None, plan: RecordPlan, visit: VisitRef) -> RecordState:
    """The record after a plan (pure: returns a new state)."""
    history = dict(state.history) if state else {}   # the untouched fields' tuples are shared, not copied
    for name, value in plan.updates.items():
        history[name] = tuple(history.get(name, ())) + (FieldValue(value, plan.new_version, visit),)
    events = (state.events if state else ()) + (((plan.event, visit.instance_id),) if plan.event else ())
    return RecordState(state.uuid if state else plan.uuid, plan.new_version, history, events)


def fold_record(kept: RecordState, duplicate: RecordState) -> tuple[RecordState, dict[str, FieldValue],
                                                                    tuple[Conflict, ...]]:
    """The kept record after taking in a duplicate of it: (record, the values taken over, conflicts).

    The values taken over (fields the kept record lacks) keep the visit that stated them, at the kept record's
    next version; where both hold a value, the kept record's stays and the difference is a conflict.
    """
    version = kept.version + 1
    taken: dict[str, FieldValue] = {}
    conflicts: list[Conflict] = []
    for name, theirs in sorted(duplicate.values_with_visits().items()):
        ours = kept.current(name)
        if ours is None:
            taken[name] = FieldValue(theirs.value, version, theirs.visit)
        elif ours.value != theirs.value:
            conflicts.append(Conflict(kept.uuid, name, ours.value, ours.visit, theirs.value, theirs.visit))
    if not taken and not conflicts and not duplicate.events:
        return kept, {}, ()
    history = dict(kept.history)
    for name, value in taken.items():
        history[name] = history.get(name, ()) + (value,)
    return (replace(kept, version=version, history=history, events=kept.events + duplicate.events), taken,
            tuple(conflicts))


def replay_record(entries: Iterable[tuple[PersonObservation, VisitRef]]) -> tuple[RecordState | None,
                                                                                 tuple[Conflict, ...]]:
    """Build a record from all its observations in arrival order (edits already in place): the rebuild path."""
    state: RecordState | None = None
    conflicts: list[Conflict] = []
    for observation, visit in entries:
        plan = plan_record(state, observation, visit)
        conflicts.extend(plan.conflicts)
        state = apply_plan(state, plan, visit)
    return state, tuple(conflicts)


@dataclass(frozen=True, slots=True)
class SubmissionVersion:
    instance_id: str
    deprecated_id: str | None
    arrival: int              # position in arrival order (e.g. the submission row id)


def effective_versions(versions: Iterable[SubmissionVersion]) -> list[SubmissionVersion]:
    """The versions that count, in arrival order: each edit chain's newest version, at the position of the
    chain's first arrival (so an edit replaces what the original contributed, where the original contributed it)."""
    return [version for _, version in _positioned_versions(versions)]


@dataclass(frozen=True, slots=True)
class DecisionPoint:
    """A recorded decision's place in the replay: after the submission with id `after`, then by decision id."""

    id: int
    after: int


def replay_order(versions: Iterable[SubmissionVersion], decisions: Iterable[DecisionPoint]
                 ) -> list[SubmissionVersion | DecisionPoint]:
    """Effective submission versions and decisions, merged into the one order a replay applies them in."""
    return [item for _, item in keyed_replay_order(versions, decisions)]


def keyed_replay_order(versions: Iterable[SubmissionVersion], decisions: Iterable[DecisionPoint]
                       ) -> list[tuple[tuple[int, int, int], SubmissionVersion | DecisionPoint]]:
    """replay_order with each item's sort key: the key depends only on the item (and its edit chain), so a replay of
    part of the register (records no decision or visit joins to the rest) gives its items the keys, and the order,
    they have in the whole replay."""
    keyed = [((position, 0, 0), version) for position, version in _positioned_versions(versions)]
    keyed += [((decision.after, 1, decision.id), decision) for decision in decisions]
    return sorted(keyed, key=lambda pair: pair[0])


def _positioned_versions(versions: Iterable[SubmissionVersion]) -> list[tuple[int, SubmissionVersion]]:
    by_id = {version.instance_id: version for version in versions}
    replaced_by = {version.deprecated_id: version for version in by_id.values() if version.deprecated_id}

    def follow(version: SubmissionVersion, step) -> SubmissionVersion:
        """Walk the chain one way until it ends (a cycle from hostile input stops too)."""
        seen = set()
        while (following := step(version)) is not None and version.instance_id not in seen:
            seen.add(version.instance_id)
            version = following
        return version

    def root(version: SubmissionVersion) -> SubmissionVersion:
        return follow(version, lambda v: by_id.get(v.deprecated_id) if v.deprecated_id else None)

    def newest(version: SubmissionVersion) -> SubmissionVersion:
        return follow(version, lambda v: replaced_by.get(v.instance_id))

    chains: dict[str, tuple[int, SubmissionVersion]] = {}
    for version in by_id.values():
        first = root(version)
        position = min(chains.get(first.instance_id, (version.arrival, version))[0], version.arrival, first.arrival)
        chains[first.instance_id] = (position, newest(first))
    return sorted(chains.values(), key=lambda item: item[0])

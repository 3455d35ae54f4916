"""Where a replay's records come from and go: the database one by one (live merge) or memory in bulk (replays)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from server.register import queries, summaries
from sync.consent import ItemRef, withdrawn_anchor, withdrawn_items
from sync.merge import FieldValue, RecordPlan, RecordState, VisitRef, fold_record
from sync.replay import ReplayAliases, VisitEntry
from sync.scope import RegisterLookup
from sync.search_keys import person_search_columns
from sync.services import ServiceItem
from sync.visits import AnchorObservation, Visit

__all__ = ["DatabaseStore", "MemoryStore", "row_values"]

_VISIT_FIELDS = tuple(field.name for field in dataclasses.fields(VisitEntry))

# Person fields duplicate detection reads: a change to one of them re-checks the person.
IDENTITY_FIELDS = frozenset({"name", "sex", "birth_date", "id_number", "phone", "household", "status"})
# A change of these makes the duplicate check look at a person again: who they are, and whether they moved away
# (a departure is matched with the arrivals of other villages: sync.arrivals).
_CHECKED_FIELDS = IDENTITY_FIELDS | {"residence"}
# The fields a household's head is chosen by (server.register.open_events.heads_ranked), with where one lives.
_HEAD_FIELDS = frozenset({"household", "name", "relationship", "status", "residence"})


def row_values(kind: str, state: RecordState) -> dict[str, str | None]:
    """What a record's row holds: its current values, and for a person the name's search keys (both stores write
    rows through this, so the live merge and a rebuild give the same rows)."""
    values = state.values()
    return values | person_search_columns(values) if kind == "person" else values


def settle_conflict(row: dict, rows: list[dict], *, stored: bool = False) -> None:
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


class _DerivedRows:
    """The rows a merge derives besides records, inserted in bulk when the store is flushed."""

    def __init__(self) -> None:
        self.field_values: list[dict] = []
        self.events: list[dict] = []       # person_uuid is re-pointed when a person is merged
        self.conflicts: list[dict] = []
        self.visits: list[dict] = []
        self.anchors: list[dict] = []      # person_uuid is re-pointed when a person is merged
        self.submission_records: list[dict] = []
        self.service_items: list[dict] = []    # person_uuid, household_uuid re-pointed when a record is merged
        self.summarised: set[str] = set()      # records whose schedule summary to work out again besides those written
        # People added, moved, renamed, re-related, dead or moved away: a household's head may have changed.
        self.members_changed: set[str] = set()

    def _note_values(self, kind: str, plan: RecordPlan, after: RecordState, ref: VisitRef, *,
                     submission_id: int | None, decision_id: int | None) -> None:
        self.field_values += [queries.field_value_row(kind, plan.uuid, name, FieldValue(value, plan.new_version, ref),
                                                      submission_id=submission_id, decision_id=decision_id)
                              for name, value in plan.updates.items()]
        if kind == "person" and (plan.create or _HEAD_FIELDS & plan.updates.keys()):
            self.members_changed.add(plan.uuid)
        self._note_event(kind, plan, after, submission_id=submission_id, decision_id=decision_id)

    def _note_event(self, kind: str, plan: RecordPlan, after: RecordState, *, submission_id: int | None,
                    decision_id: int | None) -> None:
        if plan.event is not None and kind == "person":
            group = self.household_group(after.value("household") or "")
            destination = self.destination(plan.event.destination) if plan.event.destination else None
            self.events.append(queries.event_row(plan.uuid, plan.event, submission_id, decision_id,
                                                 group_id=int(group) if group else None,
                                                 destination_id=destination.id if destination is not None else None))

    def household_group(self, household_uuid: str) -> str | None:
        """A household's group id as the register holds it at this point ("" or None: none)."""
        return queries.household_group(household_uuid) if household_uuid else None

    def destination(self, full_name: str) -> queries.DestinationArea | None:
        """The village or town of that full name (the areas as stored; the parallel rebuild's store reads a copy)."""
        return queries.destination_area(full_name)

    def area(self, area_id: int):
        """An area's kind and path (queries.area_path)."""
        return queries.area_path(area_id)

    def destination_known(self, full_name: str) -> bool:
        return self.destination(full_name) is not None

    def expected_in(self, person_uuid: str, group: str) -> bool:
        """Whether the person moved out towards the village or town holding this group and has not arrived."""
        destination = self.departure_path(person_uuid)
        group_area = self.area(int(group)) if group and group.isdigit() else None
        return destination is not None and group_area is not None and group_area.path.startswith(destination)

    def departure_path(self, person_uuid: str) -> str | None:
        return queries.open_departure_path(person_uuid)

    def add_anchor(self, person_uuid: str, anchor: AnchorObservation, submission_id: int) -> None:
        self.anchors.append(queries.anchor_row(person_uuid, anchor, submission_id))

    def add_visit(self, submission_id: int, uuids: set[str], entry: VisitEntry) -> None:
        self.visits.append(queries.visit_row(submission_id, **{name: getattr(entry, name) for name in _VISIT_FIELDS}))
        self.submission_records += [dict(submission_id=submission_id, record_uuid=uuid) for uuid in sorted(uuids)]

    def add_service_items(self, submission_id: int, visit: Visit, household_uuid: str | None,
                          items: Iterable[ServiceItem]) -> None:
        self.service_items += [queries.service_item_row(submission_id, visit.instance_id, household_uuid,
                                                        visit.visit_date, visit.visited_at, item) for item in items]

    def withdraw_consent(self, person_uuid: str, household_uuid: str, *, anchors: bool) -> None:
        """A person withdrew consent (sync.consent): the items and anchors replayed so far that it covers go
        (`anchors` False: the person is not replayed here, their anchors are as stored)."""
        covered = withdrawn_items((ItemRef(row["item_key"], row["kind"], row["person_uuid"], row["household_uuid"],
                                           row["refers_to"]) for row in self.service_items),
                                  person_uuid, household_uuid)
        if covered:
            self.service_items = [row for row in self.service_items if row["item_key"] not in covered]
        if anchors:
            self.anchors = [row for row in self.anchors
                            if not withdrawn_anchor(row["kind"], row["person_uuid"], person_uuid)]

    def _flush_rows(self) -> None:
        queries.add_field_values(self.field_values)
        queries.add_rows(events=self.events, conflicts=self.conflicts, visits=self.visits, anchors=self.anchors,
                         submission_records=self.submission_records, service_items=self.service_items)
        households, people, members = self.summary_records()
        summaries.refresh(households, people, members=members)

    # ---- the schedule summary (server.register.summaries) ---------------------------------------------------------

    def summary_records(self) -> tuple[set[str] | None, set[str] | None, set[str] | None]:
        """What this flush may change of the schedule summary (None, None, None: every record): the households and
        people of the completed visits, follow-ups, tiers, anchors and ends written, of the next visits agreed and
        of referrals and their results, with `summarised` (set by a replay: the records of the visits it forgot);
        and the people who may have changed a household's head (`members_changed`: summaries.refresh adds the
        households they live in and headed)."""
        counted = [row for row in self.visits if row.get("completed") and row.get("visit_date")]
        agreeing = [row for row in self.visits if row.get("next_visit")]
        households = {row["household_uuid"] for row in counted if row["form"] == "household_visit"} | {
            row["household_uuid"] for row in agreeing}
        people = {row["person_uuid"] for row in counted if row["form"] == "followup"} | {
            row["record_uuid"] for row in self.field_values if row["field"] == "tier"} | {
            row["person_uuid"] for row in self.events if row["kind"] in ("death", "moved_out")} | {
            row["person_uuid"] for row in self.anchors} | {row["person_uuid"] for row in agreeing} | {
            row["person_uuid"] for row in self.service_items if row["kind"] in ("referral", "referral_result")}
        return (households | self.summarised) - {None}, (people | self.summarised) - {None}, self.members_changed


class DatabaseStore(_DerivedRows):
    """Records read from and written to the database: the live merge of new submissions, a run of a batch's visits
    in one store (decisions are only ever replayed, into a MemoryStore, so this store does not fold records). The
    records the visits name are read at once (`read`); their states, households' groups and people's households
    are then kept as the visits change them, and written when the store is flushed with the rows the visits
    derive (history, visits, events, …) and the schedule summaries they change: before anything reads them from
    the database (a replay), and at the end of the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.identity_changed: set[str] = set()
        self.created_households: set[str] = set()
        self.records: dict[tuple[str, str], RecordState | None] = {}   # None: not in the register
        self.stored: set[tuple[str, str]] = set()    # those with a row in the database
        self.saved: dict[tuple[str, str], RecordState] = {}   # to write when flushed
        self.groups: dict[str, str | None] = {}   # a household's group id ("": none; None: not in the register)
        self.homes: dict[str, str | None] = {}    # a person's household (None: not in the register)

    def read(self, uuids: set[str], kinds: tuple[str, ...] = ("household", "person")) -> None:
        """Read the records of these uuids (households and people alike) not read yet: two statements a kind."""
        for kind in kinds:
            wanted = {uuid for uuid in uuids if (kind, uuid) not in self.records}
            found = queries.record_states(kind, wanted)
            for uuid in wanted:
                record = found.get(uuid)
                self.records[(kind, uuid)] = record.state if record is not None else None
                if record is not None:
                    self.stored.add((kind, uuid))
                if kind == "household":
                    self.groups[uuid] = record.group if record is not None else None
                else:
                    self.homes[uuid] = record.household_uuid if record is not None else None

    def state(self, kind: str, uuid: str) -> RecordState | None:
        if (kind, uuid) not in self.records:
            self.read({uuid}, (kind,))
        return self.records[(kind, uuid)]

    def household_group(self, household_uuid: str) -> str | None:
        if not household_uuid:
            return None
        if household_uuid not in self.groups:
            self.groups[household_uuid] = queries.household_group(household_uuid)
        return self.groups[household_uuid]

    def household_of(self, person_uuid: str) -> str | None:
        if person_uuid not in self.homes:
            self.homes[person_uuid] = queries.household_of(person_uuid)
        return self.homes[person_uuid]

    def departure_path(self, person_uuid: str) -> str | None:
        """Moved away (as this store holds them), and their last move out's destination: the last this store's
        visits recorded, else the last stored."""
        state = self.state("person", person_uuid)
        if state is None or state.values().get("residence") != "moved_away":
            return None
        moves = [row for row in self.events if row["person_uuid"] == person_uuid and row["kind"] == "moved_out"]
        destination_id = moves[-1]["destination_id"] if moves else queries.last_move_destination(person_uuid)
        destination = self.area(destination_id) if destination_id is not None else None
        return destination.path if destination is not None else None

    def lookup(self, aliases: ReplayAliases, chain: frozenset[int]) -> RegisterLookup:
        """The register as it stands: every record is here."""
        return RegisterLookup(aliases.resolve, self.household_group, self.household_of, self.expected_in,
                              self.destination_known)

    def save(self, kind: str, plan: RecordPlan, after: RecordState, ref: VisitRef, *, submission_id: int | None,
             decision_id: int | None) -> None:
        values = row_values(kind, after)
        if kind == "household":
            self.groups[plan.uuid] = queries.record_place(kind, values, self.groups.get(plan.uuid))
        else:
            self.homes[plan.uuid] = queries.record_place(kind, values, self.homes.get(plan.uuid))
        self.records[(kind, plan.uuid)] = self.saved[(kind, plan.uuid)] = after
        self._note_values(kind, plan, after, ref, submission_id=submission_id, decision_id=decision_id)
        for row in map(queries.conflict_row, plan.conflicts):
            settle_conflict(row, self.conflicts, stored=queries.settle_stored_conflict(row))
        if kind == "person" and (plan.create or _CHECKED_FIELDS & set(plan.updates)):
            self.identity_changed.add(plan.uuid)
        if kind == "household" and plan.create:
            self.created_households.add(plan.uuid)

    def flush(self) -> None:
        for kind in ("household", "person"):
            saved = [(uuid, row_values(kind, state), state.version)
                     for (record_kind, uuid), state in self.saved.items() if record_kind == kind]
            queries.add_records(kind, [record for record in saved if (kind, record[0]) not in self.stored])
            queries.update_records(kind, [record for record in saved if (kind, record[0]) in self.stored])
        self._flush_rows()


class MemoryStore(_DerivedRows):
    """Records replayed from nothing, in memory, written in bulk at the end: replays and the rebuild."""

    def __init__(self, only: set[str] | None = None) -> None:
        super().__init__()
        self.only = only                   # the records a partial replay rebuilds (None: all of them)
        self.records: dict[tuple[str, str], RecordState] = {}
        self.removed: set[tuple[str, str]] = set()

    def state(self, kind: str, uuid: str) -> RecordState | None:
        return self.records.get((kind, uuid))

    def lookup(self, aliases: ReplayAliases, chain: frozenset[int]) -> RegisterLookup:
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
                              lambda uuid: stored("person", uuid, queries.household_of), self.expected_in,
                              self.destination_known)

    def household_group(self, household_uuid: str) -> str | None:
        state = self.records.get(("household", household_uuid))
        return state.values().get("group", "") if state is not None else super().household_group(household_uuid)

    def departure_path(self, person_uuid: str) -> str | None:
        """As replayed so far: moved away, and their last move out's destination."""
        state = self.records.get(("person", person_uuid))
        if state is None:
            return None if self.only is None or person_uuid in self.only else super().departure_path(person_uuid)
        if state.values().get("residence") != "moved_away":
            return None
        moves = [row for row in self.events if row["person_uuid"] == person_uuid and row["kind"] == "moved_out"]
        destination = self.area(moves[-1]["destination_id"]) if moves and moves[-1]["destination_id"] else None
        return destination.path if destination is not None else None

    def save(self, kind: str, plan: RecordPlan, after: RecordState, ref: VisitRef, *, submission_id: int | None,
             decision_id: int | None) -> None:
        self.records[(kind, plan.uuid)] = after
        self._note_values(kind, plan, after, ref, submission_id=submission_id, decision_id=decision_id)
        self._add_conflicts(plan.conflicts)

    def _add_conflicts(self, conflicts) -> None:
        for row in map(queries.conflict_row, conflicts):
            settle_conflict(row, self.conflicts)

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
        for row in (*self.visits, *self.service_items):
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

    def record_keys(self) -> set[tuple[str, str]]:
        return set(self.records) | self.removed

    def summary_records(self) -> tuple[set[str] | None, set[str] | None, set[str] | None]:
        """A rebuild: every record; a partial replay: the records it replayed and forgot, and those its rows name
        (any of its people, replayed, merged away or purged, may have changed a household's head)."""
        if self.only is None:
            return None, None, None
        uuids = {uuid for found in super().summary_records() for uuid in found} | self.only | {
            uuid for _, uuid in self.record_keys()} | {uuid for row in self.visits
                                                       for uuid in (row["household_uuid"], row["person_uuid"]) if uuid}
        return uuids, uuids, uuids

    def flush(self) -> None:
        for kind in ("household", "person"):
            queries.add_records(kind, [(uuid, row_values(kind, state), state.version)
                                       for (record_kind, uuid), state in self.records.items() if record_kind == kind])
        self._flush_rows()

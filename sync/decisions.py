"""The kinds of register decision, one entry each: how it is checked, whose area it is, how it is replayed and sent.

A decision is a change to the register made by a person (or the automatic duplicate merge), not by a visit. It is
stored as (kind, subject, target, field) and replayed with the submissions at its place in arrival order, so a
rebuild, or a replay after an edit or an undo, reproduces it. Everything that depends on the kind is answered
here, by the kind's entry in `DECISION_KINDS`: adding a kind is one class below (plus a migration widening the
database's check of the kind column).

Pure: the register is reached through the `RegisterStore` of a replay (sync.replay) and the `RecordAreas` lookup
the server supplies.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from sync.access import REGISTER_DECIDERS, TOWN_OFFICE_ROLES, area_contains
from sync.code_labels import CODE_LABELS
from sync.errors import ChoiceValueInvalid, DateValueInvalid, DecisionNotPossible, IdNumberInvalid, PhoneInvalid
from sync.identity import parse_id_number
from sync.merge import VisitRef
from sync.periods import as_utc
from sync.services import REFERRAL_RESULTS, check_correction, check_support_value
from sync.visits import PERSON_FIELDS, LifeEvent, PersonObservation

__all__ = ["DecisionKind", "DECISION_KINDS", "MERGE_PEOPLE", "MERGE_HOUSEHOLDS", "MOVE_HOUSEHOLD", "SET_TIER",
           "SET_FIELD", "REJECT_VISIT", "REFERRAL_RESULT", "SUPPORT_OUTCOME", "CORRECT_SERVICE", "ADD_PERSON",
           "RECORD_MOVE", "CONFIRM_ARRIVAL", "MERGE_MOVED", "WITHDRAW_CONSENT", "move_target", "move_of",
           "DecisionRow", "RecordAreas", "ReplayScope", "SETTABLE_FIELDS",
           "REFERENCE_FIELDS", "CHOICE_FIELDS", "NEW_PERSON_FIELDS", "NEW_PERSON_REQUIRED", "NEW_PERSON_EVENTS",
           "check_field", "check_field_value", "check_tier", "decision_kind", "new_person_target", "new_person_fields"]


class DecisionRow(Protocol):
    """A stored decision, as a replay reads it."""

    id: int
    kind: str
    subject_uuid: str
    target: str
    field: str | None
    after_submission_id: int
    decided_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RecordAreas:
    """Where records are in the register as it stands now (the server reads them from the database)."""

    household_of: Callable[[str], str | None]           # a person's household uuid; None: not in the register
    group_path_of: Callable[[str], str | None]          # a household's group path; None: not in the register
    group_path: Callable[[int], str | None]             # a group's path by id; None: no such group
    submission_group_path: Callable[[int], str | None]  # the group a submission was collected in
    service_item_path: Callable[[str], str | None]      # the group of a service item's household

    def household_path(self, household_uuid: str | None) -> str | None:
        return self.group_path_of(household_uuid) if household_uuid else None

    def person_path(self, person_uuid: str) -> str | None:
        return self.household_path(self.household_of(person_uuid))


@dataclass(frozen=True, slots=True)
class ReplayScope:
    """What to replay when a decision is made or undone: records (with those decisions join to them) and visits."""

    records: frozenset[str] = frozenset()
    visit: int | None = None


# Fields a decision may set, by kind of record: what visits state, and a household's group and split origin.
SETTABLE_FIELDS = {"person": frozenset(PERSON_FIELDS),
                   "household": frozenset({"household_no", "address", "group", "split_from"})}
# Fields whose value names another record: (kind of record named) — the value must lie in the decider's area too.
REFERENCE_FIELDS = {"person:household": "household", "household:split_from": "household", "household:group": "group"}


def check_field(field: str | None) -> tuple[str, str]:
    """A set_field decision's "kind:field", checked against the fields a decision may set."""
    record_kind, _, name = (field or "").partition(":")
    if name not in SETTABLE_FIELDS.get(record_kind, ()):
        raise DecisionNotPossible(f"field {field!r}")
    return record_kind, name


# The person fields whose values come from a list (the forms' choice lists; sync.code_labels has their words).
CHOICE_FIELDS = {"person:sex": "sex", "person:relationship": "relationship", "person:residence": "residence",
                 "person:hukou": "hukou", "person:status": "status"}
_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def check_field_value(field: str | None, value: str) -> None:
    """A value a person gives a field (a conflict settled with a corrected value) as the forms check it: a resident
    ID number with its check character, a date, a mobile number, a choice of the field's list."""
    if field == "person:id_number" and not parse_id_number(value).valid:
        raise IdNumberInvalid(value)
    if field == "person:birth_date":
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise DateValueInvalid(value) from None
        if not dt.date(1900, 1, 1) <= day <= dt.date(2199, 12, 31):
            raise DateValueInvalid(value)
    if field == "person:phone" and not _MOBILE.fullmatch(value):
        raise PhoneInvalid(value)
    if field in CHOICE_FIELDS and value not in CODE_LABELS[CHOICE_FIELDS[field]]:
        raise ChoiceValueInvalid(value)


# A person registered on the web (a birth or a new member): the fields given, those required, and the life event
# recorded with them (its date: the birth date for a birth, the day it was registered otherwise).
NEW_PERSON_FIELDS = ("name", "sex", "birth_date", "id_number", "relationship", "phone", "residence", "hukou")
NEW_PERSON_REQUIRED = frozenset({"name", "sex", "birth_date", "relationship"})
NEW_PERSON_EVENTS = ("birth", "registered", "moved_in")
_NAME_LENGTH = 50


def new_person_target(household: str, fields: dict[str, str], event_date: dt.date) -> str:
    """The stored target of an add_person decision: the household, the person's fields and the event's date, as
    compact JSON (keys sorted, so the same decision is the same text on every server)."""
    values = {name: value for name, value in fields.items() if value}
    return json.dumps({**values, "household": household, "event_date": event_date.isoformat()},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def new_person_fields(target: str) -> tuple[str, dict[str, str], dt.date]:
    """(household, fields, event date) of an add_person decision's target, checked as the forms check them (a
    required field missing or a value the field cannot take: DecisionNotPossible or a FieldValueInvalid)."""
    try:
        values = json.loads(target)
        household, event_date = values.pop("household"), dt.date.fromisoformat(values.pop("event_date"))
    except (ValueError, TypeError, KeyError, AttributeError):
        raise DecisionNotPossible("a new person's details") from None
    if not isinstance(household, str) or not household or not all(
            isinstance(value, str) for value in values.values()):
        raise DecisionNotPossible("a new person's details")
    unknown = set(values) - set(NEW_PERSON_FIELDS)
    missing = NEW_PERSON_REQUIRED - {name for name, value in values.items() if value.strip()}
    if unknown or missing:
        raise DecisionNotPossible(", ".join(sorted(unknown | missing)))
    if len(values["name"]) > _NAME_LENGTH:
        raise DecisionNotPossible("name")
    for name, value in values.items():
        check_field_value(f"person:{name}", value)
    return household, values, event_date


def check_tier(tier: str, tiers: Iterable[str]) -> None:
    """A tier given must be one of the schedule's (or none, "")."""
    tiers = tuple(tiers)
    if tier and tier not in tiers:
        raise DecisionNotPossible(f"unknown tier {tier!r}; the schedule has {', '.join(tiers)}")


class DecisionKind(ABC):
    """What every kind of decision answers. Subclasses set the class attributes and override what differs."""

    name: str
    label_zh: str
    label_en: str
    deciders: frozenset[str] = REGISTER_DECIDERS   # roles that may take it (within their area)
    replicable: bool = True        # sent from a town server to the county
    automatic: bool = False        # the duplicate check makes it by itself (by no one)
    proposes_households: bool = False   # the households of the two records are proposed as duplicates too
    subject_is_visit: bool = False   # the subject is a submission id (sent as its instanceID)
    record_kind: str | None = None   # the kind of record the subject is
    joins_records: bool = False      # subject and target are two records replayed together from then on
    joins_members: bool = False      # the members of the two households are replayed with them too
    takes_visit_out: bool = False    # the replay leaves the subject visit out
    subject_is_service_item: bool = False   # the subject is a service item's key (sync.services.item_key)
    always_replayed: bool = False    # every partial replay applies it, whatever records it covers: it takes rows
                                     # out of the visits replayed (a visit names more people than the one it is about)

    def may_take(self, role: str, area_path: str | None, *area_paths: str | None) -> bool:
        """Who may take (or undo) it: a decider's role, and every area it concerns inside the person's area (both
        records' villages, a household's old and new group)."""
        return role in self.deciders and all(area_contains(area_path, path) for path in area_paths)

    def target_is_group(self, field: str | None) -> bool:
        """Whether the target is a group's id (sent by the group's full name: each server numbers its areas)."""
        return False

    def check(self, target: str, field: str | None, *, tiers: Iterable[str]) -> None:
        """Refuse a decision of this kind that cannot be replayed (DecisionNotPossible)."""

    @abstractmethod
    def area_paths(self, subject: str, target: str, field: str | None, areas: RecordAreas) -> list[str | None]:
        """The group paths of the records it concerns as the register holds them now, the first one where it is
        recorded (None for a record or group not in this register). Whoever makes or undoes the decision must
        hold every one of them."""

    def replay_scope(self, subject: str, target: str) -> ReplayScope:
        """What a replay covers when this decision is made or undone."""
        return ReplayScope(records=frozenset({subject, target} if self.joins_records else {subject}))

    def joined(self, subject: str, target: str) -> set[str]:
        """The records this decision joins to its subject in every replay of either."""
        return {subject, target} if self.joins_records else {subject}

    @abstractmethod
    def replay(self, store, decision: DecisionRow, aliases, *, only: set[str] | None,
               merge_record: Callable) -> None:
        """Apply the decision at its place in a replay (`merge_record` merges one observation into the store)."""


class _MergeRecords(DecisionKind):
    """Fold a duplicate record (the subject) into the record kept (the target)."""

    joins_records = True

    def area_paths(self, subject, target, field, areas):
        """The records still in the register (the one merged away is gone once merged)."""
        households = [uuid if self.record_kind == "household" else areas.household_of(uuid)
                      for uuid in (subject, target)]
        return [path for household in households if (path := areas.household_path(household))] or [None]

    def replay(self, store, decision, aliases, *, only, merge_record):
        kept, merged = aliases.resolve(decision.target), aliases.resolve(decision.subject_uuid)
        kind = self.record_kind
        if kept == merged or store.state(kind, kept) is None or store.state(kind, merged) is None:
            return
        store.fold(kind, kept, merged, decision.id)
        aliases.merged_into[merged] = kept
        if self.joins_members:
            ref = _decision_ref(decision)
            for person_uuid in store.members(merged):
                state = store.state("person", person_uuid)
                merge_record(store, "person", PersonObservation(person_uuid, state.version, {"household": kept}),
                             ref, decision_id=decision.id)


class MergePeople(_MergeRecords):
    name, label_zh, label_en = "merge_people", "合并重复人员", "Merge duplicate people"
    record_kind = "person"
    automatic = True
    proposes_households = True   # one person in two households: the households are likely one too


class MergeHouseholds(_MergeRecords):
    name, label_zh, label_en = "merge_households", "合并重复户", "Merge duplicate households"
    record_kind = "household"
    joins_members = True


class _SetOneField(DecisionKind):
    """Set one field of one record (the subject) to the target, from the decision's place on."""

    @abstractmethod
    def field_of(self, field: str | None) -> tuple[str, str]:
        """(kind of record, field name) the decision sets."""

    def replay(self, store, decision, aliases, *, only, merge_record):
        kind, name = self.field_of(decision.field)
        uuid = aliases.resolve(decision.subject_uuid)
        state = store.state(kind, uuid)
        if state is not None and (only is None or uuid in only):
            merge_record(store, kind, PersonObservation(uuid, state.version, {name: decision.target}),
                         _decision_ref(decision), decision_id=decision.id)
            self.settled(store, uuid, name)

    def settled(self, store, uuid: str, name: str) -> None:
        """After the field is set: what else the decision settles."""


class MoveHousehold(_SetOneField):
    name, label_zh, label_en = "move_household", "户迁到其他小组", "Move a household to another group"
    record_kind = "household"

    def field_of(self, field):
        return "household", "group"

    def target_is_group(self, field):
        return True

    def area_paths(self, subject, target, field, areas):
        return [areas.group_path_of(subject), areas.group_path(int(target)) if target.isdigit() else None]


class SetTier(_SetOneField):
    name, label_zh, label_en = "set_tier", "设置服务分级", "Set a service tier"
    record_kind = "person"

    def field_of(self, field):
        return "person", "tier"

    def check(self, target, field, *, tiers):
        check_tier(target, tiers)

    def area_paths(self, subject, target, field, areas):
        return [areas.person_path(subject)]


class SetField(_SetOneField):
    """A field set to a value: a conflict settled (the cadre's choice or correction) or a correction made on the
    web; `field` is "kind:name"."""

    name, label_zh, label_en = "set_field", "更正字段值（或处理冲突）", "Correct a field (or settle a conflict)"

    def field_of(self, field):
        return check_field(field)

    def target_is_group(self, field):
        return field == "household:group"

    def check(self, target, field, *, tiers):
        check_field(field)
        check_field_value(field, target)

    def area_paths(self, subject, target, field, areas):
        record_kind, _ = check_field(field)
        household = subject if record_kind == "household" else areas.household_of(subject)
        paths = [areas.household_path(household)]
        named = REFERENCE_FIELDS.get(field)
        if named == "household":
            paths.append(areas.group_path_of(target))
        elif named == "group":
            paths.append(areas.group_path(int(target)) if target.isdigit() else None)
        return paths

    def settled(self, store, uuid, name):
        store.resolve_conflicts(uuid, name)


class RejectVisit(DecisionKind):
    """A cadre rejected a synced visit in review: the replay leaves it out (approving it again undoes this)."""

    name, label_zh, label_en = "reject_visit", "退回访视", "Reject a visit"
    subject_is_visit = True
    takes_visit_out = True

    def area_paths(self, subject, target, field, areas):
        return [areas.submission_group_path(int(subject)) if subject.isdigit() else None]

    def replay_scope(self, subject, target):
        return ReplayScope(visit=int(subject))

    def joined(self, subject, target):
        return set()

    def replay(self, store, decision, aliases, *, only, merge_record):
        """Nothing to apply: the replay leaves the rejected submission out."""


class _ServiceItemDecision(DecisionKind):
    """A decision about one item of a visit's service record (the subject is the item's key, `<instanceID>#<n>`,
    the same on every server). It changes no register record: the item is read with the decisions in force about
    it (sync.services.item_state), so a rebuild, which re-reads the item from its visit, keeps it; the decision
    goes with its item when the visit is rejected or replaced by an edit."""

    subject_is_service_item = True
    service_fields: tuple[str, ...] = ()

    def area_paths(self, subject, target, field, areas):
        return [areas.service_item_path(subject)]

    def replay_scope(self, subject, target):
        return ReplayScope()

    def joined(self, subject, target):
        return set()

    def replay(self, store, decision, aliases, *, only, merge_record):
        """Nothing to apply: service items are read with the decisions about them."""


class SetReferralResult(_ServiceItemDecision):
    """What became of a referral (attended, not attended yet, declined), recorded by the cadre."""

    name, label_zh, label_en = "referral_result", "记录转介结果", "Record the result of a referral"

    def check(self, target, field, *, tiers):
        if target not in REFERRAL_RESULTS:
            raise DecisionNotPossible(f"referral result {target!r}")


class RecordSupportOutcome(_ServiceItemDecision):
    """The town office's outcome of a support request, and the payment, one field a decision (`field`)."""

    name, label_zh, label_en = "support_outcome", "记录扶助申请结果", "Record the outcome of a support request"
    deciders = TOWN_OFFICE_ROLES

    def check(self, target, field, *, tiers):
        check_support_value(field, target)


class CorrectServiceItem(_ServiceItemDecision):
    """A correction of one column of a service item (`field`), e.g. a quantity flagged as odd."""

    name, label_zh, label_en = "correct_service", "更正服务记录", "Correct a service record"

    def check(self, target, field, *, tiers):
        check_correction(field, target)


class AddPerson(DecisionKind):
    """A person registered from the web into a household (a birth or a new member): the subject is the new person's
    uuid (given when the decision is made), the target their details (new_person_target), `field` the life event
    recorded with them (NEW_PERSON_EVENTS). The replay creates the person at the decision's place; undone, they
    are not there."""

    name, label_zh, label_en = "add_person", "登记新成员", "Register a new member"
    record_kind = "person"

    def check(self, target, field, *, tiers):
        if field not in NEW_PERSON_EVENTS:
            raise DecisionNotPossible(f"life event {field!r}")
        new_person_fields(target)

    def area_paths(self, subject, target, field, areas):
        """The household's group (the person is there from the decision on, unless a visit moves them); once the
        household is merged away, where the person is now."""
        household, _, _ = new_person_fields(target)
        return [areas.group_path_of(household) or areas.person_path(subject)]

    def replay(self, store, decision, aliases, *, only, merge_record):
        uuid = aliases.resolve(decision.subject_uuid)
        if store.state("person", uuid) is not None or only is not None and uuid not in only:
            return
        household, fields, event_date = new_person_fields(decision.target)
        event = LifeEvent(kind=decision.field, date=event_date)
        merge_record(store, "person", PersonObservation(
            uuid, None, {**fields, "household": aliases.resolve(household), "status": "living"}, event=event),
            _decision_ref(decision), decision_id=decision.id)


def move_target(destination: str, place: str, moved_on: dt.date) -> str:
    """The stored target of a record_move decision: the destination (a village's or town's full name, "" for a
    place outside), the place as written and the day, as compact JSON (the same text on every server)."""
    return json.dumps({"to": destination, "place": place, "date": moved_on.isoformat()}, ensure_ascii=False,
                      sort_keys=True, separators=(",", ":"))


def move_of(target: str) -> LifeEvent:
    """The move out a record_move decision's target records (DecisionNotPossible when it is not one)."""
    try:
        values = json.loads(target)
        destination, place, moved_on = values["to"], values["place"], dt.date.fromisoformat(values["date"])
    except (ValueError, TypeError, KeyError, AttributeError):
        raise DecisionNotPossible("a move's destination and day") from None
    if not isinstance(destination, str) or not isinstance(place, str) or not (destination or place.strip()):
        raise DecisionNotPossible("a move's destination and day")
    return LifeEvent(kind="moved_out", date=moved_on, place=place.strip()[:200] or None,
                     destination=destination or None)


class RecordMove(DecisionKind):
    """A cadre records that a person moved out (docs/moves.md): the subject is the person, the target where to
    and when (move_target). From then on the person is expected in the destination village or town, if it is one
    of the register's."""

    name, label_zh, label_en = "record_move", "登记迁出", "Record a move out"
    record_kind = "person"

    def check(self, target, field, *, tiers):
        move_of(target)

    def area_paths(self, subject, target, field, areas):
        return [areas.person_path(subject)]

    def replay(self, store, decision, aliases, *, only, merge_record):
        uuid = aliases.resolve(decision.subject_uuid)
        state = store.state("person", uuid)
        if state is not None and (only is None or uuid in only):
            merge_record(store, "person", PersonObservation(uuid, state.version, {"residence": "moved_away"},
                                                            event=move_of(decision.target)),
                         _decision_ref(decision), decision_id=decision.id)
            store.resolve_conflicts(uuid, "residence")


class ConfirmArrival(DecisionKind):
    """The destination's cadre confirms that a person expected there arrived (docs/moves.md): the subject is the
    person, the target the household they joined, `field` the day they arrived. Replayed only while the person is
    still expected there, so confirming twice arrives once."""

    name, label_zh, label_en = "confirm_arrival", "确认迁入", "Confirm an arrival"
    record_kind = "person"

    def check(self, target, field, *, tiers):
        try:
            dt.date.fromisoformat(field or "")
        except ValueError:
            raise DecisionNotPossible("the day they arrived") from None

    def area_paths(self, subject, target, field, areas):
        """The household they joined: the person's old village is not the decider's."""
        return [areas.group_path_of(target)]

    def replay_scope(self, subject, target):
        return ReplayScope(records=frozenset({subject}))

    def replay(self, store, decision, aliases, *, only, merge_record):
        uuid, household = aliases.resolve(decision.subject_uuid), aliases.resolve(decision.target)
        state = store.state("person", uuid)
        if state is None or only is not None and uuid not in only:
            return
        lookup = store.lookup(aliases, frozenset())
        group = lookup.household_group(household)
        if not group or not lookup.expected_in(uuid, group):
            return
        merge_record(store, "person", PersonObservation(
            uuid, state.version, {"household": household, "residence": "here"},
            event=LifeEvent(kind="moved_in", date=dt.date.fromisoformat(decision.field))),
            _decision_ref(decision), decision_id=decision.id)
        store.resolve_conflicts(uuid, "residence")


class MergeMoved(_MergeRecords):
    """A person registered as new in one village found to be someone who moved out of another (docs/moves.md): the
    new record (the subject) is folded into the one who left (the target), who keeps their identity and history
    and now lives where the new record lives. Taken by the cadre of the village they arrived in."""

    name, label_zh, label_en = "merge_moved", "合并迁入人员（迁移）", "Merge an arrival with a person who moved out"
    record_kind = "person"

    def area_paths(self, subject, target, field, areas):
        """Where the new record lives (the one who left lives elsewhere until the merge); once merged, where the
        person kept lives now: the new record's household (so the decision is still found, undone, replicated)."""
        return [areas.person_path(subject) or areas.person_path(target)]

    def replay(self, store, decision, aliases, *, only, merge_record):
        kept, merged = aliases.resolve(decision.target), aliases.resolve(decision.subject_uuid)
        arrived = store.state("person", merged)
        if kept == merged or store.state("person", kept) is None or arrived is None:
            return
        where = {name: value for name in ("household", "residence", "relationship")
                 if (value := arrived.values().get(name))}
        super().replay(store, decision, aliases, only=only, merge_record=merge_record)
        state = store.state("person", kept)
        merge_record(store, "person", PersonObservation(kept, state.version, where), _decision_ref(decision),
                     decision_id=decision.id)
        for name in where:
            store.resolve_conflicts(kept, name)


class WithdrawConsent(DecisionKind):
    """A person withdrew the consent under which sensitive services were recorded about them (sync.consent): the
    subject is the person, the target the household they lived in when it was recorded, `field` the day they
    withdrew it, the note what the cadre wrote. From its place on, what was recorded before it with their consent
    is not in the register (their antenatal guidance, the household's pre-pregnancy checks, the referrals those
    made, their reported pregnancy); undone, it is there again."""

    name, label_zh, label_en = "withdraw_consent", "撤回同意（敏感服务记录）", "Withdraw consent (sensitive services)"
    record_kind = "person"
    always_replayed = True

    def check(self, target, field, *, tiers):
        try:
            dt.date.fromisoformat(field or "")
        except ValueError:
            raise DecisionNotPossible("the day consent was withdrawn") from None
        if not target:
            raise DecisionNotPossible("the person's household")

    def area_paths(self, subject, target, field, areas):
        """Where the person lives now (else the household they lived in)."""
        return [areas.person_path(subject) or areas.group_path_of(target)]

    def replay_scope(self, subject, target):
        return ReplayScope(records=frozenset({subject, target}))

    def joined(self, subject, target):
        """The household's visits are replayed with the person's (a pre-pregnancy check names no record)."""
        return {subject, target}

    def replay(self, store, decision, aliases, *, only, merge_record):
        person = aliases.resolve(decision.subject_uuid)
        store.withdraw_consent(person, aliases.resolve(decision.target),
                               anchors=only is None or person in only)


MERGE_PEOPLE, MERGE_HOUSEHOLDS, MOVE_HOUSEHOLD, SET_TIER, SET_FIELD, REJECT_VISIT = (
    MergePeople(), MergeHouseholds(), MoveHousehold(), SetTier(), SetField(), RejectVisit())
REFERRAL_RESULT, SUPPORT_OUTCOME, CORRECT_SERVICE = SetReferralResult(), RecordSupportOutcome(), CorrectServiceItem()
ADD_PERSON = AddPerson()
RECORD_MOVE, CONFIRM_ARRIVAL, MERGE_MOVED = RecordMove(), ConfirmArrival(), MergeMoved()
WITHDRAW_CONSENT = WithdrawConsent()

DECISION_KINDS: dict[str, DecisionKind] = {kind.name: kind for kind in (
    MERGE_PEOPLE, MERGE_HOUSEHOLDS, MOVE_HOUSEHOLD, SET_TIER, SET_FIELD, REJECT_VISIT, REFERRAL_RESULT,
    SUPPORT_OUTCOME, CORRECT_SERVICE, ADD_PERSON, RECORD_MOVE, CONFIRM_ARRIVAL, MERGE_MOVED, WITHDRAW_CONSENT)}
"""Every kind of decision by its stored name."""


def decision_kind(name: str) -> DecisionKind:
    """The entry of a stored or received kind; an unknown one cannot be taken (DecisionNotPossible)."""
    try:
        return DECISION_KINDS[name]
    except KeyError:
        raise DecisionNotPossible(f"decision kind {name!r}") from None


def _decision_ref(decision: DecisionRow) -> VisitRef:
    return VisitRef(f"decision:{decision.id}", as_utc(decision.decided_at))

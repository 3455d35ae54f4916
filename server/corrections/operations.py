"""Corrections of a person's details, their service tier and a person registered into a household (a birth or a new
member), entered on the web. Each is a register decision (sync.decisions: set_field, set_tier, add_person): the
record's area is checked before anything else, then the value as the forms check it; the decision is recorded,
audited and replayed (undoable, kept by a rebuild, replicated to the county), and the duplicate check runs on the
person as after a visit."""

from __future__ import annotations

import datetime as dt
import uuid as uuids
from dataclasses import dataclass

from server import clock
from server.register import queries
from server.register.decisions import authorise, record_decision, set_tier
from server.register.duplicates import check_duplicates
from server.register.stores import IDENTITY_FIELDS
from server.schedules.current import current_schedule
from sync.decisions import (
    ADD_PERSON,
    NEW_PERSON_EVENTS,
    NEW_PERSON_FIELDS,
    SET_FIELD,
    SET_TIER,
    check_field_value,
    new_person_target,
)
from sync.errors import DecisionNotPossible, FieldValueInvalid, RecordNotFound

__all__ = ["CORRECTABLE_FIELDS", "MAX_NOTE", "Correction", "person_in_area", "household_in_area", "correct_person",
           "set_person_tier", "register_person"]

CORRECTABLE_FIELDS = ("name", "sex", "birth_date", "id_number", "relationship", "phone", "residence", "hukou",
                      "status")
"""A person's fields a cadre may correct on the web (their household changes with a visit or a move)."""
MAX_NOTE = 500
_MAX_VALUE = 50   # a name, the longest free value (an ID number and a phone are checked for their form)


@dataclass(frozen=True, slots=True)
class Correction:
    """What a decision changed: the field, the value before and after (decision None: the value was that already)."""

    decision_id: int | None
    field: str
    before: str | None
    after: str


def person_in_area(principal, person_uuid: str, kind=SET_FIELD):
    """The person (with household and group) when the principal may take this kind of decision about them."""
    placed = queries.person_page_rows(person_uuid)
    if placed is None:
        raise RecordNotFound(person_uuid)
    authorise(principal, kind, placed.group.path)
    return placed


def household_in_area(principal, household_uuid: str):
    """The household (with its group) when the principal may register a person into it."""
    placed = queries.household_page_rows(household_uuid)
    if placed is None:
        raise RecordNotFound(household_uuid)
    authorise(principal, ADD_PERSON, placed.group.path)
    return placed


def _note(note: str | None) -> str | None:
    return (note or "").strip()[:MAX_NOTE] or None


def _value(value: str | None) -> str:
    value = (value or "").strip()
    if not value or len(value) > _MAX_VALUE:
        raise FieldValueInvalid()
    return value


def correct_person(principal, person_uuid: str, field: str, value: str, *, note: str | None = None,
                   now: dt.datetime | None = None) -> Correction:
    """Correct one of a person's fields (CORRECTABLE_FIELDS) to a value the forms would take."""
    if field not in CORRECTABLE_FIELDS:
        raise DecisionNotPossible(f"field {field!r}")
    placed = person_in_area(principal, person_uuid)
    value = _value(value)
    check_field_value(f"person:{field}", value)
    before = getattr(placed.person, field)
    if value == before:
        return Correction(None, field, before, value)
    now = now or clock.now()
    decision_id = record_decision(SET_FIELD, person_uuid, value, field=f"person:{field}", by=principal.id, now=now,
                                  area_path=placed.group.path, note=_note(note))
    if field in IDENTITY_FIELDS:
        check_duplicates({person_uuid}, after=queries.last_merged_submission_id(), now=now)
    return Correction(decision_id, field, before, value)


def set_person_tier(principal, person_uuid: str, tier: str, *, note: str | None = None,
                    now: dt.datetime | None = None) -> Correction:
    """Give a person one of the schedule's tiers, or none (""), from today on."""
    placed = person_in_area(principal, person_uuid, SET_TIER)
    before = placed.person.tier or ""
    if tier == before:
        return Correction(None, "tier", before, tier)
    decision_id = set_tier(principal, person_uuid, tier, tiers=current_schedule().tier_names, now=now,
                           note=_note(note))
    return Correction(decision_id, "tier", before, tier)


def register_person(principal, household_uuid: str, details: dict[str, str], event: str, *,
                    note: str | None = None, now: dt.datetime | None = None) -> tuple[int, str]:
    """Register a person into a household: a birth (the birth is recorded as a life event on the birth date) or
    another new member (registered today). The person gets their uuid now; returns (decision id, person uuid)."""
    placed = household_in_area(principal, household_uuid)
    if event not in NEW_PERSON_EVENTS:
        raise DecisionNotPossible(f"life event {event!r}")
    fields = {name: (details.get(name) or "").strip() for name in NEW_PERSON_FIELDS}
    fields = {name: value for name, value in fields.items() if value}
    for name, value in fields.items():
        if len(value) > _MAX_VALUE:
            raise FieldValueInvalid()
        check_field_value(f"person:{name}", value)
    today = clock.today()
    if "birth_date" in fields and dt.date.fromisoformat(fields["birth_date"]) > today:
        raise FieldValueInvalid()
    target = new_person_target(household_uuid, fields, dt.date.fromisoformat(fields["birth_date"])
                               if event == "birth" and "birth_date" in fields else today)
    ADD_PERSON.check(target, event, tiers=())    # every required field there
    person_uuid = str(uuids.uuid4())
    now = now or clock.now()
    decision_id = record_decision(ADD_PERSON, person_uuid, target, field=event, by=principal.id, now=now,
                                  area_path=placed.group.path, note=_note(note))
    check_duplicates({person_uuid}, after=queries.last_merged_submission_id(), now=now)
    return decision_id, person_uuid

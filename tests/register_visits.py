"""Household visit submissions written directly (as JavaRosa writes them), for register tests that need exact
control over uuids, versions and phone times; the questionnaire tests fill the real form with JavaRosa."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.submission_xml import JAVAROSA_DECLARATION, E, optional, submission_bytes, submission_root

ROOT = Path(__file__).resolve().parent.parent

FORM_VERSIONS = dict(line.split()[:2] for line in (ROOT / "xlsforms" / "versions.txt").read_text().splitlines()
                     if line.strip())
VISIT_FORM_VERSION = FORM_VERSIONS["household_visit"]


@dataclass
class Member:
    """A new member; `uuid` is made up when not given."""

    name: str
    sex: str
    birth_date: str
    id_number: str = ""
    phone: str = ""
    relationship: str = "head"
    reason: str = "registration"
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))


# The answers of one person's change, in the order of the form.
UPDATE_ANSWERS = ("event_date", "place", "phone_now", "name_corrected", "id_number_corrected", "to_household",
                  "spouse_name")


def household_visit(*, household: str, start: str, new: tuple[str, str] | None = None, base_version: int | None = None,
                    members: list[Member] = (), updates: list[dict] = (), instance_id: str | None = None,
                    deprecated_id: str | None = None, split_from: str | None = None,
                    split_members: dict[str, int] | None = None, outcome: str = "completed",
                    postpartum: tuple[str, str] | None = None, post_operation: tuple[str, str] | None = None,
                    username: str | None = None, device_id: str = "collect:test", end: str | None = None) -> bytes:
    """A completed, consented household visit: `new` = (household number, address) registers the household;
    `updates` are dicts of person_uuid, base_version, change and the change's answers (phone_now, event_date,
    place, name_corrected, id_number_corrected, to_household); a new household can split off `split_from`, taking
    `split_members` (person uuid → the version the phone listed); `postpartum` = (person uuid, date of the birth)
    notes the need of a follow-up after a birth, `post_operation` = (person uuid, date of the operation) after an
    operation; `username` and `device_id` are what Collect fills in from its settings, `end` when the form was last
    saved (`start` when not given)."""
    instance_id = instance_id or f"uuid:{uuid.uuid4()}"
    if new:
        choice = E.household_choice(E.mode("new"), optional("new_household_no", new[0]),
                                    optional("new_address", new[1]))
    else:
        choice = E.household_choice(E.mode("existing"), E.household(household))
    person_updates = [
        E.person_updates(
            E.person_uuid(update["person_uuid"]),
            optional("person_base_version", str(update.get("base_version", ""))),
            E.person_update(E.change(update["change"]),
                            *(optional(name, update.get(name)) for name in UPDATE_ANSWERS)))
        for update in updates]
    new_members = [
        E.new_members(
            E.new_person_uuid(member.uuid),
            E.new_member(E.reason(member.reason), optional("person_name_new", member.name),
                         optional("id_number", member.id_number), E.sex(member.sex), E.birth_date(member.birth_date),
                         E.relationship(member.relationship), optional("phone", member.phone),
                         E.residence("here"), E.hukou("here")))
        for member in members]
    split = []
    if split_from:
        split = [E.split(E.splits_off("yes"), E.split_from(split_from), E.split_people(" ".join(split_members))),
                 *(E.split_members(E.split_person_uuid(person), E.split_person_base_version(str(version)))
                   for person, version in split_members.items())]
    changed_people = " ".join(update["person_uuid"] for update in updates)
    household_events = " ".join(dict.fromkeys(member.reason for member in members if member.reason != "registration"))
    anchor = postpartum or post_operation
    if anchor:
        need = "postpartum_followup" if postpartum else "post_operation_followup"
        service_needs = [E.service_needs(need),
                         E.postpartum(E.followup_person(anchor[0]), E.followup_event_date(anchor[1]))]
    else:
        service_needs = [E.service_needs()]
    completed = outcome == "completed"
    meta = E.meta(E.instanceID(instance_id), *([E.deprecatedID(deprecated_id)] if deprecated_id else []))
    root = submission_root(
        "household_visit", VISIT_FORM_VERSION,
        E.start(start), E.end(end or start), E.today(start[:10]), optional("deviceid", device_id),
        optional("username", username), choice, E.household_uuid(household),
        optional("household_base_version", str(base_version) if base_version is not None else None),
        E.outcome_group(E.outcome(outcome), *([E.consent("yes")] if completed else [])),
        E.recording("yes" if completed else "no"), *split,
        E.changes(optional("changed_people", changed_people), optional("household_events", household_events)),
        *person_updates, *new_members, *service_needs, E.closing(E.next_visit()), meta)
    return submission_bytes(root, JAVAROSA_DECLARATION)


def followup_visit(*, person: str, household: str, followup_type: str, start: str, outcome: str = "completed",
                   base_version: int = 1, instance_id: str | None = None, due_since: str | None = None,
                   username: str | None = None, device_id: str = "collect:test", end: str | None = None) -> bytes:
    """A follow-up of one person from the due list (`due_since` as the list gave it)."""
    instance_id = instance_id or f"uuid:{uuid.uuid4()}"
    if outcome == "completed":
        services = E.services(E.services_given("health_guidance"), E.referral("no"))
    else:
        services = E.services(E.services_given(), E.referral())
    root = submission_root(
        "followup", FORM_VERSIONS["followup"],
        E.start(start), E.end(end or start), E.today(start[:10]), optional("deviceid", device_id),
        optional("username", username), E.person_uuid(person), E.household_uuid(household),
        E.person_base_version(str(base_version)), E.due_type(followup_type), optional("due_since", due_since),
        E.visit(E.followup_type(followup_type), E.outcome(outcome)), services, E.closing(E.next_date()),
        E.meta(E.instanceID(instance_id)))
    return submission_bytes(root, JAVAROSA_DECLARATION)

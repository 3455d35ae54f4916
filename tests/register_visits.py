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
    # A member who moved in: the day and where from; `arriving_version` set: the person `uuid` picked from the
    # expected arrivals (arrivals.csv) with the version the phone saw, only relationship and phone asked again.
    event_date: str = ""
    origin: str = ""
    arriving_version: int | None = None


def _new_member(member: Member):
    """A new_members repeat as JavaRosa writes it (a picked arrival gets a fresh new_person_uuid it never uses)."""
    if member.arriving_version is not None:
        return E.new_members(E.new_person_uuid(str(uuid.uuid4())), E.new_member(
            E.reason("moved_in"), E.arriving_person(member.uuid), E.arriving_version(str(member.arriving_version)),
            E.relationship(member.relationship), optional("phone", member.phone), E.event_date(member.event_date),
            optional("origin", member.origin)))
    return E.new_members(
        E.new_person_uuid(member.uuid),
        E.new_member(E.reason(member.reason), optional("person_name_new", member.name),
                     optional("id_number", member.id_number), E.sex(member.sex), E.birth_date(member.birth_date),
                     E.relationship(member.relationship), optional("phone", member.phone),
                     E.residence("here"), E.hukou("here"),
                     *([E.event_date(member.event_date), optional("origin", member.origin)] if member.event_date
                       else [])))


# The answers of one person's change, in the order of the form.
UPDATE_ANSWERS = ("event_date", "destination", "place", "phone_now", "name_corrected", "id_number_corrected", "to_household",
                  "spouse_name")


def household_visit(*, household: str, start: str, new: tuple[str, str] | None = None, base_version: int | None = None,
                    members: list[Member] = (), updates: list[dict] = (), instance_id: str | None = None,
                    deprecated_id: str | None = None, split_from: str | None = None,
                    split_members: dict[str, int] | None = None, outcome: str = "completed",
                    postpartum: tuple[str, str] | None = None, post_operation: tuple[str, str] | None = None,
                    username: str | None = None, device_id: str = "collect:test", end: str | None = None,
                    services: tuple[str, ...] = (), services_other: str | None = None,
                    supplies: list[tuple[str, str, str, str]] = (), support: dict | None = None,
                    pregnancy: tuple[str, str, str] | None = None, prepregnancy: tuple[str, str] | None = None,
                    other_needs: str | None = None, next_visit: str | None = None, notes: str | None = None,
                    location: str | None = None, version: str | None = None) -> bytes:
    """A completed, consented household visit: `new` = (household number, address) registers the household;
    `updates` are dicts of person_uuid, base_version, change and the change's answers (phone_now, event_date,
    destination, place, name_corrected, id_number_corrected, to_household); `members` are new members, or people
    picked from the expected arrivals (Member.arriving_version); a new household can split off `split_from`, taking
    `split_members` (person uuid → the version the phone listed); `postpartum` = (person uuid, date of the birth)
    notes the need of a follow-up after a birth, `post_operation` = (person uuid, date of the operation) after an
    operation; `username` and `device_id` are what Collect fills in from its settings, `end` when the form was last
    saved (`start` when not given). The service record: `services` given (codes; `services_other` for "other"),
    `supplies` as (person uuid, item code, quantity as written, given yes/no), `support` a dict of needs (codes),
    details, benefit_kind, person; `pregnancy` = (person uuid, consent, antenatal referral), `prepregnancy` =
    (names, consent), `other_needs` text; `next_visit`, `notes`, `location` (a geopoint) of the closing group;
    `version` the form version written (default: the current one)."""
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
    new_members = [_new_member(member) for member in members]
    split = []
    if split_from:
        split = [E.split(E.splits_off("yes"), E.split_from(split_from), E.split_people(" ".join(split_members))),
                 *(E.split_members(E.split_person_uuid(person), E.split_person_base_version(str(version)))
                   for person, version in split_members.items())]
    changed_people = " ".join(update["person_uuid"] for update in updates)
    household_events = " ".join(dict.fromkeys(member.reason for member in members if member.reason != "registration"))
    anchor = postpartum or post_operation
    needs: list[str] = []
    service_needs = []
    if anchor:
        needs.append("postpartum_followup" if postpartum else "post_operation_followup")
        service_needs.append(E.postpartum(E.followup_person(anchor[0]), E.followup_event_date(anchor[1])))
    if pregnancy:
        needs.append("pregnancy_reported")
        service_needs.append(E.pregnancy(E.pregnant_person(pregnancy[0]), E.pregnancy_consent(pregnancy[1]),
                                         optional("antenatal_referral", pregnancy[2])))
    if prepregnancy:
        needs.append("prepregnancy_check")
        service_needs.append(E.prepregnancy(optional("prepregnancy_names", prepregnancy[0]),
                                            E.prepregnancy_consent(prepregnancy[1])))
    if supplies:
        needs.append("supplies")
        service_needs += [E.supplies(E.supply(E.supply_person(person), E.item(item), E.quantity(quantity),
                                              E.given(given))) for person, item, quantity, given in supplies]
    if support:
        needs += list(support["needs"])
        service_needs.append(E.support(optional("benefit_kind", support.get("benefit_kind")),
                                       optional("support_person", support.get("person")),
                                       optional("support_details", support.get("details"))))
    if other_needs:
        needs.append("other")
        service_needs.append(E.needs_text(other_needs))
    given = [E.services_given_group(E.services_given(" ".join(services)), optional("services_other", services_other))]
    service_needs = [E.service_needs(" ".join(needs)), *(given if completed_visit(outcome) else []), *service_needs]
    completed = outcome == "completed"
    meta = E.meta(E.instanceID(instance_id), *([E.deprecatedID(deprecated_id)] if deprecated_id else []))
    root = submission_root(
        "household_visit", version or VISIT_FORM_VERSION,
        E.start(start), E.end(end or start), E.today(start[:10]), optional("deviceid", device_id),
        optional("username", username), choice, E.household_uuid(household),
        optional("household_base_version", str(base_version) if base_version is not None else None),
        E.outcome_group(E.outcome(outcome), *([E.consent("yes")] if completed else [])),
        E.recording("yes" if completed else "no"), *split,
        E.changes(optional("changed_people", changed_people), optional("household_events", household_events)),
        *person_updates, *new_members, *service_needs,
        E.closing(E.next_visit(next_visit or ""), optional("location", location), optional("notes", notes)), meta)
    return submission_bytes(root, JAVAROSA_DECLARATION)


def completed_visit(outcome: str) -> bool:
    return outcome == "completed"


def followup_visit(*, person: str, household: str, followup_type: str, start: str, outcome: str = "completed",
                   base_version: int = 1, instance_id: str | None = None, due_since: str | None = None,
                   username: str | None = None, device_id: str = "collect:test", end: str | None = None,
                   services: tuple[str, ...] = ("health_guidance",), referral: tuple[str, str, str] | None = None,
                   supplies: list[tuple[str, str]] = (), referral_result: tuple[str, str] | None = None,
                   next_date: str | None = None, notes: str | None = None, version: str | None = None) -> bytes:
    """A follow-up of one person from the due list (`due_since` as the list gave it): the services given (codes),
    a `referral` = (purpose, place, reason), `supplies` as (item, quantity as written), a `referral_result` =
    (the referral's key from the due list, result) for a follow-up of type referral; `version` the form version
    written (default: the current one, which asks purpose and place; an older one wrote `referral_to`)."""
    instance_id = instance_id or f"uuid:{uuid.uuid4()}"
    version = version or FORM_VERSIONS["followup"]
    old = int(version) < 2026120501
    if outcome == "completed":
        asked = ([E.referral_to(referral[1])] if old else [E.referral_purpose(referral[0]),
                                                           E.referral_place(referral[1])]) if referral else []
        services = E.services(E.services_given(" ".join(services + (("supplies",) if supplies else ()))),
                              E.referral("yes" if referral else "no"), *asked,
                              *([optional("referral_reason", referral[2])] if referral else []))
    else:
        services = E.services(E.services_given(), E.referral())
    extra = [E.supplies(E.supply(E.item(item), E.quantity(quantity))) for item, quantity in supplies]
    if referral_result and outcome == "completed":
        extra.append(E.referral_followup(E.referral_result(referral_result[1])))
    root = submission_root(
        "followup", version,
        E.start(start), E.end(end or start), E.today(start[:10]), optional("deviceid", device_id),
        optional("username", username), E.person_uuid(person), E.household_uuid(household),
        E.person_base_version(str(base_version)), E.due_type(followup_type), optional("due_since", due_since),
        *([E.referral_item(referral_result[0])] if referral_result else []),
        E.visit(E.followup_type(followup_type), E.outcome(outcome)), services, *extra,
        E.closing(E.next_date(next_date or ""), optional("notes", notes)),
        E.meta(E.instanceID(instance_id)))
    return submission_bytes(root, JAVAROSA_DECLARATION)

"""Household visit submissions written directly (as JavaRosa writes them), for register tests that need exact
control over uuids, versions and phone times; the questionnaire tests fill the real form with JavaRosa."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

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


def _element(name: str, value: str | None) -> str:
    return f"<{name}>{escape(value)}</{name}>" if value else f"<{name} />"


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
    choice = (f"<household_choice><mode>new</mode>{_element('new_household_no', new[0])}"
              f"{_element('new_address', new[1])}</household_choice>" if new else
              f"<household_choice><mode>existing</mode><household>{household}</household></household_choice>")
    person_updates = "".join(
        f"<person_updates><person_uuid>{update['person_uuid']}</person_uuid>"
        f"{_element('person_base_version', str(update.get('base_version', '')))}<person_update>"
        f"<change>{update['change']}</change>"
        + "".join(_element(name, update.get(name)) for name in ("event_date", "place", "phone_now", "name_corrected",
                                                               "id_number_corrected", "to_household",
                                                               "spouse_name"))
        + "</person_update></person_updates>" for update in updates)
    new_members = "".join(
        f"<new_members><new_person_uuid>{member.uuid}</new_person_uuid><new_member>"
        f"<reason>{member.reason}</reason>{_element('person_name_new', member.name)}"
        f"{_element('id_number', member.id_number)}<sex>{member.sex}</sex><birth_date>{member.birth_date}</birth_date>"
        f"<relationship>{member.relationship}</relationship>{_element('phone', member.phone)}"
        f"<residence>here</residence><hukou>here</hukou></new_member></new_members>" for member in members)
    deprecated = _element("deprecatedID", deprecated_id) if deprecated_id else ""
    split = ""
    if split_from:
        split = (f"<split><splits_off>yes</splits_off><split_from>{split_from}</split_from>"
                 f"<split_people>{' '.join(split_members)}</split_people></split>"
                 + "".join(f"<split_members><split_person_uuid>{person}</split_person_uuid>"
                           f"<split_person_base_version>{version}</split_person_base_version></split_members>"
                           for person, version in split_members.items()))
    changed_people = " ".join(update["person_uuid"] for update in updates)
    household_events = " ".join(dict.fromkeys(member.reason for member in members if member.reason != "registration"))
    anchor = postpartum or post_operation
    need = "postpartum_followup" if postpartum else "post_operation_followup"
    return (
        f"<?xml version='1.0' encoding='UTF-8' ?><data id=\"household_visit\" version=\"{VISIT_FORM_VERSION}\" "
        f"xmlns:jr=\"http://openrosa.org/javarosa\" xmlns:orx=\"http://openrosa.org/xforms\">"
        f"<start>{start}</start><end>{end or start}</end><today>{start[:10]}</today>"
        f"{_element('deviceid', device_id)}{_element('username', username)}{choice}"
        f"<household_uuid>{household}</household_uuid>"
        f"{_element('household_base_version', str(base_version) if base_version is not None else None)}"
        f"<outcome_group><outcome>{outcome}</outcome>"
        f"{'<consent>yes</consent>' if outcome == 'completed' else ''}</outcome_group>"
        f"<recording>{'yes' if outcome == 'completed' else 'no'}</recording>{split}"
        f"<changes>{_element('changed_people', changed_people)}{_element('household_events', household_events)}"
        f"</changes>{person_updates}{new_members}"
        + (f"<service_needs>{need}</service_needs><postpartum><followup_person>{anchor[0]}"
           f"</followup_person><followup_event_date>{anchor[1]}</followup_event_date></postpartum>"
           if anchor else "<service_needs />")
        + f"<closing><next_visit /></closing>"
        f"<meta><instanceID>{instance_id}</instanceID>{deprecated}</meta></data>"
    ).encode("utf-8")


def followup_visit(*, person: str, household: str, followup_type: str, start: str, outcome: str = "completed",
                   base_version: int = 1, instance_id: str | None = None, due_since: str | None = None,
                   username: str | None = None, device_id: str = "collect:test", end: str | None = None) -> bytes:
    """A follow-up of one person from the due list (`due_since` as the list gave it)."""
    instance_id = instance_id or f"uuid:{uuid.uuid4()}"
    services = ("<services><services_given>health_guidance</services_given><referral>no</referral></services>"
                if outcome == "completed" else "<services><services_given /><referral /></services>")
    return (
        f"<?xml version='1.0' encoding='UTF-8' ?><data id=\"followup\" version=\"{FORM_VERSIONS['followup']}\" "
        f"xmlns:jr=\"http://openrosa.org/javarosa\" xmlns:orx=\"http://openrosa.org/xforms\">"
        f"<start>{start}</start><end>{end or start}</end><today>{start[:10]}</today>"
        f"{_element('deviceid', device_id)}{_element('username', username)}"
        f"<person_uuid>{person}</person_uuid><household_uuid>{household}</household_uuid>"
        f"<person_base_version>{base_version}</person_base_version><due_type>{followup_type}</due_type>"
        f"{_element('due_since', due_since)}"
        f"<visit><followup_type>{followup_type}</followup_type><outcome>{outcome}</outcome></visit>{services}"
        f"<closing><next_date /></closing><meta><instanceID>{instance_id}</instanceID></meta></data>"
    ).encode("utf-8")

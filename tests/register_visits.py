"""Household visit submissions written directly (as JavaRosa writes them), for register tests that need exact
control over uuids, versions and phone times; the questionnaire tests fill the real form with JavaRosa."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from tests.conftest import ROOT

VISIT_FORM_VERSION = dict(line.split()[:2] for line in (ROOT / "xlsforms" / "versions.txt").read_text().splitlines()
                          if line.strip())["household_visit"]


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
                    split_members: dict[str, int] | None = None) -> bytes:
    """A completed, consented household visit: `new` = (household number, address) registers the household;
    `updates` are dicts of person_uuid, base_version, change and the change's answers (phone_now, event_date,
    place, name_corrected, id_number_corrected, to_household); a new household can split off `split_from`, taking
    `split_members` (person uuid → the version the phone listed)."""
    instance_id = instance_id or f"uuid:{uuid.uuid4()}"
    mode = "new" if new else "existing"
    choice = (f"<household_choice><mode>new</mode>{_element('new_household_no', new[0])}"
              f"{_element('new_address', new[1])}</household_choice>" if new else
              f"<household_choice><mode>existing</mode><household>{household}</household></household_choice>")
    person_updates = "".join(
        f"<person_updates><person_uuid>{update['person_uuid']}</person_uuid>"
        f"{_element('person_base_version', str(update.get('base_version', '')))}<person_update>"
        f"<change>{update['change']}</change>"
        + "".join(_element(name, update.get(name)) for name in ("event_date", "place", "phone_now", "name_corrected",
                                                               "id_number_corrected", "to_household"))
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
    return (
        f"<?xml version='1.0' encoding='UTF-8' ?><data id=\"household_visit\" version=\"{VISIT_FORM_VERSION}\" "
        f"xmlns:jr=\"http://openrosa.org/javarosa\" xmlns:orx=\"http://openrosa.org/xforms\">"
        f"<start>{start}</start><end>{start}</end><today>{start[:10]}</today><deviceid>collect:test</deviceid>"
        f"<username />{choice}<household_uuid>{household}</household_uuid>"
        f"{_element('household_base_version', str(base_version) if base_version is not None else None)}"
        f"<outcome_group><outcome>completed</outcome><consent>yes</consent></outcome_group><recording>yes</recording>{split}"
        f"<changes><changed_people /><household_events /></changes>{person_updates}{new_members}"
        f"<service_needs /><closing><next_visit /></closing>"
        f"<meta><instanceID>{instance_id}</instanceID>{deprecated}</meta></data>"
    ).encode("utf-8")

"""Read a questionnaire submission (household_visit, followup) into what it says about the register."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from sync.errors import BadRequest
from sync.services import ServiceRecord, read_service_record
from sync.submission import AnswerPaths, parse_submission

__all__ = ["LifeEvent", "PersonObservation", "HouseholdObservation", "FollowupObservation", "AnchorObservation",
           "Visit", "read_visit",
           "PERSON_FIELDS", "COMPLETED", "OUTSIDE"]

COMPLETED = "completed"
# Register fields of a person a visit can state (values as the forms' choice codes; dates ISO).
PERSON_FIELDS = ("name", "sex", "birth_date", "id_number", "relationship", "phone", "residence", "hukou", "status",
                 "household")

# What an existing member's change means for the register: the event recorded and the fields it sets.
_CHANGES: dict[str, tuple[str, dict[str, str]]] = {
    "died": ("death", {"status": "died"}),
    "married": ("marriage", {}),
    "moved_out": ("moved_out", {"residence": "moved_away"}),
    "changed_household": ("changed_household", {}),   # sets household to the one chosen (to_household)
    "left_for_work": ("left_for_work", {"residence": "working_away"}),
    "returned": ("returned", {"residence": "here"}),
    "details_corrected": ("", {}),
}
OUTSIDE = "outside"
"""A move's destination answered as a place outside the county (its name is written in `place`)."""
_JOIN_EVENTS = {"birth": "birth", "moved_in": "moved_in", "registration": "registered", "missed": "registered"}


@dataclass(frozen=True, slots=True)
class LifeEvent:
    kind: str                   # birth, death, marriage, moved_in, moved_out, changed_household, household_split,
                                # left_for_work, returned, registered
    date: dt.date | None
    place: str | None = None    # destination or origin, as written
    spouse_name: str | None = None
    # A move out: the village or town of this county it goes to, by its full name ("青山镇/西村"; the same on every
    # server, so a replicated visit names the same place); None: a place outside, or not said (docs/moves.md).
    destination: str | None = None


@dataclass(frozen=True, slots=True)
class PersonObservation:
    person_uuid: str
    base_version: int | None    # the register version the phone saw; None for a person new to the register
    fields: Mapping[str, str]   # only what this visit states
    event: LifeEvent | None = None
    arrival: bool = False       # a person expected from elsewhere, confirmed here (docs/moves.md)


@dataclass(frozen=True, slots=True)
class HouseholdObservation:
    household_uuid: str
    base_version: int | None
    fields: Mapping[str, str]   # household_no, address (and split_from, the household it split off) for a new household


@dataclass(frozen=True, slots=True)
class AnchorObservation:
    """An event a follow-up schedule counts from (sync.schedules.ANCHOR_KINDS), told by the household."""

    person_uuid: str
    kind: str                   # birth, operation, pregnancy_reported
    date: dt.date


@dataclass(frozen=True, slots=True)
class FollowupObservation:
    due_type: str
    followup_type: str
    due_since: dt.date | None
    services: tuple[str, ...]
    referral: bool
    next_date: dt.date | None


@dataclass(frozen=True, slots=True)
class Visit:
    instance_id: str
    deprecated_id: str | None
    form_id: str
    visited_at: dt.datetime | None   # when the form was started on the phone (orders visits, not arrival)
    visit_date: dt.date | None       # the phone's calendar date of the visit
    collector: str | None
    outcome: str
    recorded: bool                   # completed and consented: more than the outcome is recorded
    household: HouseholdObservation | None
    people: tuple[PersonObservation, ...] = ()
    service_needs: tuple[str, ...] = ()
    next_visit: dt.date | None = None
    followup: FollowupObservation | None = field(default=None)
    anchors: tuple[AnchorObservation, ...] = ()
    form_version: str = ""
    services: ServiceRecord = ServiceRecord()   # what was done and asked for (sync.services)

    @property
    def completed(self) -> bool:
        """Only completed visits count for schedules."""
        return self.outcome == COMPLETED


def read_visit(xml: bytes) -> Visit:
    """Parse a household_visit or followup submission; raises a TaizhangError for other forms or bad values."""
    envelope = parse_submission(xml)
    node = AnswerPaths(envelope.root)
    common = dict(instance_id=envelope.instance_id, deprecated_id=envelope.deprecated_id, form_id=envelope.form_id,
                  visited_at=_datetime(node.text("start") or node.text("end")), visit_date=_date(node.text("today")),
                  collector=node.text("username"), form_version=envelope.version)
    if envelope.form_id == "household_visit":
        return _household_visit(node, common)
    if envelope.form_id == "followup":
        return _followup(node, common)
    raise BadRequest(f"{envelope.form_id} is not a register form")


def _household_visit(node: AnswerPaths, common: dict) -> Visit:
    outcome = node.text("outcome_group/outcome") or ""
    recorded = node.text("recording") == "yes"
    new_household = node.text("household_choice/mode") == "new"
    household_uuid = node.text("household_uuid")
    household = None
    if household_uuid:
        household = HouseholdObservation(
            household_uuid=household_uuid,
            base_version=_int(node.text("household_base_version")),
            fields=_present({"household_no": node.text("household_choice/new_household_no"),
                             "address": node.text("household_choice/new_address"),
                             "split_from": node.text("split/split_from")}) if new_household and recorded
            else {})
    people: list[PersonObservation] = []
    if recorded:
        people += [_person_update(update) for update in node.all("person_updates")]
        people += [_split_member(member, household_uuid, common["visit_date"]) for member in node.all("split_members")]
        people += [_new_member(member, household_uuid, common["visit_date"]) for member in node.all("new_members")]
    service_needs = tuple((node.text("service_needs") or "").split()) if recorded else ()
    services = read_service_record(node, form_id="household_visit", version=common["form_version"],
                                   instance_id=common["instance_id"], visit_date=common["visit_date"],
                                   recorded=recorded)
    return Visit(**common, outcome=outcome, recorded=recorded, household=household, people=tuple(people),
                 service_needs=service_needs, next_visit=services.next_visit,
                 anchors=_anchors(node, service_needs, people, common["visit_date"]),
                 services=_named_people(services, people))


def _named_people(services: ServiceRecord, people: list[PersonObservation]) -> ServiceRecord:
    """Items about a person named, not picked (in a household being registered): the new member of that name."""
    new_by_name = {observation.fields.get("name"): observation.person_uuid for observation in people
                   if observation.base_version is None and observation.fields.get("name")}
    if not any(item.person_name and not item.person_uuid for item in services.items):
        return services
    return replace(services, items=tuple(
        replace(item, person_uuid=new_by_name.get(item.person_name)) if item.person_name and not item.person_uuid
        else item for item in services.items))


def _anchors(node: AnswerPaths, service_needs: tuple[str, ...], people: list[PersonObservation],
             visit_date: dt.date | None) -> tuple[AnchorObservation, ...]:
    """Events follow-ups count from: a birth or an operation the household told of, a pregnancy the woman chose
    to tell (with her consent to be recorded). In a new household the person is named, not picked: the new member
    of that name."""
    new_by_name = {observation.fields.get("name"): observation.person_uuid for observation in people
                   if observation.base_version is None and observation.fields.get("name")}

    def person(picked: str, named: str) -> str | None:
        return node.text(picked) or new_by_name.get(node.text(named))

    anchors = []
    for need, kind in (("postpartum_followup", "birth"), ("post_operation_followup", "operation")):
        date = _date(node.text("postpartum/followup_event_date"))
        who = person("postpartum/followup_person", "postpartum/followup_person_name")
        if need in service_needs and date and who:
            anchors.append(AnchorObservation(who, kind, date))
    who = person("pregnancy/pregnant_person", "pregnancy/pregnant_person_name")
    if ("pregnancy_reported" in service_needs and node.text("pregnancy/pregnancy_consent") == "yes" and who
            and visit_date):
        anchors.append(AnchorObservation(who, "pregnancy_reported", visit_date))
    return tuple(anchors)


def _person_update(update: AnswerPaths) -> PersonObservation:
    change = update.text("person_update/change") or ""
    if change not in _CHANGES:
        raise BadRequest(f"unknown member change {change!r}")
    event_kind, fields = _CHANGES[change]
    fields = dict(fields)
    phone = update.text("person_update/phone_now")
    if phone:
        fields["phone"] = phone
    if change == "changed_household":
        fields["household"] = _required(update.text("person_update/to_household"), "to_household")
    if change == "details_corrected":
        fields.update(_present({"name": update.text("person_update/name_corrected"),
                                "id_number": update.text("person_update/id_number_corrected")}))
    event = None
    if event_kind:
        destination = update.text("person_update/destination") if change == "moved_out" else None
        event = LifeEvent(kind=event_kind, date=_date(update.text("person_update/event_date")),
                          place=update.text("person_update/place"),
                          spouse_name=update.text("person_update/spouse_name"),
                          destination=None if destination in (None, OUTSIDE) else destination)
    return PersonObservation(person_uuid=_required(update.text("person_uuid"), "person_uuid"),
                             base_version=_int(update.text("person_base_version")), fields=fields, event=event)


def _split_member(member: AnswerPaths, household_uuid: str | None, visit_date: dt.date | None) -> PersonObservation:
    """A member of the old household moving to the new household split off it (分户)."""
    return PersonObservation(person_uuid=_required(member.text("split_person_uuid"), "split_person_uuid"),
                             base_version=_int(member.text("split_person_base_version")),
                             fields=_present({"household": household_uuid}),
                             event=LifeEvent(kind="household_split", date=visit_date))


def _new_member(member: AnswerPaths, household_uuid: str | None, visit_date: dt.date | None) -> PersonObservation:
    details = member.child("new_member")
    reason = details.text("reason") or "registration"
    arriving = details.text("arriving_person")
    if reason == "moved_in" and arriving:
        return _arrival(details, arriving, household_uuid)
    fields = _present({
        "name": details.text("person_name_new"), "sex": details.text("sex"),
        "birth_date": _register_date(details.text("birth_date")),
        "id_number": details.text("id_number"), "relationship": details.text("relationship"),
        "phone": details.text("phone"), "residence": details.text("residence"), "hukou": details.text("hukou"),
        "household": household_uuid,
    })
    fields["status"] = "living"
    if reason == "birth":
        event = LifeEvent(kind="birth", date=_date(details.text("birth_date")))
    elif reason == "moved_in":
        event = LifeEvent(kind="moved_in", date=_date(details.text("event_date")), place=details.text("origin"))
    else:
        event = LifeEvent(kind=_JOIN_EVENTS.get(reason, "registered"), date=visit_date)
    return PersonObservation(person_uuid=_required(member.text("new_person_uuid"), "new_person_uuid"),
                             base_version=None, fields=fields, event=event)


def _arrival(details: AnswerPaths, person_uuid: str, household_uuid: str | None) -> PersonObservation:
    """A person expected to arrive (picked from the collector's list of expected arrivals, docs/moves.md): the
    register's person, not a stranger, joins the household (with their relationship to its head and their phone,
    the only details the form asks again); the visit confirms their arrival."""
    fields = _present({"household": household_uuid, "relationship": details.text("relationship"),
                       "phone": details.text("phone")})
    fields["residence"] = "here"
    return PersonObservation(person_uuid=person_uuid, base_version=_int(details.text("arriving_version")),
                             fields=fields, event=LifeEvent(kind="moved_in", date=_date(details.text("event_date")),
                                                            place=details.text("origin")), arrival=True)


def _followup(node: AnswerPaths, common: dict) -> Visit:
    outcome = node.text("visit/outcome") or ""
    person_uuid = _required(node.text("person_uuid"), "person_uuid")
    household_uuid = node.text("household_uuid")
    person = PersonObservation(person_uuid=person_uuid, base_version=_int(node.text("person_base_version")), fields={})
    followup = FollowupObservation(
        due_type=node.text("due_type") or "", followup_type=node.text("visit/followup_type") or "",
        due_since=_date(node.text("due_since")),
        services=tuple((node.text("services/services_given") or "").split()),
        referral=node.text("services/referral") == "yes", next_date=_date(node.text("closing/next_date")))
    household = HouseholdObservation(household_uuid, None, {}) if household_uuid else None
    services = read_service_record(node, form_id="followup", version=common["form_version"],
                                   instance_id=common["instance_id"], visit_date=common["visit_date"],
                                   recorded=outcome == COMPLETED, person_uuid=person_uuid)
    return Visit(**common, outcome=outcome, recorded=outcome == COMPLETED, household=household, people=(person,),
                 followup=followup, next_visit=services.next_visit, services=services)


def _present(values: dict[str, str | None]) -> dict[str, str]:
    return {key: value for key, value in values.items() if value}


def _required(value: str | None, name: str) -> str:
    if not value:
        raise BadRequest(f"{name} is missing")
    return value


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError as exc:
        raise BadRequest(f"not a whole number: {value!r}") from exc


def _register_date(value: str | None) -> str | None:
    """A date as the register keeps it (YYYY-MM-DD); one that is no such date (year 10000, 2026-02-30) is left out
    of the register: the stored submission keeps the answer as the phone sent it, and the visit's page shows it."""
    try:
        return dt.date.fromisoformat(value[:10]).isoformat() if value and len(value.split("T")[0]) == 10 else None
    except ValueError:
        return None


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError as exc:
        raise BadRequest(f"not a date: {value!r}") from exc


def _datetime(value: str | None) -> dt.datetime | None:
    """An instant; a time written without its UTC offset (Collect always writes one) is read as UTC, as the register
    stores such times, so that every visit's time compares with every other's."""
    try:
        moment = dt.datetime.fromisoformat(value) if value else None
        if moment is not None and moment.tzinfo is not None:
            moment.astimezone(dt.UTC)  # an offset that carries it out of the calendar (9999-12-31T23:00-12:00)
    except (ValueError, OverflowError) as exc:
        raise BadRequest(f"not a date and time: {value!r}") from exc
    return moment.replace(tzinfo=dt.timezone.utc) if moment is not None and moment.tzinfo is None else moment

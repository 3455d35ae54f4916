"""Purge reads and writes: the facts the retention rules are judged on, what a purge touches, the tombstones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import aliased

from server import clock
from server.areas.models import Area
from server.copies.models import PersonCopy
from server.extensions import db
from server.notices.models import ServiceNotice
from server.rechecks.models import RecheckFinding
from server.register.models import (
    DuplicateCandidate,
    Household,
    LifeEventRecord,
    Person,
    PersonMatchKey,
    PurgedRecord,
    RegisterConflict,
    RegisterDecision,
    RegisterFieldValue,
    ScheduleSummary,
    ServiceAnchor,
    ServiceItemRecord,
    SubmissionRecord,
    Visit,
)
from server.submissions.models import MergeQueueEntry, Submission
from sync.retention import PURGED_NAME, LocationFacts, PersonFacts, Selection, scrubbed_decision

__all__ = ["person_facts", "location_facts", "village_names", "village_paths", "identifying_words", "queued_submissions",
           "submission_xml", "replace_xml", "add_tombstones", "last_submission_id", "forget_people",
           "clear_locations", "scrub_decisions"]

_MOVES = ("moved_out", "moved_in", "returned")
_group = aliased(Area)


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _latest(kinds: Iterable[str]) -> dict[str, LifeEventRecord]:
    """Each person's latest life event of these kinds (by day, then as recorded)."""
    latest: dict[str, LifeEventRecord] = {}
    for row in db.session.scalars(select(LifeEventRecord).where(LifeEventRecord.kind.in_(tuple(kinds)))
                                  .order_by(LifeEventRecord.event_date, LifeEventRecord.id)):
        if row.event_date is not None:
            latest[row.person_uuid] = row
    return latest


def person_facts(consent_withdrawn: Mapping[str, dt.date]) -> list[PersonFacts]:
    """Every person of the register with what the retention rules are judged on; `consent_withdrawn`: the people
    whose withdrawn consent covers raw answers not yet blanked, and the day they withdrew it
    (server.privacy.consent.pending_withdrawals)."""
    people = db.session.execute(select(Person.uuid, Person.birth_date, Person.status, _group.parent_id)
                                .outerjoin(Household, Household.uuid == Person.household_uuid)
                                .outerjoin(_group, _group.id == Household.group_id)).all()
    deaths = _latest(("death",))
    moves = _latest(_MOVES)
    with_services = set(db.session.scalars(select(ServiceItemRecord.person_uuid).distinct()
                                           .where(ServiceItemRecord.person_uuid.is_not(None))))
    with_services |= set(db.session.scalars(select(ServiceAnchor.person_uuid).distinct()))
    facts = []
    for row in people:
        death = deaths.get(row.uuid)
        move = moves.get(row.uuid)
        facts.append(PersonFacts(
            uuid=row.uuid, village_id=row.parent_id, birth_date=_date(row.birth_date),
            died_on=death.event_date if death is not None and row.status == "died" else None,
            moved_out_of_county_on=move.event_date if move is not None and move.kind == "moved_out"
            and move.destination_id is None else None,
            has_service_record=row.uuid in with_services, consent_withdrawn_on=consent_withdrawn.get(row.uuid),
            has_consent_record=row.uuid in consent_withdrawn))
    return facts


def location_facts() -> list[LocationFacts]:
    """Every visit holding a GPS point, with its village (its collector's group's) and day."""
    rows = db.session.execute(select(Visit.submission_id, Visit.visit_date, Visit.visited_at, _group.parent_id)
                              .join(Submission, Submission.id == Visit.submission_id)
                              .outerjoin(_group, _group.id == Submission.area_id)
                              .where(or_(Visit.latitude.is_not(None), Visit.longitude.is_not(None))))
    return [LocationFacts(row.submission_id, row.parent_id, row.visit_date or (
        clock.date_of(row.visited_at) if row.visited_at else None)) for row in rows]


def village_names(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {area_id for area_id in ids if area_id is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(select(Area.id, Area.full_name).where(Area.id.in_(wanted))).all())


def village_paths(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {area_id for area_id in ids if area_id is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(select(Area.id, Area.path).where(Area.id.in_(wanted))).all())


def identifying_words(uuids: set[str]) -> dict[str, set[str]]:
    """Every name, ID number and phone the register ever held for these people (from their field history)."""
    words: dict[str, set[str]] = {uuid: set() for uuid in uuids}
    for row in db.session.execute(select(RegisterFieldValue.record_uuid, RegisterFieldValue.value).where(
            RegisterFieldValue.record_kind == "person", RegisterFieldValue.record_uuid.in_(uuids),
            RegisterFieldValue.field.in_(("name", "id_number", "phone")))):
        words[row.record_uuid].add(row.value)
    for row in db.session.execute(select(Person.uuid, Person.name, Person.id_number, Person.phone)
                                  .where(Person.uuid.in_(uuids))):
        words[row.uuid] |= {value for value in (row.name, row.id_number, row.phone) if value}
    return words


def queued_submissions() -> set[int]:
    """The submissions received but not merged yet (they name no record in `submission_record` so far)."""
    return set(db.session.scalars(select(MergeQueueEntry.submission_id)))


class StoredXml(NamedTuple):
    id: int
    xml: bytes


def submission_xml(ids: set[int]) -> list[StoredXml]:
    return [StoredXml(row.id, bytes(row.xml)) for row in db.session.execute(
        select(Submission.id, Submission.xml).where(Submission.id.in_(ids)).order_by(Submission.id))]


def replace_xml(submission_id: int, xml: bytes, sha256: str) -> None:
    db.session.execute(update(Submission).where(Submission.id == submission_id).values(xml=xml, xml_sha256=sha256))


def last_submission_id() -> int:
    return db.session.scalar(select(func.max(Submission.id))) or 0


def add_tombstones(selections: Iterable[Selection], aliases: dict[str, set[str]], *, day: dt.date,
                   after_submission_id: int) -> None:
    """A tombstone per person purged (and per uuid merged into them), unless one of the rule is there already."""
    wanted = {(uuid, selection.rule) for selection in selections if selection.uuid is not None
              for uuid in {selection.uuid} | aliases.get(selection.uuid, set())}
    have = set(db.session.execute(select(PurgedRecord.uuid, PurgedRecord.rule)).all())
    db.session.add_all(PurgedRecord(uuid=uuid, rule=rule, purged_on=day, after_submission_id=after_submission_id)
                       for uuid, rule in sorted(wanted - have))


def forget_people(uuids: set[str]) -> None:
    """What is left of people purged whole once their submissions are replayed without them: any row naming them
    goes; their re-check findings, service notices and own-copy requests stay without their personal content."""
    if not uuids:
        return
    for statement in (
            delete(RegisterFieldValue).where(RegisterFieldValue.record_uuid.in_(uuids)),
            delete(LifeEventRecord).where(LifeEventRecord.person_uuid.in_(uuids)),
            delete(ServiceAnchor).where(ServiceAnchor.person_uuid.in_(uuids)),
            delete(RegisterConflict).where(RegisterConflict.record_uuid.in_(uuids)),
            delete(PersonMatchKey).where(PersonMatchKey.person_uuid.in_(uuids)),
            delete(DuplicateCandidate).where(or_(DuplicateCandidate.a_uuid.in_(uuids),
                                                 DuplicateCandidate.b_uuid.in_(uuids))),
            delete(SubmissionRecord).where(SubmissionRecord.record_uuid.in_(uuids)),
            delete(ServiceItemRecord).where(ServiceItemRecord.person_uuid.in_(uuids)),
            delete(Person).where(Person.uuid.in_(uuids)),
            delete(ScheduleSummary).where(ScheduleSummary.record_uuid.in_(uuids)),
            # Rows that are also a record of work done (a re-check's accuracy, a notice answered, a copy handed
            # over) keep that it was done, not who it was about.
            update(RecheckFinding).where(RecheckFinding.person_uuid.in_(uuids)).values(
                person_name=PURGED_NAME, register_value=None, observed_value=None),
            update(ServiceNotice).where(ServiceNotice.person_uuid.in_(uuids)).values(
                name=PURGED_NAME, sex=None, birth_date=None, id_number=None, address=PURGED_NAME, phone=None,
                service_note=None, answer_done=None),
            update(PersonCopy).where(PersonCopy.person_uuid.in_(uuids)).values(
                requested_by=PURGED_NAME, handed_to=None)):
        db.session.execute(statement)


def scrub_decisions(uuids: set[str]) -> int:
    """Decisions about people purged whole keep that they were taken, not what they said of them: the note goes,
    and a target holding their details (sync.retention.scrubbed_decision); every replay skips them."""
    if not uuids:
        return 0
    rows = db.session.scalars(select(RegisterDecision).where(RegisterDecision.subject_uuid.in_(uuids))).all()
    for row in rows:
        row.note = None
        row.target = scrubbed_decision(row.kind, row.target, row.field)
    return len(rows)


def clear_locations(submission_ids: set[int]) -> None:
    if submission_ids:
        db.session.execute(update(Visit).where(Visit.submission_id.in_(submission_ids))
                           .values(latitude=None, longitude=None, altitude=None, accuracy=None))

"""Register reads and writes: record history, current rows, events, visits, conflicts, the merge queue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from server.extensions import db
from server.register.models import (Household, LifeEventRecord, MergeQueueEntry, Person, RegisterConflict,
                                    RegisterFieldValue, Visit)
from server.submissions.models import Submission
from server.users.models import User
from sync.merge import FieldValue, RecordState, VisitRef

RECORD_MODELS = {"household": Household, "person": Person}
MAX_ATTEMPTS = 3  # an entry that failed this often stays queued, with its error, for a person to look at


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """Store instants in UTC (SQLite keeps no offset) and read stored naive values back as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def claim_next() -> tuple[int, bytes, str, str | None, int | None] | None:
    """The oldest queued submission, locked so merges happen one at a time in arrival order (FOR UPDATE on
    PostgreSQL; SQLite's write lock already serialises): (id, xml, instance_id, deprecated_id, submitter's area)."""
    query = _oldest_eligible(MergeQueueEntry.submission_id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # in order, one at a time (see register.operations)
    submission_id = db.session.scalar(query)
    if submission_id is None:
        return None
    return submission_rows({submission_id})[0]


def _oldest_eligible(what):
    """The queue entry merged next: the oldest one not yet given up on."""
    return (select(what).where(MergeQueueEntry.attempts < MAX_ATTEMPTS)
            .order_by(MergeQueueEntry.submission_id).limit(1))


def is_superseded(instance_id: str) -> bool:
    """Whether an edit of this version was stored already (it arrived first)."""
    return db.session.scalar(select(Submission.id).where(Submission.deprecated_id == instance_id)) is not None


def chain_ids(submission_id: int) -> set[int]:
    """Ids of every stored version in the same edit chain as this submission."""
    root = db.session.scalar(select(Submission.root_instance_id).where(Submission.id == submission_id))
    return set(db.session.scalars(select(Submission.id).where(Submission.root_instance_id == root)))


def note_failure(error: str) -> int | None:
    """Count a failed attempt on the oldest eligible entry (the one that just failed); return its submission id."""
    entry = db.session.scalar(_oldest_eligible(MergeQueueEntry))
    if entry is None:
        return None
    entry.attempts += 1
    entry.last_error = error[:500]
    return entry.submission_id


def dequeue(submission_id: int) -> None:
    db.session.execute(delete(MergeQueueEntry).where(MergeQueueEntry.submission_id == submission_id))


def record_state(kind: str, uuid: str) -> RecordState | None:
    model = RECORD_MODELS[kind]
    version = db.session.scalar(select(model.version).where(model.uuid == uuid))
    if version is None:
        return None
    history: dict[str, tuple[FieldValue, ...]] = {}
    for row in db.session.scalars(select(RegisterFieldValue).where(
            RegisterFieldValue.record_kind == kind, RegisterFieldValue.record_uuid == uuid)
            .order_by(RegisterFieldValue.version, RegisterFieldValue.id)):
        history[row.field] = history.get(row.field, ()) + (
            FieldValue(row.value, row.version, VisitRef(row.instance_id, _utc(row.visited_at))),)
    return RecordState(uuid=uuid, version=version, history=history)


def save_record(kind: str, uuid: str, values: dict[str, str], version: int, *, group_id: int | None = None) -> None:
    """Write the record's current values (the denormalised row the pages and reports read)."""
    model = RECORD_MODELS[kind]
    row = db.session.get(model, uuid)
    if row is None:
        row = model(uuid=uuid, version=version)
        if kind == "household":
            row.group_id = group_id
        db.session.add(row)
    row.version = version
    for name, value in values.items():
        column = "household_uuid" if (kind, name) == ("person", "household") else name
        if hasattr(model, column):
            setattr(row, column, value)


def add_field_values(kind: str, uuid: str, updates: dict[str, str], version: int, submission_id: int,
                     visit: VisitRef) -> None:
    db.session.add_all(RegisterFieldValue(record_kind=kind, record_uuid=uuid, field=name, value=value, version=version,
                                          submission_id=submission_id, instance_id=visit.instance_id,
                                          visited_at=_utc(visit.visited_at))
                       for name, value in updates.items())


def add_event(person_uuid: str, event, submission_id: int) -> None:
    db.session.add(LifeEventRecord(person_uuid=person_uuid, kind=event.kind, event_date=event.date, place=event.place,
                                   spouse_name=event.spouse_name, submission_id=submission_id))


def add_conflict(conflict) -> None:
    db.session.add(RegisterConflict(record_uuid=conflict.uuid, field=conflict.field, value=conflict.value,
                                    instance_id=conflict.visit.instance_id, other_value=conflict.other_value,
                                    other_instance_id=conflict.other_visit.instance_id))


def add_visit(submission_id: int, *, visited_at: dt.datetime | None, **values) -> None:
    db.session.merge(Visit(submission_id=submission_id, visited_at=_utc(visited_at), **values))


def submissions_touching(uuids: set[str]) -> set[int]:
    """Ids of the submissions that contributed to these records (field values, events, visits)."""
    ids = set(db.session.scalars(select(RegisterFieldValue.submission_id)
                                 .where(RegisterFieldValue.record_uuid.in_(uuids))))
    ids |= set(db.session.scalars(select(LifeEventRecord.submission_id).where(LifeEventRecord.person_uuid.in_(uuids))))
    ids |= set(db.session.scalars(select(Visit.submission_id).where(
        Visit.household_uuid.in_(uuids) | Visit.person_uuid.in_(uuids))))
    return ids


def forget_records(uuids: set[str], submission_ids: set[int]) -> None:
    """Remove what is derived for these records, so they can be replayed from their submissions."""
    db.session.execute(delete(RegisterFieldValue).where(RegisterFieldValue.record_uuid.in_(uuids)))
    db.session.execute(delete(LifeEventRecord).where(LifeEventRecord.person_uuid.in_(uuids)))
    db.session.execute(delete(RegisterConflict).where(RegisterConflict.record_uuid.in_(uuids)))
    db.session.execute(delete(Person).where(Person.uuid.in_(uuids)))
    db.session.execute(delete(Household).where(Household.uuid.in_(uuids)))
    db.session.execute(delete(Visit).where(Visit.submission_id.in_(submission_ids)))


def forget_everything() -> None:
    for model in (RegisterFieldValue, LifeEventRecord, RegisterConflict, Visit, Person, Household, MergeQueueEntry):
        db.session.execute(delete(model))


def submission_rows(ids: set[int] | None = None):
    """(id, xml, instance_id, deprecated_id, submitter area) of submissions, in arrival order."""
    query = (select(Submission.id, Submission.xml, Submission.instance_id, Submission.deprecated_id, User.area_id)
             .outerjoin(User, User.id == Submission.submitter_id).order_by(Submission.id))
    if ids is not None:
        query = query.where(Submission.id.in_(ids))
    return [(r.id, bytes(r.xml), r.instance_id, r.deprecated_id, r.area_id) for r in db.session.execute(query)]


def register_snapshot() -> dict:
    """Every household and person row as plain values, for comparing a rebuild with the live register."""
    def rows(model):
        return sorted(tuple((column.name, getattr(row, column.key)) for column in model.__table__.columns)
                      for row in db.session.scalars(select(model)))
    return {"households": rows(Household), "people": rows(Person),
            "history": sorted((r.record_uuid, r.field, r.value, r.version, r.instance_id)
                              for r in db.session.scalars(select(RegisterFieldValue))),
            "events": sorted((r.person_uuid, r.kind, str(r.event_date), r.place or "")
                             for r in db.session.scalars(select(LifeEventRecord))),
            "conflicts": sorted((r.record_uuid, r.field, r.value, r.other_value)
                                for r in db.session.scalars(select(RegisterConflict)))}

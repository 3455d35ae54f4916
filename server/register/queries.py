"""Register reads and writes: record history, current rows, events, visits, conflicts, the merge queue, decisions,
duplicate candidates and match keys."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import (
    Row,
    and_,
    bindparam,
    case,
    delete,
    event,
    false,
    func,
    insert,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased

from server.areas.models import Area
from server.areas.queries import inside_area
from server.boundary import chunks
from server.database import counted_up_to, matching, on_postgresql
from server.extensions import db
from server.forms.models import Form
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
    VisitReview,
)
from server.submissions.models import MergeQueueEntry, Submission
from server.users.models import User
from sync.decisions import DECISION_KINDS
from sync.merge import FieldValue, RecordState, VisitRef
from sync.periods import as_utc
from sync.replay import StoredSubmission
from sync.retention import PurgedRecords, Tombstone
from sync.services import ServiceItem, item_key

RECORD_MODELS = {"household": Household, "person": Person}
_RECORD_COLUMNS = {kind: frozenset(model.__table__.columns.keys()) for kind, model in RECORD_MODELS.items()}
MAX_ATTEMPTS = 3  # an entry that failed this often stays queued, with its error, for a person to look at


@functools.lru_cache(maxsize=4096)
def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """Store instants in UTC (SQLite keeps no offset) and read stored naive values back as UTC."""
    return None if moment is None else as_utc(moment)


def claim_next() -> StoredSubmission | None:
    """The oldest queued submission, locked so merges happen one at a time in arrival order (FOR UPDATE on
    PostgreSQL; SQLite's write lock already serialises)."""
    query = _oldest_eligible(MergeQueueEntry.submission_id)
    if on_postgresql():
        query = query.with_for_update()  # in order, one at a time (see register.worker)
    submission_id = db.session.scalar(query)
    if submission_id is None:
        return None
    return submission_rows({submission_id})[0]


# PostgreSQL advisory lock keys (two int4s): the whole register (held shared by a merge worker's batch, exclusive by
# any replay) and one village's queue (held by the worker merging a batch of it). See server.register.worker.
REGISTER_LOCK = (0x7A4D, 0)
VILLAGE_LOCK = 0x7A4E
CLAIM_WINDOW = 1000  # queue entries looked at to find a village no other worker holds


class NeedsWholeRegister(Exception):  # noqa: N818 - a signal to the merge worker, not an error
    """A merge holding the register shared (one village) met something that needs it whole: a replay or an arrival
    from another village. The worker rolls the batch back and merges it again holding the register exclusively."""


class QueuedEntry(NamedTuple):
    submission_id: int
    village_id: int


def _advisory(function: str, key: tuple[int, int]):
    """Call one of PostgreSQL's transaction-level advisory lock functions on a two-part key."""
    return db.session.scalar(text(f"SELECT {function}(CAST(:a AS integer), CAST(:b AS integer))"),
                             dict(a=key[0], b=key[1]))


def lock_register(records: set[str] | None = None) -> None:
    """Hold the whole register for this transaction (PostgreSQL; SQLite's write lock serialises already): every
    replay takes it, so no merge worker writes records while their past is replayed. A merge worker holding the
    register shared (one village's batch) cannot take it — NeedsWholeRegister sends it back to merge exclusively —
    unless every one of `records` (those a replay rewrites) lives in the village it holds: no other worker writes
    them (a visit confirming an arrival, the one merge that changes another village's record, holds the register
    whole)."""
    held = db.session.info.get("register_lock")
    if held == "shared":
        village = db.session.info.get("register_village")
        if records is None or village is None or set(record_villages(records).values()) != {village}:
            raise NeedsWholeRegister()
        return
    if held is None and on_postgresql():
        _advisory("pg_advisory_xact_lock", REGISTER_LOCK)
        db.session.info["register_lock"] = "exclusive"


def record_villages(uuids: set[str]) -> dict[str, int | None]:
    """The village each of these records (households, people) lives in now; None: not in the register."""
    found: dict[str, int | None] = dict.fromkeys(uuids)
    if not uuids:
        return found
    group = aliased(Area)
    found.update(db.session.execute(select(Household.uuid, group.parent_id).join(group, group.id == Household.group_id)
                                    .where(Household.uuid.in_(uuids))).all())
    found.update(db.session.execute(select(Person.uuid, group.parent_id)
                                    .join(Household, Household.uuid == Person.household_uuid)
                                    .join(group, group.id == Household.group_id).where(Person.uuid.in_(uuids))).all())
    return found


def _village_of_submission():
    """A submission's village id (its collector's group's village; 0 for a submission of no group)."""
    return func.coalesce(case((Area.kind == "group", Area.parent_id), else_=Area.id), 0)


def queued_entries(limit: int, village_id: int | None = None) -> list[QueuedEntry]:
    """The oldest eligible queue entries (of one village), in arrival order, with their village.

    Read from the queue outwards, in its order, until the batch is full: each entry's village is looked up by its
    submission's key (a correlated subquery, which PostgreSQL never turns into a join). As a join, the planner
    hashed every stored submission to find a village's few queued ones (a sequential scan of `submission` per
    claim: 54 ms at 15,000 submissions). The village's test is written `coalesce(… = village, false)`: an equality
    the planner reckons one entry in 200 passes, and it read and sorted the whole queue instead of walking its
    index (281 ms against 0.3 ms a claim with 83,601 entries queued)."""
    village = (select(_village_of_submission()).select_from(Submission)
               .outerjoin(Area, Area.id == Submission.area_id)
               .where(Submission.id == MergeQueueEntry.submission_id).scalar_subquery())
    query = (select(MergeQueueEntry.submission_id, village.label("village_id"))
             .where(MergeQueueEntry.attempts < MAX_ATTEMPTS).order_by(MergeQueueEntry.submission_id).limit(limit))
    if village_id is not None:
        query = query.where(func.coalesce(village == village_id, false()))
    return [QueuedEntry(row.submission_id, row.village_id) for row in db.session.execute(query)]


def oldest_queued_wait(now: dt.datetime) -> float | None:
    """How many seconds the oldest eligible queue entry (in arrival order) has waited; None when none waits."""
    enqueued_at = db.session.scalar(_oldest_eligible(MergeQueueEntry.enqueued_at))
    if enqueued_at is None:
        return None
    if enqueued_at.tzinfo is None:   # SQLite keeps the UTC instant without its zone
        enqueued_at = enqueued_at.replace(tzinfo=dt.timezone.utc)
    return (now - enqueued_at).total_seconds()


def claim_batch(size: int, *, village_id: int | None = None, exclusive: bool = False) -> list[StoredSubmission]:
    """Up to `size` queued submissions of one village, oldest first: the village of the oldest entry no other
    worker holds (or `village_id`). On PostgreSQL the register is held shared and the village exclusively for this
    transaction (`exclusive`: the whole register), so workers merge different villages side by side and each
    village in arrival order; an empty list when every queued village is held by another worker."""
    postgresql = on_postgresql()
    if postgresql:
        _advisory("pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared", REGISTER_LOCK)
        db.session.info["register_lock"] = "exclusive" if exclusive else "shared"
        db.session.info.pop("register_village", None)
    if village_id is None:
        tried: set[int] = set()
        for window in (1, CLAIM_WINDOW) if postgresql and not exclusive else (1,):
            villages = [village for village in dict.fromkeys(entry.village_id for entry in queued_entries(window))
                        if village not in tried]
            tried |= set(villages)
            village_id = next((village for village in villages if exclusive or not postgresql
                               or _advisory("pg_try_advisory_xact_lock", (VILLAGE_LOCK, village))), None)
            if village_id is not None:
                break
        if village_id is None:
            return []
    elif postgresql and not exclusive:
        _advisory("pg_advisory_xact_lock", (VILLAGE_LOCK, village_id))
    if postgresql and not exclusive:
        db.session.info["register_village"] = village_id
    # Read again under the lock: another worker may have merged some of them meanwhile.
    return submission_rows({entry.submission_id for entry in queued_entries(size, village_id)})


def touched_after(uuids: set[str]) -> dict[str, int]:
    """For each of these records, the newest submission that named it (merged, or refused)."""
    if not uuids:
        return {}
    return dict(db.session.execute(select(SubmissionRecord.record_uuid, func.max(SubmissionRecord.submission_id))
                                   .where(SubmissionRecord.record_uuid.in_(uuids))
                                   .group_by(SubmissionRecord.record_uuid)).all())


def decisions_placed_after(submission_id: int) -> list[RegisterDecision]:
    """Decisions in force placed after this submission in arrival order (taken while it waited in the queue)."""
    return list(db.session.scalars(select(RegisterDecision).where(
        RegisterDecision.undone_at.is_(None), RegisterDecision.after_submission_id >= submission_id)))


def merge_steps(uuids: set[str]) -> dict[str, str]:
    """merged_into for these uuids and, at any depth, for the records they were merged into."""
    steps: dict[str, str] = {}
    pending = set(uuids)
    while pending:
        found = merged_into(pending)
        steps |= found
        pending = set(found.values()) - set(steps)
    return steps


def village_of(submission_id: int) -> int:
    """The village a submission's queue entry belongs to (0: no group)."""
    return db.session.scalar(select(_village_of_submission()).select_from(Submission)
                             .outerjoin(Area, Area.id == Submission.area_id).where(Submission.id == submission_id))


@event.listens_for(Session, "after_transaction_end")
def _forget_register_lock(session, transaction) -> None:
    """Transaction-level locks end with the transaction: so does the note of the register lock held."""
    if transaction.parent is None:
        session.info.pop("register_lock", None)
        session.info.pop("register_village", None)


def _oldest_eligible(what):
    """The queue entry merged next: the oldest one not yet given up on."""
    return (select(what).where(MergeQueueEntry.attempts < MAX_ATTEMPTS)
            .order_by(MergeQueueEntry.submission_id).limit(1))


def superseded(instance_ids: set[str]) -> set[str]:
    """Those of these versions an edit of which was stored already (it arrived first)."""
    if not instance_ids:
        return set()
    return set(db.session.scalars(select(Submission.deprecated_id).where(Submission.deprecated_id.in_(instance_ids))))


def chain_ids(submission_ids: Iterable[int]) -> set[int]:
    """Ids of every stored version in the edit chains of these submissions: those sharing a root with one, and any
    joined to them by a deprecatedID link (two versions of a chain stored at the same instant on PostgreSQL can
    each miss the other's root)."""
    roots = {row.root_instance_id for row in _versions(Submission.id, submission_ids)}
    rows = {row.id: row for row in _versions(Submission.root_instance_id, roots)}
    while True:
        linked = {row.id: row for row in (
            _versions(Submission.deprecated_id, {row.instance_id for row in rows.values()})
            + _versions(Submission.instance_id, {row.deprecated_id for row in rows.values() if row.deprecated_id}))
            if row.id not in rows}
        if not linked:
            return set(rows)
        rows |= linked


def _versions(column, values: Iterable) -> list[Row]:
    """The stored versions whose `column` is one of these values: id, instanceID, the one it replaces, root."""
    return [row for part in chunks(values) for row in db.session.execute(
        select(Submission.id, Submission.instance_id, Submission.deprecated_id, Submission.root_instance_id)
        .where(column.in_(part)))]


def note_failure(error: str, submission_id: int | None = None) -> int | None:
    """Count a failed attempt on this submission's entry (None: the oldest eligible one, the one that just failed);
    return its submission id."""
    entry = db.session.scalar(_oldest_eligible(MergeQueueEntry) if submission_id is None else select(
        MergeQueueEntry).where(MergeQueueEntry.submission_id == submission_id))
    if entry is None:
        return None
    entry.attempts += 1
    entry.last_error = error[:500]
    return entry.submission_id


def dequeue(*submission_ids: int) -> None:
    db.session.execute(delete(MergeQueueEntry).where(MergeQueueEntry.submission_id.in_(submission_ids)))


class StoredRecord(NamedTuple):
    """A record as it stands: its state, and where it lives (a household's group id as the "group" field holds it,
    "" for none; a person's household)."""

    state: RecordState
    group: str | None = None
    household_uuid: str | None = None


def record_states(kind: str, uuids: set[str]) -> dict[str, StoredRecord]:
    """These records of one kind as they stand, read in two statements; those not in the register are left out."""
    model = RECORD_MODELS[kind]
    place = Household.group_id if kind == "household" else Person.household_uuid
    rows = {row.uuid: row for chunk in chunks(uuids) for row in db.session.execute(
        select(model.uuid, model.version, place.label("place")).where(model.uuid.in_(chunk)))}
    history: dict[str, dict[str, tuple[FieldValue, ...]]] = {uuid: {} for uuid in rows}
    for chunk in chunks(rows):
        for value in db.session.execute(
                select(RegisterFieldValue.record_uuid, RegisterFieldValue.field, RegisterFieldValue.value,
                       RegisterFieldValue.version, RegisterFieldValue.instance_id, RegisterFieldValue.visited_at)
                .where(RegisterFieldValue.record_kind == kind, RegisterFieldValue.record_uuid.in_(chunk))
                .order_by(RegisterFieldValue.record_uuid, RegisterFieldValue.version, RegisterFieldValue.id)):
            fields = history[value.record_uuid]
            fields[value.field] = fields.get(value.field, ()) + (
                FieldValue(value.value, value.version, VisitRef(value.instance_id, _utc(value.visited_at))),)
    return {uuid: StoredRecord(RecordState(uuid=uuid, version=row.version, history=history[uuid]),
                               *(("" if row.place is None else str(row.place), None) if kind == "household"
                                 else (None, row.place)))
            for uuid, row in rows.items()}


def update_records(kind: str, records: list[tuple[str, dict[str, str], int]]) -> None:
    """Write the current rows of these records, in the register already: (uuid, values, version); one
    executemany for the records whose values fill the same columns."""
    table = RECORD_MODELS[kind].__table__
    alike: dict[tuple[str, ...], list[dict]] = {}
    for uuid, values, version in records:
        columns = record_columns(kind, uuid, values, version)
        del columns["uuid"]
        alike.setdefault(tuple(columns), []).append(dict(columns, record_uuid=uuid))
    for rows in alike.values():
        db.session.execute(update(table).where(table.c.uuid == bindparam("record_uuid")), rows)


def record_place(kind: str, values: dict[str, str], place: str | None) -> str | None:
    """Where a record lives once written with these values (StoredRecord.group or .household_uuid; `place`:
    before, None for a new record: a field a record's values leave out keeps its column)."""
    if kind == "household":
        return str(record_columns(kind, "", values, 0)["group_id"]) if "group" in values else (place or "")
    return values["household"] if "household" in values else place


def record_columns(kind: str, uuid: str, values: dict[str, str], version: int) -> dict[str, object]:
    """A record's current values as its row's columns (fields without a column live in the history only)."""
    names = _RECORD_COLUMNS[kind]
    person = kind == "person"
    columns: dict[str, object] = {"uuid": uuid, "version": version}
    for name, value in values.items():
        if person and name == "household":
            columns["household_uuid"] = value
        elif not person and name == "group":
            columns["group_id"] = int(value)
        elif person and name == "tier":
            columns["tier"] = value or None
        elif name in names and name not in columns:
            columns[name] = value
    return columns


def bulk_insert(model, rows: list[dict]) -> None:
    """Insert many rows of one table: COPY on PostgreSQL (several times faster than multi-row INSERT for the
    rebuild's millions of field values), executemany on SQLite. Columns missing from a row are NULL; columns no row
    names take their defaults."""
    if not rows:
        return
    columns = list(dict.fromkeys(column for row in rows for column in row))
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(model.__table__), [{column: row.get(column) for column in columns} for row in rows])
        return
    names = ", ".join(f'"{column}"' for column in columns)
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f'COPY "{model.__tablename__}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([row.get(column) for column in columns])


def field_value_row(kind: str, uuid: str, name: str, value: FieldValue, *, submission_id: int | None,
                    decision_id: int | None) -> dict:
    return dict(record_kind=kind, record_uuid=uuid, field=name, value=value.value, version=value.version,
                submission_id=submission_id, decision_id=decision_id, instance_id=value.visit.instance_id,
                visited_at=_utc(value.visit.visited_at))


def add_field_values(rows: list[dict]) -> None:
    if rows:
        bulk_insert(RegisterFieldValue, rows)


def event_row(person_uuid: str, event, submission_id: int | None, decision_id: int | None = None, *,
              group_id: int | None = None, destination_id: int | None = None) -> dict:
    """A life event's row: `group_id` the group the person lived in when it happened; a move's destination is
    kept by its area's id (`destination_id`: destination_area of event.destination; docs/moves.md)."""
    return dict(person_uuid=person_uuid, kind=event.kind, event_date=event.date, place=event.place,
                spouse_name=event.spouse_name, submission_id=submission_id, decision_id=decision_id,
                group_id=group_id, destination_id=destination_id)


class DestinationArea(NamedTuple):
    """A village or town a person may move to."""

    id: int
    path: str


def destination_area(full_name: str) -> DestinationArea | None:
    """The village or town of that full name ("青山镇/西村"); None: no such village or town here."""
    row = db.session.execute(select(Area.id, Area.path).where(Area.full_name == full_name,
                                                              Area.kind.in_(("village", "town")))).first()
    return DestinationArea(row.id, row.path) if row else None


def last_move_destination(person_uuid: str) -> int | None:
    """The destination (an area id) of a person's last move out as stored; None: none, or not a known place."""
    return db.session.scalar(select(LifeEventRecord.destination_id)
                             .where(LifeEventRecord.person_uuid == person_uuid, LifeEventRecord.kind == "moved_out")
                             .order_by(LifeEventRecord.id.desc()).limit(1))


def open_departure_path(person_uuid: str) -> str | None:
    """Where a person who moved out is expected: the path of their last move's destination, while they are
    recorded as moved away (None: not moved away, or to a place outside the register)."""
    row = db.session.execute(
        select(LifeEventRecord.destination_id).join(Person, Person.uuid == LifeEventRecord.person_uuid)
        .where(LifeEventRecord.person_uuid == person_uuid, LifeEventRecord.kind == "moved_out",
               Person.residence == "moved_away")
        .order_by(LifeEventRecord.id.desc()).limit(1)).first()
    area = area_path(row.destination_id) if row is not None and row.destination_id is not None else None
    return area.path if area is not None else None


def anchor_row(person_uuid: str, anchor, submission_id: int) -> dict:
    return dict(person_uuid=person_uuid, kind=anchor.kind, anchor_date=anchor.date, submission_id=submission_id)


def conflict_row(conflict) -> dict:
    return dict(record_uuid=conflict.uuid, field=conflict.field, value=conflict.value,
                instance_id=conflict.visit.instance_id, other_value=conflict.other_value,
                other_instance_id=conflict.other_visit.instance_id, state="open")


def settle_stored_conflict(row: dict) -> bool:
    """The stored side of stores.settle_conflict: the open conflicts of the row's record and field now point
    at its winner, the winner's own row goes, and True if an open row for its losing value is already stored."""
    same_field = (RegisterConflict.record_uuid == row["record_uuid"], RegisterConflict.field == row["field"],
                  RegisterConflict.state == "open")
    db.session.execute(delete(RegisterConflict).where(*same_field, RegisterConflict.other_value == row["value"])
                       .execution_options(synchronize_session=False))
    db.session.execute(update(RegisterConflict).where(*same_field).values(value=row["value"],
                                                                          instance_id=row["instance_id"])
                       .execution_options(synchronize_session=False))
    return db.session.execute(update(RegisterConflict).where(*same_field, RegisterConflict.other_value ==
                                                             row["other_value"])
                              .values(other_instance_id=row["other_instance_id"])
                              .execution_options(synchronize_session=False)).rowcount > 0


def visit_row(submission_id: int, *, visited_at: dt.datetime | None, refusal: str | None = None, **values) -> dict:
    return dict(submission_id=submission_id, visited_at=_utc(visited_at), refusal=refusal, **values)


def service_item_row(submission_id: int, instance_id: str, household_uuid: str | None, visit_date: dt.date | None,
                     visited_at: dt.datetime | None, item: ServiceItem) -> dict:
    return dict(submission_id=submission_id, seq=item.seq, item_key=item_key(instance_id, item.seq), kind=item.kind,
                household_uuid=household_uuid, person_uuid=item.person_uuid, person_name=item.person_name,
                visit_date=visit_date, visited_at=_utc(visited_at), code=item.code, quantity=item.quantity,
                quantity_text=item.quantity_text, given=item.given, place=item.place, text=item.text,
                detail=item.detail, consent=item.consent, refers_to=item.refers_to,
                problems=" ".join(item.problems) or None)


def add_rows(events: list[dict] = (), conflicts: list[dict] = (), visits: list[dict] = (), anchors: list[dict] = (),
             submission_records: list[dict] = (), service_items: list[dict] = ()) -> None:
    """Insert derived rows in bulk (one bulk insert per table)."""
    for model, rows in ((LifeEventRecord, events), (RegisterConflict, conflicts), (Visit, visits),
                        (ServiceAnchor, anchors), (SubmissionRecord, submission_records),
                        (ServiceItemRecord, service_items)):
        if rows:
            bulk_insert(model, list(rows))


def add_records(kind: str, records: list[tuple[str, dict[str, str], int]]) -> None:
    """Insert current rows of records replayed from nothing: (uuid, values, version)."""
    if records:
        model = RECORD_MODELS[kind]
        rows = [record_columns(kind, uuid, values, version) for uuid, values, version in records]
        bulk_insert(model, rows)


def refusals(submission_ids: set[int]) -> dict[int, str | None]:
    """For each of these submissions merged into the register: why it was refused (None: it was merged)."""
    if not submission_ids:
        return {}
    return dict(db.session.execute(select(Visit.submission_id, Visit.refusal)
                                   .where(Visit.submission_id.in_(submission_ids))).all())


def created_by(kind: str, uuid: str) -> int | None:
    """The submission that created a record (stated its first version), if one did."""
    return db.session.scalar(select(RegisterFieldValue.submission_id).where(
        RegisterFieldValue.record_kind == kind, RegisterFieldValue.record_uuid == uuid,
        RegisterFieldValue.version == 1, RegisterFieldValue.submission_id.is_not(None)).limit(1))


def submissions_touching(uuids: set[str], *, up_to: int | None = None) -> set[int]:
    """Ids of the submissions that name any of these records (as written on the phone); `up_to`: only those up to
    that id."""
    if not uuids:
        return set()
    query = select(SubmissionRecord.submission_id).where(SubmissionRecord.record_uuid.in_(uuids))
    if up_to is not None:
        query = query.where(SubmissionRecord.submission_id <= up_to)
    return set(db.session.scalars(query))


def forget_records(uuids: set[str], submission_ids: set[int]) -> None:
    """Remove what is derived for these records, so they can be replayed from their submissions."""
    db.session.execute(delete(RegisterFieldValue).where(RegisterFieldValue.record_uuid.in_(uuids)))
    db.session.execute(delete(LifeEventRecord).where(LifeEventRecord.person_uuid.in_(uuids)))
    db.session.execute(delete(ServiceAnchor).where(ServiceAnchor.person_uuid.in_(uuids)))
    db.session.execute(delete(RegisterConflict).where(RegisterConflict.record_uuid.in_(uuids)))
    db.session.execute(delete(Person).where(Person.uuid.in_(uuids)))
    db.session.execute(delete(Household).where(Household.uuid.in_(uuids)))
    db.session.execute(delete(PersonMatchKey).where(PersonMatchKey.person_uuid.in_(uuids)))
    db.session.execute(delete(Visit).where(Visit.submission_id.in_(submission_ids)))
    db.session.execute(delete(ServiceItemRecord).where(ServiceItemRecord.submission_id.in_(submission_ids)))
    db.session.execute(delete(SubmissionRecord).where(SubmissionRecord.submission_id.in_(submission_ids)))


DERIVED_MODELS = (RegisterFieldValue, LifeEventRecord, ServiceAnchor, RegisterConflict, Visit, ServiceItemRecord,
                  SubmissionRecord, PersonMatchKey, Person, Household, ScheduleSummary)
"""The tables a replay derives from the submissions and decisions (with the schedule summary, which a full rebuild
works out again: server.register.summaries)."""


def forget_everything() -> None:
    """Remove the whole derived register and empty the merge queue (not the decisions, nor the review queue: people
    made those)."""
    for model in (*DERIVED_MODELS, MergeQueueEntry):
        db.session.execute(delete(model))


def purged_records(uuids: set[str] | None = None) -> PurgedRecords:
    """The tombstones of purged records (sync.retention), as every replay reads them; `uuids`: only those of these
    records (the live merge: the uuids a visit names and those they resolve to — one index look-up a visit)."""
    if uuids is not None and not uuids:
        return PurgedRecords()
    query = select(PurgedRecord.uuid, PurgedRecord.rule, PurgedRecord.after_submission_id)
    if uuids is not None:
        query = query.where(PurgedRecord.uuid.in_(uuids))
    return PurgedRecords([Tombstone(row.uuid, row.rule, row.after_submission_id)
                          for row in db.session.execute(query)])


def submission_rows(ids: set[int] | None = None) -> list[StoredSubmission]:
    """Submissions as a replay reads them (with the group they were collected in), in arrival order."""
    query = (select(Submission.id, Submission.xml, Submission.instance_id, Submission.deprecated_id,
                    Submission.area_id).order_by(Submission.id))
    if ids is not None:
        query = query.where(Submission.id.in_(ids))
    return [StoredSubmission(r.id, bytes(r.xml), r.instance_id, r.deprecated_id, r.area_id)
            for r in db.session.execute(query)]


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
            "anchors": sorted((r.person_uuid, r.kind, str(r.anchor_date), r.submission_id)
                              for r in db.session.scalars(select(ServiceAnchor))),
            "conflicts": sorted((r.record_uuid, r.field, r.value, r.other_value, r.state)
                                for r in db.session.scalars(select(RegisterConflict)))}


# ---- decisions ------------------------------------------------------------------------------------------------

MERGE_KINDS = tuple(name for name, kind in DECISION_KINDS.items() if kind.joins_records)
_VISIT_TAKEN_OUT = tuple(name for name, kind in DECISION_KINDS.items() if kind.takes_visit_out)
_AUTOMATIC_KINDS = tuple(name for name, kind in DECISION_KINDS.items() if kind.automatic)
_ALWAYS_REPLAYED = tuple(name for name, kind in DECISION_KINDS.items() if kind.always_replayed)


def merged_into(uuids: set[str]) -> dict[str, str]:
    """For each of these uuids merged away by a decision in force: the uuid it was merged into (one step)."""
    if not uuids:
        return {}
    rows = db.session.execute(select(RegisterDecision.subject_uuid, RegisterDecision.target).where(
        RegisterDecision.kind.in_(MERGE_KINDS), RegisterDecision.undone_at.is_(None),
        RegisterDecision.subject_uuid.in_(uuids)))
    return {row.subject_uuid: row.target for row in rows}


def merged_away_into(uuids: set[str]) -> set[str]:
    """The uuids merged into these records by decisions in force, at any depth (not these uuids themselves): the
    uuids a phone may have written for them."""
    found, pending = set(), set(uuids)
    while pending:
        pending = set(db.session.scalars(select(RegisterDecision.subject_uuid).where(
            RegisterDecision.kind.in_(MERGE_KINDS), RegisterDecision.undone_at.is_(None),
            RegisterDecision.target.in_(pending)))) - found - uuids
        found |= pending
    return found


def decisions_naming(uuids: set[str]) -> list[RegisterDecision]:
    """Every decision (in force or undone) whose subject or kept record is one of these uuids."""
    return list(db.session.scalars(select(RegisterDecision).where(
        RegisterDecision.subject_uuid.in_(uuids) | RegisterDecision.target.in_(uuids)).order_by(RegisterDecision.id)))


def decisions_in_force(ids: set[int] | None = None) -> list[RegisterDecision]:
    query = select(RegisterDecision).where(RegisterDecision.undone_at.is_(None)).order_by(RegisterDecision.id)
    if ids is not None:
        query = query.where(RegisterDecision.id.in_(ids))
    return list(db.session.scalars(query))


def rejections_of(submission_ids: set[int]) -> list[RegisterDecision]:
    """Rejections in force of these submissions."""
    if not submission_ids:
        return []
    return list(db.session.scalars(select(RegisterDecision).where(
        RegisterDecision.kind.in_(_VISIT_TAKEN_OUT), RegisterDecision.undone_at.is_(None),
        RegisterDecision.subject_uuid.in_([str(i) for i in submission_ids]))))


def always_replayed() -> list[RegisterDecision]:
    """The decisions in force every partial replay applies (sync.decisions.DecisionKind.always_replayed)."""
    return list(db.session.scalars(select(RegisterDecision).where(
        RegisterDecision.kind.in_(_ALWAYS_REPLAYED), RegisterDecision.undone_at.is_(None))
        .order_by(RegisterDecision.id)))


def decision(decision_id: int) -> RegisterDecision | None:
    return db.session.get(RegisterDecision, decision_id)


def decision_by_uuid(uuid: str) -> RegisterDecision | None:
    return db.session.scalar(select(RegisterDecision).where(RegisterDecision.uuid == uuid))


def automatic_merge(merged_uuid: str, kept_uuid: str) -> RegisterDecision | None:
    """This server's own automatic merge of a pair of people, in force."""
    return db.session.scalar(select(RegisterDecision).where(
        RegisterDecision.kind.in_(_AUTOMATIC_KINDS), RegisterDecision.subject_uuid == merged_uuid,
        RegisterDecision.target == kept_uuid, RegisterDecision.decided_by.is_(None),
        RegisterDecision.undone_at.is_(None)))


def merged_through(submission_id: int) -> bool:
    """Whether every submission up to this id is merged (none waits in the queue; one given up on does not count)."""
    return db.session.scalar(select(MergeQueueEntry.submission_id).where(
        MergeQueueEntry.submission_id <= submission_id, MergeQueueEntry.attempts < MAX_ATTEMPTS).limit(1)) is None


def add_decision(**values) -> RegisterDecision:
    row = RegisterDecision(**values)
    db.session.add(row)
    db.session.flush()
    return row


def people_ever_in(household_uuids: set[str]) -> set[str]:
    """People whose household was, at any version, one of these households."""
    if not household_uuids:
        return set()
    return set(db.session.scalars(select(RegisterFieldValue.record_uuid).where(
        RegisterFieldValue.record_kind == "person", RegisterFieldValue.field == "household",
        RegisterFieldValue.value.in_(household_uuids))))


def last_merged_submission_id() -> int:
    """The newest submission already merged: where a decision made now sits in arrival order."""
    queued = select(MergeQueueEntry.submission_id)
    return db.session.scalar(select(func.max(Submission.id)).where(Submission.id.not_in(queued))) or 0


# ---- areas of records ------------------------------------------------------------------------------------------

_group = aliased(Area)


class HouseholdArea(NamedTuple):
    group_id: int
    village_id: int
    group_path: str


def household_area(household_uuid: str) -> HouseholdArea | None:
    """The group and village of a household in the register."""
    row = db.session.execute(select(_group.id, _group.parent_id, _group.path)
                             .join(Household, Household.group_id == _group.id)
                             .where(Household.uuid == household_uuid)).first()
    return HouseholdArea(row.id, row.parent_id, row.path) if row else None


def household_group(household_uuid: str) -> str | None:
    """The group id (as the register's "group" field holds it) of a household; None when not in the register."""
    row = db.session.execute(select(Household.group_id).where(Household.uuid == household_uuid)).first()
    return None if row is None else ("" if row.group_id is None else str(row.group_id))


def area_path(area_id: int):
    """The kind and path of an area (a row with .kind and .path), or None."""
    return db.session.execute(select(Area.kind, Area.path).where(Area.id == area_id)).first()


def household_rows(uuids: set[str]):
    """uuid, group, village, number and address of these households."""
    return db.session.execute(select(Household.uuid, Household.group_id, _group.parent_id.label("village_id"),
                                     Household.household_no, Household.address)
                              .join(_group, _group.id == Household.group_id).where(Household.uuid.in_(uuids))).all()


def households_numbered_alike(household_uuid: str) -> list[str]:
    """Other households of the same group with the same household number."""
    other = aliased(Household)
    return list(db.session.scalars(select(other.uuid).join(Household, (Household.group_id == other.group_id)
                                                           & (Household.household_no == other.household_no))
                                   .where(Household.uuid == household_uuid, other.uuid != household_uuid)
                                   .order_by(other.uuid)))


def any_household() -> bool:
    return db.session.scalar(select(Household.uuid).limit(1)) is not None


def person_exists(uuid: str) -> bool:
    return db.session.get(Person, uuid) is not None


def household_of(person_uuid: str) -> str | None:
    return db.session.scalar(select(Person.household_uuid).where(Person.uuid == person_uuid))


# ---- duplicate detection -----------------------------------------------------------------------------------------

_PERSON_IDENTITY = (select(Person.uuid, Person.household_uuid, Person.name, Person.sex, Person.birth_date,
                           Person.id_number, Person.phone, _group.parent_id.label("village_id"))
                    .join(Household, Household.uuid == Person.household_uuid)
                    .join(_group, _group.id == Household.group_id))


def identity_rows(uuids: set[str] | None = None, *, village_id: int | None = None):
    """What identifies people in the register, with their village: one filter or the other."""
    query = _PERSON_IDENTITY
    if uuids is not None:
        query = query.where(Person.uuid.in_(uuids))
    if village_id is not None:
        query = query.where(_group.parent_id == village_id)
    return db.session.execute(query).all()


def villages_with_people() -> list[int]:
    return list(db.session.scalars(select(_group.parent_id).join(Household, Household.group_id == _group.id)
                                   .distinct().order_by(_group.parent_id)))


def set_match_keys(keys: dict[str, tuple[int | None, list[str]]]) -> None:
    """Replace these people's match keys (person uuid → their village and keys; no village: none): the keys they
    hold are read, and only those that change are deleted and inserted (most changes, a phone number corrected,
    change none)."""
    if not keys:
        return
    wanted = {(uuid, key, village_id) for uuid, (village_id, found) in keys.items() if village_id is not None
              for key in found}
    held = {tuple(row) for chunk in chunks(keys) for row in db.session.execute(
        select(PersonMatchKey.person_uuid, PersonMatchKey.key, PersonMatchKey.village_id)
        .where(PersonMatchKey.person_uuid.in_(chunk)))}
    for chunk in chunks((uuid, key) for uuid, key, _ in held - wanted):
        db.session.execute(delete(PersonMatchKey).where(tuple_(PersonMatchKey.person_uuid, PersonMatchKey.key)
                                                        .in_(chunk)))
    rows = [dict(person_uuid=uuid, key=key, village_id=village_id) for uuid, key, village_id in sorted(wanted - held)]
    if rows:
        db.session.execute(insert(PersonMatchKey), rows)


def replace_match_keys(rows: list[dict], villages: list[int] | None = None) -> None:
    """Replace the index for whole villages (None: everywhere) with these rows."""
    query = delete(PersonMatchKey)
    if villages is not None:
        query = query.where(PersonMatchKey.village_id.in_(villages))
    db.session.execute(query)
    if rows:
        bulk_insert(PersonMatchKey, rows)


def people_sharing_keys(people: dict[str, tuple[int, list[str]]], *, largest_block: int) -> dict[str, set[str]]:
    """For each of these people (uuid → their village and keys): the others of their village sharing one of their
    keys, leaving out keys held by more than `largest_block` + 1 people of the village (placeholders, as the full
    scan leaves them out); one statement for them all (a few hundred keys)."""
    villages = sorted({village for village, _ in people.values()})
    holders: dict[tuple[int, str], set[str]] = {}
    for chunk in chunks({key for _, keys in people.values() for key in keys}):
        leads = (select(PersonMatchKey.village_id, PersonMatchKey.key)
                 .where(PersonMatchKey.village_id.in_(villages), PersonMatchKey.key.in_(chunk))
                 .group_by(PersonMatchKey.village_id, PersonMatchKey.key)
                 .having(func.count() <= largest_block + 1).subquery())
        for row in db.session.execute(
                select(PersonMatchKey.village_id, PersonMatchKey.key, PersonMatchKey.person_uuid)
                .join(leads, and_(leads.c.village_id == PersonMatchKey.village_id, leads.c.key == PersonMatchKey.key))):
            holders.setdefault((row.village_id, row.key), set()).add(row.person_uuid)
    return {uuid: set().union(*(holders.get((village, key), ()) for key in keys)) - {uuid}
            for uuid, (village, keys) in people.items()}


def candidate(candidate_id: int) -> DuplicateCandidate | None:
    return db.session.get(DuplicateCandidate, candidate_id)


def candidate_for_pair(kind: str, a_uuid: str, b_uuid: str) -> DuplicateCandidate | None:
    return db.session.scalar(select(DuplicateCandidate).where(
        DuplicateCandidate.record_kind == kind, DuplicateCandidate.a_uuid == a_uuid,
        DuplicateCandidate.b_uuid == b_uuid))


def add_candidate(**values) -> DuplicateCandidate:
    row = DuplicateCandidate(**values)
    db.session.add(row)
    db.session.flush()
    return row


def open_candidates(village_path: str | None = None, *, offset: int = 0, limit: int | None = None) -> list[Row]:
    """Open candidates whose two records are both still in the register, best first; in an area, if given, where
    both records are now (a record may have moved away since the pair was found); `limit` of them from `offset`.
    Named rows with the columns of DuplicateCandidate."""
    found = _open_candidates(village_path)
    query = select(found).order_by(found.c.score.desc(), found.c.id)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return db.session.execute(query).all()


def count_open_candidates(village_path: str | None = None) -> int:
    """How many open candidates open_candidates would list."""
    return db.session.scalar(select(func.count()).select_from(_open_candidates(village_path)))


def _open_candidates(village_path: str | None):
    """The open candidates of an area whose records are both in it now, as a subquery of DuplicateCandidate's
    columns: each record joined to the group it is in now (by its primary key: one row or none), so only the open
    pairs are looked at, by index, not every record of the area."""
    kinds = []
    for kind in RECORD_MODELS:
        query = (_columns_of(DuplicateCandidate).join(Area, Area.id == DuplicateCandidate.village_id)
                 .where(DuplicateCandidate.state == "open", DuplicateCandidate.record_kind == kind,
                        DuplicateCandidate.departed_uuid.is_(None)))
        for uuid_column in (DuplicateCandidate.a_uuid, DuplicateCandidate.b_uuid):
            household, group = aliased(Household), aliased(Area)
            if kind == "person":
                person = aliased(Person)
                query = (query.join(person, person.uuid == uuid_column)
                         .join(household, household.uuid == person.household_uuid))
            else:
                query = query.join(household, household.uuid == uuid_column)
            query = query.join(group, group.id == household.group_id)
            if village_path is not None:
                query = query.where(group.path.startswith(village_path))
        if village_path is not None:
            query = query.where(Area.path.startswith(village_path))
        kinds.append(query)
    # Move pairs (sync.arrivals): the arrival in the area, the one who moved out still recorded as moved away
    # (anywhere: their record is not the reader's).
    for departed_column, arrival_column in ((DuplicateCandidate.a_uuid, DuplicateCandidate.b_uuid),
                                            (DuplicateCandidate.b_uuid, DuplicateCandidate.a_uuid)):
        arrival, departed, household, group = aliased(Person), aliased(Person), aliased(Household), aliased(Area)
        query = (_columns_of(DuplicateCandidate).join(Area, Area.id == DuplicateCandidate.village_id)
                 .join(arrival, arrival.uuid == arrival_column)
                 .join(household, household.uuid == arrival.household_uuid)
                 .join(group, group.id == household.group_id)
                 .join(departed, departed.uuid == departed_column)
                 .where(DuplicateCandidate.state == "open", DuplicateCandidate.departed_uuid == departed_column,
                        departed.residence == "moved_away"))
        if village_path is not None:
            query = query.where(Area.path.startswith(village_path), group.path.startswith(village_path))
        kinds.append(query)
    return union_all(*kinds).subquery()


def decided_against(candidate_id: int) -> bool:
    """Whether a merge of this candidate was undone: a person said no, so it is never merged automatically again."""
    return db.session.scalar(select(RegisterDecision.id).where(
        RegisterDecision.candidate_id == candidate_id, RegisterDecision.undone_at.is_not(None)).limit(1)) is not None


def reopen_candidate(candidate_id: int) -> None:
    db.session.execute(update(DuplicateCandidate).where(DuplicateCandidate.id == candidate_id)
                       .values(state="open", decided_by=None, decided_at=None))


# ---- staff pages ------------------------------------------------------------------------------------------------
# The lists below are read as named rows (every column of the table), not as ORM objects: a page commits its audit
# record before it renders, and a commit expires every object the session holds, so each object a template then
# touched was read again, one statement each (300 groups in the inbox's menu, 900 for the duplicate queue).


def _columns_of(model):
    """Every column of a model's table, as a named row's fields (the same names as the model's attributes)."""
    return select(*model.__table__.c)


class PlacedRecord(NamedTuple):
    """A person or household of the register with where they are."""

    household: Household
    group: Area
    person: Person | None = None


def person_page_rows(uuid: str) -> PlacedRecord | None:
    """A person in the register with their household and group, or None."""
    row = db.session.execute(select(Person, Household, Area).join(Household, Household.uuid == Person.household_uuid)
                             .join(Area, Area.id == Household.group_id).where(Person.uuid == uuid)).first()
    return None if row is None else PlacedRecord(household=row.Household, group=row.Area, person=row.Person)


def household_page_rows(uuid: str) -> PlacedRecord | None:
    """A household in the register with its group, or None."""
    row = db.session.execute(select(Household, Area).join(Area, Area.id == Household.group_id)
                             .where(Household.uuid == uuid)).first()
    return None if row is None else PlacedRecord(household=row.Household, group=row.Area)


def members(household_uuid: str) -> list[Person]:
    return list(db.session.scalars(select(Person).where(Person.household_uuid == household_uuid)
                                   .order_by(Person.relationship != "head", Person.birth_date, Person.uuid)))


def history(kind: str, uuid: str) -> list[RegisterFieldValue]:
    return list(db.session.scalars(select(RegisterFieldValue).where(
        RegisterFieldValue.record_kind == kind, RegisterFieldValue.record_uuid == uuid)
        .order_by(RegisterFieldValue.version, RegisterFieldValue.id)))


def life_events(person_uuid: str) -> list[LifeEventRecord]:
    return list(db.session.scalars(select(LifeEventRecord).where(LifeEventRecord.person_uuid == person_uuid)
                                   .order_by(LifeEventRecord.event_date, LifeEventRecord.id)))


def event_group_id(household=Household):
    """SQL: the group a life event happened in: the one it keeps (life_event.group_id: the group the person lived
    in then), else (nothing known then) the group of the person's `household` now (docs/moves.md)."""
    return func.coalesce(LifeEventRecord.group_id, household.group_id)


def event_in_area(area_path: str | None):
    """SQL: a condition that a life event happened in one of an area's groups (event_group_id inside the area),
    which the statement joining on event_group_id() must also check: it lets PostgreSQL find the area's events by
    index from its groups (those that keep their group, then those that do not by the group of the person's
    household now) instead of placing every event of the county to keep a village's (no index serves a coalesce).
    The whole county (None or "/"): no condition, every event is read anyway."""
    if area_path is None or area_path == "/":
        return true()
    group = aliased(Area)
    kept = (select(LifeEventRecord.id).join(group, group.id == LifeEventRecord.group_id)
            .where(inside_area(group.path, area_path)))
    by_household = (select(LifeEventRecord.id).join(Person, Person.uuid == LifeEventRecord.person_uuid)
                    .join(Household, Household.uuid == Person.household_uuid)
                    .join(group, group.id == Household.group_id)
                    .where(LifeEventRecord.group_id.is_(None), inside_area(group.path, area_path)))
    return LifeEventRecord.id.in_(union_all(kept, by_household))


def event_household_uuid(group_id, household=Household, person=Person):
    """SQL: the household the person of a life event lived in when it happened: their `household` now when it is
    in the event's group, else the last household of that group the register recorded them in (a person who has
    moved since); None: none."""
    then = aliased(Household)
    earlier = (select(RegisterFieldValue.value).join(then, then.uuid == RegisterFieldValue.value)
               .where(RegisterFieldValue.record_kind == "person", RegisterFieldValue.field == "household",
                      RegisterFieldValue.record_uuid == LifeEventRecord.person_uuid, then.group_id == group_id)
               .order_by(RegisterFieldValue.version.desc(), RegisterFieldValue.id.desc()).limit(1)
               .correlate_except(RegisterFieldValue, then).scalar_subquery())
    return case((household.group_id == group_id, person.household_uuid), else_=earlier)


def departure_group_id():
    """SQL, for a move in: the group of the person's move out before it (their latest, by day and order), the
    village they left; None: none recorded (they came from outside the register)."""
    left = aliased(LifeEventRecord)
    return (select(left.group_id)
            .where(left.person_uuid == LifeEventRecord.person_uuid, left.kind == "moved_out",
                   LifeEventRecord.kind == "moved_in",
                   or_(left.event_date < LifeEventRecord.event_date,
                       and_(left.event_date == LifeEventRecord.event_date, left.id < LifeEventRecord.id)))
            .order_by(left.event_date.desc(), left.id.desc()).limit(1)
            .correlate_except(left).scalar_subquery())


def area_full_names(area_ids: Iterable[int | None]) -> dict[int, str]:
    """area id → full name, for these ids."""
    found: dict[int, str] = {}
    for chunk in chunks(area_id for area_id in area_ids if area_id is not None):
        found.update(db.session.execute(select(Area.id, Area.full_name).where(Area.id.in_(chunk))).all())
    return found


def visits_to(household_uuid: str | None = None, person_uuid: str | None = None) -> list[Visit]:
    query = select(Visit).order_by(Visit.visited_at.desc(), Visit.submission_id.desc())
    query = query.where(Visit.person_uuid == person_uuid) if person_uuid else query.where(
        Visit.household_uuid == household_uuid)
    return list(db.session.scalars(query))


def merges_kept_in(uuid: str) -> list[RegisterDecision]:
    """Merge decisions in force that folded another record into this one (the ones an unmerge can undo)."""
    return list(db.session.scalars(select(RegisterDecision).where(
        RegisterDecision.target == uuid, RegisterDecision.kind.in_(MERGE_KINDS),
        RegisterDecision.undone_at.is_(None)).order_by(RegisterDecision.id)))


def people_by_uuid(uuids: set[str]) -> dict[str, Row]:
    """People's rows (named rows with the columns of Person) by uuid."""
    return {person.uuid: person for person in db.session.execute(_columns_of(Person).where(Person.uuid.in_(uuids)))}


def households_by_uuid(uuids: set[str]) -> dict[str, Row]:
    """Households' rows (named rows with the columns of Household) by uuid."""
    return {row.uuid: row for row in db.session.execute(_columns_of(Household).where(Household.uuid.in_(uuids)))}


class SubmissionLabel(NamedTuple):
    """What names a submission for people: its form, when it was filled in (or received), who filled it in."""

    submission_id: int
    xml_form_id: str
    form_title: str | None
    visit_date: dt.date | None
    visited_at: dt.datetime | None
    received_at: dt.datetime
    collector: str | None      # the collector's display name (or user name)


def submission_labels(ids: set[int]) -> dict[int, SubmissionLabel]:
    """Submissions by id, with what names them for people."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(Submission.id, Form.xml_form_id, Form.title, Visit.visit_date, Visit.visited_at, Submission.received_at,
               Submission.collector_name, User.display_name)
        .join(Form, Form.id == Submission.form_id).outerjoin(Visit, Visit.submission_id == Submission.id)
        .outerjoin(User, User.username == Submission.collector_name).where(Submission.id.in_(ids)))
    return {row.id: SubmissionLabel(row.id, row.xml_form_id, row.title, row.visit_date, _utc(row.visited_at),
                                    _utc(row.received_at), row.display_name or row.collector_name) for row in rows}


def submissions_by_instance(instance_ids: set[str]) -> dict[str, int]:
    """Submission ids by instanceID."""
    if not instance_ids:
        return {}
    return dict(db.session.execute(select(Submission.instance_id, Submission.id)
                                   .where(Submission.instance_id.in_(instance_ids))).all())


def last_values(uuids: set[str], field: str) -> dict[str, str]:
    """The newest value of a field in these records' history: also of records merged away since."""
    if not uuids:
        return {}
    rows = db.session.execute(select(RegisterFieldValue.record_uuid, RegisterFieldValue.value).where(
        RegisterFieldValue.record_uuid.in_(uuids), RegisterFieldValue.field == field)
        .order_by(RegisterFieldValue.version, RegisterFieldValue.id))
    return {row.record_uuid: row.value for row in rows}


def decisions_by_id(ids: set[int]) -> dict[int, RegisterDecision]:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(RegisterDecision).where(RegisterDecision.id.in_(ids)))}


def display_names(user_ids: set[int]) -> dict[int, str]:
    """Users' display names (or user names) by id."""
    if not user_ids:
        return {}
    return {row.id: row.display_name or row.username for row in db.session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(user_ids)))}


def group_names(group_ids: set[int]) -> dict[int, str]:
    """Areas' full names by id."""
    if not group_ids:
        return {}
    return dict(db.session.execute(select(Area.id, Area.full_name).where(Area.id.in_(group_ids))).all())


def conflict(conflict_id: int) -> RegisterConflict | None:
    return db.session.get(RegisterConflict, conflict_id)


class OpenConflict(NamedTuple):
    conflict: Row                  # a named row with the columns of RegisterConflict
    record_name: str       # the person's name or the household's number
    group_name: str        # the group's full name
    record_kind: str       # "person" or "household"


def open_conflicts(area_path: str | None) -> list[OpenConflict]:
    """Open conflicts of people and households in an area, oldest first."""
    person_group = (_columns_of(RegisterConflict).add_columns(Person.name.label("record_name"),
                                                              Area.full_name.label("group_name"))
                    .join(Person, Person.uuid == RegisterConflict.record_uuid)
                    .join(Household, Household.uuid == Person.household_uuid)
                    .join(Area, Area.id == Household.group_id))
    household_group = (_columns_of(RegisterConflict).add_columns(Household.household_no.label("record_name"),
                                                                 Area.full_name.label("group_name"))
                       .join(Household, Household.uuid == RegisterConflict.record_uuid)
                       .join(Area, Area.id == Household.group_id))
    found = []
    for record_kind, query in (("person", person_group), ("household", household_group)):
        query = query.where(RegisterConflict.state == "open")
        if area_path is not None:
            query = query.where(Area.path.startswith(area_path))
        found += [OpenConflict(row, row.record_name or "", row.group_name, record_kind)
                  for row in db.session.execute(query)]
    return sorted(found, key=lambda item: item.conflict.id)


def submission_area_path(submission_id: int) -> str | None:
    """The path of the group a submission was collected in."""
    return db.session.scalar(select(Area.path).join(Submission, Submission.area_id == Area.id)
                             .where(Submission.id == submission_id))


def refusal_of(submission_id: int) -> str | None:
    """Why the merge refused a visit (sync.scope.REFUSALS), or None."""
    return db.session.scalar(select(Visit.refusal).where(Visit.submission_id == submission_id))


def review_of(submission_id: int) -> VisitReview | None:
    return db.session.get(VisitReview, submission_id)


def forget_review(submission_id: int) -> None:
    db.session.execute(delete(VisitReview).where(VisitReview.submission_id == submission_id))


def save_review(submission_id: int, **values) -> None:
    review = db.session.get(VisitReview, submission_id) or VisitReview(submission_id=submission_id)
    for name, value in values.items():
        setattr(review, name, value)
    db.session.add(review)


INBOX_FORMS = ("household_visit", "followup")
"""The forms whose submissions the inbox lists."""


class InboxPage(NamedTuple):
    rows: list          # this page's rows (see inbox)
    total: int          # how many the filters find (counted up to a cap: see `more`)
    collectors: list    # (user name, display name) of the collectors the menu offers (filled in by the caller)
    people: dict        # submission id → the names of the people it is about (people_of_submissions)
    more: bool = False  # True: more than `total` match (not counted further: server.database.counted_up_to)


def visit_collectors(area_path: str | None, forms: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """(user name, display name) of the collectors who sent submissions of these forms in an area's groups: read per
    group and form as a skip scan of the index submission (area_id, form_id, collector_name) (one look-up per
    collector found), not by reading every submission of the area."""
    groups = (select(Area.id.label("area_id"), Form.id.label("form_id")).select_from(Area).join(Form, true())
              .where(Form.xml_form_id.in_(forms)))
    if area_path is not None:
        groups = groups.where(inside_area(Area.path, area_path))

    def first_after(area_id, form_id, after=None):
        query = select(func.min(Submission.collector_name)).where(Submission.area_id == area_id,
                                                                   Submission.form_id == form_id)
        return (query if after is None else query.where(Submission.collector_name > after)).scalar_subquery()

    start = groups.subquery()
    names = select(start.c.area_id, start.c.form_id,
                   first_after(start.c.area_id, start.c.form_id).label("name")).cte("names", recursive=True)
    names = names.union_all(select(names.c.area_id, names.c.form_id,
                                   first_after(names.c.area_id, names.c.form_id, names.c.name))
                            .where(names.c.name.is_not(None)))
    found = select(names.c.name).where(names.c.name.is_not(None)).distinct().subquery()
    return [(name, display) for name, display in db.session.execute(
        select(found.c.name, User.display_name).outerjoin(User, User.username == found.c.name))]


# The inbox's orders by name (the first is the default): each ends with the submission id, so pages never overlap.
INBOX_ORDERS = {
    "received": lambda: (Submission.id.desc(),),
    "received_first": lambda: (Submission.id.asc(),),
    "filled": lambda: (Visit.visit_date.desc().nulls_last(), Visit.visited_at.desc().nulls_last(), Submission.id.desc()),
    "filled_first": lambda: (Visit.visit_date.asc().nulls_last(), Visit.visited_at.asc().nulls_last(),
                             Submission.id.asc()),
    "household": lambda: (Area.full_name, Household.household_no.asc().nulls_last(), Submission.id.desc()),
    "collector": lambda: (func.coalesce(User.display_name, Submission.collector_name), Submission.id.desc()),
}


def inbox(area_path: str | None, *, group_id: int | None = None, village_id: int | None = None,
          collector: str | None = None, since=None, until=None, state: str | None = None, sort: str = "received",
          offset: int = 0, limit: int = 50) -> InboxPage:
    """Register-form submissions collected in an area, in an order of INBOX_ORDERS (newest received first), with
    their visit and review, a page at a time: (submission id, received, form, collector's user name and display
    name, group name, visit date, outcome, household uuid, its number and head, review state, comment, why the merge
    refused it). `state` "received" means not reviewed yet."""
    head = (select(Person.name).where(Person.household_uuid == Visit.household_uuid, Person.relationship == "head")
            .order_by(Person.name).limit(1).correlate(Visit).scalar_subquery())
    query = (select(Submission.id, Submission.received_at, Form.xml_form_id, Submission.collector_name,
                    User.display_name.label("collector_display_name"), Area.full_name, Visit.visit_date,
                    Visit.visited_at, Visit.outcome, Visit.household_uuid, Household.household_no,
                    head.label("head_name"), VisitReview.state, VisitReview.comment, Visit.refusal)
             .join(Form, Form.id == Submission.form_id).join(Area, Area.id == Submission.area_id)
             .outerjoin(User, User.username == Submission.collector_name)
             .outerjoin(Visit, Visit.submission_id == Submission.id)
             .outerjoin(Household, Household.uuid == Visit.household_uuid)
             .outerjoin(VisitReview, VisitReview.submission_id == Submission.id)
             .where(Form.xml_form_id.in_(INBOX_FORMS)))
    if area_path is not None:
        query = query.where(Area.path.startswith(area_path))
    if group_id is not None:
        query = query.where(Area.id == group_id)
    if village_id is not None:
        query = query.where(Area.parent_id == village_id)
    if collector:
        query = query.where(Submission.collector_name == collector)
    if since is not None:
        query = query.where(Visit.visit_date >= since)
    if until is not None:
        query = query.where(Visit.visit_date <= until)
    if state == "received":
        query = query.where(VisitReview.state.is_(None))
    elif state:
        query = query.where(VisitReview.state == state)
    # The county's inbox (millions of visits) is counted up to a cap; an area's exactly (a town's: ~100,000 index
    # entries): with a LIMIT PostgreSQL would read the whole county's submissions newest first, looking for the area's.
    total, more = (counted_up_to(query, offset, limit) if area_path is None
                   else (db.session.scalar(select(func.count()).select_from(query.subquery())), False))
    order = INBOX_ORDERS[sort]()
    if area_path is not None and sort in ("received", "received_first"):
        # Sorted after reading the area's submissions (by the groups' index), not by walking the primary key of
        # the whole county's newest first and keeping the area's: one village is 1/200 of a county, so page 50
        # walked half a million rows.
        order = (Submission.id + 0).desc() if sort == "received" else (Submission.id + 0).asc(),
    # The page's ids first (the household and its head are not joined for them: PostgreSQL drops an outer join whose
    # columns are not read, where it joined a village's 12,000 visits to the county's every household), then the
    # page's 50 rows in full by their ids.
    ids = list(db.session.scalars(query.with_only_columns(Submission.id).order_by(*order)
                                  .offset(offset or None).limit(limit)))
    found = {row.id: row for row in db.session.execute(query.where(Submission.id.in_(ids)))} if ids else {}
    rows = [found[submission_id] for submission_id in ids]
    return InboxPage(rows, total, [], people_of_submissions(row.id for row in rows), more)


def inbox_collectors(area_path: str) -> list[tuple[str, str]]:
    """(user name, display name or user name) of the collectors whose visits an area's inbox holds, by user name."""
    return sorted((name, display or name) for name, display in visit_collectors(area_path, INBOX_FORMS) if name)


def people_of_submissions(submission_ids: Iterable[int]) -> dict[int, list[str]]:
    """The names of the people each submission is about: a follow-up's person, and the people whose records it
    changed (as the register holds them now; records merged away since are left out), by name."""
    ids = set(submission_ids)
    if not ids:
        return {}
    changed = (select(RegisterFieldValue.submission_id, RegisterFieldValue.record_uuid)
               .where(RegisterFieldValue.submission_id.in_(ids), RegisterFieldValue.record_kind == "person"))
    followed = select(Visit.submission_id, Visit.person_uuid).where(Visit.submission_id.in_(ids),
                                                                     Visit.person_uuid.is_not(None))
    about = changed.union(followed).subquery()
    found: dict[int, list[str]] = {}
    for submission_id, name in db.session.execute(
            select(about.c.submission_id, Person.name).join(Person, Person.uuid == about.c.record_uuid)
            .order_by(about.c.submission_id, Person.name)):
        found.setdefault(submission_id, []).append(name)
    return found


class FieldChange(NamedTuple):
    value: Row                  # the value a submission set (a named row with the columns of RegisterFieldValue)
    before: str | None          # the field's value before it (None: new)


def changes_made_by(submission_id: int) -> list[FieldChange]:
    """What a submission changed in the register: each value it set, with the value before it."""
    earlier = aliased(RegisterFieldValue)
    before = (select(earlier.value).where(earlier.record_uuid == RegisterFieldValue.record_uuid,
                                          earlier.field == RegisterFieldValue.field,
                                          earlier.version < RegisterFieldValue.version)
              .order_by(earlier.version.desc(), earlier.id.desc()).limit(1)
              .correlate(RegisterFieldValue).scalar_subquery())
    rows = db.session.execute(_columns_of(RegisterFieldValue).add_columns(before.label("value_before"))
                              .where(RegisterFieldValue.submission_id == submission_id)
                              .order_by(RegisterFieldValue.record_uuid, RegisterFieldValue.id))
    return [FieldChange(row, row.value_before) for row in rows]


def groups_in(area_path: str | None) -> list[Row]:
    """The groups of an area (named rows with the columns of Area), by name."""
    query = _columns_of(Area).where(Area.kind == "group").order_by(Area.full_name)
    if area_path is not None:
        query = query.where(Area.path.startswith(area_path))
    return db.session.execute(query).all()


def service_item_path(key: str) -> str | None:
    """The group of a service item's household (where the visit was), or None when no such item is stored."""
    row = db.session.execute(select(Area.path).select_from(ServiceItemRecord)
                             .join(Household, Household.uuid == ServiceItemRecord.household_uuid)
                             .join(Area, Area.id == Household.group_id)
                             .where(ServiceItemRecord.item_key == key)).first()
    return row.path if row else None


# ---- arrivals and departures across villages (sync.arrivals) ---------------------------------------------------

_village, _town = aliased(Area), aliased(Area)


def _latest_event(kinds: tuple[str, ...]):
    """The id of a person's latest life event of these kinds (correlated with Person)."""
    return (select(func.max(LifeEventRecord.id)).where(LifeEventRecord.person_uuid == Person.uuid,
                                                       LifeEventRecord.kind.in_(kinds))
            .correlate(Person).scalar_subquery())


_PLACED_IDENTITY = (_PERSON_IDENTITY.add_columns(_village.name.label("village_name"),
                                                 _village.full_name.label("village_full_name"),
                                                 _village.parent_id.label("town_id"), _town.name.label("town_name"))
                    .join(_village, _village.id == _group.parent_id).outerjoin(_town, _town.id == _village.parent_id))


def departed_sharing_keys(arrivals: dict[str, tuple[list[str], int]], *, largest_block: int) -> dict[str, set[str]]:
    """For each of these people (uuid → their keys and village): the people recorded as moved away from other
    villages who share one of their keys (by the key index alone, county-wide), in one look-up for them all; a key
    more than `largest_block` people who moved away share is a placeholder and not followed."""
    rows = []
    for keys_asked in matching(PersonMatchKey.key, {key for keys, _ in arrivals.values() for key in keys}):
        rows += db.session.execute(
            select(PersonMatchKey.key, PersonMatchKey.person_uuid, PersonMatchKey.village_id)
            .join(Person, Person.uuid == PersonMatchKey.person_uuid)
            .where(keys_asked, Person.residence == "moved_away")).all()
    holders = Counter(row.key for row in rows)    # the placeholders counted here
    by_key: dict[str, list[Row]] = {}
    for row in rows:
        if holders[row.key] <= largest_block:
            by_key.setdefault(row.key, []).append(row)
    return {uuid: {row.person_uuid for key in set(keys) for row in by_key.get(key, ()) if row.village_id != village}
            for uuid, (keys, village) in arrivals.items()}


def departure_rows(uuids: set[str]) -> list[Row]:
    """Those of these people recorded as moved away, with what identifies them, the village they left (its id,
    name and full name; the town's id and name) and their latest move out (`moved_on`, `destination_id`)."""
    if not uuids:
        return []
    query = (_PLACED_IDENTITY.add_columns(LifeEventRecord.event_date.label("moved_on"), LifeEventRecord.destination_id)
             .join(LifeEventRecord, LifeEventRecord.id == _latest_event(("moved_out",)))
             .where(Person.uuid.in_(uuids), Person.residence == "moved_away"))
    return db.session.execute(query).all()


def arrival_rows(uuids: set[str], kinds: tuple[str, ...]) -> list[Row]:
    """Those of these people living in the register (not moved away, not died) whose records hold a life event of
    these kinds, with what identifies them, their village and town, and their latest such event (`arrived_on`,
    `origin`: the place as written)."""
    found = []
    for people_asked in matching(Person.uuid, uuids):
        found += db.session.execute(
            _PLACED_IDENTITY.add_columns(LifeEventRecord.event_date.label("arrived_on"),
                                         LifeEventRecord.place.label("origin"))
            .join(LifeEventRecord, LifeEventRecord.id == _latest_event(kinds))
            .where(people_asked, func.coalesce(Person.residence, "") != "moved_away",
                   func.coalesce(Person.status, "") != "died")).all()
    return found


def recent_departures(since: dt.date) -> set[str]:
    """People recorded as moved away with a move out on or after `since`, or undated (the full scan's departures;
    their latest move out is checked by the caller)."""
    return set(db.session.scalars(
        select(LifeEventRecord.person_uuid).distinct().join(Person, Person.uuid == LifeEventRecord.person_uuid)
        .where(LifeEventRecord.kind == "moved_out", Person.residence == "moved_away",
               or_(LifeEventRecord.event_date >= since, LifeEventRecord.event_date.is_(None)))))


def people_with_keys(keys: Iterable[str], *, largest_block: int) -> set[str]:
    """Everyone holding one of these match keys, in any village; a key held by more than `largest_block` people
    is a placeholder and not followed."""
    found: set[str] = set()
    for keys_asked in matching(PersonMatchKey.key, set(keys)):
        leads = (select(PersonMatchKey.key).where(keys_asked).group_by(PersonMatchKey.key)
                 .having(func.count() <= largest_block))
        found |= set(db.session.scalars(select(PersonMatchKey.person_uuid).distinct()
                                        .where(PersonMatchKey.key.in_(leads))))
    return found


# ---- people who move: what each area sees of them (sync.access.person_visibility) --------------------------------

def groups_left(person_uuid: str) -> list[str]:
    """The paths of the groups a person moved out of (their move-out events' groups), oldest first."""
    return list(db.session.scalars(
        select(Area.path).join(LifeEventRecord, LifeEventRecord.group_id == Area.id)
        .where(LifeEventRecord.person_uuid == person_uuid, LifeEventRecord.kind == "moved_out")
        .order_by(LifeEventRecord.id)))


def submission_paths(ids: Iterable[int]) -> dict[int, str]:
    """The group each of these submissions was collected in (its path), by submission id."""
    ids = set(ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Submission.id, Area.path).join(Area, Area.id == Submission.area_id)
                                   .where(Submission.id.in_(ids))).all())


def decision_paths(ids: Iterable[int]) -> dict[int, str | None]:
    """The area each of these decisions was taken in, by decision id."""
    ids = set(ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(RegisterDecision.id, RegisterDecision.area_path)
                                   .where(RegisterDecision.id.in_(ids))).all())


class AreaName(NamedTuple):
    path: str
    full_name: str


def areas_by_id(ids: Iterable[int | None]) -> dict[int, AreaName]:
    """Areas' paths and full names by id."""
    ids = set(ids) - {None}
    if not ids:
        return {}
    return {row.id: AreaName(row.path, row.full_name)
            for row in db.session.execute(select(Area.id, Area.path, Area.full_name).where(Area.id.in_(ids)))}


def area_names(paths: Iterable[str]) -> dict[str, str]:
    """Areas' full names by path."""
    paths = set(paths)
    if not paths:
        return {}
    return dict(db.session.execute(select(Area.path, Area.full_name).where(Area.path.in_(paths))).all())

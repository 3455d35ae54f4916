"""Raw submission inserts and look-ups; instanceID and deprecatedID uniqueness is the database's job (ON CONFLICT DO
NOTHING)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from server.database import driver_autocommit, lookup_connection
from server.extensions import db
from server.submissions.models import MergeQueueEntry, Submission, SubmissionAttachment


@dataclass(frozen=True, slots=True)
class StoredSubmission:
    id: int
    form_id: int
    xml_sha256: str
    root_instance_id: str
    area_id: int | None      # the group it was collected in


_STORED = select(Submission.id, Submission.form_id, Submission.xml_sha256, Submission.root_instance_id,
                 Submission.area_id)


def _insert(table):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


# No conflict target: a clash on instance_id *or* deprecated_id does nothing. With a target only instance_id would be
# an arbiter, and on PostgreSQL two identical edits racing could fail on deprecated_id instead of waiting.
_INSERT_SUBMISSION = {
    dialect: insert(Submission.__table__).on_conflict_do_nothing()
    .returning(Submission.__table__.c.id)
    for dialect, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


_ENQUEUE = MergeQueueEntry.__table__.insert()


def _insert_and_queue():
    """PostgreSQL: the INSERT … ON CONFLICT DO NOTHING of the submission and the INSERT of its queue entry as one
    statement (a data-modifying WITH), so intake makes one round trip before COMMIT."""
    table = Submission.__table__
    stored = (postgresql.insert(table).values({column.name: bindparam(column.name) for column in table.c
                                               if column.name != "id"})
              .on_conflict_do_nothing().returning(table.c.id).cte("stored"))
    queued = MergeQueueEntry.__table__.insert().from_select(
        ["submission_id", "enqueued_at"],
        select(stored.c.id, bindparam("queued_at", type_=DateTime(timezone=True)))).cte("queued")
    return select(stored.c.id).add_cte(queued)


_INSERT_AND_QUEUE = _insert_and_queue()
_INSERT_AND_QUEUE_SQL = str(_INSERT_AND_QUEUE.compile(dialect=postgresql.psycopg.dialect()))


def insert_submission(values: dict, *, queued_at: datetime, on_its_own: bool = False) -> int | None:
    """Insert a submission and queue it for the register, in the intake's own transaction (a crash loses nothing);
    None, and nothing queued, when its instanceID, or the version it replaces, is already stored (committed, or
    committing concurrently).

    `on_its_own`: the request writes nothing else (a new submission without attachments: Collect's usual POST). On
    PostgreSQL the one statement then runs on an autocommit connection and is committed when it returns, as its own
    transaction: no BEGIN and COMMIT round trips; the request's commit has nothing left to do. It goes to the driver
    directly (server.database.driver_autocommit), prepared once per connection."""
    if on_its_own and db.engine.dialect.name == "postgresql":
        with driver_autocommit() as alone:
            row = alone.execute(_INSERT_AND_QUEUE_SQL, {**values, "queued_at": queued_at}, prepare=True).fetchone()
        return row[0] if row else None
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return connection.execute(_INSERT_AND_QUEUE, {**values, "queued_at": queued_at}).scalar()
    submission_id = connection.execute(_INSERT_SUBMISSION[connection.dialect.name], values).scalar()
    if submission_id is not None:
        connection.execute(_ENQUEUE, {"submission_id": submission_id, "enqueued_at": queued_at})
    return submission_id


def adopt_later_versions(instance_id: str, root_instance_id: str) -> None:
    """Versions that arrived before this one and were rooted at it (it was missing then) join its chain's root."""
    if instance_id != root_instance_id:
        db.session.execute(update(Submission).where(Submission.root_instance_id == instance_id)
                           .values(root_instance_id=root_instance_id))


def edited_submission(instance_id: str) -> StoredSubmission | None:
    """The stored submission an edit replaces, looked up outside the request's transaction."""
    with lookup_connection() as connection:
        row = connection.execute(_STORED.where(Submission.instance_id == instance_id)).first()
    return StoredSubmission(**row._mapping) if row else None


def by_instance_id(instance_id: str) -> StoredSubmission | None:
    row = db.session.execute(_STORED.where(Submission.instance_id == instance_id)).first()
    return StoredSubmission(**row._mapping) if row else None


def expect_attachments(submission_id: int, names: list[str]) -> None:
    """Record the files a submission names, before any has arrived."""
    if not names:
        return
    statement = (_insert(SubmissionAttachment.__table__)
                 .values([{"submission_id": submission_id, "name": name} for name in names])
                 .on_conflict_do_nothing(index_elements=["submission_id", "name"]))
    db.session.execute(statement)


def fill_attachment(submission_id: int, name: str, *, sha256: str, size: int, content_type: str | None,
                    received_at: datetime) -> bool:
    """Attach a file's content if that attachment is still missing; an arrived file is never replaced."""
    statement = (update(SubmissionAttachment)
                 .where(SubmissionAttachment.submission_id == submission_id, SubmissionAttachment.name == name,
                        SubmissionAttachment.sha256.is_(None))
                 .values(sha256=sha256, size=size, content_type=content_type, received_at=received_at)
                 .execution_options(synchronize_session=False))
    return db.session.execute(statement).rowcount == 1


def missing_attachment_count(submission_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(SubmissionAttachment).where(
        SubmissionAttachment.submission_id == submission_id, SubmissionAttachment.sha256.is_(None)))


def count_submissions() -> int:
    return db.session.scalar(select(func.count()).select_from(Submission))


def last_received(submitter_ids: list[int]) -> dict[int, datetime]:
    """submitter id → when their latest submission arrived (the collectors page's last sync)."""
    found = {}
    for start in range(0, len(submitter_ids), 500):
        found.update((row.submitter_id, row.last) for row in db.session.execute(
            select(Submission.submitter_id, func.max(Submission.received_at).label("last"))
            .where(Submission.submitter_id.in_(submitter_ids[start:start + 500]))
            .group_by(Submission.submitter_id)))
    return found

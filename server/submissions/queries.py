"""Raw submission inserts and look-ups; instanceID and deprecatedID uniqueness is the database's job (ON CONFLICT DO
NOTHING)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
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
# an arbiter, and on PostgreSQL two identical edits racing could fail on deprecated_id instead of waiting (the same in
# migration 0027's intake_submission, PostgreSQL's statement).
_INSERT_SUBMISSION = sqlite.insert(Submission.__table__).on_conflict_do_nothing().returning(Submission.__table__.c.id)


_ENQUEUE = MergeQueueEntry.__table__.insert()


# PostgreSQL: the INSERT … ON CONFLICT DO NOTHING of the submission and the INSERT of its queue entry in one call of
# migration 0027's function, which plans them (their foreign-key checks and the register_changed trigger's upsert too)
# once per connection, with its own plan_cache_mode = auto, not once per submission as the connections'
# force_custom_plan would: 0.13–0.15 ms of PostgreSQL's CPU a submission (docs/benchmarks.md § Issue 22 (round 4)).
_INTAKE_SQL = (
    "SELECT intake_submission(%(instance_id)s::varchar, %(root_instance_id)s::varchar, %(deprecated_id)s::varchar, "
    "%(form_id)s::integer, %(form_version_id)s::integer, %(xml)s::bytea, %(xml_sha256)s::varchar, "
    "%(submitter_id)s::integer, %(area_id)s::integer, %(collector_name)s::varchar, %(device_id)s::varchar, "
    "%(user_agent)s::varchar, %(received_at)s::timestamptz, %(queued_at)s::timestamptz)")


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
            return alone.execute(_INTAKE_SQL, {**values, "queued_at": queued_at}, prepare=True).fetchone()[0]
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return connection.exec_driver_sql(_INTAKE_SQL, {**values, "queued_at": queued_at}).scalar()
    submission_id = connection.execute(_INSERT_SUBMISSION, values).scalar()
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

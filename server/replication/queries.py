"""Reads for replication: raw submissions by cursor (submission id) with their attachments, and decisions by
cursor (decision id) or by when they were undone; the ids a town's submissions and groups have here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from server.areas.models import Area
from server.extensions import db
from server.register.models import PurgedRecord, RegisterDecision
from server.submissions.models import Submission, SubmissionAttachment
from sync.periods import as_utc

__all__ = ["StoredAttachment", "StoredRaw", "RawInArea", "AttachmentInArea", "after_cursor", "attachment", "by_instance_id", "decisions_after",
           "decisions_undone_since", "instance_id_of", "submission_id_of", "group_full_name"]


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    name: str
    sha256: str | None
    size: int | None
    content_type: str | None


@dataclass(frozen=True, slots=True)
class StoredRaw:
    cursor: int
    instance_id: str
    xml: bytes
    area: str
    collector: str
    device_id: str | None
    received_at: datetime
    attachments: tuple[StoredAttachment, ...]


class RawInArea(NamedTuple):
    """A raw submission with the path of the area it was collected in."""

    raw: StoredRaw
    area_path: str


class AttachmentInArea(NamedTuple):
    """An attachment with the path of the area its submission was collected in."""

    attachment: StoredAttachment
    area_path: str


_RAW = (select(Submission.id, Submission.instance_id, Submission.xml, Area.full_name, Submission.collector_name,
               Submission.device_id, Submission.received_at)
        .join(Area, Area.id == Submission.area_id).order_by(Submission.id))
_ATTACHMENT = (SubmissionAttachment.name, SubmissionAttachment.sha256, SubmissionAttachment.size,
               SubmissionAttachment.content_type)


def _attachment(row) -> StoredAttachment:
    return StoredAttachment(name=row.name, sha256=row.sha256, size=row.size, content_type=row.content_type)


def _with_attachments(rows) -> list[StoredRaw]:
    rows = list(rows)
    files: dict[int, list[StoredAttachment]] = {}
    if rows:
        for file in db.session.execute(
                select(SubmissionAttachment.submission_id, *_ATTACHMENT)
                .where(SubmissionAttachment.submission_id.in_([row.id for row in rows]))
                .order_by(SubmissionAttachment.submission_id, SubmissionAttachment.name)):
            files.setdefault(file.submission_id, []).append(_attachment(file))
    return [StoredRaw(cursor=row.id, instance_id=row.instance_id, xml=bytes(row.xml), area=row.full_name,
                      collector=row.collector_name or "", device_id=row.device_id,
                      received_at=as_utc(row.received_at), attachments=tuple(files.get(row.id, ())))
            for row in rows]


def after_cursor(cursor: int, area_path: str | None, limit: int) -> list[StoredRaw]:
    """Submissions collected in the area with an id past the cursor, oldest first."""
    query = _RAW.where(Submission.id > cursor).limit(limit)
    if area_path is not None:
        query = query.where(Area.path.startswith(area_path))
    return _with_attachments(db.session.execute(query))


def by_instance_id(instance_id: str) -> RawInArea | None:
    """One submission and the path of the area it was collected in."""
    row = db.session.execute(_RAW.add_columns(Area.path).where(Submission.instance_id == instance_id)).first()
    return RawInArea(_with_attachments([row])[0], row.path) if row else None


def attachment(instance_id: str, name: str) -> AttachmentInArea | None:
    """An attachment of a submission and the path of the area the submission was collected in."""
    row = db.session.execute(
        select(*_ATTACHMENT, Area.path)
        .join(Submission, Submission.id == SubmissionAttachment.submission_id)
        .join(Area, Area.id == Submission.area_id)
        .where(Submission.instance_id == instance_id, SubmissionAttachment.name == name)).first()
    return AttachmentInArea(_attachment(row), row.path) if row else None


# ---- decisions -------------------------------------------------------------------------------------------------

_BY_PEOPLE = RegisterDecision.decided_by.is_not(None)   # the automatic merge is each server's own
# Decisions about people purged here (docs/retention.md) are not sent: their content is gone, and each server
# purges its own copy.
_NOT_PURGED = RegisterDecision.subject_uuid.not_in(select(PurgedRecord.uuid))


def decisions_after(cursor: int, limit: int) -> list[RegisterDecision]:
    """Decisions made by people with an id past the cursor, oldest first."""
    return list(db.session.scalars(select(RegisterDecision).where(RegisterDecision.id > cursor, _BY_PEOPLE, _NOT_PURGED)
                                   .order_by(RegisterDecision.id).limit(limit)))


def decisions_undone_since(moment: datetime) -> list[RegisterDecision]:
    """Decisions undone at or after a moment (undoing is rare: all of them), automatic merges included: a person
    undid those."""
    return list(db.session.scalars(select(RegisterDecision).where(RegisterDecision.undone_at >= moment, _NOT_PURGED)
                                   .order_by(RegisterDecision.id)))


def last_submission_in(area_path: str | None, *, through: int) -> int | None:
    """The id of the newest submission collected in an area with an id up to `through`."""
    query = select(Submission.id).where(Submission.id <= through).order_by(Submission.id.desc()).limit(1)
    if area_path is not None:
        query = query.join(Area, Area.id == Submission.area_id).where(Area.path.startswith(area_path))
    return db.session.scalar(query)


def instance_id_of(submission_id: int) -> str | None:
    return db.session.scalar(select(Submission.instance_id).where(Submission.id == submission_id))


def submission_id_of(instance_id: str) -> int | None:
    return db.session.scalar(select(Submission.id).where(Submission.instance_id == instance_id))


def group_full_name(area_id: int) -> str | None:
    return db.session.scalar(select(Area.full_name).where(Area.id == area_id, Area.kind == "group"))

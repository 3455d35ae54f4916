"""Reads of raw submissions for replication: by cursor (submission id) within an area, and their attachments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from server.areas.models import Area
from server.database import as_utc
from server.extensions import db
from server.submissions.models import Submission, SubmissionAttachment

__all__ = ["StoredAttachment", "StoredRaw", "after_cursor", "attachment", "by_instance_id"]


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


_RAW = (select(Submission.id, Submission.instance_id, Submission.xml, Area.full_name, Submission.collector_name,
               Submission.device_id, Submission.received_at)
        .join(Area, Area.id == Submission.area_id).order_by(Submission.id))


def _with_attachments(rows) -> list[StoredRaw]:
    rows = list(rows)
    files: dict[int, list[StoredAttachment]] = {}
    if rows:
        for submission_id, *values in db.session.execute(
                select(SubmissionAttachment.submission_id, SubmissionAttachment.name, SubmissionAttachment.sha256,
                       SubmissionAttachment.size, SubmissionAttachment.content_type)
                .where(SubmissionAttachment.submission_id.in_([row.id for row in rows]))
                .order_by(SubmissionAttachment.submission_id, SubmissionAttachment.name)):
            files.setdefault(submission_id, []).append(StoredAttachment(*values))
    return [StoredRaw(row.id, row.instance_id, bytes(row.xml), row.full_name, row.collector_name or "",
                      row.device_id, as_utc(row.received_at), tuple(files.get(row.id, ())))
            for row in rows]


def after_cursor(cursor: int, area_path: str | None, limit: int) -> list[StoredRaw]:
    """Submissions collected in the area with an id past the cursor, oldest first."""
    query = _RAW.where(Submission.id > cursor).limit(limit)
    if area_path is not None:
        query = query.where(Area.path.startswith(area_path))
    return _with_attachments(db.session.execute(query))


def by_instance_id(instance_id: str) -> tuple[StoredRaw, str] | None:
    """One submission and the path of the area it was collected in."""
    row = db.session.execute(_RAW.add_columns(Area.path).where(Submission.instance_id == instance_id)).first()
    return (_with_attachments([row])[0], row.path) if row else None


def attachment(instance_id: str, name: str) -> tuple[StoredAttachment, str] | None:
    """An attachment of a submission and the path of the area the submission was collected in."""
    row = db.session.execute(
        select(SubmissionAttachment.name, SubmissionAttachment.sha256, SubmissionAttachment.size,
               SubmissionAttachment.content_type, Area.path)
        .join(Submission, Submission.id == SubmissionAttachment.submission_id)
        .join(Area, Area.id == Submission.area_id)
        .where(Submission.instance_id == instance_id, SubmissionAttachment.name == name)).first()
    return (StoredAttachment(*row[:4]), row.path) if row else None

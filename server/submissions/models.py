"""Submission and attachment tables: the immutable raw store the register is rebuilt from, and the merge queue
the intake writes for the register."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import BigId, db


class Submission(db.Model):
    """One version of one filled form; an edit (meta/deprecatedID) is a new row in the same chain."""

    __tablename__ = "submission"
    # the collectors of an area's visits (the inbox's menu) and each collector's last sync (the home pages), one
    # look-up per collector (migration 0023)
    __table_args__ = (Index("ix_submission_area_form_collector", "area_id", "form_id", "collector_name"),
                      Index("ix_submission_submitter_received", "submitter_id", "received_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(255), unique=True)
    # The instanceID the chain of edits started from.
    root_instance_id: Mapped[str] = mapped_column(String(255), index=True)
    # The version this one replaces; a version can be replaced once (a linear chain).
    deprecated_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form.id"), index=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_version.id"))
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    xml_sha256: Mapped[str] = mapped_column(String(64))
    # Who sent it here: the collector, or for a replicated submission the town officer replicating it.
    submitter_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    # Where it was collected (its collector's group, which a new household joins) and by whom: kept on the row,
    # so a submission replicated from a town server keeps both though the county has no account for the collector.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    collector_name: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(255))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SubmissionAttachment(db.Model):
    """A file the submission's XML names; `sha256` stays NULL until a (possibly later) POST brings it."""

    __tablename__ = "submission_attachment"
    __table_args__ = (UniqueConstraint("submission_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MergeQueueEntry(db.Model):
    """A stored submission not yet merged into the register; written in the intake's own transaction."""

    __tablename__ = "merge_queue"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), primary_key=True)
    enqueued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500))

"""Audit log table: who did or read what, where, when (never the personal data itself)."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import BigId, db


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    # an area's events (the audit page of a town office) read by the path's beginning (migration 0023)
    __table_args__ = (Index("ix_audit_event_area_path", "area_path", postgresql_ops={"area_path": "varchar_pattern_ops"}),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))             # e.g. due.read, person.read, register.merge
    area_path: Mapped[str | None] = mapped_column(String(100))  # the area the read or action covered
    subject: Mapped[str | None] = mapped_column(String(100))    # a record uuid, a decision id, an export name
    records: Mapped[int] = mapped_column(Integer, server_default="0")   # how many people's data were read
    # why, as the staff member wrote it: a full export's reason, a revealed value's (never the data itself)
    reason: Mapped[str | None] = mapped_column(String(300))

"""Service notice tables: a notice (its uuid the same on every server; places by name, so portable) and its steps
(sent, received, answered) in the order this server took them, the cursor replication reads them by."""

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import BigId, byte_key, db


class ServiceNotice(db.Model):
    """A notice about a person working away or arrived from elsewhere, and the service due. `from_place` and
    `to_place` are a town's full name, or a place outside in words (`*_outside`). `person_uuid`: the sender's
    register record, when the sender is this server."""

    __tablename__ = "service_notice"
    __table_args__ = (CheckConstraint("answer_result IS NULL OR answer_at IS NOT NULL", name="answer"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    from_place: Mapped[str] = mapped_column(String(200), index=True)
    from_outside: Mapped[bool] = mapped_column(Boolean)
    to_place: Mapped[str] = mapped_column(String(200), index=True)
    to_outside: Mapped[bool] = mapped_column(Boolean)
    person_uuid: Mapped[str | None] = mapped_column(byte_key(64), index=True)
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str | None] = mapped_column(String(10))
    birth_date: Mapped[date | None] = mapped_column(Date)
    id_number: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    service: Mapped[str] = mapped_column(String(40))
    service_note: Mapped[str | None] = mapped_column(String(300))
    reply_by: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_by: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_by: Mapped[str | None] = mapped_column(String(100))
    answer_done: Mapped[str | None] = mapped_column(String(500))
    answer_result: Mapped[str | None] = mapped_column(String(40))
    answer_day: Mapped[date | None] = mapped_column(Date)
    answer_by: Mapped[str | None] = mapped_column(String(100))
    answer_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ServiceNoticeStep(db.Model):
    """A step of a notice as this server took it (written, brought by replication or from a file): its id is the
    cursor replication hands notices out by."""

    __tablename__ = "service_notice_step"
    __table_args__ = (CheckConstraint("step IN ('sent', 'received', 'answered')", name="step"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("service_notice.id"), index=True)
    step: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(12))        # web, replication, file
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
